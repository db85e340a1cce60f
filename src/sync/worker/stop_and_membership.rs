//! The worker between syncs: the writes stopping on purpose (the node object says STOPPED
//! before a deactivation is answered, or the implementer name is let go), and cluster
//! membership (acting for departed nodes, a full sync when this node comes back).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::Worker;
use crate::sync::membership_task::Turn;
use crate::sync::CsiAnswer;

/// The STOPPED write before a deactivation is answered is made only with at least this
/// much time left before the AMF thread answers instead (one IMM call, typically < 1 ms,
/// up to an IMM timeout when IMM hangs).
const STOPPED_WRITE_MIN: Duration = Duration::from_millis(500);

impl Worker {
    /// The writes stop on purpose (a deactivation, `answer`, or the worker stopping): the
    /// node object says STOPPED, in one IMM call without retries, made only while the AMF
    /// thread's own answer is at least [`STOPPED_WRITE_MIN`] away. When it cannot be
    /// written, the implementer name is let go instead, so IMM shows the objects detached
    /// (not current) rather than LIVE. Also before the first sync is done (the name held,
    /// the object saying 0), so a locked node never reads as maintained.
    pub(super) fn withdraw(&mut self, answer: Option<&CsiAnswer>) {
        if !self.session.stop_due() {
            return;
        }
        let in_time = answer.is_none_or(|a| {
            !a.is_answered() && a.due.saturating_duration_since(Instant::now()) >= STOPPED_WRITE_MIN
        });
        let why = if in_time {
            match self.session.write_stopped() {
                Ok(()) => return,
                Err(e) => e.to_string(),
            }
        } else {
            "too late: AMF is answered without it".to_string()
        };
        log::warn!(
            "{}: mirrorState STOPPED not written ({why}); letting go of the implementer name",
            self.target.node_dn
        );
        self.session.handle_lost();
    }

    /// Cluster membership and acting for departed nodes, after every wake-up.
    pub(super) fn follow_membership(&mut self, ready: bool) {
        let active = self.status.active.load(Ordering::Acquire);
        let Some(m) = self.membership.as_mut() else {
            return;
        };
        if m.run(ready, active) == Turn::Back {
            // Another node may have acted for this one meanwhile.
            self.session.forget_view();
            self.flag.raise_resync();
            self.sync(true);
        }
    }

    /// The poll timeout (ms) until membership has something due; -1: none.
    pub(super) fn membership_timeout(&self) -> i32 {
        let active = self.status.active.load(Ordering::Acquire);
        match self.membership.as_ref().and_then(|m| m.due(active)) {
            None => -1,
            Some(t) => {
                t.saturating_duration_since(Instant::now())
                    .as_millis()
                    .min(60_000) as i32
                    + 1
            }
        }
    }
}

#[cfg(all(test, feature = "sim"))]
#[path = "stop_and_membership_tests.rs"]
mod tests;
