//! The node object's counters: cumulative across restarts (the worker adopts what IMM held
//! when it first found the node object), counting mirrored changes, not IMM calls.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::diff::Change;
use crate::model::Counters;
use crate::netlink::MonitorStats;
use crate::osaf::Attr;

#[derive(Debug, Default)]
pub(crate) struct NodeCounters {
    /// Counters found in IMM when the node object was first read: cumulative across restarts.
    base: Counters,
    /// The monitor's counters at that moment, so only what came after is added to `base`.
    base_monitor: MonitorStats,
    loaded: bool,
    current: Counters,
}

impl NodeCounters {
    /// Whether IMM's counters were adopted already.
    pub fn loaded(&self) -> bool {
        self.loaded
    }

    /// Adopts what the node object held. Once per process: after a BAD_HANDLE the counters
    /// in memory are ahead of IMM (their last update may not have landed) and stay
    /// authoritative.
    pub fn adopt(&mut self, found: Counters, monitor: MonitorStats) {
        if self.loaded {
            return;
        }
        self.base = found;
        self.base_monitor = monitor;
        self.current = found;
        self.loaded = true;
    }

    /// One mirrored change, whatever IMM calls it took.
    pub fn count(&mut self, change: &Change) {
        match change {
            Change::Create(..) => self.current.created += 1,
            Change::Update(..) => self.current.updated += 1,
            Change::Delete(_) => self.current.deleted += 1,
        }
    }

    pub fn sync_done(&mut self) {
        self.current.syncs += 1;
    }

    /// The node object's attributes now: the monitor's counters since adoption added to
    /// IMM's, and `lastSyncTime`.
    pub fn attrs(&mut self, monitor: &MonitorStats) -> Vec<Attr> {
        let (c, b, m) = (&mut self.current, &self.base_monitor, monitor);
        c.change_events = self.base.change_events + (m.changes - b.changes);
        c.resyncs = self.base.resyncs + (m.overruns - b.overruns);
        c.forged_dropped = self.base.forged_dropped + (m.forged_dropped - b.forged_dropped);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64);
        c.attrs(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IfRecord, ATTR_LAST_SYNC};
    use crate::osaf::{AttrValue, Dn};

    fn value(attrs: &[Attr], name: &str) -> AttrValue {
        attrs
            .iter()
            .find(|a| a.name == name)
            .and_then(|a| a.values.first().cloned())
            .unwrap_or_else(|| panic!("no {name} in {attrs:?}"))
    }

    #[test]
    fn adopted_once_then_counts_changes_and_monitor_deltas() {
        let mut c = NodeCounters::default();
        assert!(!c.loaded());
        let imm = Counters {
            syncs: 10,
            created: 5,
            change_events: 100,
            resyncs: 2,
            forged_dropped: 1,
            ..Default::default()
        };
        let at_adoption = MonitorStats {
            changes: 40,
            overruns: 3,
            forged_dropped: 7,
            ..Default::default()
        };
        c.adopt(imm, at_adoption);
        assert!(c.loaded());
        // A second adoption (after BAD_HANDLE) must not roll the counters back.
        c.adopt(Counters::default(), MonitorStats::default());
        let dn = Dn::parse("macSyncInterfaceId=a,macSyncNodeId=n", 255).unwrap();
        let rec = IfRecord {
            mac: String::new(),
            ifindex: 1,
            oper: 6,
        };
        c.count(&Change::Create(dn.clone(), rec.clone()));
        c.count(&Change::Update(dn.clone(), rec.clone(), rec));
        c.count(&Change::Delete(dn));
        c.sync_done();
        let now = MonitorStats {
            changes: 45,
            overruns: 4,
            forged_dropped: 7,
            ..at_adoption
        };
        let attrs = c.attrs(&now);
        assert_eq!(
            Counters::from_attrs(&attrs),
            Counters {
                syncs: 11,
                created: 6,
                updated: 1,
                deleted: 1,
                change_events: 105,
                resyncs: 3,
                forged_dropped: 1,
            }
        );
        assert!(matches!(value(&attrs, ATTR_LAST_SYNC), AttrValue::Time(t) if t > 0));
    }
}
