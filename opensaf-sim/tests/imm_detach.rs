//! Runtime objects whose implementer is gone, through the C ABI, as measured on OpenSAF
//! 5.21.03 with the classes of `data/detach-classes.xml` (README, "Implementers that are
//! gone"): after the holder process dies, clears the name or loses its node, every read is
//! unchanged for `imm_detach_ms`; then the objects are still found but every attribute that
//! is not persistent reads with no values, until any process sets the name again (at once
//! allowed, even inside the window).

// `call!` (tests/common) expands the test's argument expressions in its unsafe block.
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::collections::BTreeMap;
use std::ffi::CString;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use opensaf_sys::*;

/// Set in a holder process: the implementer name it takes.
const HOLDER_VAR: &str = "OPENSAF_SIM_DETACH_HOLDER";
const DETACH: Duration = Duration::from_millis(1500);
/// How late after its death a dead holder's values may still show: the beat period.
const BEAT: Duration = Duration::from_millis(500);
const MARGIN: Duration = Duration::from_millis(300);
const SYSTEM: [&str; 3] = [
    "SaImmAttrClassName",
    "SaImmAttrImplementerName",
    "SaImmAttrAdminOwnerName",
];

type Values = BTreeMap<String, Vec<String>>;

/// In a holder process (spawned by [`Holder::spawn`]): takes the name, creates
/// `probeId=<name>` (ProbeRt) and `probeId=<name>-p` (ProbeP), both with cachedU 7 and
/// otherU 8, says READY and waits to be killed. Returns false in any other process.
fn holder_role() -> bool {
    let Ok(name) = std::env::var(HOLDER_VAR) else {
        return false;
    };
    let env = Env {
        dir: std::env::var("OPENSAF_SIM_DIR").unwrap().into(),
        apis: Apis::load().unwrap(),
    };
    let oi = oi_init(&env, None);
    assert_eq!(impl_set(&env, oi, &name), OK);
    for (class, rdn) in [
        ("ProbeRt", format!("probeId={name}")),
        ("ProbeP", format!("probeId={name}-p")),
    ] {
        let attrs = [
            attr(&env, "probeId", T_STRING, &[V::Str(&rdn)]),
            attr(&env, "cachedU", T_U32, &[V::U32(7)]),
            attr(&env, "otherU", T_U32, &[V::U32(8)]),
        ];
        assert_eq!(rt_create(&env, oi, class, None, &attrs), OK);
    }
    println!("READY");
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}

/// A process holding an implementer name, on `node`.
struct Holder(Child);

impl Holder {
    fn spawn(test: &str, name: &str, node: &str) -> Holder {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", test, "--nocapture", "--test-threads=1"])
            .env(HOLDER_VAR, name)
            .env("OPENSAF_SIM_NODE", node)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        let ready = out
            .lines()
            .map_while(Result::ok)
            .any(|l| l.contains("READY"));
        assert!(ready, "holder {name} did not get ready");
        Holder(child)
    }

