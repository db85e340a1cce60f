//! The link monitor thread: turns RTMGRP_LINK notifications into raises of the shared flag.

use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::cache::LinkCache;
use super::link::Link;
use super::snapshot::Snapshotter;
use super::socket::NlSocket;
use super::wire::RTMGRP_LINK;
use crate::flag::ChangeFlag;
use crate::sys::{self, Doorbell};

/// NetworkManager's choice: large enough that ordinary bursts do not overflow, and overflow is
/// handled by a resync anyway.
pub const DEFAULT_RCVBUF: usize = 8 << 20;
/// Notifications are one link each (a few KiB at most); this leaves ample room and is
/// allocated once.
const RECV_BUFFER: usize = 64 * 1024;
/// Datagrams read before going back to poll, so a flood cannot starve the stop request.
const DRAIN_BATCH: usize = 256;

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
    /// Successful cache re-seeds from a dump.
    pub resyncs: u64,
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
struct Shared {
    events: AtomicU64,
    changes: AtomicU64,
    overruns: AtomicU64,
    enobufs: AtomicU64,
    unparsable: AtomicU64,
    forged_dropped: AtomicU64,
    datagrams: AtomicU64,
    resyncs: AtomicU64,
    resync_failures: AtomicU64,
    kill: AtomicBool,
    stall_us: AtomicU64,
}

