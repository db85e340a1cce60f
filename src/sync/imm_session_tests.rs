//! The IMM session against the in-process simulator.

use super::*;
use crate::test_sim::{sim, Sim};

fn target(node: &str, parent: Option<&str>) -> NodeTarget {
    let parent = parent.map(|p| Dn::parse(p, 255).unwrap());
    NodeTarget {
        node_dn: model::node_dn(node, parent.as_ref(), 255).unwrap(),
        parent,
        implementer: model::implementer_name(node),
    }
}

fn session(sim: &Sim, t: &NodeTarget) -> ImmSession {
    ImmSession::new(sim.apis(), t.clone(), sim.policy(), false)
}

fn ifdn(t: &NodeTarget, name: &str) -> Dn {
    Dn::child(Some(&t.node_dn), model::IF_RDN, name.as_bytes(), 255).unwrap()
}

fn rec(mac: &str, ifindex: u32) -> IfRecord {
    IfRecord {
        mac: mac.into(),
        ifindex,
        oper: 6,
    }
}

/// What IMM holds, read by a session of its own (fresh OM handle, no cached view).
pub(in crate::sync) fn imm_view(sim: &Sim, t: &NodeTarget) -> BTreeMap<Dn, IfRecord> {
    let om = ImmOm::initialize(sim.apis().imm_om, sim.apis().imm_oi, sim.policy()).unwrap();
    om.search(
        Some(&t.node_dn),
        Scope::Sublevel,
        Some(model::IF_CLASS),
        None,
    )
    .unwrap()
    .into_iter()
    .map(|o| {
        (
            Dn::parse(&o.dn, 255).unwrap(),
            IfRecord::from_attrs(&o.attrs),
        )
    })
    .collect()
}

/// The `macAddress` values IMM holds for one object, as a reader (`immlist`) sees them.
fn imm_mac_values(sim: &Sim, dn: &Dn) -> Vec<AttrValue> {
    let om = ImmOm::initialize(sim.apis().imm_om, sim.apis().imm_oi, sim.policy()).unwrap();
    let obj = om.get(dn, Some(&[model::ATTR_MAC])).unwrap().unwrap();
    obj.attr(model::ATTR_MAC).unwrap().values.clone()
}

fn no_mac() -> Vec<AttrValue> {
    vec![AttrValue::Str(String::new())]
}

#[test]
fn node_object_view_and_writes_survive_a_new_session() {
    let sim = sim();
    let t = target("unit-session", None);
    let (a, b) = (ifdn(&t, "a,0"), ifdn(&t, "b"));
    let mut s = session(&sim, &t);
    // Created: zero counters; known from then on.
    assert_eq!(s.ensure_node(true).unwrap(), Some(Counters::default()));
    assert_eq!(s.ensure_node(true).unwrap(), None);
    assert!(s.view().unwrap().is_empty());
    let create_a = Change::Create(a.clone(), rec("02:00:00:00:00:0a", 1));
    assert_eq!(s.apply(&create_a).unwrap(), Applied::Written(1));
    // A link without a MAC: created with macAddress "", as real IMM requires.
    assert_eq!(
        s.apply(&Change::Create(b.clone(), rec("", 2))).unwrap(),
        Applied::Written(1)
    );
    assert_eq!(imm_mac_values(&sim, &b), no_mac());
    let counters = Counters {
        syncs: 5,
        created: 2,
        ..Default::default()
    };
    s.update_node(&counters.attrs(1)).unwrap();
    assert_eq!(Some(&imm_view(&sim, &t)), s.known_objects());
    drop(s);

    // A restarted worker: the same implementer owns the objects again, finds the node
    // object's counters and reads the view back from IMM.
    let mut s = session(&sim, &t);
    assert_eq!(s.ensure_node(true).unwrap(), Some(counters));
    assert_eq!(s.view().unwrap().objects(), &imm_view(&sim, &t));
    assert_eq!(s.view().unwrap().objects()[&a], rec("02:00:00:00:00:0a", 1));

    // Only the changed attribute is written; a MAC that goes away, and one that comes
    // back, is one update of macAddress.
    let new_a = rec("02:00:00:00:00:0a", 9);
    let update = Change::Update(a.clone(), new_a.clone(), rec("02:00:00:00:00:0a", 1));
    assert_eq!(s.apply(&update).unwrap(), Applied::Written(1));
    let cleared = Change::Update(a.clone(), rec("", 9), new_a.clone());
    assert_eq!(s.apply(&cleared).unwrap(), Applied::Written(1));
    assert_eq!(imm_mac_values(&sim, &a), no_mac());
    assert_eq!(imm_view(&sim, &t)[&a], rec("", 9));
    let back = Change::Update(a.clone(), new_a.clone(), rec("", 9));
    assert_eq!(s.apply(&back).unwrap(), Applied::Written(1));
    assert_eq!(imm_view(&sim, &t)[&a], new_a);
    assert_eq!(Some(&imm_view(&sim, &t)), s.known_objects());

    // Deletes: present or not, the object is gone afterwards.
    assert_eq!(
        s.apply(&Change::Delete(b.clone())).unwrap(),
        Applied::Written(1)
    );
    s.delete_if_present(&b).unwrap();
    assert!(!imm_view(&sim, &t).contains_key(&b));
    s.delete_if_present(&t.node_dn).unwrap();
}

