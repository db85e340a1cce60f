//! The sync worker: the only thread that talks to IMM, so the AMF thread never waits on it.
//!
//! A sync clears the change flag *before* taking the snapshot and raises it again if
//! anything fails, so a change that lands during or after the snapshot is never lost. It
//! diffs the snapshot with its view of IMM and writes only the differences.

use std::collections::BTreeMap;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, Sender};

use crate::diff::{diff, Change};
use crate::flag::{ChangeFlag, Pending};
use crate::model::{self, Counters, IfRecord};
use crate::netlink::{LinkFilter, Monitor, MonitorStats, SnapshotError, Snapshotter};
use crate::osaf::{
    AisCode, AmfResponder, Attr, AttrValue, Dn, DnError, Error, ImmOi, ImmOm, Invocation,
    OiHandler, OiResponder, RetryPolicy, Scope,
};
use crate::sys::{poll, Doorbell};
use opensaf_sys::Apis;

/// Admin operation id that asks for a full resync (`immadm -o 1 <node DN>`).
pub const ADMIN_OP_RESYNC: u64 = 1;

/// What the AMF thread asks of the worker.
pub enum Request {
    /// The flag is raised: sync if active.
    Sync,
    /// An ACTIVE assignment arrived: IMM may be written.
    Activate,
    /// Stop writing, then answer AMF (QUIESCED / QUIESCING / STANDBY / CSI remove), unless
    /// the AMF thread already did.
    Deactivate {
        answer: Arc<CsiAnswer>,
    },
    Stop,
}

/// A CSI callback that must be answered exactly once: by the worker as soon as it has
/// stopped writing, or by the AMF thread when that takes too long (an IMM call can block
/// for 10 s, as long as AMF's whole callback timeout).
pub struct CsiAnswer {
    pub amf: AmfResponder,
    pub inv: Invocation,
    /// QUIESCING: answer, then saAmfCSIQuiescingComplete with the same invocation.
    pub quiescing: bool,
    answered: AtomicBool,
}

impl CsiAnswer {
    pub fn new(amf: AmfResponder, inv: Invocation, quiescing: bool) -> CsiAnswer {
        CsiAnswer {
            amf,
            inv,
            quiescing,
            answered: AtomicBool::new(false),
        }
    }

    /// Answers OK unless already answered; returns whether this call did.
    pub fn answer(&self) -> bool {
        if self.answered.swap(true, Ordering::AcqRel) {
            return false;
        }
        if let Err(e) = self.amf.response(self.inv, AisCode::OK) {
            log::error!("answering the CSI callback: {e}");
        }
        if self.quiescing {
            if let Err(e) = self.amf.quiescing_complete(self.inv, AisCode::OK) {
                log::error!("{e}");
            }
        }
        true
    }
}

/// State the AMF thread reads without waiting.
pub struct Status {
    start: Instant,
    /// Milliseconds since `start` + 1 when the running sync began; 0 when idle.
    busy_since: AtomicU64,
    pub active: AtomicBool,
    sync_queued: AtomicBool,
    /// Set by the worker on an error the component cannot recover from.
    pub fatal: Mutex<Option<String>>,
    /// "Stop writing now": set on deactivation and shutdown, cleared on activation. The
    /// worker's retry loops watch it, so a CSI answer never waits for IMM retries.
    pub halt: Arc<AtomicBool>,
    /// Cleared when the worker thread ends for any reason (a panic included).
    pub worker_alive: AtomicBool,
}

impl Default for Status {
    fn default() -> Self {
        Status::new()
    }
}

impl Status {
    pub fn new() -> Status {
        Status {
            start: Instant::now(),
            busy_since: AtomicU64::new(0),
            active: AtomicBool::new(false),
            sync_queued: AtomicBool::new(false),
            fatal: Mutex::new(None),
            halt: Arc::new(AtomicBool::new(false)),
            worker_alive: AtomicBool::new(true),
        }
    }

    /// A sync has been running longer than `bound`.
    pub fn stuck(&self, bound: Duration) -> bool {
        let since = self.busy_since.load(Ordering::Relaxed);
        since != 0 && self.start.elapsed().as_millis() as u64 + 1 - since > bound.as_millis() as u64
    }

    fn set_busy(&self, busy: bool) {
        let v = if busy {
            self.start.elapsed().as_millis() as u64 + 1
        } else {
            0
        };
        self.busy_since.store(v, Ordering::Relaxed);
    }
}

