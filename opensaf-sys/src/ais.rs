//! What an `SaAisErrorT` is called: a short constant for every code the headers declare,
//! its C name, and `Display`. Kept beside the type (as libsqlite3-sys keeps its error
//! names), so every user of the C API, the safe layer and the simulator alike, names
//! codes the same way. A code the headers do not know keeps its number.

use std::fmt;

use crate::SaAisErrorT;

macro_rules! codes {
    ($($short:ident = $full:ident,)*) => {
        /// Short names: `SaAisErrorT::EXIST` is `SA_AIS_ERR_EXIST`.
        impl SaAisErrorT {
            $(pub const $short: SaAisErrorT = SaAisErrorT::$full;)*
        }

        const NAMES: &[(SaAisErrorT, &str)] = &[$((SaAisErrorT::$full, stringify!($full)),)*];
    };
}

codes! {
    OK = SA_AIS_OK,
    LIBRARY = SA_AIS_ERR_LIBRARY,
    VERSION = SA_AIS_ERR_VERSION,
    INIT = SA_AIS_ERR_INIT,
    TIMEOUT = SA_AIS_ERR_TIMEOUT,
    TRY_AGAIN = SA_AIS_ERR_TRY_AGAIN,
    INVALID_PARAM = SA_AIS_ERR_INVALID_PARAM,
    NO_MEMORY = SA_AIS_ERR_NO_MEMORY,
    BAD_HANDLE = SA_AIS_ERR_BAD_HANDLE,
    BUSY = SA_AIS_ERR_BUSY,
    ACCESS = SA_AIS_ERR_ACCESS,
    NOT_EXIST = SA_AIS_ERR_NOT_EXIST,
    NAME_TOO_LONG = SA_AIS_ERR_NAME_TOO_LONG,
    EXIST = SA_AIS_ERR_EXIST,
    NO_SPACE = SA_AIS_ERR_NO_SPACE,
    INTERRUPT = SA_AIS_ERR_INTERRUPT,
    NAME_NOT_FOUND = SA_AIS_ERR_NAME_NOT_FOUND,
    NO_RESOURCES = SA_AIS_ERR_NO_RESOURCES,
    NOT_SUPPORTED = SA_AIS_ERR_NOT_SUPPORTED,
    BAD_OPERATION = SA_AIS_ERR_BAD_OPERATION,
    FAILED_OPERATION = SA_AIS_ERR_FAILED_OPERATION,
    MESSAGE_ERROR = SA_AIS_ERR_MESSAGE_ERROR,
    QUEUE_FULL = SA_AIS_ERR_QUEUE_FULL,
    QUEUE_NOT_AVAILABLE = SA_AIS_ERR_QUEUE_NOT_AVAILABLE,
    BAD_FLAGS = SA_AIS_ERR_BAD_FLAGS,
    TOO_BIG = SA_AIS_ERR_TOO_BIG,
    NO_SECTIONS = SA_AIS_ERR_NO_SECTIONS,
    NO_OP = SA_AIS_ERR_NO_OP,
    REPAIR_PENDING = SA_AIS_ERR_REPAIR_PENDING,
    NO_BINDINGS = SA_AIS_ERR_NO_BINDINGS,
    UNAVAILABLE = SA_AIS_ERR_UNAVAILABLE,
    CAMPAIGN_ERROR_DETECTED = SA_AIS_ERR_CAMPAIGN_ERROR_DETECTED,
    CAMPAIGN_PROC_FAILED = SA_AIS_ERR_CAMPAIGN_PROC_FAILED,
    CAMPAIGN_CANCELED = SA_AIS_ERR_CAMPAIGN_CANCELED,
    CAMPAIGN_FAILED = SA_AIS_ERR_CAMPAIGN_FAILED,
    CAMPAIGN_SUSPENDED = SA_AIS_ERR_CAMPAIGN_SUSPENDED,
    CAMPAIGN_SUSPENDING = SA_AIS_ERR_CAMPAIGN_SUSPENDING,
    ACCESS_DENIED = SA_AIS_ERR_ACCESS_DENIED,
    NOT_READY = SA_AIS_ERR_NOT_READY,
    DEPLOYMENT = SA_AIS_ERR_DEPLOYMENT,
}

impl SaAisErrorT {
    /// The C name (`SA_AIS_ERR_EXIST`), or None for a code the headers do not declare.
    pub fn name(self) -> Option<&'static str> {
        NAMES.iter().find(|(c, _)| *c == self).map(|(_, n)| *n)
    }
}

/// `SA_AIS_ERR_EXIST (14)`; `unknown SaAisErrorT 77` for a code the headers do not know.
impl fmt::Display for SaAisErrorT {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n} ({})", self.0),
            None => write!(f, "unknown SaAisErrorT {}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_code_has_one_name_in_order() {
        // The header declares 1..=40 without a gap; each name is the constant's own.
        assert_eq!(NAMES.len(), 40);
        for (i, (code, name)) in NAMES.iter().enumerate() {
            assert_eq!(code.0 as usize, i + 1, "{name}");
            assert_eq!(code.name(), Some(*name));
        }
        assert_eq!(SaAisErrorT::EXIST, SaAisErrorT(14));
        assert_eq!(
            SaAisErrorT::DEPLOYMENT.name(),
            Some("SA_AIS_ERR_DEPLOYMENT")
        );
    }

    #[test]
    fn unknown_codes_keep_their_number() {
        assert_eq!(SaAisErrorT(0).name(), None);
        assert_eq!(SaAisErrorT(77).to_string(), "unknown SaAisErrorT 77");
        assert_eq!(SaAisErrorT::OK.to_string(), "SA_AIS_OK (1)");
    }
}
