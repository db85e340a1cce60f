//! Which process this is and whether another one still runs: the identity stored beside
//! an implementer name and a CLI server's registration.

use std::fs;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;

/// This process's id without a system call per use (the event log stamps every line
/// with it). The cache is cleared in the child of a `fork`, which has another pid.
pub fn pid() -> u32 {
    static PID: AtomicU32 = AtomicU32::new(0);
    static ATFORK: Once = Once::new();
    extern "C" fn forget_in_child() {
        PID.store(0, Ordering::Relaxed);
    }
    let p = PID.load(Ordering::Relaxed);
    if p != 0 {
        return p;
    }
    // Registered before the first value is cached, so no child can inherit a stale one.
    // SAFETY: registers a handler that only stores to an atomic (async-signal-safe); the
    // library is never unloaded (and glibc drops a library's handlers when it is).
    ATFORK.call_once(|| unsafe {
        libc::pthread_atfork(None, None, Some(forget_in_child));
    });
    let p = std::process::id();
    PID.store(p, Ordering::Relaxed);
    p
}

/// The start time of a process (clock ticks since boot, field 22 of /proc/PID/stat).
/// Together with the pid it names a process uniquely, even after pid reuse.
pub fn proc_start_time(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces and parentheses: skip past the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    // After ')' come field 3 (state) .. ; starttime is field 22, i.e. index 19 here.
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// This process's identity as stored beside an implementer name.
pub fn self_identity() -> (u32, u64) {
    static ID: std::sync::OnceLock<(u32, u64)> = std::sync::OnceLock::new();
    *ID.get_or_init(|| {
        let pid = std::process::id();
        (pid, proc_start_time(pid).unwrap_or(0))
    })
}

/// Whether the process `pid` that started at `start` is still running (not a zombie).
pub fn process_alive(pid: u32, start: u64) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let Some(close) = stat.rfind(')') else {
        return false;
    };
    let mut fields = stat[close + 1..].split_whitespace();
    let state = fields.next().unwrap_or("");
    if state == "Z" || state == "X" {
        return false;
    }
    fields.nth(18).and_then(|s| s.parse::<u64>().ok()) == Some(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_is_cached_and_right_after_fork() {
        assert_eq!(pid(), std::process::id());
        let mut fds = [0; 2];
        // SAFETY: a two-int array for pipe(2).
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: the child only calls pid() (an atomic and getpid), write(2) and _exit.
        let child = unsafe { libc::fork() };
        assert!(child >= 0);
        if child == 0 {
            let p = pid();
            // SAFETY: writes 4 bytes from a live u32 to the pipe; _exit never returns.
            unsafe {
                libc::write(fds[1], (&p as *const u32).cast(), 4);
                libc::_exit(0);
            }
        }
        let mut got = 0u32;
        // SAFETY: reads 4 bytes into a live u32 from the pipe; waits for the child.
        unsafe {
            libc::close(fds[1]);
            assert_eq!(libc::read(fds[0], (&mut got as *mut u32).cast(), 4), 4);
            libc::close(fds[0]);
            libc::waitpid(child, std::ptr::null_mut(), 0);
        }
        assert_eq!(got, child as u32, "the child's own pid, not the cached one");
        assert_eq!(pid(), std::process::id());
    }

    #[test]
    fn own_process_is_alive() {
        let (pid, start) = self_identity();
        assert!(process_alive(pid, start));
        assert!(!process_alive(pid, start + 1));
    }
}
