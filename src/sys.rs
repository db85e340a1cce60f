//! The component's few direct OS calls besides netlink: waiting on several descriptors,
//! a doorbell (eventfd), and signals as a descriptor (signalfd), so the AMF thread and the
//! sync worker each block in one poll with no periodic wake-up.

#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

use std::io;
use std::mem;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// The most descriptors one [`poll`] waits on (the sync worker's doorbell, OI and CLM are
/// the most any thread has).
pub const MAX_POLL_FDS: usize = 4;

/// Which descriptors of one [`poll`] are readable (or hung up / in error), by position.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Ready {
    flags: [bool; MAX_POLL_FDS],
    len: usize,
}

impl Ready {
    pub fn as_slice(&self) -> &[bool] {
        &self.flags[..self.len]
    }
}

impl std::ops::Deref for Ready {
    type Target = [bool];
    fn deref(&self) -> &[bool] {
        self.as_slice()
    }
}

impl std::fmt::Debug for Ready {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_slice().fmt(f)
    }
}

impl PartialEq<Vec<bool>> for Ready {
    fn eq(&self, other: &Vec<bool>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

/// Blocks until one of `fds` (at most [`MAX_POLL_FDS`]) is readable (or hung up / in
/// error); `timeout_ms` < 0 waits forever. EINTR is retried. Allocates nothing: the AMF
/// thread calls it at every healthcheck.
pub fn poll(fds: &[RawFd], timeout_ms: i32) -> io::Result<Ready> {
    if fds.len() > MAX_POLL_FDS {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    let mut p = [libc::pollfd {
        fd: -1,
        events: libc::POLLIN,
        revents: 0,
    }; MAX_POLL_FDS];
    for (slot, &fd) in p.iter_mut().zip(fds) {
        slot.fd = fd;
    }
    let p = &mut p[..fds.len()];
    loop {
        // SAFETY: `p` is a live, initialized array of `p.len()` pollfd structs.
        let r = unsafe { libc::poll(p.as_mut_ptr(), p.len() as libc::nfds_t, timeout_ms) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if p.iter().any(|f| f.revents & libc::POLLNVAL != 0) {
            // A closed descriptor would make every poll return at once: fail, never spin.
            return Err(io::Error::from_raw_os_error(libc::EBADF));
        }
        let ready = libc::POLLIN | libc::POLLERR | libc::POLLHUP;
        let mut out = Ready {
            flags: [false; MAX_POLL_FDS],
            len: p.len(),
        };
        for (flag, f) in out.flags.iter_mut().zip(p.iter()) {
            *flag = f.revents & ready != 0;
        }
        return Ok(out);
    }
}

/// An eventfd used as a doorbell: `ring` from any thread, `drain` in the waiter.
#[derive(Debug)]
pub struct Doorbell {
    fd: OwnedFd,
}

impl Doorbell {
    pub fn new() -> io::Result<Doorbell> {
        // SAFETY: plain syscall with integer arguments; returns a new descriptor or -1.
        let raw = cvt(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) })?;
        Ok(Doorbell {
            // SAFETY: `raw` was just returned by eventfd and nothing else owns it.
            fd: unsafe { OwnedFd::from_raw_fd(raw) },
        })
    }

    pub fn ring(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64, the size an eventfd takes. EAGAIN (counter
        // saturated) means it is readable already, so the result can be ignored.
        unsafe {
            libc::write(
                self.fd.as_raw_fd(),
                (&one as *const u64).cast(),
                mem::size_of::<u64>(),
            )
        };
    }

    pub fn drain(&self) {
        let mut v: u64 = 0;
        // SAFETY: reads 8 bytes into a live u64; non-blocking, EAGAIN when already empty.
        unsafe {
            libc::read(
                self.fd.as_raw_fd(),
                (&mut v as *mut u64).cast(),
                mem::size_of::<u64>(),
            )
        };
    }
}

impl AsFd for Doorbell {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// SIGTERM, SIGINT and SIGUSR2 delivered through a descriptor. Creating it blocks those
/// signals in the calling thread; create it before spawning threads so they inherit the mask.
#[derive(Debug)]
pub struct Signals {
    fd: OwnedFd,
}

impl Signals {
    pub fn new() -> io::Result<Signals> {
        // SAFETY: the sigset is initialized by sigemptyset before use and only passed by
        // pointer to the calls that read it; signalfd returns a new descriptor or -1.
        unsafe {
            let mut set: libc::sigset_t = mem::zeroed();
            libc::sigemptyset(&mut set);
            for s in [libc::SIGTERM, libc::SIGINT, libc::SIGUSR2] {
                libc::sigaddset(&mut set, s);
            }
            cvt(libc::pthread_sigmask(
                libc::SIG_BLOCK,
                &set,
                std::ptr::null_mut(),
            ))?;
            let raw = cvt(libc::signalfd(
                -1,
                &set,
                libc::SFD_CLOEXEC | libc::SFD_NONBLOCK,
            ))?;
            Ok(Signals {
                fd: OwnedFd::from_raw_fd(raw),
            })
        }
    }

    /// The next pending signal number, if any.
    pub fn next(&self) -> Option<i32> {
        // SAFETY: reads one signalfd_siginfo (its exact size) into a zeroed local.
        unsafe {
            let mut info: libc::signalfd_siginfo = mem::zeroed();
            let n = libc::read(
                self.fd.as_raw_fd(),
                (&mut info as *mut libc::signalfd_siginfo).cast(),
                mem::size_of::<libc::signalfd_siginfo>(),
            );
            (n == mem::size_of::<libc::signalfd_siginfo>() as isize)
                .then_some(info.ssi_signo as i32)
        }
    }
}

impl AsFd for Signals {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// The calling thread's kernel thread id (for `/proc/self/task/<tid>`).
pub fn gettid() -> i32 {
    // SAFETY: gettid takes no arguments and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) as i32 }
}

/// Moves the calling thread (only) into a new, empty network namespace. Threads and processes
/// it creates afterwards inherit it. Needs CAP_SYS_ADMIN. For tests and benchmarks.
pub fn unshare_netns() -> io::Result<()> {
    // SAFETY: plain syscall with an integer argument; it only changes this thread's namespace.
    cvt(unsafe { libc::unshare(libc::CLONE_NEWNET) }).map(drop)
}

/// This thread's CPU time, for the benchmark's per-healthcheck cost.
pub fn thread_cpu_ns() -> u64 {
    // SAFETY: writes one timespec into a zeroed local.
    unsafe {
        let mut ts: libc::timespec = mem::zeroed();
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts);
        ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doorbell_wakes_poll_and_drains() {
        let d = Doorbell::new().unwrap();
        let fd = d.as_fd().as_raw_fd();
        assert_eq!(poll(&[fd], 0).unwrap(), vec![false]);
        d.ring();
        d.ring();
        assert_eq!(poll(&[fd], 1000).unwrap(), vec![true]);
        d.drain();
        assert_eq!(poll(&[fd], 0).unwrap(), vec![false]);
    }

    #[test]
    fn poll_reports_each_descriptor_by_position_and_refuses_too_many() {
        let bells: Vec<Doorbell> = (0..MAX_POLL_FDS)
            .map(|_| Doorbell::new().unwrap())
            .collect();
        let fds: Vec<RawFd> = bells.iter().map(|b| b.as_fd().as_raw_fd()).collect();
        bells[1].ring();
        bells[3].ring();
        assert_eq!(poll(&fds, 0).unwrap(), vec![false, true, false, true]);
        let too_many: Vec<RawFd> = fds.iter().chain(&fds[..1]).copied().collect();
        let e = poll(&too_many, 0).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EINVAL));
    }
}
