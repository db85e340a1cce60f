//! Short names for the `SaAisErrorT` values the simulator returns.

pub use opensaf_sys::SaAisErrorT as Ais;

pub const OK: Ais = Ais::SA_AIS_OK;
pub const LIBRARY: Ais = Ais::SA_AIS_ERR_LIBRARY;
pub const VERSION: Ais = Ais::SA_AIS_ERR_VERSION;
pub const INIT: Ais = Ais::SA_AIS_ERR_INIT;
pub const TIMEOUT: Ais = Ais::SA_AIS_ERR_TIMEOUT;
pub const TRY_AGAIN: Ais = Ais::SA_AIS_ERR_TRY_AGAIN;
pub const INVALID_PARAM: Ais = Ais::SA_AIS_ERR_INVALID_PARAM;
pub const NO_MEMORY: Ais = Ais::SA_AIS_ERR_NO_MEMORY;
pub const BAD_HANDLE: Ais = Ais::SA_AIS_ERR_BAD_HANDLE;
pub const BUSY: Ais = Ais::SA_AIS_ERR_BUSY;
pub const ACCESS: Ais = Ais::SA_AIS_ERR_ACCESS;
pub const NOT_EXIST: Ais = Ais::SA_AIS_ERR_NOT_EXIST;
pub const NAME_TOO_LONG: Ais = Ais::SA_AIS_ERR_NAME_TOO_LONG;
pub const EXIST: Ais = Ais::SA_AIS_ERR_EXIST;
pub const BAD_OPERATION: Ais = Ais::SA_AIS_ERR_BAD_OPERATION;
pub const FAILED_OPERATION: Ais = Ais::SA_AIS_ERR_FAILED_OPERATION;

/// `SA_AIS_ERR_NOT_EXIST`-style name of a code (for events and the CLI).
pub fn name(code: u32) -> String {
    let n = match code {
        1 => "SA_AIS_OK",
        2 => "SA_AIS_ERR_LIBRARY",
        3 => "SA_AIS_ERR_VERSION",
        4 => "SA_AIS_ERR_INIT",
        5 => "SA_AIS_ERR_TIMEOUT",
        6 => "SA_AIS_ERR_TRY_AGAIN",
        7 => "SA_AIS_ERR_INVALID_PARAM",
        8 => "SA_AIS_ERR_NO_MEMORY",
        9 => "SA_AIS_ERR_BAD_HANDLE",
        10 => "SA_AIS_ERR_BUSY",
        11 => "SA_AIS_ERR_ACCESS",
        12 => "SA_AIS_ERR_NOT_EXIST",
        13 => "SA_AIS_ERR_NAME_TOO_LONG",
        14 => "SA_AIS_ERR_EXIST",
        15 => "SA_AIS_ERR_NO_SPACE",
        16 => "SA_AIS_ERR_INTERRUPT",
        17 => "SA_AIS_ERR_NAME_NOT_FOUND",
        18 => "SA_AIS_ERR_NO_RESOURCES",
        19 => "SA_AIS_ERR_NOT_SUPPORTED",
        20 => "SA_AIS_ERR_BAD_OPERATION",
        21 => "SA_AIS_ERR_FAILED_OPERATION",
        31 => "SA_AIS_ERR_UNAVAILABLE",
        39 => "SA_AIS_ERR_NOT_READY",
        _ => return format!("SaAisErrorT({code})"),
    };
    n.to_string()
}

/// Parses `SA_AIS_ERR_FAILED_OPERATION`, `FAILED_OPERATION` or `21`.
pub fn parse(s: &str) -> Option<u32> {
    if let Ok(n) = s.parse() {
        return Some(n);
    }
    let up = s.to_ascii_uppercase();
    (1..=40).find(|&c| {
        let n = name(c);
        n == up
            || n.strip_prefix("SA_AIS_ERR_") == Some(&up)
            || n.strip_prefix("SA_AIS_") == Some(&up)
    })
}
