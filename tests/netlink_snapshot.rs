//! Snapshots against `ip -j link show`, each test in its own network namespace.

mod common;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use common::*;
use macsync::netlink::wire::{ARPHRD_ETHER, ARPHRD_LOOPBACK};
use macsync::netlink::{Link, LinkFilter, Snapshotter};

/// (ifindex, name, address) as `ip -j` reports them; no address -> "".
fn as_ip_sees(links: &[Link]) -> BTreeSet<(u32, String, String)> {
    links
        .iter()
        .map(|l| (l.ifindex, l.name_lossy(), l.mac_string()))
        .collect()
}

fn ip_view() -> BTreeSet<(u32, String, String)> {
    ip_json_links()
        .into_iter()
        .map(|(i, n, a)| (i, n, a.unwrap_or_default()))
        .collect()
}

#[test]
fn snapshot_equals_ip_for_1000_veth_links() {
    enter_netns();
    add_veth_pairs("s", 500);
    let mut snap = Snapshotter::new().expect("snapshot socket");
    let links = snap.dump().expect("dump");
    assert_eq!(links.len(), 1001);
    assert_eq!(as_ip_sees(&links), ip_view());
    // Kernel order, no duplicates.
    assert!(links.windows(2).all(|w| w[0].ifindex < w[1].ifindex));
    assert!(links
        .iter()
        .filter(|l| l.name != b"lo")
        .all(|l| l.link_type == ARPHRD_ETHER && l.mac.len() == 6));

    // The socket is reused; later dumps see later changes.
    ip(&["link", "del", "sa0"]);
    let again = snap.dump().expect("second dump");
    assert_eq!(again.len(), 999);
    assert_eq!(as_ip_sees(&again), ip_view());
    assert_eq!(snap.forged_dropped(), 0);
}

#[test]
fn truncated_datagrams_are_detected_and_the_dump_redone() {
    enter_netns();
    add_veth_pairs("t", 50);
    // Far smaller than any dump datagram: the first read is truncated (MSG_TRUNC).
    let mut small = Snapshotter::with_buffer(512).unwrap();
    let a = small.dump().expect("dump after growing the buffer");
    let b = small.dump().expect("second dump with the grown buffer");
    let reference = Snapshotter::new().unwrap().dump().unwrap();
    assert_eq!(a, reference);
    assert_eq!(b, reference);
    assert_eq!(a.len(), 101);
}

#[test]
fn link_types_addresses_and_operstate() {
    enter_netns();
    ip(&["tuntap", "add", "dev", "tun0", "mode", "tun"]);
    ip(&["link", "add", "ea", "type", "veth", "peer", "name", "eb"]);
    ip(&["link", "set", "dev", "ea", "address", "02:AB:cd:00:00:01"]);
    ip(&["link", "set", "ea", "up"]);
    ip(&["link", "set", "eb", "up"]);
    ip(&["link", "set", "lo", "up"]);
    let links = Snapshotter::new().unwrap().dump().unwrap();
    let get = |n: &str| {
        links
            .iter()
            .find(|l| l.name == n.as_bytes())
            .unwrap()
            .clone()
    };

    let tun = get("tun0");
    assert!(tun.mac.is_empty(), "{tun:?}");
    assert_eq!(tun.mac_string(), "");
    assert_ne!(tun.link_type, ARPHRD_ETHER);
    let lo = get("lo");
    assert_eq!(lo.link_type, ARPHRD_LOOPBACK);
    assert_eq!(lo.mac_string(), "00:00:00:00:00:00");
    let ea = get("ea");
    assert_eq!(ea.mac_string(), "02:ab:cd:00:00:01");
    // IF_OPER_UP once both veth ends are up (carrier may take a moment).
    assert!(wait_until(std::time::Duration::from_secs(5), || {
        Snapshotter::new()
            .unwrap()
            .dump()
            .unwrap()
            .iter()
            .any(|l| l.name == b"ea" && l.oper_state == 6)
    }));
    assert_eq!(as_ip_sees(&links), ip_view());

    // Default filter: Ethernet only.
    let f = LinkFilter::default();
    let names: BTreeSet<_> = links
        .iter()
        .filter(|l| f.accepts(l))
        .map(|l| l.name_lossy())
        .collect();
    assert_eq!(names, ["ea", "eb"].map(String::from).into());
    let f = LinkFilter {
        include: vec!["e?".into(), "tun*".into()],
        exclude: vec!["[b-z]b".into()],
        all_types: true,
    };
    let names: BTreeSet<_> = links
        .iter()
        .filter(|l| f.accepts(l))
        .map(|l| l.name_lossy())
        .collect();
    assert_eq!(names, ["ea", "tun0"].map(String::from).into());
}

#[test]
fn names_need_not_be_utf8() {
    enter_netns();
    let name: &[u8] = &[b'v', 0xff, b'x'];
    let out = std::process::Command::new("ip")
        .args(["link", "add"])
        .arg(OsStr::from_bytes(name))
        .args(["type", "veth", "peer", "name", "plain"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let links = Snapshotter::new().unwrap().dump().unwrap();
    assert!(links.iter().any(|l| l.name == name), "{links:?}");
    let f = LinkFilter {
        include: vec!["v?x".into()],
        ..LinkFilter::default()
    };
    assert_eq!(links.iter().filter(|l| f.accepts(l)).count(), 1);
}
