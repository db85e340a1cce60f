//! The writes stopping, on a worker built without its thread, against the in-process
//! simulator.

use std::sync::Arc;

use super::super::{Inbox, Parts};
use super::*;
use crate::flag::ChangeFlag;
use crate::model::{self, NodeState};
use crate::netlink::{LinkFilter, Monitor, MonitorOptions};
use crate::osaf::ImmOm;
use crate::sync::{NodeSpec, NodeTarget, Status, SyncSettings};
use crate::sys::Doorbell;
use crate::test_sim::{sim, Sim};

fn target(node: &str) -> NodeTarget {
    NodeTarget {
        node_dn: model::node_dn(node, None, 255).unwrap(),
        parent: None,
        implementer: model::implementer_name(node),
    }
}

/// A worker for `node`, as `SyncHandle::spawn` makes it (its loop is not run).
fn worker(sim: &Sim, node: &str) -> Worker {
    let settings = SyncSettings {
        node: NodeSpec {
            explicit: node.into(),
            component: String::new(),
            parent: None,
        },
        filter: LinkFilter::default(),
        max_dn: 255,
        policy: sim.policy(),
        on_report: None,
        membership: None,
    };
    let flag = Arc::new(ChangeFlag::new_clear());
    let monitor = Monitor::spawn(flag.clone(), MonitorOptions::default()).unwrap();
    let (_tx, rx) = crossbeam_channel::unbounded();
    let parts = Parts {
        flag,
        monitor: Arc::new(monitor),
        status: Arc::new(Status::new()),
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
