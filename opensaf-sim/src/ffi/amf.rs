//! libSaAmf.so.0: the AMF component API (B.04.01).

use opensaf_sys::SaAisErrorT as Ais;
use opensaf_sys::{
    SaAisErrorT, SaAmfCallbacksT_4, SaAmfHandleT, SaAmfHealthcheckInvocationT,
    SaAmfHealthcheckKeyT, SaAmfRecommendedRecoveryT, SaDispatchFlagsT, SaInvocationT, SaNameT,
    SaNtfCorrelationIdsT, SaSelectionObjectT, SaTimeT, SaVersionT,
};

use super::{code, guard};
use crate::amf::{self, AMF_VERSION};

/// Reads a caller's name argument (INVALID_PARAM when NULL or malformed).
///
/// # Safety
/// `p` must be NULL or point to a readable `SaNameT`.
unsafe fn name_arg(p: *const SaNameT) -> Result<String, SaAisErrorT> {
    if p.is_null() {
        return Err(Ais::INVALID_PARAM);
    }
    // SAFETY: non-NULL and readable (caller contract).
    unsafe { crate::names::read(p) }.map_err(|_| Ais::INVALID_PARAM)
}

/// Writes `s` into a caller's `SaNameT` (the component name never changes, so the copy a
/// long name points to is kept for the process).
///
/// # Safety
/// `out` must point to a writable `SaNameT`.
unsafe fn write_name(out: *mut SaNameT, s: &str) {
    // SAFETY: `out` is writable (caller contract).
    unsafe { out.write(crate::names::kept(s)) };
}

/// Initializes the AMF library: release 'B', major 4; the version is overwritten with
/// B.04.01 either way.
///
/// # Safety
/// `amf_handle` and `version` must be NULL or writable; `callbacks` NULL or readable.
#[no_mangle]
pub unsafe extern "C" fn saAmfInitialize_4(
    amf_handle: *mut SaAmfHandleT,
    callbacks: *const SaAmfCallbacksT_4,
    version: *mut SaVersionT,
) -> SaAisErrorT {
    // SAFETY: the caller's contract is `initialize`'s.
    unsafe { super::initialize(amf_handle, callbacks, version, AMF_VERSION, amf::initialize) }
}

/// # Safety
/// `selection_object` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn saAmfSelectionObjectGet(
    amf_handle: SaAmfHandleT,
    selection_object: *mut SaSelectionObjectT,
) -> SaAisErrorT {
    let fd = || amf::selection_object(amf_handle).map(|fd| fd as SaSelectionObjectT);
    // SAFETY: the caller's contract is `answer`'s.
    unsafe { super::answer(selection_object, fd) }
}

/// # Safety
/// Callbacks registered at initialize are called from here.
#[no_mangle]
pub unsafe extern "C" fn saAmfDispatch(
    amf_handle: SaAmfHandleT,
    flags: SaDispatchFlagsT,
) -> SaAisErrorT {
    guard(|| code(amf::dispatch(amf_handle, flags.0)))
}

/// # Safety
/// No pointers; unsafe only for symmetry with the C declaration.
#[no_mangle]
pub unsafe extern "C" fn saAmfFinalize(amf_handle: SaAmfHandleT) -> SaAisErrorT {
    guard(|| code(amf::finalize(amf_handle)))
}

/// # Safety
/// `comp_name` must be NULL or point to a writable `SaNameT`.
#[no_mangle]
pub unsafe extern "C" fn saAmfComponentNameGet(
    amf_handle: SaAmfHandleT,
    comp_name: *mut SaNameT,
) -> SaAisErrorT {
    guard(|| {
        if comp_name.is_null() {
            return Ais::INVALID_PARAM;
        }
        match amf::comp_name_get(amf_handle) {
            Ok(n) => {
                // SAFETY: non-NULL and writable (caller contract).
                unsafe { write_name(comp_name, &n) };
                Ais::OK
            }
            Err(e) => e,
        }
    })
}

/// # Safety
/// `comp_name` must be NULL or readable; `proxy` must be NULL (SA-aware component).
#[no_mangle]
pub unsafe extern "C" fn saAmfComponentRegister(
    amf_handle: SaAmfHandleT,
    comp_name: *const SaNameT,
    proxy: *const SaNameT,
) -> SaAisErrorT {
    guard(|| {
        // SAFETY: NULL or readable (caller contract).
        let name = match unsafe { name_arg(comp_name) } {
            Ok(n) => n,
            Err(e) => return e,
        };
        code(amf::register(amf_handle, &name, !proxy.is_null()))
    })
}

