//! End-to-end: the real `macsync` binary, the simulator as OpenSAF (loaded through
//! OPENSAF_LIB_DIR exactly as a real install), each test in its own network namespace.

mod common;
mod scenario;
#[path = "scenario/sim.rs"]
mod sim_backend;
mod simenv;

use std::time::{Duration, Instant};

use common::{add_veth_pairs, enter_netns, ip};
use simenv::{tail, Running, SimEnv, NODE_DN};

const PERIOD: Duration = Duration::from_millis(300);
const MAX_DURATION: Duration = Duration::from_millis(1000);
/// A change must be in IMM within one healthcheck period; this covers the sync itself.
const SLACK: Duration = Duration::from_millis(1000);

fn started(name: &str) -> (SimEnv, Running) {
    enter_netns();
    add_veth_pairs("v", 3);
    let env = SimEnv::new(name, PERIOD, MAX_DURATION);
    let mc = env.start(&[]);
    env.wait_mirrored(Duration::from_secs(10), "start");
    (env, mc)
}

/// Runs `change`, then requires IMM to match the kernel within one period (+ slack).
fn change_reaches_imm<T>(env: &SimEnv, what: &str, change: impl FnOnce() -> T) -> Duration {
    let t0 = Instant::now();
    change();
    env.wait_mirrored(PERIOD + SLACK, what);
    t0.elapsed()
}

#[test]
fn start_mirrors_links_and_every_kind_of_change_reaches_imm_within_a_period() {
    let (env, _mc) = started("changes");
    assert!(env.object_exists(NODE_DN));
    assert!(env.imm_interfaces().contains_key("va0"));
    assert!(
        !env.imm_interfaces().contains_key("lo"),
        "loopback is not Ethernet"
    );

    let add = change_reaches_imm(&env, "add", || {
        ip(&[
            "link", "add", "new0", "type", "veth", "peer", "name", "new1",
        ])
    });
    let mac = change_reaches_imm(&env, "MAC change", || {
        ip(&["link", "set", "va0", "address", "02:aa:bb:cc:dd:ee"])
    });
    assert_eq!(env.imm_interfaces()["va0"].0, "02:aa:bb:cc:dd:ee");
    let rename = change_reaches_imm(&env, "rename", || {
        ip(&["link", "set", "va1", "name", "lan1"])
    });
    assert!(env.imm_interfaces().contains_key("lan1") && !env.imm_interfaces().contains_key("va1"));
    let del = change_reaches_imm(&env, "delete", || ip(&["link", "del", "va2"]));
    // Names with characters that need DN escaping.
    let esc = change_reaches_imm(&env, "escaped name", || {
        ip(&[
            "link", "add", "a,b=c", "type", "veth", "peer", "name", "d\\e",
        ])
    });
    let dns: Vec<String> = env.imm_interfaces().keys().cloned().collect();
    assert!(
        dns.contains(&"a,b=c".to_string()) && dns.contains(&"d\\e".to_string()),
        "{dns:?}"
    );
    assert!(env.object_exists("macSyncInterfaceId=a\\,b\\=c,macSyncNodeId=SC-1"));
    eprintln!("change -> IMM: add {add:?}, MAC {mac:?}, rename {rename:?}, delete {del:?}, escaped {esc:?}");
}

#[test]
fn ten_idle_healthchecks_write_nothing_to_imm() {
    let (env, _mc) = started("idle");
    // Let the start-up sync settle, then count.
    std::thread::sleep(PERIOD * 2);
    let journal = env.journal_bytes();
    let counters = env.counters();
    let answered = env.events_named("hc-answered").len();
    let deadline = Instant::now() + PERIOD * 20;
    while env.events_named("hc-answered").len() < answered + 10 {
        assert!(
            Instant::now() < deadline,
            "fewer than 10 healthchecks answered\n{}",
            tail(&env.log(), 20)
        );
        std::thread::sleep(PERIOD / 4);
    }
    assert_eq!(env.journal_bytes(), journal, "IMM was written while idle");
    assert_eq!(env.counters(), counters);
}

#[test]
fn a_burst_of_10000_links_converges() {
    let (env, _mc) = started("burst");
    add_veth_pairs("b", 5000);
    env.wait_mirrored(Duration::from_secs(90), "10 000-link burst");
    assert!(env.imm_interfaces().len() >= 10_000);
}

