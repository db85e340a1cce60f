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
/// The node object's mirror state ([`MirrorState`]), when it was written, and by which node.
pub const ATTR_STATE: &str = "mirrorState";
pub const ATTR_STATE_TIME: &str = "mirrorStateTime";
pub const ATTR_STATE_BY: &str = "mirrorStateBy";
/// IMM's own attribute naming the implementer an object is bound to (`<Empty>` while none
/// is attached).
pub const ATTR_IMPLEMENTER: &str = "SaImmAttrImplementerName";
/// What a reader needs to tell whether a node's mirror is current.
pub const NODE_STATE_ATTRS: [&str; 4] =
    [ATTR_STATE, ATTR_STATE_TIME, ATTR_STATE_BY, ATTR_IMPLEMENTER];

/// Who maintains a node's interface objects (`mirrorState` of its node object).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MirrorState {
    /// Maintained by a running, ACTIVE macsync on a CLM member node.
    Live = 1,
    /// macsync on that node stopped writing on purpose (assignment removed, quiesced,
    /// standby, terminated); the objects are as it left them.
    Stopped = 2,
    /// The node left the CLM cluster; a surviving macsync removed its interface objects.
    Departed = 3,
}

impl MirrorState {
    pub fn from_u32(v: u32) -> Option<MirrorState> {
        match v {
            1 => Some(MirrorState::Live),
            2 => Some(MirrorState::Stopped),
            3 => Some(MirrorState::Departed),
            _ => None,
        }
    }

    /// The attributes of a node object's state write: the state, when (ns since the epoch)
    /// and which node's macsync wrote it.
    pub fn attrs(self, time_ns: i64, by: &str) -> Vec<Attr> {
        vec![
            Attr::one(ATTR_STATE, AttrValue::U32(self as u32)),
            Attr::one(ATTR_STATE_TIME, AttrValue::Time(time_ns)),
            Attr::one(ATTR_STATE_BY, AttrValue::Str(by.to_string())),
        ]
    }
}

/// A node object's state as IMM returned it (attributes [`NODE_STATE_ATTRS`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeState {
    /// None: never written (an object made before the attribute existed) or unknown value.
    pub state: Option<MirrorState>,
    pub time_ns: i64,
    pub by: String,
    /// The implementer attached to the object now; empty when none is.
    pub implementer: String,
}

impl NodeState {
    pub fn from_attrs(attrs: &[Attr]) -> NodeState {
        let get = |n: &str| first_value(attrs, n);
        let text = |n: &str| {
            get(n)
                .and_then(AttrValue::as_str)
                .unwrap_or_default()
                .to_string()
        };
        NodeState {
            state: get(ATTR_STATE)
                .and_then(AttrValue::as_u64)
                .and_then(|v| u32::try_from(v).ok())
                .and_then(MirrorState::from_u32),
            time_ns: match get(ATTR_STATE_TIME) {
                Some(AttrValue::Time(t)) | Some(AttrValue::I64(t)) => *t,
                _ => 0,
            },
            by: text(ATTR_STATE_BY),
            implementer: text(ATTR_IMPLEMENTER),
        }
    }

    /// The reader's rule: node `node`'s interface objects are current iff its macsync says
    /// LIVE and is still attached (a killed macsync detaches without writing anything).
    pub fn is_current(&self, node: &str) -> bool {
        self.state == Some(MirrorState::Live) && self.implementer == implementer_name(node)
    }
}

/// The implementer name that owns one node's objects.
pub fn implementer_name(node: &str) -> String {
    format!("macsync-{node}")
}

pub fn node_dn(node: &str, parent: Option<&Dn>, max: usize) -> Result<Dn, DnError> {
    Dn::child(parent, NODE_RDN, node.as_bytes(), max)
}

/// The node object as its own macsync creates it: the RDN and zero counters. Its state is
/// left at the class default (0: not current): LIVE is written with the first sync that made
/// the interface objects under it match the kernel, not before.
pub fn node_create_attrs(node_dn: &Dn) -> Vec<Attr> {
    let mut attrs = vec![Attr::one(
        NODE_RDN,
        AttrValue::Str(node_dn.rdn().to_string()),
    )];
    attrs.extend(Counters::default().attrs(0));
    attrs
}

/// The first value of attribute `name` as IMM returned it (None: absent or `<Empty>`).
fn first_value<'a>(attrs: &'a [Attr], name: &str) -> Option<&'a AttrValue> {
    attrs
        .iter()
        .find(|a| a.name == name)
        .and_then(|a| a.values.first())
}

