//! The worker thread: waits on its doorbell and the OI descriptor, runs one sync per
//! request (links from the monitor's cache, diff, writes) with its BAD_HANDLE / TIMEOUT
//! retries, answers deactivations once the writes have stopped (and the node object says
//! STOPPED), and serves the "resync" admin operation. It starts once its node is known
//! ([`super::identity`]). `stop_and_membership`: the STOPPED write (or the implementer name
//! let go) before a deactivation is answered, and cluster membership between syncs.

use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;

use super::batch::{Batch, Naming};
use super::counters::NodeCounters;
use super::imm_session::{Applied, ImmSession};
use super::membership_task::MembershipTask;
use super::{NodeTarget, Refused, Request, Status, SyncError, SyncReport, SyncSettings};
use crate::diff::{diff, diff_incremental, Change};
use crate::flag::{ChangeFlag, Pending};
use crate::netlink::Monitor;
use crate::osaf::{AisCode, AttrValue, Error, Invocation, OiHandler, OiResponder};
use crate::sys::{poll, Doorbell};
use opensaf_sys::Apis;

mod stop_and_membership;

/// Admin operation id that asks for a full resync (`immadm -o 1 <node DN>`).
pub const ADMIN_OP_RESYNC: u64 = 1;
/// How long the admin operation "resync" waits for the monitor's new dump.
const RESEED_WAIT: Duration = Duration::from_secs(5);

/// Where the AMF thread's requests arrive.
pub(super) struct Inbox {
    pub rx: Receiver<Request>,
    pub bell: Arc<Doorbell>,
}

/// What the worker shares with the rest of the component, made before its thread starts.
pub(super) struct Parts {
    pub flag: Arc<ChangeFlag>,
    pub monitor: Arc<Monitor>,
    pub status: Arc<Status>,
    pub inbox: Inbox,
    pub wake_main: Arc<Doorbell>,
}

pub(super) struct Worker {
    settings: SyncSettings,
    /// The node object and implementer name, resolved before the worker starts.
    target: NodeTarget,
    membership: Option<MembershipTask>,
    flag: Arc<ChangeFlag>,
    monitor: Arc<Monitor>,
    /// The links of the current sync, taken from the monitor's cache.
    batch: Batch,
    session: ImmSession,
    counters: NodeCounters,
    status: Arc<Status>,
    inbox: Inbox,
    wake_main: Arc<Doorbell>,
}

/// Collects admin operations during dispatch; they are served after it returns.
#[derive(Default)]
struct AdminOps(Vec<(OiResponder, Invocation, String, u64)>);

impl OiHandler for AdminOps {
    fn admin_operation(
        &mut self,
        oi: &OiResponder,
        inv: Invocation,
        object: &str,
        op: u64,
        _params: &[(String, AttrValue)],
    ) {
        self.0.push((*oi, inv, object.to_string(), op));
    }
}

impl Worker {
    pub fn new(mut settings: SyncSettings, target: NodeTarget, apis: Apis, parts: Parts) -> Worker {
        let session = ImmSession::new(apis, target.clone(), settings.policy.clone(), true);
        let membership = settings.membership.take().map(|m| {
            let me = target.node_dn.rdn_value();
            let (parent, max, policy) = (target.parent.clone(), settings.max_dn, &settings.policy);
            MembershipTask::new(m, &me, parent, max, apis, policy.clone())
        });
        let Parts {
            flag,
            monitor,
            status,
            inbox,
            wake_main,
        } = parts;
        Worker {
            settings,
            target,
            membership,
            flag,
            batch: Batch::new(monitor.cache().clone()),
            monitor,
            session,
            counters: NodeCounters::default(),
            status,
            inbox,
            wake_main,
        }
    }

