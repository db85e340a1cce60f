//! `macsync --once`: the link table exactly as the component would write it to IMM.

use std::fmt::Write as _;

use crate::config::Config;
use crate::identity::Identity;
use crate::model;
use crate::netlink::Snapshotter;

/// `id` is where the node name in `cfg` came from (printed in the header).
pub fn run(cfg: &Config, id: &Identity) -> Result<String, String> {
    let max = cfg.max_dn();
    let (_, node) = cfg.node_dns()?;
    let links = Snapshotter::new()
        .and_then(|mut s| s.dump().map_err(std::io::Error::other))
        .map_err(|e| format!("link snapshot: {e}"))?;
    let (want, refused) = model::desired(&links, &cfg.filter, &node, max);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# {} (class {}, implementer {}; {id})",
        node,
        model::NODE_CLASS,
        model::implementer_name(&cfg.node)
    );
    let _ = writeln!(
        out,
        "{:<48} {:<17} {:>7} {:>9}",
        "DN", "macAddress", "ifIndex", "operState"
    );
    for (dn, r) in &want {
        let _ = writeln!(
            out,
            "{:<48} {:<17} {:>7} {:>9}",
            dn.as_str(),
            r.mac,
            r.ifindex,
            r.oper
        );
    }
    for e in refused {
        let _ = writeln!(out, "# not mirrored: {e}");
    }
    Ok(out)
}
