//! The only place in macsync's netlink code that calls libc (and so the only `unsafe`).
//!
//! Everything above this module works on `&[u8]` and `io::Result`. File descriptors are held in
//! `OwnedFd`, so they are closed exactly once when their owner is dropped, on every path.

#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

use std::io;
use std::mem;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use libc::{c_int, c_void, socklen_t};

use super::error::NetlinkError;

// Kernel ABI values (include/uapi/linux/netlink.h, socket.h); spelled out so the code does not
// depend on which libc release exports them.
const SOL_NETLINK: c_int = 270;
const NETLINK_EXT_ACK: c_int = 11;
const NETLINK_GET_STRICT_CHK: c_int = 12;

/// A kernel answer to a request is immediate; waiting longer than this means something is
/// badly wrong, and the caller (the sync worker, a benchmark) must not hang.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

fn cvt(r: c_int) -> io::Result<c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn sockaddr_nl(port: u32, groups: u32) -> libc::sockaddr_nl {
    // SAFETY: sockaddr_nl is a plain C struct of integers (with a private padding field, which
    // is why it cannot be built with a literal); all-zero is a valid value for it.
    let mut a: libc::sockaddr_nl = unsafe { mem::zeroed() };
    a.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    a.nl_pid = port;
    a.nl_groups = groups;
    a
}

/// What `recv` returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received {
    /// The datagram's full length, which exceeds the buffer when `truncated`.
    pub len: usize,
    /// The datagram did not fit in the buffer; the bytes beyond it are lost.
    pub truncated: bool,
    /// Sender's port id: 0 is the kernel. `u32::MAX` if the kernel reported no netlink address.
    pub sender: u32,
}

/// A NETLINK_ROUTE socket, close-on-exec, bound with port id 0 so the kernel picks a unique one
/// (binding to the process id collides as soon as the process opens a second socket).
#[derive(Debug)]
pub struct NlSocket {
    fd: OwnedFd,
}