/// One sync's outcome, for logs and the `--sim` display.
#[derive(Debug, Default, Clone)]
pub struct SyncReport {
    pub created: Vec<(Dn, IfRecord)>,
    pub updated: Vec<(Dn, IfRecord)>,
    pub deleted: Vec<Dn>,
    /// Interface objects IMM holds afterwards (filled only when a report callback is set).
    pub objects: BTreeMap<Dn, IfRecord>,
    pub refused: Vec<DnError>,
    pub writes: u64,
    pub took: Duration,
}

#[derive(Debug)]
enum SyncError {
    Imm(Error),
    Snapshot(SnapshotError),
    /// The assignment was taken away mid-sync.
    Deactivated,
    /// Configuration IMM cannot take (unknown class, missing parent): stop the component.
    Fatal(String),
}

impl From<Error> for SyncError {
    fn from(e: Error) -> Self {
        SyncError::Imm(e)
    }
}

impl std::fmt::Display for SyncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncError::Imm(e) => e.fmt(f),
            SyncError::Snapshot(e) => write!(f, "link snapshot: {e}"),
            SyncError::Deactivated => f.write_str("assignment removed during the sync"),
            SyncError::Fatal(s) => f.write_str(s),
        }
    }
}

/// Called after each sync that wrote something (the `--sim` display).
pub type ReportFn = Box<dyn Fn(&SyncReport) + Send>;

pub struct SyncSettings {
    pub node_dn: Dn,
    pub parent: Option<Dn>,
    pub implementer: String,
    pub filter: LinkFilter,
    pub max_dn: usize,
    pub policy: RetryPolicy,
    pub on_report: Option<ReportFn>,
}

/// The AMF thread's end of the worker.
pub struct SyncHandle {
    tx: Sender<Request>,
    bell: Arc<Doorbell>,
    pub status: Arc<Status>,
    thread: Option<JoinHandle<()>>,
}

impl SyncHandle {
    /// Starts the worker. `wake_main` is rung when the worker sets `status.fatal`.
    pub fn spawn(
        settings: SyncSettings,
        apis: Apis,
        flag: Arc<ChangeFlag>,
        monitor: Arc<Monitor>,
        wake_main: Arc<Doorbell>,
    ) -> std::io::Result<SyncHandle> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let bell = Arc::new(Doorbell::new()?);
        let status = Arc::new(Status::new());
        let mut settings = settings;
        settings.policy.stop = Some(status.halt.clone());
        let snap = Snapshotter::new()?;
        let mut w = Worker {
            s: settings,
            apis,
            flag,
            monitor,
            snap,
            oi: None,
            om: None,
            view: None,
            node_ready: false,
            base: Counters::default(),
            base_monitor: MonitorStats::default(),
            counters_loaded: false,
            counters: Counters::default(),
            status: status.clone(),
            rx,
            bell: bell.clone(),
            wake_main,
        };
        let thread = std::thread::Builder::new()
            .name("macsync-sync".into())
            .spawn(move || {
                // Whatever ends this thread (a panic included), the healthcheck must know.
                struct Alive(Arc<Status>);
                impl Drop for Alive {
                    fn drop(&mut self) {
                        self.0.worker_alive.store(false, Ordering::Release);
                    }
                }
                let _alive = Alive(w.status.clone());
                w.run()
            })?;
        Ok(SyncHandle {
            tx,
            bell,
            status,
            thread: Some(thread),
        })
    }

    pub fn request(&self, r: Request) {
        // The worker outlives every sender, so send only fails after it has exited.
        let _ = self.tx.send(r);
        self.bell.ring();
    }

    /// Queues one sync unless one is queued already: the hot path is one atomic swap.
    pub fn request_sync(&self) {
        if !self.status.sync_queued.swap(true, Ordering::AcqRel) {
            self.request(Request::Sync);
        }
    }

    /// Asks the worker to stop and waits up to `grace` (a blocking IMM call can take 10 s;
    /// AMF expects a terminating component gone within its timeout, so do not wait for it).
    pub fn stop(mut self, grace: Duration) {
        self.status.halt.store(true, Ordering::Relaxed);
        self.request(Request::Stop);
        let deadline = Instant::now() + grace;
        if let Some(t) = self.thread.take() {
            while !t.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if t.is_finished() {
                let _ = t.join();
            } else {
                log::warn!("sync worker still inside an IMM call; exiting without it");
            }
        }
    }
}

