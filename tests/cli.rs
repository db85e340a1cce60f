//! The binary's command line: bad input is one clear line and a non-zero exit, never a panic.

mod common;

use std::process::{Command, Output};

fn macsync(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_macsync"));
    c.args(args)
        .env_remove("RUST_LOG")
        .env_remove("MACSYNC_LOG_FILE");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run macsync")
}

fn one_line_error(out: &Output, code: i32, want: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "not one line: {err:?}");
    assert!(
        err.starts_with("macsync: ") && err.contains(want),
        "{err:?} lacks {want:?}"
    );
    assert!(!err.contains("panicked"));
}

#[test]
fn unknown_flags_and_bad_values_exit_2() {
    one_line_error(
        &macsync(&["--frobnicate"], &[]),
        2,
        "unknown flag '--frobnicate'",
    );
    one_line_error(&macsync(&["--node"], &[]), 2, "--node needs a value");
    one_line_error(
        &macsync(&["--healthcheck-key", &"k".repeat(40)], &[]),
        2,
        "healthcheck key",
    );
    one_line_error(
        &macsync(&[], &[("MACSYNC_SYNC_STUCK_SECS", "x")]),
        2,
        "MACSYNC_SYNC_STUCK_SECS",
    );
}

#[test]
fn a_missing_opensaf_library_names_the_file_and_the_variable() {
    let out = macsync(&[], &[("OPENSAF_LIB_DIR", "/nonexistent/opensaf")]);
    one_line_error(&out, 1, "libSaAmf.so.0");
    assert!(String::from_utf8_lossy(&out.stderr).contains("OPENSAF_LIB_DIR"));
}

#[test]
fn names_imm_cannot_hold_are_refused_clearly() {
    let long_parent = format!("safApp={}", "x".repeat(60)) + &",safApp=y".repeat(30);
    one_line_error(
        &macsync(&["--once", "--parent-dn", &long_parent], &[]),
        1,
        "DN is",
    );
    one_line_error(
        &macsync(&["--once", "--node", "node one"], &[]),
        1,
        "cannot be used in an IMM name",
    );
    one_line_error(
        &macsync(&["--once", "--parent-dn", "noequals"], &[]),
        1,
        "has no 'attribute=' part",
    );
}

#[test]
fn once_prints_the_table_as_it_would_be_written() {
    common::enter_netns();
    common::ip(&["link", "add", "x,1", "type", "veth", "peer", "name", "eth9"]);
    common::ip(&["link", "set", "eth9", "address", "02:00:00:00:00:09"]);
    let out = macsync(&["--once", "--node", "PL-3", "--exclude", "x*"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("macSyncInterfaceId=eth9,macSyncNodeId=PL-3"),
        "{text}"
    );
    assert!(text.contains("02:00:00:00:00:09"), "{text}");
    assert!(!text.contains("x\\,1"), "excluded link printed: {text}");
    let out = macsync(&["--once", "--node", "PL-3"], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("macSyncInterfaceId=x\\,1,macSyncNodeId=PL-3"),
        "{text}"
    );
    // A name ending in a backslash cannot be an unambiguous RDN: reported, not written.
    common::ip(&["link", "add", "tb\\", "type", "veth", "peer", "name", "tc"]);
    let out = macsync(&["--once", "--node", "PL-3"], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("# not mirrored: 'tb\\\\' ends with a backslash"),
        "{text}"
    );
    assert!(
        text.contains("macSyncInterfaceId=tc,macSyncNodeId=PL-3"),
        "{text}"
    );
}
