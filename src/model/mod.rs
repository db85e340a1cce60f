//! macsync's IMM model (samples/macsync-classes.xml): one `MacSyncNode` object per node and
//! one `MacSyncInterface` child per mirrored link, named after the link.
//!
//! - `node`: the node object (counters, mirror state, the reader's rule);
//! - `interface`: the interface objects (what one holds, which IMM should hold);
//! - here: the names (classes, RDNs, the implementer) and what both share.

mod interface;
mod node;

pub use interface::{desired, desired_one, IfRecord, ATTR_IFINDEX, ATTR_MAC, ATTR_OPER};
pub use node::{
    node_create_attrs, not_synced_attrs, Counters, MirrorState, NodeState, ATTR_LAST_SYNC,
    ATTR_STATE, ATTR_STATE_BY, ATTR_STATE_TIME, COUNTER_ATTRS, NODE_STATE_ATTRS,
};

use crate::osaf::{Attr, AttrValue, Dn, DnError};

pub const NODE_CLASS: &str = "MacSyncNode";
pub const NODE_RDN: &str = "macSyncNodeId";
pub const IF_CLASS: &str = "MacSyncInterface";
pub const IF_RDN: &str = "macSyncInterfaceId";
/// IMM's own attribute naming the implementer an object is bound to (`<Empty>` while none
/// is attached).
pub const ATTR_IMPLEMENTER: &str = "SaImmAttrImplementerName";

/// The implementer name that owns one node's objects.
pub fn implementer_name(node: &str) -> String {
    format!("macsync-{node}")
}

pub fn node_dn(node: &str, parent: Option<&Dn>, max: usize) -> Result<Dn, DnError> {
    Dn::child(parent, NODE_RDN, node.as_bytes(), max)
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
