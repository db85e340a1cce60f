//! The cluster scenarios (issue 8). Each returns `Err(why)` on failure; the runner then prints
//! every node's macsync log and OpenSAF log lines.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::departure::{self, departure, fmt_times, returned, seen, ACT, GRACE, KILL_NOTICED};
use crate::harness::{comp, other, su, Cluster, Node, NODES, PAYLOAD, PERIOD, SLACK};
use crate::probe::{now, Probe};
use crate::scenario;
use crate::Scenario;

/// Scenarios that share one cluster (reset between them).
pub const SHARED: &[Scenario] = &[
    ("each_node_mirrors_exactly_its_own_links", own_links),
    (
        "link_changes_on_a_payload_reach_imm_within_a_period",
        link_changes,
    ),
    ("admin_operation_resync", admin_resync),
    (
        "sigkilled_macsync_is_restarted_by_amf_and_reconciles",
        restart_after_sigkill,
    ),
    ("amf_admin_operations_and_purge", admin_operations),
];

/// Scenarios that disturb the cluster: each gets a new one.
pub const FRESH: &[Scenario] = &[
    (
        "controller_failover_loses_no_payload_change",
        controller_failover,
    ),
    (
        "departed_payload_is_marked_and_returns_live",
        departure::departed_payload,
    ),
    ("partitioned_payload_converges_after_reconnect", partition),
];

/// Puts the shared cluster back in its initial state and proves it: only `lo` and `eth0` on
/// every node, every macsync SU unlocked and in service, every node mirrored in IMM.
pub fn reset(c: &Cluster) -> Result<(), String> {
    for n in NODES {
        c.sh(
            n,
            "for l in $(ip -o link show | awk -F': ' '{sub(\"@.*\", \"\", $2); print $2}'); do \
               case $l in lo|eth0) ;; *) ip link del \"$l\" 2>/dev/null ;; esac; done",
        )?;
        if c.attr("SC-1", &su(n), "saAmfSUAdminState").as_deref() != Some("1") {
            let _ = c.amf_adm("SC-1", "unlock-in", &su(n));
            c.amf_adm("SC-1", "unlock", &su(n))?;
        }
    }
    for n in NODES {
        c.wait_for(
            &format!("{n}'s SU in service"),
            Duration::from_secs(30),
            || c.attr("SC-1", &su(n), "saAmfSUReadinessState").as_deref() == Some("2"),
        )?;
        let links = c.kernel_links(n)?;
        if links.keys().map(String::as_str).collect::<Vec<_>>() != ["eth0"] {
            return Err(format!("{n} still has links besides eth0: {links:?}"));
        }
        c.wait_mirrored(n, other(n), Duration::from_secs(15))?;
    }
    Ok(())
}

pub fn ensure(cond: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(why())
    }
}

/// `immfind -c CLASS` on a node, as a set of DNs.
fn find_class(c: &Cluster, on: &str, class: &str) -> Result<BTreeSet<String>, String> {
    Ok(c.sh(on, &format!("immfind -c {class}"))?
        .lines()
        .map(str::to_string)
        .collect())
}