/// Every healthcheck answered in time while IMM misbehaves, and IMM converges after.
fn assert_healthchecks_in_time(env: &SimEnv) {
    let answered = env.events_named("hc-answered");
    assert!(!answered.is_empty());
    for e in &answered {
        let us = e.num("latency_us").expect("latency_us");
        assert!(
            us < MAX_DURATION.as_micros() as i128,
            "healthcheck answered after {us} us: {e:?}"
        );
    }
    for bad in ["hc-timeout", "hc-failed"] {
        assert!(
            env.events_named(bad).is_empty(),
            "{bad}: {:?}",
            env.events_named(bad)
        );
    }
}

#[test]
fn imm_try_again_and_slow_calls_never_hold_up_healthchecks() {
    let (env, _mc) = started("tryagain");
    env.sim_ok(&["fault", "try-again", "--ms", "3000"]);
    ip(&["link", "add", "t0", "type", "veth", "peer", "name", "t1"]);
    std::thread::sleep(Duration::from_millis(3200));
    env.sim_ok(&["fault", "delay", "--ms", "2000", "--for-ms", "5000"]);
    ip(&["link", "set", "t0", "address", "02:00:00:00:00:77"]);
    env.wait_mirrored(Duration::from_secs(30), "after TRY_AGAIN and delays");
    assert_healthchecks_in_time(&env);
}

