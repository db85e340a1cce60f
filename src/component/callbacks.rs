//! The AMF callbacks: healthchecks answered at once, CSI assignments followed (writes
//! start with the first ACTIVE CSI and stop with the last), terminate.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use opensaf_sys::SaAmfCSIFlagsT;

use super::assignments::Assignments;
use super::health::{Health, Verdict};
use crate::osaf::{AisCode, AmfHandler, AmfResponder, CsiDescriptor, HaState, Invocation};
use crate::sync::{CsiAnswer, Request, Status, SyncHandle};

/// A deactivating CSI callback is answered by the worker once it has stopped writing; if an
/// IMM call keeps it longer than this, the AMF thread answers (AMF's callback timeout is
/// typically 10 s, and a blocked IMM call can last that long by itself).
const CSI_ANSWER_WITHIN: Duration = Duration::from_secs(3);

/// The component's answers to AMF's callbacks, and what they keep between callbacks.
pub(crate) struct AmfCallbacks {
    pub health: Health,
    pub sync: SyncHandle,
    status: Arc<Status>,
    /// AMF asked the component to terminate (answered already).
    pub terminating: bool,
    /// Deactivations the worker has not answered yet, with the time the AMF thread takes over.
    unanswered: Vec<(Instant, Arc<CsiAnswer>)>,
    assignments: Assignments,
}

impl AmfCallbacks {
    pub fn new(health: Health, sync: SyncHandle) -> AmfCallbacks {
        AmfCallbacks {
            health,
            status: sync.status.clone(),
            sync,
            terminating: false,
            unanswered: Vec::new(),
            assignments: Assignments::default(),
        }
    }

    /// IMM is written while any CSI is ACTIVE. Becoming active is answered at once; ceasing
    /// to be active is answered once the writes have stopped.
    fn follow_assignments(&mut self, amf: &AmfResponder, inv: Invocation, quiescing: bool) {
        if self.assignments.any_active() {
            if !self.status.active.load(Ordering::Acquire) {
                self.status.halt.store(false, Ordering::Release);
                self.status.active.store(true, Ordering::Release);
                self.sync.request(Request::Activate);
            }
            answer(amf, inv, AisCode::OK);
            if quiescing {
                // Another CSI stays ACTIVE: this one has nothing left to quiesce.
                if let Err(e) = amf.quiescing_complete(inv, AisCode::OK) {
                    log::error!("{e}");
                }
            }
        } else {
            self.deactivate(amf, inv, quiescing);
        }
    }

    fn deactivate(&mut self, amf: &AmfResponder, inv: Invocation, quiescing: bool) {
        // Stop writes now; the worker answers once its current IMM call has returned.
        self.status.active.store(false, Ordering::Release);
        self.status.halt.store(true, Ordering::Release);
        let due = Instant::now() + CSI_ANSWER_WITHIN;
        let answer = Arc::new(CsiAnswer::new(*amf, inv, quiescing, due));
        self.unanswered.push((due, answer.clone()));
        self.sync.request(Request::Deactivate { answer });
    }

    /// Answers overdue deactivations; returns the poll timeout until the next one is due.
    pub fn answer_overdue(&mut self) -> i32 {
        if self.unanswered.is_empty() {
            // The common case, at every healthcheck: no clock read.
            return -1;
        }
        let now = Instant::now();
        self.unanswered.retain(|(due, a)| {
            if *due > now {
                return true;
            }
            if a.answer() {
                log::warn!("an IMM call is still running: answered AMF before it returned");
            }
            false
        });
        self.unanswered
            .iter()
            .map(|(due, _)| due.saturating_duration_since(now).as_millis() as i32 + 1)
            .min()
            .unwrap_or(-1)
    }
}

impl AmfHandler for AmfCallbacks {
    fn healthcheck(&mut self, amf: &AmfResponder, inv: Invocation, _key: &[u8]) {
        let verdict = self.health.assess();
        let answer = match verdict {
            Verdict::Healthy { .. } => AisCode::OK,
            _ => AisCode::FAILED_OPERATION,
        };
        if let Err(e) = amf.response(inv, answer) {
            log::error!("healthcheck answer: {e}");
        }
        match verdict {
            Verdict::Healthy { sync: true } => self.sync.request_sync(),
            Verdict::Healthy { sync: false } => {}
            Verdict::MonitorDead => {
                log::error!("healthcheck failed: the netlink monitor thread is dead")
            }
            Verdict::WorkerDead => {
                log::error!("healthcheck failed: the sync worker thread is dead")
            }
            Verdict::SyncStuck => {
                log::error!(
                    "healthcheck failed: a sync has run longer than {:?}",
                    self.health.stuck_bound
                )
            }
        }
    }

    fn csi_set(&mut self, amf: &AmfResponder, inv: Invocation, ha: HaState, csi: &CsiDescriptor) {
        log::info!(
            "CSI set {ha:?} ({})",
            csi.name.as_deref().unwrap_or("all CSIs")
        );
        if let HaState::Other(n) = ha {
            log::error!("unknown HA state {n}");
            answer(amf, inv, AisCode::FAILED_OPERATION);
            return;
        }
        self.assignments.set(csi.name.as_deref(), ha);
        self.follow_assignments(amf, inv, ha == HaState::Quiescing);
    }

    fn csi_remove(
        &mut self,
        amf: &AmfResponder,
        inv: Invocation,
        csi: Option<&str>,
        _flags: SaAmfCSIFlagsT,
    ) {
        log::info!("CSI remove ({})", csi.unwrap_or("all CSIs"));
        self.assignments.remove(csi);
        self.follow_assignments(amf, inv, false);
    }

    fn terminate(&mut self, amf: &AmfResponder, inv: Invocation) {
        log::info!("terminate requested by AMF");
        answer(amf, inv, AisCode::OK);
        self.terminating = true;
    }
}

fn answer(amf: &AmfResponder, inv: Invocation, code: AisCode) {
    if let Err(e) = amf.response(inv, code) {
        log::error!("{e}");
    }
}

#[cfg(all(test, feature = "sim"))]
#[path = "callbacks_tests.rs"]
mod tests;
