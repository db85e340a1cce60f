//! Zero-copy rtnetlink wire format: iterate messages and attributes over `&[u8]`, build the few
//! requests we send.
//!
//! Every length read from the wire is checked against the bytes actually present before it is
//! used; nothing here indexes a slice without a preceding bound check (all reads go through
//! `get`), so arbitrary input can at worst produce a [`ParseError`].
//!
//! Netlink uses the host's byte order, hence `from_ne_bytes` throughout.

use std::fmt;

pub const NLMSG_HDRLEN: usize = 16;
pub const IFINFOMSG_LEN: usize = 16;
pub const RTA_HDRLEN: usize = 4;

pub const NLMSG_NOOP: u16 = 1;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLMSG_OVERRUN: u16 = 4;

pub const RTM_NEWLINK: u16 = 16;
pub const RTM_DELLINK: u16 = 17;
pub const RTM_GETLINK: u16 = 18;
pub const RTM_SETLINK: u16 = 19;

pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_MULTI: u16 = 0x2;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_DUMP_INTR: u16 = 0x10;
pub const NLM_F_DUMP: u16 = 0x300;
/// In an NLMSG_ERROR: the echoed request was cut down to its header.
pub const NLM_F_CAPPED: u16 = 0x100;
/// In an NLMSG_ERROR: extended-ack attributes follow the echoed request.
pub const NLM_F_ACK_TLVS: u16 = 0x200;

pub const NLMSGERR_ATTR_MSG: u16 = 1;

pub const IFLA_ADDRESS: u16 = 1;
pub const IFLA_IFNAME: u16 = 3;
pub const IFLA_OPERSTATE: u16 = 16;
pub const IFLA_EXT_MASK: u16 = 29;
pub const IFLA_LINK_NETNSID: u16 = 37;
pub const IFLA_NEW_NETNSID: u16 = 45;
pub const IFLA_NEW_IFINDEX: u16 = 49;
pub const IFLA_PERM_ADDRESS: u16 = 54;

/// IFLA_EXT_MASK bit: leave IFLA_STATS/IFLA_STATS64 (and inet6 statistics) out of dumps.
pub const RTEXT_FILTER_SKIP_STATS: u32 = 1 << 3;

/// Strips NLA_F_NESTED and NLA_F_NET_BYTEORDER from an attribute type.
pub const NLA_TYPE_MASK: u16 = 0x3fff;

/// Longest hardware address the kernel stores (include/linux/netdevice.h).
pub const MAX_ADDR_LEN: usize = 32;

pub const AF_UNSPEC: u8 = 0;
pub const AF_BRIDGE: u8 = 7;

pub const ARPHRD_ETHER: u16 = 1;
pub const ARPHRD_LOOPBACK: u16 = 772;

pub const RTMGRP_LINK: u32 = 1;

/// Rounds up to the 4-byte netlink alignment; saturates instead of overflowing so a hostile
/// length can never wrap around to a small number.
pub fn align4(n: usize) -> usize {
    n.saturating_add(3) & !3
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off.checked_add(2)?)?;
    Some(u16::from_ne_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off.checked_add(4)?)?;
    Some(u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
}

fn i32_at(b: &[u8], off: usize) -> Option<i32> {
    u32_at(b, off).map(|v| v as i32)
}

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

/// One netlink message, borrowed from the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    pub kind: u16,
    pub flags: u16,
    pub seq: u32,
    pub port: u32,
    /// Bytes after the 16-byte header, up to nlmsg_len (not including alignment padding).
    pub payload: &'a [u8],
    /// Offset of the header in the datagram, for error messages.
    pub offset: usize,
}

/// Iterates the messages of one datagram. Stops after the first structural error, because a
/// bad length makes the position of every following message unknowable.
#[derive(Debug, Clone)]
pub struct Messages<'a> {
    buf: &'a [u8],
    pos: usize,
    failed: bool,
}

pub fn messages(buf: &[u8]) -> Messages<'_> {
    Messages {
        buf,
        pos: 0,
        failed: false,
    }
}

