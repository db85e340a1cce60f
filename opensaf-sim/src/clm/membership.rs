//! Cluster membership as the IMM store holds it, which is where real OpenSAF's CLM publishes
//! it too: the CLM nodes (`SaClmNode` objects such as `safNode=PL-3,safCluster=myClmCluster`)
//! with the runtime attributes CLM keeps (`saClmNodeIsMember`, `saClmNodeID`, ...), and the
//! cluster object's `saClmClusterNumNodes`. Pure functions of the store's state, plus the
//! cluster view number, which IMM does not hold: a file of the state directory.

use std::path::Path;

use crate::imm::journal::Op;
use crate::imm::model::Value;
use crate::imm::rules::parent_of;
use crate::imm::state::ImmState;

pub const NODE_CLASS: &str = "SaClmNode";
/// The file holding the current cluster view number.
pub const VIEW_FILE: &str = "clm.view";

/// A CLM node as CLM describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// `safNode=PL-3,safCluster=myClmCluster`.
    pub dn: String,
    pub id: u32,
    pub member: bool,
    /// Nanoseconds since the epoch (SaTimeT).
    pub boot_timestamp: i64,
    /// The view in which the node joined.
    pub initial_view: u64,
    pub address_family: u32,
    pub address: String,
    /// `saClmNodeEE`, empty when not set.
    pub ee: String,
}

impl Node {
    /// The RDN value's name part: `PL-3` of `safNode=PL-3,...`.
    pub fn short_name(&self) -> &str {
        short_name(&self.dn)
    }
}

fn short_name(dn: &str) -> &str {
    let rdn = dn.split(',').next().unwrap_or(dn);
    rdn.strip_prefix("safNode=").unwrap_or(rdn)
}

/// OpenSAF's node id for a node in a slot: `0x2SS0F` (chassis 2, slot SS, subslot 0xF),
/// measured on a real cluster as 0x2010F for SC-1. The slot is the number a node name ends
/// in (`PL-3`: 3); a name without one gets a slot from a hash of the name.
pub fn node_id(dn: &str) -> u32 {
    let name = short_name(dn);
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let slot = name[name.len() - digits..]
        .parse::<u32>()
        .ok()
        .filter(|s| (1..=255).contains(s))
        .unwrap_or_else(|| {
            let h = name
                .bytes()
                .fold(0u32, |h, b| h.wrapping_mul(31) ^ u32::from(b));
            100 + h % 150
        });
    0x2_000F | (slot << 8)
}

fn u32_of(v: Option<&[Value]>) -> Option<u32> {
    match v {
        Some([Value::Uint32(n)]) => Some(*n),
        _ => None,
    }
}

fn node_of(st: &ImmState, dn: &str) -> Option<Node> {
    let o = st.objects.get(dn).filter(|o| o.class.name == NODE_CLASS)?;
    let text = |attr: &str| match o.get(attr) {
        Some([Value::String(s)]) | Some([Value::Name(s)]) => s.clone(),
        _ => String::new(),
    };
    Some(Node {
        dn: dn.to_string(),
        id: u32_of(o.get("saClmNodeID")).unwrap_or_else(|| node_id(dn)),
        member: u32_of(o.get("saClmNodeIsMember")) == Some(1),
        boot_timestamp: match o.get("saClmNodeBootTimeStamp") {
            Some([Value::Time(t)]) => *t,
            _ => 0,
        },
        initial_view: match o.get("saClmNodeInitialViewNumber") {
            Some([Value::Uint64(v)]) => *v,
            _ => 0,
        },
        address_family: u32_of(o.get("saClmNodeCurrAddressFamily")).unwrap_or(0),
        address: text("saClmNodeCurrAddress"),
        ee: text("saClmNodeEE"),
    })
}

/// Every CLM node, in DN order.
pub fn nodes(st: &ImmState) -> Vec<Node> {
    let mut dns: Vec<&String> = st
        .objects
        .iter()
        .filter(|(_, o)| o.class.name == NODE_CLASS)
        .map(|(dn, _)| dn)
        .collect();
    dns.sort();
    dns.into_iter().filter_map(|dn| node_of(st, dn)).collect()
}

/// The node called `name`: its DN, or the name in its RDN (`PL-3`).
pub fn find(st: &ImmState, name: &str) -> Option<Node> {
    if let Some(n) = node_of(st, name) {
        return Some(n);
    }
    nodes(st).into_iter().find(|n| n.short_name() == name)
}

