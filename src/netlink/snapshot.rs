//! Full RTM_GETLINK dumps on a dedicated socket.

use std::fmt;
use std::io;
use std::time::Duration;

use super::dump::parse_dump_seq;
use super::link::Link;
use super::socket::NlSocket;
use super::wire::{getlink_dump_request, KernelError, ParseError};

/// Read buffer for dump datagrams. The kernel sizes dump skbs from the reader's buffer (capped
/// at 32 KiB), so 32 KiB or more gets the fewest datagrams; it still grows if a datagram is
/// bigger (a NIC with many SR-IOV VFs can produce large messages).
pub const DUMP_BUFFER: usize = 64 * 1024;
/// Buffer growths per dump after truncated reads.
const MAX_GROWTH: u32 = 4;
/// Largest datagram we are willing to allocate for; anything bigger is treated as corrupt.
const MAX_DATAGRAM: usize = 16 * 1024 * 1024;
/// Dumps retried after NLM_F_DUMP_INTR before giving up: a table that changes during every one
/// of these is better reported than chased forever.
pub const MAX_INTR_RETRIES: u32 = 8;
/// A dump answer is immediate; waiting longer than this means something is badly wrong, and
/// the caller (the AMF healthcheck path) must not hang.
const RECV_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub enum SnapshotError {
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

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::Io { op, source } if source.kind() == io::ErrorKind::WouldBlock => {
                write!(
                    f,
                    "netlink {op}: no answer from the kernel within {}s",
                    RECV_TIMEOUT.as_secs()
                )
            }
            SnapshotError::Io { op, source } => write!(f, "netlink {op} failed: {source}"),
            SnapshotError::Kernel(e) => write!(f, "kernel returned an error: {e}"),
            SnapshotError::Malformed(e) => write!(f, "malformed netlink reply: {e}"),
            SnapshotError::Overrun => write!(f, "netlink reply overrun (NLMSG_OVERRUN)"),
            SnapshotError::Truncated { len } => {
                write!(f, "netlink datagram of {len} bytes truncated")
            }
            SnapshotError::Interrupted { attempts } => {
                write!(
                    f,
                    "link table changed during each of {attempts} dumps (NLM_F_DUMP_INTR)"
                )
            }
        }
    }
}

impl std::error::Error for SnapshotError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SnapshotError::Io { source, .. } => Some(source),
            SnapshotError::Malformed(e) => Some(e),
            _ => None,
        }
    }
}

pub(crate) fn io_err(op: &'static str) -> impl FnOnce(io::Error) -> SnapshotError {
    move |source| SnapshotError::Io { op, source }
}

/// Opens a request/response NETLINK_ROUTE socket with the hardening options.
pub(crate) fn request_socket() -> io::Result<NlSocket> {
    let sock = NlSocket::open_route(0, false)?;
    // Both are refinements: a kernel without them still answers correctly, so their failure
    // is logged rather than fatal.
    if let Err(e) = sock.set_ext_ack(true) {
        log::debug!("NETLINK_EXT_ACK unavailable: {e}");
    }
    if let Err(e) = sock.set_strict_check(true) {
        log::debug!("NETLINK_GET_STRICT_CHK unavailable: {e}");
    }
    sock.set_recv_timeout(Some(RECV_TIMEOUT))?;
    Ok(sock)
}

/// Takes full link dumps. Owns its socket and buffer and reuses them across dumps; after any
/// failure the socket is replaced, so a half-read dump can never leak into the next one.
#[derive(Debug)]
pub struct Snapshotter {
    sock: Option<NlSocket>,
    buf: Vec<u8>,
    seq: u32,
    forged_dropped: u64,
    retries: u64,
}

impl Snapshotter {
    pub fn new() -> io::Result<Self> {
        Ok(Snapshotter {
            sock: Some(request_socket()?),
            buf: vec![0; DUMP_BUFFER],
            seq: 0,
            forged_dropped: 0,
            retries: 0,
        })
    }

    /// Like [`Snapshotter::new`] with a read buffer of `bytes` instead of [`DUMP_BUFFER`]; for
    /// tests of the truncation path.
    pub fn with_buffer(bytes: usize) -> io::Result<Self> {
        let mut s = Self::new()?;
        s.buf = vec![0; bytes.max(1)];
        Ok(s)
    }