#[test]
fn writes_repair_what_an_earlier_unknown_outcome_left() {
    let sim = sim();
    let t = target("unit-repair", None);
    let a = ifdn(&t, "a");
    let mut s = session(&sim, &t);
    s.ensure_node(false).unwrap();
    assert_eq!(
        s.create_or_replace(&a, &rec("02:00:00:00:00:01", 1))
            .unwrap(),
        1
    );
    // Already there (a create that timed out but took): replaced, MAC included.
    assert_eq!(
        s.create_or_replace(&a, &rec("02:00:00:00:00:02", 2))
            .unwrap(),
        2
    );
    assert_eq!(imm_view(&sim, &t)[&a], rec("02:00:00:00:00:02", 2));
    // Already there with a MAC the link no longer has: replaced by "", and back.
    assert_eq!(s.create_or_replace(&a, &rec("", 3)).unwrap(), 2);
    assert_eq!(imm_mac_values(&sim, &a), no_mac());
    assert_eq!(imm_view(&sim, &t)[&a], rec("", 3));
    assert_eq!(
        s.create_or_replace(&a, &rec("02:00:00:00:00:03", 3))
            .unwrap(),
        2
    );
    assert_eq!(imm_view(&sim, &t)[&a], rec("02:00:00:00:00:03", 3));
    // An update of an object that is gone (a delete that timed out but took) creates it.
    s.view().unwrap();
    s.delete_if_present(&a).unwrap();
    let update = Change::Update(a.clone(), rec("", 4), rec("02:00:00:00:00:03", 3));
    assert_eq!(s.apply(&update).unwrap(), Applied::Written(2));
    assert_eq!(imm_mac_values(&sim, &a), no_mac());
    assert_eq!(imm_view(&sim, &t)[&a], rec("", 4));
    s.delete_if_present(&t.node_dn).unwrap();
}

#[test]
fn bad_handle_makes_new_handles_with_the_implementer_and_rereads_imm() {
    let sim = sim();
    let t = target("unit-bad-handle", None);
    let a = ifdn(&t, "a");
    let mut s = session(&sim, &t);
    s.ensure_node(true).unwrap();
    s.apply(&Change::Create(a.clone(), rec("02:00:00:00:00:01", 1)))
        .unwrap();
    assert!(s.selection_fd().is_some());

    sim.cli(&["fault", "bad-handle"]);
    let update = Change::Update(a.clone(), rec("02:00:00:00:00:01", 2), rec("", 1));
    let e = s.apply(&update).unwrap_err();
    assert!(e.is_bad_handle(), "{e}");
    s.handle_lost();
    // Nothing to poll or dispatch on a dead handle; nothing known about IMM.
    assert_eq!(s.selection_fd(), None);
    s.dispatch(&mut NoAdminOps).unwrap();
    assert_eq!(s.known_objects(), None);

    // The next use makes new handles: the implementer name is set again (so the objects
    // can be written), the node object is found again and the view re-read.
    assert_eq!(s.ensure_node(false).unwrap(), None);
    assert_eq!(s.view().unwrap().objects()[&a], rec("02:00:00:00:00:01", 1));
    assert_eq!(s.apply(&update).unwrap(), Applied::Written(1));
    assert_eq!(imm_view(&sim, &t)[&a].ifindex, 2);
    assert!(s.selection_fd().is_some());

    // BAD_HANDLE from the OM handle alone: the OI handle is alive and holds the name, and
    // must give it up before a new handle can take it.
    s.handle_lost();
    assert_eq!(s.view().unwrap().objects()[&a].ifindex, 2);
    s.delete_if_present(&t.node_dn).unwrap();
}