impl NlSocket {
    /// Opens and binds. `groups` is the legacy multicast bitmask (RTMGRP_LINK for the monitor,
    /// 0 for request/response sockets).
    pub fn open_route(groups: u32, nonblocking: bool) -> io::Result<Self> {
        let mut ty = libc::SOCK_RAW | libc::SOCK_CLOEXEC;
        if nonblocking {
            ty |= libc::SOCK_NONBLOCK;
        }
        // SAFETY: plain syscall with integer arguments; returns a new descriptor or -1.
        let raw = cvt(unsafe { libc::socket(libc::AF_NETLINK, ty, libc::NETLINK_ROUTE) })?;
        // SAFETY: `raw` was just returned by socket() and nothing else owns it.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let sock = NlSocket { fd };
        let addr = sockaddr_nl(0, groups);
        // SAFETY: `addr` is an initialized sockaddr_nl that outlives the call, and the length
        // passed is exactly its size.
        cvt(unsafe {
            libc::bind(
                sock.fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_nl).cast::<libc::sockaddr>(),
                mem::size_of::<libc::sockaddr_nl>() as socklen_t,
            )
        })?;
        Ok(sock)
    }

    /// The port id the kernel assigned at bind time.
    pub fn port_id(&self) -> io::Result<u32> {
        let mut addr = sockaddr_nl(0, 0);
        let mut len = mem::size_of::<libc::sockaddr_nl>() as socklen_t;
        // SAFETY: `addr` and `len` are valid for writes and `len` holds the buffer's size, so
        // the kernel writes at most that many bytes.
        cvt(unsafe {
            libc::getsockname(
                self.fd.as_raw_fd(),
                (&mut addr as *mut libc::sockaddr_nl).cast::<libc::sockaddr>(),
                &mut len,
            )
        })?;
        Ok(addr.nl_pid)
    }

    fn set_int(&self, level: c_int, opt: c_int, val: c_int) -> io::Result<()> {
        // SAFETY: the option value points to a live c_int and the length is its size.
        cvt(unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                level,
                opt,
                (&val as *const c_int).cast::<c_void>(),
                mem::size_of::<c_int>() as socklen_t,
            )
        })
        .map(drop)
    }

    fn get_int(&self, level: c_int, opt: c_int) -> io::Result<c_int> {
        let mut val: c_int = 0;
        let mut len = mem::size_of::<c_int>() as socklen_t;
        // SAFETY: `val` and `len` are valid for writes; `len` bounds what the kernel writes.
        cvt(unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                level,
                opt,
                (&mut val as *mut c_int).cast::<c_void>(),
                &mut len,
            )
        })?;
        Ok(val)
    }

    /// Asks for a receive buffer of `bytes`: SO_RCVBUFFORCE first (ignores net.core.rmem_max
    /// but needs CAP_NET_ADMIN in the initial namespace), then SO_RCVBUF (capped by rmem_max).
    /// Returns the effective size as the kernel reports it (it doubles the request to account
    /// for its own overhead).
    pub fn set_rcvbuf(&self, bytes: usize) -> io::Result<usize> {
        let want = c_int::try_from(bytes).unwrap_or(c_int::MAX);
        if self
            .set_int(libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, want)
            .is_err()
        {
            self.set_int(libc::SOL_SOCKET, libc::SO_RCVBUF, want)?;
        }
        self.rcvbuf()
    }

    pub fn rcvbuf(&self) -> io::Result<usize> {
        Ok(self.get_int(libc::SOL_SOCKET, libc::SO_RCVBUF)?.max(0) as usize)
    }

    /// NETLINK_EXT_ACK: errors come with a human-readable reason.
    pub fn set_ext_ack(&self, on: bool) -> io::Result<()> {
        self.set_int(SOL_NETLINK, NETLINK_EXT_ACK, c_int::from(on))
    }

    /// NETLINK_GET_STRICT_CHK: the kernel validates dump requests instead of ignoring junk.
    pub fn set_strict_check(&self, on: bool) -> io::Result<()> {
        self.set_int(SOL_NETLINK, NETLINK_GET_STRICT_CHK, c_int::from(on))
    }

    /// Bounds how long a blocking recv waits (None: forever).
    pub fn set_recv_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        let tv = match timeout {
            Some(d) => libc::timeval {
                tv_sec: d.as_secs().min(i32::MAX as u64) as libc::time_t,
                tv_usec: d.subsec_micros() as libc::suseconds_t,
            },
            None => libc::timeval {
                tv_sec: 0,
                tv_usec: 0,
            },
        };
        // SAFETY: the option value points to a live timeval and the length is its size.
        cvt(unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&tv as *const libc::timeval).cast::<c_void>(),
                mem::size_of::<libc::timeval>() as socklen_t,
            )
        })
        .map(drop)
    }

    /// Sends one datagram to `port` (0: the kernel).
    pub fn send_to(&self, buf: &[u8], port: u32) -> io::Result<usize> {
        let addr = sockaddr_nl(port, 0);
        loop {
            // SAFETY: `buf` is valid for reads of buf.len() bytes; `addr` is an initialized
            // sockaddr_nl and the length passed is its size.
            let n = unsafe {
                libc::sendto(
                    self.fd.as_raw_fd(),
                    buf.as_ptr().cast::<c_void>(),
                    buf.len(),
                    0,
                    (&addr as *const libc::sockaddr_nl).cast::<libc::sockaddr>(),
                    mem::size_of::<libc::sockaddr_nl>() as socklen_t,
                )
            };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }

    /// Receives one datagram into `buf`. Always passes MSG_TRUNC so the returned length is the
    /// datagram's real size. `peek` leaves it queued; `dontwait` never blocks (WouldBlock).
    /// EINTR is retried here; ENOBUFS (events were dropped) is returned as an error.
    pub fn recv(&self, buf: &mut [u8], peek: bool, dontwait: bool) -> io::Result<Received> {
        let mut flags = libc::MSG_TRUNC;
        if peek {
            flags |= libc::MSG_PEEK;
        }
        if dontwait {
            flags |= libc::MSG_DONTWAIT;
        }
        loop {
            let mut addr = sockaddr_nl(u32::MAX, 0);
            addr.nl_family = 0;
            let mut iov = libc::iovec {
                iov_base: buf.as_mut_ptr().cast::<c_void>(),
                iov_len: buf.len(),
            };
            // SAFETY: msghdr is a plain C struct (with private padding on some targets);
            // all-zero is valid, and the fields we need are set below.
            let mut msg: libc::msghdr = unsafe { mem::zeroed() };
            msg.msg_name = (&mut addr as *mut libc::sockaddr_nl).cast::<c_void>();
            msg.msg_namelen = mem::size_of::<libc::sockaddr_nl>() as socklen_t;
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            // SAFETY: msg points to one iovec describing `buf` (valid for writes of its
            // length, possibly 0) and to `addr` with its exact size; all outlive the call.
            // The kernel writes at most iov_len bytes even when it reports a larger length.
            let n = unsafe { libc::recvmsg(self.fd.as_raw_fd(), &mut msg, flags) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            let len = n as usize;
            let sender = if msg.msg_namelen as usize >= mem::size_of::<libc::sockaddr_nl>()
                && c_int::from(addr.nl_family) == libc::AF_NETLINK
            {
                addr.nl_pid
            } else {
                u32::MAX
            };
            return Ok(Received {
                len,
                truncated: msg.msg_flags & libc::MSG_TRUNC != 0 || len > buf.len(),
                sender,
            });
        }
    }
}

pub(crate) fn io_err(op: &'static str) -> impl FnOnce(io::Error) -> NetlinkError {
    move |source| NetlinkError::Io { op, source }
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
    sock.set_recv_timeout(Some(REQUEST_TIMEOUT))?;
    Ok(sock)
}

impl AsFd for NlSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for NlSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
