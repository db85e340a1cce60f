//! The callbacks against the in-process simulator, answering through its AMF (see
//! [`super::super::test_harness`]).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::super::test_harness::Component;
use crate::osaf::{Dn, ImmOm};
use crate::test_sim::sim;

#[test]
fn writes_follow_the_csis_that_are_active_and_each_callback_is_answered_once() {
    let sim = sim();
    let mut c = Component::start(&sim);
    let answered = |c: &Component, cb: &str| {
        c.sim
            .events_named("cb-response")
            .iter()
            .filter(|e| e.str("callback") == Some(cb))
            .count()
    };
    let (set_active, quiescing, removed) = (
        answered(&c, "csi-set-active"),
        answered(&c, "csi-set-quiescing"),
        answered(&c, "csi-remove"),
    );

    // Registration brings the first assignment: CSI A ACTIVE.
    c.deliver(Some("safCsi=A"));
    c.wait_answered("csi-set-active", set_active + 1);
    assert!(c.active());
    // The worker's first sync created the node object.
    let node = Dn::parse("macSyncNodeId=unit-callbacks", 255).unwrap();
    let om = ImmOm::initialize(sim.apis().imm_om, sim.apis().imm_oi, sim.policy()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while om.get(&node, Some(&[])).unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "no node object written while ACTIVE"
        );
        std::thread::sleep(Duration::from_millis(10));
    }

    // CSI B ACTIVE too; then A QUIESCING: B still wants writes, so A is answered and its
    // quiescing completed at once, and the writes go on.
    c.request("csi-active", Some("safCsi=B"));
    c.wait_answered("csi-set-active", set_active + 2);
    let completed = c.quiescing_completions();
    c.request("csi-quiescing", Some("safCsi=A"));
    c.wait_answered("csi-set-quiescing", quiescing + 1);
    assert_eq!(c.quiescing_completions(), completed + 1);
    assert!(c.active(), "B is still ACTIVE");
    assert!(!c.status.halt.load(Ordering::Acquire));

    // B removed: no CSI is ACTIVE any more. Writes stop, and the worker answers.
    c.request("csi-remove", Some("safCsi=B"));
    c.wait_answered("csi-remove", removed + 1);
    assert!(!c.active());
    assert!(c.status.halt.load(Ordering::Acquire));

    // TARGET_ALL ACTIVE makes A (the only CSI left) ACTIVE again; TARGET_ALL remove ends it.
    c.request("csi-active", None);
    c.wait_answered("csi-set-active", set_active + 3);
    assert!(c.active());
    assert!(!c.status.halt.load(Ordering::Acquire));
    c.request("csi-remove", None);
    c.wait_answered("csi-remove", removed + 2);
    assert!(!c.active());
}
