use std::time::{Duration, Instant};

use super::*;
use crate::model::MirrorState::{self, Departed, Live, Stopped};

const CLUSTER: [&str; 3] = ["PL-3", "SC-1", "SC-2"];

fn s(secs: f64) -> Duration {
    Duration::from_secs_f64(secs)
}

/// A planner for `me` that has seen the whole cluster as members at `t0`.
fn planner(me: &str, t0: Instant) -> Planner {
    let mut p = Planner::new(me, Settings::default());
    p.clm_view(CLUSTER, t0);
    p
}

fn due_nodes(p: &Planner, now: Instant) -> Vec<String> {
    p.due(now).into_iter().map(|d| d.node).collect()
}

/// The first instant (in 10 ms steps from `from`, up to 120 s) at which `node` is due.
fn first_due(p: &Planner, node: &str, from: Instant) -> Option<Duration> {
    (0..12_000)
        .map(|i| from + Duration::from_millis(10 * i))
        .find(|t| due_nodes(p, *t).iter().any(|n| n == node))
        .map(|t| t - from)
}

#[test]
fn survivors_act_in_rank_order_after_the_grace() {
    let t0 = Instant::now();
    // Members sorted: PL-3 (leaving), SC-1, SC-2; after PL-3 leaves, SC-1 is rank 0.
    for (me, rank, at) in [("SC-1", 0, 5.0), ("SC-2", 1, 8.0)] {
        let mut p = planner(me, t0);
        p.clm_change("PL-3", false, t0 + s(1.0));
        assert_eq!(p.rank(), Some(rank));
        assert_eq!(first_due(&p, "PL-3", t0 + s(1.0)), Some(s(at)), "{me}");
        assert_eq!(p.next_due(), Some(t0 + s(1.0 + at)));
        let d = &p.due(t0 + s(1.0 + at))[0];
        assert_eq!((d.rank, d.gone_for), (rank, s(at)));
    }
    // With a third survivor: rank 2 waits for two staggers.
    let mut p = Planner::new("SC-3", Settings::default());
    p.clm_view(["PL-9", "SC-1", "SC-2", "SC-3"], t0);
    p.clm_change("PL-9", false, t0);
    assert_eq!(first_due(&p, "PL-9", t0), Some(s(11.0)));
}

#[test]
fn grace_and_stagger_are_the_configured_ones() {
    let t0 = Instant::now();
    let settings = Settings {
        grace: s(0.0),
        stagger: s(1.5),
        ..Default::default()
    };
    let mut p = Planner::new("SC-2", settings);
    p.clm_view(CLUSTER, t0);
    p.clm_change("PL-3", false, t0);
    assert_eq!(first_due(&p, "PL-3", t0), Some(s(1.5)));
}

#[test]
fn a_node_back_within_the_grace_is_left_alone() {
    let t0 = Instant::now();
    let mut p = planner("SC-1", t0);
    p.clm_change("PL-3", false, t0);
    p.clm_change("PL-3", true, t0 + s(4.9));
    assert_eq!(first_due(&p, "PL-3", t0), None);
    assert_eq!(p.next_due(), None);
    // The same through a full view (after CLM was initialized again).
    p.clm_change("PL-3", false, t0 + s(10.0));
    p.clm_lost();
    assert!(
        p.due(t0 + s(30.0)).is_empty(),
        "membership unknown: nobody acted for"
    );
    p.clm_view(CLUSTER, t0 + s(12.0));
    assert_eq!(first_due(&p, "PL-3", t0), None);
}

#[test]
fn a_restart_or_a_failover_acts_for_nobody() {
    let t0 = Instant::now();
    // A restarted macsync: every node object belongs to a member, whatever its state.
    let mut p = planner("SC-2", t0);
    p.imm_nodes(
        [
            ("PL-3", Some(Live)),
            ("SC-1", Some(Stopped)),
            ("SC-2", None),
        ],
        t0,
    );
    // A controller failover: CLM answers the same view again, maybe more than once.
    p.clm_view(CLUSTER, t0 + s(3.0));
    p.clm_view(CLUSTER, t0 + s(4.0));
    p.clm_change("SC-1", true, t0 + s(5.0));
    assert_eq!(p.pending().count(), 0);
    assert_eq!(first_due(&p, "PL-3", t0), None);
    assert_eq!(first_due(&p, "SC-1", t0), None);
}

