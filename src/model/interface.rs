//! The interface objects (`MacSyncInterface`): what one holds, and which objects IMM should
//! hold for the kernel's links.

use std::collections::BTreeMap;

use super::{first_value, IF_RDN};
use crate::netlink::{Link, LinkFilter};
use crate::osaf::{Attr, AttrValue, Dn, DnError};

pub const ATTR_MAC: &str = "macAddress";
pub const ATTR_IFINDEX: &str = "ifIndex";
pub const ATTR_OPER: &str = "operState";

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::node_dn;

    fn link(ifindex: u32, name: &[u8], mac: &[u8], link_type: u16) -> Link {
        Link {
            ifindex,
            name: name.to_vec(),
            mac: mac.to_vec(),
            link_type,
            oper_state: 6,
        }
    }

    /// The record of an up link with ifindex 2.
    fn rec(mac: &str) -> IfRecord {
        IfRecord {
            mac: mac.into(),
            ifindex: 2,
            oper: 6,
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
        assert_eq!(eth0, &rec("02:00:00:00:00:01"));
    }

    #[test]
    fn records_write_only_what_changed_and_read_back_what_they_wrote() {
        let old = rec("02:00:00:00:00:01");
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
        let (with_mac, no_mac) = (rec("02:00:00:00:00:01"), rec(""));
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
}
