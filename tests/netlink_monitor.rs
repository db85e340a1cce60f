//! The monitor against a real kernel, each test in its own network namespace.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use macsync::flag::{ChangeFlag, Pending};
use macsync::netlink::socket::NlSocket;
use macsync::netlink::wire::{
    IfInfo, MessageBuilder, IFLA_ADDRESS, NLMSG_OVERRUN, RTM_DELLINK, RTM_NEWLINK,
};
use macsync::netlink::{Monitor, MonitorOptions};

const DEADLINE: Duration = Duration::from_secs(5);

fn start() -> (Arc<ChangeFlag>, Monitor) {
    let flag = Arc::new(ChangeFlag::new_clear());
    let mon = Monitor::spawn(Arc::clone(&flag), MonitorOptions::default()).expect("spawn monitor");
    // Spawning raises with resync (the seed dump may hold news); start each test from clear.
    assert_eq!(flag.take(), Some(Pending { resync: true }));
    (flag, mon)
}

/// Waits until the monitor has processed at least `more` new link events since `before`.
fn wait_events(mon: &Monitor, before: u64, more: u64, what: &str) {
    assert!(
        wait_until(DEADLINE, || mon.stats().events >= before + more),
        "{what}: monitor saw {} events, expected at least {}",
        mon.stats().events - before,
        more
    );
}

/// Runs `action`, then requires the flag to be raised (without resync) within the deadline.
/// Lets the action's remaining events arrive before clearing, so steps do not bleed into each
/// other.
fn expect_raise<T>(flag: &ChangeFlag, mon: &Monitor, what: &str, action: impl FnOnce() -> T) {
    let before = mon.stats().events;
    let _ = action();
    assert!(
        wait_until(DEADLINE, || flag.is_raised()),
        "{what}: flag not raised"
    );
    wait_events(mon, before, 1, what);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(flag.take(), Some(Pending { resync: false }), "{what}");
}

/// Runs `action`, waits until the monitor has processed its `events` events, requires the
/// flag to still be clear.
fn expect_quiet<T>(
    flag: &ChangeFlag,
    mon: &Monitor,
    what: &str,
    events: u64,
    action: impl FnOnce() -> T,
) {
    let before = mon.stats().events;
    let _ = action();
    wait_events(mon, before, events, what);
    std::thread::sleep(Duration::from_millis(50));
    assert!(!flag.is_raised(), "{what}: flag raised ({:?})", mon.stats());
}

#[test]
fn add_mac_rename_delete_raise_and_up_down_do_not() {
    enter_netns();
    let (flag, mon) = start();

    expect_raise(&flag, &mon, "add", || {
        ip(&["link", "add", "va", "type", "veth", "peer", "name", "vb"]);
    });
    expect_raise(&flag, &mon, "mac change", || {
        ip(&["link", "set", "dev", "va", "address", "02:11:22:33:44:55"]);
    });
    expect_raise(&flag, &mon, "rename", || {
        ip(&["link", "set", "dev", "va", "name", "vc"]);
    });
    // Up/down produce several RTM_NEWLINK each (admin state, then carrier/operstate) with the
    // same name and MAC: none of them is a change.
    expect_quiet(&flag, &mon, "up", 1, || ip(&["link", "set", "vc", "up"]));
    expect_quiet(&flag, &mon, "peer up", 2, || {
        ip(&["link", "set", "vb", "up"])
    });
    // Both ends up: vc's operstate went to UP. Not a change, but IMM's operState is stale.
    assert!(
        flag.needs_sync(),
        "operstate change did not ask for a refresh"
    );
    flag.take();
    expect_quiet(&flag, &mon, "down", 1, || {
        ip(&["link", "set", "vc", "down"])
    });
    assert!(
        flag.needs_sync(),
        "operstate change did not ask for a refresh"
    );
    flag.take();
    expect_quiet(&flag, &mon, "mtu", 1, || {
        ip(&["link", "set", "vc", "mtu", "1400"])
    });
    assert!(!flag.needs_sync(), "an MTU change asked for a sync");
    expect_raise(&flag, &mon, "delete", || ip(&["link", "del", "vc"]));

    let s = mon.stats();
    assert!(s.changes >= 5, "{s:?}");
    assert_eq!(s.overruns, 0, "{s:?}");
    assert_eq!(s.forged_dropped, 0, "{s:?}");
    assert!(mon.is_alive());
    // SO_RCVBUFFORCE needs real root; in a user namespace net.core.rmem_max caps the buffer.
    if in_initial_user_namespace() {
        assert!(s.rcvbuf_effective >= 8 << 20, "{s:?}");
    }
}

