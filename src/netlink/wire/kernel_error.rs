//! Kernel errors: the NLMSG_ERROR payload (errno, echoed request, extended ack).

use std::fmt;

use super::{
    align4, attrs, i32_at, u32_at, Message, ParseError, ParseErrorKind, NLMSGERR_ATTR_MSG,
    NLMSG_HDRLEN, NLM_F_ACK_TLVS, NLM_F_CAPPED,
};

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

#[cfg(test)]
mod tests {
    use super::super::*;

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
}
