//! The safe OpenSAF layer over `opensaf-sys`: AMF (component side), IMM OI (runtime
//! objects), IMM OM (reads) and CLM (cluster membership). This module tree,
//! [`crate::sys`] and `netlink::socket` are the only places in the crate with `unsafe`;
//! every block says why it is sound.
//!
//! Every C call goes through a loaded table (`opensaf_sys::loader`), whose entries are
//! never NULL; callbacks reach Rust through `dispatch`; handles are initialized, polled
//! and finalized through `handle`.

#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

pub mod amf;
pub mod clm;
mod dispatch;
pub mod dn;
pub mod error;
mod handle;
pub mod imm_oi;
pub mod imm_om;
mod names;
pub mod retry;
pub mod values;

pub use amf::{Amf, AmfHandler, AmfResponder, CsiDescriptor, HaState, Invocation, Recovery};
pub use clm::{Clm, ClmHandler, ClusterNode, Membership, NodeChange, NodeNotification, Track};
pub use dn::{Dn, DnError, MAX_DN, MAX_LONG_DN};
pub use error::{AisCode, AisCodeExt, Error};
pub use imm_oi::{ImmOi, OiHandler, OiResponder};
pub use imm_om::{ImmObject, ImmOm, Scope};
pub use retry::RetryPolicy;
pub use values::{Attr, AttrValue};
