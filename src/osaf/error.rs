//! Errors from OpenSAF calls. Every SaAisErrorT keeps its number, including codes this
//! build does not know, so a log line from a newer OpenSAF is never lost.

use std::fmt;

use opensaf_sys::{LoadError, SaAisErrorT};

use super::dn::DnError;

/// An `SaAisErrorT` value as C returned it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AisCode(pub u32);

const NAMES: [&str; 41] = [
    "",
    "SA_AIS_OK",
    "SA_AIS_ERR_LIBRARY",
    "SA_AIS_ERR_VERSION",
    "SA_AIS_ERR_INIT",
    "SA_AIS_ERR_TIMEOUT",
    "SA_AIS_ERR_TRY_AGAIN",
    "SA_AIS_ERR_INVALID_PARAM",
    "SA_AIS_ERR_NO_MEMORY",
    "SA_AIS_ERR_BAD_HANDLE",
    "SA_AIS_ERR_BUSY",
    "SA_AIS_ERR_ACCESS",
    "SA_AIS_ERR_NOT_EXIST",
    "SA_AIS_ERR_NAME_TOO_LONG",
    "SA_AIS_ERR_EXIST",
    "SA_AIS_ERR_NO_SPACE",
    "SA_AIS_ERR_INTERRUPT",
    "SA_AIS_ERR_NAME_NOT_FOUND",
    "SA_AIS_ERR_NO_RESOURCES",
    "SA_AIS_ERR_NOT_SUPPORTED",
    "SA_AIS_ERR_BAD_OPERATION",
    "SA_AIS_ERR_FAILED_OPERATION",
    "SA_AIS_ERR_MESSAGE_ERROR",
    "SA_AIS_ERR_QUEUE_FULL",
    "SA_AIS_ERR_QUEUE_NOT_AVAILABLE",
    "SA_AIS_ERR_BAD_FLAGS",
    "SA_AIS_ERR_TOO_BIG",
    "SA_AIS_ERR_NO_SECTIONS",
    "SA_AIS_ERR_NO_OP",
    "SA_AIS_ERR_REPAIR_PENDING",
    "SA_AIS_ERR_NO_BINDINGS",
    "SA_AIS_ERR_UNAVAILABLE",
    "SA_AIS_ERR_CAMPAIGN_ERROR_DETECTED",
    "SA_AIS_ERR_CAMPAIGN_PROC_FAILED",
    "SA_AIS_ERR_CAMPAIGN_CANCELED",
    "SA_AIS_ERR_CAMPAIGN_FAILED",
    "SA_AIS_ERR_CAMPAIGN_SUSPENDED",
    "SA_AIS_ERR_CAMPAIGN_SUSPENDING",
    "SA_AIS_ERR_ACCESS_DENIED",
    "SA_AIS_ERR_NOT_READY",
    "SA_AIS_ERR_DEPLOYMENT",
];

impl AisCode {
    pub const OK: AisCode = AisCode(SaAisErrorT::SA_AIS_OK.0);
    pub const LIBRARY: AisCode = AisCode(SaAisErrorT::SA_AIS_ERR_LIBRARY.0);
    pub const VERSION: AisCode = AisCode(SaAisErrorT::SA_AIS_ERR_VERSION.0);
    pub const TIMEOUT: AisCode = AisCode(SaAisErrorT::SA_AIS_ERR_TIMEOUT.0);
    pub const TRY_AGAIN: AisCode = AisCode(SaAisErrorT::SA_AIS_ERR_TRY_AGAIN.0);
    pub const INVALID_PARAM: AisCode = AisCode(SaAisErrorT::SA_AIS_ERR_INVALID_PARAM.0);
    pub const BAD_HANDLE: AisCode = AisCode(SaAisErrorT::SA_AIS_ERR_BAD_HANDLE.0);
    pub const BUSY: AisCode = AisCode(SaAisErrorT::SA_AIS_ERR_BUSY.0);
    pub const NOT_EXIST: AisCode = AisCode(SaAisErrorT::SA_AIS_ERR_NOT_EXIST.0);
    pub const NAME_TOO_LONG: AisCode = AisCode(SaAisErrorT::SA_AIS_ERR_NAME_TOO_LONG.0);
    pub const EXIST: AisCode = AisCode(SaAisErrorT::SA_AIS_ERR_EXIST.0);
    pub const NO_RESOURCES: AisCode = AisCode(SaAisErrorT::SA_AIS_ERR_NO_RESOURCES.0);
    pub const BAD_OPERATION: AisCode = AisCode(SaAisErrorT::SA_AIS_ERR_BAD_OPERATION.0);
    pub const FAILED_OPERATION: AisCode = AisCode(SaAisErrorT::SA_AIS_ERR_FAILED_OPERATION.0);
    pub const UNAVAILABLE: AisCode = AisCode(SaAisErrorT::SA_AIS_ERR_UNAVAILABLE.0);

