//! The monitor's view of the link table (ifindex -> name, MAC), and the rule deciding which
//! notifications are changes worth a sync. Pure: no sockets, so it can be fed arbitrary bytes.

use std::collections::HashMap;

use super::link::Link;
use super::wire::{self, AF_UNSPEC, NLMSG_ERROR, NLMSG_OVERRUN, RTM_DELLINK, RTM_NEWLINK};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Entry {
    name: Vec<u8>,
    mac: Vec<u8>,
    /// IF_OPER_*; only refreshes IMM's operState, never counts as a change.
    oper: u8,
}

/// What one datagram did to the cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// RTM_NEWLINK/RTM_DELLINK messages seen (any family).
    pub events: u64,
    /// Of those, the ones that changed the cache: a link appeared, disappeared, was renamed or
    /// changed its address.
    pub changes: u64,
    /// Of the rest, the ones that only changed a link's operational state.
    pub oper_changes: u64,
    /// Messages that could not be parsed, or that report lost data (NLMSG_OVERRUN, an
    /// unsolicited NLMSG_ERROR): the cache can no longer be trusted.
    pub unparsable: u64,
}

impl Applied {
    pub fn needs_resync(&self) -> bool {
        self.unparsable > 0
    }
}

/// What one RTM_NEWLINK did to a cache entry.
enum Update {
    None,
    Identity,
    Oper,
}

#[derive(Debug, Default)]
pub struct LinkCache {
    map: HashMap<u32, Entry>,
}

