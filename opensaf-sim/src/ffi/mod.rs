//! The exported C functions (the symbols of libSaAmf.so.0, libSaImmOm.so.0 and
//! libSaImmOi.so.0). Each one only converts between C and Rust and runs inside
//! [`guard`], so a panic never crosses the C boundary: it becomes SA_AIS_ERR_LIBRARY.

pub mod amf;
pub mod imm_oi;
pub mod imm_om;
pub mod names;

use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::imm::ImmError;
use opensaf_sys::SaAisErrorT as Ais;

/// Called after each initialize: once the process uses a state directory, the CLI must be
/// able to reach it.
fn serve_cli() {
    if let Some(inst) = crate::instance::current() {
        crate::cli_server::start(inst);
    }
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
