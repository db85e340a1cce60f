use super::*;

fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<Config, String> {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let lookup = move |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    match Config::parse(&args, &lookup)? {
        Command::Run(c) => Ok(*c),
        other => panic!("{other:?}"),
    }
}

#[test]
fn flags_override_environment() {
    let env = [
        ("MACSYNC_NODE", "PL-3"),
        ("MACSYNC_EXCLUDE", "veth*, docker*"),
        ("MACSYNC_ALL_TYPES", "1"),
    ];
    let c = parse(&[], &env).unwrap();
    assert_eq!(c.node, "PL-3");
    assert_eq!(c.filter.exclude, vec!["veth*", "docker*"]);
    assert!(c.filter.all_types);
    assert_eq!(c.healthcheck_key, "macsync");
    let c = parse(
        &[
            "--node",
            "SC-1",
            "--healthcheck-key=hc",
            "--include",
            "eth*",
        ],
        &env,
    )
    .unwrap();
    assert_eq!(c.node, "SC-1");
    assert_eq!(c.healthcheck_key, "hc");
    assert_eq!(c.filter.include, vec!["eth*"]);
    let c = parse(&["--exclude", "tap*", "--exclude", "x*"], &env).unwrap();
    assert_eq!(
        c.filter.exclude,
        vec!["tap*", "x*"],
        "the flag replaces the variable"
    );
    let c = parse(
        &["--sync-stuck-secs", "5"],
        &[("MACSYNC_SYNC_STUCK_SECS", "bad")],
    )
    .unwrap();
    assert_eq!(
        c.sync_stuck,
        Duration::from_secs(5),
        "a flag wins over a bad variable"
    );
}

#[test]
fn modes() {
    assert_eq!(parse(&["--once"], &[]).unwrap().mode, Mode::Once);
    assert_eq!(parse(&["--sim"], &[]).unwrap().mode, Mode::Sim(None));
    assert_eq!(
        parse(&["--sim", "/tmp/x", "--once"], &[]).unwrap().mode,
        Mode::Once
    );
    assert_eq!(
        parse(&["--sim", "/tmp/x"], &[]).unwrap().mode,
        Mode::Sim(Some("/tmp/x".into()))
    );
    assert_eq!(
        parse(&["--sim", "--node", "a"], &[]).unwrap().mode,
        Mode::Sim(None)
    );
    let args = vec!["--help".to_string()];
    assert!(matches!(Config::parse(&args, &|_| None), Ok(Command::Help)));
}

#[test]
fn bad_input_is_one_clear_line() {
    for (args, want) in [
        (&["--bogus"][..], "unknown flag '--bogus'"),
        (&["--node"][..], "--node needs a value"),
        (&["stray"][..], "unexpected argument 'stray'"),
        (&["--healthcheck-key", ""][..], "healthcheck key"),
        (&["--healthcheck-key", &"k".repeat(32)][..], "1 to 31"),
        (&["--sync-stuck-secs", "soon"][..], "whole number"),
        (&["--long-dns=no"][..], "--long-dns takes no value"),
        (&["--purge=false"][..], "--purge takes no value"),
        (
            &["--sync-stuck-secs", "18446744073709552"][..],
            "from 1 to 86400",
        ),
    ] {
        let e = parse(args, &[]).unwrap_err();
        assert!(e.contains(want), "{args:?}: {e}");
        assert!(!e.contains('\n'));
    }
    assert!(parse(&[], &[("MACSYNC_SYNC_STUCK_SECS", "0")]).is_err());
    for (args, env, want) in [
        (
            &["--depart-grace", "-1"][..],
            &[][..],
            "--depart-grace must be",
        ),
        (&["--depart-stagger", "3601"][..], &[][..], "from 0 to 3600"),
        (
            &[][..],
            &[("MACSYNC_DEPART_GRACE", "5s")][..],
            "MACSYNC_DEPART_GRACE",
        ),
        (
            &[][..],
            &[("MACSYNC_DEPART_STAGGER", "")][..],
            "MACSYNC_DEPART_STAGGER",
        ),
    ] {
        let e = parse(args, env).unwrap_err();
        assert!(e.contains(want), "{args:?} {env:?}: {e}");
    }
}

#[test]
fn the_node_name_is_left_to_identity_unless_given() {
    assert_eq!(parse(&[], &[]).unwrap().node, "", "no guess at parse time");
    assert_eq!(
        parse(&["--node=PL-4"], &[("MACSYNC_NODE", "x")])
            .unwrap()
            .node,
        "PL-4"
    );
}

#[test]
fn departure_delays() {
    let c = parse(&[], &[]).unwrap();
    assert_eq!(
        (c.depart_grace, c.depart_stagger),
        (Duration::from_secs(5), Duration::from_secs(3))
    );
    let env = [
        ("MACSYNC_DEPART_GRACE", "0"),
        ("MACSYNC_DEPART_STAGGER", "7"),
    ];
    let c = parse(&[], &env).unwrap();
    assert_eq!(
        (c.depart_grace, c.depart_stagger),
        (Duration::ZERO, Duration::from_secs(7))
    );
    let c = parse(&["--depart-grace", "12", "--depart-stagger=1"], &env).unwrap();
    assert_eq!(
        (c.depart_grace, c.depart_stagger),
        (Duration::from_secs(12), Duration::from_secs(1))
    );
    let bad = [("MACSYNC_DEPART_GRACE", "soon")];
    assert_eq!(
        parse(&["--depart-grace", "2"], &bad).unwrap().depart_grace,
        Duration::from_secs(2),
        "a flag wins over a bad variable"
    );
}
