//! Zero-copy rtnetlink wire format: iterate messages and attributes over `&[u8]`, build the few
//! requests we send.
//!
//! Every length read from the wire is checked against the bytes actually present before it is
//! used; nothing here indexes a slice without a preceding bound check (all reads go through
//! `get`), so arbitrary input can at worst produce a [`ParseError`].
//!
//! Netlink uses the host's byte order, hence `from_ne_bytes` throughout.
//!
//! One file per concern, as in netlink-packet-route: `constants`, `message` (framing),
//! `attr` (attributes), `link_message`, `kernel_error`, `builder` (requests), and
//! `parse_error`, which all of the parsers return.

mod attr;
mod builder;
mod constants;
mod kernel_error;
mod link_message;
mod message;
mod parse_error;

pub use attr::{attrs, Attr, Attrs};
pub use builder::{getlink_dump_request, setlink_address_request, MessageBuilder};
pub use constants::*;
pub use kernel_error::{parse_error, KernelError};
pub use link_message::{parse_link, IfInfo, LinkMessage};
pub use message::{messages, Message, Messages};
pub use parse_error::{ParseError, ParseErrorKind};

/// Rounds up to the 4-byte netlink alignment; saturates instead of overflowing so a hostile
/// length can never wrap around to a small number.
pub fn align4(n: usize) -> usize {
    n.saturating_add(3) & !3
}

pub(super) fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_ne_bytes([s[0], s[1]]))
}

pub(super) fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
}

pub(super) fn i32_at(b: &[u8], off: usize) -> Option<i32> {
    u32_at(b, off).map(|v| v as i32)
}

/// A kernel-like RTM_NEWLINK for the parsers' tests.
#[cfg(test)]
pub(super) fn newlink(index: i32, name: &[u8], mac: &[u8]) -> Vec<u8> {
    MessageBuilder::new(RTM_NEWLINK, 0, 7, 0)
        .ifinfo(&IfInfo {
            family: AF_UNSPEC,
            link_type: ARPHRD_ETHER,
            index,
            flags: 0,
            change: 0,
        })
        .name_attr(name)
        .attr(IFLA_ADDRESS, mac)
        .attr(IFLA_OPERSTATE, &[6])
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn align() {
        assert_eq!(align4(0), 0);
        assert_eq!(align4(1), 4);
        assert_eq!(align4(4), 4);
        assert_eq!(align4(5), 8);
        assert_eq!(align4(usize::MAX), usize::MAX & !3);
    }
}