/// The node object's raw `mirrorState` (None: `<Empty>`) and how a reader takes it.
fn node_state(sim: &Sim, t: &NodeTarget) -> (Option<u64>, model::NodeState) {
    let om = ImmOm::initialize(sim.apis().imm_om, sim.apis().imm_oi, sim.policy()).unwrap();
    let o = om.get(&t.node_dn, Some(&model::NODE_STATE_ATTRS));
    let attrs = o.unwrap().unwrap().attrs;
    let raw = attrs
        .iter()
        .find(|a| a.name == model::ATTR_STATE)
        .and_then(|a| a.values.first())
        .and_then(AttrValue::as_u64);
    (raw, model::NodeState::from_attrs(&attrs))
}

#[test]
fn a_new_implementer_shows_not_synced_until_its_first_sync() {
    let sim = sim();
    let node = "unit-not-synced";
    let t = target(node, None);
    let mut a = session(&sim, &t);
    a.ensure_node(true).unwrap();
    a.update_node(&[]).unwrap();
    assert!(node_state(&sim, &t).1.is_current(node));
    let before = model::now_ns();
    // Its process ends (the name let go), and a new one sets the name: IMM would show the
    // cached LIVE again with the new name, before anything is synced.
    drop(a);
    let mut b = session(&sim, &t);
    assert!(!b.stop_due());
    assert!(b.ensure_node(true).unwrap().is_some());
    let (raw, state) = node_state(&sim, &t);
    assert_eq!(raw, Some(0), "{state:?}");
    assert!(!state.is_current(node), "{state:?}");
    assert_eq!(
        (state.by.as_str(), state.implementer.as_str()),
        (node, "macsync-unit-not-synced")
    );
    assert!(state.time_ns >= before);
    assert!(
        b.stop_due() && !b.is_live(),
        "the name is held, STOPPED not written"
    );
    b.update_node(&[]).unwrap();
    assert!(node_state(&sim, &t).1.is_current(node));

    // The same after BAD_HANDLE: the new handle sets the name again and says 0 first.
    sim.cli(&["fault", "bad-handle"]);
    assert!(b.update_node(&[]).unwrap_err().is_bad_handle());
    b.handle_lost();
    assert!(!b.stop_due());
    b.ensure_node(false).unwrap();
    let (raw, state) = node_state(&sim, &t);
    assert_eq!(raw, Some(0), "{state:?}");
    assert_eq!(state.implementer, "macsync-unit-not-synced");
    b.update_node(&[]).unwrap();
    assert!(b.is_live() && node_state(&sim, &t).1.is_current(node));
    b.write_stopped().unwrap();
    assert!(!b.stop_due(), "STOPPED is written once");
    b.delete_if_present(&t.node_dn).unwrap();
}

#[test]
fn a_node_object_of_another_implementer_is_one_fatal_line_and_no_name_is_kept() {
    let sim = sim();
    let t = target("unit-foreign", None);
    let mut owner = session(&sim, &t);
    owner.ensure_node(false).unwrap();
    owner.update_node(&[]).unwrap();
    let other = NodeTarget {
        implementer: "macsync-unit-foreign-other".into(),
        ..t.clone()
    };
    let mut s = session(&sim, &other);
    match s.ensure_node(true) {
        Err(SyncError::Fatal(line)) => assert!(
            line.starts_with(
                "macSyncNodeId=unit-foreign is owned by another implementer than macsync-unit-foreign-other"
            ),
            "{line}"
        ),
        r => panic!("{r:?}"),
    }
    // The 0 could not be written: the handle went, and the name with it.
    assert_eq!(s.selection_fd(), None);
    let mut probe = ImmOi::initialize(sim.apis().imm_oi, false, RetryPolicy::none()).unwrap();
    probe.implementer_set(&other.implementer).unwrap();
    assert!(
        node_state(&sim, &t).1.is_current("unit-foreign"),
        "left alone"
    );
    owner.delete_if_present(&t.node_dn).unwrap();
}

