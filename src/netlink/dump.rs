//! Pure parsing of RTM_GETLINK dump datagrams, shared by the snapshot and the property tests.

use super::link::Link;
use super::wire::{
    self, KernelError, ParseError, AF_UNSPEC, NLMSG_DONE, NLMSG_ERROR, NLMSG_OVERRUN,
    NLM_F_DUMP_INTR, RTM_NEWLINK,
};

/// What one datagram of a dump contributed, and whether the dump is over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DumpProgress {
    /// Netlink messages in the datagram (all of them, including skipped ones).
    pub messages: usize,
    /// Links appended to the output.
    pub links: usize,
    /// Messages not describing an AF_UNSPEC link: ACKs, NOOPs, other families or types.
    pub skipped: usize,
    /// Messages with another sequence number (left over from an abandoned request).
    pub stale: usize,
    /// NLMSG_DONE seen: the dump is complete (parsing stops there).
    pub done: bool,
    /// Some message carried NLM_F_DUMP_INTR: the table changed during the dump, dump again.
    pub interrupted: bool,
    /// NLMSG_OVERRUN seen: data was lost.
    pub overrun: bool,
    /// NLMSG_ERROR (or a negative NLMSG_DONE status): the dump failed.
    pub error: Option<KernelError>,
}

impl DumpProgress {
    /// No more datagrams belong to this dump.
    pub fn finished(&self) -> bool {
        self.done || self.overrun || self.error.is_some()
    }
}

/// Parses one dump datagram, appending every AF_UNSPEC link to `out`.
///
/// Every message of the datagram is examined (one datagram carries many). On error, `out`
/// may hold links appended before the error; callers discard the whole dump then.
pub fn parse_dump(bytes: &[u8], out: &mut Vec<Link>) -> Result<DumpProgress, ParseError> {
    parse_dump_seq(bytes, None, out)
}

/// [`parse_dump`] that ignores (and counts as stale) messages whose sequence number is not
/// `seq`, when given.
pub fn parse_dump_seq(
    bytes: &[u8],
    seq: Option<u32>,
    out: &mut Vec<Link>,
) -> Result<DumpProgress, ParseError> {
    let mut p = DumpProgress::default();
    for m in wire::messages(bytes) {
        let m = m?;
        p.messages += 1;
        if seq.is_some_and(|s| s != m.seq) {
            p.stale += 1;
            continue;
        }
        if m.flags & NLM_F_DUMP_INTR != 0 {
            p.interrupted = true;
        }
        match m.kind {
            RTM_NEWLINK => {
                let lm = wire::parse_link(&m)?;
                if lm.info.family != AF_UNSPEC {
                    p.skipped += 1;
                    continue;
                }
                out.push(Link::from_message(&lm, m.offset)?);
                p.links += 1;
            }
            NLMSG_DONE => {
                // The payload is the dump's final status; older kernels may omit it.
                let status = m
                    .payload
                    .get(..4)
                    .map(|s| i32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
                    .unwrap_or(0);
                if status < 0 {
                    p.error = Some(KernelError {
                        errno: status.checked_neg().unwrap_or(i32::MAX),
                        message: None,
                    });
                }
                p.done = true;
                break;
            }
            NLMSG_ERROR => match wire::parse_error(&m)? {
                None => p.skipped += 1,
                Some(e) => {
                    p.error = Some(e);
                    break;
                }
            },
            NLMSG_OVERRUN => {
                p.overrun = true;
                break;
            }
            _ => p.skipped += 1,
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::wire::{
        IfInfo, MessageBuilder, AF_BRIDGE, IFLA_ADDRESS, IFLA_OPERSTATE, NLM_F_MULTI,
    };

    fn link_msg(seq: u32, family: u8, index: i32, name: &[u8], mac: &[u8]) -> Vec<u8> {
        MessageBuilder::new(RTM_NEWLINK, NLM_F_MULTI, seq, 1234)
            .ifinfo(&IfInfo {
                family,
                link_type: 1,
                index,
                flags: 0,
                change: 0,
            })
            .name_attr(name)
            .attr(IFLA_ADDRESS, mac)
            .attr(IFLA_OPERSTATE, &[2])
            .finish()
    }

    fn done(seq: u32, status: i32) -> Vec<u8> {
        MessageBuilder::new(NLMSG_DONE, NLM_F_MULTI, seq, 1234)
            .raw(&status.to_ne_bytes())
            .finish()
    }

    #[test]
    fn links_then_done() {
        let mut b = link_msg(5, AF_UNSPEC, 1, b"lo", &[0; 6]);
        b.extend(link_msg(5, AF_BRIDGE, 2, b"port", &[1; 6]));
        b.extend(link_msg(4, AF_UNSPEC, 3, b"stale", &[1; 6]));
        b.extend(link_msg(5, AF_UNSPEC, 4, b"eth0", &[2, 0, 0, 0, 0, 9]));
        b.extend(done(5, 0));
        b.extend(link_msg(5, AF_UNSPEC, 5, b"after-done", &[]));
        let mut out = Vec::new();
        let p = parse_dump_seq(&b, Some(5), &mut out).unwrap();
        assert!(p.done && p.finished() && !p.interrupted && p.error.is_none());
        assert_eq!((p.links, p.skipped, p.stale, p.messages), (2, 1, 1, 5));
        assert_eq!(out[0].name, b"lo");
        assert_eq!(out[1].ifindex, 4);
        assert_eq!(out[1].mac_string(), "02:00:00:00:00:09");
        assert_eq!(out[1].oper_state, 2);
    }

    #[test]
    fn interrupted_and_errors() {
        let mut b = link_msg(1, AF_UNSPEC, 1, b"lo", &[]);
        b[6..8].copy_from_slice(&(NLM_F_MULTI | NLM_F_DUMP_INTR).to_ne_bytes());
        let mut out = Vec::new();
        let p = parse_dump(&b, &mut out).unwrap();
        assert!(p.interrupted && !p.finished());
        assert!(out[0].mac.is_empty());

        let p = parse_dump(&done(1, -16), &mut out).unwrap();
        assert_eq!(p.error.unwrap().errno, 16);

        let err = MessageBuilder::new(NLMSG_ERROR, 0, 1, 0)
            .raw(&(-1i32).to_ne_bytes())
            .raw(&[0; 16])
            .finish();
        let p = parse_dump(&err, &mut out).unwrap();
        assert_eq!(p.error.unwrap().errno, 1);

        let ov = MessageBuilder::new(NLMSG_OVERRUN, 0, 1, 0).finish();
        assert!(parse_dump(&ov, &mut out).unwrap().overrun);
    }

    #[test]
    fn nameless_link_is_an_error() {
        let b = MessageBuilder::new(RTM_NEWLINK, NLM_F_MULTI, 1, 0)
            .ifinfo(&IfInfo {
                index: 3,
                ..IfInfo::default()
            })
            .finish();
        let e = parse_dump(&b, &mut Vec::new()).unwrap_err();
        assert!(e.to_string().contains("no IFLA_IFNAME"), "{e}");
    }
}
