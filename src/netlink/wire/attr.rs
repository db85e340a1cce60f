//! Attributes (rtattr): type-length-value runs after a fixed header.

use super::{align4, u16_at, ParseError, ParseErrorKind, NLA_TYPE_MASK, RTA_HDRLEN};

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

#[cfg(test)]
mod tests {
    use super::super::*;

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
}
