//! The exported C functions (the symbols of libSaAmf.so.0, libSaImmOm.so.0 and
//! libSaImmOi.so.0). Each one only converts between C and Rust and runs inside
//! [`guard`], so a panic never crosses the C boundary: it becomes SA_AIS_ERR_LIBRARY.

pub mod amf;
pub mod imm_oi;
pub mod imm_om;
pub mod names;

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::ais::{self, Ais};
use crate::imm::ImmError;

/// Runs an exported function's body; a panic is answered SA_AIS_ERR_LIBRARY.
pub fn guard(f: impl FnOnce() -> Ais) -> Ais {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(ais::LIBRARY)
}

/// Maps a Rust result onto the C return code.
pub fn code<T>(r: Result<T, Ais>) -> Ais {
    match r {
        Ok(_) => ais::OK,
        Err(e) => e,
    }
}

/// As [`code`], for IMM calls (whose errors carry a message).
pub fn imm_code<T>(r: Result<T, ImmError>) -> Ais {
    match r {
        Ok(_) => ais::OK,
        Err(e) => e.code,
    }
}
