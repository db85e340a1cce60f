//! macsync: mirror the node's network links into OpenSAF IMM runtime objects.
//!
//! The data path reads top to bottom:
//! netlink (kernel events) -> flag (atomic "changed") -> healthcheck (AMF) ->
//! snapshot (RTM_GETLINK dump) -> diff (against IMM's view) -> IMM (runtime objects).

pub mod flag;
pub mod netlink;
pub mod osaf;