struct Worker {
    s: SyncSettings,
    apis: Apis,
    flag: Arc<ChangeFlag>,
    monitor: Arc<Monitor>,
    snap: Snapshotter,
    oi: Option<ImmOi>,
    om: Option<ImmOm>,
    /// What IMM holds under the node object, as far as this process knows.
    view: Option<BTreeMap<Dn, IfRecord>>,
    node_ready: bool,
    /// Counters found in IMM when the node object was (re)read: cumulative across restarts.
    base: Counters,
    /// The monitor's counters at that moment, so only what came after is added to `base`.
    base_monitor: MonitorStats,
    counters_loaded: bool,
    counters: Counters,
    status: Arc<Status>,
    rx: Receiver<Request>,
    bell: Arc<Doorbell>,
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
    fn run(&mut self) {
        loop {
            let oi_fd = self.oi.as_ref().and_then(|oi| oi.selection_fd().ok());
            let mut fds = vec![self.bell.as_fd().as_raw_fd()];
            fds.extend(oi_fd);
            let ready = match poll(&fds, -1) {
                Ok(r) => r,
                Err(e) => {
                    // A dead OI descriptor (e.g. after BAD_HANDLE): drop the handle; the
                    // next sync makes a new one.
                    log::warn!("sync worker poll: {e}");
                    self.reset_imm();
                    self.flag.raise_resync();
                    continue;
                }
            };
            if ready[0] {
                self.bell.drain();
                while let Ok(req) = self.rx.try_recv() {
                    match req {
                        Request::Stop => return,
                        Request::Sync => {
                            self.status.sync_queued.store(false, Ordering::Release);
                            self.sync(false);
                        }
                        Request::Activate => {
                            self.sync(true);
                        }
                        Request::Deactivate { answer } => {
                            // The running sync (if any) has returned: no write follows this.
                            answer.answer();
                        }
                    }
                }
            }
            if ready.get(1) == Some(&true) {
                self.serve_admin_ops();
            }
        }
    }

