//! The AMF side: register, answer healthchecks at once, follow CSI assignments, terminate.
//!
//! One thread polls the AMF selection fd, a signal fd and a doorbell. The healthcheck
//! callback only reads atomics and, when the change flag is set, queues a sync for the
//! worker: it never touches IMM or netlink, so it cannot be held up by either.

use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use opensaf_sys::{Apis, SaAmfCSIFlagsT, SaDispatchFlagsT};

use crate::config::Config;
use crate::flag::ChangeFlag;
use crate::model;
use crate::netlink::{Monitor, MonitorOptions};
use crate::osaf::{
    AisCode, Amf, AmfHandler, AmfResponder, CsiDescriptor, Dn, HaState, Invocation, Recovery,
    RetryPolicy,
};
use crate::sync::{ReportFn, Request, Status, SyncHandle, SyncSettings};
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
    SyncStuck,
}

impl Health {
    pub fn assess(&self) -> Verdict {
        if !self.monitor.is_alive() {
            Verdict::MonitorDead
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
}

impl AmfSide {
    fn deactivate(&self, amf: &AmfResponder, inv: Invocation, quiescing: bool) {
        // Stop writes now; the worker answers AMF once its current write has returned.
        self.status.active.store(false, Ordering::Release);
        self.sync.request(Request::Deactivate {
            amf: *amf,
            inv,
            quiescing,
        });
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
        match ha {
            HaState::Active => {
                self.status.active.store(true, Ordering::Release);
                self.sync.request(Request::Activate);
                answer(amf, inv, AisCode::OK);
            }
            HaState::Standby => {
                self.status.active.store(false, Ordering::Release);
                answer(amf, inv, AisCode::OK);
            }
            HaState::Quiesced => self.deactivate(amf, inv, false),
            HaState::Quiescing => self.deactivate(amf, inv, true),
            HaState::Other(n) => {
                log::error!("unknown HA state {n}");
                answer(amf, inv, AisCode::FAILED_OPERATION);
            }
        }
    }

    fn csi_remove(
        &mut self,
        amf: &AmfResponder,
        inv: Invocation,
        csi: Option<&str>,
        _flags: SaAmfCSIFlagsT,
    ) {
        log::info!("CSI remove ({})", csi.unwrap_or("all CSIs"));
        self.deactivate(amf, inv, false);
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
    let parent = cfg
        .parent_dn
        .as_deref()
        .map(|p| Dn::parse(p, max))
        .transpose()
        .map_err(|e| format!("--parent-dn: {e}"))?;
    let node_dn =
        model::node_dn(&cfg.node, parent.as_ref(), max).map_err(|e| format!("node name: {e}"))?;
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

    let amf = Amf::initialize(apis.amf, &policy).map_err(|e| e.to_string())?;
    let comp = amf
        .component_name()
        .map_err(|e| format!("{e} (is SA_AMF_COMPONENT_NAME set? AMF sets it)"))?;
    amf.register(&comp, &policy).map_err(|e| e.to_string())?;
    amf.healthcheck_start(&comp, &cfg.healthcheck_key, Recovery::COMPONENT_RESTART)
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
    };
    let fds = [
        amf_fd,
        signals.as_fd().as_raw_fd(),
        wake.as_fd().as_raw_fd(),
    ];
    let outcome = loop {
        let ready = match poll(&fds, -1) {
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
    };
    side.sync.stop(STOP_GRACE);
    drop(amf);
    outcome
}
