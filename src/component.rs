//! The AMF side: register, answer healthchecks at once, follow CSI assignments, terminate.
//!
//! One thread polls the AMF selection fd, a signal fd and a doorbell. The healthcheck
//! callback only reads atomics and, when the change flag is set, queues a sync for the
//! worker: it never touches IMM or netlink, so it cannot be held up by either.

use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use opensaf_sys::{Apis, SaAmfCSIFlagsT, SaDispatchFlagsT};

use crate::config::Config;
use crate::flag::ChangeFlag;
use crate::model;
use crate::netlink::{Monitor, MonitorOptions};
use crate::osaf::{
    AisCode, Amf, AmfHandler, AmfResponder, CsiDescriptor, HaState, Invocation, Recovery,
    RetryPolicy,
};
use crate::sync::{CsiAnswer, ReportFn, Request, Status, SyncHandle, SyncSettings};
use crate::sys::{poll, Doorbell, Signals};

/// Extra behaviour for tests and the demo.
#[derive(Default)]
pub struct Options {
    /// SIGUSR2 kills the netlink monitor thread (end-to-end test of the healthcheck's
    /// liveness check). Enabled by MACSYNC_TEST_HOOKS=1.
    pub test_hooks: bool,
    pub on_report: Option<ReportFn>,
}

/// How long a terminating component waits for the sync worker before leaving without it.
const STOP_GRACE: Duration = Duration::from_millis(500);
/// A deactivating CSI callback is answered by the worker once it has stopped writing; if an
/// IMM call keeps it longer than this, the AMF thread answers (AMF's callback timeout is
/// typically 10 s, and a blocked IMM call can last that long by itself).
const CSI_ANSWER_WITHIN: Duration = Duration::from_secs(3);
/// Initialize, register and healthcheck start must all fit in AMF's instantiate timeout
/// (10 s in the sample model), so their TRY_AGAIN retries share one budget.
const STARTUP_BUDGET: Duration = Duration::from_secs(8);

/// What the healthcheck callback looks at: a few atomic loads, nothing that can block.
pub struct Health {
    pub flag: Arc<ChangeFlag>,
    pub monitor: Arc<Monitor>,
    pub status: Arc<Status>,
    pub stuck_bound: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Answer OK; `sync`: a change is pending and IMM may be written.
    Healthy {
        sync: bool,
    },
    MonitorDead,
    WorkerDead,
    SyncStuck,
}

impl Health {
    pub fn assess(&self) -> Verdict {
        if !self.monitor.is_alive() {
            Verdict::MonitorDead
        } else if !self.status.worker_alive.load(Ordering::Relaxed) {
            Verdict::WorkerDead
        } else if self.status.stuck(self.stuck_bound) {
            Verdict::SyncStuck
        } else {
            Verdict::Healthy {
                sync: self.flag.needs_sync() && self.status.active.load(Ordering::Relaxed),
            }
        }
    }
}

struct AmfSide {
    health: Health,
    sync: SyncHandle,
    status: Arc<Status>,
    terminating: bool,
    /// Deactivations the worker has not answered yet, with the time the AMF thread takes over.
    unanswered: Vec<(Instant, Arc<CsiAnswer>)>,
    /// HA state per CSI ("" for one assigned with TARGET_ALL before any was named).
    csis: std::collections::BTreeMap<String, HaState>,
}

