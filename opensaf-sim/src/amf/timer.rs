//! The AMF timer thread: sends healthchecks when their period comes, and gives up on
//! invocations not answered in time (see [`super::expire`]). It never waits for the IMM
//! store (see [`healthcheck::resolve`]).

use std::sync::Once;
use std::time::{Duration, Instant};

use super::{amf, healthcheck};

/// Longest sleep between checks (bounds the effect of a missed wakeup).
const MAX_SLEEP: Duration = Duration::from_millis(500);

pub fn ensure_started() {
    static START: Once = Once::new();
    START.call_once(|| {
        let _ = std::thread::Builder::new()
            .name("opensaf-sim-amf".into())
            .spawn(run);
    });
}

fn run() {
    loop {
        // Healthchecks due now, found under the lock, configured outside it.
        let due: Vec<(u64, String, Option<String>)>;
        {
            let mut st = super::state();
            let now = Instant::now();
            let comp = st.registered.as_ref().map(|(n, _)| n.clone());
            let mut next = now + MAX_SLEEP;
            let expired: Vec<u64> = st
                .pending
                .iter()
                .filter(|(_, p)| p.deadline <= now)
                .map(|(inv, _)| *inv)
                .collect();
            for inv in expired {
                super::expire(&mut st, inv, now);
            }
            for p in st.pending.values() {
                next = next.min(p.deadline);
            }
            let mut d = Vec::new();
            for (h, a) in &st.handles {
                for hc in a
                    .healthchecks
                    .iter()
                    .filter(|hc| hc.amf_invoked && hc.pending.is_none())
                {
                    if hc.next_due <= now {
                        d.push((*h, hc.key.clone(), comp.clone()));
                    } else {
                        next = next.min(hc.next_due);
                    }
                }
            }
            if d.is_empty() {
                let wait = next.saturating_duration_since(now);
                let _ = amf()
                    .cond
                    .wait_timeout(st, wait.max(Duration::from_micros(100)));
                continue;
            }
            due = d;
        }
        // A changed period or max-duration (immcfg -a) applies from the next callback on.
        // The store is read only if it is free: while an IMM call holds it, AMF's copy of
        // the configuration serves (the timer never waits behind IMM).
        let configs: Vec<_> = due
            .iter()
            .map(|(_, key, comp)| comp.as_deref().map(|c| healthcheck::resolve(c, key, false)))
            .collect();
        let mut st = super::state();
        let now = Instant::now();
        for ((h, key, _), cfg) in due.iter().zip(configs) {
            let Some(hc) = st
                .handles
                .get_mut(h)
                .and_then(|a| a.healthchecks.iter_mut().find(|hc| hc.key == *key))
            else {
                continue;
            };
            if hc.pending.is_some() || hc.next_due > now {
                continue;
            }
            if let Some(healthcheck::Config::Found(p, m)) = cfg {
                hc.period = p.max(Duration::from_millis(1));
                hc.max_duration = m;
            }
            healthcheck::fire(&mut st, *h, key, now);
        }
    }
}