#[test]
fn nodes_that_left_while_nobody_watched_are_acted_for_from_the_start() {
    let t0 = Instant::now();
    let mut p = Planner::new("SC-2", Settings::default());
    // IMM read before CLM answered: placed once membership is known.
    p.imm_nodes(
        [
            ("PL-4", Some(Live)),
            ("PL-5", Some(Departed)),
            ("PL-6", Some(Stopped)),
            ("PL-7", None),
            ("SC-1", Some(Live)),
        ],
        t0,
    );
    assert!(p.due(t0 + s(60.0)).is_empty(), "no membership yet");
    p.clm_view(["SC-1", "SC-2"], t0 + s(2.0));
    let pending: Vec<&str> = p.pending().collect();
    assert_eq!(
        pending,
        ["PL-4", "PL-6", "PL-7"],
        "DEPARTED and members left alone"
    );
    // Rank 1 (after SC-1), counted from when both were known.
    assert_eq!(first_due(&p, "PL-4", t0 + s(2.0)), Some(s(8.0)));
    assert_eq!(
        due_nodes(&p, t0 + s(10.0)),
        ["PL-4", "PL-6", "PL-7"],
        "all at once"
    );
    // A later read that shows one DEPARTED (another survivor did it) settles it.
    p.imm_nodes([("PL-6", Some(Departed))], t0 + s(9.0));
    assert_eq!(due_nodes(&p, t0 + s(10.0)), ["PL-4", "PL-7"]);
}

#[test]
fn its_own_node_is_never_acted_for_and_a_non_member_acts_for_nobody() {
    let t0 = Instant::now();
    let mut p = planner("SC-1", t0);
    p.imm_nodes([("SC-1", Some(Live))], t0);
    p.clm_change("PL-3", false, t0);
    p.clm_change("SC-1", false, t0);
    assert_eq!(p.rank(), None);
    assert!(p.due(t0 + s(100.0)).is_empty());
    assert_eq!(p.next_due(), None);
    assert!(!p.pending().any(|n| n == "SC-1"));
    // Back in the cluster, it acts for PL-3 again (now rank 0 of SC-1, SC-2).
    p.clm_change("SC-1", true, t0 + s(20.0));
    assert_eq!(due_nodes(&p, t0 + s(20.0)), ["PL-3"]);
    // A view without itself: nothing either.
    let mut q = Planner::new("SC-9", Settings::default());
    q.clm_view(CLUSTER, t0);
    q.imm_nodes([("PL-8", Some(Live))], t0);
    assert!(q.due(t0 + s(100.0)).is_empty());
}

#[test]
fn a_lower_ranked_member_leaving_moves_the_others_up() {
    let t0 = Instant::now();
    let mut p = planner("SC-2", t0);
    p.clm_change("PL-3", false, t0);
    assert_eq!(p.rank(), Some(1));
    p.clm_change("SC-1", false, t0 + s(1.0));
    assert_eq!(p.rank(), Some(0));
    // PL-3 is now due at its own grace, SC-1 at its own.
    assert_eq!(due_nodes(&p, t0 + s(5.0)), ["PL-3"]);
    assert_eq!(due_nodes(&p, t0 + s(6.0)), ["PL-3", "SC-1"]);
}

#[test]
fn busy_is_retried_fast_then_slowly_failures_slowly_and_settled_is_done() {
    let t0 = Instant::now();
    let mut p = planner("SC-1", t0);
    p.clm_change("PL-3", false, t0);
    let at = t0 + s(5.0);
    p.outcome("PL-3", Outcome::Busy, at);
    assert!(p.due(at + s(0.09)).is_empty());
    assert_eq!(due_nodes(&p, at + s(0.1)), ["PL-3"]);
    // Still busy 15 s after the first EXIST: once a second from then on.
    p.outcome("PL-3", Outcome::Busy, at + s(15.0));
    assert!(p.due(at + s(15.9)).is_empty());
    assert_eq!(due_nodes(&p, at + s(16.0)), ["PL-3"]);
    p.outcome("PL-3", Outcome::Failed, at + s(16.0));
    assert!(p.due(at + s(16.5)).is_empty());
    assert_eq!(p.next_due(), Some(at + s(17.0)));
    p.outcome("PL-3", Outcome::Rejoined, at + s(17.0));
    assert!(p.due(at + s(17.5)).is_empty());
    p.outcome("PL-3", Outcome::Settled, at + s(18.0));
    assert!(p.due(at + s(100.0)).is_empty());
    assert_eq!(p.next_due(), None);
    // A read that shows it marked keeps it settled; one that shows it unmarked (the
    // survivor that held the mark stopped, and the node object reads <Empty>) brings it back.
    p.imm_nodes([("PL-3", Some(Departed))], at + s(19.0));
    assert!(p.due(at + s(100.0)).is_empty());
    p.imm_nodes([("PL-3", None)], at + s(20.0));
    assert_eq!(first_due(&p, "PL-3", at + s(20.0)), Some(s(5.0)));
    p.outcome("PL-3", Outcome::Settled, at + s(25.0));
    // Leaving again after a rejoin does too.
    p.clm_change("PL-3", true, at + s(30.0));
    p.clm_change("PL-3", false, at + s(40.0));
    assert_eq!(first_due(&p, "PL-3", at + s(40.0)), Some(s(5.0)));
    // Outcomes for nodes nobody waits for change nothing.
    p.outcome("XX", Outcome::Busy, at);
    p.outcome("XX", Outcome::Settled, at);
    assert_eq!(p.pending().collect::<Vec<_>>(), ["PL-3"]);
}