#[test]
fn bridge_port_messages_do_not_raise() {
    enter_netns();
    let (flag, mon) = start();
    expect_raise(&flag, &mon, "setup", || {
        ip_batch([
            // A fixed address, so the bridge does not adopt a port's MAC (a real change).
            "link add br0 address 02:00:00:00:00:aa type bridge",
            "link add pa type veth peer name pb",
            "link set pa master br0",
            "link set br0 up",
            "link set pb up",
        ]);
    });
    // Each of these sends AF_BRIDGE RTM_NEWLINK for the port; leaving the bridge even sends an
    // AF_BRIDGE RTM_DELLINK for a link that still exists.
    expect_quiet(&flag, &mon, "port up", 2, || {
        ip(&["link", "set", "pa", "up"])
    });
    expect_quiet(&flag, &mon, "port cost", 1, || {
        let out = std::process::Command::new("bridge")
            .args(["link", "set", "dev", "pa", "cost", "7"])
            .output()
            .expect("run bridge");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
    expect_quiet(&flag, &mon, "nomaster", 3, || {
        ip(&["link", "set", "pa", "nomaster"])
    });
    let s = mon.stats();
    assert_eq!(s.overruns, 0, "{s:?}");
}

#[test]
fn forged_messages_are_dropped_and_counted() {
    enter_netns();
    let (flag, mon) = start();
    let forger = NlSocket::open_route(0, false).expect("forger socket");
    let fake_new = MessageBuilder::new(RTM_NEWLINK, 0, 0, 0)
        .ifinfo(&IfInfo {
            index: 4242,
            link_type: 1,
            ..IfInfo::default()
        })
        .name_attr(b"evil0")
        .attr(IFLA_ADDRESS, &[2, 0, 0, 0, 0, 1])
        .finish();
    let fake_del = MessageBuilder::new(RTM_DELLINK, 0, 0, 0)
        .ifinfo(&IfInfo {
            index: 1,
            ..IfInfo::default()
        })
        .name_attr(b"lo")
        .finish();
    // Would force a resync (a dump per datagram) if it were believed.
    let fake_overrun = MessageBuilder::new(NLMSG_OVERRUN, 0, 0, 0).finish();
    for m in [&fake_new, &fake_del, &fake_overrun, &vec![0xff; 7]] {
        forger
            .send_to(m, mon.port_id())
            .expect("send to the monitor's port (needs CAP_NET_ADMIN)");
    }
    assert!(
        wait_until(DEADLINE, || mon.stats().forged_dropped == 4),
        "{:?}",
        mon.stats()
    );
    let s = mon.stats();
    assert!(!flag.is_raised(), "{s:?}");
    assert_eq!((s.events, s.overruns, s.resyncs), (0, 0, 0), "{s:?}");

    // Still working for the kernel's messages.
    expect_raise(&flag, &mon, "real add", || {
        ip(&["link", "add", "fa", "type", "veth", "peer", "name", "fb"]);
    });
}

#[test]
fn spawn_raises_with_resync_and_seeds_the_cache() {
    enter_netns();
    ip(&["link", "add", "sa", "type", "veth", "peer", "name", "sb"]);
    let flag = Arc::new(ChangeFlag::new_clear());
    let mon = Monitor::spawn(Arc::clone(&flag), MonitorOptions::default()).unwrap();
    assert_eq!(flag.take(), Some(Pending { resync: true }));
    // Links present before the monitor started are known: bringing one up is not a change.
    expect_quiet(&flag, &mon, "up of a pre-existing link", 1, || {
        ip(&["link", "set", "sa", "up"])
    });
}

#[test]
fn killed_monitor_reports_dead_and_raises_resync() {
    enter_netns();
    let (flag, mon) = start();
    assert!(mon.is_alive());
    mon.kill_for_test();
    assert!(!mon.is_alive());
    assert_eq!(flag.take(), Some(Pending { resync: true }));
    // Dropping a dead monitor must not hang.
    mon.stop();
}

#[test]
fn stop_is_prompt_and_idle_thread_never_wakes() {
    enter_netns();
    let (_flag, mon) = start();
    let tid = mon.thread_tid();
    // Give the thread time to reach poll().
    std::thread::sleep(Duration::from_millis(100));
    let before = voluntary_ctxt_switches(tid);
    std::thread::sleep(Duration::from_millis(1000));
    let after = voluntary_ctxt_switches(tid);
    assert_eq!(
        after - before,
        0,
        "idle monitor woke up {} times",
        after - before
    );
    let t = Instant::now();
    mon.stop();
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "stop took {:?}",
        t.elapsed()
    );
}
