//! Changing a link through netlink: what the benchmark uses to time kernel-change-to-flag
//! latency without the cost of spawning `ip`. Not used by the component itself.

use std::io;

use super::error::NetlinkError;
use super::socket::{io_err, request_socket, NlSocket};
use super::wire::{self, setlink_address_request, MAX_ADDR_LEN, NLMSG_ERROR};

#[derive(Debug)]
pub struct LinkSetter {
    sock: NlSocket,
    buf: Vec<u8>,
    seq: u32,
}

impl LinkSetter {
    pub fn new() -> io::Result<Self> {
        Ok(LinkSetter {
            sock: request_socket()?,
            buf: vec![0; 16 * 1024],
            seq: 0,
        })
    }

    /// Sends RTM_SETLINK with a new IFLA_ADDRESS; returns the sequence number to wait for.
    pub fn send_set_address(&mut self, ifindex: u32, mac: &[u8]) -> Result<u32, NetlinkError> {
        if mac.is_empty() || mac.len() > MAX_ADDR_LEN || ifindex == 0 || ifindex > i32::MAX as u32 {
            return Err(NetlinkError::Io {
                op: "RTM_SETLINK",
                source: io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "ifindex {ifindex} / {}-byte address out of range",
                        mac.len()
                    ),
                ),
            });
        }
        self.seq = self.seq.wrapping_add(1).max(1);
        let req = setlink_address_request(self.seq, ifindex, mac);
        self.sock.send_to(&req, 0).map_err(io_err("send"))?;
        Ok(self.seq)
    }

    /// Waits for the kernel's ACK (or error) to request `seq`.
    pub fn wait_ack(&mut self, seq: u32) -> Result<(), NetlinkError> {
        loop {
            let r = self
                .sock
                .recv(&mut self.buf, false, false)
                .map_err(io_err("recv"))?;
            if r.sender != 0 {
                continue;
            }
            if r.truncated {
                return Err(NetlinkError::Truncated { len: r.len });
            }
            for m in wire::messages(&self.buf[..r.len]) {
                let m = m.map_err(NetlinkError::Malformed)?;
                if m.kind != NLMSG_ERROR || m.seq != seq {
                    continue;
                }
                return match wire::parse_error(&m).map_err(NetlinkError::Malformed)? {
                    None => Ok(()),
                    Some(e) => Err(NetlinkError::Kernel(e)),
                };
            }
        }
    }

    pub fn set_address(&mut self, ifindex: u32, mac: &[u8]) -> Result<(), NetlinkError> {
        let seq = self.send_set_address(ifindex, mac)?;
        self.wait_ack(seq)
    }
}
