//! `SaNameT` as the simulator lays it out (with `SA_EXTENDED_NAME_SOURCE` the type is
//! opaque, 258 bytes, alignment 2; only `saAisNameLend`/`saAisNameBorrow` may look inside).
//!
//! Encoding (the simulator's own):
//! * names shorter than 256 bytes: the legacy view, `u16` length at byte 0, the bytes at
//!   2.., NUL-terminated inside the 256-byte area (so Borrow can return them in place);
//! * longer names: `u16` [`LONG_NAME_MARKER`] at byte 0 (impossible as a legacy length),
//!   then at byte 2 the `const char *` of the caller's string (unaligned, native endian).
//!   The string must outlive the `SaNameT`, exactly as with OpenSAF.
//!
//! A long name is accepted by the IMM calls only when `SA_ENABLE_EXTENDED_NAMES=1` was in
//! the environment at the first AIS call of the process.

use std::collections::HashMap;
use std::ffi::{c_char, CStr, CString};
use std::sync::{Mutex, OnceLock};

use opensaf_sys::SaNameT;

use crate::mutex::lock;

/// Marks a `SaNameT` that holds a pointer to a long name.
pub const LONG_NAME_MARKER: u16 = 0xFFFF;
/// Names at least this long are lent by pointer.
pub const MAX_INLINE: usize = 256;

/// Whether long names were enabled in the environment (read once, like the real library).
pub fn extended_names_enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("SA_ENABLE_EXTENDED_NAMES").is_ok_and(|v| v == "1"))
}

/// Why a caller's `SaNameT` cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    /// Malformed (bad length, NULL pointer, not UTF-8, embedded NUL).
    Invalid,
    /// A long name while extended names are disabled.
    LongNotEnabled,
}

/// Copies `s` into `name` (inline when short, otherwise by pointer to `s`).
///
/// # Safety
/// `name` must point to writable memory of at least 258 bytes; for a long name `s` must
/// stay alive (and unmoved) as long as the `SaNameT` is used.
pub unsafe fn lend(s: &CStr, name: *mut SaNameT) {
    let bytes = s.to_bytes();
    let base = name.cast::<u8>();
    if bytes.len() < MAX_INLINE {
        // SAFETY: the caller guarantees 258 writable bytes; len < 256 so the bytes and the
        // NUL fit in 2..258, and the u16 length is written unaligned.
        unsafe {
            base.cast::<u16>().write_unaligned(bytes.len() as u16);
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), base.add(2), bytes.len());
            *base.add(2 + bytes.len()) = 0;
        }
    } else {
        // SAFETY: as above; the pointer occupies bytes 2..10 of the 258.
        unsafe {
            base.cast::<u16>().write_unaligned(LONG_NAME_MARKER);
            base.add(2)
                .cast::<*const c_char>()
                .write_unaligned(s.as_ptr());
        }
    }
}

/// The NUL-terminated string in `name`, or NULL when it holds none.
///
/// # Safety
/// `name` must point to a readable 258-byte `SaNameT`; a long name's pointer must be live.
pub unsafe fn borrow(name: *const SaNameT) -> *const c_char {
    let base = name.cast::<u8>();
    // SAFETY: the caller guarantees 258 readable bytes.
    let len = unsafe { base.cast::<u16>().read_unaligned() };
    if len == LONG_NAME_MARKER {
        // SAFETY: bytes 2..10 hold the pointer stored by `lend`.
        return unsafe { base.add(2).cast::<*const c_char>().read_unaligned() };
    }
    let len = usize::from(len);
    // A legacy name of 256 bytes has no room for its NUL: it cannot be borrowed as a C string.
    // SAFETY: len < 256 so byte 2+len is inside the 258 bytes.
    if len < MAX_INLINE && unsafe { *base.add(2 + len) } == 0 {
        // SAFETY: as above.
        unsafe { base.add(2).cast() }
    } else {
        std::ptr::null()
    }
}