impl<'a> Iterator for Messages<'a> {
    type Item = Result<Message<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        if rest.is_empty() {
            return None;
        }
        let offset = self.pos;
        let fail = |this: &mut Self, kind| {
            this.failed = true;
            Some(Err(ParseError { kind, offset }))
        };
        let (Some(len), Some(kind), Some(flags), Some(seq), Some(port)) = (
            u32_at(rest, 0),
            u16_at(rest, 4),
            u16_at(rest, 6),
            u32_at(rest, 8),
            u32_at(rest, 12),
        ) else {
            return fail(self, ParseErrorKind::ShortHeader { have: rest.len() });
        };
        let ulen = len as usize;
        if ulen < NLMSG_HDRLEN || ulen > rest.len() {
            return fail(
                self,
                ParseErrorKind::BadMessageLength {
                    len,
                    have: rest.len(),
                },
            );
        }
        let Some(payload) = rest.get(NLMSG_HDRLEN..ulen) else {
            return fail(
                self,
                ParseErrorKind::BadMessageLength {
                    len,
                    have: rest.len(),
                },
            );
        };
        // The last message of a datagram may lack its alignment padding.
        self.pos = self.pos.saturating_add(align4(ulen).min(rest.len()));
        Some(Ok(Message {
            kind,
            flags,
            seq,
            port,
            payload,
            offset,
        }))
    }
}

/// One attribute, type already masked with [`NLA_TYPE_MASK`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr<'a> {
    pub kind: u16,
    pub payload: &'a [u8],
}

/// Iterates a run of rtattrs. Stops after the first bad length. Fewer than 4 trailing bytes
/// cannot hold an attribute and are ignored (they can only be padding).
#[derive(Debug, Clone)]
pub struct Attrs<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
    failed: bool,
}

/// `base` is the offset of `buf` within the datagram, used only for error positions.
pub fn attrs(buf: &[u8], base: usize) -> Attrs<'_> {
    Attrs {
        buf,
        pos: 0,
        base,
        failed: false,
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<Attr<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let rest = self.buf.get(self.pos..).unwrap_or(&[]);
        let (Some(len), Some(kind)) = (u16_at(rest, 0), u16_at(rest, 2)) else {
            return None;
        };
        let ulen = len as usize;
        let payload = if ulen >= RTA_HDRLEN {
            rest.get(RTA_HDRLEN..ulen)
        } else {
            None
        };
        let Some(payload) = payload else {
            self.failed = true;
            return Some(Err(ParseError {
                kind: ParseErrorKind::BadAttributeLength {
                    len,
                    have: rest.len(),
                },
                offset: self.base.saturating_add(self.pos),
            }));
        };
        self.pos = self.pos.saturating_add(align4(ulen).min(rest.len()));
        Some(Ok(Attr {
            kind: kind & NLA_TYPE_MASK,
            payload,
        }))
    }
}

/// The fixed header of a link message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IfInfo {
    pub family: u8,
    pub link_type: u16,
    pub index: i32,
    pub flags: u32,
    pub change: u32,
}

impl IfInfo {
    /// Parses the ifinfomsg at the start of `payload`; returns it and the attribute bytes.
    pub fn parse(payload: &[u8], offset: usize) -> Result<(IfInfo, &[u8]), ParseError> {
        let short = ParseError {
            kind: ParseErrorKind::ShortPayload {
                what: "ifinfomsg",
                need: IFINFOMSG_LEN,
                have: payload.len(),
            },
            offset,
        };
        let (Some(&family), Some(link_type), Some(index), Some(flags), Some(change), Some(rest)) = (
            payload.first(),
            u16_at(payload, 2),
            i32_at(payload, 4),
            u32_at(payload, 8),
            u32_at(payload, 12),
            payload.get(IFINFOMSG_LEN..),
        ) else {
            return Err(short);
        };
        Ok((
            IfInfo {
                family,
                link_type,
                index,
                flags,
                change,
            },
            rest,
        ))
    }

    pub fn encode(&self) -> [u8; IFINFOMSG_LEN] {
        let mut b = [0u8; IFINFOMSG_LEN];
        b[0] = self.family;
        b[2..4].copy_from_slice(&self.link_type.to_ne_bytes());
        b[4..8].copy_from_slice(&self.index.to_ne_bytes());
        b[8..12].copy_from_slice(&self.flags.to_ne_bytes());
        b[12..16].copy_from_slice(&self.change.to_ne_bytes());
        b
    }
}

/// The parts of an RTM_NEWLINK/RTM_DELLINK we use, borrowed from the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkMessage<'a> {
    pub info: IfInfo,
    /// Always positive.
    pub ifindex: u32,
    /// IFLA_IFNAME up to (not including) the first NUL.
    pub name: Option<&'a [u8]>,
    pub address: Option<&'a [u8]>,
    pub operstate: Option<u8>,
    /// Set on RTM_DELLINK when the link moved to another namespace rather than being destroyed.
    pub new_netnsid: Option<i32>,
}

