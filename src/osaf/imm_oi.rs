//! The IMM object implementer: owns macsync's runtime objects.
//!
//! No CCB and no admin owner: runtime objects are created, replaced and deleted directly by
//! the implementer that owns them. The objects outlive this process and stay bound to the
//! implementer name, so a restarted macsync that sets the same name owns them again.

use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use opensaf_sys::*;

use super::amf::Invocation;
use super::dispatch;
use super::dn::Dn;
use super::error::{AisCode, AisCodeExt, Error};
use super::handle::{self, Version};
use super::names::NameFns;
use super::retry::RetryPolicy;
use super::values::{cstring, decode_value_params, Attr, AttrValue, CAttrs};

/// IMM OI version requested (A.02.11: runtime objects, admin operations, SaNameT rules).
const OI_VERSION: Version = (b'A', 2, 11);

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
        let answer = self.api.saImmOiAdminOperationResult;
        // SAFETY: plain values; the handle is an id the library checks.
        unsafe { answer(self.handle, inv.0, result) }.check("saImmOiAdminOperationResult")
    }
}

dispatch::route!(OiCallbacks: "saImmOiDispatch", dyn OiHandler, OiResponder);

unsafe extern "C" fn on_admin_op(
    _oi: SaImmOiHandleT,
    inv: SaInvocationT,
    object: *const SaNameT,
    op: SaImmAdminOperationIdT,
    params: *mut *const SaImmAdminOperationParamsT_2,
) {
    dispatch::callback::<OiCallbacks>(|c| {
        let object = c.names.read(object).unwrap_or_default();
        // SAFETY: IMM passes a NULL-terminated parameter array valid during the callback.
        let params = unsafe { decode_value_params(params, &c.names) };
        c.handler
            .admin_operation(&c.responder, Invocation(inv), &object, op, &params)
    });
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
        let callbacks = SaImmOiCallbacksT_2 {
            saImmOiAdminOperationCallback: if admin_ops { Some(on_admin_op) } else { None },
            ..Default::default()
        };
        let handle = handle::initialize("saImmOiInitialize_2", OI_VERSION, &policy, |h, v| {
            // SAFETY: pointers to live locals; IMM copies the callbacks struct.
            unsafe { (api.saImmOiInitialize_2)(h, &callbacks, v) }
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
        handle::selection_fd("saImmOiSelectionObjectGet", |fd| {
            // SAFETY: live handle, pointer to the caller's local.
            unsafe { (self.api().saImmOiSelectionObjectGet)(self.handle(), fd) }
        })
    }

    /// `saImmOiImplementerSet`. EXIST means a previous holder (e.g. our own killed
    /// predecessor) is not released yet: retried every 100 ms within the policy's time,
    /// as OpenSAF's own services do.
    pub fn implementer_set(&mut self, name: &str) -> Result<(), Error> {
        let set = self.api().saImmOiImplementerSet;
        let c = cstring(name)?;
        let start = Instant::now();
        loop {
            let r = self.policy.run("saImmOiImplementerSet", || {
                // SAFETY: live handle, `c` outlives the call.
                unsafe { set(self.handle(), c.as_ptr() as *mut _) }.into_result()
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

    /// Sets the retry policy of later calls on this handle and returns the previous one
    /// (a caller that must answer AMF in time makes one call without retries).
    pub fn replace_policy(&mut self, policy: RetryPolicy) -> RetryPolicy {
        std::mem::replace(&mut self.policy, policy)
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
        self.policy.run(call, || f().into_result())
    }

    /// `saImmOiRtObjectCreate_2` of `class` under `parent`; `attrs` includes the RDN.
    pub fn create(&self, class: &str, parent: Option<&Dn>, attrs: &[Attr]) -> Result<(), Error> {
        let f = self.api().saImmOiRtObjectCreate_2;
        let class = cstring(class)?;
        let parent = parent.map(|p| self.names.make(p.as_str())).transpose()?;
        let c = CAttrs::new(attrs, &self.names)?;
        let mut ptrs: Vec<*const SaImmAttrValuesT_2> =
            c.structs.iter().map(|s| s as *const _).collect();
        ptrs.push(std::ptr::null());
        let parent_ptr = parent.as_ref().map_or(std::ptr::null(), |p| p.as_ptr());
        self.call("saImmOiRtObjectCreate_2", || {
            // SAFETY: live handle; the class string, parent name and the
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
        let f = self.api().saImmOiRtObjectUpdate_2;
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
            // SAFETY: live handle; the name and the NULL-terminated
            // modification array (pointing into `mods` and `c`) outlive the call.
            unsafe { f(self.handle(), name.as_ptr(), ptrs.as_mut_ptr()) }
        })
    }

    /// `saImmOiRtObjectDelete` (also deletes the object's runtime children).
    pub fn delete(&self, dn: &Dn) -> Result<(), Error> {
        let f = self.api().saImmOiRtObjectDelete;
        let name = self.names.make(dn.as_str())?;
        // SAFETY: live handle, `name` outlives the call.
        self.call("saImmOiRtObjectDelete", || unsafe {
            f(self.handle(), name.as_ptr())
        })
    }

    /// `saImmOiDispatch`, routing admin operations to `handler`. A handler panic is
    /// re-raised here.
    pub fn dispatch(&self, handler: &mut dyn OiHandler) -> Result<(), Error> {
        let mut lent = dispatch::Lent {
            handler,
            responder: self.responder,
            names: self.names,
        };
        let all = SaDispatchFlagsT::SA_DISPATCH_ALL;
        // SAFETY: live handle; the callback re-enters Rust only through `on_admin_op`, which
        // reaches `lent` through `dispatch::run` and catches panics.
        dispatch::run::<OiCallbacks>(&mut lent, || unsafe {
            (self.api().saImmOiDispatch)(self.handle(), all)
        })
    }
}

impl Drop for ImmOi {
    fn drop(&mut self) {
        // SAFETY: the handle came from saImmOiInitialize_2 and is finalized exactly once.
        let rc = unsafe { (self.api().saImmOiFinalize)(self.handle()) };
        handle::log_finalize("saImmOiFinalize", rc);
    }
}
