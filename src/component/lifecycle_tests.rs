//! The node object's lifecycle through real AMF callbacks and a real worker (in-process
//! simulator): the node name resolved before the first write, LIVE once a sync is done
//! while ACTIVE, STOPPED before each deactivation is answered and when the worker stops.

use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::test_harness::{Component, Reader};
use crate::model::MirrorState;
use crate::sync::NodeSpec;
use crate::sys::poll;
use crate::test_sim::{sim, Sim, COMPONENT};

fn spec(explicit: &str, component: &str) -> NodeSpec {
    NodeSpec {
        explicit: explicit.into(),
        component: component.into(),
        parent: None,
    }
}

/// Registration's ACTIVE assignment delivered and answered.
fn activated(sim: &Sim, node: NodeSpec) -> Component<'_> {
    let mut c = Component::start_as(sim, node);
    let before = c.answered("csi-set-active");
    c.deliver(None);
    c.wait_answered("csi-set-active", before + 1);
    assert!(c.active());
    c
}

#[test]
fn live_once_synced_while_active_and_stopped_before_each_deactivation_is_answered() {
    let sim = sim();
    let node = "unit-lifecycle";
    let imm = Reader::new(&sim);
    let mut c = activated(&sim, spec(node, COMPONENT));
    let live = imm.wait_state(node, "LIVE", |s| s.state == Some(MirrorState::Live));
    assert!(live.is_current(node), "{live:?}");
    assert_eq!(live.by, node);
    let mut last = live.time_ns;

    for (request, callback) in [
        ("csi-quiesced", "csi-set-quiesced"),
        ("csi-quiescing", "csi-set-quiescing"),
        ("csi-standby", "csi-set-standby"),
        ("csi-remove", "csi-remove"),
    ] {
        let before = c.answered(callback);
        c.request(request, None);
        c.wait_answered(callback, before + 1);
        // Read at once: STOPPED is written before the answer, not after.
        let stopped = imm.node_state(node).unwrap();
        assert_eq!(stopped.state, Some(MirrorState::Stopped), "{request}");
        assert!(!stopped.is_current(node));
        assert_eq!(stopped.by, node);
        assert!(stopped.time_ns >= last, "{request}: time goes forward");

        // ACTIVE again: LIVE again, with a new time.
        let before = c.answered("csi-set-active");
        c.request("csi-active", None);
        c.wait_answered("csi-set-active", before + 1);
        let live = imm.wait_state(node, "LIVE again", |s| s.is_current(node));
        assert!(live.time_ns >= stopped.time_ns, "{request}");
        last = live.time_ns;
    }
}

#[test]
fn stopping_the_worker_writes_stopped_once() {
    let sim = sim();
    let node = "unit-lifecycle-stop";
    let imm = Reader::new(&sim);
    let mut c = activated(&sim, spec(node, COMPONENT));
    imm.wait_state(node, "LIVE", |s| s.is_current(node));
    // What the AMF thread does after answering terminate (and on SIGTERM).
    c.callbacks
        .take()
        .unwrap()
        .sync
        .stop(Duration::from_secs(2));
    let stopped = imm.node_state(node).unwrap();
    assert_eq!(stopped.state, Some(MirrorState::Stopped));

    drop(c);
    // Removed, then stopped: nothing more is written (it says STOPPED already).
    let mut c = activated(&sim, spec(node, COMPONENT));
    imm.wait_state(node, "LIVE", |s| s.is_current(node));
    let before = c.answered("csi-remove");
    c.request("csi-remove", None);
    c.wait_answered("csi-remove", before + 1);
    let removed = imm.node_state(node).unwrap();
    assert_eq!(removed.state, Some(MirrorState::Stopped));
    c.callbacks
        .take()
        .unwrap()
        .sync
        .stop(Duration::from_secs(2));
    assert_eq!(imm.node_state(node).unwrap(), removed, "written again");
}

const PL3_COMP: &str = "safComp=macsync,safSu=PL-3,safSg=macsync,safApp=macsync";
const PL3_SU: &str = "safSu=PL-3,safSg=macsync,safApp=macsync";

#[test]
fn the_node_name_comes_from_the_amf_node_before_the_first_write() {
    let sim = sim();
    let imm = Reader::new(&sim);
    // AMF has not placed the SU yet: its saAmfSUHostedByNode is empty.
    sim.cli(&[
        "immcfg",
        "-a",
        "saAmfSUHostNodeOrNodeGroup=safAmfNodeGroup=AllNodes,safAmfCluster=myAmfCluster",
        PL3_SU,
    ]);
    let c = activated(&sim, spec("", PL3_COMP));
    // Asked again at each sync request (a healthcheck's): still not known, nothing written.
    for _ in 0..3 {
        c.sync().request_sync();
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        imm.node_state("PL-3").is_none(),
        "written before the name was known"
    );
    assert!(c.status.fatal.lock().unwrap().is_none());
    assert!(c.status.worker_alive.load(Ordering::Acquire));

    // Placed on PL-3: the next sync request resolves the name, and the first write is PL-3's.
    sim.cli(&[
        "immcfg",
        "-a",
        "saAmfSUHostNodeOrNodeGroup=safAmfNode=PL-3,safAmfCluster=myAmfCluster",
        PL3_SU,
    ]);
    c.sync().request_sync();
    let live = imm.wait_state("PL-3", "LIVE", |s| s.is_current("PL-3"));
    assert_eq!(live.by, "PL-3");
    assert_eq!(live.implementer, "macsync-PL-3");
}

/// The worker ends with `status.fatal` set and main woken, having written nothing.
fn assert_fatal(c: &Component, imm: &Reader, needle: &str, not_written: Option<&str>) {
    assert_eq!(
        poll(&[c.wake.as_fd().as_raw_fd()], 5000).unwrap(),
        vec![true],
        "main not woken"
    );
    let msg = c.status.fatal.lock().unwrap().clone().expect("fatal set");
    assert!(msg.contains(needle), "{msg}");
    let deadline = Instant::now() + Duration::from_secs(2);
    while c.status.worker_alive.load(Ordering::Acquire) {
        assert!(Instant::now() < deadline, "worker still running");
        std::thread::sleep(Duration::from_millis(5));
    }
    if let Some(node) = not_written {
        assert!(imm.node_state(node).is_none(), "{node} written");
    }
}

#[test]
fn a_node_name_amf_cannot_give_ends_the_component_without_a_write() {
    let sim = sim();
    let imm = Reader::new(&sim);
    let c = Component::start_as(
        &sim,
        spec(
            "",
            "safComp=macsync,safSu=NOPE,safSg=macsync,safApp=macsync",
        ),
    );
    assert_fatal(
        &c,
        &imm,
        "safSu=NOPE,safSg=macsync,safApp=macsync (the SU of component",
        Some("NOPE"),
    );
    drop(c);
    let c = Component::start_as(&sim, spec("", "safComp=macsync"));
    assert_fatal(&c, &imm, "has no safSu= parent", Some("macsync"));
    drop(c);
    // A name IMM would refuse in a DN.
    let c = Component::start_as(&sim, spec("bad name", COMPONENT));
    assert_fatal(&c, &imm, "node name 'bad name'", None);
}
