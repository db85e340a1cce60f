//! The AMF side: register, answer healthchecks at once, follow CSI assignments, terminate.
//!
//! One thread polls the AMF selection fd, a signal fd and a doorbell. The healthcheck
//! callback only reads atomics and, when the change flag is set, queues a sync for the
//! worker: it never touches IMM or netlink, so it cannot be held up by either.
//!
//! - `health`: [`Health::assess`], the healthcheck's decision;
//! - `assignments`: `Assignments`, the HA state of each CSI;
//! - `callbacks`: `AmfCallbacks`, the answers to AMF's callbacks;
//! - this file: [`run`], start-up, the AMF thread's loop and shutdown.

mod assignments;
mod callbacks;
mod health;

use std::os::fd::{AsFd, AsRawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opensaf_sys::{Apis, SaDispatchFlagsT};

use crate::config::Config;
use crate::flag::ChangeFlag;
use crate::netlink::{Monitor, MonitorOptions};
use crate::osaf::{Amf, Recovery, RetryPolicy};
use crate::sync::{clm_connect, MembershipSettings, NodeSpec, ReportFn, SyncHandle, SyncSettings};

use crate::sys::{poll, Doorbell, Signals};
use callbacks::AmfCallbacks;
pub use health::{Health, Verdict};

#[cfg(all(test, feature = "sim"))]
mod lifecycle_tests;
#[cfg(all(test, feature = "sim"))]
mod test_harness;

/// Extra behaviour for tests and the `--sim` mode.
#[derive(Default)]
pub struct Options {
    /// SIGUSR2 kills the netlink monitor thread (end-to-end test of the healthcheck's
    /// liveness check). Enabled by MACSYNC_TEST_HOOKS=1.
    pub test_hooks: bool,
    pub on_report: Option<ReportFn>,
}

/// How long a terminating component waits for the sync worker before leaving without it.
const STOP_GRACE: Duration = Duration::from_millis(500);
/// Initialize, register and healthcheck start must all fit in AMF's instantiate timeout
/// (10 s in the sample model), so their TRY_AGAIN retries share one budget.
const STARTUP_BUDGET: Duration = Duration::from_secs(8);
/// CLM calls are retried this long; the worker tries again a second later (CLM runs on the
/// worker thread, between syncs).
const CLM_POLICY: RetryPolicy = RetryPolicy {
    total: Duration::from_secs(1),
    interval: Duration::from_millis(100),
    max_interval: Duration::from_millis(500),
    busy_interval: Duration::from_millis(500),
    stop: None,
};

/// Runs the component until AMF terminates it or a signal asks it to stop. `signals` must
/// have been created before any thread was started (see [`Signals::new`]).
/// Errors are one line, for `macsync: <error>` and the log.
///
/// `cfg.node` may be empty: the sync worker then reads the node name from IMM (the AMF node
/// hosting this component's SU) before its first write, so registration never waits for
/// IMM.
pub fn run(cfg: &Config, apis: Apis, opts: Options, signals: Signals) -> Result<(), String> {
    let parent = cfg.parent()?;
    if !cfg.node.is_empty() {
        cfg.node_dns()?;
    }
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
    let deadline = Instant::now() + STARTUP_BUDGET;
    let startup = || RetryPolicy {
        total: deadline.saturating_duration_since(Instant::now()),
        ..policy.clone()
    };
    let amf = Amf::initialize(apis.amf, &startup()).map_err(|e| e.to_string())?;
    let comp = amf
        .component_name()
        .map_err(|e| format!("{e} (is SA_AMF_COMPONENT_NAME set? AMF sets it)"))?;
    let settings = SyncSettings {
        node: NodeSpec {
            explicit: cfg.node.clone(),
            component: comp.clone(),
            parent,
        },
        filter: cfg.filter.clone(),
        max_dn: cfg.max_dn(),
        policy: policy.clone(),
        on_report: opts.on_report,
        membership: Some(MembershipSettings {
            grace: cfg.depart_grace,
            stagger: cfg.depart_stagger,
            connect: clm_connect(apis, CLM_POLICY),
        }),
    };
    let sync = SyncHandle::spawn(settings, apis, flag.clone(), monitor.clone(), wake.clone())
        .map_err(|e| format!("sync worker: {e}"))?;
    let status = sync.status.clone();
    amf.register(&comp, &startup()).map_err(|e| e.to_string())?;
    amf.healthcheck_start(
        &comp,
        &cfg.healthcheck_key,
        Recovery::COMPONENT_RESTART,
        &startup(),
    )
    .map_err(|e| format!("{e} (healthcheck key '{}')", cfg.healthcheck_key))?;
    log::info!("registered {comp}");
    let amf_fd = amf.selection_fd().map_err(|e| e.to_string())?;

    let health = Health {
        flag,
        monitor,
        status: status.clone(),
        stuck_bound: cfg.sync_stuck,
    };
    let mut callbacks = AmfCallbacks::new(health, sync);
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
            if let Err(e) = amf.dispatch(SaDispatchFlagsT::SA_DISPATCH_ALL, &mut callbacks) {
                break Err(e.to_string());
            }
            if callbacks.terminating {
                break Ok(());
            }
        }
        if ready[1] {
            match signals.next() {
                Some(libc::SIGUSR2) if opts.test_hooks => {
                    log::warn!("test hook: killing the netlink monitor thread");
                    callbacks.health.monitor.kill_for_test();
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
        timeout = callbacks.answer_overdue();
    };
    callbacks.sync.stop(STOP_GRACE);
    if let Err(e) = amf.finalize() {
        log::warn!("{e}");
    }
    outcome
}
