//! The monitor's cache as the sync's source, against a real kernel, each test in its own
//! network namespace: it equals the kernel's table, hands out exactly the links that
//! changed, and is dumped only at start, after lost notifications and on request.

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use macsync::flag::ChangeFlag;
use macsync::netlink::{mac_to_string, LinkState, Monitor, MonitorOptions, NotSeeded};

type Table = BTreeSet<(u32, String, String)>;

fn kernel() -> Table {
    ip_json_links()
        .into_iter()
        .map(|(i, n, a)| (i, n, a.unwrap_or_default()))
        .collect()
}

fn row(i: u32, s: &LinkState) -> (u32, String, String) {
    (
        i,
        String::from_utf8_lossy(s.name()).into_owned(),
        mac_to_string(s.mac()),
    )
}

fn cached(mon: &Monitor) -> Result<Table, NotSeeded> {
    let mut all = Vec::new();
    mon.cache().take_all(&mut all)?;
    Ok(all.iter().map(|(i, s)| row(*i, s)).collect())
}

/// Waits until the monitor has handled everything the kernel sent (no event for 300 ms).
fn settle(mon: &Monitor) {
    let mut last = mon.stats();
    assert!(
        wait_until(Duration::from_secs(30), || {
            std::thread::sleep(Duration::from_millis(300));
            let now = mon.stats();
            let quiet = now.events == last.events
                && now.datagrams == last.datagrams
                && mon.cache().is_valid();
            last = now;
            quiet
        }),
        "monitor did not settle: {:?}",
        mon.stats()
    );
}

#[test]
fn the_cache_equals_the_kernel_and_hands_out_only_what_changed_without_a_dump() {
    enter_netns();
    add_veth_pairs("c", 50);
    let flag = Arc::new(ChangeFlag::new_clear());
    let mon = Monitor::spawn(flag.clone(), MonitorOptions::default()).unwrap();
    assert_eq!(mon.stats().dumps, 1, "the seed");
    assert_eq!(cached(&mon).unwrap(), kernel());

    let idx = |name: &str| {
        kernel()
            .into_iter()
            .find(|r| r.1 == name)
            .unwrap_or_else(|| panic!("{name} not in the kernel"))
            .0
    };
    let (a3, b3, a7, a9, b9) = (idx("ca3"), idx("cb3"), idx("ca7"), idx("ca9"), idx("cb9"));
    ip_batch([
        "link set ca3 address 02:00:00:00:33:33",
        "link set ca7 name lan7",
        "link del ca9",
        "link add n0 type veth peer name n1",
    ]);
    settle(&mon);
    let (n0, n1) = (idx("n0"), idx("n1"));
    flag.take();
    let mut changed = Vec::new();
    mon.cache().take_changed(&mut changed).unwrap();
    let ids: BTreeSet<u32> = changed.iter().map(|e| e.0).collect();
    // Deleting ca9 takes its peer cb9 with it; a MAC change on ca3 is also news for its
    // peer cb3 (its lower layer), and so is n0's creation for n1's: each sends RTM_NEWLINK,
    // but only those whose state changed are marked.
    let expected: BTreeSet<u32> = [a3, a7, a9, b9, n0, n1].into();
    assert!(
        ids.is_superset(&expected) && ids.difference(&expected).all(|i| *i == b3),
        "changed {ids:?}, expected {expected:?}"
    );
    let now = kernel();
    for (i, s) in &changed {
        match s {
            Some(s) => assert!(
                now.contains(&row(*i, s)),
                "{:?} not the kernel's",
                row(*i, s)
            ),
            None => assert!(now.iter().all(|r| r.0 != *i), "{i} still in the kernel"),
        }
    }
    assert_eq!(cached(&mon).unwrap(), now);
    assert_eq!(mon.stats().dumps, 1, "an ordinary change takes no dump");

    // Up/down marks the link (operState is mirrored) without a dump either.
    ip(&["link", "set", "n0", "up"]);
    ip(&["link", "set", "n1", "up"]);
    settle(&mon);
    mon.cache().take_changed(&mut changed).unwrap();
    let up: Vec<_> = changed
        .iter()
        .filter_map(|(i, s)| s.map(|s| (*i, s.oper_state)))
        .collect();
    assert!(up.contains(&(n0, 6)) && up.contains(&(n1, 6)), "{up:?}");
    assert_eq!(mon.stats().dumps, 1);

    // The admin operation's re-seed: one dump, the same table.
    assert!(mon.reseed(Duration::from_secs(5)));
    assert_eq!(mon.stats().dumps, 2);
    assert_eq!(cached(&mon).unwrap(), kernel());
}

#[test]
fn lost_notifications_make_the_cache_unusable_until_its_reseed_equals_the_kernel() {
    enter_netns();
    let flag = Arc::new(ChangeFlag::new_clear());
    let mon = Monitor::spawn(flag.clone(), MonitorOptions { rcvbuf: 4096 }).unwrap();
    flag.take();
    // As in netlink_overrun: a starved thread and a burst overflow the tiny buffer.
    mon.stall_for_test(Duration::from_millis(500));
    let burst = std::thread::spawn(|| add_veth_pairs("o", 2000));
    assert!(
        wait_until(Duration::from_secs(10), || !mon.cache().is_valid()),
        "the cache stayed valid: {:?}",
        mon.stats()
    );
    let mut v = Vec::new();
    assert_eq!(mon.cache().take_changed(&mut v), Err(NotSeeded));
    assert!(flag.is_resync());
    burst.join().unwrap();
    settle(&mon);
    let s = mon.stats();
    assert!(
        s.enobufs > 0 && s.resyncs > 0 && s.dumps == 1 + s.resyncs + s.resync_failures,
        "{s:?}"
    );
    assert_eq!(cached(&mon).unwrap(), kernel());
    assert!(flag.is_resync(), "the re-seed raised resync for the worker");
}

#[test]
fn reseeds_during_continuous_churn_end_equal_to_the_kernel() {
    enter_netns();
    add_veth_pairs("k", 500);
    let flag = Arc::new(ChangeFlag::new_clear());
    let mon = Monitor::spawn(flag, MonitorOptions::default()).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = stop.clone();
    // Links come and go without pause, so dumps are interrupted (NLM_F_DUMP_INTR); the
    // monitor keeps an interrupted dump and lets the notifications that follow correct it.
    let churn = std::thread::spawn(move || {
        let mut round = 0;
        while !s2.load(Ordering::SeqCst) {
            let lines: Vec<String> = (0..20)
                .map(|i| format!("link add x{round}a{i} type veth peer name x{round}b{i}"))
                .chain(
                    (0..20)
                        .filter(|_| round > 0)
                        .map(|i| format!("link del x{}a{i}", round - 1)),
                )
                .collect();
            ip_batch(lines);
            round += 1;
        }
    });
    for _ in 0..15 {
        assert!(mon.reseed(Duration::from_secs(10)), "{:?}", mon.stats());
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::SeqCst);
    churn.join().unwrap();
    settle(&mon);
    let s = mon.stats();
    assert_eq!(s.dumps, 16, "{s:?}");
    assert_eq!(s.resync_failures, 0, "{s:?}");
    assert_eq!(cached(&mon).unwrap(), kernel());
}
