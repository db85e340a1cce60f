//! The AMF thread's side of the worker: the requests it sends, the CSI answers the two
//! threads share, and the status it reads without waiting.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;

use super::identity::{await_node, Resolver};
use super::worker::{Inbox, Parts, Worker};
use super::SyncSettings;
use crate::flag::ChangeFlag;
use crate::netlink::Monitor;
use crate::osaf::{AisCode, AmfResponder, Invocation};
use crate::sys::Doorbell;
use opensaf_sys::Apis;

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
    /// When the AMF thread answers if the worker has not.
    pub due: Instant,
    answered: AtomicBool,
}

impl CsiAnswer {
    pub fn new(amf: AmfResponder, inv: Invocation, quiescing: bool, due: Instant) -> CsiAnswer {
        CsiAnswer {
            amf,
            inv,
            quiescing,
            due,
            answered: AtomicBool::new(false),
        }
    }

    pub fn is_answered(&self) -> bool {
        self.answered.load(Ordering::Acquire)
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
    /// A `Request::Sync` is queued and not yet taken: the healthcheck queues no other.
    pub(super) sync_queued: AtomicBool,
    /// Set by the worker on an error the component cannot recover from.
    pub fatal: Mutex<Option<String>>,
    /// "Stop writing now": set on deactivation and shutdown, cleared on activation. The
    /// worker's retry loops watch it, so a CSI answer never waits for IMM retries.
    pub halt: Arc<AtomicBool>,
    /// Cleared when the worker thread ends for any reason (a panic included).
    pub worker_alive: AtomicBool,
    /// Syncs that succeeded, and that failed (to be retried at the next healthcheck): for
    /// tests and benchmarks.
    pub syncs: AtomicU64,
    pub failed_syncs: AtomicU64,
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
            syncs: AtomicU64::new(0),
            failed_syncs: AtomicU64::new(0),
        }
    }

    /// A sync has been running longer than `bound`.
    pub fn stuck(&self, bound: Duration) -> bool {
        let since = self.busy_since.load(Ordering::Relaxed);
        since != 0 && self.start.elapsed().as_millis() as u64 + 1 - since > bound.as_millis() as u64
    }

    pub(crate) fn set_busy(&self, busy: bool) {
        let v = if busy {
            self.start.elapsed().as_millis() as u64 + 1
        } else {
            0
        };
        self.busy_since.store(v, Ordering::Relaxed);
    }
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
        let inbox = Inbox {
            rx,
            bell: bell.clone(),
        };
        let parts = Parts {
            flag,
            monitor,
            status: status.clone(),
            inbox,
            wake_main,
        };
        let mut resolver = Resolver::new(
            settings.node.clone(),
            settings.max_dn,
            apis,
            settings.policy.clone(),
        );
        let alive = status.clone();
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
                let _alive = Alive(alive);
                if let Some((target, sync_due)) = await_node(&mut resolver, &parts) {
                    Worker::new(settings, target, apis, parts).run(sync_due)
                }
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
