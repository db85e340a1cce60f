//! `saAisNameLend` / `saAisNameBorrow` (exported by libSaAmf and libSaImmOi).

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use opensaf_sys::{SaConstStringT, SaNameT};

/// Stores `value` in `name`: copied when shorter than 256 bytes, else by pointer.
///
/// # Safety
/// `value` must be NULL or a NUL-terminated string that, when 256 bytes or longer, stays
/// alive as long as `name` is used; `name` must be NULL or point to a writable `SaNameT`.
#[no_mangle]
pub unsafe extern "C" fn saAisNameLend(value: SaConstStringT, name: *mut SaNameT) {
    if value.is_null() || name.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `value` is a non-NULL C string and `name` a writable SaNameT (caller
        // contract); lend keeps a pointer only for long names, which the caller keeps alive.
        unsafe { crate::names::lend(CStr::from_ptr(value), name) }
    }));
}

/// The string held by `name`, or NULL.
///
/// # Safety
/// `name` must be NULL or point to a readable `SaNameT` set by `saAisNameLend` or in the
/// legacy layout.
#[no_mangle]
pub unsafe extern "C" fn saAisNameBorrow(name: *const SaNameT) -> SaConstStringT {
    if name.is_null() {
        return std::ptr::null();
    }
    // SAFETY: `name` is a readable SaNameT (caller contract).
    catch_unwind(AssertUnwindSafe(|| unsafe { crate::names::borrow(name) }))
        .unwrap_or(std::ptr::null::<c_char>())
}
