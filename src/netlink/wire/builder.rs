//! Building messages: the requests macsync sends, and kernel-like input for tests.

use super::{
    align4, IfInfo, IFLA_ADDRESS, IFLA_EXT_MASK, IFLA_IFNAME, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
    RTA_HDRLEN, RTEXT_FILTER_SKIP_STATS, RTM_GETLINK, RTM_SETLINK,
};

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
    /// can describe is cut to fit; callers validate sizes that matter (see [`MAX_ADDR_LEN`](super::MAX_ADDR_LEN)).
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
    use super::super::*;

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
