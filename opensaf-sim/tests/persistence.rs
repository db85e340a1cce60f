//! The store across processes: objects survive a SIGKILLed implementer and a new process
//! takes the implementer name over; a torn journal tail is ignored; compaction keeps the
//! state; concurrent writers in different processes are serialized.

// `call!` (tests/common) expands the test's argument expressions in its unsafe block.
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

use common::*;

const NODE: &str = "macSyncNodeId=SC-1";
const HELPER_VAR: &str = "OPENSAF_SIM_HELPER";

/// Not a test of its own: the body of helper processes (does nothing unless asked).
#[test]
fn helper_process() {
    let Ok(role) = std::env::var(HELPER_VAR) else {
        return;
    };
    let apis = opensaf_sys::Apis::load().unwrap();
    let env = Env {
        dir: std::env::var("OPENSAF_SIM_DIR").unwrap().into(),
        apis,
    };
    let implementer = std::env::var("HELPER_IMPLEMENTER").unwrap_or_else(|_| "macsync-SC-1".into());
    let prefix = std::env::var("HELPER_PREFIX").unwrap_or_else(|_| "eth".into());
    let count: usize = std::env::var("HELPER_COUNT")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(20);
    let oi = oi_init(&env, None);
    assert_eq!(impl_set(&env, oi, &implementer), OK);
    let node = node_attrs(&env, NODE, 0, 0);
    let r = rt_create(&env, oi, "MacSyncNode", None, &node);
    assert!(r == OK || r == err(14), "{r:?}");
    let mut exists = 0;
    for i in 0..count {
        let r = create_if(
            &env,
            oi,
            NODE,
            &format!("macSyncInterfaceId={prefix}{i}"),
            "02:00:00:00:00:01",
        );
        if r == err(14) {
            exists += 1;
        } else {
            assert_eq!(r, OK);
        }
    }
    println!("READY exists={exists}");
    std::io::stdout().flush().unwrap();
    if role == "writer-hang" {
        // Waits to be killed (bounded, in case the test that spawned it failed).
        std::thread::sleep(std::time::Duration::from_secs(60));
    }
}

fn spawn_helper(role: &str, extra: &[(&str, &str)]) -> (Child, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "helper_process",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(HELPER_VAR, role)
    .stdout(Stdio::piped())
    .stderr(Stdio::inherit());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "helper ended before READY"
        );
        // libtest prints "test helper_process ... " on the same line.
        if line.contains("READY") {
            break;
        }
    }
    (child, line.trim().to_string())
}

fn count_interfaces(env: &Env) -> usize {
    let om = om_init(env);
    let n = search(
        env,
        om,
        Some(NODE),
        2,
        0x200,
        Some("MacSyncInterface"),
        None,
    )
    .unwrap()
    .len();
    call!(env.om().saImmOmFinalize, om);
    n
}

#[test]
fn killed_implementer_objects_survive() {
    isolated("killed_implementer_objects_survive", &[], |env| {
        env.load_xml("../samples/macsync-classes.xml");
        let (mut child, _) = spawn_helper("writer-hang", &[]);
        // The helper is alive: its implementer name is taken.
        let oi = oi_init(env, None);
        assert_eq!(impl_set(env, oi, "macsync-SC-1"), err(14));
        assert_eq!(count_interfaces(env), 20);
        // SIGKILL: nothing is cleaned up, as when AMF's cleanup script kills the component.
        // SAFETY: kill(2) on our own child's pid.
        assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGKILL) }, 0);
        child.wait().unwrap();
        assert_eq!(
            count_interfaces(env),
            20,
            "runtime objects survive their implementer"
        );
        let out = env.cli_ok(&[
            "immlist",
            "-a",
            "SaImmAttrImplementerName",
            &format!("macSyncInterfaceId=eth3,{NODE}"),
        ]);
        assert_eq!(out.trim(), "SaImmAttrImplementerName=macsync-SC-1");
        // A new process takes the name over and owns the objects again.
        assert_eq!(impl_set(env, oi, "macsync-SC-1"), OK);
        assert_eq!(
            rt_update(
                env,
                oi,
                &format!("macSyncInterfaceId=eth3,{NODE}"),
                &[(
                    3,
                    attr(env, "macAddress", T_STRING, &[V::Str("02:00:00:00:00:99")])
                )]
            ),
            OK
        );
        assert_eq!(
            rt_delete(env, oi, &format!("macSyncInterfaceId=eth4,{NODE}")),
            OK
        );
        assert_eq!(count_interfaces(env), 19);
        // And a second process sees the same thing through the CLI.
        let found = env.cli_ok(&["immfind", NODE, "-c", "MacSyncInterface"]);
        assert_eq!(found.lines().count(), 19);
    });
}

