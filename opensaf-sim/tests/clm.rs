//! CLM through the C ABI: version, the local node (`$OPENSAF_SIM_NODE`), the current
//! membership into the caller's or the library's buffer, track flags, and nodes leaving and
//! joining through the CLI as real OpenSAF shows it: CLM reports the departed node after
//! `clm_leave_ms` to every tracking process (all members plus the changed node with
//! SA_TRACK_CHANGES, only the changed node with SA_TRACK_CHANGES_ONLY), and at
//! `imm_release_ms` IMM releases the implementer names of the node's processes, after which
//! another process takes the name while the objects stay.

// `call!` (tests/common) expands the test's argument expressions in its unsafe block.
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::*;
use opensaf_sys::*;

const HELPER_VAR: &str = "OPENSAF_SIM_CLM_HELPER";
const PL3: &str = "safNode=PL-3,safCluster=myClmCluster";
const SC1: &str = "safNode=SC-1,safCluster=myClmCluster";

/// One track callback as the application saw it.
#[derive(Debug, Clone)]
struct Seen {
    view: u64,
    members: u32,
    /// (node name, node id, clusterChange, member)
    items: Vec<(String, u32, u32, bool)>,
    step: u32,
    error: u32,
}

impl Seen {
    fn line(&self) -> String {
        let items: Vec<String> = self
            .items
            .iter()
            .map(|(n, _, c, m)| format!("{n}:{c}:{}", u8::from(*m)))
            .collect();
        format!(
            "TRACK view={} members={} items={}",
            self.view,
            self.members,
            items.join(";")
        )
    }
}

static APIS: OnceLock<Apis> = OnceLock::new();
static SEEN: Mutex<Vec<Seen>> = Mutex::new(Vec::new());