    fn serve_admin_ops(&mut self) {
        let mut ops = AdminOps::default();
        if let Some(oi) = &self.oi {
            if let Err(e) = oi.dispatch(&mut ops) {
                log::warn!("{e}");
                if e.is_bad_handle() {
                    // IMM restarted: the implementer name went with the handle. Re-establish
                    // it (and re-read IMM) at once, not at the next kernel change.
                    self.reset_imm();
                    self.flag.raise_resync();
                    self.sync(true);
                }
            }
        }
        for (oi, inv, object, op) in ops.0 {
            let result = if object != self.s.node_dn.as_str() || op != ADMIN_OP_RESYNC {
                log::warn!("admin operation {op} on {object}: not supported");
                AisCode::NOT_SUPPORTED
            } else if !self.status.active.load(Ordering::Acquire) {
                AisCode::FAILED_OPERATION
            } else {
                log::info!("admin operation: resync requested");
                self.flag.raise_resync();
                self.view = None;
                if self.sync(true) {
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

    fn reset_imm(&mut self) {
        self.oi = None;
        self.om = None;
        self.view = None;
        self.node_ready = false;
    }

    /// Runs one sync if the flag is raised (or `force`) and the component is active.
    /// Returns whether IMM now matches the kernel.
    fn sync(&mut self, force: bool) -> bool {
        if !self.status.active.load(Ordering::Acquire) {
            return false;
        }
        let pending = match self.flag.take() {
            Some(p) => p,
            None if force => Pending { resync: true },
            None => return true,
        };
        self.status.set_busy(true);
        let start = Instant::now();
        let mut result = self.attempt(pending.resync);
        // BAD_HANDLE (IMM restarted) and TIMEOUT (outcome unknown) are answered by
        // re-reading IMM and trying again, at most twice.
        for _ in 0..2 {
            if !self.status.active.load(Ordering::Acquire) {
                break;
            }
            match &result {
                Err(SyncError::Imm(e)) if e.is_bad_handle() => {
                    log::warn!("{e}: new IMM handles, implementer set again, view re-read");
                    self.reset_imm();
                }
                Err(SyncError::Imm(e)) if e.code() == Some(AisCode::TIMEOUT) => {
                    log::warn!("{e}: outcome unknown, re-reading IMM");
                    self.view = None;
                }
                _ => break,
            }
            result = self.attempt(pending.resync);
        }
        self.status.set_busy(false);
        match result {
            Ok(mut report) => {
                report.took = start.elapsed();
                if report.writes > 0 || pending.resync {
                    log::info!(
                        "sync: {} created, {} updated, {} deleted, {} objects, {} IMM writes in {:?}",
                        report.created.len(),
                        report.updated.len(),
                        report.deleted.len(),
                        self.view.as_ref().map_or(0, BTreeMap::len),
                        report.writes,
                        report.took
                    );
                    if let Some(cb) = &self.s.on_report {
                        cb(&report);
                    }
                }
                true
            }
            Err(e) => {
                self.flag.restore(pending);
                match e {
                    SyncError::Fatal(msg) => {
                        log::error!("{msg}");
                        *self.status.fatal.lock().unwrap_or_else(|p| p.into_inner()) = Some(msg);
                        self.wake_main.ring();
                    }
                    SyncError::Deactivated | SyncError::Imm(Error::Cancelled(_)) => {
                        log::info!("sync stopped: {e}")
                    }
                    e => log::warn!("sync failed, will retry at the next healthcheck: {e}"),
                }
                false
            }
        }
    }

    /// `resync`: a full resync was asked for (start, ENOBUFS, admin operation); the node
    /// object's counters are written even when no interface object changed.
    fn attempt(&mut self, resync: bool) -> Result<SyncReport, SyncError> {
        let links = self.snap.dump().map_err(SyncError::Snapshot)?;
        self.ensure_ready()?;
        let (want, refused) =
            model::desired(&links, &self.s.filter, &self.s.node_dn, self.s.max_dn);
        for e in &refused {
            log::warn!("link not mirrored: {e}");
        }
        let oi = self.oi.as_ref().expect("ensure_ready made it");
        let view = self.view.as_mut().expect("ensure_ready read it");
        let changes = diff(view, &want);
        let mut report = SyncReport {
            refused,
            ..Default::default()
        };
        for ch in changes {
            if !self.status.active.load(Ordering::Acquire) {
                return Err(SyncError::Deactivated);
            }
            match ch {
                Change::Create(dn, rec) => {
                    report.writes += create_or_replace(oi, &self.s.node_dn, &dn, &rec)?;
                    // Counters count mirrored changes, whatever IMM calls they took.
                    self.counters.created += 1;
                    view.insert(dn.clone(), rec.clone());
                    report.created.push((dn, rec));
                }
                Change::Update(dn, new, old) => {
                    report.writes += if !old.mac.is_empty() && new.mac.is_empty() {
                        // IMM cannot take an attribute with zero values: recreate without it.
                        delete_if_present(oi, &dn)?;
                        1 + create_or_replace(oi, &self.s.node_dn, &dn, &new)?
                    } else {
                        match oi.update(&dn, &new.changed_attrs(&old)) {
                            Ok(()) => 1,
                            Err(e) if e.code() == Some(AisCode::NOT_EXIST) => {
                                1 + create_or_replace(oi, &self.s.node_dn, &dn, &new)?
                            }
                            Err(e) => return Err(e.into()),
                        }
                    };
                    self.counters.updated += 1;
                    view.insert(dn.clone(), new.clone());
                    report.updated.push((dn, new));
                }
                Change::Delete(dn) => {
                    delete_if_present(oi, &dn)?;
                    self.counters.deleted += 1;
                    report.writes += 1;
                    view.remove(&dn);
                    report.deleted.push(dn);
                }
            }
        }
        self.counters.syncs += 1;
        if report.writes > 0 || resync {
            self.write_counters()?;
        }
        if self.s.on_report.is_some() {
            // Only the --sim display lists every object; don't copy 10 000 entries otherwise.
            report.objects = self.view.clone().unwrap_or_default();
        }
        Ok(report)
    }

    /// OI handle with the implementer set, OM handle, the node object, and the view.
    fn ensure_ready(&mut self) -> Result<(), SyncError> {
        if self.oi.is_none() {
            let mut oi = ImmOi::initialize(self.apis.imm_oi, true, self.s.policy.clone())?;
            oi.implementer_set(&self.s.implementer)?;
            self.oi = Some(oi);
            self.view = None;
        }
        if self.om.is_none() {
            self.om = Some(ImmOm::initialize(
                self.apis.imm_om,
                self.apis.imm_oi,
                self.s.policy.clone(),
            )?);
        }
        let (oi, om) = (
            self.oi.as_ref().expect("set above"),
            self.om.as_ref().expect("set above"),
        );
        if !self.node_ready {
            let node = &self.s.node_dn;
            let mut attrs = vec![Attr::one(
                model::NODE_RDN,
                AttrValue::Str(node.rdn().to_string()),
            )];
            attrs.extend(Counters::default().attrs(0));
            match oi.create(model::NODE_CLASS, self.s.parent.as_ref(), &attrs) {
                Ok(()) => {
                    if !self.counters_loaded {
                        self.base = Counters::default();
                    }
                }
                Err(e) if e.code() == Some(AisCode::EXIST) && self.counters_loaded => {}
                Err(e) if e.code() == Some(AisCode::EXIST) => {
                    let found = om.get(node, Some(&model::COUNTER_ATTRS))?;
                    self.base = found
                        .map(|o| Counters::from_attrs(&o.attrs))
                        .unwrap_or_default();
                }
                Err(e) if e.code() == Some(AisCode::NOT_EXIST) => {
                    let parent_missing = match &self.s.parent {
                        Some(p) => om.get(p, Some(&[]))?.is_none(),
                        None => false,
                    };
                    return Err(SyncError::Fatal(if parent_missing {
                        format!(
                            "parent DN {} does not exist in IMM (--parent-dn)",
                            self.s.parent.as_ref().expect("checked")
                        )
                    } else {
                        format!(
                            "IMM does not know class {} ({e}): load samples/macsync-classes.xml with immcfg -f",
                            model::NODE_CLASS
                        )
                    }));
                }
                Err(e) if e.code() == Some(AisCode::BAD_OPERATION) => {
                    return Err(SyncError::Fatal(format!(
                        "{node} is owned by another implementer than {} ({e})",
                        self.s.implementer
                    )))
                }
                Err(e)
                    if matches!(
                        e.code(),
                        Some(AisCode::INVALID_PARAM) | Some(AisCode::NAME_TOO_LONG)
                    ) =>
                {
                    return Err(SyncError::Fatal(format!(
                        "IMM refuses the node object {node}: {e}"
                    )))
                }
                Err(e) => return Err(e.into()),
            }
            if !self.counters_loaded {
                // Once per process: after a BAD_HANDLE the in-memory counters are ahead of
                // IMM (their last update may not have landed) and stay authoritative.
                self.base_monitor = self.monitor.stats();
                self.counters = self.base;
                self.counters_loaded = true;
            }
            self.node_ready = true;
        }
        if self.view.is_none() {
            let objs = om.search(
                Some(&self.s.node_dn),
                Scope::Sublevel,
                Some(model::IF_CLASS),
                Some(&[model::ATTR_MAC, model::ATTR_IFINDEX, model::ATTR_OPER]),
            )?;
            let mut view = BTreeMap::new();
            for o in objs {
                match Dn::parse(&o.dn, crate::osaf::MAX_LONG_DN) {
                    Ok(dn) => {
                        view.insert(dn, IfRecord::from_attrs(&o.attrs));
                    }
                    Err(e) => log::warn!("ignoring IMM object {:?}: {e}", o.dn),
                }
            }
            log::info!(
                "IMM holds {} interface objects under {}",
                view.len(),
                self.s.node_dn
            );
            self.view = Some(view);
        }
        Ok(())
    }

    fn write_counters(&mut self) -> Result<(), SyncError> {
        let m = self.monitor.stats();
        let b = &self.base_monitor;
        self.counters.change_events = self.base.change_events + (m.changes - b.changes);
        self.counters.resyncs = self.base.resyncs + (m.overruns - b.overruns);
        self.counters.forged_dropped =
            self.base.forged_dropped + (m.forged_dropped - b.forged_dropped);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64);
        let oi = self.oi.as_ref().expect("ready");
        oi.update(&self.s.node_dn, &self.counters.attrs(now))?;
        Ok(())
    }
}

/// Creates the object; if it already exists (an earlier call that timed out did take),
/// replaces its attributes instead. Returns the number of IMM writes.
fn create_or_replace(oi: &ImmOi, node: &Dn, dn: &Dn, rec: &IfRecord) -> Result<u64, SyncError> {
    let mut attrs = vec![Attr::one(
        model::IF_RDN,
        AttrValue::Str(dn.rdn().to_string()),
    )];
    attrs.extend(rec.attrs());
    match oi.create(model::IF_CLASS, Some(node), &attrs) {
        Ok(()) => Ok(1),
        Err(e) if e.code() == Some(AisCode::EXIST) && rec.mac.is_empty() => {
            // The old object may hold a MAC this link no longer has; an update cannot clear
            // it (no attribute with zero values), a new object can.
            delete_if_present(oi, dn)?;
            oi.create(model::IF_CLASS, Some(node), &attrs)?;
            Ok(3)
        }
        Err(e) if e.code() == Some(AisCode::EXIST) => {
            oi.update(dn, &rec.attrs())?;
            Ok(2)
        }
        Err(e) => Err(e.into()),
    }
}

fn delete_if_present(oi: &ImmOi, dn: &Dn) -> Result<(), SyncError> {
    match oi.delete(dn) {
        Ok(()) => Ok(()),
        Err(e) if e.code() == Some(AisCode::NOT_EXIST) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