/// 1. Every node mirrors exactly its own links, readable on every node; the node objects are
///    named after the AMF nodes.
fn own_links(c: &Cluster) -> Result<(), String> {
    for n in NODES {
        // Links that exist only on this node (veth: the containers cannot load `dummy`).
        c.ip(
            n,
            &format!("link add only-{n} type veth peer name only-{n}p"),
        )?;
    }
    for n in NODES {
        for reader in NODES {
            c.wait_mirrored(n, reader, PERIOD + SLACK)?;
        }
    }
    let mut expected = BTreeSet::new();
    for n in NODES {
        for l in c.kernel_links(n)?.keys() {
            expected.insert(format!("macSyncInterfaceId={l},macSyncNodeId={n}"));
        }
    }
    for reader in NODES {
        let found = find_class(c, reader, "MacSyncInterface")?;
        ensure(found == expected, || {
            format!("immfind -c MacSyncInterface on {reader}: {found:?}, expected {expected:?}")
        })?;
    }
    let amf_nodes: BTreeSet<String> = find_class(c, "SC-1", "SaAmfNode")?
        .iter()
        .filter_map(|dn| dn.strip_prefix("safAmfNode=")?.split(',').next())
        .map(|n| format!("macSyncNodeId={n}"))
        .collect();
    let sync_nodes = find_class(c, "PL-3", "MacSyncNode")?;
    ensure(sync_nodes == amf_nodes, || {
        format!("MacSyncNode objects {sync_nodes:?}, AMF nodes {amf_nodes:?}")
    })?;
    // The containers' host names are not the node names: the names come from AMF.
    let mut hosts = Vec::new();
    for n in NODES {
        let host = c.sh(n, "hostname")?.trim().to_string();
        ensure(host != n, || format!("{n}'s host name is its node name"))?;
        c.sh(
            n,
            &format!(
                "grep -F \"node name '{n}' from saAmfSUHostedByNode of {}\" \
                 /opt/opensaf/var/log/opensaf/macsync-{n}.log",
                su(n)
            ),
        )
        .map_err(|e| format!("macsync on {n} did not take its name from AMF: {e}"))?;
        hosts.push(format!("{n} on host {host}"));
    }
    println!(
        "  every node mirrors its own {} links, read on each of the 3 nodes; names from AMF: {}",
        expected.len() / 3,
        hosts.join(", ")
    );
    Ok(())
}

/// 2. Add, MAC change, rename, up, down, delete on PL-3: each in IMM (read on SC-2) within one
///    healthcheck period plus the slack of a sync and a read (the shared scenario).
fn link_changes(c: &Cluster) -> Result<(), String> {
    let times = scenario::link_lifecycle(&Node::new(c, PAYLOAD, "SC-2"))?;
    let times: Vec<String> = times.iter().map(|(w, t)| format!("{w} {t:.2?}")).collect();
    println!("  change -> IMM read on SC-2: {}", times.join(", "));
    Ok(())
}

/// Admin operation 1 on PL-3's node object, from SC-1 (the shared scenario).
fn admin_resync(c: &Cluster) -> Result<(), String> {
    scenario::admin_resync(&Node::new(c, PAYLOAD, "SC-1"))
}

/// macsync on PL-3 SIGKILLed: AMF restarts it and it reconciles (the shared scenario).
fn restart_after_sigkill(c: &Cluster) -> Result<(), String> {
    let restarts = c.attr("SC-1", &comp(PAYLOAD), "saAmfCompRestartCount");
    let t0 = Instant::now();
    scenario::restart_after_sigkill_reconciles(&Node::new(c, PAYLOAD, "SC-2"))?;
    let after = c.attr("SC-1", &comp(PAYLOAD), "saAmfCompRestartCount");
    println!("  back and reconciled {:.1?} after the kill; saAmfCompRestartCount {restarts:?} -> {after:?}", t0.elapsed());
    Ok(())
}

