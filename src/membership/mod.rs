//! Acting for nodes that left the cluster, so IMM never presents a departed node's links as
//! current for longer than a known bound.
//!
//! A node's objects stay in IMM when the node dies (runtime objects outlive their
//! implementer). Its node object says whether they are current (`mirrorState`, see
//! [`crate::model::MirrorState`]), and when a node leaves the CLM cluster one surviving
//! macsync "acts for" it: takes its implementer name `macsync-<node>`, deletes its interface
//! objects, writes `mirrorState` = DEPARTED (with the time and its own node name) and
//! releases the name. Only CLM departure leads there: a macsync restart or a controller
//! failover changes no membership, so it deletes nothing.
//!
//! [`Planner`] decides when, from CLM membership, what IMM holds and the time; it makes no
//! IMM or CLM call. [`act::act_for_departed`] is one attempt of the IMM side.
//!
//! Who acts: every survivor sees the same departure; the members, sorted by name, each get
//! a rank r (their position), and the survivor of rank r acts `grace + r * stagger` after the
//! departure (defaults 5 s and 3 s), re-checking first. Two acting at once is still safe:
//! the implementer name is a mutex (EXIST: someone else holds it, try again 100 ms later)
//! and every step is idempotent (a missing object is already deleted). IMM releases a dead
//! node's implementer name only some 10 s after it died, so the first survivor usually
//! waits for that.
//!
//! The bound a reader gets: the mirror of a node whose macsync died is visibly not current
//! as soon as IMM detaches the implementer (at once for a killed process, within ~10 s for
//! a dead node); the interface objects are gone and the node object says DEPARTED within
//! `grace + 10 s + r * stagger` of the departure, r being the rank of the first survivor
//! that runs macsync (0 when every member does).

pub mod act;
mod plan;

pub use plan::{Due, Outcome, Planner, Settings};

#[cfg(test)]
mod tests;
