//! Errors from OpenSAF calls. Every SaAisErrorT keeps its number, including codes this
//! build does not know, so a log line from a newer OpenSAF is never lost.

use std::fmt;

use opensaf_sys::LoadError;

use super::dn::DnError;

/// An `SaAisErrorT` as C returned it: the C type itself, whose short constants
/// (`AisCode::EXIST`), C names and `Display` live in `opensaf-sys`. A code this build does
/// not know keeps its number.
pub use opensaf_sys::SaAisErrorT as AisCode;

/// What the safe layer does with a code.
pub trait AisCodeExt: Copy {
    /// `Ok(())` for SA_AIS_OK, else the code as an error of `call`.
    fn check(self, call: &'static str) -> Result<(), Error>;
    /// `Ok(())` for SA_AIS_OK, else the code (for [`RetryPolicy::run`](super::RetryPolicy::run)).
    fn into_result(self) -> Result<(), AisCode>;
    /// Codes OpenSAF's own clients retry after a pause.
    fn is_transient(self) -> bool;
}

impl AisCodeExt for AisCode {
    fn check(self, call: &'static str) -> Result<(), Error> {
        self.into_result().map_err(|code| Error::Ais { call, code })
    }

    fn into_result(self) -> Result<(), AisCode> {
        if self == AisCode::OK {
            Ok(())
        } else {
            Err(self)
        }
    }

    fn is_transient(self) -> bool {
        matches!(
            self,
            AisCode::TRY_AGAIN | AisCode::NO_RESOURCES | AisCode::BUSY
        )
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
    use opensaf_sys::SaAisErrorT;

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
    // AisCode is the C type itself now, so the round trip through SaAisErrorT is the
    // identity: kept as the statement that a code C returned is never lost.
    #[allow(clippy::useless_conversion)]
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
