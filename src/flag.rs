//! The shared "links changed" flag between the netlink monitor (producer) and the
//! component's healthcheck/sync path (consumer). The flag says *that* something changed; the
//! monitor's [`SharedCache`](crate::netlink::SharedCache) says *what*: every link whose entry
//! changed since the consumer last took the changed set, with its current state.
//!
//! # The ordering rule that makes the design lossless
//!
//! The monitor, for each notification datagram:
//!
//! 1. updates the cache and marks the links it changed (under the cache's lock);
//! 2. **then** raises the flag.
//!
//! The consumer, for each sync:
//!
//! 1. [`ChangeFlag::take`]s the flag;
//! 2. **then** takes the changed links from the cache, each with its state at that moment
//!    (present, or gone), or every link for a full sync;
//! 3. writes IMM from them;
//! 4. if anything in step 3 fails, puts the links it took back into the changed set and
//!    [`ChangeFlag::restore`]s what `take` returned (a full sync stays a full sync).
//!
//! Why no change is lost: the cache's lock orders the monitor's step 1 and the consumer's
//! step 2. A change marked before the consumer's step 2 is in this sync, in its latest
//! state. A change marked after it is still in the changed set, and its raise comes after
//! its mark, so after the consumer's step 1: the flag is raised for the next sync, which
//! finds it. Taking the flag *after* the changed set instead could erase the raise of a
//! change the sync did not take, and that change would wait for the next unrelated one. A
//! change that lands during a sync is therefore either in this sync or in the next; a
//! failed sync leaves its changes pending, merged with whatever came meanwhile.
//!
//! When the cache cannot be trusted (ENOBUFS: notifications were lost; an unparsable
//! message; the monitor thread died) the monitor raises "resync" and invalidates the cache;
//! the consumer then takes nothing from it (the flag stays raised) until the monitor has
//! re-seeded it from a dump and raised "resync" again: the sync after that takes every link.
//! At start the flag is raised with resync, so the first sync is a full one too.
//!
//! # Operational state
//!
//! The "changed" bit means what identifies a mirrored link changed: it appeared, vanished,
//! was renamed or changed MAC. A link going up or down does not raise it. But the IMM model
//! also carries `operState`, and a stale operState would mislead whoever reads it, so an
//! operational-state change sets a separate "refresh" bit: [`ChangeFlag::needs_sync`] sees
//! either bit, [`ChangeFlag::is_raised`] only "changed". Both follow the same ordering rule.
//!
//! All bits live in one atomic word so `take` clears them together: no window where the
//! consumer sees "raised" without the matching "resync".

use std::sync::atomic::{AtomicU8, Ordering};

const RAISED: u8 = 1;
const RESYNC: u8 = 2;
const REFRESH: u8 = 4;

/// What was pending when the flag was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pending {
    /// The state is unknown (events were lost, a message did not parse, or a sync failed):
    /// the consumer should do a full resync rather than trust any incremental view.
    pub resync: bool,
}

/// "Some link changed since you last looked", plus whether the change set is even known.
#[derive(Debug)]
pub struct ChangeFlag {
    bits: AtomicU8,
}

impl ChangeFlag {
    /// Starts raised with resync: nothing has been synced yet, so the first sync is a full one.
    pub fn new_raised() -> Self {
        ChangeFlag {
            bits: AtomicU8::new(RAISED | RESYNC),
        }
    }

    /// Starts clear; for tests and benchmarks that want to observe the first raise.
    pub fn new_clear() -> Self {
        ChangeFlag {
            bits: AtomicU8::new(0),
        }
    }

    /// A link appeared, disappeared, was renamed or changed its hardware address.
    pub fn raise(&self) {
        // Release: the monitor's cache update happens-before a consumer's Acquire observing it.
        self.bits.fetch_or(RAISED, Ordering::Release);
    }

    /// The state is unknown (ENOBUFS, an unparsable message, a failed sync).
    pub fn raise_resync(&self) {
        self.bits.fetch_or(RAISED | RESYNC, Ordering::Release);
    }

    /// A link's operational state changed (nothing that identifies it): IMM's operState
    /// needs refreshing.
    pub fn raise_refresh(&self) {
        self.bits.fetch_or(REFRESH, Ordering::Release);
    }

    /// Anything at all pending: what the healthcheck asks before queueing a sync. Cheap
    /// enough for its hot path: one load, no write, no cache-line bounce.
    pub fn needs_sync(&self) -> bool {
        self.bits.load(Ordering::Acquire) != 0
    }

    pub fn is_raised(&self) -> bool {
        self.bits.load(Ordering::Acquire) & RAISED != 0
    }

    /// Whether a resync is pending (without clearing anything).
    pub fn is_resync(&self) -> bool {
        self.bits.load(Ordering::Acquire) & RESYNC != 0
    }

    /// Atomically clears the flag and returns what was pending, or `None` if it was not raised.
    /// Call this **before** taking the changed links (see the module documentation).
    pub fn take(&self) -> Option<Pending> {
        // Fast path keeps the healthcheck from dirtying the cache line when nothing is pending.
        if self.bits.load(Ordering::Acquire) == 0 {
            return None;
        }
        let bits = self.bits.swap(0, Ordering::AcqRel);
        if bits != 0 {
            Some(Pending {
                resync: bits & RESYNC != 0,
            })
        } else {
            None
        }
    }

    /// A sync that started with `take` failed: raise again, keeping resync if it was pending.
    /// Anything raised meanwhile is kept (the bits are OR-ed in, never overwritten).
    pub fn restore(&self, p: Pending) {
        let bits = if p.resync { RAISED | RESYNC } else { RAISED };
        self.bits.fetch_or(bits, Ordering::Release);
    }
}

impl Default for ChangeFlag {
    fn default() -> Self {
        Self::new_raised()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_raised_with_resync() {
        let f = ChangeFlag::new_raised();
        assert!(f.is_raised());
        assert_eq!(f.take(), Some(Pending { resync: true }));
        assert!(!f.is_raised());
        assert_eq!(f.take(), None);
    }

    #[test]
    fn raise_take_restore() {
        let f = ChangeFlag::new_clear();
        assert_eq!(f.take(), None);
        f.raise();
        assert!(f.is_raised());
        assert!(!f.is_resync());
        let p = f.take().unwrap();
        assert!(!p.resync);
        f.restore(p);
        assert_eq!(f.take(), Some(Pending { resync: false }));
    }

    #[test]
    fn resync_is_sticky_until_taken() {
        let f = ChangeFlag::new_clear();
        f.raise_resync();
        f.raise();
        assert_eq!(f.take(), Some(Pending { resync: true }));
        f.raise();
        let p = f.take().unwrap();
        // A resync raised while the (failed) sync ran must survive the restore.
        f.raise_resync();
        f.restore(p);
        assert_eq!(f.take(), Some(Pending { resync: true }));
    }

    #[test]
    fn refresh_is_pending_but_not_a_change() {
        let f = ChangeFlag::new_clear();
        f.raise_refresh();
        assert!(!f.is_raised());
        assert!(f.needs_sync());
        assert_eq!(f.take(), Some(Pending { resync: false }));
        assert!(!f.needs_sync());
        assert_eq!(f.take(), None);
    }

    #[test]
    fn restore_keeps_resync() {
        let f = ChangeFlag::new_raised();
        let p = f.take().unwrap();
        f.restore(p);
        assert_eq!(f.take(), Some(Pending { resync: true }));
    }
}