    /// Kills the process (SIGKILL) and reaps it; the time it was dead by.
    fn kill(mut self) -> Instant {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
        Instant::now()
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// saImmOmAccessorGet_2 of every attribute (or `names`); must answer OK.
fn get(env: &Env, dn: &str, names: Option<&[&str]>) -> Values {
    let om = om_init(env);
    let mut ah = 0;
    assert_eq!(call!(env.om().saImmOmAccessorInitialize, om, &mut ah), OK);
    let n = Name::new(env, dn);
    let cs: Vec<CString> = names
        .unwrap_or(&[])
        .iter()
        .map(|s| CString::new(*s).unwrap())
        .collect();
    let mut ptrs: Vec<*mut std::ffi::c_char> = cs.iter().map(|c| c.as_ptr().cast_mut()).collect();
    ptrs.push(std::ptr::null_mut());
    let mut attrs = std::ptr::null_mut();
    let list = if names.is_some() {
        ptrs.as_ptr()
    } else {
        std::ptr::null()
    };
    let r = call!(env.om().saImmOmAccessorGet_2, ah, n.ptr(), list, &mut attrs);
    assert_eq!(r, OK, "accessor get {dn}");
    let out = read_attrs(env, attrs)
        .into_iter()
        .map(|(n, _, v)| (n, v))
        .collect();
    assert_eq!(call!(env.om().saImmOmFinalize, om), OK);
    out
}

fn vals(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Every value as the holder `name` wrote it, for the ProbeRt object or (`-p`) ProbeP.
fn as_written(name: &str, persistent: bool) -> Values {
    let (rdn, class) = if persistent {
        (format!("probeId={name}-p"), "ProbeP")
    } else {
        (format!("probeId={name}"), "ProbeRt")
    };
    [
        ("probeId", vals(&[&rdn])),
        ("cachedU", vals(&["7"])),
        ("otherU", vals(&["8"])),
        ("SaImmAttrClassName", vals(&[class])),
        ("SaImmAttrImplementerName", vals(&[name])),
        ("SaImmAttrAdminOwnerName", vec![]),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_string(), v))
    .collect()
}

fn blank(v: &Values) -> Values {
    v.keys().map(|k| (k.clone(), vec![])).collect()
}

/// Sleeps until `t`.
fn sleep_until(t: Instant) {
    std::thread::sleep(t.saturating_duration_since(Instant::now()));
}

const EXITED: &str =
    "an_exited_implementers_objects_read_empty_after_the_window_until_the_name_is_set_again";

#[test]
fn an_exited_implementers_objects_read_empty_after_the_window_until_the_name_is_set_again() {
    if holder_role() {
        return;
    }
    isolated(EXITED, &[], |env| {
        env.load_xml("tests/data/detach-classes.xml");
        env.cli_ok(&["config", &format!("imm_detach_ms={}", DETACH.as_millis())]);
        let holder = Holder::spawn(EXITED, "h1", "SC-1");
        assert_eq!(get(env, "probeId=h1", None), as_written("h1", false));
        let oi = oi_init(env, None);
        assert_eq!(impl_set(env, oi, "h1"), err(14), "held by a live process");

        // Dead: every read is unchanged for the window ...
        let dead = holder.kill();
        assert_eq!(get(env, "probeId=h1", None), as_written("h1", false));
        assert_eq!(get(env, "probeId=h1-p", None), as_written("h1", true));
        assert!(
            dead.elapsed() < DETACH - MARGIN,
            "read late: {:?}",
            dead.elapsed()
        );

        // ... then OK with every attribute and no values, system attributes included.
        sleep_until(dead + DETACH + BEAT + MARGIN);
        let empty = blank(&as_written("h1", false));
        assert_eq!(get(env, "probeId=h1", None), empty);
        let some = ["cachedU", "SaImmAttrImplementerName"];
        let got = get(env, "probeId=h1", Some(&some));
        assert_eq!(got.len(), 2);
        assert!(got.values().all(Vec::is_empty), "{got:?}");
        // Searches still find it (the class filter matches the stored name).
        let om = om_init(env);
        let found = search(env, om, None, 3, 0x100, Some("ProbeRt"), None).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].dn, "probeId=h1");
        assert!(
            found[0].attrs.iter().all(|(_, _, v)| v.is_empty()),
            "{found:?}"
        );
        assert_eq!(call!(env.om().saImmOmFinalize, om), OK);
        // Persistent attributes keep their values, and so do the system attributes of a
        // class with one (IMM makes them persistent); the rest reads empty.
        let mut p = as_written("h1", true);
        p.insert("cachedU".into(), vec![]);
        assert_eq!(get(env, "probeId=h1-p", None), p);
        // immlist prints <Empty> for each and succeeds; immfind lists the object.
        let list = env.cli_ok(&["immlist", "probeId=h1"]);
        let rows: Vec<&str> = list.lines().skip(2).collect();
        assert_eq!(rows.len(), 6, "{list}");
        assert!(rows.iter().all(|r| r.ends_with("<Empty>")), "{list}");
        assert_eq!(env.cli_ok(&["immfind", "-c", "ProbeRt"]), "probeId=h1\n");

        // Set again, by any process: every stored value reads at once, and it writes.
        assert_eq!(impl_set(env, oi, "h1"), OK);
        assert_eq!(get(env, "probeId=h1", None), as_written("h1", false));
        let seventy = attr(env, "cachedU", T_U32, &[V::U32(70)]);
        assert_eq!(rt_update(env, oi, "probeId=h1", &[(3, seventy)]), OK);
        let mut now = as_written("h1", false);
        now.insert("cachedU".into(), vals(&["70"]));
        assert_eq!(get(env, "probeId=h1", None), now);
        for name in SYSTEM {
            assert!(now.contains_key(name));
        }
    });
}

const RELEASED: &str = "a_name_let_go_can_be_set_at_once_and_reads_unchanged_for_the_window";

#[test]
fn a_name_let_go_can_be_set_at_once_and_reads_unchanged_for_the_window() {
    if holder_role() {
        return;
    }
    isolated(RELEASED, &[], |env| {
        env.load_xml("tests/data/detach-classes.xml");
        env.cli_ok(&[
            "config",
            &format!("imm_detach_ms={}", DETACH.as_millis()),
            "clm_leave_ms=0",
            "imm_release_ms=0",
        ]);
        // The name of a process that died is free at once; the new holder writes at once.
        let holder = Holder::spawn(RELEASED, "h2", "SC-1");
        let oi = oi_init(env, None);
        holder.kill();
        assert_eq!(impl_set(env, oi, "h2"), OK);
        let seventy = attr(env, "cachedU", T_U32, &[V::U32(70)]);
        assert_eq!(rt_update(env, oi, "probeId=h2", &[(3, seventy)]), OK);
        let mut now = as_written("h2", false);
        now.insert("cachedU".into(), vals(&["70"]));
        assert_eq!(get(env, "probeId=h2", None), now);

        // Cleared by a live process: the same window, counted from the clear.
        assert_eq!(call!(env.oi().saImmOiImplementerClear, oi), OK);
        let cleared = Instant::now();
        assert_eq!(get(env, "probeId=h2", None), now);
        sleep_until(cleared + DETACH + MARGIN);
        assert_eq!(get(env, "probeId=h2", None), blank(&now));

        // A node that leaves: the window counts from IMM's release of its names, while its
        // process still runs.
        let holder = Holder::spawn(RELEASED, "h3", "PL-3");
        env.cli_ok(&["clm", "leave", "PL-3"]);
        let released = Instant::now();
        assert_eq!(get(env, "probeId=h3", None), as_written("h3", false));
        sleep_until(released + DETACH + MARGIN);
        assert_eq!(
            get(env, "probeId=h3", None),
            blank(&as_written("h3", false))
        );
        let other = oi_init(env, None);
        assert_eq!(impl_set(env, other, "h3"), OK);
        assert_eq!(get(env, "probeId=h3", None), as_written("h3", false));
        drop(holder);
    });
}