/// `saClmClusterNumNodes` of the cluster objects, as it is after `changed` became (or
/// stopped being) a member.
fn cluster_count_ops(st: &ImmState, changed: &str, now_member: bool) -> Vec<Op> {
    let cluster = parent_of(changed);
    let count = nodes(st)
        .iter()
        .filter(|n| parent_of(&n.dn) == cluster)
        .filter(|n| {
            if n.dn == changed {
                now_member
            } else {
                n.member
            }
        })
        .count() as u32;
    if !st.objects.contains_key(cluster) {
        return Vec::new();
    }
    vec![Op::SetAttrs {
        dn: cluster.to_string(),
        attrs: vec![("saClmClusterNumNodes".into(), vec![Value::Uint32(count)])],
    }]
}

/// The store changes of `dn` joining the cluster in `view` (booted at `now_ns`).
pub fn join_ops(st: &ImmState, dn: &str, view: u64, now_ns: i64) -> Vec<Op> {
    let mut ops = vec![Op::SetAttrs {
        dn: dn.to_string(),
        attrs: vec![
            ("saClmNodeIsMember".into(), vec![Value::Uint32(1)]),
            ("saClmNodeID".into(), vec![Value::Uint32(node_id(dn))]),
            (
                "saClmNodeInitialViewNumber".into(),
                vec![Value::Uint64(view)],
            ),
            ("saClmNodeBootTimeStamp".into(), vec![Value::Time(now_ns)]),
            ("saClmNodeCurrAddressFamily".into(), vec![Value::Uint32(1)]),
            (
                "saClmNodeCurrAddress".into(),
                vec![Value::String("127.0.0.1".into())],
            ),
            ("saClmNodeAdminState".into(), vec![Value::Uint32(1)]),
        ],
    }];
    ops.extend(cluster_count_ops(st, dn, true));
    ops
}

/// The store changes of `dn` leaving the cluster (its other attributes keep their values,
/// as on a real cluster).
pub fn leave_ops(st: &ImmState, dn: &str) -> Vec<Op> {
    let mut ops = vec![Op::SetAttrs {
        dn: dn.to_string(),
        attrs: vec![("saClmNodeIsMember".into(), vec![Value::Uint32(0)])],
    }];
    ops.extend(cluster_count_ops(st, dn, false));
    ops
}

/// A fresh cluster: every configured node is a member of view 1, the cluster started now.
pub fn initial_ops(st: &ImmState, now_ns: i64) -> Vec<Op> {
    let mut scratch = st.clone();
    let mut ops = Vec::new();
    for n in nodes(st) {
        for op in join_ops(&scratch, &n.dn, 1, now_ns) {
            scratch.apply(&op);
            ops.push(op);
        }
    }
    let clusters: Vec<&String> = st
        .objects
        .iter()
        .filter(|(_, o)| o.class.name == "SaClmCluster")
        .map(|(dn, _)| dn)
        .collect();
    for dn in clusters {
        ops.push(Op::SetAttrs {
            dn: dn.clone(),
            attrs: vec![(
                "saClmClusterInitTimestamp".into(),
                vec![Value::Time(now_ns)],
            )],
        });
    }
    ops
}

/// The current cluster view number (1 before any change).
pub fn view(dir: &Path) -> u64 {
    std::fs::read_to_string(dir.join(VIEW_FILE))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1)
}

/// Moves to the next view and returns it. Called under the store's write lock, which
/// serializes membership changes.
pub fn next_view(dir: &Path) -> std::io::Result<u64> {
    let v = view(dir) + 1;
    let tmp = dir.join(format!("{VIEW_FILE}.tmp.{}", std::process::id()));
    std::fs::write(&tmp, format!("{v}\n"))?;
    std::fs::rename(&tmp, dir.join(VIEW_FILE))?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_follow_the_slot_as_on_a_real_cluster() {
        assert_eq!(node_id("safNode=SC-1,safCluster=myClmCluster"), 0x2010F);
        assert_eq!(node_id("safNode=PL-3,safCluster=myClmCluster"), 0x2030F);
        let other = node_id("safNode=spare,safCluster=myClmCluster");
        assert_eq!(other & 0xFFFF_00FF, 0x2000F);
        assert_eq!(other, node_id("safNode=spare,safCluster=x"), "stable");
    }

    #[test]
    fn the_builtin_cluster_starts_with_every_node_a_member() {
        let mut st = ImmState::default();
        for op in crate::imm::builtin::system_ops() {
            st.apply(&op);
        }
        let all = nodes(&st);
        assert_eq!(all.len(), 4);
        assert!(all.iter().all(|n| n.member && n.initial_view == 1));
        let pl3 = find(&st, "PL-3").unwrap();
        assert_eq!(pl3.dn, "safNode=PL-3,safCluster=myClmCluster");
        assert_eq!(pl3.id, 0x2030F);
        for op in leave_ops(&st, &pl3.dn) {
            st.apply(&op);
        }
        assert!(!find(&st, &pl3.dn).unwrap().member);
        let count = st.attr_values("safCluster=myClmCluster", "saClmClusterNumNodes");
        assert_eq!(count, Some(&[Value::Uint32(3)][..]));
    }
}
