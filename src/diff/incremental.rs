//! The diff of one incremental sync: only the links that changed since the last sync, each
//! with what IMM should hold for it now, against the view. Its cost is that of the changed
//! links (a few map look-ups each), whatever the number of links.

use std::collections::{BTreeMap, BTreeSet};

use super::{push_writes, Change, ImmView};
use crate::model::IfRecord;
use crate::osaf::Dn;

/// Changes that make IMM right for the links in `changed`, given that it was right for every
/// other link: `(ifindex, Some((dn, record)))` for a link IMM should show, `(ifindex, None)`
/// for one it should not (gone, filtered out, or a name IMM refuses).
///
/// A link's old object is found through the view's ifindex index: a link that went away, or
/// was renamed (a new DN), has its old object deleted; a rename is that delete plus a create.
/// Deletes come first, then creates and updates, each in DN order, as in the full diff.
pub fn diff_incremental(view: &ImmView, changed: &[(u32, Option<(Dn, IfRecord)>)]) -> Vec<Change> {
    let want: BTreeMap<&Dn, &IfRecord> = changed
        .iter()
        .filter_map(|(_, w)| w.as_ref().map(|(dn, rec)| (dn, rec)))
        .collect();
    let stale: BTreeSet<&Dn> = changed
        .iter()
        .flat_map(|(ifindex, _)| view.dns_of(*ifindex))
        .filter(|dn| !want.contains_key(dn))
        .collect();
    let mut out: Vec<Change> = stale
        .into_iter()
        .map(|dn| Change::Delete(dn.clone()))
        .collect();
    push_writes(&mut out, want, |dn| view.get(dn));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::diff;

    fn dn(name: &str) -> Dn {
        Dn::parse(&format!("i={name},n=1"), 255).unwrap()
    }

    fn rec(ifindex: u32, mac: &str, oper: u32) -> IfRecord {
        IfRecord {
            mac: mac.into(),
            ifindex,
            oper,
        }
    }

    /// What IMM should hold for a kernel table of ifindex -> (name, MAC, operstate).
    type Kernel = BTreeMap<u32, (String, String, u32)>;

    fn desired(k: &Kernel) -> BTreeMap<Dn, IfRecord> {
        k.iter()
            .map(|(i, (name, mac, oper))| (dn(name), rec(*i, mac, *oper)))
            .collect()
    }

    fn want_of(k: &Kernel, ifindex: u32) -> (u32, Option<(Dn, IfRecord)>) {
        let w = k
            .get(&ifindex)
            .map(|(name, mac, oper)| (dn(name), rec(ifindex, mac, *oper)));
        (ifindex, w)
    }

    fn applied(view: &ImmView, changes: &[Change]) -> ImmView {
        let mut v = view.clone();
        for c in changes {
            v.apply(c);
        }
        v
    }

    #[test]
    fn each_kind_of_change_touches_only_its_objects() {
        let view: ImmView = [
            (dn("a"), rec(2, "02:00:00:00:00:01", 6)),
            (dn("b"), rec(3, "02:00:00:00:00:02", 6)),
            (dn("c"), rec(4, "02:00:00:00:00:03", 6)),
        ]
        .into_iter()
        .collect();
        let changed = [
            // a renamed to lan0: its old object goes, a new one comes.
            (2, Some((dn("lan0"), rec(2, "02:00:00:00:00:01", 6)))),
            // b went down.
            (3, Some((dn("b"), rec(3, "02:00:00:00:00:02", 2)))),
            // c deleted; 9 deleted without ever being mirrored.
            (4, None),
            (9, None),
            // 5 added.
            (5, Some((dn("new"), rec(5, "", 6)))),
        ];
        assert_eq!(
            diff_incremental(&view, &changed),
            [
                Change::Delete(dn("a")),
                Change::Delete(dn("c")),
                Change::Update(
                    dn("b"),
                    rec(3, "02:00:00:00:00:02", 2),
                    rec(3, "02:00:00:00:00:02", 6)
                ),
                Change::Create(dn("lan0"), rec(2, "02:00:00:00:00:01", 6)),
                Change::Create(dn("new"), rec(5, "", 6)),
            ]
        );
        // A link marked changed whose state came back to what IMM holds: nothing to write.
        let flapped = [(3, Some((dn("b"), rec(3, "02:00:00:00:00:02", 6))))];
        assert!(diff_incremental(&view, &flapped).is_empty());
    }

    #[test]
    fn two_links_swapping_names_update_both_objects_in_place() {
        let view: ImmView = [(dn("x"), rec(2, "", 6)), (dn("y"), rec(3, "", 6))]
            .into_iter()
            .collect();
        let changed = [
            (2, Some((dn("y"), rec(2, "", 6)))),
            (3, Some((dn("x"), rec(3, "", 6)))),
        ];
        let d = diff_incremental(&view, &changed);
        assert_eq!(
            d,
            [
                Change::Update(dn("x"), rec(3, "", 6), rec(2, "", 6)),
                Change::Update(dn("y"), rec(2, "", 6), rec(3, "", 6)),
            ]
        );
        assert_eq!(applied(&view, &d).dns_of(2), [dn("y")]);
    }

    /// From any table IMM mirrors, any set of changes to it, and a changed set holding at
    /// least the links that changed (plus some that did not, as operstate flaps leave it),
    /// the incremental diff ends where the full diff does.
    #[test]
    fn ends_where_the_full_diff_ends_for_random_changes() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for round in 0..2000 {
            let mut old = Kernel::new();
            for i in 1..=rnd(12) as u32 {
                old.insert(i, (format!("l{}", rnd(15)), format!("m{}", rnd(3)), 2));
            }
            // Kernel names are unique.
            let mut seen = BTreeSet::new();
            old.retain(|_, (n, _, _)| seen.insert(n.clone()));
            let mut new = old.clone();
            for _ in 0..rnd(6) {
                let i = 1 + rnd(14) as u32;
                match rnd(4) {
                    0 => {
                        new.remove(&i);
                    }
                    1 => {
                        new.insert(i, (format!("l{}", rnd(15)), format!("m{}", rnd(3)), 2));
                    }
                    2 => {
                        if let Some(e) = new.get_mut(&i) {
                            e.2 = 6;
                        }
                    }
                    _ => {
                        if let Some(e) = new.get_mut(&i) {
                            e.1 = format!("m{}", rnd(3));
                        }
                    }
                }
                let mut seen = BTreeSet::new();
                new.retain(|_, (n, _, _)| seen.insert(n.clone()));
            }
            let view: ImmView = desired(&old).into_iter().collect();
            let mut ifindexes: BTreeSet<u32> = old
                .keys()
                .chain(new.keys())
                .filter(|i| old.get(i) != new.get(i))
                .copied()
                .collect();
            ifindexes.extend((0..rnd(3)).map(|_| 1 + rnd(14) as u32));
            let changed: Vec<_> = ifindexes.iter().map(|&i| want_of(&new, i)).collect();
            let inc = applied(&view, &diff_incremental(&view, &changed));
            let full = applied(&view, &diff(view.objects(), &desired(&new)));
            assert_eq!(
                inc.objects(),
                &desired(&new),
                "round {round}: {old:?} -> {new:?}"
            );
            assert_eq!(inc, full, "round {round}");
        }
    }
}