impl AmfSide {
    /// IMM is written while any CSI is ACTIVE. Becoming active is answered at once; ceasing
    /// to be active is answered once the writes have stopped.
    fn follow_assignments(&mut self, amf: &AmfResponder, inv: Invocation, quiescing: bool) {
        if self.csis.values().any(|s| *s == HaState::Active) {
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
        let answer = Arc::new(CsiAnswer::new(*amf, inv, quiescing));
        self.unanswered
            .push((Instant::now() + CSI_ANSWER_WITHIN, answer.clone()));
        self.sync.request(Request::Deactivate { answer });
    }

    /// Answers overdue deactivations; returns the poll timeout until the next one is due.
    fn answer_overdue(&mut self) -> i32 {
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

impl AmfHandler for AmfSide {
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
        match &csi.name {
            // TARGET_ALL: every CSI this component holds (or the one it is about to hold).
            None if self.csis.is_empty() => {
                self.csis.insert(String::new(), ha);
            }
            None => self.csis.values_mut().for_each(|s| *s = ha),
            Some(name) => {
                self.csis.insert(name.clone(), ha);
            }
        }
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
        match csi {
            None => self.csis.clear(),
            Some(name) => {
                self.csis.remove(name);
            }
        }
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

/// Runs the component until AMF terminates it or a signal asks it to stop. `signals` must
/// have been created before any thread was started (see [`Signals::new`]).
/// Errors are one line, for `macsync: <error>` and the log.
pub fn run(cfg: &Config, apis: Apis, opts: Options, signals: Signals) -> Result<(), String> {
    let max = cfg.max_dn();
    let (parent, node_dn) = cfg.node_dns()?;
    let flag = Arc::new(ChangeFlag::new_raised());
    let monitor = Arc::new(
        Monitor::spawn(flag.clone(), MonitorOptions::default())
            .map_err(|e| format!("netlink monitor: {e}"))?,
    );
    log::info!(
        "netlink monitor running, receive buffer {} bytes",
        monitor.stats().rcvbuf_effective
    );
    let wake = Arc::new(Doorbell::new().map_err(|e| format!("eventfd: {e}"))?);
    let policy = RetryPolicy::default();
    let settings = SyncSettings {
        node_dn: node_dn.clone(),
        parent,
        implementer: model::implementer_name(&cfg.node),
        filter: cfg.filter.clone(),
        max_dn: max,
        policy: policy.clone(),
        on_report: opts.on_report,
    };
    let sync = SyncHandle::spawn(settings, apis, flag.clone(), monitor.clone(), wake.clone())
        .map_err(|e| format!("sync worker: {e}"))?;
    let status = sync.status.clone();

    let deadline = Instant::now() + STARTUP_BUDGET;
    let startup = || RetryPolicy {
        total: deadline.saturating_duration_since(Instant::now()),
        ..policy.clone()
    };
    let amf = Amf::initialize(apis.amf, &startup()).map_err(|e| e.to_string())?;
    let comp = amf
        .component_name()
        .map_err(|e| format!("{e} (is SA_AMF_COMPONENT_NAME set? AMF sets it)"))?;
    amf.register(&comp, &startup()).map_err(|e| e.to_string())?;
    amf.healthcheck_start(
        &comp,
        &cfg.healthcheck_key,
        Recovery::COMPONENT_RESTART,
        &startup(),
    )
    .map_err(|e| format!("{e} (healthcheck key '{}')", cfg.healthcheck_key))?;
    log::info!("registered {comp}; node object {node_dn}");
    let amf_fd = amf.selection_fd().map_err(|e| e.to_string())?;

    let health = Health {
        flag,
        monitor,
        status: status.clone(),
        stuck_bound: cfg.sync_stuck,
    };
    let mut side = AmfSide {
        health,
        sync,
        status: status.clone(),
        terminating: false,
        unanswered: Vec::new(),
        csis: Default::default(),
    };
    let fds = [
        amf_fd,
        signals.as_fd().as_raw_fd(),
        wake.as_fd().as_raw_fd(),
    ];
    let mut timeout = -1;
    let outcome = loop {
        let ready = match poll(&fds, timeout) {
            Ok(r) => r,
            Err(e) => break Err(format!("poll: {e}")),
        };
        if ready[0] {
            if let Err(e) = amf.dispatch(SaDispatchFlagsT::SA_DISPATCH_ALL, &mut side) {
                break Err(e.to_string());
            }
            if side.terminating {
                break Ok(());
            }
        }
        if ready[1] {
            match signals.next() {
                Some(libc::SIGUSR2) if opts.test_hooks => {
                    log::warn!("test hook: killing the netlink monitor thread");
                    side.health.monitor.kill_for_test();
                }
                Some(libc::SIGUSR2) => {}
                Some(sig) => {
                    log::info!("signal {sig}: stopping");
                    break Ok(());
                }
                None => {}
            }
        }
        if ready[2] {
            wake.drain();
            if let Some(msg) = status
                .fatal
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
            {
                break Err(msg);
            }
        }
        // Wakes up only while a deactivation is unanswered; otherwise blocks for good.
        timeout = side.answer_overdue();
    };
    side.sync.stop(STOP_GRACE);
    if let Err(e) = amf.finalize() {
        log::warn!("{e}");
    }
    outcome
}
