//! The monitor's view of the link table (ifindex -> name, MAC, type, operstate), the rule
//! deciding which notifications are changes, and the set of links changed since the sync
//! worker last took them. Pure: no sockets, no locks, so it can be fed arbitrary bytes;
//! [`SharedCache`](super::SharedCache) shares it between the two threads.

use std::collections::{HashMap, HashSet};

use super::link::{Link, LinkState};
use super::wire::{self, AF_UNSPEC, NLMSG_ERROR, NLMSG_OVERRUN, RTM_DELLINK, RTM_NEWLINK};

/// What one datagram did to the cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// RTM_NEWLINK/RTM_DELLINK messages seen (any family).
    pub events: u64,
    /// Of those, the ones that changed what identifies a link: it appeared, disappeared, was
    /// renamed, changed its address or its type.
    pub changes: u64,
    /// Of the rest, the ones that only changed a link's operational state.
    pub oper_changes: u64,
    /// Messages that could not be parsed, or that report lost data (NLMSG_OVERRUN, an
    /// unsolicited NLMSG_ERROR): the cache can no longer be trusted.
    pub unparsable: u64,
}

impl Applied {
    pub fn needs_resync(&self) -> bool {
        self.unparsable > 0
    }
}

/// The sync worker asked for links while the cache is invalid (lost notifications, not yet
/// re-seeded): only a full sync from the re-seeded cache can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotSeeded;

impl std::fmt::Display for NotSeeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the netlink monitor is re-reading the link table")
    }
}

impl std::error::Error for NotSeeded {}

/// What one RTM_NEWLINK did to a cache entry.
enum Update {
    None,
    Identity,
    Oper,
}

#[derive(Debug, Default)]
pub struct LinkCache {
    map: HashMap<u32, LinkState>,
    /// Ifindexes whose entry changed (or went away) since the worker last took them.
    dirty: HashSet<u32>,
    /// False from an overflow or unparsable input until a re-seed.
    valid: bool,
    /// Seeds so far: the worker waits on it after asking for a re-seed.
    generation: u64,
}

impl LinkCache {
    /// Empty and invalid: nothing is known until the first seed.
    pub fn new() -> Self {
        Self::default()
    }

    /// Turns a dump into the map [`LinkCache::seed`] takes, so the allocation-heavy part
    /// happens before the lock. `None` if a link has a name or address longer than the
    /// kernel allows.
    pub fn map_of(links: &[Link]) -> Option<HashMap<u32, LinkState>> {
        let mut map = HashMap::with_capacity(links.len());
        for l in links {
            map.insert(l.ifindex, LinkState::of(l)?);
        }
        Some(map)
    }

    /// Replaces the whole content with a dump's, valid from now on. Returns the old map, to
    /// be dropped outside the lock. Nothing is dirty: whoever reads a new seed reads all of it.
    pub fn seed(&mut self, map: HashMap<u32, LinkState>) -> HashMap<u32, LinkState> {
        self.dirty.clear();
        self.valid = true;
        self.generation += 1;
        std::mem::replace(&mut self.map, map)
    }

    /// Notifications were lost: forget everything until the next seed.
    pub fn invalidate(&mut self) {
        self.valid = false;
        self.map.clear();
        self.dirty.clear();
    }

    pub fn is_valid(&self) -> bool {
        self.valid
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn get(&self, ifindex: u32) -> Option<&LinkState> {
        self.map.get(&ifindex)
    }

    /// Empties the changed set into `out`: each changed ifindex with its current state
    /// (`None`: the link is gone). `out` is cleared first and keeps its memory.
    pub fn take_changed(
        &mut self,
        out: &mut Vec<(u32, Option<LinkState>)>,
    ) -> Result<(), NotSeeded> {
        out.clear();
        if !self.valid {
            return Err(NotSeeded);
        }
        let map = &self.map;
        out.extend(self.dirty.drain().map(|i| (i, map.get(&i).copied())));
        Ok(())
    }

    /// Every link into `out`, and the changed set emptied: the full table covers it.
    pub fn take_all(&mut self, out: &mut Vec<(u32, LinkState)>) -> Result<(), NotSeeded> {
        out.clear();
        if !self.valid {
            return Err(NotSeeded);
        }
        self.dirty.clear();
        out.extend(self.map.iter().map(|(&i, &s)| (i, s)));
        Ok(())
    }

    /// A sync that took these failed: they are changed again, whatever happened meanwhile
    /// (a link changed since is already in the set; a re-seed makes the next sync full).
    pub fn put_back(&mut self, ifindexes: impl IntoIterator<Item = u32>) {
        if self.valid {
            self.dirty.extend(ifindexes);
        }
    }

    /// Number of links changed since the last take.
    pub fn changed_len(&self) -> usize {
        self.dirty.len()
    }

    /// Applies every message of one notification datagram.
    ///
    /// Only AF_UNSPEC link messages describe links: the bridge also sends AF_BRIDGE
    /// RTM_NEWLINK/RTM_DELLINK about its ports on the same group (a port leaving its bridge
    /// gives an AF_BRIDGE RTM_DELLINK although the link still exists).
    ///
    /// An RTM_DELLINK counts as a change even for an ifindex the cache does not know: IMM
    /// may hold an object for it from before the seed.
    pub fn apply_datagram(&mut self, bytes: &[u8]) -> Applied {
        let mut a = Applied::default();
        for m in wire::messages(bytes) {
            let Ok(m) = m else {
                // The rest of the datagram cannot be located.
                a.unparsable += 1;
                break;
            };
            match m.kind {
                RTM_NEWLINK | RTM_DELLINK => {
                    a.events += 1;
                    let Ok(lm) = wire::parse_link(&m) else {
                        a.unparsable += 1;
                        continue;
                    };
                    if lm.info.family != AF_UNSPEC {
                        continue;
                    }
                    if m.kind == RTM_DELLINK {
                        self.map.remove(&lm.ifindex);
                        self.dirty.insert(lm.ifindex);
                        a.changes += 1;
                        continue;
                    }
                    // The kernel always sends the name; without it a rename would go unseen.
                    let Some(name) = lm.name else {
                        a.unparsable += 1;
                        continue;
                    };
                    let mac = lm.address.unwrap_or(&[]);
                    match self.update(lm.ifindex, name, mac, lm.info.link_type, lm.operstate) {
                        Some(Update::Identity) => a.changes += 1,
                        Some(Update::Oper) => a.oper_changes += 1,
                        Some(Update::None) => {}
                        None => a.unparsable += 1,
                    }
                }
                // An ACK is harmless; an error nobody asked for means something went wrong.
                NLMSG_ERROR if !matches!(wire::parse_error(&m), Ok(None)) => a.unparsable += 1,
                NLMSG_OVERRUN => a.unparsable += 1,
                _ => {}
            }
        }
        a
    }

    /// Returns what changed (`None`: a name or address longer than the kernel allows). A
    /// message without IFLA_OPERSTATE leaves the known state alone.
    fn update(
        &mut self,
        ifindex: u32,
        name: &[u8],
        mac: &[u8],
        link_type: u16,
        oper: Option<u8>,
    ) -> Option<Update> {
        let old = self.map.get(&ifindex);
        let oper = oper.or(old.map(|o| o.oper_state)).unwrap_or(0);
        let new = LinkState::new(name, mac, link_type, oper)?;
        let what = match old {
            Some(o) if *o == new => return Some(Update::None),
            Some(o) if o.same_identity(&new) => Update::Oper,
            _ => Update::Identity,
        };
        self.map.insert(ifindex, new);
        self.dirty.insert(ifindex);
        Some(what)
    }
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