#[test]
fn an_object_imm_refuses_is_left_without_one_and_a_missing_node_object_is_an_error() {
    let sim = sim();
    let t = target("unit-refuse", None);
    let (bad, u) = (ifdn(&t, "bad"), ifdn(&t, "u"));
    let mut s = session(&sim, &t);
    s.ensure_node(false).unwrap();
    s.update_node(&[]).unwrap();
    let refuse = |op: &str, dn: &Dn, code: &str| {
        sim.cli(&[
            "fault",
            "refuse",
            "--op",
            op,
            "--dn",
            dn.as_str(),
            "--code",
            code,
        ]);
    };
    refuse("create", &bad, "7");
    refuse("update", &u, "13");
    let refused = |code: AisCode, call: &'static str, deleted: bool| Applied::Refused {
        error: Error::Ais { call, code },
        deleted,
    };
    let create = "saImmOiRtObjectCreate_2";
    let update = "saImmOiRtObjectUpdate_2";
    let create_bad = Change::Create(bad.clone(), rec("", 1));
    assert_eq!(
        s.apply(&create_bad).unwrap(),
        refused(AisCode::INVALID_PARAM, create, false)
    );
    // A refused update: the object IMM held is deleted rather than left stale.
    let create_u = Change::Create(u.clone(), rec("", 2));
    assert_eq!(s.apply(&create_u).unwrap(), Applied::Written(1));
    let update_u = Change::Update(u.clone(), rec("", 3), rec("", 2));
    assert_eq!(
        s.apply(&update_u).unwrap(),
        refused(AisCode::NAME_TOO_LONG, update, true)
    );
    assert!(imm_view(&sim, &t).is_empty());
    assert_eq!(Some(&imm_view(&sim, &t)), s.known_objects());
    // The same when IMM held an object the view did not (a create that timed out but
    // took): its create answers EXIST and the update is refused.
    assert_eq!(s.create_or_replace(&u, &rec("", 2)).unwrap(), 1);
    assert_eq!(
        s.apply(&create_u).unwrap(),
        refused(AisCode::NAME_TOO_LONG, update, false)
    );
    assert!(imm_view(&sim, &t).is_empty());
    sim.cli(&["fault", "clear"]);
    assert_eq!(s.apply(&create_bad).unwrap(), Applied::Written(1));

    // NOT_EXIST because the node object is gone is about IMM, not the object: an error,
    // and the next use makes the node object again (LIVE again) and re-reads the view.
    s.delete_if_present(&t.node_dn).unwrap();
    let e = s.apply(&create_u).unwrap_err();
    assert_eq!(e.code(), Some(AisCode::NOT_EXIST), "{e}");
    assert!(!s.view_known() && !s.is_live());
    assert_eq!(s.ensure_node(false).unwrap(), Some(Counters::default()));
    assert_eq!(s.apply(&create_u).unwrap(), Applied::Written(1));
    assert_eq!(imm_view(&sim, &t).len(), 1);
    s.delete_if_present(&t.node_dn).unwrap();
}

#[test]
fn a_node_object_imm_refuses_is_one_fatal_line() {
    let sim = sim();
    let t = target("unit-orphan", Some("safApp=nowhere"));
    match session(&sim, &t).ensure_node(true) {
        Err(SyncError::Fatal(line)) => assert_eq!(
            line,
            "parent DN safApp=nowhere does not exist in IMM (--parent-dn)"
        ),
        other => panic!("{other:?}"),
    }
}

struct NoAdminOps;

impl OiHandler for NoAdminOps {
    fn admin_operation(
        &mut self,
        _: &crate::osaf::OiResponder,
        _: crate::osaf::Invocation,
        object: &str,
        op: u64,
        _: &[(String, AttrValue)],
    ) {
        panic!("admin operation {op} on {object}");
    }
}