#[test]
fn torn_journal_tail_is_ignored() {
    isolated("torn_journal_tail_is_ignored", &[], |env| {
        env.load_xml("../samples/macsync-classes.xml");
        let (mut child, _) = spawn_helper("writer", &[]);
        child.wait().unwrap();
        // A crash in the middle of an append: a record header promising more than is there,
        // then a complete-looking record with a bad checksum.
        let journal = env.dir.join("imm.journal");
        let before = std::fs::metadata(&journal).unwrap().len();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&journal)
            .unwrap();
        f.write_all(&[200, 0, 0, 0, 1, 2, 3, 4, 9, 9, 9]).unwrap();
        drop(f);
        assert_eq!(
            count_interfaces(env),
            20,
            "valid records replayed, torn tail ignored"
        );
        let oi = oi_init(env, None);
        assert_eq!(impl_set(env, oi, "macsync-SC-1"), OK);
        assert_eq!(
            create_if(env, oi, NODE, "macSyncInterfaceId=after", "x"),
            OK
        );
        let after = std::fs::metadata(&journal).unwrap().len();
        assert!(after > before, "appended after the cut");
        // Another process replays everything, including the record after the cut.
        let found = env.cli_ok(&["immfind", NODE, "-c", "MacSyncInterface"]);
        assert_eq!(found.lines().count(), 21);
        assert!(found.contains("macSyncInterfaceId=after"));
        // Bad checksum in the middle of the last record.
        let mut bytes = std::fs::read(&journal).unwrap();
        let n = bytes.len();
        bytes[n - 2] ^= 0xff;
        std::fs::write(&journal, &bytes).unwrap();
        let found = env.cli_ok(&["immfind", NODE, "-c", "MacSyncInterface"]);
        assert_eq!(
            found.lines().count(),
            20,
            "the corrupt last record is dropped"
        );
    });
}

#[test]
fn compaction_keeps_state() {
    isolated("compaction_keeps_state", &[], |env| {
        env.load_xml("../samples/macsync-classes.xml");
        let oi = oi_init(env, None);
        assert_eq!(impl_set(env, oi, "macsync-SC-1"), OK);
        let node = node_attrs(env, NODE, 0, 0);
        assert_eq!(rt_create(env, oi, "MacSyncNode", None, &node), OK);
        for i in 0..200 {
            assert_eq!(
                create_if(env, oi, NODE, &format!("macSyncInterfaceId=e{i}"), "x"),
                OK
            );
        }
        for i in 0..200 {
            let dn = format!("macSyncInterfaceId=e{i},{NODE}");
            if i % 2 == 0 {
                assert_eq!(rt_delete(env, oi, &dn), OK);
            } else {
                assert_eq!(
                    rt_update(
                        env,
                        oi,
                        &dn,
                        &[(3, attr(env, "macAddress", T_STRING, &[V::Str("yy")]))]
                    ),
                    OK
                );
            }
        }
        let journal = env.dir.join("imm.journal");
        let before = std::fs::metadata(&journal).unwrap().len();
        env.cli_ok(&["compact"]);
        let after = std::fs::metadata(&journal).unwrap().len();
        assert!(after < before, "{after} < {before}");
        // This process notices the new file and keeps working on it.
        assert_eq!(count_interfaces(env), 100);
        assert_eq!(
            rt_update(
                env,
                oi,
                &format!("macSyncInterfaceId=e1,{NODE}"),
                &[(3, attr(env, "macAddress", T_STRING, &[V::Str("zz")]))]
            ),
            OK
        );
        let out = env.cli_ok(&[
            "immlist",
            "-a",
            "macAddress",
            &format!("macSyncInterfaceId=e1,{NODE}"),
        ]);
        assert_eq!(out.trim(), "macAddress=zz");
        let out = env.cli_ok(&[
            "immlist",
            "-a",
            "macAddress",
            &format!("macSyncInterfaceId=e3,{NODE}"),
        ]);
        assert_eq!(out.trim(), "macAddress=yy");
        assert!(!env.dir.read_dir().unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains(".tmp")));
    });
}

#[test]
fn concurrent_writers_are_serialized() {
    isolated("concurrent_writers_are_serialized", &[], |env| {
        env.load_xml("../samples/macsync-classes.xml");
        // Two processes with different implementer names create the same 300 DNs at once:
        // every DN is created exactly once.
        let a = spawn_helper_async(&[
            ("HELPER_IMPLEMENTER", "impl-a"),
            ("HELPER_PREFIX", "x"),
            ("HELPER_COUNT", "300"),
        ]);
        let b = spawn_helper_async(&[
            ("HELPER_IMPLEMENTER", "impl-b"),
            ("HELPER_PREFIX", "x"),
            ("HELPER_COUNT", "300"),
        ]);
        let ea = finish(a);
        let eb = finish(b);
        assert_eq!(
            ea + eb,
            300,
            "each DN created by exactly one process ({ea} + {eb})"
        );
        assert_eq!(count_interfaces(env), 300);
    });
}

fn spawn_helper_async(extra: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "helper_process",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(HELPER_VAR, "writer")
    .stdout(Stdio::piped());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// Waits for a helper; returns how many of its creates answered EXIST.
fn finish(c: Child) -> usize {
    let out = c.wait_with_output().unwrap();
    assert!(out.status.success());
    let s = String::from_utf8_lossy(&out.stdout);
    let line = s.lines().find(|l| l.contains("READY exists=")).unwrap();
    line.split("READY exists=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}