/// 5. lock/unlock and lock-in/unlock-in of PL-3's SU, restart of its component, and `--purge`
///    of a locked-in node (the admin operation "resync" is its own scenario).
fn admin_operations(c: &Cluster) -> Result<(), String> {
    let pid0 = c
        .macsync_pid(PAYLOAD)
        .ok_or("macsync does not run on PL-3")?;

    // lock: the assignment goes, macsync stays and writes nothing.
    c.amf_adm("SC-1", "lock", &su(PAYLOAD))?;
    c.ip(PAYLOAD, "link add lk0 type veth peer name lk1")?;
    std::thread::sleep(PERIOD * 3 + SLACK);
    let imm = c.imm_links(PAYLOAD, "SC-2")?.unwrap_or_default();
    ensure(!imm.contains_key("lk0"), || {
        format!("PL-3's SU is locked (no assignment) but lk0 reached IMM: {imm:?}")
    })?;
    ensure(c.macsync_pid(PAYLOAD) == Some(pid0), || {
        "lock must not stop macsync".into()
    })?;
    c.amf_adm("SC-1", "unlock", &su(PAYLOAD))?;
    let t = c.wait_mirrored(PAYLOAD, "SC-2", Duration::from_secs(10))?;
    ensure(c.macsync_pid(PAYLOAD) == Some(pid0), || {
        "unlock must not restart macsync".into()
    })?;
    println!("  unlock: mirrored again {t:.2?} later, same process");

    // lock-in: macsync terminated, its objects stay; changes meanwhile are reconciled later.
    c.lock_in(PAYLOAD)?;
    let kept = c.imm_links(PAYLOAD, "SC-2")?.unwrap_or_default();
    ensure(kept.contains_key("lk0"), || {
        format!("PL-3's objects must survive lock-in: {kept:?}")
    })?;
    c.ip(
        PAYLOAD,
        "link del lk0 && ip link add li0 type veth peer name li1",
    )?;
    c.unlock_in(PAYLOAD)?;
    let t = c.wait_mirrored(PAYLOAD, "SC-2", Duration::from_secs(30))?;
    let pid1 = c
        .macsync_pid(PAYLOAD)
        .ok_or("macsync does not run after unlock-in")?;
    ensure(pid1 != pid0, || "unlock-in must start a new macsync".into())?;
    println!("  unlock-in: reconciled {t:.2?} later (lk0 deleted, li0 created)");

    // amf-adm restart of the component: a new process that reconciles a change made just before.
    let restarts0 = c.attr("SC-1", &comp(PAYLOAD), "saAmfCompRestartCount");
    c.ip(PAYLOAD, "link add rs0 type veth peer name rs1")?;
    c.amf_adm("SC-1", "restart", &comp(PAYLOAD))?;
    c.wait_for(
        "a new macsync after restart",
        Duration::from_secs(20),
        || c.macsync_pid(PAYLOAD).is_some_and(|p| p != pid1),
    )?;
    c.wait_mirrored(PAYLOAD, "SC-2", Duration::from_secs(20))?;
    let restarts1 = c.attr("SC-1", &comp(PAYLOAD), "saAmfCompRestartCount");
    println!(
        "  restart: new process, mirrored; saAmfCompRestartCount {restarts0:?} -> {restarts1:?}"
    );

    // --purge refuses while macsync runs, and deletes the node's objects once it is locked in.
    let purge = "/opt/macsync/bin/macsync --purge";
    ensure(c.sh(PAYLOAD, purge).is_err(), || {
        "--purge must refuse while macsync runs".into()
    })?;
    c.lock_in(PAYLOAD)?;
    // The implementer name may take a moment to be released after the process exits.
    c.wait_for("--purge succeeds", Duration::from_secs(15), || {
        c.sh(PAYLOAD, purge).is_ok()
    })?;
    for reader in ["SC-1", "SC-2"] {
        ensure(c.imm_links(PAYLOAD, reader)?.is_none(), || {
            format!("macSyncNodeId=PL-3 still exists (read on {reader}) after --purge")
        })?;
        let left: Vec<String> = find_class(c, reader, "MacSyncInterface")?
            .into_iter()
            .filter(|dn| dn.ends_with("macSyncNodeId=PL-3"))
            .collect();
        ensure(left.is_empty(), || format!("left after --purge: {left:?}"))?;
    }
    c.unlock_in(PAYLOAD)?;
    c.wait_mirrored(PAYLOAD, "SC-2", Duration::from_secs(30))?;
    println!("  --purge: PL-3's objects gone on SC-1 and SC-2; recreated after unlock");
    Ok(())
}

