//! One network link as the rest of macsync sees it.

use std::fmt::Write as _;

use super::wire::{LinkMessage, ParseError, ParseErrorKind, MAX_ADDR_LEN};

/// Room for an interface name: the kernel's IFNAMSIZ (16, with the NUL, which the parser
/// strips), so every name the kernel accepts fits.
const NAME_CAP: usize = 16;

/// A link from the kernel's table. Names are bytes: the kernel does not require UTF-8.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Link {
    pub ifindex: u32,
    pub name: Vec<u8>,
    /// Hardware address of any length; empty when the link has none (some tunnels).
    pub mac: Vec<u8>,
    /// ARPHRD_* (1 = Ethernet, 772 = loopback).
    pub link_type: u16,
    /// IF_OPER_* (0 = unknown, 2 = down, 6 = up).
    pub oper_state: u8,
}

impl Link {
    /// Lowercase `aa:bb:...`; empty string if the link has no address.
    pub fn mac_string(&self) -> String {
        mac_to_string(&self.mac)
    }

    /// The name for logs and IMM: lossy only if the kernel name is not UTF-8.
    pub fn name_lossy(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }

    /// Owns the parts of a parsed message. A link must have a name to be mirrored.
    pub fn from_message(m: &LinkMessage<'_>, offset: usize) -> Result<Link, ParseError> {
        let Some(name) = m.name else {
            return Err(ParseError {
                kind: ParseErrorKind::MissingName { ifindex: m.ifindex },
                offset,
            });
        };
        Ok(Link {
            ifindex: m.ifindex,
            name: name.to_vec(),
            mac: m.address.unwrap_or(&[]).to_vec(),
            link_type: m.info.link_type,
            oper_state: m.operstate.unwrap_or(0),
        })
    }
}

/// A link's state as the monitor's cache keeps it: fixed-size and `Copy`, so updating it in
/// place, or copying it out of the cache the monitor and the sync worker share, allocates
/// nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkState {
    name: [u8; NAME_CAP],
    name_len: u8,
    mac: [u8; MAX_ADDR_LEN],
    mac_len: u8,
    /// ARPHRD_*: what the default filter reads.
    pub link_type: u16,
    /// IF_OPER_*.
    pub oper_state: u8,
}

impl LinkState {
    /// `None` when the name or the address is longer than the kernel allows (IFNAMSIZ,
    /// MAX_ADDR_LEN): such a message did not come from a sane kernel.
    pub fn new(name: &[u8], mac: &[u8], link_type: u16, oper_state: u8) -> Option<LinkState> {
        if name.len() > NAME_CAP || mac.len() > MAX_ADDR_LEN {
            return None;
        }
        let mut s = LinkState {
            name: [0; NAME_CAP],
            name_len: name.len() as u8,
            mac: [0; MAX_ADDR_LEN],
            mac_len: mac.len() as u8,
            link_type,
            oper_state,
        };
        s.name[..name.len()].copy_from_slice(name);
        s.mac[..mac.len()].copy_from_slice(mac);
        Some(s)
    }

    /// The state of a link from a dump.
    pub fn of(l: &Link) -> Option<LinkState> {
        LinkState::new(&l.name, &l.mac, l.link_type, l.oper_state)
    }

    pub fn name(&self) -> &[u8] {
        &self.name[..usize::from(self.name_len)]
    }

    pub fn mac(&self) -> &[u8] {
        &self.mac[..usize::from(self.mac_len)]
    }

    /// Same name, address and type: what decides whether and as what a link is mirrored.
    pub fn same_identity(&self, other: &LinkState) -> bool {
        self.name() == other.name()
            && self.mac() == other.mac()
            && self.link_type == other.link_type
    }

    pub fn to_link(&self, ifindex: u32) -> Link {
        Link {
            ifindex,
            name: self.name().to_vec(),
            mac: self.mac().to_vec(),
            link_type: self.link_type,
            oper_state: self.oper_state,
        }
    }
}

/// Lowercase colon-separated hex, as `ip link` prints Ethernet-like addresses.
pub fn mac_to_string(mac: &[u8]) -> String {
    let mut s = String::with_capacity(mac.len() * 3);
    for (i, b) in mac.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        // Writing into a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_formatting() {
        assert_eq!(mac_to_string(&[]), "");
        assert_eq!(mac_to_string(&[0xAB]), "ab");
        assert_eq!(
            mac_to_string(&[0x02, 0, 0xff, 0x10, 0xa, 0xB0]),
            "02:00:ff:10:0a:b0"
        );
        let l = Link {
            ifindex: 1,
            name: b"lo".to_vec(),
            mac: vec![0; 6],
            link_type: 772,
            oper_state: 0,
        };
        assert_eq!(l.mac_string(), "00:00:00:00:00:00");
        assert_eq!(l.name_lossy(), "lo");
    }

    #[test]
    fn link_state_holds_what_the_kernel_allows_and_converts_back() {
        let l = Link {
            ifindex: 7,
            name: b"fifteen-chars-x".to_vec(),
            mac: vec![0xab; MAX_ADDR_LEN],
            link_type: 1,
            oper_state: 6,
        };
        let s = LinkState::of(&l).unwrap();
        assert_eq!((s.name(), s.mac()), (&l.name[..], &l.mac[..]));
        assert_eq!(s.to_link(7), l);
        assert!(LinkState::new(&[b'a'; NAME_CAP + 1], &[], 1, 0).is_none());
        assert!(LinkState::new(b"a", &[0; MAX_ADDR_LEN + 1], 1, 0).is_none());
        let up = LinkState { oper_state: 2, ..s };
        assert!(s.same_identity(&up) && s != up);
        let other_type = LinkState {
            link_type: 772,
            ..s
        };
        assert!(!s.same_identity(&other_type));
        let empty = LinkState::new(b"", &[], 0, 0).unwrap();
        assert_eq!((empty.name(), empty.mac()), (&b""[..], &b""[..]));
    }
}
