//! One network link as the rest of macsync sees it.

use std::fmt::Write as _;

use super::wire::{LinkMessage, ParseError, ParseErrorKind};

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
}
