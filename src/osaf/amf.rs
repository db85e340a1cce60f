//! The AMF component side: initialize at B.04.01, register, healthcheck, respond.
//!
//! AMF's callbacks carry no user-data pointer and run only inside `saAmfDispatch`, on the
//! calling thread. So `dispatch` parks a pointer to the caller's handler in a thread-local
//! for exactly the duration of the C call, and the `extern "C"` trampolines find it there.
//! A panic in a handler is caught at the C boundary and re-raised after dispatch returns.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::ffi::CStr;
use std::os::fd::RawFd;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use opensaf_sys::*;

use super::error::{AisCode, Error};
use super::names::NameFns;
use super::retry::RetryPolicy;

/// Identifies one callback; answer it with [`AmfResponder::response`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Invocation(pub SaInvocationT);

/// HA state of a CSI assignment (numbers as AMF sends them; unknown ones kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HaState {
    Active,
    Standby,
    Quiesced,
    Quiescing,
    Other(u32),
}

impl From<SaAmfHAStateT> for HaState {
    fn from(s: SaAmfHAStateT) -> Self {
        match s {
            SaAmfHAStateT::SA_AMF_HA_ACTIVE => HaState::Active,
            SaAmfHAStateT::SA_AMF_HA_STANDBY => HaState::Standby,
            SaAmfHAStateT::SA_AMF_HA_QUIESCED => HaState::Quiesced,
            SaAmfHAStateT::SA_AMF_HA_QUIESCING => HaState::Quiescing,
            SaAmfHAStateT(n) => HaState::Other(n),
        }
    }
}

/// What a CSI set callback describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsiDescriptor {
    pub flags: SaAmfCSIFlagsT,
    /// Absent when the assignment targets all CSIs.
    pub name: Option<String>,
    pub attributes: Vec<(String, String)>,
}

/// Recovery AMF should apply on a failed healthcheck or error report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recovery(pub SaAmfRecommendedRecoveryT);

impl Recovery {
    pub const COMPONENT_RESTART: Recovery =
        Recovery(SaAmfRecommendedRecoveryT::SA_AMF_COMPONENT_RESTART);
    pub const COMPONENT_FAILOVER: Recovery =
        Recovery(SaAmfRecommendedRecoveryT::SA_AMF_COMPONENT_FAILOVER);
}

/// The component's reactions to AMF. Every invocation must be answered through the
/// responder (possibly later, from the same thread), or AMF times it out.
pub trait AmfHandler {
    fn healthcheck(&mut self, amf: &AmfResponder, inv: Invocation, key: &[u8]);
    fn csi_set(&mut self, amf: &AmfResponder, inv: Invocation, ha: HaState, csi: &CsiDescriptor);
    fn csi_remove(
        &mut self,
        amf: &AmfResponder,
        inv: Invocation,
        csi: Option<&str>,
        flags: SaAmfCSIFlagsT,
    );
    fn terminate(&mut self, amf: &AmfResponder, inv: Invocation);
}

/// Answers AMF; cheap to copy, usable from the dispatching thread's handlers.
#[derive(Clone, Copy)]
pub struct AmfResponder {
    api: &'static AmfApi,
    handle: SaAmfHandleT,
}

impl AmfResponder {
    /// `saAmfResponse_4`: correlation ids are NULL, as AMF demands with SA_AIS_OK.
    pub fn response(&self, inv: Invocation, result: AisCode) -> Result<(), Error> {
        let f = self.api.saAmfResponse_4.ok_or(Error::Ais {
            call: "saAmfResponse_4",
            code: AisCode::LIBRARY,
        })?;
        // SAFETY: a loaded saAmfResponse_4 with a handle from saAmfInitialize_4; NULL
        // correlation ids are what the API requires with SA_AIS_OK and allows otherwise.
        let rc = unsafe { f(self.handle, inv.0, std::ptr::null_mut(), result.into()) };
        AisCode::from(rc).check("saAmfResponse_4")
    }

    /// `saAmfCSIQuiescingComplete` for a QUIESCING assignment already answered.
    pub fn quiescing_complete(&self, inv: Invocation, result: AisCode) -> Result<(), Error> {
        let f = self.api.saAmfCSIQuiescingComplete.ok_or(Error::Ais {
            call: "saAmfCSIQuiescingComplete",
            code: AisCode::LIBRARY,
        })?;
        // SAFETY: plain values to a loaded function, handle from saAmfInitialize_4.
        let rc = unsafe { f(self.handle, inv.0, result.into()) };
        AisCode::from(rc).check("saAmfCSIQuiescingComplete")
    }
}

