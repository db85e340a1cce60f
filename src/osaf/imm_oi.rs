//! The IMM object implementer: owns macsync's runtime objects.
//!
//! No CCB and no admin owner: runtime objects are created, replaced and deleted directly by
//! the implementer that owns them. The objects outlive this process and stay bound to the
//! implementer name, so a restarted macsync that sets the same name owns them again.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::os::fd::RawFd;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use opensaf_sys::*;

use super::amf::Invocation;
use super::dn::Dn;
use super::error::{AisCode, Error};
use super::names::NameFns;
use super::retry::RetryPolicy;
use super::values::{cstring, decode_value_params, Attr, AttrValue, CAttrs};

/// IMM OI version requested (A.02.11: runtime objects, admin operations, SaNameT rules).
const OI_VERSION: (u8, u8, u8) = (b'A', 2, 11);

/// Admin operations macsync serves (e.g. `immadm -o 1 <node DN>`).
pub trait OiHandler {
    fn admin_operation(
        &mut self,
        oi: &OiResponder,
        inv: Invocation,
        object: &str,
        op: u64,
        params: &[(String, AttrValue)],
    );
}

/// Answers an admin operation.
#[derive(Clone, Copy)]
pub struct OiResponder {
    api: &'static ImmOiApi,
    handle: SaImmOiHandleT,
}

impl OiResponder {
    pub fn admin_result(&self, inv: Invocation, result: AisCode) -> Result<(), Error> {
        let f = self
            .api
            .saImmOiAdminOperationResult
            .ok_or(missing("saImmOiAdminOperationResult"))?;
        // SAFETY: loaded function, plain values, handle from saImmOiInitialize_2.
        AisCode::from(unsafe { f(self.handle, inv.0, result.into()) })
            .check("saImmOiAdminOperationResult")
    }
}

