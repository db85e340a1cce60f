//! The membership task against the in-process simulator's IMM and a fake membership source
//! (views given by the test), no waiting for CLM: a departure acted for, a return let go,
//! this node leaving and coming back, tracking lost; `held_marks`: the marks this macsync holds.

use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::model::MirrorState;
use crate::osaf::{AisCode, ImmOi, MAX_DN};
use crate::sync::imm_session::{ImmSession, NodeTarget};
use crate::sync::membership_source::MembershipSource;
use crate::sys::Doorbell;
use crate::test_sim::{sim, Sim};

fn clm(node: &str) -> String {
    format!("safNode={node},safCluster=unitCluster")
}

/// The cluster as the test wants CLM to report it.
#[derive(Default)]
struct Cluster {
    members: Vec<String>,
    /// Views not yet taken by the source.
    queued: Vec<View>,
    /// The next `views` call fails with this.
    fail: Option<Error>,
}

#[derive(Clone)]
struct FakeClm {
    cluster: Arc<Mutex<Cluster>>,
    bell: Arc<Doorbell>,
}

impl FakeClm {
    fn new(members: &[&str]) -> FakeClm {
        let c = FakeClm {
            cluster: Default::default(),
            bell: Arc::new(Doorbell::new().unwrap()),
        };
        c.cluster.lock().unwrap().members = members.iter().map(|m| clm(m)).collect();
        c
    }

    /// A new view: these nodes are the members.
    fn set(&self, members: &[&str]) {
        let mut c = self.cluster.lock().unwrap();
        c.members = members.iter().map(|m| clm(m)).collect();
        let view = c.members.clone();
        c.queued.push(view);
        self.bell.ring();
    }

    fn fail(&self, e: Error) {
        self.cluster.lock().unwrap().fail = Some(e);
        self.bell.ring();
    }

    /// Sources for `local`: refused (UNAVAILABLE) while it is not a member.
    fn connect(&self, local: &str) -> Connect {
        let (fake, local) = (self.clone(), clm(local));
        Box::new(move || {
            let mut c = fake.cluster.lock().unwrap();
            if !c.members.contains(&local) {
                return Err(Error::Ais {
                    call: "saClmInitialize_4",
                    code: AisCode::UNAVAILABLE,
                });
            }
            // The current view comes first, as with SA_TRACK_CURRENT.
            c.queued = vec![c.members.clone()];
            Ok(Box::new(Source {
                fake: fake.clone(),
                local: local.clone(),
            }) as Box<dyn MembershipSource>)
        })
    }
}

struct Source {
    fake: FakeClm,
    local: String,
}

impl MembershipSource for Source {
    fn local(&self) -> &str {
        &self.local
    }

    fn fd(&self) -> RawFd {
        self.fake.bell.as_fd().as_raw_fd()
    }

    fn views(&mut self) -> Result<Vec<View>, Error> {
        self.fake.bell.drain();
        let mut c = self.fake.cluster.lock().unwrap();
        if let Some(e) = c.fail.take() {
            return Err(e);
        }
        Ok(std::mem::take(&mut c.queued))
    }
}

/// The node objects of these tests live under their own parent, so the other tests'
/// node objects (not members of the fake cluster) are not acted for.
const PARENT: &str = "macSyncNodeId=unit-membership";

fn parent(sim: &Sim) -> Dn {
    let dn = Dn::parse(PARENT, MAX_DN).unwrap();
    let t = NodeTarget {
        node_dn: dn.clone(),
        parent: None,
        implementer: "macsync-unit-membership".into(),
    };
    ImmSession::new(sim.apis(), t, sim.policy(), false)
        .ensure_node(false)
        .unwrap();
    dn
}

/// Node `node`'s objects as its own macsync leaves them: LIVE, two interfaces.
fn node_with_links(sim: &Sim, parent: &Dn, node: &str) -> Dn {
    let t = NodeTarget {
        node_dn: model::node_dn(node, Some(parent), MAX_DN).unwrap(),
        parent: Some(parent.clone()),
        implementer: model::implementer_name(node),
    };
    let mut s = ImmSession::new(sim.apis(), t.clone(), sim.policy(), false);
    s.ensure_node(false).unwrap();
    for (i, name) in ["eth0", "eth1"].iter().enumerate() {
        let dn = Dn::child(Some(&t.node_dn), model::IF_RDN, name.as_bytes(), MAX_DN).unwrap();
        let rec = model::IfRecord {
            mac: format!("02:00:00:00:00:0{i}"),
            ifindex: i as u32 + 2,
            oper: 6,
        };
        s.create_or_replace(&dn, &rec).unwrap();
    }
    s.update_node(&[]).unwrap();
    t.node_dn
}

fn task(sim: &Sim, me: &str, parent: &Dn, connect: Connect) -> MembershipTask {
    task_with_grace(sim, me, parent, connect, Duration::ZERO)
}

fn task_with_grace(
    sim: &Sim,
    me: &str,
    parent: &Dn,
    connect: Connect,
    grace: Duration,
) -> MembershipTask {
    let settings = MembershipSettings {
        grace,
        stagger: Duration::ZERO,
        connect,
    };
    MembershipTask::new(
        settings,
        me,
        Some(parent.clone()),
        MAX_DN,
        sim.apis(),
        sim.policy(),
    )
}

struct Reading {
    state: Option<MirrorState>,
    by: String,
    interfaces: usize,
}

