//! Small process-level helpers shared by every part of the simulator.

use std::fs;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, Once};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Locks a mutex even if a panicking thread poisoned it: a panic is already caught at the
/// C boundary and reported as SA_AIS_ERR_LIBRARY, so it must not turn every later call
/// into another panic.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Wall-clock time since the Unix epoch.
pub fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

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

/// Unix time in milliseconds.
pub fn unix_ms() -> u64 {
    unix_now().as_millis() as u64
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `2024-05-01T12:00:00.123456Z` (UTC, microseconds).
pub fn format_rfc3339(t: Duration) -> String {
    let secs = t.as_secs() as i64;
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60,
        t.subsec_micros()
    )
}

/// The `ctime(3)` layout immlist uses for SA_TIME_T values (here always UTC).
pub fn format_ctime(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs.div_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    let sod = secs.rem_euclid(86_400);
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(mo - 1) as usize],
        d,
        sod / 3600,
        (sod / 60) % 60,
        sod % 60,
        y
    )
}

/// CRC-32 (IEEE), used to tell a complete journal record from a torn one.
pub fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [0u32; 256];
        for (i, slot) in t.iter_mut().enumerate() {
            let mut c = i as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *slot = c;
        }
        t
    });
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc = table[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
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

/// Process-unique, never reused handle and invocation numbers. The high bits come from
/// the clock and the pid so that a handle from a previous process (or from before a
/// simulated IMM restart) is never mistaken for a current one.
pub fn next_id() -> u64 {
    static NEXT: std::sync::OnceLock<AtomicU64> = std::sync::OnceLock::new();
    NEXT.get_or_init(|| {
        let seed = (unix_now().as_nanos() as u64 ^ (u64::from(std::process::id()) << 24))
            & 0x0000_7FFF_FFFF_0000;
        AtomicU64::new(seed | 1)
    })
    .fetch_add(1, Ordering::Relaxed)
}

/// A Linux eventfd used as an SA selection object: readable exactly while callbacks are
/// pending for the handle.
#[derive(Debug)]
pub struct EventFd(OwnedFd);

impl EventFd {
    pub fn new() -> io::Result<EventFd> {
        // SAFETY: eventfd takes no pointers; a negative return is checked before use.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a fresh descriptor that nothing else owns.
        Ok(EventFd(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    pub fn raw(&self) -> RawFd {
        self.0.as_raw_fd()
    }

    /// Makes the fd readable (idempotent: the counter only grows).
    pub fn signal(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to our own eventfd; EAGAIN (counter
        // saturated) still leaves it readable, which is all that matters.
        unsafe {
            libc::write(self.raw(), (&one as *const u64).cast(), 8);
        }
    }

    /// Makes the fd unreadable again.
    pub fn clear(&self) {
        let mut v: u64 = 0;
        // SAFETY: reads 8 bytes into a live u64 from our own non-blocking eventfd.
        unsafe {
            libc::read(self.raw(), (&mut v as *mut u64).cast(), 8);
        }
    }
}

/// Sleeps until `deadline` with sub-millisecond accuracy: coarse sleep, then a short spin,
/// because emulated IMM latencies are a few hundred microseconds and `sleep` alone
/// overshoots them by the timer slack.
pub fn precise_sleep(d: Duration) {
    let deadline = std::time::Instant::now() + d;
    if d > Duration::from_micros(150) {
        std::thread::sleep(d - Duration::from_micros(100));
    }
    while std::time::Instant::now() < deadline {
        std::hint::spin_loop();
    }
}

/// Escapes a string for a JSON string literal.
pub fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_known_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn dates() {
        assert_eq!(format_ctime(10_000), "Thu Jan  1 02:46:40 1970");
        assert_eq!(
            format_rfc3339(Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00.000000Z"
        );
    }

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
