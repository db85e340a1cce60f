//! The IMM side of the simulator: the model, its rules, the persistent store, the XML
//! loader, and the OM/OI client libraries.

pub mod alive;
pub mod builtin;
pub mod cvalues;
pub mod journal;
pub mod load;
pub mod model;
pub mod oi;
pub mod om;
pub mod rules;
pub mod shown;
pub mod state;
pub mod store;
pub mod xml;

use std::fmt;

use opensaf_sys::SaAisErrorT as Ais;

/// An IMM call's failure: the code the API returns and why (for events and the CLI).
#[derive(Debug, Clone)]
pub struct ImmError {
    pub code: Ais,
    pub msg: String,
}

impl ImmError {
    pub fn new(code: Ais, msg: impl Into<String>) -> ImmError {
        ImmError {
            code,
            msg: msg.into(),
        }
    }
}

impl fmt::Display for ImmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.msg, self.code)
    }
}

impl std::error::Error for ImmError {}
