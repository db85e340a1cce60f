//! Netlink (rtnetlink) access to the kernel's link table: a monitor thread that raises the
//! shared [`ChangeFlag`](crate::flag::ChangeFlag) when links change, and full snapshots.
//!
//! - [`wire`]: zero-copy, bounds-checked parsing of netlink messages and attributes.
//! - [`dump`]: parsing of RTM_GETLINK dump datagrams ([`parse_dump`]).
//! - [`socket`]: the libc wrapper (the only `unsafe` code).
//! - [`snapshot`]: [`Snapshotter`], full dumps on a dedicated socket.
//! - [`cache`]: the monitor's ifindex -> (name, MAC) view and its change rule.
//! - [`monitor`]: the [`Monitor`] thread.
//! - [`filter`]: [`LinkFilter`], which links are mirrored.
//! - [`control`]: [`LinkControl`], setting a MAC via RTM_SETLINK (benchmarks, tests).

pub mod cache;
pub mod control;
pub mod dump;
pub mod filter;
pub mod link;
pub mod monitor;
pub mod snapshot;
#[allow(unsafe_code)]
pub mod socket;
pub mod wire;

pub use control::LinkControl;
pub use dump::{parse_dump, parse_dump_seq, DumpProgress};
pub use filter::{glob_match, LinkFilter};
pub use link::{mac_to_string, Link};
pub use monitor::{Monitor, MonitorOptions, MonitorStats, DEFAULT_RCVBUF};
pub use snapshot::{SnapshotError, Snapshotter};
pub use wire::{KernelError, ParseError, ParseErrorKind};
