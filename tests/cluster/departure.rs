//! Membership on the real cluster (issue 9): a node that leaves the CLM cluster stops being
//! presented as current and is marked DEPARTED by a survivor within the README's bound
//! ("What a reader of IMM can rely on"), nothing else in IMM moves, and when the node returns
//! its mirror is LIVE and current again. Used by the payload scenario here and by the
//! failover and partition scenarios.

use std::time::Duration;

use crate::harness::{other, Cluster, PAYLOAD, PERIOD, SLACK};
use crate::probe::{at, first_after, now, timeline, Probe, Sample};
use crate::scenario::Table;
use crate::scenarios::ensure;

/// macsync's default `--depart-grace` (the sample model sets none).
pub const GRACE: Duration = Duration::from_secs(5);
/// The act itself (measured under 0.1 s) and a sync the worker may be busy with.
pub const ACT: Duration = Duration::from_secs(1);
/// CLM reports a `docker kill`ed node gone within this: its connections close with it
/// (measured 0.2-0.3 s; for the active controller 0.5-1.0 s, once the standby's CLM is active).
pub const KILL_NOTICED: Duration = Duration::from_secs(1);
/// CLM reports a node cut off the network gone within this: OpenSAF's transport notices by
/// TCP keepalive (dtmd.conf: 2 s idle, then 2 probes 1 s apart; measured 1.7-2.8 s).
pub const SILENT_NOTICED: Duration = Duration::from_secs(4);
/// A payload started again (`docker start`) is LIVE and mirrored within this; the node's
/// boot, OpenSAF's start and AMF's instantiation included (README: Bounds).
pub const RETURN: Duration = Duration::from_secs(20);

/// When one reader saw a node go (times after the event that made it go, in seconds).
#[derive(Debug)]
pub struct Departure {
    pub reader: &'static str,
    /// CLM's `saClmNodeIsMember` turned 0.
    pub clm: Option<f64>,
    /// The mirror stopped being current by the reader rule.
    pub not_current: f64,
    /// DEPARTED, by a survivor, no interface object left.
    pub departed: f64,
    pub by: String,
}

impl std::fmt::Display for Departure {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let clm = self.clm.map_or("?".into(), |t| format!("{t:.2} s"));
        write!(
            f,
            "on {}: CLM member=0 {clm}, not current {:.2} s, DEPARTED by {} with no interface object {:.2} s after",
            self.reader, self.not_current, self.by, self.departed
        )
    }
}

/// Waits until each probe saw its node marked DEPARTED by one of `survivors` after `t0`,
/// and checks that it stopped being current and was marked within `bound` of `t0`, and that
/// neither came undone up to the probe's last reading.
pub fn departure(
    c: &Cluster,
    probes: &[Probe],
    t0: f64,
    bound: Duration,
    survivors: &[&str],
) -> Result<Vec<Departure>, String> {
    let mut out = Vec::new();
    for p in probes {
        let seen = p.wait(
            c,
            &format!("{} DEPARTED by one of {survivors:?}", p.node),
            bound + Duration::from_secs(5),
            |s| first_after(s, t0, |x| x.departed(survivors)).is_some(),
        )?;
        let why = |what: &str| {
            format!(
                "{} read on {}: {what}; seen (s after the event):\n{}",
                p.node,
                p.on,
                timeline(&seen, t0)
            )
        };
        let gone = first_after(&seen, t0, |x| !x.current(p.node)).ok_or_else(|| why("never"))?;
        let marked = first_after(&seen, t0, |x| x.departed(survivors)).expect("waited for");
        let d = Departure {
            reader: p.on,
            clm: first_after(&seen, t0, |x| x.member == Some(false)).map(|x| x.t - t0),
            not_current: gone.t - t0,
            departed: marked.t - t0,
            by: marked.by.clone(),
        };
        let b = bound.as_secs_f64();
        ensure(d.not_current <= b && d.departed <= b, || {
            why(&format!("not within {bound:?}: {d}"))
        })?;
        let undone = seen
            .iter()
            .filter(|x| {
                x.t > gone.t && x.current(p.node) || x.t > marked.t && !x.departed(survivors)
            })
            .collect::<Vec<_>>();
        ensure(undone.is_empty(), || {
            why(&format!("came undone: {undone:?}"))
        })?;
        out.push(d);
    }
    Ok(out)
}

