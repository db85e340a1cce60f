//! The link monitor: turns RTMGRP_LINK notifications into updates of the cache it shares
//! with the sync worker, then raises of the shared flag.
//!
//! - this file: [`Monitor`], the handle (spawn with the first dump, stats, requests, stop);
//! - `listener`: the thread's loop, the cache's invalidation and re-seeding.

mod listener;

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::shared_cache::SharedCache;
use super::snapshot::Snapshotter;
use super::socket::NlSocket;
use super::wire::RTMGRP_LINK;
use crate::flag::ChangeFlag;
use crate::sys::{self, Doorbell};
use listener::MonitorThread;

/// NetworkManager's choice: large enough that ordinary bursts do not overflow, and overflow is
/// handled by a resync anyway.
pub const DEFAULT_RCVBUF: usize = 8 << 20;
/// Notifications are one link each (a few KiB at most); this leaves ample room and is
/// allocated once.
const RECV_BUFFER: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonitorOptions {
    /// Requested socket receive buffer in bytes.
    pub rcvbuf: usize,
}

impl Default for MonitorOptions {
    fn default() -> Self {
        MonitorOptions {
            rcvbuf: DEFAULT_RCVBUF,
        }
    }
}

/// A snapshot of the monitor's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MonitorStats {
    /// RTM_NEWLINK/RTM_DELLINK messages received from the kernel.
    pub events: u64,
    /// Messages that changed the cache and raised the flag.
    pub changes: u64,
    /// ENOBUFS + unparsable or truncated datagrams/messages + NLMSG_OVERRUN: each caused a
    /// raise with resync.
    pub overruns: u64,
    /// Of `overruns`, the ENOBUFS ones (the kernel dropped notifications).
    pub enobufs: u64,
    /// Of `overruns`, the ones caused by data we could not parse.
    pub unparsable: u64,
    /// Datagrams dropped because their sender was not the kernel.
    pub forged_dropped: u64,
    /// Datagrams received (all senders).
    pub datagrams: u64,
    /// Successful cache re-seeds from a dump (after lost notifications or on request).
    pub resyncs: u64,
    /// Dumps of the link table taken (the first seed included): the only dumps macsync
    /// takes, so an ordinary change must not add one.
    pub dumps: u64,
    /// Re-seeds that failed (retried at the next wake-up).
    pub resync_failures: u64,
    /// SO_RCVBUF as the kernel reports it (it doubles what was asked for).
    pub rcvbuf_effective: usize,
    /// The monitor socket's netlink port id.
    pub port_id: u32,
    /// The monitor thread's kernel thread id.
    pub tid: i32,
}

#[derive(Debug, Default)]
pub(super) struct Shared {
    events: AtomicU64,
    changes: AtomicU64,
    overruns: AtomicU64,
    enobufs: AtomicU64,
    unparsable: AtomicU64,
    forged_dropped: AtomicU64,
    datagrams: AtomicU64,
    resyncs: AtomicU64,
    resync_failures: AtomicU64,
    dumps: AtomicU64,
    /// Requests to the thread, each followed by a ring of its doorbell.
    kill: AtomicBool,
    stop: AtomicBool,
    reseed: AtomicBool,
    stall_us: AtomicU64,
}

