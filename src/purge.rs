//! `macsync --purge`: delete a node's objects from IMM (after macsync has been stopped there).
//!
//! Runtime objects outlive their implementer, and `immcfg -d` cannot delete them: only the
//! implementer that owns them can. This takes the implementer name and deletes the node
//! object, which deletes its interface children with it. The node is this one (as the
//! identity rules find it) or, with `--node X`, any other whose implementer name IMM has
//! released (X stopped, or left the cluster more than ~10 s ago).

use crate::config::Config;
use crate::identity::Identity;
use crate::model;
use crate::osaf::{AisCode, ImmOi, RetryPolicy};
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
    let mut oi = ImmOi::initialize(apis.imm_oi, false, policy).map_err(|e| e.to_string())?;
    match oi.implementer_set(&implementer) {
        Ok(()) => {}
        Err(e) if e.code() == Some(AisCode::EXIST) => {
            return Err(format!(
                "implementer {implementer} is in use: macsync still runs on {node} (lock-in its SU first), \
                 or {node} left the cluster less than ~10 s ago (IMM has not released the name yet)",
                node = cfg.node
            ))
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
