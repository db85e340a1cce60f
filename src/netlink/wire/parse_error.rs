//! What can be wrong with a datagram, and where.

use std::fmt;

use super::NLMSG_HDRLEN;

/// What was wrong, and where (byte offset in the datagram being parsed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    pub kind: ParseErrorKind,
    pub offset: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// Fewer than 16 bytes left where a netlink header should start.
    ShortHeader { have: usize },
    /// nlmsg_len smaller than the header or larger than the bytes left.
    BadMessageLength { len: u32, have: usize },
    /// A fixed-size payload (ifinfomsg, nlmsgerr) is cut short.
    ShortPayload {
        what: &'static str,
        need: usize,
        have: usize,
    },
    /// rta_len smaller than the attribute header or larger than the bytes left.
    BadAttributeLength { len: u16, have: usize },
    /// ifi_index must be a positive interface index.
    BadIfindex { index: i32 },
    /// A link message without IFLA_IFNAME: the link cannot be identified by name.
    MissingName { ifindex: u32 },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ParseErrorKind::ShortHeader { have } => write!(
                f,
                "truncated netlink header at byte {}: {have} bytes left, need {NLMSG_HDRLEN}",
                self.offset
            ),
            ParseErrorKind::BadMessageLength { len, have } => {
                write!(
                    f,
                    "bad netlink message length {len} at byte {} ({have} bytes left)",
                    self.offset
                )
            }
            ParseErrorKind::ShortPayload { what, need, have } => {
                write!(
                    f,
                    "truncated {what} at byte {}: {have} bytes, need {need}",
                    self.offset
                )
            }
            ParseErrorKind::BadAttributeLength { len, have } => {
                write!(
                    f,
                    "bad attribute length {len} at byte {} ({have} bytes left)",
                    self.offset
                )
            }
            ParseErrorKind::BadIfindex { index } => {
                write!(f, "invalid interface index {index} at byte {}", self.offset)
            }
            ParseErrorKind::MissingName { ifindex } => {
                write!(
                    f,
                    "link message for ifindex {ifindex} at byte {} has no IFLA_IFNAME",
                    self.offset
                )
            }
        }
    }
}

impl std::error::Error for ParseError {}