pub(super) fn bump(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

/// The running monitor. Dropping it (or [`Monitor::stop`]) stops and joins the thread.
#[derive(Debug)]
pub struct Monitor {
    shared: Arc<Shared>,
    cache: Arc<SharedCache>,
    bell: Arc<Doorbell>,
    handle: Option<JoinHandle<()>>,
    port_id: u32,
    tid: i32,
    rcvbuf_effective: usize,
}

impl Monitor {
    /// Subscribes, seeds the cache with a dump taken *after* subscribing (so no change falls
    /// between the two), raises `flag` with resync (a consumer that synced before this point
    /// may have missed changes nobody was watching), then starts the thread.
    pub fn spawn(flag: Arc<ChangeFlag>, opts: MonitorOptions) -> io::Result<Monitor> {
        let sock = NlSocket::open_route(RTMGRP_LINK, true)?;
        if let Err(e) = sock.set_ext_ack(true) {
            log::debug!("NETLINK_EXT_ACK unavailable: {e}");
        }
        let rcvbuf_effective = sock.set_rcvbuf(opts.rcvbuf)?;
        // The kernel reports twice what it granted; less than asked means SO_RCVBUFFORCE was
        // refused (no CAP_NET_ADMIN in the initial namespace) and net.core.rmem_max capped it.
        if rcvbuf_effective / 2 < opts.rcvbuf {
            log::warn!(
                "netlink monitor: got a {} byte receive buffer, asked for {} (no CAP_NET_ADMIN \
                 for SO_RCVBUFFORCE; raise net.core.rmem_max): bursts may cost full resyncs",
                rcvbuf_effective / 2,
                opts.rcvbuf
            );
        }
        let port_id = sock.port_id()?;
        let bell = Arc::new(Doorbell::new()?);
        let shared = Arc::new(Shared::default());
        let cache = Arc::new(SharedCache::new());
        let mut worker = MonitorThread {
            sock,
            bell: Arc::clone(&bell),
            flag: Arc::clone(&flag),
            shared: Arc::clone(&shared),
            cache: Arc::clone(&cache),
            snap: Snapshotter::new()?,
            links: Vec::new(),
            buf: vec![0; RECV_BUFFER],
            valid: false,
            why: "start",
        };
        worker.seed("start").map_err(io::Error::other)?;
        flag.raise_resync();
        log::info!(
            "netlink monitor: port {port_id}, {} links, receive buffer {rcvbuf_effective} bytes",
            worker.links.len()
        );

        let (tid_tx, tid_rx) = mpsc::sync_channel(1);
        let handle = thread::Builder::new()
            .name("macsync-netlink".into())
            .spawn(move || {
                let _ = tid_tx.send(sys::gettid());
                let mut notice = DeathNotice {
                    flag: Arc::clone(&worker.flag),
                    cache: Arc::clone(&worker.cache),
                    clean: false,
                };
                match worker.run() {
                    Ok(()) => notice.clean = true,
                    Err(e) => log::error!("netlink monitor stopped: {e}"),
                }
            })?;
        let tid = tid_rx
            .recv()
            .map_err(|_| io::Error::other("netlink monitor thread died at start"))?;
        Ok(Monitor {
            shared,
            cache,
            bell,
            handle: Some(handle),
            port_id,
            tid,
            rcvbuf_effective,
        })
    }

    /// The cache this monitor keeps: the sync worker's source of links.
    pub fn cache(&self) -> &Arc<SharedCache> {
        &self.cache
    }

    /// Asks the thread to re-seed the cache from a new dump (the admin operation "resync")
    /// and waits up to `timeout` for it. Meanwhile the cache is invalid and the flag raised
    /// with resync, so the sync that follows is a full one from the new seed.
    pub fn reseed(&self, timeout: Duration) -> bool {
        self.reseed_unless(timeout, || false)
    }

    /// As [`Monitor::reseed`], but gives up (false) within 100 ms of `stop` turning true,
    /// so a waiting caller can answer something more urgent (a deactivation).
    pub fn reseed_unless(&self, timeout: Duration, stop: impl Fn() -> bool) -> bool {
        const STEP: Duration = Duration::from_millis(100);
        let generation = self.cache.generation();
        self.shared.reseed.store(true, Ordering::SeqCst);
        self.bell.ring();
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if self.cache.wait_seeded_after(generation, left.min(STEP)) {
                return true;
            }
            if left <= STEP || stop() {
                return false;
            }
        }
    }

    pub fn stats(&self) -> MonitorStats {
        let s = &self.shared;
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        MonitorStats {
            events: get(&s.events),
            changes: get(&s.changes),
            overruns: get(&s.overruns),
            enobufs: get(&s.enobufs),
            unparsable: get(&s.unparsable),
            forged_dropped: get(&s.forged_dropped),
            datagrams: get(&s.datagrams),
            resyncs: get(&s.resyncs),
            resync_failures: get(&s.resync_failures),
            dumps: get(&s.dumps),
            rcvbuf_effective: self.rcvbuf_effective,
            port_id: self.port_id,
            tid: self.tid,
        }
    }

    /// The monitor socket's port id (what a forger would send to).
    pub fn port_id(&self) -> u32 {
        self.port_id
    }

    /// The monitor thread's kernel tid, for `/proc/self/task/<tid>/status`.
    pub fn thread_tid(&self) -> i32 {
        self.tid
    }

    /// False once the thread has exited for any reason (error, panic, [`Monitor::kill_for_test`]).
    /// A monitor that is stopped on request is consumed, so it is never observed as dead.
    pub fn is_alive(&self) -> bool {
        self.handle.as_ref().is_some_and(|h| !h.is_finished())
    }

    /// Test hook: makes the thread exit abnormally, as if it had died, and waits (up to 5 s)
    /// until it has. The flag is raised with resync, as on any abnormal exit.
    pub fn kill_for_test(&self) {
        self.shared.kill.store(true, Ordering::SeqCst);
        self.bell.ring();
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.is_alive() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
    }

    /// Test hook: the next time the thread wakes up for data, it first sleeps for `d`, as a
    /// thread starved of CPU would, so a test can overflow the receive buffer deterministically.
    pub fn stall_for_test(&self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.shared.stall_us.store(us, Ordering::SeqCst);
    }

    /// Stops the thread and waits for it.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let Some(handle) = self.handle.take() else {
            return;
        };
        self.shared.stop.store(true, Ordering::SeqCst);
        self.bell.ring();
        if handle.join().is_err() {
            log::error!("netlink monitor thread panicked");
        }
    }
}

/// Invalidates the cache and raises the flag with resync if the thread ends other than by a
/// stop request, including by panic (Drop runs during unwinding): with no monitor, the state
/// is unknown from then on, and the worker must not sync from a cache nobody updates.
struct DeathNotice {
    flag: Arc<ChangeFlag>,
    cache: Arc<SharedCache>,
    clean: bool,
}

impl Drop for DeathNotice {
    fn drop(&mut self) {
        if !self.clean {
            self.cache.invalidate();
            self.flag.raise_resync();
        }
    }
}
