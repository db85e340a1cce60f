//! macsync: mirror the node's network links into OpenSAF IMM runtime objects.
//!
//! The data path, module by module:
//! [`netlink`] (kernel events into a cache of the links) -> [`flag`] (the atomic "changed"
//! flag) -> [`component`] (AMF: the healthcheck queues a sync) -> [`sync`] (the links changed
//! since the last sync, from the monitor's cache, [`diff`] against
//! the [`model`] in IMM, writes through [`osaf`]). [`config`] reads flags and environment,
//! [`once`], [`purge`] and `sim_mode` are the `--once`, `--purge` and `--sim` modes, [`sys`] holds the few OS calls.
//!
//! `unsafe` is refused everywhere except the FFI modules: [`osaf`] (the AIS C API), [`sys`]
//! and `netlink::socket` (libc).

#![deny(unsafe_code)]

pub mod component;
pub mod config;
pub mod diff;
pub mod flag;
pub mod identity;
pub mod membership;
pub mod model;
pub mod netlink;
pub mod once;
#[allow(unsafe_code)]
pub mod osaf;
pub mod purge;
#[cfg(feature = "sim")]
pub mod sim_mode;
pub mod sync;
#[allow(unsafe_code)]
pub mod sys;
#[cfg(all(test, feature = "sim"))]
mod test_sim;
