//! The link cache shared by the netlink monitor (which writes it from notifications) and the
//! sync worker (which reads the links changed since its last sync): the sync's source, so a
//! sync costs what changed, not a dump of the whole table.
//!
//! Each side holds the lock only briefly: the monitor while applying one datagram (a few
//! messages, no allocation for a known link) or swapping in a map it built from a dump; the
//! worker while copying out the changed entries, or every entry for a full sync (a copy of
//! fixed-size [`LinkState`]s into a vector it reuses). The ordering rule that makes this
//! lossless, with the [`ChangeFlag`](crate::flag::ChangeFlag), is in [`crate::flag`].

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::cache::{Applied, LinkCache, NotSeeded};
use super::link::LinkState;

#[derive(Debug, Default)]
pub struct SharedCache {
    cache: Mutex<LinkCache>,
    /// Notified at every seed.
    seeded: Condvar,
}

impl SharedCache {
    /// Invalid until the first seed.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, LinkCache> {
        // Every LinkCache method leaves it consistent; a thread that panicked holding the lock
        // is reported by the healthcheck (a dead monitor or worker), not by the other side.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The links changed since the last take, each with its current state (`None`: gone).
    /// Call after taking the flag.
    pub fn take_changed(&self, out: &mut Vec<(u32, Option<LinkState>)>) -> Result<(), NotSeeded> {
        self.lock().take_changed(out)
    }

    /// Every link, for a full sync; empties the changed set. Call after taking the flag.
    pub fn take_all(&self, out: &mut Vec<(u32, LinkState)>) -> Result<(), NotSeeded> {
        self.lock().take_all(out)
    }

    /// A sync failed: what it took is changed again. Call before restoring the flag.
    pub fn put_back(&self, ifindexes: impl IntoIterator<Item = u32>) {
        self.lock().put_back(ifindexes)
    }

    /// Seeds so far (the first, at the monitor's start, is 1).
    pub fn generation(&self) -> u64 {
        self.lock().generation()
    }

    pub fn is_valid(&self) -> bool {
        self.lock().is_valid()
    }

    /// Links in the cache.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Waits until a seed after `generation` has made the cache valid, up to `timeout`.
    pub fn wait_seeded_after(&self, generation: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut c = self.lock();
        while !(c.generation() > generation && c.is_valid()) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            c = match self.seeded.wait_timeout(c, left) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
        true
    }

    /// The monitor's side: one notification datagram.
    pub(super) fn apply_datagram(&self, bytes: &[u8]) -> Applied {
        self.lock().apply_datagram(bytes)
    }

    /// The monitor's side: a map built from a dump replaces the content.
    pub(super) fn seed(&self, map: HashMap<u32, LinkState>) {
        let old = self.lock().seed(map);
        self.seeded.notify_all();
        // Freed after the lock is released.
        drop(old);
    }