    /// `sync_due`: an activation or sync request came while the node was being resolved.
    pub fn run(&mut self, sync_due: bool) {
        if sync_due {
            self.sync(true);
        }
        loop {
            let mut fds = vec![self.inbox.bell.as_fd().as_raw_fd()];
            let oi_fd = self.session.selection_fd();
            fds.extend(oi_fd);
            let clm_fd = self.membership.as_ref().and_then(MembershipTask::fd);
            fds.extend(clm_fd);
            let ready = match poll(&fds, self.membership_timeout()) {
                Ok(r) => r,
                Err(e) => {
                    // A dead OI descriptor (e.g. after BAD_HANDLE): the next sync makes
                    // new handles.
                    log::warn!("sync worker poll: {e}");
                    self.session.handle_lost();
                    self.flag.raise_resync();
                    continue;
                }
            };
            let oi_ready = oi_fd.is_some() && ready[1];
            let clm_ready = clm_fd.is_some() && ready[fds.len() - 1];
            if ready[0] {
                self.inbox.bell.drain();
                while let Ok(req) = self.inbox.rx.try_recv() {
                    match req {
                        Request::Stop => {
                            self.withdraw(None);
                            return;
                        }
                        Request::Sync => {
                            self.status.sync_queued.store(false, Ordering::Release);
                            self.sync(false);
                        }
                        Request::Activate => {
                            self.sync(true);
                        }
                        Request::Deactivate { answer } => {
                            // The running sync (if any) has returned: STOPPED is the last
                            // write before the answer.
                            self.withdraw(Some(&answer));
                            answer.answer();
                        }
                    }
                }
            }
            if oi_ready {
                self.serve_admin_ops();
            }
            self.follow_membership(clm_ready);
        }
    }

    fn serve_admin_ops(&mut self) {
        let mut ops = AdminOps::default();
        if let Err(e) = self.session.dispatch(&mut ops) {
            log::warn!("{e}");
            if e.is_bad_handle() {
                // IMM restarted: the implementer name went with the handle. Re-establish
                // it (and re-read IMM) at once, not at the next kernel change.
                self.session.handle_lost();
                self.flag.raise_resync();
                self.sync(true);
            }
        }
        let node_dn = self.target.node_dn.clone();
        for (oi, inv, object, op) in ops.0 {
            let result = if object != node_dn.as_str() || op != ADMIN_OP_RESYNC {
                log::warn!("admin operation {op} on {object}: not supported");
                AisCode::NOT_SUPPORTED
            } else if !self.status.active.load(Ordering::Acquire) {
                AisCode::FAILED_OPERATION
            } else {
                log::info!("admin operation: resync requested");
                // Nothing is trusted: a new dump for the monitor's cache, IMM read again.
                // A deactivation meanwhile is answered by this thread, not the AMF thread's
                // fallback: the wait ends with it.
                let halt = &self.status.halt;
                let reseeded = self
                    .monitor
                    .reseed_unless(RESEED_WAIT, || halt.load(Ordering::Acquire));
                self.flag.raise_resync();
                self.session.forget_view();
                if !reseeded {
                    log::warn!(
                        "admin operation: no new link dump within {RESEED_WAIT:?} (or deactivated)"
                    );
                    AisCode::FAILED_OPERATION
                } else if self.sync(true) {
                    AisCode::OK
                } else {
                    AisCode::FAILED_OPERATION
                }
            };
            if let Err(e) = oi.admin_result(inv, result) {
                log::warn!("{e}");
            }
        }
    }

