//! Links that get no interface object, and why: IMM cannot name them (found before any
//! call, by `model::desired`), or IMM refused their object's create or update for a reason
//! of that object alone (its name or its values: INVALID_PARAM, NAME_TOO_LONG, NOT_EXIST
//! while the node object exists). Either way the sync goes on with the other links; the
//! link is logged once and reported, has no object (one IMM held for it is deleted, so
//! IMM never shows it stale), and is tried again when it changes (the incremental sync
//! hands it over again) or at the next full sync. Errors about IMM as a whole are not
//! refusals: the sync fails and its links are put back.

use std::fmt;

use crate::osaf::{Dn, DnError, Error};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// IMM cannot hold the link's name.
    Name(DnError),
    /// IMM refused the object `dn`.
    Imm { dn: Dn, error: Error },
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Name(e) => e.fmt(f),
            Refused::Imm { dn, error } => write!(
                f,
                "'{}' ({dn}) refused by IMM: {error}; tried again when the link changes or at the next full sync",
                dn.rdn_value()
            ),
        }
    }
}

impl From<DnError> for Refused {
    fn from(e: DnError) -> Self {
        Refused::Name(e)
    }
}