fn read(sim: &Sim, node_dn: &Dn) -> Reading {
    let om = ImmOm::initialize(sim.apis().imm_om, sim.apis().imm_oi, sim.policy()).unwrap();
    let o = om.get(node_dn, Some(&model::NODE_STATE_ATTRS)).unwrap();
    let s = NodeState::from_attrs(&o.unwrap().attrs);
    let ifs = om
        .search(Some(node_dn), Scope::Sublevel, Some(model::IF_CLASS), None)
        .unwrap();
    Reading {
        state: s.state,
        by: s.by,
        interfaces: ifs.len(),
    }
}

/// Whether another handle can take `node`'s implementer name now.
fn name_free(sim: &Sim, node: &str) -> bool {
    let mut oi = ImmOi::initialize(sim.apis().imm_oi, false, RetryPolicy::none()).unwrap();
    oi.implementer_set(&model::implementer_name(node)).is_ok()
}

#[test]
fn a_departed_node_is_acted_for_once_and_let_go_when_it_is_back() {
    let sim = sim();
    let parent = parent(&sim);
    let b = node_with_links(&sim, &parent, "unit-mB");
    let fake = FakeClm::new(&["unit-mA", "unit-mB"]);
    let mut t = task(&sim, "unit-mA", &parent, fake.connect("unit-mA"));

    // Both members: nothing to do.
    assert_eq!(t.run(false, true), Turn::Nothing);
    assert!(t.fd().is_some());
    assert_eq!(read(&sim, &b).state, Some(MirrorState::Live));

    // B leaves; with no grace the next run acts.
    fake.set(&["unit-mA"]);
    t.run(true, true);
    let r = read(&sim, &b);
    assert_eq!(
        (r.state, r.by.as_str(), r.interfaces),
        (Some(MirrorState::Departed), "unit-mA", 0)
    );
    assert!(!name_free(&sim, "unit-mB"), "the mark is held");
    // Acted once: nothing is due but the periodic read of the node objects (60 s).
    let next = t.due(true).expect("the periodic read");
    assert!(next > Instant::now() + Duration::from_secs(59), "{next:?}");

    // B is back: its name is let go at once, the objects stay as they are.
    fake.set(&["unit-mA", "unit-mB"]);
    t.run(true, true);
    assert!(name_free(&sim, "unit-mB"));
    assert_eq!(read(&sim, &b).state, Some(MirrorState::Departed));
}

#[test]
fn while_not_active_nobody_is_acted_for_and_held_marks_are_let_go() {
    let sim = sim();
    let parent = parent(&sim);
    let c = node_with_links(&sim, &parent, "unit-mC");
    let fake = FakeClm::new(&["unit-mA", "unit-mC"]);
    let mut t = task(&sim, "unit-mA", &parent, fake.connect("unit-mA"));
    t.run(false, false);
    fake.set(&["unit-mA"]);
    t.run(true, false);
    assert_eq!(
        read(&sim, &c).state,
        Some(MirrorState::Live),
        "acted while standby"
    );
    // Active: acted for; inactive again: the name goes.
    t.run(false, true);
    assert_eq!(read(&sim, &c).state, Some(MirrorState::Departed));
    assert!(!name_free(&sim, "unit-mC"));
    t.run(false, false);
    assert!(name_free(&sim, "unit-mC"));
}

#[test]
fn this_node_leaving_stops_its_syncs_until_it_is_a_member_again() {
    let sim = sim();
    let parent = parent(&sim);
    let fake = FakeClm::new(&["unit-mA", "unit-mB"]);
    let mut t = task(&sim, "unit-mA", &parent, fake.connect("unit-mA"));
    t.run(false, true);
    assert!(!t.out_of_cluster());

    fake.set(&["unit-mB"]);
    assert_eq!(t.run(true, true), Turn::Nothing);
    assert!(t.out_of_cluster());
    assert!(t.fd().is_none(), "tracking ended");
    // Refused while not a member: still out, tried again a second later.
    let next = t.due(true).expect("a new try is due");
    assert!(next <= Instant::now() + RECONNECT);
    std::thread::sleep(next.saturating_duration_since(Instant::now()));
    assert_eq!(t.run(false, true), Turn::Nothing);
    assert!(t.out_of_cluster());

    fake.set(&["unit-mA", "unit-mB"]);
    std::thread::sleep(
        t.due(true)
            .unwrap()
            .saturating_duration_since(Instant::now()),
    );
    assert_eq!(t.run(false, true), Turn::Back);
    assert!(!t.out_of_cluster());
}

#[test]
fn lost_tracking_acts_for_nobody_until_a_new_view() {
    let sim = sim();
    let parent = parent(&sim);
    let d = node_with_links(&sim, &parent, "unit-mD");
    let fake = FakeClm::new(&["unit-mA", "unit-mD"]);
    let mut t = task(&sim, "unit-mA", &parent, fake.connect("unit-mA"));
    t.run(false, true);
    // CLM fails (not a membership answer): membership unknown, so D's absence from the
    // next view is only learnt from that view.
    fake.fail(Error::Ais {
        call: "saClmDispatch",
        code: AisCode::BAD_HANDLE,
    });
    t.run(true, true);
    assert!(t.fd().is_none() && !t.out_of_cluster());
    fake.cluster.lock().unwrap().members = vec![clm("unit-mA")];
    assert_eq!(read(&sim, &d).state, Some(MirrorState::Live));
    std::thread::sleep(
        t.due(true)
            .unwrap()
            .saturating_duration_since(Instant::now()),
    );
    t.run(false, true);
    // The new source's first view has no D: D is found in IMM, not a member, acted for.
    assert_eq!(read(&sim, &d).state, Some(MirrorState::Departed));
    assert_eq!(read(&sim, &d).interfaces, 0);
}

#[path = "membership_task_held_marks_tests.rs"]
mod held_marks;