/// Waits until `node` is ENABLED in AMF (read on `reader`) and its macsync SU is in service.
fn wait_node_back(
    c: &Cluster,
    node: &str,
    reader: &str,
    timeout: Duration,
) -> Result<Duration, String> {
    let t0 = Instant::now();
    c.wait_for(
        &format!("{node} ENABLED (read on {reader})"),
        timeout,
        || c.node_enabled(node, reader),
    )?;
    c.wait_for(&format!("{node}'s macsync SU in service"), timeout, || {
        c.attr(reader, &su(node), "saAmfSUReadinessState")
            .as_deref()
            == Some("2")
    })?;
    Ok(t0.elapsed())
}

/// 3. Kill the active controller: the standby takes over; no change on PL-3 made before,
///    during or after the failover is lost; macsync on PL-3 is not restarted. The killed
///    controller is a departed node too: a survivor marks it DEPARTED (its interface objects
///    deleted) and the standby's objects do not move. It comes back and is LIVE again, its
///    macsync mirroring what it has now.
fn controller_failover(c: &Cluster) -> Result<(), String> {
    let active = c.active_controller("SC-1").ok_or("no ACTIVE controller")?;
    let standby = other(active);
    let pid = c
        .macsync_pid(PAYLOAD)
        .ok_or("macsync does not run on PL-3")?;
    let restarts = c.attr(standby, &comp(PAYLOAD), "saAmfCompRestartCount");
    c.ip(PAYLOAD, "link add fa0 type veth peer name fa1")?;
    c.wait_mirrored(PAYLOAD, standby, PERIOD + SLACK)?;
    // A link that vanishes with the controller: it goes from IMM with the controller's other
    // objects when a survivor marks it DEPARTED, and is not recreated when it returns.
    c.ip(active, "link add gone0 type veth peer name gone1")?;
    c.wait_mirrored(active, standby, PERIOD + SLACK)?;
    let standby_was = seen(c, standby, PAYLOAD, &departure::NO_CHURN)?;
    let probes = [standby, PAYLOAD]
        .into_iter()
        .map(|on| Probe::start(c, on, active, 240))
        .collect::<Result<Vec<_>, _>>()?;

    let t_kill = now();
    c.kill_node(active)?;
    // Changes on PL-3 while the standby takes over: a new MAC on fa0 each round until the
    // standby is ACTIVE (the first one before the takeover can have been seen).
    let mut during = 0;
    let takeover = c.wait_for(
        &format!("{standby} ACTIVE"),
        Duration::from_secs(60),
        || {
            during += 1;
            let _ = c.ip(
                PAYLOAD,
                &format!("link set fa0 address 02:00:00:c6:13:{during:02x}"),
            );
            c.active_controller(standby) == Some(standby)
        },
    )?;
    let mac = c.kernel_links(PAYLOAD)?.get("fa0").map(|v| v.0.clone());
    ensure(mac == Some(format!("02:00:00:c6:13:{during:02x}")), || {
        format!("the last MAC change during the failover did not take: fa0 has {mac:?}")
    })?;
    c.ip(PAYLOAD, "link set fa1 name fb1")?;
    let converged = c.wait_mirrored(PAYLOAD, standby, Duration::from_secs(30))?;
    ensure(c.macsync_pid(PAYLOAD) == Some(pid), || {
        "macsync on PL-3 was restarted by the failover".into()
    })?;
    let restarts_after = c.attr(standby, &comp(PAYLOAD), "saAmfCompRestartCount");
    ensure(restarts_after == restarts, || {
        format!("saAmfCompRestartCount of PL-3's macsync {restarts:?} -> {restarts_after:?}")
    })?;
    println!(
        "  {active} killed; {standby} ACTIVE after {takeover:.1?} ({during} MAC changes on PL-3 meanwhile); \
         PL-3 mirrored {converged:.1?} later, same macsync, restart count {restarts_after:?}"
    );
    // CLM itself fails over: the departure is reported once the standby's CLM is active.
    let bound = takeover + KILL_NOTICED + GRACE + ACT;
    let deps = departure(c, &probes, t_kill, bound, &[standby, PAYLOAD])?;
    let standby_now = seen(c, standby, PAYLOAD, &departure::NO_CHURN)?;
    ensure(standby_now == standby_was, || {
        format!("{standby}'s objects moved in the failover:\n before {standby_was:?}\n after  {standby_now:?}")
    })?;
    for d in &deps {
        println!("  {active} killed; {d}");
    }

    let t_start = now();
    c.start_node(active)?;
    let back = wait_node_back(c, active, standby, Duration::from_secs(120))?;
    let live = returned(c, &probes, t_start, Duration::from_secs(150))?;
    let rec = c.wait_mirrored(active, standby, Duration::from_secs(30))?;
    c.wait_mirrored(active, active, Duration::from_secs(10))?;
    c.wait_mirrored(PAYLOAD, active, Duration::from_secs(10))?;
    let imm = c.imm_links(active, standby)?.unwrap_or_default();
    ensure(!imm.contains_key("gone0"), || {
        format!("{active}'s gone0 is in IMM again: {imm:?}")
    })?;
    println!(
        "  {active} back in {back:.1?}; LIVE again {} s after docker start (read on {standby}, PL-3), \
         mirrored {rec:.1?} after it was back (gone0 not recreated)",
        fmt_times(&live)
    );
    Ok(())
}

