//! The safe CLM layer (`macsync::osaf::Clm`) against the simulator in-process: the local
//! node, the current membership, tracking a node that leaves and joins (typed
//! notifications), track stop, a handler panic (the rest of that dispatch is skipped, the
//! panic comes out of `dispatch`), and a node that is not a member.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::Duration;

use macsync::osaf::{AisCode, Clm, ClmHandler, Error, Membership, NodeChange, RetryPolicy, Track};

const SC1: &str = "safNode=SC-1,safCluster=myClmCluster";
const PL3: &str = "safNode=PL-3,safCluster=myClmCluster";

fn sim(dir: &Path, args: &[&str]) {
    assert_eq!(
        opensaf_sim::cli::run_in(dir, args),
        0,
        "opensaf-sim {args:?}"
    );
}

#[derive(Default)]
struct Recorder(Vec<Result<Membership, Error>>);

impl ClmHandler for Recorder {
    fn membership(&mut self, update: Result<Membership, Error>) {
        self.0.push(update);
    }
}

/// Polls the selection object for up to `timeout`, then dispatches into a new recorder.
fn next_updates(clm: &Clm, timeout: Duration) -> Vec<Membership> {
    let fd = clm.selection_fd().unwrap();
    let ready = macsync::sys::poll(&[fd], timeout.as_millis() as i32).unwrap();
    let mut r = Recorder::default();
    if ready[0] {
        clm.dispatch(&mut r).unwrap();
    }
    r.0.into_iter().map(Result::unwrap).collect()
}

#[test]
fn local_node_members_track_leave_and_join_panics_and_non_members() {
    let dir = std::env::temp_dir().join(format!("macsync-osaf-clm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    sim(&dir, &["config", "clm_leave_ms=50", "imm_release_ms=100"]);
    opensaf_sim::use_state_dir(&dir).unwrap();
    let apis = opensaf_sim::apis();
    let quick = RetryPolicy {
        total: Duration::from_secs(2),
        ..Default::default()
    };
    let clm = Clm::initialize(apis.clm, apis.amf, quick.clone()).unwrap();

    let me = clm.local_node().unwrap();
    assert_eq!((me.name.as_str(), me.id, me.member), (SC1, 0x2010F, true));
    let all = clm.members().unwrap();
    assert_eq!((all.view, all.members, all.nodes.len()), (1, 4, 4));
    assert!(all.nodes.iter().all(|n| n.change == NodeChange::NoChange));
    assert_eq!(all.changed().count(), 0);

    clm.track(Track::CurrentAndChanges).unwrap();
    let current = next_updates(&clm, Duration::from_secs(2));
    assert_eq!(
        current,
        std::slice::from_ref(&all),
        "the current membership first"
    );

    let leave = std::thread::spawn({
        let dir = dir.clone();
        move || sim(&dir, &["clm", "leave", "PL-3"])
    });
    let left = next_updates(&clm, Duration::from_secs(3));
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(
        (left[0].view, left[0].members, left[0].nodes.len()),
        (2, 3, 4)
    );
    let changed: Vec<_> = left[0].changed().collect();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].node.name, PL3);
    assert_eq!(changed[0].node.id, 0x2030F);
    assert_eq!(
        (changed[0].change, changed[0].node.member),
        (NodeChange::Left, false)
    );
    leave.join().unwrap();

    clm.track(Track::ChangesOnly).unwrap();
    sim(&dir, &["clm", "join", "PL-3"]);
    let joined = next_updates(&clm, Duration::from_secs(3));
    assert_eq!(joined.len(), 1, "{joined:?}");
    assert_eq!((joined[0].view, joined[0].members), (3, 4));
    assert_eq!(joined[0].nodes.len(), 1, "changes only");
    assert_eq!(joined[0].nodes[0].change, NodeChange::Joined);
    assert!(joined[0].nodes[0].node.member);

    clm.track_stop().unwrap();
    let again = clm.track_stop().unwrap_err();
    assert_eq!(again.code(), Some(AisCode::NOT_EXIST), "{again}");

    // A panicking handler: the panic leaves dispatch, the second callback of that same
    // dispatch is not delivered, and nothing is left pending.
    clm.track(Track::CurrentAndChanges).unwrap();
    clm.track(Track::CurrentAndChanges).unwrap();
    struct Panics(u32);
    impl ClmHandler for Panics {
        fn membership(&mut self, _: Result<Membership, Error>) {
            self.0 += 1;
            panic!("handler bug");
        }
    }
    let fd = clm.selection_fd().unwrap();
    assert!(macsync::sys::poll(&[fd], 2000).unwrap()[0]);
    let mut p = Panics(0);
    let caught = catch_unwind(AssertUnwindSafe(|| clm.dispatch(&mut p)));
    assert_eq!(p.0, 1, "the rest of the dispatch is skipped");
    let msg = caught.unwrap_err();
    assert_eq!(msg.downcast_ref::<&str>(), Some(&"handler bug"));
    assert!(!macsync::sys::poll(&[fd], 0).unwrap()[0]);
    clm.finalize().unwrap();

    // This process's own node leaves: CLM is unavailable on it.
    sim(&dir, &["clm", "leave", "SC-1"]);
    let e = Clm::initialize(apis.clm, apis.amf, RetryPolicy::none())
        .err()
        .unwrap();
    assert_eq!(e.code(), Some(AisCode::UNAVAILABLE), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
