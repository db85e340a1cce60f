//! What IMM holds under the node object, as the sync worker knows it: the interface objects
//! by DN, and by ifindex, so a link that was deleted or renamed finds its old object without
//! a scan of all of them.

use std::collections::BTreeMap;

use super::Change;
use crate::model::IfRecord;
use crate::osaf::Dn;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImmView {
    objects: BTreeMap<Dn, IfRecord>,
    /// The DNs whose record holds each ifindex. One, unless IMM held stale objects when it
    /// was read (ifindexes are reused after a reboot); a full sync repairs those.
    by_ifindex: BTreeMap<u32, Vec<Dn>>,
}

impl ImmView {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn objects(&self) -> &BTreeMap<Dn, IfRecord> {
        &self.objects
    }

    pub fn get(&self, dn: &Dn) -> Option<&IfRecord> {
        self.objects.get(dn)
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The objects whose record names `ifindex`.
    pub fn dns_of(&self, ifindex: u32) -> &[Dn] {
        self.by_ifindex.get(&ifindex).map_or(&[], Vec::as_slice)
    }

    pub fn insert(&mut self, dn: Dn, rec: IfRecord) {
        self.unindex(&dn);
        self.by_ifindex
            .entry(rec.ifindex)
            .or_default()
            .push(dn.clone());
        self.objects.insert(dn, rec);
    }

    pub fn remove(&mut self, dn: &Dn) {
        self.unindex(dn);
        self.objects.remove(dn);
    }

    /// Records a change that was written.
    pub fn apply(&mut self, change: &Change) {
        match change {
            Change::Create(dn, rec) | Change::Update(dn, rec, _) => {
                self.insert(dn.clone(), rec.clone())
            }
            Change::Delete(dn) => self.remove(dn),
        }
    }

    fn unindex(&mut self, dn: &Dn) {
        let Some(old) = self.objects.get(dn) else {
            return;
        };
        if let Some(dns) = self.by_ifindex.get_mut(&old.ifindex) {
            dns.retain(|d| d != dn);
            if dns.is_empty() {
                self.by_ifindex.remove(&old.ifindex);
            }
        }
    }
}

impl FromIterator<(Dn, IfRecord)> for ImmView {
    fn from_iter<I: IntoIterator<Item = (Dn, IfRecord)>>(iter: I) -> Self {
        let mut v = ImmView::new();
        for (dn, rec) in iter {
            v.insert(dn, rec);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dn(s: &str) -> Dn {
        Dn::parse(s, 255).unwrap()
    }

    fn rec(ifindex: u32) -> IfRecord {
        IfRecord {
            mac: String::new(),
            ifindex,
            oper: 6,
        }
    }

    #[test]
    fn the_ifindex_index_follows_every_write() {
        let mut v: ImmView = [(dn("i=a,n=1"), rec(2)), (dn("i=b,n=1"), rec(3))]
            .into_iter()
            .collect();
        assert_eq!(v.dns_of(2), [dn("i=a,n=1")]);
        // An update that moves an object to another ifindex moves its index entry.
        v.apply(&Change::Update(dn("i=a,n=1"), rec(5), rec(2)));
        assert!(v.dns_of(2).is_empty());
        assert_eq!(v.dns_of(5), [dn("i=a,n=1")]);
        // Two stale objects with one ifindex are both found.
        v.insert(dn("i=c,n=1"), rec(3));
        assert_eq!(v.dns_of(3), [dn("i=b,n=1"), dn("i=c,n=1")]);
        v.apply(&Change::Delete(dn("i=b,n=1")));
        assert_eq!(v.dns_of(3), [dn("i=c,n=1")]);
        v.remove(&dn("i=c,n=1"));
        v.remove(&dn("i=never,n=1"));
        assert!(v.dns_of(3).is_empty());
        assert_eq!(v.len(), 1);
        assert_eq!(v.by_ifindex.len(), 1, "no empty index entries left behind");
    }
}
