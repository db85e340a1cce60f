//! End-to-end, the real binary against the simulator: a sync writes what changed without
//! dumping the link table, and 30 s of churn among 10 000 links ends with IMM equal to the
//! kernel and no failed sync. Each test in its own network namespace.

mod common;
mod simenv;

use std::time::{Duration, Instant};

use common::{add_veth_pairs, churn_round, enter_netns, ip, ip_batch};
use simenv::{tail, SimEnv, NODE_DN};

const MAX_DURATION: Duration = Duration::from_millis(1000);

/// Dumps the binary took: the monitor logs each one.
fn dumps(env: &SimEnv) -> usize {
    env.log().matches("netlink monitor: dump ").count()
}

fn failed_syncs(env: &SimEnv) -> usize {
    env.log().matches("sync failed").count()
}

#[test]
fn ordinary_changes_take_no_dump_and_the_admin_resync_takes_one() {
    enter_netns();
    add_veth_pairs("v", 3);
    let period = Duration::from_millis(300);
    let env = SimEnv::new("nodump", period, MAX_DURATION);
    let _mc = env.start(&[]);
    env.wait_mirrored(Duration::from_secs(10), "start");
    assert_eq!(dumps(&env), 1, "{}", tail(&env.log(), 20));
    let steps: [&[&str]; 6] = [
        &["link", "add", "n0", "type", "veth", "peer", "name", "n1"],
        &["link", "set", "va0", "address", "02:00:00:00:0d:0d"],
        &["link", "set", "va1", "name", "lan1"],
        &["link", "del", "va2"],
        &["link", "set", "n0", "up"],
        &["link", "set", "n1", "up"],
    ];
    for step in steps {
        ip(step);
        env.wait_mirrored(period * 4, &format!("{step:?}"));
    }
    assert_eq!(
        dumps(&env),
        1,
        "an ordinary change took a dump\n{}",
        tail(&env.log(), 20)
    );
    assert!(
        env.log().contains("incremental sync, 1 link:"),
        "no incremental sync logged\n{}",
        tail(&env.log(), 20)
    );
    assert_eq!(env.sim(&["immadm", "-o", "1", NODE_DN]), 0);
    assert_eq!(dumps(&env), 2, "{}", tail(&env.log(), 20));
    env.wait_mirrored(period * 4, "after the admin resync");
    assert_eq!(failed_syncs(&env), 0);
}

#[test]
fn thirty_seconds_of_churn_among_10000_links_end_equal_to_the_kernel_without_a_failed_sync() {
    enter_netns();
    add_veth_pairs("s", 5000);
    let period = Duration::from_millis(100);
    let env = SimEnv::new("churn", period, MAX_DURATION);
    let _mc = env.start_logging(&[], "info");
    env.wait_mirrored(Duration::from_secs(120), "first sync");
    let before = dumps(&env);

    // Links added and deleted without pause (each round adds 50 pairs and deletes the 50 of
    // the round before), and MACs changed among the 10 000, for 30 s.
    let t0 = Instant::now();
    let mut round = 0usize;
    while t0.elapsed() < Duration::from_secs(30) {
        ip_batch(churn_round("c", round, "s", 5000));
        round += 1;
    }
    eprintln!(
        "{round} rounds of churn: {} links added and as many deleted",
        round * 100
    );
    env.wait_mirrored(Duration::from_secs(60), "after the churn");
    let log = env.log();
    assert_eq!(failed_syncs(&env), 0, "{}", tail(&log, 30));
    eprintln!(
        "dumps during the churn: {}; syncs: {}",
        dumps(&env) - before,
        log.matches(" sync, ").count()
    );
    assert!(round >= 10, "only {round} rounds in 30 s");
}
