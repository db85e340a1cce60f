//! Retrying what OpenSAF says to retry.
//!
//! TRY_AGAIN and NO_RESOURCES (IMM busy, syncing, or headless) and BUSY are answered by
//! OpenSAF's own clients with a pause and another try, for up to tens of seconds. The total
//! time is bounded so a caller always gets an answer, and a stop flag cuts it short.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::error::{AisCode, AisCodeExt, Error};

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Give up after this long and return the last transient error.
    pub total: Duration,
    /// First pause after TRY_AGAIN / NO_RESOURCES; doubles up to `max_interval`.
    pub interval: Duration,
    pub max_interval: Duration,
    /// Pause after BUSY (an admin operation or CCB is in progress).
    pub busy_interval: Duration,
    /// When set, no further try is made and the call returns `Error::Cancelled`.
    pub stop: Option<Arc<AtomicBool>>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            total: Duration::from_secs(10),
            interval: Duration::from_millis(100),
            max_interval: Duration::from_secs(1),
            busy_interval: Duration::from_secs(1),
            stop: None,
        }
    }
}

impl RetryPolicy {
    /// No retries at all (for tests of the raw behaviour).
    pub fn none() -> Self {
        RetryPolicy {
            total: Duration::ZERO,
            ..Default::default()
        }
    }

    fn stopping(&self) -> bool {
        self.stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed))
    }

    /// Sleeps `d` in small steps so a stop request is noticed quickly.
    fn pause(&self, d: Duration) -> bool {
        let until = Instant::now() + d;
        loop {
            if self.stopping() {
                return false;
            }
            let now = Instant::now();
            if now >= until {
                return true;
            }
            std::thread::sleep((until - now).min(Duration::from_millis(20)));
        }
    }

    /// Calls `f` until it answers something other than a transient code or time is up.
    pub fn run<T>(
        &self,
        call: &'static str,
        mut f: impl FnMut() -> Result<T, AisCode>,
    ) -> Result<T, Error> {
        let start = Instant::now();
        let mut interval = self.interval;
        loop {
            // Also before the first try: a caller told to stop must not start a new call.
            if self.stopping() {
                return Err(Error::Cancelled(call));
            }
            let code = match f() {
                Ok(v) => return Ok(v),
                Err(code) => code,
            };
            if !code.is_transient() || start.elapsed() >= self.total {
                return Err(Error::Ais { call, code });
            }
            let wait = if code == AisCode::BUSY {
                self.busy_interval
            } else {
                interval
            };
            let wait = wait.min(self.total.saturating_sub(start.elapsed()));
            log::debug!("{call}: {code}, retrying in {wait:?}");
            if !self.pause(wait) {
                return Err(Error::Cancelled(call));
            }
            interval = (interval * 2).min(self.max_interval);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick(total_ms: u64) -> RetryPolicy {
        RetryPolicy {
            total: Duration::from_millis(total_ms),
            interval: Duration::from_millis(1),
            max_interval: Duration::from_millis(4),
            busy_interval: Duration::from_millis(2),
            stop: None,
        }
    }

    #[test]
    fn transient_codes_are_retried_until_success() {
        let mut n = 0;
        let r = quick(1000).run("x", || {
            n += 1;
            match n {
                1 => Err(AisCode::TRY_AGAIN),
                2 => Err(AisCode::NO_RESOURCES),
                3 => Err(AisCode::BUSY),
                _ => Ok(n),
            }
        });
        assert_eq!(r, Ok(4));
    }

    #[test]
    fn other_codes_are_returned_at_once() {
        let mut n = 0;
        let r: Result<(), _> = quick(1000).run("saImmOiRtObjectCreate_2", || {
            n += 1;
            Err(AisCode::EXIST)
        });
        assert_eq!(n, 1);
        assert_eq!(r.unwrap_err().code(), Some(AisCode::EXIST));
    }

    #[test]
    fn total_time_is_bounded() {
        let start = Instant::now();
        let r: Result<(), _> = quick(50).run("x", || Err(AisCode::TRY_AGAIN));
        assert_eq!(r.unwrap_err().code(), Some(AisCode::TRY_AGAIN));
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(50) && took < Duration::from_secs(2),
            "{took:?}"
        );
    }

    #[test]
    fn stop_flag_cancels() {
        let stop = Arc::new(AtomicBool::new(true));
        let p = RetryPolicy {
            stop: Some(stop),
            ..quick(10_000)
        };
        let r: Result<(), _> = p.run("x", || Err(AisCode::TRY_AGAIN));
        assert_eq!(r.unwrap_err(), Error::Cancelled("x"));
    }
}
