//! Held DEPARTED marks: let go when membership is unknown or this node is out, not taken
//! further while membership is lost, marked again when their handle died.

use super::*;

#[test]
fn held_marks_are_let_go_when_this_node_is_out_or_membership_is_unknown() {
    let sim = sim();
    let parent = parent(&sim);
    for (i, cut) in ["this node out", "membership unknown"]
        .into_iter()
        .enumerate()
    {
        let e = format!("unit-mE{i}");
        let dn = node_with_links(&sim, &parent, &e);
        let fake = FakeClm::new(&["unit-mA", &e]);
        let mut t = task(&sim, "unit-mA", &parent, fake.connect("unit-mA"));
        t.run(false, true);
        fake.set(&["unit-mA"]);
        t.run(true, true);
        assert_eq!(read(&sim, &dn).state, Some(MirrorState::Departed), "{cut}");
        assert!(!name_free(&sim, &e), "{cut}: the mark is held");
        if i == 0 {
            fake.set(&[&e]);
        } else {
            fake.fail(Error::Ais {
                call: "saClmDispatch",
                code: AisCode::BAD_HANDLE,
            });
        }
        t.run(true, true);
        assert!(t.fd().is_none(), "{cut}");
        // Whether E is back cannot be seen from here: its own macsync must be able to
        // take its name.
        assert!(name_free(&sim, &e), "{cut}: the name is still held");
    }
}

#[test]
fn membership_lost_during_an_attempt_stops_acting_for_the_others() {
    let sim = sim();
    let parent = parent(&sim);
    // Named to come after every other test's node: they are acted for in name order.
    let (f, g) = ("unit-mY0", "unit-mY1");
    let g_dn = node_with_links(&sim, &parent, g);
    node_with_links(&sim, &parent, f);
    let fake = FakeClm::new(&["unit-mA", f, g]);
    let grace = Duration::from_millis(200);
    let mut t = task_with_grace(&sim, "unit-mA", &parent, fake.connect("unit-mA"), grace);
    t.run(false, true);
    fake.set(&["unit-mA"]);
    t.run(true, true);
    // Both are due after the grace; CLM fails when asked again during the first attempt
    // that takes a name (F's at the latest).
    fake.fail(Error::Ais {
        call: "saClmDispatch",
        code: AisCode::BAD_HANDLE,
    });
    std::thread::sleep(grace + Duration::from_millis(50));
    t.run(false, true);
    assert!(t.fd().is_none(), "tracking lost");
    assert_eq!(
        read(&sim, &g_dn).state,
        Some(MirrorState::Live),
        "acted for with membership unknown"
    );
    assert!(name_free(&sim, f) && name_free(&sim, g));
}

/// The simulator's detach window (how long a released name's values still show) made
/// short for one test, and set back to OpenSAF's 6 s after it.
struct ShortDetach<'a>(&'a Sim);

impl<'a> ShortDetach<'a> {
    fn new(sim: &'a Sim) -> ShortDetach<'a> {
        sim.cli(&["config", "imm_detach_ms=100"]);
        ShortDetach(sim)
    }
}

impl Drop for ShortDetach<'_> {
    fn drop(&mut self) {
        self.0.cli(&["config", "imm_detach_ms=6000"]);
    }
}

#[test]
fn a_held_mark_whose_handle_died_is_marked_again() {
    let sim = sim();
    let parent = parent(&sim);
    let _short = ShortDetach::new(&sim);
    // The reader sees BAD_HANDLE too (IMM's node director restarted), or it does not (a
    // reader made afterwards): either way the mark comes back.
    for (i, reader_too) in [true, false].into_iter().enumerate() {
        let h = format!("unit-mH{i}");
        let dn = node_with_links(&sim, &parent, &h);
        let fake = FakeClm::new(&["unit-mA", &h]);
        let mut t = task(&sim, "unit-mA", &parent, fake.connect("unit-mA"));
        t.planner = Planner::new(
            "unit-mA",
            Settings {
                grace: Duration::ZERO,
                stagger: Duration::ZERO,
                reread: Duration::from_millis(200),
                ..Default::default()
            },
        );
        t.run(false, true);
        fake.set(&["unit-mA"]);
        t.run(true, true);
        assert_eq!(read(&sim, &dn).state, Some(MirrorState::Departed));

        sim.cli(&["fault", "bad-handle"]);
        if !reader_too {
            t.om = None;
        }
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(read(&sim, &dn).state, None, "the mark went with the handle");
        if reader_too {
            // The periodic read is due: it answers BAD_HANDLE, and the dead marks are let go.
            t.run(false, true);
            let held = t.acting.as_ref().map(|a| a.held().collect::<Vec<_>>());
            assert_eq!(held, Some(vec![]), "BAD_HANDLE seen");
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while read(&sim, &dn).state != Some(MirrorState::Departed) {
            assert!(Instant::now() < deadline, "{h} not marked again");
            let due = t.due(true).expect("something due");
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            t.run(false, true);
        }
        assert!(!name_free(&sim, &h), "{h}: the new mark is held");
    }
}