type Routed = (*mut (dyn OiHandler + 'static), OiResponder, NameFns);

thread_local! {
    static ROUTE: Cell<Option<Routed>> = const { Cell::new(None) };
    static PANIC: RefCell<Option<Box<dyn Any + Send>>> = const { RefCell::new(None) };
}

unsafe extern "C" fn on_admin_op(
    _oi: SaImmOiHandleT,
    inv: SaInvocationT,
    object: *const SaNameT,
    op: SaImmAdminOperationIdT,
    params: *mut *const SaImmAdminOperationParamsT_2,
) {
    let Some((h, responder, names)) = ROUTE.with(Cell::get) else {
        log::error!("IMM admin operation callback outside saImmOiDispatch: ignored");
        return;
    };
    // Everything that touches Rust code runs inside catch_unwind: nothing may unwind into C.
    if let Err(p) = catch_unwind(AssertUnwindSafe(|| {
        let object = names.read(object).unwrap_or_default();
        // SAFETY: IMM passes a NULL-terminated parameter array valid during the callback.
        let params = unsafe { decode_value_params(params, &names) };
        // SAFETY: ROUTE points at the handler `ImmOi::dispatch` borrowed for the duration of
        // the C dispatch call on this thread; callbacks run only inside it, one at a time.
        let handler = unsafe { &mut *h };
        handler.admin_operation(&responder, Invocation(inv), &object, op, &params)
    })) {
        PANIC.with(|slot| {
            slot.borrow_mut().get_or_insert(p);
        });
    }
}

/// An initialized OI handle, optionally with an implementer name. Drop finalizes it
/// (which also releases the implementer name; the objects stay).
pub struct ImmOi {
    responder: OiResponder,
    names: NameFns,
    implementer: Option<String>,
    admin_ops: bool,
    policy: RetryPolicy,
}

impl ImmOi {
    /// `saImmOiInitialize_2`; with `admin_ops` the admin operation callback is registered.
    pub fn initialize(
        api: &'static ImmOiApi,
        admin_ops: bool,
        policy: RetryPolicy,
    ) -> Result<ImmOi, Error> {
        let init = api
            .saImmOiInitialize_2
            .ok_or(missing("saImmOiInitialize_2"))?;
        let callbacks = SaImmOiCallbacksT_2 {
            saImmOiAdminOperationCallback: if admin_ops { Some(on_admin_op) } else { None },
            ..Default::default()
        };
        let handle = policy.run("saImmOiInitialize_2", || {
            let mut version = SaVersionT {
                releaseCode: OI_VERSION.0,
                majorVersion: OI_VERSION.1,
                minorVersion: OI_VERSION.2,
            };
            let mut handle: SaImmOiHandleT = 0;
            // SAFETY: pointers to live locals; IMM copies the callbacks struct.
            match AisCode::from(unsafe { init(&mut handle, &callbacks, &mut version) }) {
                AisCode::OK => Ok(handle),
                c => Err(c),
            }
        })?;
        Ok(ImmOi {
            responder: OiResponder { api, handle },
            names: NameFns::new(api.saAisNameLend, api.saAisNameBorrow),
            implementer: None,
            admin_ops,
            policy,
        })
    }

    fn api(&self) -> &'static ImmOiApi {
        self.responder.api
    }

    fn handle(&self) -> SaImmOiHandleT {
        self.responder.handle
    }

    pub fn selection_fd(&self) -> Result<RawFd, Error> {
        let f = self
            .api()
            .saImmOiSelectionObjectGet
            .ok_or(missing("saImmOiSelectionObjectGet"))?;
        let mut fd: SaSelectionObjectT = 0;
        // SAFETY: loaded function, live handle, pointer to a local.
        AisCode::from(unsafe { f(self.handle(), &mut fd) }).check("saImmOiSelectionObjectGet")?;
        RawFd::try_from(fd)
            .map_err(|_| Error::Invalid(format!("selection object {fd} is not an fd")))
    }

    /// `saImmOiImplementerSet`. EXIST means a previous holder (e.g. our own killed
    /// predecessor) is not released yet: retried every 100 ms within the policy's time,
    /// as OpenSAF's own services do.
    pub fn implementer_set(&mut self, name: &str) -> Result<(), Error> {
        let f = self
            .api()
            .saImmOiImplementerSet
            .ok_or(missing("saImmOiImplementerSet"))?;
        let c = cstring(name)?;
        let start = Instant::now();
        loop {
            let r = self.policy.run("saImmOiImplementerSet", || {
                // SAFETY: loaded function, live handle, `c` outlives the call.
                match AisCode::from(unsafe { f(self.handle(), c.as_ptr() as *mut _) }) {
                    AisCode::OK => Ok(()),
                    code => Err(code),
                }
            });
            match r {
                Err(e)
                    if e.code() == Some(AisCode::EXIST) && start.elapsed() < self.policy.total =>
                {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => return Err(e),
                Ok(()) => {
                    self.implementer = Some(name.to_string());
                    return Ok(());
                }
            }
        }
    }

    pub fn implementer(&self) -> Option<&str> {
        self.implementer.as_deref()
    }

    /// After BAD_HANDLE: a new handle, the implementer name set again.
    pub fn reinitialize(&mut self) -> Result<(), Error> {
        let mut fresh = ImmOi::initialize(self.api(), self.admin_ops, self.policy.clone())?;
        if let Some(name) = self.implementer.clone() {
            fresh.implementer_set(&name)?;
        }
        // The old handle is finalized by drop; with a dead IMM agent that is a no-op error.
        std::mem::swap(self, &mut fresh);
        Ok(())
    }

    fn call(&self, call: &'static str, mut f: impl FnMut() -> SaAisErrorT) -> Result<(), Error> {
        self.policy.run(call, || match AisCode::from(f()) {
            AisCode::OK => Ok(()),
            c => Err(c),
        })
    }

    /// `saImmOiRtObjectCreate_2` of `class` under `parent`; `attrs` includes the RDN.
    pub fn create(&self, class: &str, parent: Option<&Dn>, attrs: &[Attr]) -> Result<(), Error> {
        let f = self
            .api()
            .saImmOiRtObjectCreate_2
            .ok_or(missing("saImmOiRtObjectCreate_2"))?;
        let class = cstring(class)?;
        let parent = parent.map(|p| self.names.make(p.as_str())).transpose()?;
        let c = CAttrs::new(attrs, &self.names)?;
        let mut ptrs: Vec<*const SaImmAttrValuesT_2> =
            c.structs.iter().map(|s| s as *const _).collect();
        ptrs.push(std::ptr::null());
        let parent_ptr = parent.as_ref().map_or(std::ptr::null(), |p| p.as_ptr());
        self.call("saImmOiRtObjectCreate_2", || {
            // SAFETY: loaded function, live handle; the class string, parent name and the
            // NULL-terminated attribute array (and everything it points at, owned by `c`)
            // outlive the call.
            unsafe {
                f(
                    self.handle(),
                    class.as_ptr() as *mut _,
                    parent_ptr,
                    ptrs.as_mut_ptr(),
                )
            }
        })
    }

    /// `saImmOiRtObjectUpdate_2`, replacing each attribute's values.
    pub fn update(&self, dn: &Dn, attrs: &[Attr]) -> Result<(), Error> {
        let f = self
            .api()
            .saImmOiRtObjectUpdate_2
            .ok_or(missing("saImmOiRtObjectUpdate_2"))?;
        let name = self.names.make(dn.as_str())?;
        let c = CAttrs::new(attrs, &self.names)?;
        let mods: Vec<SaImmAttrModificationT_2> = c
            .structs
            .iter()
            .map(|s| SaImmAttrModificationT_2 {
                modType: SaImmAttrModificationTypeT::SA_IMM_ATTR_VALUES_REPLACE,
                modAttr: *s,
            })
            .collect();
        let mut ptrs: Vec<*const SaImmAttrModificationT_2> =
            mods.iter().map(|m| m as *const _).collect();
        ptrs.push(std::ptr::null());
        self.call("saImmOiRtObjectUpdate_2", || {
            // SAFETY: loaded function, live handle; the name and the NULL-terminated
            // modification array (pointing into `mods` and `c`) outlive the call.
            unsafe { f(self.handle(), name.as_ptr(), ptrs.as_mut_ptr()) }
        })
    }

    /// `saImmOiRtObjectDelete` (also deletes the object's runtime children).
    pub fn delete(&self, dn: &Dn) -> Result<(), Error> {
        let f = self
            .api()
            .saImmOiRtObjectDelete
            .ok_or(missing("saImmOiRtObjectDelete"))?;
        let name = self.names.make(dn.as_str())?;
        // SAFETY: loaded function, live handle, `name` outlives the call.
        self.call("saImmOiRtObjectDelete", || unsafe {
            f(self.handle(), name.as_ptr())
        })
    }

    /// `saImmOiDispatch`, routing admin operations to `handler`.
    pub fn dispatch(&self, handler: &mut dyn OiHandler) -> Result<(), Error> {
        let f = self
            .api()
            .saImmOiDispatch
            .ok_or(missing("saImmOiDispatch"))?;
        // SAFETY: only the lifetime is erased; the guard clears the pointer before return
        // or unwind, so the trampoline never sees it dangle.
        let ptr: *mut (dyn OiHandler + 'static) = unsafe { std::mem::transmute(handler) };
        struct Restore(Option<Routed>);
        impl Drop for Restore {
            fn drop(&mut self) {
                ROUTE.with(|r| r.set(self.0.take()));
            }
        }
        let restore = Restore(ROUTE.with(|r| r.replace(Some((ptr, self.responder, self.names)))));
        // SAFETY: loaded function, live handle; the callback re-enters Rust only through
        // `on_admin_op`, which catches panics.
        let rc = unsafe { f(self.handle(), SaDispatchFlagsT::SA_DISPATCH_ALL) };
        drop(restore);
        if let Some(p) = PANIC.with(|slot| slot.borrow_mut().take()) {
            resume_unwind(p);
        }
        AisCode::from(rc).check("saImmOiDispatch")
    }
}

impl Drop for ImmOi {
    fn drop(&mut self) {
        if let Some(f) = self.api().saImmOiFinalize {
            // SAFETY: the handle came from saImmOiInitialize_2 and is finalized exactly once.
            let rc = AisCode::from(unsafe { f(self.handle()) });
            if rc != AisCode::OK && rc != AisCode::BAD_HANDLE {
                log::warn!("saImmOiFinalize: {rc}");
            }
        }
    }
}

fn missing(call: &'static str) -> Error {
    Error::Ais {
        call,
        code: AisCode::LIBRARY,
    }
}