/// Wall-clock time for SA_TIME_T attributes: nanoseconds since the epoch.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
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

    /// Attributes for a create. Every one is always given: IMM refuses a create that leaves
    /// out a cached attribute without a default, and one given with zero values, so a link
    /// without a hardware address has `macAddress` "" (which also clears a MAC by update).
    pub fn attrs(&self) -> Vec<Attr> {
        vec![
            Attr::one(ATTR_MAC, AttrValue::Str(self.mac.clone())),
            Attr::one(ATTR_IFINDEX, AttrValue::U32(self.ifindex)),
            Attr::one(ATTR_OPER, AttrValue::U32(self.oper)),
        ]
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

    /// Reads an object as IMM returned it; missing attributes read as empty / 0. No MAC is
    /// `macAddress` "" or, on an object an older macsync made, no `macAddress` at all.
    pub fn from_attrs(attrs: &[Attr]) -> IfRecord {
        let get = |n: &str| first_value(attrs, n);
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
            first_value(attrs, n)
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
    }

    #[test]
    fn no_mac_is_written_as_an_empty_string_and_read_from_either_form() {
        let with_mac = IfRecord {
            mac: "02:00:00:00:00:01".into(),
            ifindex: 2,
            oper: 6,
        };
        let no_mac = IfRecord {
            mac: String::new(),
            ..with_mac.clone()
        };
        // IMM refuses a create without macAddress or with it given no values.
        let mac_attr = Attr::one(ATTR_MAC, AttrValue::Str(String::new()));
        assert_eq!(no_mac.attrs()[0], mac_attr);
        assert_eq!(IfRecord::from_attrs(&no_mac.attrs()), no_mac);
        // A MAC that goes away, and comes back, is one attribute replaced.
        assert_eq!(no_mac.changed_attrs(&with_mac), [mac_attr]);
        assert_eq!(
            with_mac.changed_attrs(&no_mac),
            [Attr::one(ATTR_MAC, AttrValue::Str(with_mac.mac.clone()))]
        );
        // An object of an older macsync: the attribute missing, or shown `<Empty>`.
        let rest = &no_mac.attrs()[1..];
        assert_eq!(IfRecord::from_attrs(rest), no_mac);
        let empty = Attr {
            name: ATTR_MAC.into(),
            values: Vec::new(),
        };
        let shown_empty: Vec<Attr> = std::iter::once(empty).chain(rest.to_vec()).collect();
        assert_eq!(IfRecord::from_attrs(&shown_empty), no_mac);
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

    #[test]
    fn mirror_state_values_are_the_documented_ones() {
        for (v, s) in [
            (1, MirrorState::Live),
            (2, MirrorState::Stopped),
            (3, MirrorState::Departed),
        ] {
            assert_eq!(MirrorState::from_u32(v), Some(s));
            assert_eq!(s as u32, v);
        }
        assert_eq!(MirrorState::from_u32(0), None);
        assert_eq!(MirrorState::from_u32(4), None);
        let a = MirrorState::Departed.attrs(42, "SC-2");
        assert_eq!(a[0], Attr::one(ATTR_STATE, AttrValue::U32(3)));
        assert_eq!(a[1], Attr::one(ATTR_STATE_TIME, AttrValue::Time(42)));
        assert_eq!(
            a[2],
            Attr::one(ATTR_STATE_BY, AttrValue::Str("SC-2".into()))
        );
    }

    #[test]
    fn a_mirror_is_current_only_when_live_and_its_own_implementer_is_attached() {
        let read = |state: Option<u32>, imp: &str| {
            let mut attrs = vec![
                Attr::one(ATTR_STATE_TIME, AttrValue::Time(7)),
                Attr::one(ATTR_STATE_BY, AttrValue::Str("PL-3".into())),
            ];
            if let Some(v) = state {
                attrs.push(Attr::one(ATTR_STATE, AttrValue::U32(v)));
            }
            if !imp.is_empty() {
                attrs.push(Attr::one(ATTR_IMPLEMENTER, AttrValue::Str(imp.into())));
            }
            NodeState::from_attrs(&attrs)
        };
        let live = read(Some(1), "macsync-PL-3");
        assert_eq!(live.state, Some(MirrorState::Live));
        assert_eq!((live.time_ns, live.by.as_str()), (7, "PL-3"));
        assert!(live.is_current("PL-3"));
        assert!(!live.is_current("PL-4"), "another node's implementer");
        assert!(
            !read(Some(1), "").is_current("PL-3"),
            "macsync killed: detached"
        );
        assert!(
            !read(Some(1), "macsync-SC-1").is_current("PL-3"),
            "a survivor acting"
        );
        assert!(!read(Some(2), "macsync-PL-3").is_current("PL-3"));
        assert!(!read(Some(3), "").is_current("PL-3"));
        assert!(
            !read(None, "macsync-PL-3").is_current("PL-3"),
            "old object, no state"
        );
    }

    #[test]
    fn the_node_object_is_created_with_zero_counters_and_not_yet_current() {
        let dn = node_dn("SC-1", None, crate::osaf::MAX_DN).unwrap();
        let attrs = node_create_attrs(&dn);
        assert_eq!(
            attrs[0],
            Attr::one(NODE_RDN, AttrValue::Str("macSyncNodeId=SC-1".into()))
        );
        let state = NodeState::from_attrs(&attrs);
        assert_eq!(state.state, None, "LIVE only once the first sync is done");
        assert!(!state.is_current("SC-1"));
        assert_eq!(Counters::from_attrs(&attrs), Counters::default());
    }
}