/// 6. PL-3 cut off the network and reconnected: the survivors mark it DEPARTED within the
///    bound of a silent loss; whatever OpenSAF does to it, IMM converges and it is LIVE again.
fn partition(c: &Cluster) -> Result<(), String> {
    c.ip(PAYLOAD, "link add pp0 type veth peer name pp1")?;
    c.wait_mirrored(PAYLOAD, "SC-1", PERIOD + SLACK)?;
    let restarts = c.restart_count(PAYLOAD);
    let survivors = ["SC-1", "SC-2"];
    let probes = survivors
        .into_iter()
        .map(|on| Probe::start(c, on, PAYLOAD, 300))
        .collect::<Result<Vec<_>, _>>()?;
    let t_cut = now();
    c.set_connected(PAYLOAD, false)?;
    let lost = c.wait_for("PL-3 DISABLED", Duration::from_secs(30), || {
        !c.node_enabled(PAYLOAD, "SC-1")
    })?;
    let bound = GRACE + ACT + departure::SILENT_NOTICED;
    let deps = departure(c, &probes, t_cut, bound, &survivors)?;
    // OpenSAF fences the isolated node (opensaf_reboot), which here ends the container.
    let fenced = c
        .wait_for("PL-3 rebooted", Duration::from_secs(60), || {
            c.restart_count(PAYLOAD) > restarts
        })
        .map(|t| format!("rebooted {:.1?} later", t))
        .unwrap_or_else(|_| "not rebooted within 60 s".into());
    let t0 = Instant::now();
    let t_reconnect = now();
    c.set_connected(PAYLOAD, true)?;
    let back = wait_node_back(c, PAYLOAD, "SC-1", Duration::from_secs(180))?;
    let live = returned(c, &probes, t_reconnect, Duration::from_secs(180))?;
    c.wait_mirrored(PAYLOAD, "SC-1", Duration::from_secs(30))?;
    c.wait_mirrored(PAYLOAD, "SC-2", Duration::from_secs(10))?;
    c.wait_mirrored(PAYLOAD, PAYLOAD, Duration::from_secs(10))?;
    for d in &deps {
        println!("  PL-3 cut off; {d}");
    }
    println!(
        "  PL-3 DISABLED {lost:.1?} after the cut, {fenced}; after reconnecting: back in {back:.1?}, \
         LIVE again {} s, mirrored {:.1?} after the reconnect",
        fmt_times(&live),
        t0.elapsed()
    );
    Ok(())
}
