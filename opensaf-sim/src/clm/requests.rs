//! What the CLI's `clm leave` / `clm join` ask every process through its CLI server:
//!
//! * `change DN left|joined VIEW`: the store already shows the new membership; queue the
//!   track callbacks, and a node that joins again has its IMM node director back;
//! * `imm-release DN`: IMM gives up on the node that left. On that node's processes every
//!   IMM handle turns stale and their implementer names are released (another process may
//!   then take them); new IMM handles answer TRY_AGAIN until the node joins again. The
//!   runtime objects stay.

use std::sync::atomic::Ordering;

use crate::events::Val;
use crate::imm::{oi, om};
use crate::instance::Instance;
use crate::mutex::lock;

use super::{local_node_name, membership, JOINED, LEFT};

/// This process's node DN, if the store knows it.
fn local_dn(inst: &Instance) -> Option<String> {
    lock(&inst.store)
        .read(|st| membership::find(st, local_node_name()).map(|n| n.dn))
        .ok()
        .flatten()
}

pub fn handle(inst: &Instance, line: &str) -> Result<String, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["change", dn, change, view] => {
            let change = match *change {
                "left" => LEFT,
                "joined" => JOINED,
                other => return Err(format!("unknown membership change '{other}'")),
            };
            let view = view.parse().map_err(|_| format!("bad view '{view}'"))?;
            if change == JOINED && local_dn(inst).as_deref() == Some(*dn) {
                inst.imm_node_gone.store(false, Ordering::Release);
            }
            let queued = super::membership_changed(inst, dn, change, view)
                .map_err(|e| format!("membership of {dn}: {e}"))?;
            Ok(format!("node={} callbacks={queued}", local_node_name()))
        }
        ["imm-release", dn] => {
            if local_dn(inst).as_deref() != Some(*dn) {
                return Ok(format!("node={} released=0", local_node_name()));
            }
            inst.imm_node_gone.store(true, Ordering::Release);
            let names = oi::make_all_stale(inst);
            let om_handles = om::make_all_stale();
            inst.events.emit(
                "imm-node-released",
                &[
                    ("node", (*dn).into()),
                    ("implementers", Val::from(names.join(","))),
                    ("om_handles", (om_handles as u64).into()),
                ],
            );
            Ok(format!(
                "node={} released={} implementers={}",
                local_node_name(),
                names.len(),
                names.join(",")
            ))
        }
        _ => Err(format!("unknown clm request '{line}'")),
    }
}