/// Reads a caller's name as a Rust string.
///
/// # Safety
/// `name` must point to a readable 258-byte `SaNameT`; a long name's pointer must be live.
pub unsafe fn read(name: *const SaNameT) -> Result<String, NameError> {
    let base = name.cast::<u8>();
    // SAFETY: the caller guarantees 258 readable bytes.
    let len = unsafe { base.cast::<u16>().read_unaligned() };
    if len == LONG_NAME_MARKER {
        // SAFETY: bytes 2..10 hold a pointer stored by `lend`.
        let p = unsafe { base.add(2).cast::<*const c_char>().read_unaligned() };
        if p.is_null() {
            return Err(NameError::Invalid);
        }
        if !extended_names_enabled() {
            return Err(NameError::LongNotEnabled);
        }
        // SAFETY: a lent long name points to a live NUL-terminated string (caller contract).
        let s = unsafe { CStr::from_ptr(p) };
        return s
            .to_str()
            .map(str::to_owned)
            .map_err(|_| NameError::Invalid);
    }
    let len = usize::from(len);
    if len > MAX_INLINE {
        return Err(NameError::Invalid);
    }
    // SAFETY: len <= 256 bytes starting at byte 2 are inside the 258-byte struct.
    let bytes = unsafe { std::slice::from_raw_parts(base.add(2), len) };
    if bytes.contains(&0) {
        return Err(NameError::Invalid);
    }
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| NameError::Invalid)
}

/// A name value valid for the rest of the process: a long name points to a process-wide
/// copy. For names the simulator hands out by value again and again from a small set (the
/// component name, the CLM node names), so the set of copies stays bounded.
pub fn kept(s: &str) -> SaNameT {
    static LONG: OnceLock<Mutex<HashMap<String, CString>>> = OnceLock::new();
    let c = CString::new(s.replace('\0', "")).unwrap_or_default();
    let mut name = SaNameT::default();
    if c.as_bytes().len() < MAX_INLINE {
        // SAFETY: `name` is a live, writable SaNameT; a short name is copied into it.
        unsafe { lend(&c, &mut name) };
        return name;
    }
    let mut map = lock(LONG.get_or_init(Default::default));
    let kept = map.entry(s.to_string()).or_insert(c);
    // SAFETY: `name` is writable; `kept` lives in a process-wide map that is never pruned,
    // so the pointer stored for a long name stays valid.
    unsafe { lend(kept, &mut name) };
    name
}

/// A name the simulator hands out: the `SaNameT` and, for a long name, the string it
/// points to. Keep the whole value alive (and do not move the CString) while C uses it.
pub struct OwnedName {
    pub name: Box<SaNameT>,
    _long: Option<CString>,
}

impl OwnedName {
    pub fn new(s: &str) -> OwnedName {
        let c = CString::new(s.replace('\0', "")).unwrap_or_default();
        let mut name = Box::<SaNameT>::default();
        // SAFETY: `name` is a live, writable SaNameT; the CString is stored beside it and its
        // heap buffer does not move when the CString value moves.
        unsafe { lend(&c, &mut *name) };
        let long = (c.as_bytes().len() >= MAX_INLINE).then_some(c);
        OwnedName { name, _long: long }
    }

    pub fn as_ptr(&self) -> *const SaNameT {
        &*self.name
    }

    /// A by-value copy (the long-name pointer in it stays valid while `self` lives).
    pub fn value(&self) -> SaNameT {
        *self.name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_round_trip() {
        let n = OwnedName::new("safComp=a,safSu=b");
        // SAFETY: `n` is a live SaNameT built by `lend`.
        let s = unsafe { read(n.as_ptr()) }.unwrap();
        assert_eq!(s, "safComp=a,safSu=b");
        // SAFETY: as above.
        let b = unsafe { CStr::from_ptr(borrow(n.as_ptr())) };
        assert_eq!(b.to_str().unwrap(), "safComp=a,safSu=b");
    }

    #[test]
    fn long_is_by_pointer() {
        let long = "x=".to_string() + &"a".repeat(300);
        let n = OwnedName::new(&long);
        // SAFETY: `n` is a live SaNameT built by `lend`.
        let b = unsafe { CStr::from_ptr(borrow(n.as_ptr())) };
        assert_eq!(b.to_str().unwrap(), long);
    }
}
