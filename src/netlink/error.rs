//! What a netlink request can fail with: a dump (snapshot) or an RTM_SETLINK.

use std::fmt;
use std::io;

use super::socket::REQUEST_TIMEOUT;
use super::wire::{KernelError, ParseError};

#[derive(Debug)]
pub enum NetlinkError {
    /// A socket call failed.
    Io { op: &'static str, source: io::Error },
    /// The kernel answered with NLMSG_ERROR (or a failed NLMSG_DONE).
    Kernel(KernelError),
    /// The reply did not parse.
    Malformed(ParseError),
    /// NLMSG_OVERRUN: part of the reply was lost.
    Overrun,
    /// A datagram did not fit in the buffer even after growing it.
    Truncated { len: usize },
    /// Every attempt was interrupted by concurrent changes (NLM_F_DUMP_INTR).
    Interrupted { attempts: u32 },
}

impl fmt::Display for NetlinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetlinkError::Io { op, source } if source.kind() == io::ErrorKind::WouldBlock => {
                write!(
                    f,
                    "netlink {op}: no answer from the kernel within {}s",
                    REQUEST_TIMEOUT.as_secs()
                )
            }
            NetlinkError::Io { op, source } => write!(f, "netlink {op} failed: {source}"),
            NetlinkError::Kernel(e) => write!(f, "kernel returned an error: {e}"),
            NetlinkError::Malformed(e) => write!(f, "malformed netlink reply: {e}"),
            NetlinkError::Overrun => write!(f, "netlink reply overrun (NLMSG_OVERRUN)"),
            NetlinkError::Truncated { len } => {
                write!(f, "netlink datagram of {len} bytes truncated")
            }
            NetlinkError::Interrupted { attempts } => {
                write!(
                    f,
                    "link table changed during each of {attempts} dumps (NLM_F_DUMP_INTR)"
                )
            }
        }
    }
}

impl std::error::Error for NetlinkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NetlinkError::Io { source, .. } => Some(source),
            NetlinkError::Malformed(e) => Some(e),
            _ => None,
        }
    }
}
