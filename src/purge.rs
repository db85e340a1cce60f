//! `macsync --purge`: delete a node's objects from IMM (after macsync has been stopped there).
//!
//! Runtime objects outlive their implementer, and `immcfg -d` cannot delete them: only the
//! implementer that owns them can. This takes the implementer name and deletes the node
//! object, which deletes its interface children with it. The node is this one (as the
//! identity rules find it) or, with `--node X`, any other whose implementer name nobody
//! holds: IMM frees a departed node's name as soon as CLM reports it gone, but a surviving
//! macsync then holds it for the DEPARTED mark (see `membership`), and lets go of it only
//! when it is no longer ACTIVE.

use crate::config::Config;
use crate::identity::Identity;
use crate::model;
use crate::model::{MirrorState, NodeState};
use crate::osaf::{AisCode, Dn, ImmOi, ImmOm, RetryPolicy};
use opensaf_sys::Apis;

/// `id` is where the node name in `cfg` came from (said in the outcome). OpenSAF's
/// libraries are loaded only once the names are known to be valid.
pub fn run(cfg: &Config, id: &Identity) -> Result<String, String> {
    let (_, node) = cfg.node_dns()?;
    let apis = Apis::load().map_err(|e| e.to_string())?;
    let implementer = model::implementer_name(&cfg.node);
    // A short retry budget: a live macsync holds the name, and that is an error here.
    let policy = RetryPolicy {
        total: std::time::Duration::from_secs(2),
        ..Default::default()
    };
    let mut oi =
        ImmOi::initialize(apis.imm_oi, false, policy.clone()).map_err(|e| e.to_string())?;
    match oi.implementer_set(&implementer) {
        Ok(()) => {}
        Err(e) if e.code() == Some(AisCode::EXIST) => {
            return Err(in_use(&apis, &node, &cfg.node, &implementer, policy))
        }
        Err(e) => return Err(e.to_string()),
    }
    match oi.delete(&node) {
        Ok(()) => Ok(format!("deleted {node} and its interface objects ({id})")),
        Err(e) if e.code() == Some(AisCode::NOT_EXIST) => Ok(format!(
            "{node} does not exist: nothing to delete ({id}; if macsync ran with another --node or \
             --parent-dn, e.g. from MACSYNC_NODE / MACSYNC_PARENT_DN in the AMF model, give the same here)"
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// Why the implementer name is taken, as far as the node object tells: a DEPARTED mark held
/// by a survivor needs another step than a macsync still running on the node.
fn in_use(apis: &Apis, node_dn: &Dn, node: &str, implementer: &str, policy: RetryPolicy) -> String {
    let state = ImmOm::initialize(apis.imm_om, apis.imm_oi, policy)
        .and_then(|om| om.get(node_dn, Some(&model::NODE_STATE_ATTRS)))
        .ok()
        .flatten()
        .map(|o| NodeState::from_attrs(&o.attrs));
    match state {
        Some(s) if s.state == Some(MirrorState::Departed) => format!(
            "implementer {implementer} is in use: {node} left the cluster and the macsync on {by} \
             holds its DEPARTED mark; a macsync lets go of such marks while it is not ACTIVE: \
             `amf-adm lock` the macsync SUs of the running nodes, run this again, then \
             `amf-adm unlock` them",
            by = s.by
        ),
        _ => format!(
            "implementer {implementer} is in use: macsync still runs on {node} (lock-in its SU \
             first), or a surviving macsync is marking {node} DEPARTED (try again in a few seconds)"
        ),
    }
}