fn items_of(buf: &SaClmClusterNotificationBufferT_4) -> Vec<(String, u32, u32, bool)> {
    let amf = APIS.get().unwrap().amf;
    (0..buf.numberOfItems as usize)
        .map(|i| {
            // SAFETY: the library's buffer holds numberOfItems items.
            let it = unsafe { &*buf.notification.add(i) };
            let p = call!(amf.saAisNameBorrow, &it.clusterNode.nodeName);
            // SAFETY: Borrow returns the NUL-terminated name inside the SaNameT.
            let name = unsafe { std::ffi::CStr::from_ptr(p) }
                .to_str()
                .unwrap()
                .to_string();
            (
                name,
                it.clusterNode.nodeId,
                it.clusterChange.0,
                it.clusterNode.member == SaBoolT::SA_TRUE,
            )
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn on_track(
    buf: *const SaClmClusterNotificationBufferT_4,
    members: SaUint32T,
    _inv: SaInvocationT,
    _root: *const SaNameT,
    _ids: *const SaNtfCorrelationIdsT,
    step: SaClmChangeStepT,
    _supervision: SaTimeT,
    error: SaAisErrorT,
) {
    // SAFETY: the library passes a valid buffer for the duration of the callback.
    let buf = unsafe { &*buf };
    SEEN.lock().unwrap().push(Seen {
        view: buf.viewNumber,
        members,
        items: items_of(buf),
        step: step.0,
        error: error.0,
    });
}

fn clm_init(env: &Env, with_callback: bool) -> Result<u64, SaAisErrorT> {
    let _ = APIS.set(env.apis);
    let cbs = SaClmCallbacksT_4 {
        saClmClusterNodeGetCallback: None,
        saClmClusterTrackCallback: if with_callback { Some(on_track) } else { None },
    };
    let mut h = 0;
    let mut v = version(b'B', 4, 1);
    match call!(env.clm().saClmInitialize_4, &mut h, &cbs, &mut v) {
        r if r == OK => Ok(h),
        r => Err(r),
    }
}

fn local_node(env: &Env, h: u64) -> Result<SaClmClusterNodeT_4, SaAisErrorT> {
    let mut n = SaClmClusterNodeT_4::default();
    let r = call!(
        env.clm().saClmClusterNodeGet_4,
        h,
        SA_CLM_LOCAL_NODE_ID,
        SA_TIME_ONE_SECOND,
        &mut n
    );
    if r == OK {
        Ok(n)
    } else {
        Err(r)
    }
}

fn fd_of(env: &Env, h: u64) -> u64 {
    let mut fd = 0;
    assert_eq!(call!(env.clm().saClmSelectionObjectGet, h, &mut fd), OK);
    fd
}

/// Waits up to `timeout` for the selection object, then dispatches; the callbacks seen.
fn dispatch_within(env: &Env, h: u64, timeout: Duration) -> Vec<Seen> {
    if readable(fd_of(env, h), timeout.as_millis() as i32) {
        assert_eq!(
            call!(
                env.clm().saClmDispatch,
                h,
                SaDispatchFlagsT::SA_DISPATCH_ALL
            ),
            OK
        );
    }
    std::mem::take(&mut *SEEN.lock().unwrap())
}

fn name_of(env: &Env, n: &SaNameT) -> String {
    borrow(env, n)
}

#[test]
fn initialize_local_node_current_membership_and_track_flags() {
    isolated(
        "initialize_local_node_current_membership_and_track_flags",
        &[],
        |env| {
            // Only release B, major 4; B.04.01 is written back either way.
            for ((r, ma, mi), want) in [((b'B', 4, 1), 1), ((b'B', 1, 1), 3), ((b'A', 4, 1), 3)] {
                let mut h = 0;
                let mut v = version(r, ma, mi);
                let rc = call!(
                    env.clm().saClmInitialize_4,
                    &mut h,
                    std::ptr::null(),
                    &mut v
                );
                assert_eq!(rc, err(want), "{r} {ma} {mi}");
                assert_eq!(
                    (v.releaseCode, v.majorVersion, v.minorVersion),
                    (b'B', 4, 1)
                );
            }
            let h = clm_init(env, true).unwrap();

            // The process runs on SC-1 (no OPENSAF_SIM_NODE): node id as on a real cluster.
            let me = local_node(env, h).unwrap();
            assert_eq!(name_of(env, &me.nodeName), SC1);
            assert_eq!(me.nodeId, 0x2010F);
            assert_eq!(me.member, SaBoolT::SA_TRUE);
            assert_eq!(me.initialViewNumber, 1);
            assert_eq!(
                me.nodeAddress.family,
                SaClmNodeAddressFamilyT::SA_CLM_AF_INET
            );
            assert_eq!(&me.nodeAddress.value[..9], b"127.0.0.1");
            let mut pl3 = SaClmClusterNodeT_4::default();
            let get = env.clm().saClmClusterNodeGet_4;
            assert_eq!(call!(get, h, 0x2030F, SA_TIME_ONE_SECOND, &mut pl3), OK);
            assert_eq!(name_of(env, &pl3.nodeName), PL3);
            assert_eq!(call!(get, h, 12345, SA_TIME_ONE_SECOND, &mut pl3), err(12));
            let null = std::ptr::null_mut();
            assert_eq!(call!(get, h, 0x2030F, SA_TIME_ONE_SECOND, null), err(7));

            // SA_TRACK_CURRENT into a buffer the library allocates, freed once.
            let track = env.clm().saClmClusterTrack_4;
            let mut buf = SaClmClusterNotificationBufferT_4 {
                viewNumber: 0,
                numberOfItems: 0,
                notification: std::ptr::null_mut(),
            };
            assert_eq!(call!(track, h, SA_TRACK_CURRENT, &mut buf), OK);
            assert_eq!((buf.viewNumber, buf.numberOfItems), (1, 4));
            let names: Vec<_> = items_of(&buf)
                .into_iter()
                .map(|i| (i.0, i.2, i.3))
                .collect();
            let want: Vec<_> = ["PL-3", "PL-4", "SC-1", "SC-2"]
                .iter()
                .map(|n| (format!("safNode={n},safCluster=myClmCluster"), 1, true))
                .collect();
            assert_eq!(names, want);
            let free = env.clm().saClmClusterNotificationFree_4;
            assert_eq!(call!(free, h, buf.notification), OK);
            assert_eq!(call!(free, h, buf.notification), err(7), "freed once");

            // Into the caller's array: too small is NO_SPACE with the size needed.
            let mut mine = vec![SaClmClusterNotificationT_4::default(); 4];
            buf.notification = mine.as_mut_ptr();
            buf.numberOfItems = 2;
            assert_eq!(call!(track, h, SA_TRACK_CURRENT, &mut buf), err(15));
            assert_eq!(buf.numberOfItems, 4);
            assert_eq!(
                call!(track, h, SA_TRACK_CURRENT | SA_TRACK_LOCAL, &mut buf),
                OK
            );
            assert_eq!(buf.numberOfItems, 1, "SA_TRACK_LOCAL: only this node");
            assert_eq!(items_of(&buf)[0].0, SC1);

            // A caller's array of no entries is refused (as OpenSAF 5.21.03 does).
            buf.numberOfItems = 0;
            assert_eq!(call!(track, h, SA_TRACK_CURRENT, &mut buf), err(7));

            // Flags CLM refuses, those it ignores, and no stop without a track (all as measured
            // on OpenSAF 5.21.03).
            for bad in [0, 0x40, SA_TRACK_CHANGES | SA_TRACK_CHANGES_ONLY] {
                assert_eq!(
                    call!(track, h, bad, std::ptr::null_mut()),
                    err(25),
                    "{bad:#x}"
                );
            }
            let stop = env.clm().saClmClusterTrackStop;
            assert_eq!(call!(stop, h), err(12));
            for fine in [
                SA_TRACK_CHANGES | SA_TRACK_START_STEP,
                SA_TRACK_CHANGES_ONLY | 0x40,
            ] {
                assert_eq!(call!(track, h, fine, std::ptr::null_mut()), OK, "{fine:#x}");
                assert_eq!(call!(stop, h), OK);
            }

            // SA_TRACK_CURRENT without a buffer: one callback, after the selection object fires.
            assert_eq!(call!(track, h, SA_TRACK_CURRENT, std::ptr::null_mut()), OK);
            let seen = dispatch_within(env, h, Duration::from_secs(2));
            assert_eq!(seen.len(), 1, "{seen:?}");
            assert_eq!(
                (seen[0].view, seen[0].members, seen[0].items.len()),
                (1, 4, 4)
            );
            assert_eq!((seen[0].step, seen[0].error), (4, 1), "COMPLETED, OK");
            assert!(!readable(fd_of(env, h), 0), "nothing left to dispatch");

            // Any track needs the track callback, even a synchronous SA_TRACK_CURRENT.
            let quiet = clm_init(env, false).unwrap();
            assert_eq!(
                call!(track, quiet, SA_TRACK_CHANGES, std::ptr::null_mut()),
                err(4)
            );
            let mut alloc = SaClmClusterNotificationBufferT_4 {
                viewNumber: 0,
                numberOfItems: 0,
                notification: std::ptr::null_mut(),
            };
            assert_eq!(call!(track, quiet, SA_TRACK_CURRENT, &mut alloc), err(4));
            assert_eq!(call!(env.clm().saClmFinalize, quiet), OK);
            assert_eq!(local_node(env, quiet).unwrap_err(), err(9), "finalized");
            assert_eq!(call!(env.clm().saClmFinalize, h), OK);
        },
    );
}

#[test]
fn the_process_node_comes_from_opensaf_sim_node() {
    isolated(
        "the_process_node_comes_from_opensaf_sim_node",
        &[("OPENSAF_SIM_NODE", "PL-4")],
        |env| {
            let h = clm_init(env, false).unwrap();
            let me = local_node(env, h).unwrap();
            assert_eq!(
                name_of(env, &me.nodeName),
                "safNode=PL-4,safCluster=myClmCluster"
            );
            assert_eq!(me.nodeId, 0x2040F);
        },
    );
}

/// Not a test of its own: the body of the process on PL-3 (does nothing unless asked).
/// It holds the implementer `macsync-PL-3` with one object, tracks CLM with
/// SA_TRACK_CHANGES_ONLY and prints each callback, and what its IMM and CLM calls answer
/// once its node has left, and once it has joined again.
#[test]
fn helper_process_on_pl3() {
    if std::env::var(HELPER_VAR).is_err() {
        return;
    }
    let env = Env {
        dir: std::env::var("OPENSAF_SIM_DIR").unwrap().into(),
        apis: Apis::load().unwrap(),
    };
    let oi = oi_init(&env, None);
    assert_eq!(impl_set(&env, oi, "macsync-PL-3"), OK);
    let attrs = node_attrs(&env, "macSyncNodeId=PL-3", 7, 0);
    assert_eq!(rt_create(&env, oi, "MacSyncNode", None, &attrs), OK);
    let h = clm_init(&env, true).unwrap();
    let track = env.clm().saClmClusterTrack_4;
    assert_eq!(
        call!(track, h, SA_TRACK_CHANGES_ONLY, std::ptr::null_mut()),
        OK
    );
    println!("READY");
    let oi_init_rc = || {
        let mut h2 = 0;
        let mut v = version(b'A', 2, 1);
        call!(
            env.oi().saImmOiInitialize_2,
            &mut h2,
            std::ptr::null(),
            &mut v
        )
        .0
    };
    enum Phase {
        Member,
        Left,
        Released,
    }
    let mut phase = Phase::Member;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        std::io::stdout().flush().unwrap();
        for s in dispatch_within(&env, h, Duration::from_millis(50)) {
            println!("{}", s.line());
            let change = s.items.iter().find(|i| i.0 == PL3).map(|i| i.2);
            match (&phase, change) {
                (Phase::Member, Some(3)) => {
                    let node_get = local_node(&env, h).err().map_or(1, |e| e.0);
                    println!("LEFT node-get={node_get}");
                    phase = Phase::Left;
                }
                (Phase::Released, Some(2)) => {
                    println!("JOINED oi-init={}", oi_init_rc());
                    return;
                }
                _ => {}
            }
        }
        if let Phase::Left = phase {
            // Until IMM lets go of this node, the implementer still works.
            let syncs = attr(&env, "syncs", T_U64, &[V::U64(7)]);
            let r = rt_update(&env, oi, "macSyncNodeId=PL-3", &[(3, syncs)]);
            if r != OK {
                println!("RELEASED update={} oi-init={}", r.0, oi_init_rc());
                println!("WAITING");
                phase = Phase::Released;
            }
        }
    }
}

struct Helper {
    child: Child,
    out: std::sync::mpsc::Receiver<String>,
}

impl Helper {
    fn spawn() -> Helper {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "helper_process_on_pl3",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(HELPER_VAR, "1")
            .env("OPENSAF_SIM_NODE", "PL-3")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, out) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                // libtest prints "test helper_process_on_pl3 ... " before the first line.
                let line = line.rsplit("... ").next().unwrap_or(&line).to_string();
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let h = Helper { child, out };
        h.expect("READY", Duration::from_secs(10));
        h
    }

    /// The next line starting with `prefix` (earlier lines are skipped).
    fn expect(&self, prefix: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.out.recv_timeout(left) {
                Ok(l) if l.starts_with(prefix) => return l,
                Ok(_) => {}
                Err(e) => panic!("helper printed no {prefix} line ({e})"),
            }
        }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn is_member(env: &Env, node: &str) -> String {
    env.cli_ok(&["immlist", "-a", "saClmNodeIsMember", node])
        .trim()
        .to_string()
}

#[test]
fn a_node_leaving_and_joining_reaches_every_tracker_and_imm_lets_its_implementers_go() {
    isolated(
        "a_node_leaving_and_joining_reaches_every_tracker_and_imm_lets_its_implementers_go",
        &[],
        |env| {
            env.load_xml("../samples/macsync-classes.xml");
            env.cli_ok(&["config", "clm_leave_ms=300", "imm_release_ms=1200"]);
            let helper = Helper::spawn();

            // SC-1 tracks with SA_TRACK_CURRENT | SA_TRACK_CHANGES ...
            let h = clm_init(env, true).unwrap();
            let track = env.clm().saClmClusterTrack_4;
            let flags = SA_TRACK_CURRENT | SA_TRACK_CHANGES;
            assert_eq!(call!(track, h, flags, std::ptr::null_mut()), OK);
            let current = dispatch_within(env, h, Duration::from_secs(2));
            assert_eq!((current.len(), current[0].members), (1, 4));
            // ... and a second handle only its own node's changes.
            let local = clm_init(env, true).unwrap();
            let local_flags = SA_TRACK_CHANGES | SA_TRACK_LOCAL;
            assert_eq!(call!(track, local, local_flags, std::ptr::null_mut()), OK);
            let oi = oi_init(env, None);
            assert_eq!(impl_set(env, oi, "macsync-PL-3"), err(14), "held by PL-3");

            let start = Instant::now();
            let mut leave = Command::new(cli())
                .args(["--dir", env.dir.to_str().unwrap(), "clm", "leave", "PL-3"])
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            let seen = dispatch_within(env, h, Duration::from_secs(3));
            let after = start.elapsed();
            assert!(
                after >= Duration::from_millis(300),
                "CLM reported after {after:?}"
            );
            assert_eq!(seen.len(), 1, "{seen:?}");
            // SA_TRACK_CHANGES: every member plus the node that left; 3 members in view 2.
            assert_eq!((seen[0].view, seen[0].members), (2, 3));
            let items: Vec<_> = seen[0]
                .items
                .iter()
                .map(|i| (i.0.as_str(), i.2, i.3))
                .collect();
            assert_eq!(
                items,
                [
                    (PL3, 3, false),
                    ("safNode=PL-4,safCluster=myClmCluster", 1, true),
                    (SC1, 1, true),
                    ("safNode=SC-2,safCluster=myClmCluster", 1, true),
                ]
            );
            assert_eq!(seen[0].items[0].1, 0x2030F);
            assert_eq!(is_member(env, PL3), "saClmNodeIsMember=0");
            // SA_TRACK_CHANGES_ONLY on the departed node itself: only the changed node.
            let line = helper.expect("TRACK", Duration::from_secs(3));
            assert_eq!(line, format!("TRACK view=2 members=3 items={PL3}:3:0"));
            // A process whose node is not a member gets UNAVAILABLE from CLM.
            assert_eq!(
                helper.expect("LEFT", Duration::from_secs(3)),
                "LEFT node-get=31"
            );
            // The name is IMM's until the release.
            assert_eq!(impl_set(env, oi, "macsync-PL-3"), err(14));

            // IMM lets the departed node's implementers go at imm_release_ms: its handles
            // are stale, a new one waits (TRY_AGAIN) for the node to come back.
            assert!(leave.wait().unwrap().success());
            assert!(start.elapsed() >= Duration::from_millis(1200));
            let released = helper.expect("RELEASED", Duration::from_secs(3));
            assert_eq!(released, "RELEASED update=9 oi-init=6");
            // Another process may set the name now; the objects stay, values and all.
            assert_eq!(impl_set(env, oi, "macsync-PL-3"), OK);
            let syncs = env.cli_ok(&["immlist", "-a", "syncs", "macSyncNodeId=PL-3"]);
            assert_eq!(syncs.trim(), "syncs=7");
            assert!(
                !readable(fd_of(env, local), 0),
                "SA_TRACK_LOCAL: not SC-1's change"
            );
            let ev = env.events_named("clm-node-left");
            assert!(ev[0].num("after_ms").unwrap() >= 300, "{ev:?}");
            let ev = env.events_named("imm-node-released");
            assert_eq!(ev[0].str("implementers"), Some("macsync-PL-3"), "{ev:?}");
            assert!(
                env.events_named("imm-node-release")[0]
                    .num("after_ms")
                    .unwrap()
                    >= 1200
            );

            // Joining again: JOINED to every tracker, view 3, IMM back on the node.
            helper.expect("WAITING", Duration::from_secs(3));
            env.cli_ok(&["clm", "join", "PL-3"]);
            let seen = dispatch_within(env, h, Duration::from_secs(3));
            assert_eq!(
                (seen[0].view, seen[0].members, seen[0].items.len()),
                (3, 4, 4)
            );
            let pl3 = seen[0].items.iter().find(|i| i.0 == PL3).unwrap();
            assert_eq!((pl3.2, pl3.3), (2, true), "JOINED, a member");
            assert_eq!(is_member(env, PL3), "saClmNodeIsMember=1");
            let line = helper.expect("TRACK", Duration::from_secs(3));
            assert_eq!(line, format!("TRACK view=3 members=4 items={PL3}:2:1"));
            assert_eq!(
                helper.expect("JOINED", Duration::from_secs(3)),
                "JOINED oi-init=1"
            );

            // After a stop no callback comes.
            assert_eq!(call!(env.clm().saClmClusterTrackStop, h), OK);
            env.cli_ok(&["config", "imm_release_ms=0", "clm_leave_ms=0"]);
            env.cli_ok(&["clm", "leave", "PL-4"]);
            assert!(dispatch_within(env, h, Duration::from_millis(300)).is_empty());
        },
    );
}

#[test]
fn clm_cli_status_and_bad_input() {
    isolated("clm_cli_status_and_bad_input", &[], |env| {
        let out = env.cli_ok(&["clm"]);
        assert!(out.starts_with("view 1\n"), "{out}");
        assert!(
            out.contains(&format!("{PL3}  id=0x2030f  member=1")),
            "{out}"
        );
        for (args, want) in [
            (&["clm", "leave", "PL-9"][..], "no CLM node 'PL-9'"),
            (&["clm", "join", "SC-1"], "is a member already"),
            (&["clm", "leave"], "give status, leave NODE or join NODE"),
        ] {
            let o = env.cli(args);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(1), "{args:?}");
            assert!(
                err.contains(want) && err.lines().count() == 1,
                "{args:?}: {err}"
            );
        }
        // Without any process attached the membership still changes.
        env.cli_ok(&["config", "clm_leave_ms=0", "imm_release_ms=0"]);
        env.cli_ok(&["clm", "leave", "safNode=PL-3,safCluster=myClmCluster"]);
        let out = env.cli_ok(&["clm", "status"]);
        assert!(out.starts_with("view 2\n"), "{out}");
        assert!(
            out.contains(&format!("{PL3}  id=0x2030f  member=0")),
            "{out}"
        );
        let o = env.cli(&["clm", "leave", "PL-3"]);
        assert!(String::from_utf8_lossy(&o.stderr).contains("is not a member"));
    });
}
