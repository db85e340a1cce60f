//! The healthcheck's decision: a few atomic loads, nothing that can block.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::flag::ChangeFlag;
use crate::netlink::Monitor;
use crate::sync::Status;

/// What the healthcheck callback looks at: a few atomic loads, nothing that can block.
pub struct Health {
    pub flag: Arc<ChangeFlag>,
    pub monitor: Arc<Monitor>,
    pub status: Arc<Status>,
    pub stuck_bound: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Answer OK; `sync`: a change is pending and IMM may be written.
    Healthy {
        sync: bool,
    },
    MonitorDead,
    WorkerDead,
    SyncStuck,
}

impl Health {
    pub fn assess(&self) -> Verdict {
        if !self.monitor.is_alive() {
            Verdict::MonitorDead
        } else if !self.status.worker_alive.load(Ordering::Relaxed) {
            Verdict::WorkerDead
        } else if self.status.stuck(self.stuck_bound) {
            Verdict::SyncStuck
        } else {
            Verdict::Healthy {
                sync: self.flag.needs_sync() && self.status.active.load(Ordering::Relaxed),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::MonitorOptions;

    fn health() -> Health {
        // The monitor raises its own flag; the verdict reads the one the test controls.
        let monitor = Monitor::spawn(Arc::new(ChangeFlag::new_clear()), MonitorOptions::default())
            .expect("netlink monitor");
        Health {
            flag: Arc::new(ChangeFlag::new_clear()),
            monitor: Arc::new(monitor),
            status: Arc::new(Status::new()),
            stuck_bound: Duration::from_millis(20),
        }
    }

    #[test]
    fn a_sync_is_asked_for_only_when_something_is_pending_and_the_csi_is_active() {
        let h = health();
        assert_eq!(h.assess(), Verdict::Healthy { sync: false });
        h.flag.raise();
        assert_eq!(h.assess(), Verdict::Healthy { sync: false }, "not active");
        h.status.active.store(true, Ordering::Release);
        assert_eq!(h.assess(), Verdict::Healthy { sync: true });
        h.flag.take();
        assert_eq!(h.assess(), Verdict::Healthy { sync: false });
        // An operState change alone is pending work too.
        h.flag.raise_refresh();
        assert_eq!(h.assess(), Verdict::Healthy { sync: true });
    }

    #[test]
    fn a_stuck_sync_a_dead_worker_and_a_dead_monitor_fail_it_in_that_order_of_precedence() {
        let h = health();
        h.status.set_busy(true);
        assert_eq!(
            h.assess(),
            Verdict::Healthy { sync: false },
            "not stuck yet"
        );
        std::thread::sleep(h.stuck_bound * 2);
        assert_eq!(h.assess(), Verdict::SyncStuck);
        h.status.set_busy(false);
        assert_eq!(h.assess(), Verdict::Healthy { sync: false });
        h.status.set_busy(true);
        std::thread::sleep(h.stuck_bound * 2);
        h.status.worker_alive.store(false, Ordering::Release);
        assert_eq!(h.assess(), Verdict::WorkerDead);
        h.monitor.kill_for_test();
        assert_eq!(h.assess(), Verdict::MonitorDead);
    }
}