/// IMM as the survivors see it for one departed node, with the rules `act` relies on: the
/// implementer name is a mutex, released only `release_after` the death, and acting is
/// idempotent. Returns how often the node's objects were deleted and when it was settled.
fn survivors_race(settings: Settings, release_after: Duration) -> (usize, Duration) {
    let t0 = Instant::now();
    let mut nodes: Vec<Planner> = ["SC-1", "SC-2", "SC-3"]
        .iter()
        .map(|me| {
            let mut p = Planner::new(me, settings.clone());
            p.clm_view(["PL-4", "SC-1", "SC-2", "SC-3"], t0);
            p.clm_change("PL-4", false, t0);
            p
        })
        .collect();
    let mut state = Some(MirrorState::Live);
    let (mut deletes, mut settled_at) = (0, None);
    for step in 0..6_000u64 {
        let now = t0 + Duration::from_millis(10 * step);
        // Rotate who goes first, as the nodes' clocks and schedulers would.
        let n = nodes.len();
        for i in 0..n {
            let p = &mut nodes[(i + step as usize) % n];
            for due in p.due(now) {
                let outcome = if state == Some(MirrorState::Departed) {
                    Outcome::Settled
                } else if now - t0 < release_after {
                    Outcome::Busy
                } else {
                    deletes += 1;
                    state = Some(MirrorState::Departed);
                    settled_at.get_or_insert(now - t0);
                    Outcome::Settled
                };
                p.outcome(&due.node, outcome, now);
            }
        }
    }
    assert!(nodes.iter().all(|p| p.pending().count() == 0));
    (deletes, settled_at.expect("somebody acted"))
}

#[test]
fn one_survivor_acts_within_the_documented_bound() {
    // IMM releases the dead node's name 10 s after: the rank-0 survivor, busy since 5 s,
    // gets it within one retry (the bound: grace + 10 s + r * stagger, r = 0).
    let (deletes, at) = survivors_race(Settings::default(), s(10.0));
    assert_eq!(deletes, 1);
    assert!(at >= s(10.0) && at <= s(10.1), "{at:?}");
    // Released before the grace ends: acted at the grace.
    let (deletes, at) = survivors_race(Settings::default(), s(1.0));
    assert_eq!((deletes, at), (1, s(5.0)));
    // Everybody at once (no stagger): still one delete, the mutex decides.
    let all_at_once = Settings {
        stagger: Duration::ZERO,
        ..Default::default()
    };
    assert_eq!(survivors_race(all_at_once, s(10.0)).0, 1);
}

#[test]
fn imm_is_read_at_start_after_each_departure_and_now_and_then() {
    let t0 = Instant::now();
    let mut p = Planner::new("SC-1", Settings::default());
    assert!(p.wants_imm_read(t0));
    p.imm_nodes([("SC-1", Some(Live))], t0);
    assert!(
        p.wants_imm_read(t0),
        "read before membership was known: read again"
    );
    p.clm_view(CLUSTER, t0);
    assert!(
        p.wants_imm_read(t0),
        "membership known now: placing the earlier read is no read"
    );
    p.imm_nodes([("SC-1", Some(Live))], t0);
    assert_eq!(p.next_imm_read(), Some(t0 + s(60.0)));
    assert!(!p.wants_imm_read(t0 + s(59.0)));
    assert!(p.wants_imm_read(t0 + s(60.0)), "now and then");
    p.imm_nodes(Vec::<(String, Option<MirrorState>)>::new(), t0 + s(60.0));
    p.clm_change("PL-3", true, t0 + s(61.0));
    assert!(
        !p.wants_imm_read(t0 + s(61.0)),
        "a join changes nothing in IMM yet"
    );
    p.clm_change("PL-3", false, t0 + s(62.0));
    assert!(p.wants_imm_read(t0 + s(62.0)), "after a departure");
    assert!(!p.is_member("PL-3") && p.is_member("SC-2"));
    p.clm_lost();
    assert!(!p.is_member("SC-2"));
    assert!(p.wants_imm_read(t0 + s(63.0)));
    p.clm_view(CLUSTER, t0 + s(64.0));
    assert!(
        p.wants_imm_read(t0 + s(64.0)),
        "a new view after tracking was lost: read again"
    );
}
