//! What one sync works from: the links it took from the monitor's cache, either those that
//! changed since the last sync (an incremental sync) or all of them (a full sync), and what
//! IMM should hold for them.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Refused;
use crate::model::{self, IfRecord};
use crate::netlink::{Link, LinkFilter, LinkState, NotSeeded, SharedCache};
use crate::osaf::Dn;

/// What IMM should hold for each changed link (`None`: nothing).
pub(super) type Wanted = Vec<(u32, Option<(Dn, IfRecord)>)>;

/// How links are turned into interface objects.
pub(super) struct Naming<'a> {
    pub filter: &'a LinkFilter,
    pub node: &'a Dn,
    pub max_dn: usize,
}

pub(super) struct Batch {
    cache: Arc<SharedCache>,
    /// Every link (a full sync), or only the changed ones.
    full: bool,
    changed: Vec<(u32, Option<LinkState>)>,
    all: Vec<(u32, LinkState)>,
}

impl Batch {
    pub fn new(cache: Arc<SharedCache>) -> Batch {
        Batch {
            cache,
            full: false,
            changed: Vec::new(),
            all: Vec::new(),
        }
    }

    /// Takes links from the cache: all of them if `full`, else those changed since the last
    /// take. Call after taking the flag (crate::flag). The vectors keep their memory from
    /// one sync to the next, so an incremental take allocates nothing once warm.
    pub fn take(&mut self, full: bool) -> Result<(), NotSeeded> {
        self.full = full;
        self.changed.clear();
        self.all.clear();
        if full {
            self.cache.take_all(&mut self.all)
        } else {
            self.cache.take_changed(&mut self.changed)
        }
    }

    /// The view has to be re-read (new IMM handles, an unknown outcome): only a full sync
    /// can tell what IMM should hold then. Takes every link; the changed ones taken already
    /// are among them, in their current state.
    pub fn widen(&mut self) -> Result<(), NotSeeded> {
        self.take(true)
    }

    pub fn is_full(&self) -> bool {
        self.full
    }

    /// Links taken.
    pub fn len(&self) -> usize {
        if self.full {
            self.all.len()
        } else {
            self.changed.len()
        }
    }

    /// The sync failed: the changed links are pending again (a failed full sync is retried
    /// as a full sync, through the flag).
    pub fn put_back(&self) {
        if !self.full {
            self.cache.put_back(self.changed.iter().map(|(i, _)| *i));
        }
    }

    /// A full sync: what IMM should hold, and the links it cannot name.
    pub fn desired(&self, n: &Naming) -> (BTreeMap<Dn, IfRecord>, Vec<Refused>) {
        let links: Vec<Link> = self.all.iter().map(|(i, s)| s.to_link(*i)).collect();
        let (want, refused) = model::desired(&links, n.filter, n.node, n.max_dn);
        (want, refused.into_iter().map(Refused::from).collect())
    }

    /// An incremental sync: what IMM should hold for each changed link, and the links it
    /// cannot name (they get no object, so an old one is deleted).
    pub fn wanted(&self, n: &Naming) -> (Wanted, Vec<Refused>) {
        let mut refused = Vec::new();
        let wanted = self
            .changed
            .iter()
            .map(|(i, state)| {
                let link = state.map(|s| s.to_link(*i));
                let want =
                    match link.and_then(|l| model::desired_one(&l, n.filter, n.node, n.max_dn)) {
                        Some(Ok(w)) => Some(w),
                        Some(Err(e)) => {
                            refused.push(e.into());
                            None
                        }
                        None => None,
                    };
                (*i, want)
            })
            .collect();
        (wanted, refused)
    }
}
