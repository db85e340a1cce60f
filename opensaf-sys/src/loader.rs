//! Run-time loading of OpenSAF's libraries by soname.
//!
//! A 5.21.03 install ships `libSaImmOm.so.0` but no unversioned `libSaImmOm.so`, so a
//! link-time `-lSaImmOm` fails there; OpenSAF's own Python bindings load the sonames at run
//! time too. Each library becomes a table of function pointers whose types come from the
//! bindgen-generated `*_fn` aliases (derived from the declarations themselves), filled with
//! `dlsym`. Every entry is a plain function pointer, never NULL: a missing symbol fails
//! [`load`](AmfApi::load) with a [`LoadError`], so a call through a table needs no check.
//! A table can also be built by hand (the simulator does, for `macsync --sim`).
//! Loaded libraries are never unloaded: the tables are `'static`.

use std::ffi::{c_void, CStr, CString};
use std::fmt;
use std::sync::OnceLock;

use crate::*;

/// The variable that names the directory holding the OpenSAF libraries.
pub const LIB_DIR_VAR: &str = "OPENSAF_LIB_DIR";

/// A library or one of its symbols could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The file that was being loaded (a soname or a path).
    pub file: String,
    /// The missing symbol, when the library itself loaded.
    pub symbol: Option<String>,
    /// What the dynamic loader said.
    pub reason: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.symbol {
            Some(sym) => write!(f, "{} has no symbol {sym}: {}", self.file, self.reason)?,
            None => write!(f, "cannot load {}: {}", self.file, self.reason)?,
        }
        write!(
            f,
            " (set {LIB_DIR_VAR} to the directory holding OpenSAF's libSa*.so.0, e.g. /usr/lib64)"
        )
    }
}

impl std::error::Error for LoadError {}

fn dlerror_string() -> String {
    // SAFETY: dlerror returns NULL or a pointer to a NUL-terminated, thread-local message
    // that stays valid until the next dl* call on this thread; it is copied at once.
    unsafe {
        let msg = libc::dlerror();
        if msg.is_null() {
            "unknown error".to_string()
        } else {
            CStr::from_ptr(msg).to_string_lossy().into_owned()
        }
    }
}

fn dlopen(file: &str) -> Result<*mut c_void, String> {
    let c = CString::new(file).map_err(|_| "path contains a NUL byte".to_string())?;
    // SAFETY: `c` is a valid NUL-terminated string for the duration of the call; the handle
    // is intentionally never closed, so symbols taken from it stay valid for the process.
    let handle = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        Err(dlerror_string())
    } else {
        Ok(handle)
    }
}

/// Opens `soname`: first in `$OPENSAF_LIB_DIR`, then through the dynamic loader's path.
/// Returns the handle and the file that was opened.
fn open_library(soname: &str) -> Result<(*mut c_void, String), LoadError> {
    let mut reasons = Vec::new();
    if let Some(dir) = std::env::var_os(LIB_DIR_VAR) {
        let path = std::path::Path::new(&dir).join(soname);
        let path = path.to_string_lossy().into_owned();
        match dlopen(&path) {
            Ok(h) => return Ok((h, path)),
            Err(e) => reasons.push(e),
        }
    }
    match dlopen(soname) {
        Ok(h) => Ok((h, soname.to_string())),
        Err(e) => {
            reasons.push(e);
            Err(LoadError {
                file: soname.to_string(),
                symbol: None,
                reason: reasons.join("; "),
            })
        }
    }
}

/// Looks up `name` in `handle`; `file` is only used for the error.
fn symbol(handle: *mut c_void, file: &str, name: &CStr) -> Result<*mut c_void, LoadError> {
    // SAFETY: `handle` came from a successful dlopen that is never closed and `name` is a
    // valid C string; dlsym only reads them.
    let p = unsafe { libc::dlsym(handle, name.as_ptr()) };
    if p.is_null() {
        Err(LoadError {
            file: file.to_string(),
            symbol: Some(name.to_string_lossy().into_owned()),
            reason: dlerror_string(),
        })
    } else {
        Ok(p)
    }
}

/// bindgen spells a function pointer `Option<unsafe extern "C" fn ...>` (C allows NULL);
/// [`Loaded`] is the pointer inside, which a loaded table holds.
pub trait NullableFn {
    type Fn: Copy;
}

impl<F: Copy> NullableFn for Option<F> {
    type Fn = F;
}

/// The non-NULL function pointer type of a bindgen `*_fn` alias.
pub type Loaded<T> = <T as NullableFn>::Fn;

