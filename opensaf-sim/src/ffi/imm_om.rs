//! libSaImmOm.so.0: the IMM object-management API (read side).

use opensaf_sys::SaAisErrorT as Ais;
use opensaf_sys::{
    SaAisErrorT, SaImmAccessorHandleT, SaImmAttrNameT, SaImmAttrValuesT_2, SaImmCallbacksT,
    SaImmHandleT, SaImmScopeT, SaImmSearchHandleT, SaImmSearchOptionsT, SaImmSearchParametersT_2,
    SaNameT, SaVersionT,
};

use super::{guard, imm_code};
use crate::imm::cvalues::{self, invalid};
use crate::imm::model::ValueType;
use crate::imm::oi::IMM_VERSION;
use crate::imm::om::{self, SearchSpec};
use crate::imm::ImmError;

/// # Safety
/// `imm_handle` and `version` must be NULL or writable; `callbacks` NULL or readable.
#[no_mangle]
pub unsafe extern "C" fn saImmOmInitialize(
    imm_handle: *mut SaImmHandleT,
    callbacks: *const SaImmCallbacksT,
    version: *mut SaVersionT,
) -> SaAisErrorT {
    // No callbacks are used: no asynchronous admin operations are simulated.
    let init = |_| om::initialize().map_err(|e| e.code);
    // SAFETY: the caller's contract is `initialize`'s.
    unsafe { super::initialize(imm_handle, callbacks, version, IMM_VERSION, init) }
}

/// # Safety
/// No pointers.
#[no_mangle]
pub unsafe extern "C" fn saImmOmFinalize(imm_handle: SaImmHandleT) -> SaAisErrorT {
    guard(|| imm_code(om::finalize(imm_handle)))
}

/// Reads the C search arguments.
///
/// # Safety
/// Pointers as for `saImmOmSearchInitialize_2`.
unsafe fn read_spec(
    root: *const SaNameT,
    scope: SaImmScopeT,
    options: SaImmSearchOptionsT,
    param: *const SaImmSearchParametersT_2,
    names: *const SaImmAttrNameT,
) -> Result<SearchSpec, ImmError> {
    // SAFETY: NULL or a readable SaNameT (caller contract).
    let root = unsafe { cvalues::read_name_opt(root, "rootName") }?;
    let filter = if options & om::ONE_ATTR != 0 {
        if param.is_null() {
            return Err(invalid("SA_IMM_SEARCH_ONE_ATTR without searchParam"));
        }
        // SAFETY: non-NULL, readable; the union's only member is searchOneAttr.
        let one = unsafe { (*param).searchOneAttr };
        // SAFETY: attrName is a C string or NULL.
        let name = unsafe { cvalues::read_cstr(one.attrName, "searchOneAttr.attrName") }?;
        let t = ValueType::from_u32(one.attrValueType.0)
            .ok_or_else(|| invalid("searchOneAttr.attrValueType is invalid"))?;
        // SAFETY: attrValue is NULL or points to a value of the declared type.
        let v = unsafe { cvalues::read_filter_value(t, one.attrValue) }?;
        Some((name, t, v))
    } else {
        None
    };
    let attr_names = if names.is_null() {
        None
    } else {
        // SAFETY: a NULL-terminated array of C strings (caller contract).
        Some(unsafe { cvalues::read_name_list(names) }?)
    };
    Ok(SearchSpec {
        root,
        scope: scope.0,
        options,
        filter,
        attr_names,
    })
}

/// # Safety
/// `root` NULL or readable; `param` NULL or readable; `attribute_names` NULL or a
/// NULL-terminated array of C strings; `search_handle` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn saImmOmSearchInitialize_2(
    imm_handle: SaImmHandleT,
    root: *const SaNameT,
    scope: SaImmScopeT,
    options: SaImmSearchOptionsT,
    param: *const SaImmSearchParametersT_2,
    attribute_names: *const SaImmAttrNameT,
    search_handle: *mut SaImmSearchHandleT,
) -> SaAisErrorT {
    guard(|| {
        if search_handle.is_null() {
            return Ais::INVALID_PARAM;
        }
        // SAFETY: pointers as documented above (caller contract).
        let spec = match unsafe { read_spec(root, scope, options, param, attribute_names) } {
            Ok(s) => s,
            Err(e) => return e.code,
        };
        match om::search_initialize(imm_handle, spec) {
            Ok(sh) => {
                // SAFETY: non-NULL and writable (checked above).
                unsafe { *search_handle = sh };
                Ais::OK
            }
            Err(e) => e.code,
        }
    })
}

