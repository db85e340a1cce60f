//! libSaImmOi.so.0: the IMM object-implementer API (runtime objects, admin operations).

use std::ffi::c_char;

use opensaf_sys::SaAisErrorT as Ais;
use opensaf_sys::{
    SaAisErrorT, SaDispatchFlagsT, SaImmAttrModificationT_2, SaImmAttrValuesT_2, SaImmClassNameT,
    SaImmOiCallbacksT_2, SaImmOiHandleT, SaImmOiImplementerNameT, SaInvocationT, SaNameT,
    SaSelectionObjectT, SaVersionT,
};

use super::{guard, imm_code};
use crate::imm::cvalues;
use crate::imm::oi;
use crate::imm::oi::IMM_VERSION;

/// # Safety
/// `handle` and `version` must be NULL or writable; `callbacks` NULL or readable.
#[no_mangle]
pub unsafe extern "C" fn saImmOiInitialize_2(
    handle: *mut SaImmOiHandleT,
    callbacks: *const SaImmOiCallbacksT_2,
    version: *mut SaVersionT,
) -> SaAisErrorT {
    let init = |cbs| oi::initialize(cbs).map_err(|e| e.code);
    // SAFETY: the caller's contract is `initialize`'s.
    unsafe { super::initialize(handle, callbacks, version, IMM_VERSION, init) }
}

/// # Safety
/// `selection_object` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn saImmOiSelectionObjectGet(
    handle: SaImmOiHandleT,
    selection_object: *mut SaSelectionObjectT,
) -> SaAisErrorT {
    let fd = || match oi::selection_object(handle) {
        Ok(fd) => Ok(fd as SaSelectionObjectT),
        Err(e) => Err(e.code),
    };
    // SAFETY: the caller's contract is `answer`'s.
    unsafe { super::answer(selection_object, fd) }
}

/// # Safety
/// Calls the admin-operation callback registered at initialize.
#[no_mangle]
pub unsafe extern "C" fn saImmOiDispatch(
    handle: SaImmOiHandleT,
    flags: SaDispatchFlagsT,
) -> SaAisErrorT {
    guard(|| imm_code(oi::dispatch(handle, flags.0)))
}

/// # Safety
/// No pointers.
#[no_mangle]
pub unsafe extern "C" fn saImmOiFinalize(handle: SaImmOiHandleT) -> SaAisErrorT {
    guard(|| imm_code(oi::finalize(handle)))
}

/// # Safety
/// `name` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn saImmOiImplementerSet(
    handle: SaImmOiHandleT,
    name: SaImmOiImplementerNameT,
) -> SaAisErrorT {
    guard(|| {
        // SAFETY: NULL or a C string (caller contract).
        let n = match unsafe { cvalues::read_cstr(name as *const c_char, "implementerName") } {
            Ok(n) => n,
            Err(e) => return e.code,
        };
        imm_code(oi::implementer_set(handle, &n))
    })
}

/// # Safety
/// No pointers.
#[no_mangle]
pub unsafe extern "C" fn saImmOiImplementerClear(handle: SaImmOiHandleT) -> SaAisErrorT {
    guard(|| imm_code(oi::implementer_clear(handle)))
}

/// # Safety
/// `class_name` NULL or a C string; `parent` NULL or a readable `SaNameT`; `attrs` NULL or
/// a NULL-terminated array of readable `SaImmAttrValuesT_2` whose values match their types.
#[no_mangle]
pub unsafe extern "C" fn saImmOiRtObjectCreate_2(
    handle: SaImmOiHandleT,
    class_name: SaImmClassNameT,
    parent: *const SaNameT,
    attrs: *mut *const SaImmAttrValuesT_2,
) -> SaAisErrorT {
    guard(|| {
        if class_name.is_null() || attrs.is_null() {
            return Ais::INVALID_PARAM;
        }
        if let Err(e) = oi::check_implementer(handle) {
            return e.code;
        }
        // SAFETY: pointers as documented above (caller contract).
        let parsed = unsafe {
            cvalues::read_cstr(class_name, "className").and_then(|c| {
                let p = cvalues::read_name_opt(parent, "parentName")?;
                Ok((
                    c,
                    p,
                    cvalues::read_attr_list(attrs as *const *const SaImmAttrValuesT_2)?,
                ))
            })
        };
        match parsed {
            Ok((c, p, a)) => imm_code(oi::rt_create(handle, &c, &p, &a)),
            Err(e) => e.code,
        }
    })
}

/// # Safety
/// `name` must be NULL or a readable `SaNameT`.
#[no_mangle]
pub unsafe extern "C" fn saImmOiRtObjectDelete(
    handle: SaImmOiHandleT,
    name: *const SaNameT,
) -> SaAisErrorT {
    guard(|| {
        if name.is_null() {
            return Ais::INVALID_PARAM;
        }
        if let Err(e) = oi::check_implementer(handle) {
            return e.code;
        }
        // SAFETY: non-NULL and readable (caller contract).
        match unsafe { cvalues::read_name_opt(name, "objectName") } {
            Ok(dn) if dn.is_empty() => Ais::INVALID_PARAM,
            Ok(dn) => imm_code(oi::rt_delete(handle, &dn)),
            Err(e) => e.code,
        }
    })
}

/// # Safety
/// `name` NULL or a readable `SaNameT`; `mods` NULL or a NULL-terminated array of readable
/// modifications whose values match their types.
#[no_mangle]
pub unsafe extern "C" fn saImmOiRtObjectUpdate_2(
    handle: SaImmOiHandleT,
    name: *const SaNameT,
    mods: *mut *const SaImmAttrModificationT_2,
) -> SaAisErrorT {
    guard(|| {
        if name.is_null() || mods.is_null() {
            return Ais::INVALID_PARAM;
        }
        if let Err(e) = oi::check_implementer(handle) {
            return e.code;
        }
        // SAFETY: pointers as documented above (caller contract).
        let parsed = unsafe {
            cvalues::read_name_opt(name, "objectName").and_then(|dn| {
                Ok((
                    dn,
                    cvalues::read_mod_list(mods as *const *const SaImmAttrModificationT_2)?,
                ))
            })
        };
        match parsed {
            Ok((dn, _)) if dn.is_empty() => Ais::INVALID_PARAM,
            Ok((_, m)) if m.is_empty() => Ais::INVALID_PARAM,
            Ok((dn, m)) => imm_code(oi::rt_update(handle, &dn, &m)),
            Err(e) => e.code,
        }
    })
}

/// # Safety
/// No pointers.
#[no_mangle]
pub unsafe extern "C" fn saImmOiAdminOperationResult(
    handle: SaImmOiHandleT,
    invocation: SaInvocationT,
    result: SaAisErrorT,
) -> SaAisErrorT {
    guard(|| imm_code(oi::admin_result(handle, invocation, result.0)))
}
