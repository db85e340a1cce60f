//! The monitor thread itself: reads notifications into the shared cache, raises the flag,
//! and re-seeds the cache from a dump when notifications were lost or a resync is asked for.

use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use super::{bump, Shared};
use crate::flag::ChangeFlag;
use crate::netlink::cache::LinkCache;
use crate::netlink::link::Link;
use crate::netlink::shared_cache::SharedCache;
use crate::netlink::snapshot::Snapshotter;
use crate::netlink::socket::NlSocket;
use crate::sys::{self, Doorbell};

/// Datagrams read before going back to poll, so a flood cannot starve the stop request.
const DRAIN_BATCH: usize = 256;
/// While the cache is invalid because a re-seed dump failed, how long before trying again
/// even if no notification wakes the thread: the sync worker waits for that seed.
const RESEED_RETRY_MS: i32 = 200;

pub(super) struct MonitorThread {
    pub sock: NlSocket,
    pub bell: Arc<Doorbell>,
    pub flag: Arc<ChangeFlag>,
    pub shared: Arc<Shared>,
    pub cache: Arc<SharedCache>,
    pub snap: Snapshotter,
    /// Reused across re-seeds.
    pub links: Vec<Link>,
    /// The receive buffer, reused for every datagram.
    pub buf: Vec<u8>,
    /// The cache's validity (this thread is its only writer). False from an overflow or
    /// unparsable input until a re-seed succeeds; meanwhile queued datagrams are discarded
    /// and the flag stays raised with resync.
    pub valid: bool,
    /// Why the cache was invalidated, for the log.
    pub why: &'static str,
}

impl MonitorThread {
    pub fn run(&mut self) -> io::Result<()> {
        loop {
            // No timeout while the cache is valid, so an idle monitor never wakes up.
            let timeout = if self.valid { -1 } else { RESEED_RETRY_MS };
            let ready = sys::poll(
                &[self.sock.as_raw_fd(), self.bell.as_fd().as_raw_fd()],
                timeout,
            )?;
            let (sock_ready, bell_ready) = (ready[0], ready[1]);
            if bell_ready {
                self.bell.drain();
                if self.shared.kill.load(Ordering::SeqCst) {
                    return Err(io::Error::other("killed by kill_for_test"));
                }
                if self.shared.stop.load(Ordering::SeqCst) {
                    return Ok(());
                }
                if self.shared.reseed.swap(false, Ordering::SeqCst) {
                    self.invalidate("resync requested");
                }
            }
            if sock_ready {
                let stall = self.shared.stall_us.swap(0, Ordering::SeqCst);
                if stall > 0 {
                    thread::sleep(Duration::from_micros(stall));
                }
            }
            if sock_ready || !self.valid {
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
                    if !self.valid {
                        self.reseed();
                    }
                    return Ok(());
                }
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    // Notifications were dropped; which ones is unknowable.
                    bump(&self.shared.enobufs, 1);
                    bump(&self.shared.overruns, 1);
                    self.invalidate("notifications lost (ENOBUFS)");
                    continue;
                }
                Err(e) => return Err(e),
            };
            bump(&self.shared.datagrams, 1);
            if r.sender != 0 {
                self.forged(r.sender);
                continue;
            }
            if !self.valid {
                // Predates the re-seed dump, which will cover it. Applying old events after
                // that dump would roll the cache back to values that later events, lost in
                // the overflow, would never correct.
                continue;
            }
            if r.truncated {
                bump(&self.shared.unparsable, 1);
                bump(&self.shared.overruns, 1);
                self.invalidate("truncated notification");
                continue;
            }
            // The cache (and its changed set) first, then the flag: see crate::flag.
            let a = self.cache.apply_datagram(&self.buf[..r.len]);
            bump(&self.shared.events, a.events);
            if a.changes > 0 {
                self.flag.raise();
                bump(&self.shared.changes, a.changes);
            } else if a.oper_changes > 0 {
                self.flag.raise_refresh();
            }
            if a.needs_resync() {
                bump(&self.shared.unparsable, a.unparsable);
                bump(&self.shared.overruns, a.unparsable);
                self.invalidate("unparsable notification");
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
    /// dump would only be outdated by the changes still queued.
    fn invalidate(&mut self, why: &'static str) {
        self.flag.raise_resync();
        self.valid = false;
        self.why = why;
        self.cache.invalidate();
    }

    /// Re-seeds the cache from a dump. On failure the cache stays invalid and the thread
    /// tries again within [`RESEED_RETRY_MS`]; the flag is already raised with resync.
    fn reseed(&mut self) {
        match self.seed(self.why) {
            Ok(()) => {
                bump(&self.shared.resyncs, 1);
                // Raised again after the seed: a consumer that took the first raise may have
                // found the cache invalid, and events the dump absorbed raise nothing.
                self.flag.raise_resync();
            }
            Err(e) => {
                log::warn!("netlink monitor: resync dump failed, will retry: {e}");
                bump(&self.shared.resync_failures, 1);
            }
        }
    }

    /// One dump into the cache: the only place macsync dumps the link table. The map is
    /// built before the lock is taken.
    pub fn seed(&mut self, why: &str) -> Result<(), String> {
        let n = self.shared.dumps.fetch_add(1, Ordering::Relaxed) + 1;
        let interrupted = self
            .snap
            .dump_for_seed(&mut self.links)
            .map_err(|e| e.to_string())?;
        let map = LinkCache::map_of(&self.links)
            .ok_or("a link name or address longer than the kernel allows")?;
        self.cache.seed(map);
        self.valid = true;
        log::info!(
            "netlink monitor: dump {n} ({why}): {} links{}",
            self.links.len(),
            if interrupted {
                ", changed during the dump: the notifications that follow correct it"
            } else {
                ""
            }
        );
        Ok(())
    }
}