/// # Safety
/// `object_name` and `attributes` must be NULL or writable. The results stay valid until
/// the next call on `search_handle` or its finalize.
#[no_mangle]
pub unsafe extern "C" fn saImmOmSearchNext_2(
    search_handle: SaImmSearchHandleT,
    object_name: *mut SaNameT,
    attributes: *mut *mut *mut SaImmAttrValuesT_2,
) -> SaAisErrorT {
    guard(|| {
        if object_name.is_null() || attributes.is_null() {
            return Ais::INVALID_PARAM;
        }
        imm_code(om::search_next(search_handle, |c, _dn| {
            let name = c
                .object_name
                .as_ref()
                .map(|n| n.value())
                .unwrap_or_default();
            // SAFETY: both outputs are non-NULL and writable (caller contract); the name's
            // long-string pointer and the arrays live in the search handle until the next
            // call or finalize.
            unsafe {
                *object_name = name;
                *attributes = c.as_ptr();
            }
        }))
    })
}

/// # Safety
/// No pointers.
#[no_mangle]
pub unsafe extern "C" fn saImmOmSearchFinalize(search_handle: SaImmSearchHandleT) -> SaAisErrorT {
    guard(|| imm_code(om::search_finalize(search_handle)))
}

/// # Safety
/// `accessor_handle` must be NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn saImmOmAccessorInitialize(
    imm_handle: SaImmHandleT,
    accessor_handle: *mut SaImmAccessorHandleT,
) -> SaAisErrorT {
    guard(|| {
        if accessor_handle.is_null() {
            return Ais::INVALID_PARAM;
        }
        match om::accessor_initialize(imm_handle) {
            Ok(a) => {
                // SAFETY: non-NULL and writable (checked above).
                unsafe { *accessor_handle = a };
                Ais::OK
            }
            Err(e) => e.code,
        }
    })
}

/// # Safety
/// `object_name` NULL or readable; `attribute_names` NULL or a NULL-terminated array of
/// C strings; `attributes` NULL or writable. Results live until the next call on the
/// accessor or its finalize.
#[no_mangle]
pub unsafe extern "C" fn saImmOmAccessorGet_2(
    accessor_handle: SaImmAccessorHandleT,
    object_name: *const SaNameT,
    attribute_names: *const SaImmAttrNameT,
    attributes: *mut *mut *mut SaImmAttrValuesT_2,
) -> SaAisErrorT {
    guard(|| {
        if object_name.is_null() || attributes.is_null() {
            return Ais::INVALID_PARAM;
        }
        // SAFETY: non-NULL and readable (caller contract).
        let dn = match unsafe { cvalues::read_name_opt(object_name, "objectName") } {
            Ok(d) => d,
            Err(e) => return e.code,
        };
        let names = if attribute_names.is_null() {
            None
        } else {
            // SAFETY: NULL-terminated array of C strings (caller contract).
            match unsafe { cvalues::read_name_list(attribute_names) } {
                Ok(n) => Some(n),
                Err(e) => return e.code,
            }
        };
        imm_code(om::accessor_get(accessor_handle, &dn, names, |c| {
            // SAFETY: non-NULL and writable (caller contract); the arrays live in the
            // accessor until the next call or finalize.
            unsafe { *attributes = c.as_ptr() };
        }))
    })
}

/// # Safety
/// No pointers.
#[no_mangle]
pub unsafe extern "C" fn saImmOmAccessorFinalize(
    accessor_handle: SaImmAccessorHandleT,
) -> SaAisErrorT {
    guard(|| imm_code(om::accessor_finalize(accessor_handle)))
}
