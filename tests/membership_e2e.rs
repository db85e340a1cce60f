//! End-to-end: several simulated nodes, one real `macsync` process each (same simulator,
//! `OPENSAF_SIM_NODE` and the component of that node's SU; the node name from AMF), and
//! nodes leaving and joining the CLM cluster (`opensaf-sim clm leave|join`).

mod common;
mod simenv;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{enter_netns, ip};
use simenv::{kernel_ether_links, tail, Running, SimEnv, Table};

const PERIOD: Duration = Duration::from_millis(300);
const MAX_DURATION: Duration = Duration::from_millis(1000);
const LIVE: u32 = 1;
const DEPARTED: u32 = 3;
/// `--depart-grace` in these tests.
const GRACE: Duration = Duration::from_secs(1);

/// One node's macsync.
struct Node {
    name: &'static str,
    log: PathBuf,
    proc: Running,
}

impl Node {
    /// Starts macsync as AMF would on `name`, mirroring the links named `<glob>`.
    fn start(env: &SimEnv, name: &'static str, glob: &str, stagger: u64) -> Node {
        let log = env.dir.join(format!("macsync-{name}.log"));
        let mut cmd = env.command(env!("CARGO_BIN_EXE_macsync"));
        cmd.args(["--include", glob])
            .env_remove("MACSYNC_NODE")
            .env("OPENSAF_SIM_NODE", name)
            .env(
                "SA_AMF_COMPONENT_NAME",
                format!("safComp=macsync,safSu={name},safSg=macsync,safApp=macsync"),
            )
            .env("MACSYNC_LOG_FILE", &log)
            .env("MACSYNC_DEPART_GRACE", GRACE.as_secs().to_string())
            .env("MACSYNC_DEPART_STAGGER", stagger.to_string());
        Node {
            name,
            log,
            proc: Running(cmd.spawn().expect("start macsync")),
        }
    }