    /// The C name (`SA_AIS_ERR_EXIST`), or None for a code this build does not know.
    pub fn name(self) -> Option<&'static str> {
        NAMES
            .get(self.0 as usize)
            .copied()
            .filter(|n| !n.is_empty())
    }

    /// `Ok(())` for SA_AIS_OK, else the code as an error of `call`.
    pub fn check(self, call: &'static str) -> Result<(), Error> {
        if self == AisCode::OK {
            Ok(())
        } else {
            Err(Error::Ais { call, code: self })
        }
    }

    /// Codes OpenSAF's own clients retry after a pause.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            AisCode::TRY_AGAIN | AisCode::NO_RESOURCES | AisCode::BUSY
        )
    }
}

impl From<SaAisErrorT> for AisCode {
    fn from(e: SaAisErrorT) -> Self {
        AisCode(e.0)
    }
}

impl From<AisCode> for SaAisErrorT {
    fn from(c: AisCode) -> Self {
        SaAisErrorT(c.0)
    }
}

impl fmt::Display for AisCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{n} ({})", self.0),
            None => write!(f, "unknown SaAisErrorT {}", self.0),
        }
    }
}

/// Anything the OpenSAF layer can fail with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// An AIS call answered something other than SA_AIS_OK.
    Ais { call: &'static str, code: AisCode },
    /// A library or symbol could not be loaded.
    Load(LoadError),
    /// A DN or RDN that IMM would refuse.
    Dn(DnError),
    /// An argument this layer refuses before calling C (e.g. a NUL byte in a string).
    Invalid(String),
    /// A retry loop was cancelled because the component is stopping.
    Cancelled(&'static str),
}

impl Error {
    /// The AIS code, when this is an AIS error.
    pub fn code(&self) -> Option<AisCode> {
        match self {
            Error::Ais { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The handle is dead (e.g. IMM's node director restarted): initialize a new one.
    pub fn is_bad_handle(&self) -> bool {
        self.code() == Some(AisCode::BAD_HANDLE)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Ais { call, code } => write!(f, "{call} failed: {code}"),
            Error::Load(e) => e.fmt(f),
            Error::Dn(e) => e.fmt(f),
            Error::Invalid(s) => f.write_str(s),
            Error::Cancelled(call) => write!(f, "{call} abandoned: shutting down"),
        }
    }
}

impl std::error::Error for Error {}

impl From<LoadError> for Error {
    fn from(e: LoadError) -> Self {
        Error::Load(e)
    }
}

impl From<DnError> for Error {
    fn from(e: DnError) -> Self {
        Error::Dn(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_code_has_its_c_name() {
        // Numbers from the ABI record; spot-check the ones macsync branches on.
        for (n, name) in [
            (1, "SA_AIS_OK"),
            (6, "SA_AIS_ERR_TRY_AGAIN"),
            (9, "SA_AIS_ERR_BAD_HANDLE"),
            (12, "SA_AIS_ERR_NOT_EXIST"),
            (14, "SA_AIS_ERR_EXIST"),
            (20, "SA_AIS_ERR_BAD_OPERATION"),
            (21, "SA_AIS_ERR_FAILED_OPERATION"),
            (31, "SA_AIS_ERR_UNAVAILABLE"),
            (39, "SA_AIS_ERR_NOT_READY"),
            (40, "SA_AIS_ERR_DEPLOYMENT"),
        ] {
            assert_eq!(AisCode(n).name(), Some(name));
        }
        for n in 1..=40 {
            assert!(AisCode(n).name().is_some(), "code {n} has no name");
        }
    }

    #[test]
    fn unknown_codes_are_kept_not_lost() {
        let e = Error::Ais {
            call: "saAmfDispatch",
            code: AisCode(77),
        };
        assert_eq!(
            e.to_string(),
            "saAmfDispatch failed: unknown SaAisErrorT 77"
        );
        assert_eq!(e.code(), Some(AisCode(77)));
        assert_eq!(AisCode(0).name(), None);
        let round: SaAisErrorT = AisCode(77).into();
        assert_eq!(AisCode::from(round), AisCode(77));
    }

    #[test]
    fn display_names_the_call_and_the_code() {
        let e = AisCode::EXIST.check("saImmOiRtObjectCreate_2").unwrap_err();
        assert_eq!(
            e.to_string(),
            "saImmOiRtObjectCreate_2 failed: SA_AIS_ERR_EXIST (14)"
        );
        assert!(AisCode::OK.check("x").is_ok());
        assert!(AisCode::BAD_HANDLE.check("x").unwrap_err().is_bad_handle());
        assert!(AisCode::TRY_AGAIN.is_transient() && AisCode::BUSY.is_transient());
        assert!(!AisCode::EXIST.is_transient());
    }
}