    /// The monitor's side: notifications were lost.
    pub(super) fn invalidate(&self) {
        self.lock().invalidate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flag::{ChangeFlag, Pending};
    use crate::netlink::wire::{IfInfo, MessageBuilder, IFLA_ADDRESS, RTM_DELLINK, RTM_NEWLINK};
    use std::sync::Arc;

    fn newlink(index: u32, mac: u8) -> Vec<u8> {
        MessageBuilder::new(RTM_NEWLINK, 0, 0, 0)
            .ifinfo(&IfInfo {
                link_type: 1,
                index: index as i32,
                ..IfInfo::default()
            })
            .name_attr(format!("l{index}").as_bytes())
            .attr(IFLA_ADDRESS, &[2, 0, 0, 0, 0, mac])
            .finish()
    }

    fn dellink(index: u32) -> Vec<u8> {
        MessageBuilder::new(RTM_DELLINK, 0, 0, 0)
            .ifinfo(&IfInfo {
                index: index as i32,
                ..IfInfo::default()
            })
            .name_attr(format!("l{index}").as_bytes())
            .finish()
    }

    /// The monitor's side of crate::flag's rule: the cache, then the flag.
    fn monitor_applies(c: &SharedCache, f: &ChangeFlag, datagram: &[u8]) {
        if c.apply_datagram(datagram).changes > 0 {
            f.raise();
        }
    }

    fn seeded() -> (SharedCache, ChangeFlag) {
        let c = SharedCache::new();
        c.seed(HashMap::new());
        (c, ChangeFlag::new_clear())
    }

    fn macs(v: &[(u32, Option<LinkState>)]) -> Vec<(u32, Option<u8>)> {
        let mut m: Vec<_> = v.iter().map(|(i, s)| (*i, s.map(|s| s.mac()[5]))).collect();
        m.sort();
        m
    }

    #[test]
    fn a_change_during_a_sync_is_in_this_sync_or_the_next() {
        let (c, f) = seeded();
        let mut taken = Vec::new();
        // Between the worker's flag take and its cache take: in this sync, in its latest
        // state; the flag it raised asks for one more sync, which finds nothing.
        monitor_applies(&c, &f, &newlink(3, 1));
        assert_eq!(f.take(), Some(Pending { resync: false }));
        monitor_applies(&c, &f, &newlink(3, 2));
        c.take_changed(&mut taken).unwrap();
        assert_eq!(macs(&taken), [(3, Some(2))]);
        assert!(f.take().is_some());
        c.take_changed(&mut taken).unwrap();
        assert!(taken.is_empty());

        // After the worker's cache take: not in this sync, but the flag is raised again and
        // the next sync has it.
        monitor_applies(&c, &f, &newlink(4, 1));
        f.take().unwrap();
        c.take_changed(&mut taken).unwrap();
        monitor_applies(&c, &f, &dellink(4));
        assert_eq!(macs(&taken), [(4, Some(1))]);
        assert!(
            f.take().is_some(),
            "the change after the take raised the flag"
        );
        c.take_changed(&mut taken).unwrap();
        assert_eq!(macs(&taken), [(4, None)]);

        // A failed sync: its links go back, merged with what came meanwhile, and the flag
        // is raised again.
        monitor_applies(&c, &f, &newlink(5, 1));
        let p = f.take().unwrap();
        c.take_changed(&mut taken).unwrap();
        monitor_applies(&c, &f, &newlink(6, 1));
        c.put_back(taken.iter().map(|e| e.0));
        f.restore(p);
        assert!(f.take().is_some());
        c.take_changed(&mut taken).unwrap();
        assert_eq!(macs(&taken), [(5, Some(1)), (6, Some(1))]);
    }

    /// The monitor applies 20 000 random datagrams while a worker syncs a mirror of its own
    /// from the changed sets, in the rule's order, failing one sync in five. Once the monitor
    /// is done and the flag is down, the mirror equals the cache.
    #[test]
    fn racing_monitor_and_worker_lose_nothing() {
        let (c, f) = seeded();
        let (c, f) = (Arc::new(c), Arc::new(f));
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (mc, mf, md) = (c.clone(), f.clone(), done.clone());
        let monitor = std::thread::spawn(move || {
            let mut x = 0x2545_f491u64;
            for _ in 0..20_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let index = 1 + (x % 50) as u32;
                let d = if x.is_multiple_of(7) {
                    dellink(index)
                } else {
                    newlink(index, (x >> 8) as u8)
                };
                monitor_applies(&mc, &mf, &d);
            }
            md.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        let mut mirror: HashMap<u32, LinkState> = HashMap::new();
        let mut taken = Vec::new();
        let mut syncs = 0u64;
        loop {
            // Read before the take: once it is seen set, every change was raised before.
            let finished = done.load(std::sync::atomic::Ordering::SeqCst);
            let Some(p) = f.take() else {
                if finished {
                    break;
                }
                std::thread::yield_now();
                continue;
            };
            c.take_changed(&mut taken).unwrap();
            syncs += 1;
            if syncs.is_multiple_of(5) {
                c.put_back(taken.iter().map(|e| e.0));
                f.restore(p);
                continue;
            }
            for (i, s) in &taken {
                match s {
                    Some(s) => mirror.insert(*i, *s),
                    None => mirror.remove(i),
                };
            }
        }
        monitor.join().unwrap();
        let mut all = Vec::new();
        c.take_all(&mut all).unwrap();
        assert_eq!(
            mirror,
            all.into_iter().collect::<HashMap<_, _>>(),
            "after {syncs} syncs"
        );
    }

    #[test]
    fn a_waiter_wakes_at_the_next_seed_only() {
        let c = Arc::new(SharedCache::new());
        assert!(
            !c.wait_seeded_after(0, Duration::from_millis(10)),
            "never seeded"
        );
        c.seed(HashMap::new());
        assert!(c.wait_seeded_after(0, Duration::ZERO));
        c.invalidate();
        let c2 = c.clone();
        let t = std::thread::spawn(move || c2.wait_seeded_after(1, Duration::from_secs(5)));
        std::thread::sleep(Duration::from_millis(20));
        c.seed(HashMap::new());
        assert!(t.join().unwrap());
        assert_eq!(c.generation(), 2);
        c.invalidate();
        assert!(
            !c.wait_seeded_after(1, Duration::from_millis(10)),
            "a newer generation that is invalid again does not count"
        );
    }
}