type Routed = (*mut (dyn AmfHandler + 'static), AmfResponder, NameFns);

thread_local! {
    static ROUTE: Cell<Option<Routed>> = const { Cell::new(None) };
    static PANIC: RefCell<Option<Box<dyn Any + Send>>> = const { RefCell::new(None) };
}

/// Runs `f` with the handler of the dispatch in progress on this thread, catching panics.
fn with_handler(f: impl FnOnce(&mut dyn AmfHandler, &AmfResponder, &NameFns)) {
    let Some((h, responder, names)) = ROUTE.with(Cell::get) else {
        log::error!("AMF callback outside saAmfDispatch: ignored");
        return;
    };
    // SAFETY: ROUTE holds a pointer to the `&mut` handler that `Amf::dispatch` borrowed for
    // the duration of the C dispatch call on this very thread; callbacks run only inside
    // that call and one at a time, so the pointer is live and not aliased.
    let handler = unsafe { &mut *h };
    if let Err(p) = catch_unwind(AssertUnwindSafe(|| f(handler, &responder, &names))) {
        PANIC.with(|slot| {
            slot.borrow_mut().get_or_insert(p);
        });
    }
}

unsafe extern "C" fn on_healthcheck(
    inv: SaInvocationT,
    _comp: *const SaNameT,
    key: *mut SaAmfHealthcheckKeyT,
) {
    with_handler(|h, r, _| {
        // SAFETY: AMF passes a valid key (or NULL) for the duration of the callback; the
        // slice is used only inside it. No allocation: this runs at every healthcheck.
        let key: &[u8] = match unsafe { key.as_ref() } {
            Some(k) => &k.key[..(k.keyLen as usize).min(SA_AMF_HEALTHCHECK_KEY_MAX)],
            None => &[],
        };
        h.healthcheck(r, Invocation(inv), key)
    });
}

unsafe extern "C" fn on_csi_set(
    inv: SaInvocationT,
    _comp: *const SaNameT,
    ha: SaAmfHAStateT,
    desc: SaAmfCSIDescriptorT,
) {
    with_handler(|h, r, names| {
        let name = if desc.csiFlags & SA_AMF_CSI_TARGET_ALL != 0 {
            None
        } else {
            names.read(&desc.csiName)
        };
        let mut attributes = Vec::new();
        let list = &desc.csiAttr;
        if !list.attr.is_null() {
            for i in 0..list.number as usize {
                // SAFETY: AMF passes `number` valid attribute entries whose strings are
                // NUL terminated (or NULL), valid during the callback.
                unsafe {
                    let a = &*list.attr.add(i);
                    let s = |p: *mut SaUint8T| {
                        if p.is_null() {
                            String::new()
                        } else {
                            CStr::from_ptr(p as *const std::ffi::c_char)
                                .to_string_lossy()
                                .into_owned()
                        }
                    };
                    attributes.push((s(a.attrName), s(a.attrValue)));
                }
            }
        }
        let csi = CsiDescriptor {
            flags: desc.csiFlags,
            name,
            attributes,
        };
        h.csi_set(r, Invocation(inv), ha.into(), &csi)
    });
}

unsafe extern "C" fn on_csi_remove(
    inv: SaInvocationT,
    _comp: *const SaNameT,
    csi: *const SaNameT,
    flags: SaAmfCSIFlagsT,
) {
    with_handler(|h, r, names| {
        let name = if flags & SA_AMF_CSI_TARGET_ALL != 0 {
            None
        } else {
            names.read(csi)
        };
        h.csi_remove(r, Invocation(inv), name.as_deref(), flags)
    });
}

unsafe extern "C" fn on_terminate(inv: SaInvocationT, _comp: *const SaNameT) {
    with_handler(|h, r, _| h.terminate(r, Invocation(inv)));
}

/// An initialized AMF handle. Drop finalizes it.
pub struct Amf {
    responder: AmfResponder,
    names: NameFns,
}

impl Amf {
    /// `saAmfInitialize_4` at B.04.01 (retried on TRY_AGAIN: AMF may still be starting).
    pub fn initialize(api: &'static AmfApi, policy: &RetryPolicy) -> Result<Amf, Error> {
        let init = api.saAmfInitialize_4.ok_or(Error::Ais {
            call: "saAmfInitialize_4",
            code: AisCode::LIBRARY,
        })?;
        let callbacks = SaAmfCallbacksT_4 {
            saAmfHealthcheckCallback: Some(on_healthcheck),
            saAmfComponentTerminateCallback: Some(on_terminate),
            saAmfCSISetCallback: Some(on_csi_set),
            saAmfCSIRemoveCallback: Some(on_csi_remove),
            ..Default::default()
        };
        let handle = policy.run("saAmfInitialize_4", || {
            // Initialize overwrites the version with what it supports: ask afresh each try.
            let mut version = SaVersionT {
                releaseCode: b'B',
                majorVersion: 4,
                minorVersion: 1,
            };
            let mut handle: SaAmfHandleT = 0;
            // SAFETY: all pointers are to live locals; AMF copies the callbacks struct.
            let rc = unsafe { init(&mut handle, &callbacks, &mut version) };
            match AisCode::from(rc) {
                AisCode::OK => Ok(handle),
                code => Err(code),
            }
        })?;
        Ok(Amf {
            responder: AmfResponder { api, handle },
            names: NameFns::new(api.saAisNameLend, api.saAisNameBorrow),
        })
    }

    fn api(&self) -> &'static AmfApi {
        self.responder.api
    }

    fn handle(&self) -> SaAmfHandleT {
        self.responder.handle
    }

    /// The fd to poll; readable when a callback is pending.
    pub fn selection_fd(&self) -> Result<RawFd, Error> {
        let f = self
            .api()
            .saAmfSelectionObjectGet
            .ok_or(missing("saAmfSelectionObjectGet"))?;
        let mut fd: SaSelectionObjectT = 0;
        // SAFETY: loaded function, live handle, pointer to a local.
        AisCode::from(unsafe { f(self.handle(), &mut fd) }).check("saAmfSelectionObjectGet")?;
        RawFd::try_from(fd)
            .map_err(|_| Error::Invalid(format!("selection object {fd} is not an fd")))
    }

    /// `saAmfComponentNameGet` (from SA_AMF_COMPONENT_NAME, set by AMF for the instantiate script).
    pub fn component_name(&self) -> Result<String, Error> {
        let f = self
            .api()
            .saAmfComponentNameGet
            .ok_or(missing("saAmfComponentNameGet"))?;
        let mut name = SaNameT::default();
        // SAFETY: loaded function, live handle, writes into a local SaNameT.
        AisCode::from(unsafe { f(self.handle(), &mut name) }).check("saAmfComponentNameGet")?;
        self.names
            .read(&name)
            .ok_or_else(|| Error::Invalid("AMF returned an empty component name".into()))
    }

    /// `saAmfComponentRegister(name, NULL proxy)`.
    pub fn register(&self, comp: &str, policy: &RetryPolicy) -> Result<(), Error> {
        let f = self
            .api()
            .saAmfComponentRegister
            .ok_or(missing("saAmfComponentRegister"))?;
        let name = self.names.make(comp)?;
        policy.run("saAmfComponentRegister", || {
            // SAFETY: loaded function, live handle, `name` outlives the call; NULL proxy
            // is how an SA-aware (non-proxied) component registers.
            match AisCode::from(unsafe { f(self.handle(), name.as_ptr(), std::ptr::null()) }) {
                AisCode::OK => Ok(()),
                c => Err(c),
            }
        })
    }

    /// `saAmfHealthcheckStart`, AMF-invoked. The key is at most 32 bytes (31 recommended).
    pub fn healthcheck_start(
        &self,
        comp: &str,
        key: &str,
        recovery: Recovery,
        policy: &RetryPolicy,
    ) -> Result<(), Error> {
        let f = self
            .api()
            .saAmfHealthcheckStart
            .ok_or(missing("saAmfHealthcheckStart"))?;
        let name = self.names.make(comp)?;
        let k = hc_key(key)?;
        policy.run("saAmfHealthcheckStart", || {
            // SAFETY: loaded function, live handle, pointers to live locals.
            let rc = unsafe {
                f(
                    self.handle(),
                    name.as_ptr(),
                    &k,
                    SaAmfHealthcheckInvocationT::SA_AMF_HEALTHCHECK_AMF_INVOKED,
                    recovery.0,
                )
            };
            match AisCode::from(rc) {
                AisCode::OK => Ok(()),
                c => Err(c),
            }
        })
    }

    pub fn healthcheck_stop(&self, comp: &str, key: &str) -> Result<(), Error> {
        let f = self
            .api()
            .saAmfHealthcheckStop
            .ok_or(missing("saAmfHealthcheckStop"))?;
        let name = self.names.make(comp)?;
        let k = hc_key(key)?;
        // SAFETY: loaded function, live handle, pointers to live locals.
        AisCode::from(unsafe { f(self.handle(), name.as_ptr(), &k) }).check("saAmfHealthcheckStop")
    }

    /// `saAmfComponentErrorReport_4`. AMF requires non-NULL correlation ids with root and
    /// parent set to SA_NTF_IDENTIFIER_UNUSED.
    pub fn error_report(&self, comp: &str, recovery: Recovery) -> Result<(), Error> {
        let f = self
            .api()
            .saAmfComponentErrorReport_4
            .ok_or(missing("saAmfComponentErrorReport_4"))?;
        let name = self.names.make(comp)?;
        let mut ids = SaNtfCorrelationIdsT {
            rootCorrelationId: SA_NTF_IDENTIFIER_UNUSED,
            parentCorrelationId: SA_NTF_IDENTIFIER_UNUSED,
            notificationId: SA_NTF_IDENTIFIER_UNUSED,
        };
        // SAFETY: loaded function, live handle, pointers to live locals. Detection time 0
        // means "now" to AMF.
        let rc = unsafe { f(self.handle(), name.as_ptr(), 0, recovery.0, &mut ids) };
        AisCode::from(rc).check("saAmfComponentErrorReport_4")
    }

    /// `saAmfDispatch`, routing the callbacks to `handler`. A handler panic is re-raised here.
    pub fn dispatch(
        &self,
        flags: SaDispatchFlagsT,
        handler: &mut dyn AmfHandler,
    ) -> Result<(), Error> {
        let f = self.api().saAmfDispatch.ok_or(missing("saAmfDispatch"))?;
        // SAFETY: only the lifetime is erased; the guard below clears the pointer before
        // this function returns or unwinds, so no trampoline can see it dangle.
        let ptr: *mut (dyn AmfHandler + 'static) = unsafe { std::mem::transmute(handler) };
        struct Restore(Option<Routed>);
        impl Drop for Restore {
            fn drop(&mut self) {
                ROUTE.with(|r| r.set(self.0.take()));
            }
        }
        let _restore = Restore(ROUTE.with(|r| r.replace(Some((ptr, self.responder, self.names)))));
        // SAFETY: loaded function and live handle; callbacks re-enter Rust only through the
        // trampolines above, which catch panics.
        let rc = unsafe { f(self.handle(), flags) };
        drop(_restore);
        if let Some(p) = PANIC.with(|slot| slot.borrow_mut().take()) {
            resume_unwind(p);
        }
        AisCode::from(rc).check("saAmfDispatch")
    }
}

impl Drop for Amf {
    fn drop(&mut self) {
        if let Some(f) = self.api().saAmfFinalize {
            // SAFETY: the handle came from saAmfInitialize_4 and is finalized exactly once.
            let rc = AisCode::from(unsafe { f(self.handle()) });
            if rc != AisCode::OK {
                log::warn!("saAmfFinalize: {rc}");
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

fn hc_key(key: &str) -> Result<SaAmfHealthcheckKeyT, Error> {
    // keyLen counts the bytes, but AMF compares keys as C strings: keep room for a NUL.
    if key.is_empty() || key.len() >= SA_AMF_HEALTHCHECK_KEY_MAX || key.contains('\0') {
        return Err(Error::Invalid(format!(
            "healthcheck key {key:?} must be 1 to {} bytes without NUL",
            SA_AMF_HEALTHCHECK_KEY_MAX - 1
        )));
    }
    let mut k = SaAmfHealthcheckKeyT::default();
    k.key[..key.len()].copy_from_slice(key.as_bytes());
    k.keyLen = key.len() as SaUint16T;
    Ok(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healthcheck_keys_are_zero_padded_and_bounded() {
        let k = hc_key("macsync").unwrap();
        assert_eq!(&k.key[..7], b"macsync");
        assert!(k.key[7..].iter().all(|&b| b == 0));
        assert_eq!(k.keyLen, 7);
        assert!(hc_key("").is_err());
        assert!(hc_key(&"k".repeat(31)).is_ok());
        assert!(hc_key(&"k".repeat(32)).is_err());
    }

    #[test]
    fn unknown_ha_states_are_kept() {
        assert_eq!(
            HaState::from(SaAmfHAStateT::SA_AMF_HA_QUIESCING),
            HaState::Quiescing
        );
        assert_eq!(HaState::from(SaAmfHAStateT(9)), HaState::Other(9));
    }
}
