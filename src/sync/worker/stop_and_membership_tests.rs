//! The writes stopping, on a worker built without its thread, against the in-process
//! simulator.

use std::sync::Arc;
use std::thread::sleep;

use super::super::{Inbox, Parts};
use super::*;
use crate::flag::ChangeFlag;
use crate::model::{self, NodeState};
use crate::netlink::{LinkFilter, Monitor, MonitorOptions};
use crate::osaf::{ImmOi, ImmOm, RetryPolicy};
use crate::sync::{NodeSpec, NodeTarget, Status, SyncSettings};
use crate::sys::{poll, Doorbell};
use crate::test_sim::{sim, Sim};

fn target(node: &str) -> NodeTarget {
    NodeTarget {
        node_dn: model::node_dn(node, None, 255).unwrap(),
        parent: None,
        implementer: model::implementer_name(node),
    }
}

/// A worker for `node`, as `SyncHandle::spawn` makes it (its loop is not run), with the
/// retry policy of a real node (10 s) whose stop flag is `status.halt`.
fn worker(sim: &Sim, node: &str) -> Worker {
    let status = Arc::new(Status::new());
    let settings = SyncSettings {
        node: NodeSpec {
            explicit: node.into(),
            component: String::new(),
            parent: None,
        },
        filter: LinkFilter::default(),
        max_dn: 255,
        policy: RetryPolicy {
            stop: Some(status.halt.clone()),
            ..Default::default()
        },
        on_report: None,
        membership: None,
    };
    let flag = Arc::new(ChangeFlag::new_clear());
    let monitor = Monitor::spawn(flag.clone(), MonitorOptions::default()).unwrap();
    let (_tx, rx) = crossbeam_channel::unbounded();
    let parts = Parts {
        flag,
        monitor: Arc::new(monitor),
        status,
        inbox: Inbox {
            rx,
            bell: Arc::new(Doorbell::new().unwrap()),
        },
        wake_main: Arc::new(Doorbell::new().unwrap()),
    };
    Worker::new(settings, target(node), sim.apis(), parts)
}

fn state(sim: &Sim, node: &str) -> NodeState {
    let om = ImmOm::initialize(sim.apis().imm_om, sim.apis().imm_oi, sim.policy()).unwrap();
    let o = om.get(&target(node).node_dn, Some(&model::NODE_STATE_ATTRS));
    NodeState::from_attrs(&o.unwrap().unwrap().attrs)
}

#[test]
fn a_deactivation_before_the_first_sync_is_done_writes_stopped() {
    let sim = sim();
    let node = "unit-withdraw-early";
    // The previous process left LIVE; the new one has set the name, its first sync not done.
    let mut w = worker(&sim, node);
    w.session.ensure_node(true).unwrap();
    w.session.update_node(&[]).unwrap();
    w.session.handle_lost();
    w.session.ensure_node(true).unwrap();
    assert!(!w.session.is_live());

    w.withdraw(None);
    let s = state(&sim, node);
    assert_eq!(s.state, Some(model::MirrorState::Stopped), "{s:?}");
    assert_eq!(
        (s.by.as_str(), s.implementer.as_str()),
        (node, "macsync-unit-withdraw-early")
    );
    // Said once: a second stop writes nothing more.
    w.withdraw(None);
    assert_eq!(state(&sim, node), s);

    // Without a handle there is nothing to say and no name to let go.
    w.session.handle_lost();
    w.withdraw(None);
    assert_eq!(w.session.selection_fd(), None);
    w.session.ensure_node(false).unwrap();
    w.session.delete_if_present(&target(node).node_dn).unwrap();
}

/// What the AMF thread does on a deactivation, `after` from now.
fn deactivate_after(status: Arc<Status>, after: Duration) {
    sleep(after);
    status.active.store(false, Ordering::Release);
    status.halt.store(true, Ordering::Release);
}

#[test]
fn a_deactivation_ends_the_resync_wait_for_a_new_dump_at_once() {
    let sim = sim();
    let node = "unit-resync-halt";
    let mut w = worker(&sim, node);
    w.status.active.store(true, Ordering::Release);
    assert!(w.sync(true));
    // No new dump will come: without the deactivation the wait would last RESEED_WAIT (5 s).
    w.monitor.kill_for_test();
    let dn = target(node).node_dn.to_string();
    let fd = w.session.selection_fd().unwrap();
    std::thread::scope(|s| {
        let op = s.spawn(|| sim.cli_code(&["immadm", "-o", "1", "-t", "10", &dn]));
        assert_eq!(poll(&[fd], 5000).unwrap(), vec![true], "no admin operation");
        let status = w.status.clone();
        s.spawn(move || deactivate_after(status, Duration::from_millis(200)));
        let start = Instant::now();
        w.serve_admin_ops();
        let took = start.elapsed();
        assert!(took < Duration::from_secs(1), "answered after {took:?}");
        assert_eq!(op.join().unwrap(), 1, "the resync is answered as failed");
    });
    w.status.halt.store(false, Ordering::Release);
    w.session.delete_if_present(&target(node).node_dn).unwrap();
}

#[test]
fn a_deactivation_ends_the_wait_for_the_implementer_name_at_once() {
    let sim = sim();
    let node = "unit-name-halt";
    // Held elsewhere (a survivor's DEPARTED mark, a predecessor not released yet).
    let mut holder = ImmOi::initialize(sim.apis().imm_oi, false, RetryPolicy::none()).unwrap();
    holder
        .implementer_set(&model::implementer_name(node))
        .unwrap();
    let mut w = worker(&sim, node);
    w.status.active.store(true, Ordering::Release);
    let status = w.status.clone();
    let halt = std::thread::spawn(move || deactivate_after(status, Duration::from_millis(200)));
    let start = Instant::now();
    assert!(!w.sync(true));
    let took = start.elapsed();
    halt.join().unwrap();
    assert!(took < Duration::from_secs(1), "gave up after {took:?}");
    assert_eq!(w.session.selection_fd(), None, "no handle kept");
    w.withdraw(None);
}