impl LinkCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the whole content with a dump.
    pub fn seed(&mut self, links: &[Link]) {
        self.map.clear();
        for l in links {
            self.map.insert(
                l.ifindex,
                Entry {
                    name: l.name.clone(),
                    mac: l.mac.clone(),
                    oper: l.oper_state,
                },
            );
        }
    }

    pub fn clear(&mut self) {
        self.map.clear();
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// (name, MAC) last seen for `ifindex`.
    pub fn get(&self, ifindex: u32) -> Option<(&[u8], &[u8])> {
        self.map
            .get(&ifindex)
            .map(|e| (e.name.as_slice(), e.mac.as_slice()))
    }

    /// Applies every message of one notification datagram.
    ///
    /// Only AF_UNSPEC link messages describe links: the bridge also sends AF_BRIDGE
    /// RTM_NEWLINK/RTM_DELLINK about its ports on the same group (a port leaving its bridge
    /// gives an AF_BRIDGE RTM_DELLINK although the link still exists).
    ///
    /// An RTM_DELLINK counts as a change even for an ifindex the cache does not know: the
    /// consumer may have seen that link in a snapshot taken before our seed dump.
    pub fn apply_datagram(&mut self, bytes: &[u8]) -> Applied {
        let mut a = Applied::default();
        for m in wire::messages(bytes) {
            let Ok(m) = m else {
                // The rest of the datagram cannot be located.
                a.unparsable += 1;
                break;
            };
            match m.kind {
                RTM_NEWLINK | RTM_DELLINK => {
                    a.events += 1;
                    let Ok(lm) = wire::parse_link(&m) else {
                        a.unparsable += 1;
                        continue;
                    };
                    if lm.info.family != AF_UNSPEC {
                        continue;
                    }
                    if m.kind == RTM_DELLINK {
                        self.map.remove(&lm.ifindex);
                        a.changes += 1;
                        continue;
                    }
                    // The kernel always sends the name; without it a rename would go unseen.
                    let Some(name) = lm.name else {
                        a.unparsable += 1;
                        continue;
                    };
                    let mac = lm.address.unwrap_or(&[]);
                    match self.update(lm.ifindex, name, mac, lm.operstate) {
                        Update::Identity => a.changes += 1,
                        Update::Oper => a.oper_changes += 1,
                        Update::None => {}
                    }
                }
                // An ACK is harmless; an error nobody asked for means something went wrong.
                NLMSG_ERROR if !matches!(wire::parse_error(&m), Ok(None)) => a.unparsable += 1,
                NLMSG_OVERRUN => a.unparsable += 1,
                _ => {}
            }
        }
        a
    }

    /// Returns what changed. Updates in place so the common case (a known link whose name
    /// and MAC did not change: up/down, MTU, stats) allocates nothing. A message without
    /// IFLA_OPERSTATE leaves the known state alone.
    fn update(&mut self, ifindex: u32, name: &[u8], mac: &[u8], oper: Option<u8>) -> Update {
        match self.map.get_mut(&ifindex) {
            Some(e) if e.name == name && e.mac == mac => match oper {
                Some(o) if o != e.oper => {
                    e.oper = o;
                    Update::Oper
                }
                _ => Update::None,
            },
            Some(e) => {
                e.name.clear();
                e.name.extend_from_slice(name);
                e.mac.clear();
                e.mac.extend_from_slice(mac);
                e.oper = oper.unwrap_or(e.oper);
                Update::Identity
            }
            None => {
                self.map.insert(
                    ifindex,
                    Entry {
                        name: name.to_vec(),
                        mac: mac.to_vec(),
                        oper: oper.unwrap_or(0),
                    },
                );
                Update::Identity
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::wire::{IfInfo, MessageBuilder, AF_BRIDGE, IFLA_ADDRESS};

    fn msg(kind: u16, family: u8, index: i32, name: &[u8], mac: &[u8]) -> Vec<u8> {
        MessageBuilder::new(kind, 0, 0, 0)
            .ifinfo(&IfInfo {
                family,
                link_type: 1,
                index,
                flags: 0,
                change: 0,
            })
            .name_attr(name)
            .attr(IFLA_ADDRESS, mac)
            .finish()
    }

    #[test]
    fn change_rules() {
        let mut c = LinkCache::new();
        let add = msg(RTM_NEWLINK, AF_UNSPEC, 3, b"v0", &[2, 0, 0, 0, 0, 1]);
        assert_eq!(c.apply_datagram(&add).changes, 1);
        // Same state again (up/down, stats): no change.
        let a = c.apply_datagram(&add);
        assert_eq!((a.events, a.changes), (1, 0));
        // MAC change.
        let mac = msg(RTM_NEWLINK, AF_UNSPEC, 3, b"v0", &[2, 0, 0, 0, 0, 2]);
        assert_eq!(c.apply_datagram(&mac).changes, 1);
        // Rename.
        let ren = msg(RTM_NEWLINK, AF_UNSPEC, 3, b"w0", &[2, 0, 0, 0, 0, 2]);
        assert_eq!(c.apply_datagram(&ren).changes, 1);
        assert_eq!(c.get(3), Some((&b"w0"[..], &[2u8, 0, 0, 0, 0, 2][..])));
        // Bridge-family messages never count.
        let br = msg(RTM_DELLINK, AF_BRIDGE, 3, b"w0", &[9; 6]);
        let a = c.apply_datagram(&br);
        assert_eq!((a.events, a.changes, a.unparsable), (1, 0, 0));
        assert_eq!(c.len(), 1);
        // Delete.
        let del = msg(RTM_DELLINK, AF_UNSPEC, 3, b"w0", &[2, 0, 0, 0, 0, 2]);
        assert_eq!(c.apply_datagram(&del).changes, 1);
        assert!(c.is_empty());
        // Unknown delete still counts.
        assert_eq!(c.apply_datagram(&del).changes, 1);
    }

    #[test]
    fn garbage_needs_resync() {
        let mut c = LinkCache::new();
        let mut b = msg(RTM_NEWLINK, AF_UNSPEC, 3, b"v0", &[1]);
        b.truncate(b.len() - 1);
        assert!(c.apply_datagram(&b).needs_resync());
        let ov = MessageBuilder::new(NLMSG_OVERRUN, 0, 0, 0).finish();
        assert!(c.apply_datagram(&ov).needs_resync());
        let nameless = MessageBuilder::new(RTM_NEWLINK, 0, 0, 0)
            .ifinfo(&IfInfo {
                index: 4,
                ..IfInfo::default()
            })
            .finish();
        assert!(c.apply_datagram(&nameless).needs_resync());
    }

    #[test]
    fn multi_message_datagram() {
        let mut c = LinkCache::new();
        let mut b = msg(RTM_NEWLINK, AF_UNSPEC, 1, b"a", &[]);
        b.extend(msg(RTM_NEWLINK, AF_UNSPEC, 2, b"b", &[]));
        b.extend(msg(RTM_NEWLINK, AF_UNSPEC, 1, b"a", &[]));
        let a = c.apply_datagram(&b);
        assert_eq!((a.events, a.changes), (3, 2));
    }
}
