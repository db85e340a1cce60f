//! How the simulated AMF and CLM libraries run `sa*Dispatch` on one handle.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use opensaf_sys::SaAisErrorT as Ais;

use crate::mutex::lock;

/// SA_DISPATCH_ONE runs one pending callback; ALL each pending one (bounded, so a callback
/// that keeps queueing cannot pin the caller); BLOCKING runs them as they come until the
/// handle is finalized (also from another thread). `pending` reads from the library's
/// state whether the handle still exists (None: finalized) and has a callback queued;
/// `one` runs one callback (Ok(false): none was pending), with no lock held.
pub fn dispatch<S>(
    flags: u32,
    state: &Mutex<S>,
    queued: &Condvar,
    pending: impl Fn(&S) -> Option<bool>,
    one: impl Fn() -> Result<bool, Ais>,
) -> Result<(), Ais> {
    match flags {
        1 => one().map(|_| ()),
        2 | 3 if pending(&lock(state)).is_none() => Err(Ais::BAD_HANDLE),
        2 => {
            for _ in 0..1024 {
                // Done, or finalized from inside a callback.
                if !matches!(one(), Ok(true)) {
                    break;
                }
            }
            Ok(())
        }
        3 => loop {
            {
                let st = lock(state);
                match pending(&st) {
                    None => return Ok(()),
                    Some(false) => {
                        let _ = queued.wait_timeout(st, Duration::from_millis(200));
                        continue;
                    }
                    Some(true) => {}
                }
            }
            if one().is_err() {
                return Ok(());
            }
        },
        _ => Err(Ais::INVALID_PARAM),
    }
}