#[test]
fn bad_handle_is_survived() {
    let (env, _mc) = started("badhandle");
    env.sim_ok(&["fault", "bad-handle"]);
    // The implementer name is set again without waiting for a kernel change: an admin
    // operation reaches macsync again.
    let deadline = Instant::now() + Duration::from_secs(10);
    while env.sim(&["immadm", "-o", "1", "-t", "1", NODE_DN]) != 0 {
        assert!(
            Instant::now() < deadline,
            "implementer not back after BAD_HANDLE\n{}",
            tail(&env.log(), 20)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    ip(&["link", "add", "h0", "type", "veth", "peer", "name", "h1"]);
    env.wait_mirrored(Duration::from_secs(15), "after BAD_HANDLE");
    assert_healthchecks_in_time(&env);
}

#[test]
fn restart_after_sigkill_removes_only_the_stale_objects() {
    let (env, mut mc) = started("restart");
    std::thread::sleep(PERIOD * 2);
    let before = env.counters();
    mc.0.kill().unwrap();
    mc.0.wait().unwrap();
    ip(&["link", "del", "va0"]); // takes its peer vb0 with it
    let _mc2 = env.start(&[]);
    env.wait_mirrored(Duration::from_secs(10), "restart");
    std::thread::sleep(PERIOD);
    let after = env.counters();
    assert_eq!(
        after["objectsDeleted"],
        before["objectsDeleted"] + 2,
        "{before:?} -> {after:?}"
    );
    assert_eq!(
        after["objectsCreated"], before["objectsCreated"],
        "{before:?} -> {after:?}"
    );
    assert_eq!(
        after["objectsUpdated"], before["objectsUpdated"],
        "{before:?} -> {after:?}"
    );
}

#[test]
fn terminate_exits_zero_within_a_second() {
    let (env, mut mc) = started("terminate");
    let t0 = Instant::now();
    env.sim_ok(&["amf", "terminate"]);
    let code = mc.wait_exit(Duration::from_secs(1));
    assert_eq!(
        code,
        Some(0),
        "after {:?}\n{}",
        t0.elapsed(),
        tail(&env.log(), 20)
    );
}

#[test]
fn a_dead_monitor_thread_fails_the_next_healthcheck() {
    let (env, mc) = started("deadmonitor");
    // SAFETY-free: kill(2) through the `kill` command, the test hook's trigger.
    let status = std::process::Command::new("kill")
        .args(["-USR2", &mc.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + PERIOD * 4;
    while env.events_named("hc-failed").is_empty() {
        assert!(
            Instant::now() < deadline,
            "no failed healthcheck\n{}",
            tail(&env.log(), 20)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(env.log().contains("netlink monitor thread is dead"));
}

#[test]
fn admin_operation_1_resyncs_now() {
    let (env, _mc) = started("adminop");
    let before = env.counters()["syncs"];
    assert_eq!(env.sim(&["immadm", "-o", "1", NODE_DN]), 0);
    // immadm returns once the operation's result is in: the resync is done by then.
    assert_eq!(env.counters()["syncs"], before + 1);
    assert_ne!(
        env.sim(&["immadm", "-o", "99", NODE_DN]),
        0,
        "unknown operations are refused"
    );
}

#[test]
fn missing_classes_are_one_clear_line_and_a_non_zero_exit() {
    enter_netns();
    let env = SimEnv::bare("noclasses", PERIOD, MAX_DURATION);
    let mut mc = env.start(&[]);
    let code = mc.wait_exit(Duration::from_secs(10));
    assert_eq!(code, Some(1), "{}", tail(&env.log(), 20));
    assert!(
        env.log().contains("IMM does not know class MacSyncNode"),
        "{}",
        tail(&env.log(), 20)
    );
}

#[test]
fn sim_mode_shows_a_change_made_with_ip_and_stops_on_ctrl_c() {
    use std::io::{BufRead, BufReader};
    use std::sync::mpsc;
    enter_netns();
    let dir = std::env::temp_dir().join(format!("macsync-e2e-simmode-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut child = Running(
        std::process::Command::new(env!("CARGO_BIN_EXE_macsync"))
            .args(["--sim", dir.to_str().unwrap(), "--node", "demo"])
            .env_remove("RUST_LOG")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let (tx, rx) = mpsc::channel();
    let out = child.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let wait_for = |needle: &str, seen: &mut Vec<String>| {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(l) = rx.recv_timeout(Duration::from_millis(50)) {
                let hit = l.contains(needle);
                seen.push(l);
                if hit {
                    return;
                }
            }
        }
        panic!(
            "--sim never printed {needle:?}; output:\n{}",
            seen.join("\n")
        );
    };
    wait_for("IMM now holds", &mut seen);
    ip(&[
        "link", "add", "demo0", "type", "veth", "peer", "name", "demo1",
    ]);
    wait_for("+ macSyncInterfaceId=demo0,macSyncNodeId=demo", &mut seen);
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(child.wait_exit(Duration::from_secs(2)), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn purge_deletes_this_nodes_objects_once_macsync_is_stopped() {
    let (env, mut mc) = started("purge");
    let purge = |env: &SimEnv| {
        std::process::Command::new(env!("CARGO_BIN_EXE_macsync"))
            .arg("--purge")
            .env("OPENSAF_LIB_DIR", &env.lib)
            .env("OPENSAF_SIM_DIR", &env.dir)
            .env("MACSYNC_NODE", simenv::NODE)
            .output()
            .unwrap()
    };
    let running = purge(&env);
    assert_eq!(
        running.status.code(),
        Some(1),
        "purge while macsync runs must refuse"
    );
    assert!(String::from_utf8_lossy(&running.stderr).contains("still runs"));
    env.sim_ok(&["amf", "terminate"]);
    assert_eq!(mc.wait_exit(Duration::from_secs(2)), Some(0));
    let out = purge(&env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!env.object_exists(NODE_DN));
    assert_eq!(
        env.count_class("MacSyncInterface"),
        0,
        "interface objects left anywhere"
    );
}

/// Interface-object writes so far (the node object's counters).
fn if_writes(env: &SimEnv) -> u64 {
    let c = env.counters();
    c["objectsCreated"] + c["objectsUpdated"] + c["objectsDeleted"]
}

fn cb_responses(env: &SimEnv, callback: &str) -> Vec<opensaf_sim::events::Event> {
    env.events_named("cb-response")
        .into_iter()
        .filter(|e| e.str("callback") == Some(callback))
        .collect()
}

fn wait_for(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "{what}: not within {timeout:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn quiesced_is_answered_in_time_while_imm_retries_and_nothing_is_written_after() {
    let (env, _mc) = started("quiesced");
    // A sync stuck in IMM retries (TRY_AGAIN for 20 s, each call delayed 1 s).
    env.sim_ok(&["fault", "try-again", "--ms", "20000"]);
    env.sim_ok(&["fault", "delay", "--ms", "1000", "--for-ms", "20000"]);
    ip(&["link", "add", "q0", "type", "veth", "peer", "name", "q1"]);
    std::thread::sleep(PERIOD * 3);
    let t0 = Instant::now();
    env.sim_ok(&["amf", "csi-quiesced"]);
    wait_for("QUIESCED answered", Duration::from_secs(5), || {
        !cb_responses(&env, "csi-set-quiesced").is_empty()
    });
    let took = t0.elapsed();
    let r = &cb_responses(&env, "csi-set-quiesced")[0];
    assert_eq!(r.str("error"), Some("SA_AIS_OK"), "{r:?}");
    assert!(
        env.events_named("cb-timeout").is_empty(),
        "{:?}",
        env.events_named("cb-timeout")
    );
    // One delayed IMM call (1 s) may still be running, then comes the one STOPPED write
    // (1 s, no retries); the retries behind them are abandoned. The AMF thread's own
    // fallback would only answer after 3 s.
    assert!(
        took < Duration::from_millis(2900),
        "answered after {took:?}"
    );
    assert!(
        !env.log().contains("answered AMF before it returned"),
        "fallback used"
    );
    // STOPPED could not be written (TRY_AGAIN): the implementer name is let go instead.
    assert!(env.log().contains("mirrorState STOPPED not written"));
    assert!(!env.implementer_held("macsync-SC-1"));
    // Quiesced: IMM is no longer written, even once IMM works again.
    env.sim_ok(&["fault", "clear"]);
    let before = (env.journal_bytes(), if_writes(&env));
    ip(&["link", "set", "va0", "address", "02:00:00:00:0a:0a"]);
    std::thread::sleep(PERIOD * 4);
    assert_eq!(
        (env.journal_bytes(), if_writes(&env)),
        before,
        "IMM written while quiesced"
    );
    // Active again: the pending changes arrive.
    env.sim_ok(&["amf", "csi-active"]);
    env.wait_mirrored(Duration::from_secs(10), "after re-activation");
    assert_healthchecks_in_time(&env);
}

#[test]
fn quiescing_answers_then_completes_and_remove_and_standby_stop_writes() {
    let (env, _mc) = started("quiescing");
    env.sim_ok(&["amf", "csi-quiescing"]);
    wait_for("QUIESCING completed", Duration::from_secs(3), || {
        !env.events_named("quiescing-complete").is_empty()
    });
    let answered = cb_responses(&env, "csi-set-quiescing");
    assert_eq!(answered.len(), 1);
    assert_eq!(answered[0].str("error"), Some("SA_AIS_OK"));
    let done = &env.events_named("quiescing-complete")[0];
    assert!(
        done.num("t_us") >= answered[0].num("t_us"),
        "complete before the answer"
    );

    for (cmd, callback) in [
        ("csi-remove", "csi-remove"),
        ("csi-standby", "csi-set-standby"),
    ] {
        env.sim_ok(&["amf", "csi-active"]);
        env.wait_mirrored(Duration::from_secs(5), "active");
        env.sim_ok(&["amf", cmd]);
        wait_for(callback, Duration::from_secs(3), || {
            !cb_responses(&env, callback).is_empty()
        });
        let responses = cb_responses(&env, callback);
        assert_eq!(responses.len(), 1, "{callback}: {responses:?}");
        assert_eq!(responses[0].str("error"), Some("SA_AIS_OK"), "{callback}");
        let before = (env.journal_bytes(), if_writes(&env));
        ip(&[
            "link",
            "add",
            &format!("{cmd}0"),
            "type",
            "veth",
            "peer",
            "name",
            &format!("{cmd}1"),
        ]);
        std::thread::sleep(PERIOD * 4);
        assert_eq!(
            (env.journal_bytes(), if_writes(&env)),
            before,
            "IMM written after {cmd}"
        );
    }
    env.sim_ok(&["amf", "csi-active"]);
    env.wait_mirrored(Duration::from_secs(5), "active at last");
    assert!(env.events_named("cb-timeout").is_empty());
}

#[test]
fn imm_timeouts_with_unknown_outcome_converge_without_duplicates() {
    let (env, _mc) = started("timeout");
    // The next IMM call takes effect and still answers SA_AIS_ERR_TIMEOUT: macsync cannot
    // know, re-reads IMM and carries on. Once for each kind of write.
    let kinds: [(&str, &[&str], &str); 3] = [
        (
            "create",
            &["link", "add", "to0", "type", "veth", "peer", "name", "to1"],
            "saImmOiRtObjectCreate_2",
        ),
        (
            "update",
            &["link", "set", "va1", "address", "02:00:00:00:0b:0b"],
            "saImmOiRtObjectUpdate_2",
        ),
        ("delete", &["link", "del", "va2"], "saImmOiRtObjectDelete"),
    ];
    for (what, change, call) in kinds {
        let before = env.events_named("imm-fault").len();
        env.sim_ok(&["fault", "timeout", "--count", "1"]);
        ip(change);
        env.wait_mirrored(Duration::from_secs(15), what);
        let faults = env.events_named("imm-fault");
        let hit: Vec<_> = faults[before..]
            .iter()
            .map(|e| e.str("call").unwrap_or("").to_string())
            .collect();
        assert_eq!(
            hit,
            vec![call.to_string()],
            "{what}: the TIMEOUT hit {hit:?}"
        );
        assert_eq!(
            faults[before].str("real_outcome"),
            Some("SA_AIS_OK"),
            "{what}: it took effect"
        );
    }
    assert_healthchecks_in_time(&env);
}

#[test]
fn link_up_and_down_refresh_oper_state_within_a_period() {
    let (env, _mc) = started("operstate");
    // IF_OPER_DOWN (2) while both ends are down; IF_OPER_UP (6) once both are up.
    assert_eq!(env.imm_oper("va0"), Some(2));
    let t0 = Instant::now();
    ip(&["link", "set", "va0", "up"]);
    ip(&["link", "set", "vb0", "up"]);
    wait_for("operState UP in IMM", PERIOD + SLACK, || {
        env.imm_oper("va0") == Some(6)
    });
    ip(&["link", "set", "vb0", "down"]);
    // The peer went down: va0 is now IF_OPER_LOWERLAYERDOWN (3).
    wait_for("operState LOWERLAYERDOWN in IMM", PERIOD + SLACK, || {
        env.imm_oper("va0") == Some(3)
    });
    eprintln!("up/down -> IMM operState in {:?}", t0.elapsed());
}

#[test]
fn an_object_imm_refuses_is_logged_once_while_the_other_links_are_mirrored() {
    let (env, _mc) = started("refused");
    let bad = format!("macSyncInterfaceId=bad0,{NODE_DN}");
    env.sim_ok(&[
        "fault", "refuse", "--op", "create", "--dn", &bad, "--code", "7",
    ]);
    let all_but_bad = || {
        let mut kernel = simenv::kernel_ether_links();
        kernel.remove("bad0");
        env.imm_interfaces() == kernel
    };
    ip(&[
        "link", "add", "bad0", "type", "veth", "peer", "name", "good0",
    ]);
    ip(&["link", "set", "va0", "address", "02:00:00:00:0b:ad"]);
    wait_for("the other links mirrored", PERIOD + SLACK, || {
        all_but_bad() && env.imm_interfaces().contains_key("good0")
    });
    assert_eq!(env.imm_interfaces()["va0"].0, "02:00:00:00:0b:ad");
    // Healthchecks go on: the link is not tried again, nor logged again, until it changes.
    std::thread::sleep(PERIOD * 6);
    assert!(all_but_bad());
    let log = env.log();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("bad0")).collect();
    assert_eq!(lines.len(), 1, "{}", tail(&log, 20));
    for part in [
        "WARN",
        "link not mirrored",
        "'bad0'",
        &bad,
        "SA_AIS_ERR_INVALID_PARAM",
    ] {
        assert!(lines[0].contains(part), "{part} not in {}", lines[0]);
    }
    assert!(!log.contains("sync failed"), "{}", tail(&log, 20));
    eprintln!("{}", lines[0]);
    let asked = env
        .events_named("imm-fault")
        .iter()
        .filter(|e| e.str("dn") == Some(bad.as_str()))
        .count();
    assert_eq!(asked, 1, "IMM was asked once");
    // Renamed into a name IMM takes: mirrored within a period.
    change_reaches_imm(&env, "renamed", || {
        ip(&["link", "set", "bad0", "name", "fine0"])
    });
}

/// Every link of the namespace as IMM should mirror it with `--all-types`.
fn kernel_all_links() -> simenv::Table {
    common::ip_links()
        .into_iter()
        .map(|l| (l.name, (l.address.unwrap_or_default(), l.index)))
        .collect()
}

#[test]
fn links_without_a_mac_are_mirrored_with_an_empty_mac_address_as_real_imm_requires() {
    enter_netns();
    add_veth_pairs("v", 1);
    // A tun link has no hardware address at all (ip -j shows no "address").
    ip(&["tuntap", "add", "mode", "tun", "name", "tun0"]);
    assert_eq!(kernel_all_links()["tun0"].0, "");
    // The simulator as configured by default refuses a create without macAddress, as real
    // OpenSAF does (imm_strict_create=1).
    let env = SimEnv::new("no-mac", PERIOD, MAX_DURATION);
    let _mc = env.start(&["--all-types"]);
    let mirrored = |what: &str, timeout: Duration| {
        let deadline = Instant::now() + timeout;
        while env.imm_interfaces() != kernel_all_links() {
            assert!(
                Instant::now() < deadline,
                "{what}: IMM {:?} is not the kernel's {:?} after {timeout:?}\n{}",
                env.imm_interfaces(),
                kernel_all_links(),
                tail(&env.log(), 20)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    mirrored("start", Duration::from_secs(10));
    // The attribute is there, holding one empty string (not left out, not zero values).
    assert_eq!(env.imm_mac("tun0").as_deref(), Some(""));
    assert_eq!(env.imm_mac("lo").as_deref(), Some("00:00:00:00:00:00"));
    // One made while macsync runs (an incremental sync), and one deleted.
    ip(&["tuntap", "add", "mode", "tun", "name", "tun1"]);
    mirrored("tun1 added", PERIOD + SLACK);
    assert_eq!(env.imm_mac("tun1").as_deref(), Some(""));
    ip(&["link", "del", "tun0"]);
    mirrored("tun0 deleted", PERIOD + SLACK);
    assert!(
        !env.log().contains("sync failed"),
        "{}",
        tail(&env.log(), 20)
    );
}

#[test]
fn an_imm_call_hanging_past_the_answer_deadline_does_not_delay_the_csi_answer() {
    let (env, _mc) = started("fallback");
    // Every IMM call now takes 6 s, longer than the 3 s macsync gives the worker.
    env.sim_ok(&["fault", "delay", "--ms", "6000", "--for-ms", "20000"]);
    ip(&["link", "add", "f0", "type", "veth", "peer", "name", "f1"]);
    std::thread::sleep(PERIOD * 3); // a sync is now inside a 6 s create
    let t0 = Instant::now();
    env.sim_ok(&["amf", "csi-quiesced"]);
    wait_for("QUIESCED answered", Duration::from_secs(5), || {
        !cb_responses(&env, "csi-set-quiesced").is_empty()
    });
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(2500) && took < Duration::from_millis(4500),
        "{took:?}"
    );
    assert!(
        env.log().contains("answered AMF before it returned"),
        "the AMF thread answered"
    );
    // The worker, once its call returns, must not answer a second time.
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(cb_responses(&env, "csi-set-quiesced").len(), 1);
    assert!(env.events_named("cb-late-response").is_empty());
    assert!(env.events_named("cb-timeout").is_empty());
    // Too late to write STOPPED before the answer: the implementer name is let go instead,
    // so IMM shows the objects detached rather than LIVE.
    assert!(
        !env.implementer_held("macsync-SC-1"),
        "{}",
        tail(&env.log(), 20)
    );
    assert!(env.log().contains("mirrorState STOPPED not written"));
    env.sim_ok(&["fault", "clear"]);
    env.sim_ok(&["amf", "csi-active"]);
    env.wait_mirrored(Duration::from_secs(15), "after re-activation");
    let deadline = Instant::now() + Duration::from_secs(5);
    while env.node_state(NODE_DN) != Some((1, "SC-1".into(), "macsync-SC-1".into()))
        || !env.implementer_held("macsync-SC-1")
    {
        assert!(Instant::now() < deadline, "not LIVE again");
        std::thread::sleep(Duration::from_millis(20));
    }
}

// The scenarios shared with the real-cluster tests (tests/cluster.rs), on the simulator.

fn sim_node(name: &str) -> sim_backend::SimNode {
    let (env, mc) = started(name);
    sim_backend::SimNode::new(env, mc, SLACK)
}

#[test]
fn shared_scenario_link_lifecycle() {
    let times =
        scenario::link_lifecycle(&sim_node("sc-lifecycle")).unwrap_or_else(|e| panic!("{e}"));
    eprintln!("change -> IMM: {times:?}");
}

#[test]
fn shared_scenario_restart_after_sigkill_reconciles() {
    scenario::restart_after_sigkill_reconciles(&sim_node("sc-restart"))
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn shared_scenario_admin_resync() {
    scenario::admin_resync(&sim_node("sc-adminop")).unwrap_or_else(|e| panic!("{e}"));
}
