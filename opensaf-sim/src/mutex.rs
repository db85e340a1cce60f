//! Locking the simulator's mutexes.

use std::sync::{Mutex, MutexGuard};

/// Locks a mutex even if a panicking thread poisoned it: a panic is already caught at the
/// C boundary and reported as SA_AIS_ERR_LIBRARY, so it must not turn every later call
/// into another panic.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
