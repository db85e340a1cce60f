//! Losing notifications (ENOBUFS) must end in a resync, never in a silently stale view.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use macsync::flag::{ChangeFlag, Pending};
use macsync::netlink::{Monitor, MonitorOptions, Snapshotter};

#[test]
fn burst_against_small_buffer_gives_enobufs_then_resync() {
    enter_netns();
    let flag = Arc::new(ChangeFlag::new_clear());
    let mon = Monitor::spawn(Arc::clone(&flag), MonitorOptions { rcvbuf: 4096 }).unwrap();
    assert_eq!(flag.take(), Some(Pending { resync: true }));

    // 5000 veth pairs: 10 000 links, at least 10 000 notifications in about two seconds.
    // A monitor thread that gets the CPU at the right moments can keep up even with a tiny
    // buffer (seen on 2 cores when link creation is slow), so it is held back for the first
    // moments of the burst, like a starved thread: the overflow then always happens.
    mon.stall_for_test(Duration::from_millis(500));
    add_veth_pairs("o", 5000);

    assert!(
        wait_until(Duration::from_secs(10), || mon.stats().enobufs > 0),
        "no ENOBUFS with a {} byte buffer: {:?}",
        mon.stats().rcvbuf_effective,
        mon.stats()
    );
    // Let the monitor finish: wait until a re-seed succeeded, the cache is valid (no dump
    // under way: one can take longer than the quiet time on a loaded machine) and nothing
    // moved for a while.
    let mut last = mon.stats();
    assert!(
        wait_until(Duration::from_secs(20), || {
            std::thread::sleep(Duration::from_millis(300));
            let now = mon.stats();
            let quiet = now == last && now.resyncs > 0 && mon.cache().is_valid();
            last = now;
            quiet
        }),
        "monitor did not settle: {:?}",
        mon.stats()
    );
    let s = mon.stats();
    eprintln!("after the burst: {s:?}");
    assert!(s.overruns >= s.enobufs && s.resyncs > 0, "{s:?}");
    assert_eq!(flag.take(), Some(Pending { resync: true }), "{s:?}");

    // The snapshot the consumer takes now equals the kernel's table.
    let links = Snapshotter::new().unwrap().dump().unwrap();
    assert_eq!(links.len(), 10_001);
    let ours: BTreeSet<_> = links
        .iter()
        .map(|l| (l.ifindex, l.name_lossy(), l.mac_string()))
        .collect();
    let theirs: BTreeSet<_> = ip_json_links()
        .into_iter()
        .map(|(i, n, a)| (i, n, a.unwrap_or_default()))
        .collect();
    assert_eq!(ours, theirs);

    // And the monitor, re-seeded, still tells changes from non-changes.
    assert!(mon.is_alive());
    let before = mon.stats().events;
    ip(&["link", "set", "oa17", "up"]);
    assert!(wait_until(Duration::from_secs(5), || mon.stats().events > before));
    std::thread::sleep(Duration::from_millis(50));
    assert!(!flag.is_raised(), "{:?}", mon.stats());
    ip(&["link", "set", "dev", "oa17", "address", "02:00:00:00:17:17"]);
    assert!(wait_until(Duration::from_secs(5), || flag.is_raised()));
    assert_eq!(flag.take(), Some(Pending { resync: false }));
}
