//! macsync's IMM model (samples/macsync-classes.xml): one `MacSyncNode` object per node and
//! one `MacSyncInterface` child per mirrored link, named after the link.

use std::collections::BTreeMap;

use crate::netlink::{Link, LinkFilter};
use crate::osaf::{Attr, AttrValue, Dn, DnError};

pub const NODE_CLASS: &str = "MacSyncNode";
pub const NODE_RDN: &str = "macSyncNodeId";
pub const IF_CLASS: &str = "MacSyncInterface";
pub const IF_RDN: &str = "macSyncInterfaceId";
pub const ATTR_MAC: &str = "macAddress";
pub const ATTR_IFINDEX: &str = "ifIndex";
pub const ATTR_OPER: &str = "operState";
/// The node object's counters, in the order of [`Counters::values`].
pub const COUNTER_ATTRS: [&str; 7] = [
    "syncs",
    "objectsCreated",
    "objectsUpdated",
    "objectsDeleted",
    "changeEvents",
    "resyncs",
    "forgedDropped",
];
pub const ATTR_LAST_SYNC: &str = "lastSyncTime";

/// The implementer name that owns one node's objects.
pub fn implementer_name(node: &str) -> String {
    format!("macsync-{node}")
}

pub fn node_dn(node: &str, parent: Option<&Dn>, max: usize) -> Result<Dn, DnError> {
    Dn::child(parent, NODE_RDN, node.as_bytes(), max)
}

/// What one interface object holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfRecord {
    pub mac: String,
    pub ifindex: u32,
    pub oper: u32,
}

impl IfRecord {
    pub fn from_link(l: &Link) -> IfRecord {
        IfRecord {
            mac: l.mac_string(),
            ifindex: l.ifindex,
            oper: l.oper_state.into(),
        }
    }

    /// Attributes for a create; the MAC is left out when the link has none (IMM refuses an
    /// attribute given with zero values).
    pub fn attrs(&self) -> Vec<Attr> {
        let mut a = Vec::with_capacity(3);
        if !self.mac.is_empty() {
            a.push(Attr::one(ATTR_MAC, AttrValue::Str(self.mac.clone())));
        }
        a.push(Attr::one(ATTR_IFINDEX, AttrValue::U32(self.ifindex)));
        a.push(Attr::one(ATTR_OPER, AttrValue::U32(self.oper)));
        a
    }

    /// Only the attributes that differ from `old`.
    pub fn changed_attrs(&self, old: &IfRecord) -> Vec<Attr> {
        self.attrs()
            .into_iter()
            .filter(|a| match a.name.as_str() {
                ATTR_MAC => self.mac != old.mac,
                ATTR_IFINDEX => self.ifindex != old.ifindex,
                _ => self.oper != old.oper,
            })
            .collect()
    }

    /// Reads an object as IMM returned it; missing attributes read as empty / 0.
    pub fn from_attrs(attrs: &[Attr]) -> IfRecord {
        let get = |n: &str| {
            attrs
                .iter()
                .find(|a| a.name == n)
                .and_then(|a| a.values.first())
        };
        IfRecord {
            mac: get(ATTR_MAC)
                .and_then(AttrValue::as_str)
                .unwrap_or_default()
                .to_string(),
            ifindex: get(ATTR_IFINDEX).and_then(AttrValue::as_u64).unwrap_or(0) as u32,
            oper: get(ATTR_OPER).and_then(AttrValue::as_u64).unwrap_or(0) as u32,
        }
    }
}

/// The interface objects IMM should hold for `links`, and the links that cannot be named
/// in IMM (each with the reason, for the log).
pub fn desired(
    links: &[Link],
    filter: &LinkFilter,
    node: &Dn,
    max_dn: usize,
) -> (BTreeMap<Dn, IfRecord>, Vec<DnError>) {
    let mut want = BTreeMap::new();
    let mut refused = Vec::new();
    for l in links {
        match desired_one(l, filter, node, max_dn) {
            Some(Ok((dn, rec))) => {
                want.insert(dn, rec);
            }
            Some(Err(e)) => refused.push(e),
            None => {}
        }
    }
    (want, refused)
}

/// The interface object IMM should hold for one link: `None` when the filter leaves the link
/// out, an error when IMM cannot name it.
pub fn desired_one(
    l: &Link,
    filter: &LinkFilter,
    node: &Dn,
    max_dn: usize,
) -> Option<Result<(Dn, IfRecord), DnError>> {
    if !filter.accepts(l) {
        return None;
    }
    Some(Dn::child(Some(node), IF_RDN, &l.name, max_dn).map(|dn| (dn, IfRecord::from_link(l))))
}

