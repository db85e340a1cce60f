//! The exported C functions (the symbols of libSaAmf.so.0, libSaImmOm.so.0 and
//! libSaImmOi.so.0). Each one only converts between C and Rust and runs inside
//! [`guard`], so a panic never crosses the C boundary: it becomes SA_AIS_ERR_LIBRARY.

pub mod amf;
pub mod clm;
pub mod imm_oi;
pub mod imm_om;
pub mod names;

use std::panic::{catch_unwind, AssertUnwindSafe};

use opensaf_sys::SaAisErrorT as Ais;
use opensaf_sys::SaVersionT;

use crate::imm::ImmError;

/// Writes what `get` answers to the caller's `out`; NULL is INVALID_PARAM before `get` runs.
///
/// # Safety
/// `out` must be NULL or writable.
unsafe fn answer<T>(out: *mut T, get: impl FnOnce() -> Result<T, Ais>) -> Ais {
    guard(|| {
        if out.is_null() {
            return Ais::INVALID_PARAM;
        }
        match get() {
            Ok(v) => {
                // SAFETY: non-NULL and writable (caller contract).
                unsafe { out.write(v) };
                Ais::OK
            }
            Err(e) => e,
        }
    })
}

/// Called after each initialize: once the process uses a state directory, the CLI must be
/// able to reach it.
fn serve_cli() {
    if let Some(inst) = crate::instance::current() {
        crate::cli_server::start(inst);
    }
}

/// The body every `sa*Initialize*` shares: NULL checks; version negotiation (the release
/// and major version must be `supported`'s, which is written back either way); the
/// callbacks copied (the caller may free its struct); `init`; the CLI served, also after a
/// failure (the process may keep retrying, and the CLI must reach it); the handle written.
///
/// # Safety
/// `handle` and `version` must be NULL or writable; `callbacks` NULL or readable.
unsafe fn initialize<C: Copy + Default>(
    handle: *mut u64,
    callbacks: *const C,
    version: *mut SaVersionT,
    supported: (u8, u8, u8),
    init: impl FnOnce(C) -> Result<u64, Ais>,
) -> Ais {
    guard(|| {
        if handle.is_null() || version.is_null() {
            return Ais::INVALID_PARAM;
        }
        // SAFETY: `version` is non-NULL and writable (caller contract).
        let v = unsafe { &mut *version };
        let ok = (v.releaseCode, v.majorVersion) == (supported.0, supported.1);
        (v.releaseCode, v.majorVersion, v.minorVersion) = supported;
        if !ok {
            return Ais::VERSION;
        }
        let cbs = if callbacks.is_null() {
            C::default()
        } else {
            // SAFETY: non-NULL and readable (caller contract); copied.
            unsafe { *callbacks }
        };
        let r = init(cbs);
        serve_cli();
        match r {
            Ok(h) => {
                // SAFETY: non-NULL and writable (checked above).
                unsafe { *handle = h };
                Ais::OK
            }
            Err(e) => e,
        }
    })
}

/// Runs an exported function's body; a panic is answered SA_AIS_ERR_LIBRARY.
pub fn guard(f: impl FnOnce() -> Ais) -> Ais {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(Ais::LIBRARY)
}

/// Maps a Rust result onto the C return code.
pub fn code<T>(r: Result<T, Ais>) -> Ais {
    match r {
        Ok(_) => Ais::OK,
        Err(e) => e,
    }
}

/// As [`code`], for IMM calls (whose errors carry a message).
pub fn imm_code<T>(r: Result<T, ImmError>) -> Ais {
    match r {
        Ok(_) => Ais::OK,
        Err(e) => e.code,
    }
}