    /// All links of the namespace, in kernel order (by ifindex).
    pub fn dump(&mut self) -> Result<Vec<Link>, SnapshotError> {
        let mut out = Vec::new();
        self.dump_into(&mut out)?;
        Ok(out)
    }

    /// [`Snapshotter::dump`] into a caller-owned vector (cleared first), to reuse its memory.
    pub fn dump_into(&mut self, out: &mut Vec<Link>) -> Result<(), SnapshotError> {
        self.dump_with_retries(out, None)
    }

    /// The raw datagrams of one complete, uninterrupted dump (for tests and diagnostics).
    pub fn dump_raw(&mut self) -> Result<Vec<Vec<u8>>, SnapshotError> {
        let mut raw = Vec::new();
        self.dump_with_retries(&mut Vec::new(), Some(&mut raw))?;
        Ok(raw)
    }

    /// Datagrams dropped because they were not sent by the kernel.
    pub fn forged_dropped(&self) -> u64 {
        self.forged_dropped
    }

    /// Dumps repeated because of NLM_F_DUMP_INTR.
    pub fn interrupted_retries(&self) -> u64 {
        self.retries
    }

    fn dump_with_retries(
        &mut self,
        out: &mut Vec<Link>,
        mut raw: Option<&mut Vec<Vec<u8>>>,
    ) -> Result<(), SnapshotError> {
        let mut interrupted = 0;
        let mut grown = 0;
        loop {
            out.clear();
            if let Some(r) = raw.as_deref_mut() {
                r.clear();
            }
            let err = match self.dump_once(out, raw.as_deref_mut()) {
                Ok(false) => return Ok(()),
                Ok(true) => {
                    interrupted += 1;
                    if interrupted > MAX_INTR_RETRIES {
                        out.clear();
                        return Err(SnapshotError::Interrupted {
                            attempts: interrupted,
                        });
                    }
                    self.retries += 1;
                    continue;
                }
                Err(e) => e,
            };
            // Whatever is left of this dump must not be read as part of the next one.
            self.sock = None;
            out.clear();
            match err {
                // The kernel only exceeds 32 KiB per datagram for single huge messages; grow
                // (at least doubling, so a few rounds reach any sane size) and dump again.
                SnapshotError::Truncated { len } if grown < MAX_GROWTH && len <= MAX_DATAGRAM => {
                    grown += 1;
                    let size = len
                        .max(self.buf.len().saturating_mul(2))
                        .clamp(DUMP_BUFFER, MAX_DATAGRAM);
                    self.buf.resize(size, 0);
                }
                e => return Err(e),
            }
        }
    }

    /// One dump, read to its end. Returns whether it was interrupted.
    fn dump_once(
        &mut self,
        out: &mut Vec<Link>,
        mut raw: Option<&mut Vec<Vec<u8>>>,
    ) -> Result<bool, SnapshotError> {
        let sock = match self.sock.take() {
            Some(s) => s,
            None => request_socket().map_err(io_err("socket"))?,
        };
        let sock = &*self.sock.insert(sock);
        // Sequence numbers tell this dump's replies from any stale ones; 0 is avoided because
        // it is what an unset field looks like.
        self.seq = self.seq.wrapping_add(1).max(1);
        let seq = self.seq;
        sock.send_to(&getlink_dump_request(seq), 0)
            .map_err(io_err("send"))?;
        let mut interrupted = false;
        loop {
            let r = sock
                .recv(&mut self.buf, false, false)
                .map_err(io_err("recv"))?;
            if r.sender != 0 {
                self.forged_dropped += 1;
                log::warn!(
                    "dropped a netlink datagram from port {} (not the kernel)",
                    r.sender
                );
                continue;
            }
            if r.truncated {
                // The rest of the datagram is gone: this dump is unusable (the caller redoes
                // it with a buffer that fits). Cheaper than peeking at every datagram's size.
                return Err(SnapshotError::Truncated { len: r.len });
            }
            let data = &self.buf[..r.len];
            if let Some(raw) = raw.as_deref_mut() {
                raw.push(data.to_vec());
            }
            let p = parse_dump_seq(data, Some(seq), out).map_err(SnapshotError::Malformed)?;
            interrupted |= p.interrupted;
            if let Some(e) = p.error {
                return Err(SnapshotError::Kernel(e));
            }
            if p.overrun {
                return Err(SnapshotError::Overrun);
            }
            if p.done {
                return Ok(interrupted);
            }
        }
    }
}
