//! What to write so IMM matches the kernel: pure comparisons, no IMM and no netlink.
//!
//! - this file: [`Change`] and [`diff`], the full comparison of two maps (a full sync);
//! - `view`: [`ImmView`], what IMM holds, by DN and by ifindex;
//! - `incremental`: [`diff_incremental`], only the links that changed since the last sync.

mod incremental;
mod view;

use std::collections::BTreeMap;

pub use incremental::diff_incremental;
pub use view::ImmView;

use crate::model::IfRecord;
use crate::osaf::Dn;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Create(Dn, IfRecord),
    /// New record and the old one (only the differing attributes are written).
    Update(Dn, IfRecord, IfRecord),
    Delete(Dn),
}

impl Change {
    /// The object it writes.
    pub fn dn(&self) -> &Dn {
        match self {
            Change::Create(dn, _) | Change::Update(dn, _, _) | Change::Delete(dn) => dn,
        }
    }
}

/// Changes that turn `current` into `desired`: deletes first, then creates and updates,
/// each in DN order. Unchanged objects produce nothing.
pub fn diff(current: &BTreeMap<Dn, IfRecord>, desired: &BTreeMap<Dn, IfRecord>) -> Vec<Change> {
    let mut out: Vec<Change> = current
        .keys()
        .filter(|dn| !desired.contains_key(*dn))
        .map(|dn| Change::Delete(dn.clone()))
        .collect();
    push_writes(&mut out, desired, |dn| current.get(dn));
    out
}

/// Appends a create or an update for each wanted object that IMM (`have`) does not hold as
/// wanted, in the order given.
fn push_writes<'w, 'h>(
    out: &mut Vec<Change>,
    want: impl IntoIterator<Item = (&'w Dn, &'w IfRecord)>,
    have: impl Fn(&Dn) -> Option<&'h IfRecord>,
) {
    for (dn, want) in want {
        match have(dn) {
            None => out.push(Change::Create(dn.clone(), want.clone())),
            Some(have) if have != want => {
                out.push(Change::Update(dn.clone(), want.clone(), have.clone()))
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dn(s: &str) -> Dn {
        Dn::parse(s, 255).unwrap()
    }

    fn rec(mac: &str, ifindex: u32) -> IfRecord {
        IfRecord {
            mac: mac.into(),
            ifindex,
            oper: 6,
        }
    }

    #[test]
    fn only_differences_are_written() {
        let mut cur = BTreeMap::new();
        cur.insert(dn("i=a,n=1"), rec("02:00:00:00:00:01", 2));
        cur.insert(dn("i=b,n=1"), rec("02:00:00:00:00:02", 3));
        cur.insert(dn("i=gone,n=1"), rec("02:00:00:00:00:03", 4));
        let mut want = cur.clone();
        want.remove(&dn("i=gone,n=1"));
        want.insert(dn("i=b,n=1"), rec("02:00:00:00:00:99", 3));
        want.insert(dn("i=new,n=1"), rec("02:00:00:00:00:04", 5));
        let d = diff(&cur, &want);
        assert_eq!(
            d,
            vec![
                Change::Delete(dn("i=gone,n=1")),
                Change::Update(
                    dn("i=b,n=1"),
                    rec("02:00:00:00:00:99", 3),
                    rec("02:00:00:00:00:02", 3)
                ),
                Change::Create(dn("i=new,n=1"), rec("02:00:00:00:00:04", 5)),
            ]
        );
        assert!(diff(&want, &want).is_empty());
        if let Change::Update(_, new, old) = &d[1] {
            let attrs = new.changed_attrs(old);
            assert_eq!(attrs.len(), 1);
            assert_eq!(attrs[0].name, "macAddress");
        }
    }

    #[test]
    fn a_rename_is_a_delete_and_a_create() {
        let mut cur = BTreeMap::new();
        cur.insert(dn("i=eth0,n=1"), rec("02:00:00:00:00:01", 2));
        let mut want = BTreeMap::new();
        want.insert(dn("i=lan0,n=1"), rec("02:00:00:00:00:01", 2));
        assert_eq!(
            diff(&cur, &want),
            vec![
                Change::Delete(dn("i=eth0,n=1")),
                Change::Create(dn("i=lan0,n=1"), rec("02:00:00:00:00:01", 2))
            ]
        );
    }
}
