//! Netlink (rtnetlink) access to the kernel's link table: a monitor thread that keeps a cache
//! of the links from the kernel's notifications, shares it with the sync worker and raises
//! the shared [`ChangeFlag`](crate::flag::ChangeFlag) when links change; full snapshots.
//!
//! - [`wire`]: zero-copy, bounds-checked parsing of netlink messages and attributes.
//! - [`dump`]: parsing of RTM_GETLINK dump datagrams ([`parse_dump`]).
//! - [`socket`]: the libc wrapper (the only `unsafe` code) and the request socket.
//! - [`error`]: [`NetlinkError`], what a request (dump or RTM_SETLINK) can fail with.
//! - [`snapshot`]: [`Snapshotter`], full dumps on a dedicated socket.
//! - [`link`]: [`Link`] (a dump's) and [`LinkState`] (the cache's, fixed-size).
//! - [`cache`]: the monitor's ifindex -> (name, MAC, type, operstate) view, its change rule,
//!   and the set of links changed since the sync worker last took them.
//! - [`shared_cache`]: [`SharedCache`], that cache behind a lock, shared with the worker.
//! - [`monitor`]: the [`Monitor`] thread; the only place that dumps the table.
//! - [`filter`]: [`LinkFilter`], which links are mirrored.
//! - [`setlink`]: [`LinkSetter`], setting a MAC via RTM_SETLINK (benchmarks, tests).

pub mod cache;
pub mod dump;
pub mod error;
pub mod filter;
pub mod link;
pub mod monitor;
pub mod setlink;
pub mod shared_cache;
pub mod snapshot;
#[allow(unsafe_code)]
pub mod socket;
pub mod wire;

pub use cache::NotSeeded;
pub use dump::{parse_dump, parse_dump_seq, DumpProgress};
pub use error::NetlinkError;
pub use filter::{glob_match, LinkFilter};
pub use link::{mac_to_string, Link, LinkState};
pub use monitor::{Monitor, MonitorOptions, MonitorStats, DEFAULT_RCVBUF};
pub use setlink::LinkSetter;
pub use shared_cache::SharedCache;
pub use snapshot::Snapshotter;
pub use wire::{KernelError, ParseError, ParseErrorKind};
