//! SaNameT in and out. With SA_EXTENDED_NAME_SOURCE the type is opaque: names go in with
//! saAisNameLend (which keeps a *pointer* to names of 256 bytes or more, so the string must
//! outlive the SaNameT) and come out with saAisNameBorrow.

use std::ffi::{CStr, CString};

use opensaf_sys::{saAisNameBorrow_fn, saAisNameLend_fn, Loaded, SaNameT};

use super::error::Error;

/// The two name helpers, taken from whichever library exports them.
#[derive(Clone, Copy)]
pub(crate) struct NameFns {
    lend: Loaded<saAisNameLend_fn>,
    borrow: Loaded<saAisNameBorrow_fn>,
}

/// A SaNameT together with the string it may point into.
pub(crate) struct OwnedName {
    name: SaNameT,
    _text: CString,
}

impl OwnedName {
    pub(crate) fn as_ptr(&self) -> *const SaNameT {
        &self.name
    }
}

impl NameFns {
    pub(crate) fn new(lend: Loaded<saAisNameLend_fn>, borrow: Loaded<saAisNameBorrow_fn>) -> Self {
        NameFns { lend, borrow }
    }

    pub(crate) fn make(&self, s: &str) -> Result<OwnedName, Error> {
        let text = CString::new(s)
            .map_err(|_| Error::Invalid(format!("name {s:?} contains a NUL byte")))?;
        let mut owned = OwnedName {
            name: SaNameT::default(),
            _text: text,
        };
        // SAFETY: `lend` is saAisNameLend from a loaded library; it reads the NUL-terminated
        // string and writes only into the SaNameT. The CString's heap buffer, which a long
        // name points to, lives as long as `owned` and does not move when `owned` moves.
        unsafe { (self.lend)(owned._text.as_ptr(), &mut owned.name) };
        Ok(owned)
    }

    /// Reads a name C handed us; None for NULL or an empty name.
    pub(crate) fn read(&self, name: *const SaNameT) -> Option<String> {
        if name.is_null() {
            return None;
        }
        // SAFETY: `name` is non-null and points to a SaNameT that C keeps valid for the
        // duration of the callback or call that gave it to us; borrow returns NULL or a
        // NUL-terminated string inside it (or behind its pointer), copied at once.
        unsafe {
            let p = (self.borrow)(name);
            if p.is_null() {
                None
            } else {
                Some(CStr::from_ptr(p).to_string_lossy().into_owned()).filter(|s| !s.is_empty())
            }
        }
    }
}