macro_rules! api_table {
    ($(#[$doc:meta])* $name:ident, $soname:literal, { $($f:ident : $t:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub struct $name {
            $(pub $f: Loaded<$t>,)*
        }

        impl $name {
            /// The soname this table is loaded from.
            pub const SONAME: &'static str = $soname;
            /// Every symbol the table needs.
            pub const SYMBOLS: &'static [&'static str] = &[$(stringify!($f)),*];

            /// Loads the library once per process (first `OPENSAF_LIB_DIR`, then the
            /// loader's path); every symbol must be present, so a table never has a hole.
            pub fn load() -> Result<&'static $name, LoadError> {
                static CELL: OnceLock<Result<$name, LoadError>> = OnceLock::new();
                CELL.get_or_init(|| {
                    let (handle, file) = open_library($soname)?;
                    Ok($name {
                        $($f: {
                            let p = symbol(
                                handle,
                                &file,
                                &CString::new(stringify!($f)).expect("symbol names have no NUL"),
                            )?;
                            // SAFETY: `p` is the non-NULL address of the C function of that
                            // name, whose type `$t` is derived from its declaration; a data
                            // pointer and a function pointer have the same size on the
                            // platforms dlsym serves.
                            unsafe { std::mem::transmute::<*mut c_void, Loaded<$t>>(p) }
                        },)*
                    })
                })
                .as_ref()
                .map_err(Clone::clone)
            }
        }
    };
}

api_table!(
    /// `libSaAmf.so.0`: the component side of AMF, plus the SaNameT helpers.
    AmfApi, "libSaAmf.so.0", {
    saAisNameLend: saAisNameLend_fn,
    saAisNameBorrow: saAisNameBorrow_fn,
    saAmfInitialize_4: saAmfInitialize_4_fn,
    saAmfSelectionObjectGet: saAmfSelectionObjectGet_fn,
    saAmfDispatch: saAmfDispatch_fn,
    saAmfFinalize: saAmfFinalize_fn,
    saAmfComponentNameGet: saAmfComponentNameGet_fn,
    saAmfComponentRegister: saAmfComponentRegister_fn,
    saAmfComponentUnregister: saAmfComponentUnregister_fn,
    saAmfHealthcheckStart: saAmfHealthcheckStart_fn,
    saAmfHealthcheckStop: saAmfHealthcheckStop_fn,
    saAmfResponse_4: saAmfResponse_4_fn,
    saAmfCSIQuiescingComplete: saAmfCSIQuiescingComplete_fn,
    saAmfComponentErrorReport_4: saAmfComponentErrorReport_4_fn,
});

api_table!(
    /// `libSaImmOm.so.0`: reading IMM (search, accessor).
    ImmOmApi, "libSaImmOm.so.0", {
    saImmOmInitialize: saImmOmInitialize_fn,
    saImmOmFinalize: saImmOmFinalize_fn,
    saImmOmSearchInitialize_2: saImmOmSearchInitialize_2_fn,
    saImmOmSearchNext_2: saImmOmSearchNext_2_fn,
    saImmOmSearchFinalize: saImmOmSearchFinalize_fn,
    saImmOmAccessorInitialize: saImmOmAccessorInitialize_fn,
    saImmOmAccessorGet_2: saImmOmAccessorGet_2_fn,
    saImmOmAccessorFinalize: saImmOmAccessorFinalize_fn,
});

api_table!(
    /// `libSaImmOi.so.0`: the object implementer (runtime objects), plus the SaNameT helpers.
    ImmOiApi, "libSaImmOi.so.0", {
    saAisNameLend: saAisNameLend_fn,
    saAisNameBorrow: saAisNameBorrow_fn,
    saImmOiInitialize_2: saImmOiInitialize_2_fn,
    saImmOiSelectionObjectGet: saImmOiSelectionObjectGet_fn,
    saImmOiDispatch: saImmOiDispatch_fn,
    saImmOiFinalize: saImmOiFinalize_fn,
    saImmOiImplementerSet: saImmOiImplementerSet_fn,
    saImmOiImplementerClear: saImmOiImplementerClear_fn,
    saImmOiRtObjectCreate_2: saImmOiRtObjectCreate_2_fn,
    saImmOiRtObjectDelete: saImmOiRtObjectDelete_fn,
    saImmOiRtObjectUpdate_2: saImmOiRtObjectUpdate_2_fn,
    saImmOiAdminOperationResult: saImmOiAdminOperationResult_fn,
});

api_table!(
    /// `libSaClm.so.0`: cluster membership (B.04.01). It exports no SaNameT helpers: take
    /// them from `libSaAmf.so.0`.
    ClmApi, "libSaClm.so.0", {
    saClmInitialize_4: saClmInitialize_4_fn,
    saClmSelectionObjectGet: saClmSelectionObjectGet_fn,
    saClmDispatch: saClmDispatch_fn,
    saClmFinalize: saClmFinalize_fn,
    saClmClusterTrack_4: saClmClusterTrack_4_fn,
    saClmClusterTrackStop: saClmClusterTrackStop_fn,
    saClmClusterNotificationFree_4: saClmClusterNotificationFree_4_fn,
    saClmClusterNodeGet_4: saClmClusterNodeGet_4_fn,
});

/// The tables macsync uses, from one place (OpenSAF's libraries or the simulator).
#[derive(Clone, Copy, Debug)]
pub struct Apis {
    pub amf: &'static AmfApi,
    pub imm_om: &'static ImmOmApi,
    pub imm_oi: &'static ImmOiApi,
    pub clm: &'static ClmApi,
}

impl Apis {
    /// Loads all four libraries; the first failure is the error.
    pub fn load() -> Result<Apis, LoadError> {
        Ok(Apis {
            amf: AmfApi::load()?,
            imm_om: ImmOmApi::load()?,
            imm_oi: ImmOiApi::load()?,
            clm: ClmApi::load()?,
        })
    }
}