    /// Runs one sync if the flag is raised (or `force`) and the component is active.
    /// Returns whether IMM now matches the kernel.
    ///
    /// The flag is taken first, then the links from the cache (crate::flag); a failure puts
    /// both back. A full sync (a resync is pending, or the view must be read from IMM) takes
    /// every link, an incremental one only those that changed.
    fn sync(&mut self, force: bool) -> bool {
        if !self.status.active.load(Ordering::Acquire) {
            return false;
        }
        if self
            .membership
            .as_ref()
            .is_some_and(MembershipTask::out_of_cluster)
        {
            // IMM is cut off from this node; the flag stays raised for its return.
            return false;
        }
        let pending = match self.flag.take() {
            Some(p) => p,
            None if force => Pending { resync: true },
            None => return true,
        };
        let full = pending.resync || !self.session.view_known();
        if let Err(e) = self.batch.take(full) {
            // The monitor lost notifications and has not re-seeded yet; its seed raises the
            // flag again. Until then the cache cannot be trusted, whatever this sync was.
            log::debug!("sync deferred: {e}");
            self.flag.restore(Pending { resync: true });
            return false;
        }
        self.status.set_busy(true);
        let start = Instant::now();
        let mut result = self.attempt();
        // BAD_HANDLE (IMM restarted) and TIMEOUT (outcome unknown) are answered by
        // re-reading IMM and trying again, at most twice.
        for _ in 0..2 {
            if !self.status.active.load(Ordering::Acquire) {
                break;
            }
            match &result {
                Err(SyncError::Imm(e)) if e.is_bad_handle() => {
                    log::warn!("{e}: new IMM handles, implementer set again, view re-read");
                    self.session.handle_lost();
                }
                Err(SyncError::Imm(e)) if e.code() == Some(AisCode::TIMEOUT) => {
                    log::warn!("{e}: outcome unknown, re-reading IMM");
                    self.session.forget_view();
                }
                _ => break,
            }
            result = self.attempt();
        }
        self.status.set_busy(false);
        match result {
            Ok(mut report) => {
                report.took = start.elapsed();
                for r in &report.refused {
                    log::warn!("link not mirrored: {r}");
                }
                self.status.syncs.fetch_add(1, Ordering::Relaxed);
                if report.writes > 0 || self.batch.is_full() {
                    let n = self.batch.len();
                    log::info!(
                        "{} sync, {n} link{}: {} created, {} updated, {} deleted, {} not mirrored, {} objects, {} IMM writes in {:?}",
                        if self.batch.is_full() { "full" } else { "incremental" },
                        if n == 1 { "" } else { "s" },
                        report.created.len(),
                        report.updated.len(),
                        report.deleted.len(),
                        report.refused.len(),
                        self.session.known_objects().map_or(0, |v| v.len()),
                        report.writes,
                        report.took
                    );
                    if let Some(cb) = &self.settings.on_report {
                        cb(&report);
                    }
                }
                true
            }
            Err(e) => {
                self.batch.put_back();
                self.flag.restore(Pending {
                    resync: pending.resync || self.batch.is_full(),
                });
                match e {
                    SyncError::Fatal(msg) => {
                        log::error!("{msg}");
                        *self.status.fatal.lock().unwrap_or_else(|p| p.into_inner()) = Some(msg);
                        self.wake_main.ring();
                    }
                    SyncError::Deactivated | SyncError::Imm(Error::Cancelled(_)) => {
                        log::info!("sync stopped: {e}")
                    }
                    SyncError::NotSeeded(e) => log::debug!("sync deferred: {e}"),
                    e => {
                        self.status.failed_syncs.fetch_add(1, Ordering::Relaxed);
                        log::warn!("sync failed, will retry at the next healthcheck: {e}")
                    }
                }
                false
            }
        }
    }

    /// One try at the batch. A full sync also writes the node object's counters when no
    /// interface object changed.
    fn attempt(&mut self) -> Result<SyncReport, SyncError> {
        if let Some(found) = self.session.ensure_node(!self.counters.loaded())? {
            self.counters.adopt(found, self.monitor.stats());
        }
        if !self.batch.is_full() && !self.session.view_known() {
            self.batch.widen().map_err(SyncError::NotSeeded)?;
        }
        let s = &self.settings;
        let naming = Naming {
            filter: &s.filter,
            node: &self.target.node_dn,
            max_dn: s.max_dn,
        };
        let (changes, refused) = if self.batch.is_full() {
            let (want, refused) = self.batch.desired(&naming);
            (diff(self.session.view()?.objects(), &want), refused)
        } else {
            let (wanted, refused) = self.batch.wanted(&naming);
            (diff_incremental(self.session.view()?, &wanted), refused)
        };
        let mut report = SyncReport {
            refused,
            ..Default::default()
        };
        for ch in changes {
            if !self.status.active.load(Ordering::Acquire) {
                return Err(SyncError::Deactivated);
            }
            let written = match self.session.apply(&ch)? {
                Applied::Written(writes) => {
                    report.writes += writes;
                    ch
                }
                Applied::Refused { error, deleted } => {
                    // The delete of whatever IMM held for the DN.
                    report.writes += 1;
                    let dn = ch.dn().clone();
                    report.refused.push(Refused::Imm {
                        dn: dn.clone(),
                        error,
                    });
                    if !deleted {
                        continue;
                    }
                    Change::Delete(dn)
                }
            };
            self.counters.count(&written);
            report.record(written);
        }
        self.counters.sync_done();
        if report.writes > 0 || self.batch.is_full() || !self.session.is_live() {
            let attrs = self.counters.attrs(&self.monitor.stats());
            self.session.update_node(&attrs)?;
        }
        if self.settings.on_report.is_some() {
            // Only the --sim display lists every object; don't copy 10 000 entries otherwise.
            report.objects = self.session.known_objects().cloned().unwrap_or_default();
        }
        Ok(report)
    }
}

#[cfg(all(test, feature = "sim"))]
#[path = "worker_tests.rs"]
mod tests;
