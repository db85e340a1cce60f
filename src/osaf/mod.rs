//! The safe OpenSAF layer over `opensaf-sys`: AMF (component side), IMM OI (runtime
//! objects) and IMM OM (reads). This module tree and `netlink::socket` are the only places
//! in the crate with `unsafe`; every block says why it is sound.

pub mod amf;
pub mod dn;
pub mod error;
pub mod imm_oi;
pub mod imm_om;
mod names;
pub mod retry;
pub mod values;

pub use amf::{Amf, AmfHandler, AmfResponder, CsiDescriptor, HaState, Invocation, Recovery};
pub use dn::{Dn, DnError, MAX_DN, MAX_LONG_DN};
pub use error::{AisCode, Error};
pub use imm_oi::{ImmOi, OiHandler, OiResponder};
pub use imm_om::{ImmObject, ImmOm, Scope};
pub use retry::RetryPolicy;
pub use values::{Attr, AttrValue};