    fn dn(&self) -> String {
        format!("macSyncNodeId={}", self.name)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn wait_for(what: &str, nodes: &[&Node], timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        if Instant::now() >= deadline {
            let logs: Vec<String> = nodes
                .iter()
                .map(|n| format!("--- {}:\n{}", n.name, tail(&n.log(), 25)))
                .collect();
            panic!("{what}: not within {timeout:?}\n{}", logs.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The kernel's links `node` mirrors (those starting with `prefix`).
fn kernel_links(prefix: &str) -> Table {
    kernel_ether_links()
        .into_iter()
        .filter(|(n, _)| n.starts_with(prefix))
        .collect()
}

/// `node`'s object says LIVE, by itself, and its interface objects match the kernel.
fn live_and_current(env: &SimEnv, node: &Node, prefix: &str) -> bool {
    let me = node.name.to_string();
    env.node_state(&node.dn()) == Some((LIVE, me.clone(), format!("macsync-{me}")))
        && env.imm_interfaces_of(&node.dn()) == kernel_links(prefix)
}

fn cluster(name: &str, nodes: &[(&'static str, &str)], stagger: u64) -> (SimEnv, Vec<Node>) {
    enter_netns();
    for (_, prefix) in nodes {
        for i in 0..2 {
            ip(&[
                "link",
                "add",
                &format!("{prefix}{i}"),
                "type",
                "veth",
                "peer",
                "name",
                &format!("{prefix}{i}p"),
            ]);
        }
    }
    let env = SimEnv::new(name, PERIOD, MAX_DURATION);
    // The cluster is the nodes that run macsync: survivors rank among all members.
    for n in ["SC-1", "SC-2", "PL-3", "PL-4"] {
        if !nodes.iter().any(|(name, _)| *name == n) {
            env.sim_ok(&["clm", "leave", n]);
        }
    }
    let started: Vec<Node> = nodes
        .iter()
        .map(|(n, prefix)| Node::start(&env, n, &format!("{prefix}*"), stagger))
        .collect();
    let all: Vec<&Node> = started.iter().collect();
    for (node, (_, prefix)) in started.iter().zip(nodes) {
        wait_for("every node LIVE", &all, Duration::from_secs(10), || {
            live_and_current(&env, node, prefix)
        });
    }
    (env, started)
}

#[test]
fn a_departed_node_is_marked_by_a_survivor_within_the_bound_and_current_again_on_return() {
    let (env, nodes) = cluster("depart", &[("SC-1", "a"), ("SC-2", "b")], 3);
    let (a, b) = (&nodes[0], &nodes[1]);
    let all = [a, b];
    assert!(a
        .log()
        .contains("node name 'SC-1' from saAmfSUHostedByNode"));
    assert!(b
        .log()
        .contains("node name 'SC-2' from saAmfSUHostedByNode"));
    assert_eq!(env.imm_interfaces_of(&b.dn()).len(), 4, "b0, b0p, b1, b1p");

    let t0 = Instant::now();
    env.sim_ok(&["clm", "leave", "SC-2"]);
    // The bound (README): grace + the time IMM takes to release the name (here 0.3 s) +
    // rank * stagger (SC-1 is rank 0); 1.5 s of slack for this machine.
    let bound = GRACE + Duration::from_millis(300) + Duration::from_millis(1500);
    wait_for("SC-2 DEPARTED", &all, bound, || {
        env.node_state(&b.dn()).is_some_and(|s| s.0 == DEPARTED)
    });
    let took = t0.elapsed();
    assert!(took >= GRACE, "acted before the grace: {took:?}");
    assert_eq!(
        env.node_state(&b.dn()),
        Some((DEPARTED, "SC-1".into(), "macsync-SC-2".into())),
        "marked by the survivor, under the departed node's implementer name"
    );
    assert!(env.imm_interfaces_of(&b.dn()).is_empty(), "interfaces left");
    assert!(env.implementer_held("macsync-SC-2"), "the mark is held");
    assert!(
        b.log().contains("not a cluster member"),
        "{}",
        tail(&b.log(), 20)
    );
    // No churn for the survivor.
    assert!(live_and_current(&env, a, "a"));
    eprintln!("SC-2 left -> DEPARTED in {took:?}");

    // Changes on the departed node while it is away reach IMM when it returns.
    ip(&["link", "del", "b1"]);
    let t1 = Instant::now();
    env.sim_ok(&["clm", "join", "SC-2"]);
    wait_for(
        "SC-2 LIVE and current again",
        &all,
        Duration::from_secs(5),
        || live_and_current(&env, b, "b"),
    );
    eprintln!("SC-2 joined -> LIVE and current in {:?}", t1.elapsed());
    assert_eq!(env.imm_interfaces_of(&b.dn()).len(), 2, "b0, b0p");
    assert!(a
        .log()
        .contains("node SC-2 is back: implementer name macsync-SC-2 let go"));
    assert!(live_and_current(&env, a, "a"));
}

#[test]
fn two_survivors_acting_at_once_mark_the_departed_node_once() {
    // No stagger: SC-1 and SC-2 act for PL-3 at the same moment.
    let (env, nodes) = cluster("race", &[("SC-1", "a"), ("SC-2", "b"), ("PL-3", "c")], 0);
    let all: Vec<&Node> = nodes.iter().collect();
    let pl3 = &nodes[2];
    // IMM calls of 20 ms each: one survivor's attempt lasts long enough for the other's to
    // overlap it.
    env.sim_ok(&["config", "imm_latency_us=20000"]);
    env.sim_ok(&["clm", "leave", "PL-3"]);
    wait_for("PL-3 DEPARTED", &all, Duration::from_secs(5), || {
        env.node_state(&pl3.dn()).is_some_and(|s| s.0 == DEPARTED)
    });
    // Both have had their try (the loser sees the mark or the name taken).
    std::thread::sleep(Duration::from_secs(1));
    let acted: Vec<&str> = nodes[..2]
        .iter()
        .filter(|n| n.log().contains("acted for node PL-3"))
        .map(|n| n.name)
        .collect();
    assert_eq!(acted.len(), 1, "acted: {acted:?}");
    let loser = nodes[..2].iter().find(|n| n.name != acted[0]).unwrap();
    let tries: Vec<String> = loser
        .log()
        .lines()
        .filter(|l| l.contains("acting for node PL-3: "))
        .map(str::to_string)
        .collect();
    assert!(!tries.is_empty(), "{} never tried", loser.name);
    eprintln!(
        "{} acted; {} tried:\n{}",
        acted[0],
        loser.name,
        tries.join("\n")
    );
    let state = env.node_state(&pl3.dn()).unwrap();
    assert_eq!(state.1, acted[0], "mirrorStateBy is the one that acted");
    assert!(env.imm_interfaces_of(&pl3.dn()).is_empty());
    for n in &nodes[..2] {
        let log = n.log();
        assert!(
            !log.lines()
                .any(|l| l.contains("WARN") && l.contains("acting for node")),
            "{}: {}",
            n.name,
            tail(&log, 20)
        );
        assert!(live_and_current(
            &env,
            n,
            if n.name == "SC-1" { "a" } else { "b" }
        ));
    }
}

#[test]
fn a_macsync_restart_on_a_member_deletes_nothing() {
    let (env, mut nodes) = cluster("restart", &[("SC-1", "a"), ("SC-2", "b")], 0);
    let counters = |env: &SimEnv| {
        env.counters_of("macSyncNodeId=SC-2")
            .get("objectsCreated")
            .copied()
    };
    let created = counters(&env);
    // SC-2's macsync dies; SC-2 stays a cluster member.
    nodes[1].proc.0.kill().unwrap();
    nodes[1].proc.0.wait().unwrap();
    std::thread::sleep(GRACE + Duration::from_secs(1));
    let b = &nodes[1];
    assert_eq!(env.node_state(&b.dn()).map(|s| s.0), Some(LIVE));
    assert_eq!(env.imm_interfaces_of(&b.dn()), kernel_links("b"));
    assert!(!nodes[0].log().contains("acted for node"));
    // Back: the same objects, none created again.
    nodes[1] = Node::start(&env, "SC-2", "b*", 0);
    let all: Vec<&Node> = nodes.iter().collect();
    wait_for("SC-2 LIVE again", &all, Duration::from_secs(10), || {
        live_and_current(&env, &nodes[1], "b")
    });
    assert_eq!(counters(&env), created, "objects created again");
}