/// Waits until each probe saw its node LIVE again, written by its own macsync, after `t0`,
/// within `bound`; returns when (seconds after `t0`) for each reader.
pub fn returned(
    c: &Cluster,
    probes: &[Probe],
    t0: f64,
    bound: Duration,
) -> Result<Vec<f64>, String> {
    let mut out = Vec::new();
    for p in probes {
        let live = |s: &Sample| s.current(p.node) && s.by == p.node && !s.ifs.is_empty();
        let left = (bound.as_secs_f64() - (now() - t0)).max(0.0);
        let seen = p.wait(
            c,
            &format!("{} LIVE again", p.node),
            Duration::from_secs_f64(left),
            |s| first_after(s, t0, live).is_some(),
        )?;
        out.push(first_after(&seen, t0, live).expect("waited for").t - t0);
    }
    Ok(out)
}

/// What IMM shows of a node that must not move while another leaves and returns: its node
/// object's attributes `attrs` and its interface objects, read on `reader`.
#[derive(Debug, PartialEq)]
pub struct Seen {
    attrs: Vec<(String, String)>,
    links: Option<Table>,
}

pub fn seen(c: &Cluster, node: &str, reader: &str, attrs: &[&str]) -> Result<Seen, String> {
    Ok(Seen {
        attrs: c.attrs(reader, &format!("macSyncNodeId={node}"), attrs)?,
        links: c.imm_links(node, reader)?,
    })
}

/// Counters that move only when objects are created or deleted, and the state with its time
/// (which changes only when the state is written again).
pub const NO_CHURN: [&str; 4] = [
    "objectsCreated",
    "objectsDeleted",
    "mirrorState",
    "mirrorStateTime",
];

const MAC: &str = "02:00:00:c6:12:03";

