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

/// A scratch directory for one test.
fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("macsync-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn header(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn outside_amf_the_node_name_comes_from_the_flag_then_opensafs_node_name_file() {
    let conf = scratch("conf");
    std::fs::write(conf.join("node_name"), "PL-7\n").unwrap();
    let dir = conf.to_str().unwrap();
    let out = macsync(&["--once"], &[("OPENSAF_CONF_DIR", dir)]);
    let h = header(&out);
    assert!(h.starts_with("# macSyncNodeId=PL-7 "), "{h}");
    assert!(h.contains("implementer macsync-PL-7"), "{h}");
    assert!(h.contains(&format!("from {dir}/node_name")), "{h}");
    assert!(out.stderr.is_empty(), "no warning: {:?}", out.stderr);
    // The flag, then the variable, win over the file.
    let h = header(&macsync(
        &["--once", "--node", "SC-9"],
        &[("OPENSAF_CONF_DIR", dir)],
    ));
    assert!(
        h.starts_with("# macSyncNodeId=SC-9 ") && h.contains("--node / MACSYNC_NODE"),
        "{h}"
    );
    let env = [("OPENSAF_CONF_DIR", dir), ("MACSYNC_NODE", "SC-8")];
    assert!(header(&macsync(&["--once"], &env)).starts_with("# macSyncNodeId=SC-8 "));
}

#[test]
fn an_install_under_a_prefix_is_found_through_its_osafdir_conf() {
    // As the sandbox and the containers install OpenSAF: configuration in <prefix>/etc/opensaf.
    let prefix = scratch("prefix");
    let etc = prefix.join("etc/opensaf");
    std::fs::create_dir_all(&etc).unwrap();
    let p = prefix.to_str().unwrap();
    std::fs::write(
        etc.join("osafdir.conf"),
        format!("#!/bin/sh\nprefix=\"{p}\"\nsysconfdir=\"${{prefix}}/etc\"\npkgsysconfdir=\"$sysconfdir/opensaf\"\n"),
    )
    .unwrap();
    std::fs::write(etc.join("node_name"), "PL-5\n").unwrap();
    let h = header(&macsync(&["--once"], &[("OPENSAF_PREFIX", p)]));
    assert!(h.starts_with("# macSyncNodeId=PL-5 "), "{h}");
    assert!(
        h.contains(&format!("from {p}/etc/opensaf/node_name")),
        "{h}"
    );
}

#[test]
fn the_host_name_is_the_last_resort_outside_amf_and_is_warned_about() {
    let empty = scratch("empty");
    let out = macsync(
        &["--once"],
        &[("OPENSAF_CONF_DIR", empty.to_str().unwrap())],
    );
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let short = host.trim().split('.').next().unwrap().to_string();
    let h = header(&out);
    assert!(h.starts_with(&format!("# macSyncNodeId={short} ")), "{h}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("WARN") && err.contains(&format!("node name '{short}' from the host name")),
        "{err:?}"
    );
}

#[test]
fn purge_refuses_a_node_name_imm_cannot_hold_before_touching_imm() {
    one_line_error(
        &macsync(&["--purge", "--node", "bad name"], &[]),
        1,
        "cannot be used in an IMM name",
    );
}