fn bump(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

/// The running monitor. Dropping it (or [`Monitor::stop`]) stops and joins the thread.
#[derive(Debug)]
pub struct Monitor {
    shared: Arc<Shared>,
    stop: Arc<Doorbell>,
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
        let mut snap = Snapshotter::new()?;
        let mut links = Vec::new();
        snap.dump_into(&mut links).map_err(io::Error::other)?;
        let mut cache = LinkCache::new();
        cache.seed(&links);
        flag.raise_resync();
        log::info!(
            "netlink monitor: port {port_id}, {} links, receive buffer {rcvbuf_effective} bytes",
            links.len()
        );

        let stop = Arc::new(Doorbell::new()?);
        let shared = Arc::new(Shared::default());
        let mut worker = Worker {
            sock,
            stop: Arc::clone(&stop),
            flag: Arc::clone(&flag),
            shared: Arc::clone(&shared),
            cache,
            snap,
            links,
            buf: vec![0; RECV_BUFFER],
            cache_valid: true,
        };
        let (tid_tx, tid_rx) = mpsc::sync_channel(1);
        let handle = thread::Builder::new()
            .name("macsync-netlink".into())
            .spawn(move || {
                let _ = tid_tx.send(sys::gettid());
                let mut notice = DeathNotice {
                    flag: Arc::clone(&worker.flag),
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
            stop,
            handle: Some(handle),
            port_id,
            tid,
            rcvbuf_effective,
        })
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
        self.stop.ring();
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
        self.stop.ring();
        if handle.join().is_err() {
            log::error!("netlink monitor thread panicked");
        }
    }
}

/// Raises the flag with resync if the thread ends other than by a stop request, including by
/// panic (Drop runs during unwinding): with no monitor, the state is unknown from then on.
struct DeathNotice {
    flag: Arc<ChangeFlag>,
    clean: bool,
}

impl Drop for DeathNotice {
    fn drop(&mut self) {
        if !self.clean {
            self.flag.raise_resync();
        }
    }
}

struct Worker {
    sock: NlSocket,
    stop: Arc<Doorbell>,
    flag: Arc<ChangeFlag>,
    shared: Arc<Shared>,
    cache: LinkCache,
    snap: Snapshotter,
    /// Reused across re-seeds.
    links: Vec<Link>,
    /// The receive buffer, reused for every datagram.
    buf: Vec<u8>,
    /// False from an overflow or unparsable input until a re-seed succeeds; meanwhile queued
    /// datagrams are discarded and the flag stays raised with resync.
    cache_valid: bool,
}

impl Worker {
    fn run(&mut self) -> io::Result<()> {
        loop {
            // The only blocking point: no timeout, so an idle monitor never wakes up.
            let ready = sys::poll(&[self.sock.as_raw_fd(), self.stop.as_fd().as_raw_fd()], -1)?;
            let (sock_ready, stop_ready) = (ready[0], ready[1]);
            if stop_ready {
                if self.shared.kill.load(Ordering::SeqCst) {
                    return Err(io::Error::other("killed by kill_for_test"));
                }
                return Ok(());
            }
            if sock_ready {
                let stall = self.shared.stall_us.swap(0, Ordering::SeqCst);
                if stall > 0 {
                    thread::sleep(Duration::from_micros(stall));
                }
                self.drain()?;
            }
        }
    }

    /// Reads what is queued, up to a batch, without blocking. Re-seeds the cache once the
    /// queue is empty, if it had to be invalidated.
    fn drain(&mut self) -> io::Result<()> {
        for _ in 0..DRAIN_BATCH {
            let r = match self.sock.recv(&mut self.buf, false, true) {
                Ok(r) => r,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if !self.cache_valid {
                        self.reseed();
                    }
                    return Ok(());
                }
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    // Notifications were dropped; which ones is unknowable.
                    bump(&self.shared.enobufs, 1);
                    bump(&self.shared.overruns, 1);
                    self.invalidate();
                    continue;
                }
                Err(e) => return Err(e),
            };
            bump(&self.shared.datagrams, 1);
            if r.sender != 0 {
                self.forged(r.sender);
                continue;
            }
            if !self.cache_valid {
                // Predates the re-seed dump, which will cover it. Applying old events after
                // that dump would roll the cache back to values that later events, lost in
                // the overflow, would never correct.
                continue;
            }
            if r.truncated {
                bump(&self.shared.unparsable, 1);
                bump(&self.shared.overruns, 1);
                self.invalidate();
                continue;
            }
            let a = self.cache.apply_datagram(&self.buf[..r.len]);
            bump(&self.shared.events, a.events);
            if a.changes > 0 {
                // After the cache update, so the consumer's sync starts after it (flag.rs).
                self.flag.raise();
                bump(&self.shared.changes, a.changes);
            } else if a.oper_changes > 0 {
                self.flag.raise_refresh();
            }
            if a.needs_resync() {
                bump(&self.shared.unparsable, a.unparsable);
                bump(&self.shared.overruns, a.unparsable);
                self.invalidate();
            }
        }
        Ok(())
    }

    fn forged(&self, sender: u32) {
        let n = self.shared.forged_dropped.fetch_add(1, Ordering::Relaxed) + 1;
        // Logged at powers of two only: a flood must not turn into a log flood.
        if n.is_power_of_two() {
            log::warn!(
                "netlink monitor: dropped datagram from port {sender}, not the kernel ({n} so far)"
            );
        }
    }

    /// The cache can no longer be trusted. The consumer learns it at once; the re-seed waits
    /// until the queue is drained, because during a burst (the usual cause of an overflow) a
    /// dump would only be interrupted by the ongoing changes, again and again.
    fn invalidate(&mut self) {
        self.flag.raise_resync();
        self.cache_valid = false;
        self.cache.clear();
    }

    /// Re-seeds the cache from a dump. On failure the cache stays invalid and the next wake-up
    /// tries again; the flag is already raised with resync, so the consumer does a full sync
    /// meanwhile.
    fn reseed(&mut self) {
        match self.snap.dump_into(&mut self.links) {
            Ok(()) => {
                self.cache.seed(&self.links);
                self.cache_valid = true;
                bump(&self.shared.resyncs, 1);
                // Raised again after the seed: a consumer that took the first raise may have
                // snapshotted before this dump, and events the dump absorbed will not raise on
                // their own.
                self.flag.raise_resync();
            }
            Err(e) => {
                log::warn!("netlink monitor: resync dump failed, will retry: {e}");
                bump(&self.shared.resync_failures, 1);
            }
        }
    }
}