/// 2 (issue 9). PL-3 killed: on SC-1 and SC-2 its mirror stops being current and is marked
/// DEPARTED (interfaces gone) within the bound; the MAC of one of its links, given to a link
/// on SC-2 right after the kill, is claimed by SC-2 alone after the bound; SC-1's and SC-2's
/// objects do not move. PL-3 started again (with other links: those made before went with its
/// network namespace, one more is added at boot) is LIVE and current again within [`RETURN`].
pub fn departed_payload(c: &Cluster) -> Result<(), String> {
    let survivors = ["SC-1", "SC-2"];
    c.ip(
        PAYLOAD,
        &format!("link add mv-pl address {MAC} type veth peer name mv-plp"),
    )?;
    c.ip("SC-2", "link add mv-sc type veth peer name mv-scp")?;
    c.wait_mirrored(PAYLOAD, "SC-1", PERIOD + SLACK)?;
    c.wait_mirrored("SC-2", "SC-1", PERIOD + SLACK)?;
    let sc1 = seen(c, "SC-1", "SC-2", &NO_CHURN)?;
    let mut sc2 = seen(c, "SC-2", "SC-1", &NO_CHURN)?;
    let probes = survivors
        .iter()
        .map(|on| Probe::start(c, on, PAYLOAD, 120))
        .collect::<Result<Vec<_>, _>>()?;
    for p in &probes {
        let s = p.samples(c)?;
        ensure(
            s.last()
                .is_some_and(|x| x.current(PAYLOAD) && x.shows_mac(MAC)),
            || {
                format!(
                    "PL-3 is not current with mv-pl before the kill (read on {}): {s:?}",
                    p.on
                )
            },
        )?;
    }

    let t_kill = now();
    c.kill_node(PAYLOAD)?;
    // The MAC moves to SC-2 at once: IMM shows it on both nodes until PL-3 is marked.
    c.ip("SC-2", &format!("link set mv-sc address {MAC}"))?;
    let moved = now() - t_kill;
    let bound = GRACE + ACT + KILL_NOTICED;
    let deps = departure(c, &probes, t_kill, bound, &survivors)?;
    let sc2_claims = c
        .wait_mirrored("SC-2", "SC-1", PERIOD + SLACK)?
        .as_secs_f64()
        + moved;
    let wait = bound.as_secs_f64() - (now() - t_kill);
    if wait > 0.0 {
        std::thread::sleep(Duration::from_secs_f64(wait));
    }
    let only_sc2 = |why: &str| -> Result<(), String> {
        for reader in survivors {
            let claims = c.claims(reader, MAC)?;
            ensure(
                claims == ["macSyncInterfaceId=mv-sc,macSyncNodeId=SC-2"],
                || format!("{why}: {MAC} claimed by {claims:?} (read on {reader})"),
            )?;
        }
        Ok(())
    };
    only_sc2(&format!("{bound:?} after the kill"))?;
    let pl3_claim: Vec<String> = probes
        .iter()
        .map(|p| {
            let s = p.samples(c).unwrap_or_default();
            match first_after(&s, t_kill, |x| !x.shows_mac(MAC)) {
                Some(x) => format!("{:.2} s (read on {})", x.t - t_kill, p.on),
                None => format!("never (read on {})", p.on),
            }
        })
        .collect();

    // Nothing else moved: SC-1 as it was, SC-2 with mv-sc's new MAC only.
    if let Some(Some((mac, _, _))) = sc2.links.as_mut().map(|l| l.get_mut("mv-sc")) {
        *mac = MAC.to_string();
    }
    let unmoved = |what: &str| -> Result<(), String> {
        for (node, was) in [("SC-1", &sc1), ("SC-2", &sc2)] {
            let now = seen(c, node, other(node), &NO_CHURN)?;
            ensure(&now == was, || {
                format!("{node}'s objects moved {what}:\n before {was:?}\n after  {now:?}")
            })?;
        }
        Ok(())
    };
    unmoved("while PL-3 left")?;
    for d in &deps {
        println!("  PL-3 killed; {d}");
    }
    println!(
        "  {MAC} on SC-2 {moved:.2} s after the kill, in IMM {sc2_claims:.2} s; PL-3's claim gone at {}",
        pl3_claim.join(", ")
    );

    let t_start = now();
    c.start_node(PAYLOAD)?;
    // A link made at boot, before macsync runs.
    c.wait_for("a shell on PL-3", Duration::from_secs(10), || {
        c.ip(PAYLOAD, "link add pn0 type veth peer name pn1")
            .is_ok()
    })?;
    let live = returned(c, &probes, t_start, RETURN)?;
    let mut mirrored = Vec::new();
    for reader in survivors {
        let left = RETURN.saturating_sub(Duration::from_secs_f64(now() - t_start));
        c.wait_mirrored(PAYLOAD, reader, left)?;
        mirrored.push(now() - t_start);
    }
    let imm = c.imm_links(PAYLOAD, "SC-1")?.unwrap_or_default();
    ensure(
        imm.contains_key("pn0") && !imm.contains_key("mv-pl"),
        || format!("PL-3 in IMM after its return: {imm:?}"),
    )?;
    for p in &probes {
        let s = p.samples(c)?;
        ensure(at(&s, now()).is_some_and(|x| x.current(PAYLOAD)), || {
            format!(
                "PL-3 not current after its return (read on {}): {s:?}",
                p.on
            )
        })?;
    }
    only_sc2("after PL-3's return")?;
    unmoved("when PL-3 returned")?;
    println!(
        "  PL-3 started: LIVE again {} s, mirrored {} s after docker start (read on SC-1, SC-2)",
        fmt_times(&live),
        fmt_times(&mirrored)
    );
    Ok(())
}

pub fn fmt_times(t: &[f64]) -> String {
    t.iter()
        .map(|t| format!("{t:.2}"))
        .collect::<Vec<_>>()
        .join(", ")
}
