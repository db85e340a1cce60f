//! Message framing: the 16-byte netlink header and the messages of one datagram.

use super::{align4, u16_at, u32_at, ParseError, ParseErrorKind, NLMSG_HDRLEN};

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

#[cfg(test)]
mod tests {
    use super::super::*;

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
    fn unaligned_last_message() {
        // A message whose length is not a multiple of 4, with no padding after it.
        let b = MessageBuilder::new(NLMSG_NOOP, 0, 0, 0).raw(&[1]).finish();
        assert_eq!(b.len(), 17);
        let all: Vec<_> = messages(&b).collect();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].unwrap().payload, &[1]);
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
}
