//! End-to-end: the real `macsync` binary against the simulator, on what a reader of IMM sees
//! of one node: its name (the AMF node, not the host name) and its `mirrorState` through
//! the assignment's life.

mod common;
mod simenv;

use std::time::{Duration, Instant};

use common::{add_veth_pairs, enter_netns};
use simenv::{tail, Running, SimEnv, NODE_DN};

const PERIOD: Duration = Duration::from_millis(300);
const MAX_DURATION: Duration = Duration::from_millis(1000);
const LIVE: u32 = 1;
const STOPPED: u32 = 2;

fn wait_for(what: &str, env: &SimEnv, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(
            Instant::now() < deadline,
            "{what}: not within {timeout:?}\n{}",
            tail(&env.log(), 20)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn answers(env: &SimEnv, callback: &str) -> usize {
    env.events_named("cb-response")
        .iter()
        .filter(|e| e.str("callback") == Some(callback) && e.str("error") == Some("SA_AIS_OK"))
        .count()
}

fn live(env: &SimEnv) -> bool {
    env.node_state(NODE_DN) == Some((LIVE, "SC-1".into(), "macsync-SC-1".into()))
}

#[test]
fn without_macsync_node_the_name_is_the_amf_node_whatever_the_host_name() {
    enter_netns();
    add_veth_pairs("v", 2);
    let env = SimEnv::new("amfname", PERIOD, MAX_DURATION);
    // In a UTS namespace of its own, under a host name that is not the AMF node's.
    let mut cmd = env.command("unshare");
    cmd.args([
        "--uts",
        "--",
        "sh",
        "-c",
        "hostname e2e-host-not-sc1 && exec \"$0\"",
        env!("CARGO_BIN_EXE_macsync"),
    ])
    .env_remove("MACSYNC_NODE");
    let _mc = Running(cmd.spawn().expect("unshare"));
    env.wait_mirrored(Duration::from_secs(10), "start");
    wait_for("LIVE", &env, Duration::from_secs(5), || live(&env));
    assert!(
        env.log().contains(
            "node name 'SC-1' from saAmfSUHostedByNode of safSu=SC-1,safSg=macsync,safApp=macsync"
        ),
        "{}",
        tail(&env.log(), 20)
    );
    assert_eq!(env.count_class("MacSyncNode"), 1, "one node object, SC-1's");
}

#[test]
fn mirror_state_is_live_while_active_and_stopped_when_each_deactivation_is_answered() {
    enter_netns();
    add_veth_pairs("v", 2);
    let env = SimEnv::new("mirrorstate", PERIOD, MAX_DURATION);
    let mut mc = env.start(&[]);
    env.wait_mirrored(Duration::from_secs(10), "start");
    wait_for("LIVE", &env, Duration::from_secs(5), || live(&env));

    for (request, callback) in [
        ("csi-quiesced", "csi-set-quiesced"),
        ("csi-quiescing", "csi-set-quiescing"),
        ("csi-standby", "csi-set-standby"),
        ("csi-remove", "csi-remove"),
    ] {
        let before = answers(&env, callback);
        env.sim_ok(&["amf", request]);
        wait_for(callback, &env, Duration::from_secs(3), || {
            answers(&env, callback) > before
        });
        // Read as soon as AMF has its answer: the STOPPED write came before it.
        assert_eq!(
            env.node_state(NODE_DN),
            Some((STOPPED, "SC-1".into(), "macsync-SC-1".into())),
            "after {request}"
        );
        env.sim_ok(&["amf", "csi-active"]);
        wait_for("LIVE again", &env, Duration::from_secs(5), || live(&env));
        env.wait_mirrored(Duration::from_secs(5), "active again");
    }
    assert!(env.events_named("cb-timeout").is_empty());

    // Terminated while ACTIVE: STOPPED before it exits.
    env.sim_ok(&["amf", "terminate"]);
    assert_eq!(mc.wait_exit(Duration::from_secs(1)), Some(0));
    assert_eq!(env.node_state(NODE_DN).map(|s| s.0), Some(STOPPED));
}
