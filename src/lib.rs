//! macsync: mirror the node's network links into OpenSAF IMM runtime objects.
//!
//! The data path reads top to bottom:
//! netlink (kernel events) -> flag (atomic "changed") -> healthcheck (AMF) ->
//! snapshot (RTM_GETLINK dump) -> diff (against IMM's view) -> IMM (runtime objects).

pub mod component;
pub mod config;
#[cfg(feature = "sim")]
pub mod demo;
pub mod diff;
pub mod flag;
pub mod model;
pub mod netlink;
pub mod once;
pub mod osaf;
pub mod sync;
pub mod sys;
