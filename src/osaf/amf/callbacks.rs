//! What AMF calls the component with and how the component answers: the handler trait,
//! the responder, and the C trampolines that reach the handler inside `saAmfDispatch`
//! (through `osaf::dispatch`, which also catches a handler's panic).

use std::ffi::CStr;

use opensaf_sys::*;

use crate::osaf::dispatch;
use crate::osaf::error::{AisCode, AisCodeExt, Error};

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

/// Answers AMF: `saAmfResponse_4` and `saAmfCSIQuiescingComplete` on the handle.
///
/// It is `Copy` and may be sent to another thread (the sync worker answers an assignment
/// after its IMM call returns) because an AIS handle is an id, not a pointer: the library
/// looks it up in its own table on every call, the AMF API may be called from any thread,
/// and a copy that outlives `saAmfFinalize` gets `SA_AIS_ERR_BAD_HANDLE`, never undefined
/// behaviour.
#[derive(Clone, Copy)]
pub struct AmfResponder {
    pub(super) api: &'static AmfApi,
    pub(super) handle: SaAmfHandleT,
}

impl AmfResponder {
    /// `saAmfResponse_4`: correlation ids are NULL, as AMF demands with SA_AIS_OK.
    pub fn response(&self, inv: Invocation, result: AisCode) -> Result<(), Error> {
        // SAFETY: a live or stale handle id (stale is BAD_HANDLE); NULL correlation ids are
        // what the API requires with SA_AIS_OK and allows otherwise.
        let rc =
            unsafe { (self.api.saAmfResponse_4)(self.handle, inv.0, std::ptr::null_mut(), result) };
        rc.check("saAmfResponse_4")
    }

    /// `saAmfCSIQuiescingComplete` for a QUIESCING assignment already answered.
    pub fn quiescing_complete(&self, inv: Invocation, result: AisCode) -> Result<(), Error> {
        // SAFETY: plain values; the handle is an id the library checks.
        let rc = unsafe { (self.api.saAmfCSIQuiescingComplete)(self.handle, inv.0, result) };
        rc.check("saAmfCSIQuiescingComplete")
    }
}

dispatch::route!(AmfCallbacks: "saAmfDispatch", dyn AmfHandler, AmfResponder);

unsafe extern "C" fn on_healthcheck(
    inv: SaInvocationT,
    _comp: *const SaNameT,
    key: *mut SaAmfHealthcheckKeyT,
) {
    dispatch::callback::<AmfCallbacks>(|c| {
        // SAFETY: AMF passes a valid key (or NULL) for the duration of the callback; the
        // slice is used only inside it. No allocation: this runs at every healthcheck.
        let key: &[u8] = match unsafe { key.as_ref() } {
            Some(k) => &k.key[..(k.keyLen as usize).min(SA_AMF_HEALTHCHECK_KEY_MAX)],
            None => &[],
        };
        c.handler.healthcheck(&c.responder, Invocation(inv), key)
    });
}

unsafe extern "C" fn on_csi_set(
    inv: SaInvocationT,
    _comp: *const SaNameT,
    ha: SaAmfHAStateT,
    desc: SaAmfCSIDescriptorT,
) {
    dispatch::callback::<AmfCallbacks>(|c| {
        let name = if desc.csiFlags & SA_AMF_CSI_TARGET_ALL != 0 {
            None
        } else {
            c.names.read(&desc.csiName)
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
        c.handler
            .csi_set(&c.responder, Invocation(inv), ha.into(), &csi)
    });
}

unsafe extern "C" fn on_csi_remove(
    inv: SaInvocationT,
    _comp: *const SaNameT,
    csi: *const SaNameT,
    flags: SaAmfCSIFlagsT,
) {
    dispatch::callback::<AmfCallbacks>(|c| {
        let name = if flags & SA_AMF_CSI_TARGET_ALL != 0 {
            None
        } else {
            c.names.read(csi)
        };
        c.handler
            .csi_remove(&c.responder, Invocation(inv), name.as_deref(), flags)
    });
}

unsafe extern "C" fn on_terminate(inv: SaInvocationT, _comp: *const SaNameT) {
    dispatch::callback::<AmfCallbacks>(|c| c.handler.terminate(&c.responder, Invocation(inv)));
}

/// The callbacks AMF gets at initialize.
pub(super) fn table() -> SaAmfCallbacksT_4 {
    SaAmfCallbacksT_4 {
        saAmfHealthcheckCallback: Some(on_healthcheck),
        saAmfComponentTerminateCallback: Some(on_terminate),
        saAmfCSISetCallback: Some(on_csi_set),
        saAmfCSIRemoveCallback: Some(on_csi_remove),
        ..Default::default()
    }
}

/// Runs `call` (`saAmfDispatch`) with `lent` reachable by the trampolines above.
pub(super) fn run<'a>(
    lent: &mut dispatch::Lent<'a, dyn AmfHandler + 'a, AmfResponder>,
    call: impl FnOnce() -> AisCode,
) -> Result<(), Error> {
    dispatch::run::<AmfCallbacks>(lent, call)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_ha_states_are_kept() {
        assert_eq!(
            HaState::from(SaAmfHAStateT::SA_AMF_HA_QUIESCING),
            HaState::Quiescing
        );
        assert_eq!(HaState::from(SaAmfHAStateT(9)), HaState::Other(9));
    }
}
