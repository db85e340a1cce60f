//! Link messages (RTM_NEWLINK / RTM_DELLINK): the ifinfomsg header and the attributes
//! macsync uses.

use super::{
    attrs, i32_at, u16_at, u32_at, Message, ParseError, ParseErrorKind, IFINFOMSG_LEN,
    IFLA_ADDRESS, IFLA_IFNAME, IFLA_NEW_NETNSID, IFLA_OPERSTATE, NLMSG_HDRLEN,
};

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

#[cfg(test)]
mod tests {
    use super::super::*;

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
}