/// The node object's cumulative counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub syncs: u64,
    pub created: u64,
    pub updated: u64,
    pub deleted: u64,
    pub change_events: u64,
    pub resyncs: u64,
    pub forged_dropped: u64,
}

impl Counters {
    pub fn values(&self) -> [u64; 7] {
        [
            self.syncs,
            self.created,
            self.updated,
            self.deleted,
            self.change_events,
            self.resyncs,
            self.forged_dropped,
        ]
    }

    pub fn from_attrs(attrs: &[Attr]) -> Counters {
        let get = |n: &str| {
            attrs
                .iter()
                .find(|a| a.name == n)
                .and_then(|a| a.values.first())
                .and_then(AttrValue::as_u64)
                .unwrap_or(0)
        };
        let v: Vec<u64> = COUNTER_ATTRS.iter().map(|n| get(n)).collect();
        Counters {
            syncs: v[0],
            created: v[1],
            updated: v[2],
            deleted: v[3],
            change_events: v[4],
            resyncs: v[5],
            forged_dropped: v[6],
        }
    }

    pub fn attrs(&self, last_sync_ns: i64) -> Vec<Attr> {
        let mut a: Vec<Attr> = COUNTER_ATTRS
            .iter()
            .zip(self.values())
            .map(|(n, v)| Attr::one(n, AttrValue::U64(v)))
            .collect();
        a.push(Attr::one(ATTR_LAST_SYNC, AttrValue::Time(last_sync_ns)));
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(ifindex: u32, name: &[u8], mac: &[u8], link_type: u16) -> Link {
        Link {
            ifindex,
            name: name.to_vec(),
            mac: mac.to_vec(),
            link_type,
            oper_state: 6,
        }
    }

    #[test]
    fn desired_names_each_accepted_link_under_the_node_and_lists_the_refused() {
        let node = node_dn("SC-1", None, 255).unwrap();
        let links = [
            link(1, b"lo", &[0; 6], 772),
            link(2, b"eth0", &[2, 0, 0, 0, 0, 1], 1),
            link(3, b"a,b", &[2, 0, 0, 0, 0, 2], 1),
            link(4, b"bad name", &[2, 0, 0, 0, 0, 3], 1),
        ];
        let (want, refused) = desired(&links, &LinkFilter::default(), &node, 255);
        let names: Vec<&str> = want.keys().map(Dn::as_str).collect();
        assert_eq!(
            names,
            [
                "macSyncInterfaceId=a\\,b,macSyncNodeId=SC-1",
                "macSyncInterfaceId=eth0,macSyncNodeId=SC-1"
            ],
            "loopback is not Ethernet; ',' is escaped"
        );
        assert_eq!(refused.len(), 1, "{refused:?}");
        let eth0 = &want[&Dn::child(Some(&node), IF_RDN, b"eth0", 255).unwrap()];
        assert_eq!(
            eth0,
            &IfRecord {
                mac: "02:00:00:00:00:01".into(),
                ifindex: 2,
                oper: 6
            }
        );
    }

    #[test]
    fn records_write_only_what_changed_and_read_back_what_they_wrote() {
        let old = IfRecord {
            mac: "02:00:00:00:00:01".into(),
            ifindex: 2,
            oper: 6,
        };
        let new = IfRecord {
            oper: 2,
            ..old.clone()
        };
        let changed = new.changed_attrs(&old);
        assert_eq!(changed, [Attr::one(ATTR_OPER, AttrValue::U32(2))]);
        assert_eq!(IfRecord::from_attrs(&new.attrs()), new);
        // No MAC: the attribute is left out (IMM refuses zero values) and reads back empty.
        let no_mac = IfRecord {
            mac: String::new(),
            ..old
        };
        assert!(no_mac.attrs().iter().all(|a| a.name != ATTR_MAC));
        assert_eq!(IfRecord::from_attrs(&no_mac.attrs()), no_mac);
    }

    #[test]
    fn counters_read_back_what_they_wrote() {
        let c = Counters {
            syncs: 1,
            created: 2,
            updated: 3,
            deleted: 4,
            change_events: 5,
            resyncs: 6,
            forged_dropped: 7,
        };
        let attrs = c.attrs(42);
        assert_eq!(Counters::from_attrs(&attrs), c);
        assert_eq!(
            attrs.last(),
            Some(&Attr::one(ATTR_LAST_SYNC, AttrValue::Time(42)))
        );
        assert_eq!(Counters::from_attrs(&[]), Counters::default());
    }
}
