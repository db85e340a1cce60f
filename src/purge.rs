//! `macsync --purge`: delete this node's objects from IMM (after macsync has been stopped).
//!
//! Runtime objects outlive their implementer, and `immcfg -d` cannot delete them: only the
//! implementer that owns them can. This takes the implementer name and deletes the node
//! object, which deletes its interface children with it.

use crate::config::Config;
use crate::model;
use crate::osaf::{AisCode, ImmOi, RetryPolicy};
use opensaf_sys::Apis;

pub fn run(cfg: &Config, apis: Apis) -> Result<String, String> {
    let (_, node) = cfg.node_dns()?;
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
                "implementer {implementer} is in use: macsync still runs on this node (lock-in its SU first)"
            ))
        }
        Err(e) => return Err(e.to_string()),
    }
    match oi.delete(&node) {
        Ok(()) => Ok(format!("deleted {node} and its interface objects")),
        Err(e) if e.code() == Some(AisCode::NOT_EXIST) => Ok(format!(
            "{node} does not exist: nothing to delete (if macsync ran with another --node or \
             --parent-dn, e.g. from MACSYNC_NODE / MACSYNC_PARENT_DN in the AMF model, give the same here)"
        )),
        Err(e) => Err(e.to_string()),
    }
}
