//! Acting for nodes that left the cluster, so IMM never presents a departed node's links as
//! current for longer than a known bound.
//!
//! A node's objects stay in IMM when the node dies (runtime objects outlive their
//! implementer). What IMM shows of them then (measured on OpenSAF 5.21.03): the last values,
//! implementer name included, for 6 s after IMM detached the implementer (at once when a
//! process dies, a few seconds after a node dies), then `<Empty>` for every attribute.
//! The node object's `mirrorState` ([`crate::model::MirrorState`]) says whether the objects
//! are current: LIVE only while the node's own macsync maintains them.
//!
//! When a node leaves the CLM cluster, one surviving macsync "acts for" it: takes its
//! implementer name `macsync-<node>`, deletes its interface objects, writes `mirrorState` =
//! DEPARTED (with the time and its own node name) and keeps holding the name, so the mark
//! stays readable, until the node rejoins (then its own macsync takes the name over) or the
//! survivor stops, leaves the cluster or loses track of membership (then the node object
//! reads `<Empty>` again and the next survivor to read IMM marks it again). Only CLM
//! departure leads there: a macsync restart changes no membership, so it deletes nothing,
//! and a controller failover deletes nothing of the nodes that stay members (the controller
//! that went down left CLM, and is acted for like any departed node).
//!
//! [`Planner`] decides when, from CLM membership, what IMM holds and the time; it makes no
//! IMM or CLM call. [`act::Acting`] makes the attempts on the IMM side.
//!
//! Who acts: every survivor sees the same departure; the members, sorted by name, each get
//! a rank r (their position), and the survivor of rank r acts `grace + r * stagger` after the
//! departure (defaults 5 s and 3 s), re-checking first. Two acting at once is still safe:
//! the implementer name is a mutex (EXIST: someone else holds it, try again 100 ms later)
//! and every step is idempotent (a missing object is already deleted). IMM frees a dead
//! node's implementer name only when it has noticed the death (within ~10 s measured on a
//! 3-node cluster), so the first survivor may wait for that.
//!
//! The bound a reader gets: a node whose macsync died reads as not current once IMM shows
//! its node object `<Empty>` (6 s after a process died; within ~10 s of a node's death); the
//! interface objects are gone and the node object says DEPARTED within
//! `grace + 10 s + r * stagger` of a departure, r being the rank of the first survivor that
//! runs macsync (0 when every member does).

pub mod act;
mod plan;

pub use plan::{Due, Outcome, Planner, Settings};

#[cfg(test)]
mod tests;
