//! The test mechanism itself: per-thread network namespaces, inherited by spawned threads and
//! processes, invisible to the host.

mod common;

use std::fs::File;
use std::os::fd::AsRawFd;
use std::process::Command;

use common::*;
use macsync::netlink::Snapshotter;

#[test]
fn unshare_gives_each_test_thread_a_private_namespace() {
    // Held open so the original namespace can be entered by path after we left it.
    let host_ns = File::open("/proc/thread-self/ns/net").expect("open own netns");
    let host_inode = netns_inode();

    enter_netns();
    let ns = netns_inode();
    assert_ne!(ns, host_inode);
    ip(&[
        "link", "add", "nstesta", "type", "veth", "peer", "name", "nstestb",
    ]);

    // A thread spawned now inherits the namespace (the monitor thread relies on this).
    let (inode, names) = std::thread::spawn(|| {
        let links = Snapshotter::new().unwrap().dump().unwrap();
        (
            netns_inode(),
            links.into_iter().map(|l| l.name).collect::<Vec<_>>(),
        )
    })
    .join()
    .unwrap();
    assert_eq!(inode, ns);
    assert!(names.contains(&b"nstesta".to_vec()), "{names:?}");

    // The original namespace does not see the links.
    let path = format!("/proc/{}/fd/{}", std::process::id(), host_ns.as_raw_fd());
    let out = Command::new("nsenter")
        .arg(format!("--net={path}"))
        .args(["ip", "-o", "link", "show"])
        .output()
        .expect("run nsenter");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let host_links = String::from_utf8_lossy(&out.stdout);
    assert!(
        !host_links.contains("nstesta"),
        "leaked into the host: {host_links}"
    );
}

#[test]
fn concurrent_tests_do_not_see_each_other() {
    enter_netns();
    ip(&[
        "link", "add", "mine0", "type", "veth", "peer", "name", "mine1",
    ]);
    let other = std::thread::spawn(|| {
        enter_netns();
        ip_json_links()
    })
    .join()
    .unwrap();
    assert_eq!(other.len(), 1, "{other:?}");
    assert_eq!(ip_json_links().len(), 3);
}
