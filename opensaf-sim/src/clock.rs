//! Time: wall-clock readings, the date formats of the event log and immlist, and sleeps
//! precise enough for emulated IMM latencies.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Wall-clock time since the Unix epoch.
pub fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(format_ctime(10_000), "Thu Jan  1 02:46:40 1970");
        assert_eq!(
            format_rfc3339(Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00.000000Z"
        );
    }
}
