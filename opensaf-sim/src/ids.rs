//! Handle and invocation numbers.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::clock::unix_now;

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
