//! The node object (`MacSyncNode`): its cumulative counters, its mirror state, and the
//! reader's rule that tells whether a node's interface objects are current.

use super::{first_value, implementer_name, ATTR_IMPLEMENTER, NODE_RDN};
use crate::osaf::{Attr, AttrValue, Dn};

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
        state_attrs(self as u32, time_ns, by)
    }
}

/// A state write saying `mirrorState` 0 (not current): a macsync that has just set its
/// implementer name and has not synced yet. IMM would otherwise show again the state cached
/// from the name's previous holder (LIVE of a dead process) with the new holder's name.
pub fn not_synced_attrs(time_ns: i64, by: &str) -> Vec<Attr> {
    state_attrs(0, time_ns, by)
}

fn state_attrs(state: u32, time_ns: i64, by: &str) -> Vec<Attr> {
    vec![
        Attr::one(ATTR_STATE, AttrValue::U32(state)),
        Attr::one(ATTR_STATE_TIME, AttrValue::Time(time_ns)),
        Attr::one(ATTR_STATE_BY, AttrValue::Str(by.to_string())),
    ]
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
    use crate::model::node_dn;

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
        let a = not_synced_attrs(7, "SC-1");
        assert_eq!(a[0], Attr::one(ATTR_STATE, AttrValue::U32(0)));
        assert_eq!(NodeState::from_attrs(&a).state, None, "0: not current");
        assert_eq!(NodeState::from_attrs(&a).by, "SC-1");
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