/// Parses the payload of a link message. Attributes we do not use are skipped without being
/// interpreted, so one odd attribute cannot make the whole message unreadable; only a broken
/// attribute *length* (which hides every later attribute) is an error.
pub fn parse_link<'a>(msg: &Message<'a>) -> Result<LinkMessage<'a>, ParseError> {
    let body_offset = msg.offset.saturating_add(NLMSG_HDRLEN);
    let (info, attr_bytes) = IfInfo::parse(msg.payload, body_offset)?;
    if info.index <= 0 {
        return Err(ParseError {
            kind: ParseErrorKind::BadIfindex { index: info.index },
            offset: body_offset,
        });
    }
    let mut link = LinkMessage {
        info,
        ifindex: info.index as u32,
        name: None,
        address: None,
        operstate: None,
        new_netnsid: None,
    };
    for attr in attrs(attr_bytes, body_offset.saturating_add(IFINFOMSG_LEN)) {
        let attr = attr?;
        match attr.kind {
            IFLA_IFNAME => {
                let end = attr
                    .payload
                    .iter()
                    .position(|&b| b == 0)
                    .unwrap_or(attr.payload.len());
                link.name = attr.payload.get(..end);
            }
            IFLA_ADDRESS => link.address = Some(attr.payload),
            // A short operstate is ignored (stays "unknown"), not fatal: it is informational.
            IFLA_OPERSTATE => link.operstate = attr.payload.first().copied(),
            IFLA_NEW_NETNSID => link.new_netnsid = i32_at(attr.payload, 0),
            _ => {}
        }
    }
    Ok(link)
}

/// A kernel error carried by NLMSG_ERROR (or a negative NLMSG_DONE status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelError {
    /// Positive errno.
    pub errno: i32,
    /// The extended-ack message (NLMSGERR_ATTR_MSG), if the kernel sent one.
    pub message: Option<String>,
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let os = std::io::Error::from_raw_os_error(self.errno);
        write!(f, "{os}")?;
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        Ok(())
    }
}

/// Parses an NLMSG_ERROR payload. `Ok(None)` is an ACK (error code 0). The echoed request and
/// the extended-ack attributes are optional and located via their own lengths, all checked.
pub fn parse_error(msg: &Message<'_>) -> Result<Option<KernelError>, ParseError> {
    let Some(code) = i32_at(msg.payload, 0) else {
        return Err(ParseError {
            kind: ParseErrorKind::ShortPayload {
                what: "nlmsgerr",
                need: 4,
                have: msg.payload.len(),
            },
            offset: msg.offset.saturating_add(NLMSG_HDRLEN),
        });
    };
    if code == 0 {
        return Ok(None);
    }
    let mut message = None;
    if msg.flags & NLM_F_ACK_TLVS != 0 {
        let echoed = if msg.flags & NLM_F_CAPPED != 0 {
            Some(NLMSG_HDRLEN)
        } else {
            u32_at(msg.payload, 4).map(|l| align4(l as usize))
        };
        if let Some(tlvs) = echoed
            .and_then(|e| 4usize.checked_add(e))
            .and_then(|start| msg.payload.get(start..))
        {
            for attr in attrs(tlvs, 0).flatten() {
                if attr.kind == NLMSGERR_ATTR_MSG {
                    let end = attr
                        .payload
                        .iter()
                        .position(|&b| b == 0)
                        .unwrap_or(attr.payload.len());
                    let text = String::from_utf8_lossy(attr.payload.get(..end).unwrap_or(&[]));
                    message = Some(text.into_owned());
                }
            }
        }
    }
    Ok(Some(KernelError {
        // i32::MIN has no positive counterpart; any non-zero code is an error either way.
        errno: code.checked_neg().unwrap_or(i32::MAX).max(1),
        message,
    }))
}

/// Builds one netlink message: header, optional ifinfomsg, attributes; lengths filled in by
/// [`MessageBuilder::finish`]. Used for our requests and by tests to forge kernel-like input.
#[derive(Debug, Clone)]
pub struct MessageBuilder {
    buf: Vec<u8>,
}

impl MessageBuilder {
    pub fn new(kind: u16, flags: u16, seq: u32, port: u32) -> Self {
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&seq.to_ne_bytes());
        buf.extend_from_slice(&port.to_ne_bytes());
        MessageBuilder { buf }
    }

    pub fn ifinfo(mut self, info: &IfInfo) -> Self {
        self.buf.extend_from_slice(&info.encode());
        self
    }

    pub fn raw(mut self, bytes: &[u8]) -> Self {
        self.buf.extend_from_slice(bytes);
        self
    }

    /// Appends an attribute, padded to 4 bytes. A payload longer than the 16-bit length field
    /// can describe is cut to fit; callers validate sizes that matter (see [`MAX_ADDR_LEN`]).
    pub fn attr(mut self, kind: u16, payload: &[u8]) -> Self {
        let payload = payload
            .get(..payload.len().min(usize::from(u16::MAX) - RTA_HDRLEN))
            .unwrap_or(payload);
        let len = (RTA_HDRLEN + payload.len()) as u16;
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(payload);
        self.buf.resize(align4(self.buf.len()), 0);
        self
    }

    /// Appends IFLA_IFNAME with the NUL terminator the kernel expects.
    pub fn name_attr(self, name: &[u8]) -> Self {
        let mut v = Vec::with_capacity(name.len() + 1);
        v.extend_from_slice(name);
        v.push(0);
        self.attr(IFLA_IFNAME, &v)
    }

    pub fn finish(mut self) -> Vec<u8> {
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf
    }
}

