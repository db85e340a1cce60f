//! Full RTM_GETLINK dumps on a dedicated socket.

use std::io;

use super::dump::parse_dump_seq;
use super::error::NetlinkError;
use super::link::Link;
use super::socket::{io_err, request_socket, NlSocket};
use super::wire::getlink_dump_request;

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
    pub fn dump(&mut self) -> Result<Vec<Link>, NetlinkError> {
        let mut out = Vec::new();
        self.dump_into(&mut out)?;
        Ok(out)
    }

    /// [`Snapshotter::dump`] into a caller-owned vector (cleared first), to reuse its memory.
    pub fn dump_into(&mut self, out: &mut Vec<Link>) -> Result<(), NetlinkError> {
        self.dump_with_retries(out, None, false).map(|_| ())
    }

    /// One dump into `out`, kept even if the table changed during it (NLM_F_DUMP_INTR):
    /// returns whether it did. Only for a reader subscribed to the link notifications
    /// *before* the dump, that applies them afterwards: every change that made the dump
    /// inconsistent is one of those notifications, and it carries the link's whole new
    /// state, so applying them in order ends in the kernel's table (unless some were lost,
    /// which ENOBUFS reports). Retrying instead could fail forever on a busy host.
    pub fn dump_for_seed(&mut self, out: &mut Vec<Link>) -> Result<bool, NetlinkError> {
        self.dump_with_retries(out, None, true)
    }

    /// The raw datagrams of one complete, uninterrupted dump (for tests and diagnostics).
    pub fn dump_raw(&mut self) -> Result<Vec<Vec<u8>>, NetlinkError> {
        let mut raw = Vec::new();
        self.dump_with_retries(&mut Vec::new(), Some(&mut raw), false)?;
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

    /// Returns whether the dump in `out` was interrupted (only with `accept_interrupted`).
    fn dump_with_retries(
        &mut self,
        out: &mut Vec<Link>,
        mut raw: Option<&mut Vec<Vec<u8>>>,
        accept_interrupted: bool,
    ) -> Result<bool, NetlinkError> {
        let mut interrupted = 0;
        let mut grown = 0;
        loop {
            out.clear();
            if let Some(r) = raw.as_deref_mut() {
                r.clear();
            }
            let err = match self.dump_once(out, raw.as_deref_mut()) {
                Ok(intr) if !intr || accept_interrupted => return Ok(intr),
                Ok(_) => {
                    interrupted += 1;
                    if interrupted > MAX_INTR_RETRIES {
                        out.clear();
                        return Err(NetlinkError::Interrupted {
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
                NetlinkError::Truncated { len } if grown < MAX_GROWTH && len <= MAX_DATAGRAM => {
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
    ) -> Result<bool, NetlinkError> {
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
                return Err(NetlinkError::Truncated { len: r.len });
            }
            let data = &self.buf[..r.len];
            if let Some(raw) = raw.as_deref_mut() {
                raw.push(data.to_vec());
            }
            let p = parse_dump_seq(data, Some(seq), out).map_err(NetlinkError::Malformed)?;
            interrupted |= p.interrupted;
            if let Some(e) = p.error {
                return Err(NetlinkError::Kernel(e));
            }
            if p.overrun {
                return Err(NetlinkError::Overrun);
            }
            if p.done {
                return Ok(interrupted);
            }
        }
    }
}