/// # Safety
/// As for `saAmfComponentRegister`.
#[no_mangle]
pub unsafe extern "C" fn saAmfComponentUnregister(
    amf_handle: SaAmfHandleT,
    comp_name: *const SaNameT,
    proxy: *const SaNameT,
) -> SaAisErrorT {
    guard(|| {
        // SAFETY: NULL or readable (caller contract).
        let name = match unsafe { name_arg(comp_name) } {
            Ok(n) => n,
            Err(e) => return e,
        };
        code(amf::unregister(amf_handle, &name, !proxy.is_null()))
    })
}

/// # Safety
/// `comp_name` and `key` must be NULL or readable.
#[no_mangle]
pub unsafe extern "C" fn saAmfHealthcheckStart(
    amf_handle: SaAmfHandleT,
    comp_name: *const SaNameT,
    key: *const SaAmfHealthcheckKeyT,
    invocation_type: SaAmfHealthcheckInvocationT,
    recovery: SaAmfRecommendedRecoveryT,
) -> SaAisErrorT {
    guard(|| {
        if key.is_null() {
            return Ais::INVALID_PARAM;
        }
        // SAFETY: NULL or readable (caller contract).
        let name = match unsafe { name_arg(comp_name) } {
            Ok(n) => n,
            Err(e) => return e,
        };
        // SAFETY: non-NULL and readable (caller contract); copied.
        let k = unsafe { *key };
        code(amf::healthcheck::start(
            amf_handle,
            &name,
            k,
            invocation_type.0,
            recovery.0,
        ))
    })
}

/// # Safety
/// `comp_name` and `key` must be NULL or readable.
#[no_mangle]
pub unsafe extern "C" fn saAmfHealthcheckStop(
    amf_handle: SaAmfHandleT,
    comp_name: *const SaNameT,
    key: *const SaAmfHealthcheckKeyT,
) -> SaAisErrorT {
    guard(|| {
        if key.is_null() {
            return Ais::INVALID_PARAM;
        }
        // SAFETY: NULL or readable (caller contract).
        let name = match unsafe { name_arg(comp_name) } {
            Ok(n) => n,
            Err(e) => return e,
        };
        // SAFETY: non-NULL and readable (caller contract).
        let k = unsafe { *key };
        code(amf::healthcheck::stop(amf_handle, &name, &k))
    })
}

/// # Safety
/// `correlation_ids` is only compared with NULL.
#[no_mangle]
pub unsafe extern "C" fn saAmfResponse_4(
    amf_handle: SaAmfHandleT,
    invocation: SaInvocationT,
    correlation_ids: *mut SaNtfCorrelationIdsT,
    error: SaAisErrorT,
) -> SaAisErrorT {
    guard(|| {
        code(amf::response(
            amf_handle,
            invocation,
            !correlation_ids.is_null(),
            error.0,
        ))
    })
}

/// # Safety
/// No pointers; unsafe only for symmetry with the C declaration.
#[no_mangle]
pub unsafe extern "C" fn saAmfCSIQuiescingComplete(
    amf_handle: SaAmfHandleT,
    invocation: SaInvocationT,
    error: SaAisErrorT,
) -> SaAisErrorT {
    guard(|| code(amf::quiescing_complete(amf_handle, invocation, error.0)))
}

/// # Safety
/// `comp` and `correlation_ids` must be NULL or readable.
#[no_mangle]
pub unsafe extern "C" fn saAmfComponentErrorReport_4(
    amf_handle: SaAmfHandleT,
    comp: *const SaNameT,
    detection_time: SaTimeT,
    recovery: SaAmfRecommendedRecoveryT,
    correlation_ids: *mut SaNtfCorrelationIdsT,
) -> SaAisErrorT {
    guard(|| {
        if correlation_ids.is_null() {
            return Ais::INVALID_PARAM;
        }
        // SAFETY: non-NULL and readable (caller contract).
        let c = unsafe { *correlation_ids };
        if c.rootCorrelationId != opensaf_sys::SA_NTF_IDENTIFIER_UNUSED
            || c.parentCorrelationId != opensaf_sys::SA_NTF_IDENTIFIER_UNUSED
        {
            return Ais::INVALID_PARAM;
        }
        // SAFETY: NULL or readable (caller contract).
        let name = match unsafe { name_arg(comp) } {
            Ok(n) => n,
            Err(e) => return e,
        };
        code(amf::error_report(
            amf_handle,
            &name,
            detection_time,
            recovery.0,
        ))
    })
}