/// The RTM_GETLINK dump request. Every ifinfomsg field is zero, as NETLINK_GET_STRICT_CHK
/// requires for link dumps. Statistics are skipped: they are a quarter of the dump's bytes and
/// macsync does not use them.
pub fn getlink_dump_request(seq: u32) -> Vec<u8> {
    MessageBuilder::new(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, seq, 0)
        .ifinfo(&IfInfo::default())
        .attr(IFLA_EXT_MASK, &RTEXT_FILTER_SKIP_STATS.to_ne_bytes())
        .finish()
}

/// RTM_SETLINK changing a link's hardware address, with an ACK requested.
pub fn setlink_address_request(seq: u32, ifindex: u32, mac: &[u8]) -> Vec<u8> {
    MessageBuilder::new(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, seq, 0)
        .ifinfo(&IfInfo {
            index: ifindex as i32,
            ..IfInfo::default()
        })
        .attr(IFLA_ADDRESS, mac)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn newlink(index: i32, name: &[u8], mac: &[u8]) -> Vec<u8> {
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

    #[test]
    fn align() {
        assert_eq!(align4(0), 0);
        assert_eq!(align4(1), 4);
        assert_eq!(align4(4), 4);
        assert_eq!(align4(5), 8);
        assert_eq!(align4(usize::MAX), usize::MAX & !3);
    }

    #[test]
    fn roundtrip_link_message() {
        let b = newlink(5, b"eth0", &[2, 0, 0, 0, 0, 1]);
        let msgs: Vec<_> = messages(&b).collect();
        assert_eq!(msgs.len(), 1);
        let m = msgs[0].unwrap();
        assert_eq!(m.kind, RTM_NEWLINK);
        assert_eq!(m.seq, 7);
        let l = parse_link(&m).unwrap();
        assert_eq!(l.ifindex, 5);
        assert_eq!(l.name, Some(&b"eth0"[..]));
        assert_eq!(l.address, Some(&[2u8, 0, 0, 0, 0, 1][..]));
        assert_eq!(l.operstate, Some(6));
        assert_eq!(l.info.link_type, ARPHRD_ETHER);
    }

    #[test]
    fn several_messages_per_datagram() {
        let mut b = newlink(1, b"a", &[]);
        b.extend(newlink(2, b"bb", &[1]));
        b.extend(newlink(3, b"ccc", &[1, 2, 3]));
        let idx: Vec<u32> = messages(&b)
            .map(|m| parse_link(&m.unwrap()).unwrap().ifindex)
            .collect();
        assert_eq!(idx, vec![1, 2, 3]);
    }

    #[test]
    fn bad_lengths_are_errors() {
        let b = newlink(1, b"a", &[]);
        // Shorter than a header.
        let e = messages(&b[..10]).next().unwrap().unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::ShortHeader { have: 10 });
        // nlmsg_len beyond the buffer.
        let e = messages(&b[..b.len() - 4]).next().unwrap().unwrap_err();
        assert!(matches!(e.kind, ParseErrorKind::BadMessageLength { .. }));
        // nlmsg_len below the header size: must not loop forever.
        let mut z = b.clone();
        z[0..4].copy_from_slice(&0u32.to_ne_bytes());
        let all: Vec<_> = messages(&z).collect();
        assert_eq!(all.len(), 1);
        assert!(all[0].is_err());
    }

    #[test]
    fn bad_attribute_length_is_error() {
        let mut b = newlink(1, b"abc", &[1, 2]);
        // First attribute starts right after header + ifinfomsg.
        let off = NLMSG_HDRLEN + IFINFOMSG_LEN;
        b[off..off + 2].copy_from_slice(&2u16.to_ne_bytes());
        let m = messages(&b).next().unwrap().unwrap();
        let e = parse_link(&m).unwrap_err();
        assert_eq!(e.offset, off);
        assert!(matches!(
            e.kind,
            ParseErrorKind::BadAttributeLength { len: 2, .. }
        ));
        b[off..off + 2].copy_from_slice(&500u16.to_ne_bytes());
        let m = messages(&b).next().unwrap().unwrap();
        assert!(parse_link(&m).is_err());
    }

    #[test]
    fn nested_and_byteorder_bits_are_masked() {
        let b = MessageBuilder::new(RTM_NEWLINK, 0, 0, 0)
            .ifinfo(&IfInfo {
                index: 9,
                ..IfInfo::default()
            })
            .attr(IFLA_IFNAME | 0x8000, b"x\0")
            .finish();
        let m = messages(&b).next().unwrap().unwrap();
        assert_eq!(parse_link(&m).unwrap().name, Some(&b"x"[..]));
    }

    #[test]
    fn name_without_nul_and_non_utf8() {
        let b = MessageBuilder::new(RTM_NEWLINK, 0, 0, 0)
            .ifinfo(&IfInfo {
                index: 9,
                ..IfInfo::default()
            })
            .attr(IFLA_IFNAME, &[0xff, b'a'])
            .finish();
        let m = messages(&b).next().unwrap().unwrap();
        assert_eq!(parse_link(&m).unwrap().name, Some(&[0xffu8, b'a'][..]));
    }

    #[test]
    fn unaligned_last_message() {
        // A message whose length is not a multiple of 4, with no padding after it.
        let b = MessageBuilder::new(NLMSG_NOOP, 0, 0, 0).raw(&[1]).finish();
        assert_eq!(b.len(), 17);
        let all: Vec<_> = messages(&b).collect();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].unwrap().payload, &[1]);
    }

    #[test]
    fn zero_or_negative_ifindex_rejected() {
        for idx in [0, -1, i32::MIN] {
            let b = newlink(idx, b"a", &[]);
            let m = messages(&b).next().unwrap().unwrap();
            assert_eq!(
                parse_link(&m).unwrap_err().kind,
                ParseErrorKind::BadIfindex { index: idx }
            );
        }
    }

    #[test]
    fn short_ifinfomsg() {
        let b = MessageBuilder::new(RTM_NEWLINK, 0, 0, 0)
            .raw(&[0; 8])
            .finish();
        let m = messages(&b).next().unwrap().unwrap();
        assert!(matches!(
            parse_link(&m).unwrap_err().kind,
            ParseErrorKind::ShortPayload {
                what: "ifinfomsg",
                ..
            }
        ));
    }

    #[test]
    fn error_message_with_ext_ack() {
        // The shape the kernel sends with NETLINK_EXT_ACK: code, echoed header (capped), TLVs.
        let req = getlink_dump_request(3);
        let mut payload = (-22i32).to_ne_bytes().to_vec();
        payload.extend_from_slice(&req[..NLMSG_HDRLEN]);
        let b = MessageBuilder::new(NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, 3, 0)
            .raw(&payload)
            .attr(NLMSGERR_ATTR_MSG, b"bad thing\0")
            .finish();
        let m = messages(&b).next().unwrap().unwrap();
        let e = parse_error(&m).unwrap().unwrap();
        assert_eq!(e.errno, 22);
        assert_eq!(e.message.as_deref(), Some("bad thing"));
        assert!(e.to_string().contains("bad thing"));

        let ack = MessageBuilder::new(NLMSG_ERROR, 0, 3, 0)
            .raw(&0i32.to_ne_bytes())
            .finish();
        let m = messages(&ack).next().unwrap().unwrap();
        assert_eq!(parse_error(&m).unwrap(), None);

        let weird = MessageBuilder::new(NLMSG_ERROR, 0, 3, 0)
            .raw(&i32::MIN.to_ne_bytes())
            .finish();
        let m = messages(&weird).next().unwrap().unwrap();
        assert!(parse_error(&m).unwrap().unwrap().errno > 0);
    }

    #[test]
    fn requests_are_well_formed() {
        let r = getlink_dump_request(42);
        assert_eq!(r.len(), NLMSG_HDRLEN + IFINFOMSG_LEN + 8);
        let m = messages(&r).next().unwrap().unwrap();
        assert_eq!(m.kind, RTM_GETLINK);
        assert_eq!(m.flags, NLM_F_REQUEST | NLM_F_DUMP);
        assert_eq!(m.seq, 42);
        let r = setlink_address_request(1, 7, &[2, 1, 2, 3, 4, 5]);
        let m = messages(&r).next().unwrap().unwrap();
        let l = parse_link(&m).unwrap();
        assert_eq!(l.ifindex, 7);
        assert_eq!(l.address, Some(&[2u8, 1, 2, 3, 4, 5][..]));
    }
}
