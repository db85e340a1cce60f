//! AMF through the C ABI of the built library: initialize, dispatch, register,
//! healthchecks, CSI callbacks and responses, error reports.

// `call!` (tests/common) expands the test's argument expressions in its unsafe block.
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::ffi::CStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::*;
use opensaf_sys::*;

#[derive(Debug, Clone, PartialEq)]
enum Cb {
    Hc {
        inv: u64,
        key: String,
        comp: String,
    },
    CsiSet {
        inv: u64,
        comp: String,
        ha: u32,
        flags: u32,
        csi: String,
        transition: u32,
    },
    CsiRemove {
        inv: u64,
        csi: String,
        flags: u32,
    },
    Terminate {
        inv: u64,
    },
}

static CBS: Mutex<Vec<(Instant, Cb)>> = Mutex::new(Vec::new());
static AMF: OnceLock<&'static AmfApi> = OnceLock::new();

fn name_of(p: *const SaNameT) -> String {
    let b = call!(AMF.get().unwrap().saAisNameBorrow, p);
    // SAFETY: Borrow returns a C string valid while the name lives (during the callback).
    unsafe { CStr::from_ptr(b) }.to_str().unwrap().to_string()
}

fn record(cb: Cb) {
    CBS.lock().unwrap().push((Instant::now(), cb));
}

unsafe extern "C" fn hc_cb(
    inv: SaInvocationT,
    comp: *const SaNameT,
    key: *mut SaAmfHealthcheckKeyT,
) {
    // SAFETY: the simulator passes a valid key for the duration of the callback.
    let k = unsafe { &*key };
    let key = String::from_utf8(k.key[..k.keyLen as usize].to_vec()).unwrap();
    record(Cb::Hc {
        inv,
        key,
        comp: name_of(comp),
    });
}

unsafe extern "C" fn csi_set_cb(
    inv: SaInvocationT,
    comp: *const SaNameT,
    ha: SaAmfHAStateT,
    d: SaAmfCSIDescriptorT,
) {
    // SAFETY: reading the union member AMF fills for ACTIVE (zero otherwise).
    let transition = unsafe { d.csiStateDescriptor.activeDescriptor.transitionDescriptor.0 };
    record(Cb::CsiSet {
        inv,
        comp: name_of(comp),
        ha: ha.0,
        flags: d.csiFlags,
        csi: name_of(&d.csiName),
        transition,
    });
}

unsafe extern "C" fn csi_remove_cb(
    inv: SaInvocationT,
    _comp: *const SaNameT,
    csi: *const SaNameT,
    flags: SaAmfCSIFlagsT,
) {
    record(Cb::CsiRemove {
        inv,
        csi: name_of(csi),
        flags,
    });
}

unsafe extern "C" fn terminate_cb(inv: SaInvocationT, _comp: *const SaNameT) {
    record(Cb::Terminate { inv });
}

fn all_callbacks() -> SaAmfCallbacksT_4 {
    SaAmfCallbacksT_4 {
        saAmfHealthcheckCallback: Some(hc_cb),
        saAmfComponentTerminateCallback: Some(terminate_cb),
        saAmfCSISetCallback: Some(csi_set_cb),
        saAmfCSIRemoveCallback: Some(csi_remove_cb),
        ..Default::default()
    }
}

fn init(env: &Env, cbs: &SaAmfCallbacksT_4) -> u64 {
    AMF.get_or_init(|| env.amf());
    let mut h = 0;
    let mut v = version(b'B', 4, 1);
    assert_eq!(call!(env.amf().saAmfInitialize_4, &mut h, cbs, &mut v), OK);
    h
}

fn sel(env: &Env, h: u64) -> u64 {
    let mut fd = 0;
    assert_eq!(call!(env.amf().saAmfSelectionObjectGet, h, &mut fd), OK);
    fd
}

fn dispatch(env: &Env, h: u64, flags: u32) -> SaAisErrorT {
    call!(env.amf().saAmfDispatch, h, SaDispatchFlagsT(flags))
}

fn take() -> Vec<Cb> {
    CBS.lock().unwrap().drain(..).map(|(_, c)| c).collect()
}

fn register(env: &Env, h: u64) {
    let n = Name::new(env, COMP);
    assert_eq!(
        call!(
            env.amf().saAmfComponentRegister,
            h,
            n.ptr(),
            std::ptr::null()
        ),
        OK
    );
}

fn key(k: &str) -> SaAmfHealthcheckKeyT {
    let mut key = SaAmfHealthcheckKeyT::default();
    key.key[..k.len()].copy_from_slice(k.as_bytes());
    key.keyLen = k.len() as u16;
    key
}

fn hc_start(
    env: &Env,
    h: u64,
    comp: &str,
    k: &SaAmfHealthcheckKeyT,
    inv_type: u32,
    rec: u32,
) -> SaAisErrorT {
    let n = Name::new(env, comp);
    call!(
        env.amf().saAmfHealthcheckStart,
        h,
        n.ptr(),
        k,
        SaAmfHealthcheckInvocationT(inv_type),
        SaAmfRecommendedRecoveryT(rec)
    )
}

fn respond(env: &Env, h: u64, inv: u64, e: u32) -> SaAisErrorT {
    call!(
        env.amf().saAmfResponse_4,
        h,
        inv,
        std::ptr::null_mut(),
        SaAisErrorT(e)
    )
}

/// Waits until the selection object is readable, then dispatches ALL.
fn wait_dispatch(env: &Env, h: u64, fd: u64, ms: i32) -> Vec<Cb> {
    assert!(readable(fd, ms), "no callback within {ms} ms");
    assert_eq!(dispatch(env, h, 2), OK);
    take()
}

/// Answers the CSI set AMF sends after register.
fn accept_initial_csi(env: &Env, h: u64, fd: u64) {
    let cbs = wait_dispatch(env, h, fd, 1000);
    let Cb::CsiSet { inv, .. } = cbs[0] else {
        panic!("expected CSI set, got {cbs:?}")
    };
    assert_eq!(respond(env, h, inv, 1), OK);
}

/// The HA state the simulator records for the component (`opensaf-sim status`).
fn ha_state(env: &Env) -> String {
    let out = env.cli_ok(&["status"]);
    out.split_whitespace()
        .find_map(|w| w.strip_prefix("ha="))
        .unwrap_or_else(|| panic!("no HA state in {out}"))
        .to_string()
}

#[test]
fn initialize_negotiates_version() {
    isolated("initialize_negotiates_version", &[], |env| {
        // (requested, expected code); the supported version is written back every time.
        let table: &[((u8, u8, u8), u32)] = &[
            ((b'B', 4, 1), 1),
            ((b'B', 4, 0), 1),
            ((b'B', 4, 9), 1),
            ((b'B', 1, 1), 3),
            ((b'B', 5, 1), 3),
            ((b'A', 4, 1), 3),
            ((b'C', 4, 1), 3),
        ];
        for &((r, ma, mi), code) in table {
            let mut h = 0;
            let mut v = version(r, ma, mi);
            let got = call!(
                env.amf().saAmfInitialize_4,
                &mut h,
                &all_callbacks(),
                &mut v
            );
            assert_eq!(got, err(code), "version {}.{ma}.{mi}", r as char);
            assert_eq!(
                (v.releaseCode, v.majorVersion, v.minorVersion),
                (b'B', 4, 1)
            );
        }
        let mut h = 0;
        let mut v = version(b'B', 4, 1);
        assert_eq!(
            call!(
                env.amf().saAmfInitialize_4,
                std::ptr::null_mut(),
                &all_callbacks(),
                &mut v
            ),
            err(7)
        );
        assert_eq!(
            call!(
                env.amf().saAmfInitialize_4,
                &mut h,
                &all_callbacks(),
                std::ptr::null_mut()
            ),
            err(7)
        );
        // NULL callbacks are allowed at initialize (register then fails with INIT).
        assert_eq!(
            call!(
                env.amf().saAmfInitialize_4,
                &mut h,
                std::ptr::null(),
                &mut v
            ),
            OK
        );
        let n = Name::new(env, COMP);
        assert_eq!(
            call!(
                env.amf().saAmfComponentRegister,
                h,
                n.ptr(),
                std::ptr::null()
            ),
            err(4)
        );
    });
}

#[test]
fn handles_selection_and_dispatch_flags() {
    isolated("handles_selection_and_dispatch_flags", &[], |env| {
        let h = init(env, &all_callbacks());
        let fd = sel(env, h);
        assert!(!readable(fd, 0), "no callback is pending yet");
        assert_eq!(
            call!(env.amf().saAmfSelectionObjectGet, h, std::ptr::null_mut()),
            err(7)
        );
        let mut x = 0;
        assert_eq!(
            call!(env.amf().saAmfSelectionObjectGet, 12345, &mut x),
            err(9)
        );
        for (flags, code) in [(0, 7), (4, 7), (1, 1), (2, 1)] {
            assert_eq!(dispatch(env, h, flags), err(code), "flags {flags}");
        }
        assert_eq!(dispatch(env, 999, 1), err(9));
        assert_eq!(call!(env.amf().saAmfFinalize, h), OK);
        assert_eq!(call!(env.amf().saAmfFinalize, h), err(9));
        assert_eq!(dispatch(env, h, 2), err(9));
        assert_eq!(call!(env.amf().saAmfSelectionObjectGet, h, &mut x), err(9));
    });
}

#[test]
fn component_name_from_environment() {
    isolated("component_name_from_environment", &[], |env| {
        let h = init(env, &all_callbacks());
        let mut n = SaNameT::default();
        assert_eq!(call!(env.amf().saAmfComponentNameGet, h, &mut n), OK);
        assert_eq!(borrow(env, &n), COMP);
        assert_eq!(
            call!(env.amf().saAmfComponentNameGet, h, std::ptr::null_mut()),
            err(7)
        );
        assert_eq!(call!(env.amf().saAmfComponentNameGet, 77, &mut n), err(9));
    });
}

#[test]
fn component_name_unset_is_not_exist() {
    isolated(
        "component_name_unset_is_not_exist",
        &[("SA_AMF_COMPONENT_NAME", UNSET)],
        |env| {
            let h = init(env, &all_callbacks());
            let mut n = SaNameT::default();
            assert_eq!(call!(env.amf().saAmfComponentNameGet, h, &mut n), err(12));
        },
    );
}

#[test]
fn register_rules() {
    isolated("register_rules", &[], |env| {
        let full = all_callbacks();
        let missing: [SaAmfCallbacksT_4; 3] = [
            SaAmfCallbacksT_4 {
                saAmfCSISetCallback: None,
                ..full
            },
            SaAmfCallbacksT_4 {
                saAmfCSIRemoveCallback: None,
                ..full
            },
            SaAmfCallbacksT_4 {
                saAmfComponentTerminateCallback: None,
                ..full
            },
        ];
        for cbs in &missing {
            let h = init(env, cbs);
            let n = Name::new(env, COMP);
            assert_eq!(
                call!(
                    env.amf().saAmfComponentRegister,
                    h,
                    n.ptr(),
                    std::ptr::null()
                ),
                err(4)
            );
        }
        let h = init(env, &full);
        let other_len = Name::new(env, "safComp=x,safSu=SU-SC-1,safSg=macsync,safApp=macsync");
        let same_len = Name::new(env, &COMP.replace("macsync,", "macsynX,"));
        let comp = Name::new(env, COMP);
        let table: &[(*const SaNameT, *const SaNameT, u32)] = &[
            (std::ptr::null(), std::ptr::null(), 7),
            (other_len.ptr(), std::ptr::null(), 7),
            (same_len.ptr(), std::ptr::null(), 20),
            (comp.ptr(), comp.ptr(), 7),
            (comp.ptr(), std::ptr::null(), 1),
            (comp.ptr(), std::ptr::null(), 14),
        ];
        for (i, &(n, proxy, code)) in table.iter().enumerate() {
            assert_eq!(
                call!(env.amf().saAmfComponentRegister, h, n, proxy),
                err(code),
                "row {i}"
            );
        }
        assert_eq!(
            call!(
                env.amf().saAmfComponentRegister,
                4242,
                comp.ptr(),
                std::ptr::null()
            ),
            err(9)
        );
        // Unregister, then register again works.
        assert_eq!(
            call!(
                env.amf().saAmfComponentUnregister,
                h,
                comp.ptr(),
                std::ptr::null()
            ),
            OK
        );
        assert_eq!(
            call!(
                env.amf().saAmfComponentUnregister,
                h,
                comp.ptr(),
                std::ptr::null()
            ),
            err(12)
        );
        assert_eq!(
            call!(
                env.amf().saAmfComponentRegister,
                h,
                comp.ptr(),
                std::ptr::null()
            ),
            OK
        );
    });
}

#[test]
fn csi_set_active_after_register_and_response_rules() {
    isolated(
        "csi_set_active_after_register_and_response_rules",
        &[],
        |env| {
            let h = init(env, &all_callbacks());
            let fd = sel(env, h);
            register(env, h);
            assert!(readable(fd, 1000));
            assert_eq!(dispatch(env, h, 1), OK);
            assert!(
                !readable(fd, 0),
                "the queue is empty after the only callback"
            );
            let cbs = take();
            let Cb::CsiSet {
                inv,
                comp,
                ha,
                flags,
                csi,
                transition,
            } = cbs[0].clone()
            else {
                panic!("expected a CSI set, got {cbs:?}")
            };
            assert_eq!((comp.as_str(), ha, flags, transition), (COMP, 1, 4, 1));
            assert_eq!(csi, "safCsi=macsync,safSi=macsync,safApp=macsync");
            let mut corr = SaNtfCorrelationIdsT::default();
            // correlationIds must be NULL with OK; unknown invocations do not exist.
            assert_eq!(
                call!(env.amf().saAmfResponse_4, h, inv, &mut corr, SaAisErrorT(1)),
                err(7)
            );
            assert_eq!(respond(env, h, inv + 1_000_000, 1), err(12));
            assert_eq!(respond(env, 31337, inv, 1), err(9));
            assert_eq!(respond(env, h, inv, 1), OK);
            assert_eq!(respond(env, h, inv, 1), err(12), "answered once only");
            let ev = env.events_named("cb-response");
            assert_eq!(ev.len(), 1);
            assert_eq!(ev[0].str("callback"), Some("csi-set-active"));
            assert_eq!(ev[0].str("error"), Some("SA_AIS_OK"));
            assert!(ev[0].num("latency_us").is_some());
        },
    );
}

#[test]
fn healthcheck_start_rules() {
    isolated("healthcheck_start_rules", &[], |env| {
        env.load_xml("tests/data/amf-model.xml");
        let h = init(env, &all_callbacks());
        let k = key("macsync");
        // Before register: BAD_OPERATION.
        assert_eq!(hc_start(env, h, COMP, &k, 1, 2), err(20));
        register(env, h);
        let mut long_key = key("");
        long_key.keyLen = 33;
        let table: &[(&str, SaAmfHealthcheckKeyT, u32, u32, u32)] = &[
            (COMP, k, 0, 2, 7),
            (COMP, k, 3, 2, 7),
            (COMP, key(""), 1, 2, 7),
            (COMP, long_key, 1, 2, 7),
            (COMP, k, 1, 0, 11),
            (COMP, k, 1, 10, 11),
            (COMP, key("nosuchkey"), 1, 2, 12),
            ("safComp=other,safSu=x", k, 1, 2, 12),
            (COMP, k, 1, 2, 1),
            (COMP, k, 1, 2, 14),
            (COMP, key("override"), 2, 3, 1),
        ];
        for (i, (comp, key, it, rec, code)) in table.iter().enumerate() {
            assert_eq!(
                hc_start(env, h, comp, key, *it, *rec),
                err(*code),
                "row {i}"
            );
        }
        let n = Name::new(env, COMP);
        assert_eq!(
            call!(
                env.amf().saAmfHealthcheckStart,
                h,
                n.ptr(),
                std::ptr::null(),
                SaAmfHealthcheckInvocationT(1),
                SaAmfRecommendedRecoveryT(2)
            ),
            err(7)
        );
        // AMF-invoked without a healthcheck callback: INIT.
        let h2 = init(
            env,
            &SaAmfCallbacksT_4 {
                saAmfHealthcheckCallback: None,
                ..all_callbacks()
            },
        );
        assert_eq!(hc_start(env, h2, COMP, &key("fast"), 1, 2), err(4));
        assert_eq!(hc_start(env, h2, COMP, &key("fast"), 2, 2), OK);
        // Stop.
        assert_eq!(call!(env.amf().saAmfHealthcheckStop, h, n.ptr(), &k), OK);
        assert_eq!(
            call!(env.amf().saAmfHealthcheckStop, h, n.ptr(), &k),
            err(12)
        );
        let starts = env.events_named("hc-start");
        let ov = starts
            .iter()
            .find(|e| e.str("key") == Some("override"))
            .unwrap();
        assert_eq!(
            ov.num("period_ms"),
            Some(150),
            "SaAmfHealthcheck overrides the type"
        );
        let ty = starts
            .iter()
            .find(|e| e.str("key") == Some("macsync"))
            .unwrap();
        assert_eq!(ty.num("period_ms"), Some(200));
    });
}

#[test]
fn healthcheck_timing_answers_timeouts_failures() {
    isolated("healthcheck_timing_answers_timeouts_failures", &[], |env| {
        env.load_xml("tests/data/amf-model.xml");
        let h = init(env, &all_callbacks());
        let fd = sel(env, h);
        register(env, h);
        accept_initial_csi(env, h, fd);
        let t0 = Instant::now();
        // fast: period 60 ms, max-duration 40 ms; recovery COMPONENT_FAILOVER (3).
        assert_eq!(hc_start(env, h, COMP, &key("fast"), 1, 3), OK);
        assert!(readable(fd, 20), "the first healthcheck comes at once");
        assert_eq!(dispatch(env, h, 2), OK);
        let cbs = take();
        let Cb::Hc {
            inv,
            ref key,
            ref comp,
        } = cbs[0]
        else {
            panic!("{cbs:?}")
        };
        assert_eq!((key.as_str(), comp.as_str()), ("fast", COMP));
        assert_eq!(respond(env, h, inv, 1), OK);
        // The next one comes one period after the first.
        let cbs = wait_dispatch(env, h, fd, 500);
        let dt = t0.elapsed();
        assert!(
            dt >= Duration::from_millis(55) && dt < Duration::from_millis(130),
            "period: {dt:?}"
        );
        let Cb::Hc { inv, .. } = cbs[0] else {
            panic!("{cbs:?}")
        };
        // No answer: a timeout after max-duration, with the recovery asked for.
        let deadline = Instant::now() + Duration::from_millis(500);
        while env.events_named("hc-timeout").is_empty() {
            assert!(Instant::now() < deadline, "no hc-timeout");
            std::thread::sleep(Duration::from_millis(2));
        }
        let to = env.events_named("hc-timeout");
        assert_eq!(to.len(), 1, "one timeout recorded");
        assert_eq!(to[0].str("recovery"), Some("COMPONENT_FAILOVER"));
        assert_eq!(to[0].num("invocation"), Some(inv as i128));
        assert!(to[0].num("latency_us").unwrap() >= 40_000);
        // AMF gave up on the invocation (it runs the recovery) but keeps supervising until
        // the recovery happens: the next callback came when the period did.
        assert!(
            readable(fd, 100),
            "the next healthcheck followed the timeout"
        );
        let sent: Vec<i128> = env
            .events_named("hc-sent")
            .iter()
            .map(|e| e.num("t_us").unwrap())
            .collect();
        assert_eq!(sent.len(), 3, "{sent:?}");
        let gap = sent[2] - sent[1];
        assert!(
            (55_000..100_000).contains(&gap),
            "period after a timeout: {gap} us"
        );
        // A late answer finds no invocation, whatever it says, and is recorded as such.
        for (answer, recorded) in [(1, "SA_AIS_OK"), (6, "SA_AIS_ERR_FAILED_OPERATION")] {
            assert_eq!(
                respond(env, h, inv, answer),
                err(12),
                "late answer {answer}"
            );
            let late = env.events_named("hc-late-response");
            let last = late.last().unwrap();
            assert_eq!(last.num("invocation"), Some(inv as i128));
            assert_eq!(last.str("key"), Some("fast"));
            assert_eq!(last.str("error"), Some(recorded));
            assert_eq!(last.str("result"), Some("SA_AIS_ERR_NOT_EXIST"));
            assert!(last.num("latency_us").unwrap() >= 40_000);
        }
        assert_eq!(env.events_named("hc-late-response").len(), 2);
        assert!(env.events_named("hc-failed").is_empty(), "a refused answer");
        assert_eq!(dispatch(env, h, 2), OK);
        let Cb::Hc { inv: next, .. } = take()[0] else {
            panic!()
        };
        assert_ne!(next, inv);
        // An error answer is a healthcheck failure; errors other than FAILED_OPERATION are
        // turned into FAILED_OPERATION.
        assert_eq!(respond(env, h, next, 6), OK);
        let f = env.events_named("hc-failed");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].str("error"), Some("SA_AIS_ERR_FAILED_OPERATION"));
        assert_eq!(f[0].str("recovery"), Some("COMPONENT_FAILOVER"));
        let answered = env.events_named("hc-answered");
        assert_eq!(answered.len(), 2, "the late answer is not an answer");
        assert!(answered
            .iter()
            .all(|e| e.num("latency_us").is_some() && e.str("time").is_some()));
        // The timeout comes before the late attempt in the log.
        let names: Vec<String> = env.events().iter().map(|e| e.name().to_string()).collect();
        let pos = |n: &str| names.iter().position(|x| x == n).unwrap();
        assert!(pos("hc-timeout") < pos("hc-late-response"));
    });
}

#[test]
fn healthcheck_period_change_applies() {
    isolated("healthcheck_period_change_applies", &[], |env| {
        env.load_xml("tests/data/amf-model.xml");
        let h = init(env, &all_callbacks());
        let fd = sel(env, h);
        register(env, h);
        accept_initial_csi(env, h, fd);
        assert_eq!(hc_start(env, h, COMP, &key("macsync"), 1, 2), OK);
        let Cb::Hc { inv, .. } = wait_dispatch(env, h, fd, 50)[0] else {
            panic!()
        };
        assert_eq!(respond(env, h, inv, 1), OK);
        env.cli_ok(&[
            "immcfg",
            "-a",
            "saAmfHctDefPeriod=30000000",
            "safHealthcheckKey=macsync,safVersion=1,safCompType=macsync",
        ]);
        // The callback already scheduled (200 ms) comes first, then 30 ms periods.
        let mut times = Vec::new();
        while times.len() < 4 {
            let Cb::Hc { inv, .. } = wait_dispatch(env, h, fd, 500)[0] else {
                panic!()
            };
            times.push(Instant::now());
            assert_eq!(respond(env, h, inv, 1), OK);
        }
        let gap = times[3] - times[2];
        assert!(
            gap < Duration::from_millis(90),
            "new period applied: {gap:?}"
        );
    });
}

#[test]
fn quiescing_remove_terminate_from_cli() {
    isolated(
        "quiescing_remove_terminate_from_cli",
        &[("OPENSAF_SIM_CALLBACK_TIMEOUT_MS", "150")],
        |env| {
            let h = init(env, &all_callbacks());
            let fd = sel(env, h);
            register(env, h);
            accept_initial_csi(env, h, fd);
            env.cli_ok(&["amf", "csi-quiescing"]);
            let Cb::CsiSet { inv, ha, flags, .. } = wait_dispatch(env, h, fd, 500)[0].clone()
            else {
                panic!()
            };
            assert_eq!((ha, flags), (4, 4));
            // QuiescingComplete needs the response first, with the same invocation.
            assert_eq!(
                call!(env.amf().saAmfCSIQuiescingComplete, h, inv, SaAisErrorT(1)),
                err(12)
            );
            assert_eq!(respond(env, h, inv, 1), OK);
            assert_eq!(
                call!(
                    env.amf().saAmfCSIQuiescingComplete,
                    h,
                    inv + 1,
                    SaAisErrorT(1)
                ),
                err(12)
            );
            assert_eq!(
                call!(env.amf().saAmfCSIQuiescingComplete, h, inv, SaAisErrorT(1)),
                OK
            );
            assert_eq!(env.events_named("quiescing-complete").len(), 1);
            env.cli_ok(&["amf", "csi-quiesced"]);
            let Cb::CsiSet { inv, ha, .. } = wait_dispatch(env, h, fd, 500)[0].clone() else {
                panic!()
            };
            assert_eq!(ha, 3);
            assert_eq!(respond(env, h, inv, 1), OK);
            env.cli_ok(&["amf", "csi-remove"]);
            let Cb::CsiRemove { inv, flags, csi } = wait_dispatch(env, h, fd, 500)[0].clone()
            else {
                panic!()
            };
            assert_eq!(
                (flags, csi.as_str()),
                (4, "safCsi=macsync,safSi=macsync,safApp=macsync")
            );
            assert_eq!(respond(env, h, inv, 1), OK);
            // A callback left unanswered is recorded as a timeout after callback_timeout_ms.
            env.cli_ok(&["amf", "csi-active"]);
            let Cb::CsiSet { inv, ha, .. } = wait_dispatch(env, h, fd, 500)[0].clone() else {
                panic!()
            };
            assert_eq!(ha, 1);
            std::thread::sleep(Duration::from_millis(300));
            let to = env.events_named("cb-timeout");
            assert_eq!(to.len(), 1);
            assert_eq!(to[0].str("callback"), Some("csi-set-active"));
            // AMF gave up on it: the late answer is refused and changes nothing.
            assert_eq!(respond(env, h, inv, 1), err(12));
            assert_eq!(ha_state(env), "-", "still removed");
            env.cli_ok(&["amf", "terminate"]);
            let Cb::Terminate { inv } = wait_dispatch(env, h, fd, 500)[0].clone() else {
                panic!()
            };
            assert_eq!(respond(env, h, inv, 1), OK);
            assert_eq!(call!(env.amf().saAmfFinalize, h), OK);
            let out = env.cli(&["amf", "csi-remove"]);
            assert!(
                !out.status.success(),
                "no registered component after finalize"
            );
            let names: Vec<String> = env.events().iter().map(|e| e.name().to_string()).collect();
            for n in [
                "comp-register",
                "csi-set",
                "cb-response",
                "csi-remove",
                "terminate",
                "amf-finalize",
            ] {
                assert!(
                    names.iter().any(|x| x == n),
                    "event {n} missing in {names:?}"
                );
            }
        },
    );
}

#[test]
fn error_report_rules() {
    isolated("error_report_rules", &[], |env| {
        let h = init(env, &all_callbacks());
        let n = Name::new(env, COMP);
        let mut ok = SaNtfCorrelationIdsT::default();
        let mut root = SaNtfCorrelationIdsT {
            rootCorrelationId: 5,
            ..Default::default()
        };
        let mut parent = SaNtfCorrelationIdsT {
            parentCorrelationId: 5,
            ..Default::default()
        };
        let rec = |r| SaAmfRecommendedRecoveryT(r);
        let f = env.amf().saAmfComponentErrorReport_4;
        assert_eq!(
            call!(f, h, n.ptr(), 0, rec(2), std::ptr::null_mut()),
            err(7)
        );
        assert_eq!(call!(f, h, n.ptr(), 0, rec(2), &mut root), err(7));
        assert_eq!(call!(f, h, n.ptr(), 0, rec(2), &mut parent), err(7));
        assert_eq!(call!(f, h, std::ptr::null(), 0, rec(2), &mut ok), err(7));
        assert_eq!(call!(f, h, n.ptr(), 0, rec(0), &mut ok), err(7));
        assert_eq!(call!(f, 99, n.ptr(), 0, rec(2), &mut ok), err(9));
        assert_eq!(call!(f, h, n.ptr(), 123, rec(2), &mut ok), OK);
        let ev = env.events_named("error-report");
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].str("recovery"), Some("COMPONENT_RESTART"));
    });
}

#[test]
fn dispatch_one_all_and_blocking() {
    isolated("dispatch_one_all_and_blocking", &[], |env| {
        env.load_xml("tests/data/amf-model.xml");
        let h = init(env, &all_callbacks());
        let fd = sel(env, h);
        register(env, h);
        assert_eq!(hc_start(env, h, COMP, &key("macsync"), 1, 2), OK);
        assert!(readable(fd, 100));
        assert_eq!(dispatch(env, h, 1), OK);
        assert_eq!(take().len(), 1, "ONE runs one callback");
        assert!(
            readable(fd, 0),
            "the fd stays readable while callbacks are pending"
        );
        assert_eq!(dispatch(env, h, 2), OK);
        assert_eq!(take().len(), 1);
        assert!(!readable(fd, 0));
        // BLOCKING returns when the handle is finalized from another thread.
        let amf = env.amf();
        let t = std::thread::spawn(move || call!(amf.saAmfDispatch, h, SaDispatchFlagsT(3)));
        std::thread::sleep(Duration::from_millis(100));
        assert!(!t.is_finished());
        assert_eq!(call!(env.amf().saAmfFinalize, h), OK);
        assert_eq!(t.join().unwrap(), OK);
    });
}

#[test]
fn names_lend_and_borrow() {
    isolated("names_lend_and_borrow", &[], |env| {
        for s in ["a=b", &"x".repeat(255), &format!("a={}", "y".repeat(400))] {
            let n = Name::new(env, s);
            assert_eq!(borrow(env, n.ptr()), s);
        }
        // The IMM library exports the same helpers.
        let c = std::ffi::CString::new("safApp=x").unwrap();
        let mut n = SaNameT::default();
        call!(env.oi().saAisNameLend, c.as_ptr(), &mut n);
        let p = call!(env.oi().saAisNameBorrow, &n);
        // SAFETY: Borrow returns a C string inside `n`.
        assert_eq!(unsafe { CStr::from_ptr(p) }.to_str().unwrap(), "safApp=x");
        assert!(call!(env.oi().saAisNameBorrow, std::ptr::null()).is_null());
    });
}

#[test]
fn project_amf_model_configures_the_healthcheck() {
    let sample =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/macsync-amf.xml");
    if !sample.exists() {
        eprintln!("samples/macsync-amf.xml not written yet; skipped");
        return;
    }
    let comp = "safComp=macsync,safSu=SC-1,safSg=macsync,safApp=macsync";
    isolated(
        "project_amf_model_configures_the_healthcheck",
        &[("SA_AMF_COMPONENT_NAME", comp)],
        |env| {
            env.load_xml("../samples/macsync-amf.xml");
            let h = init(env, &all_callbacks());
            let n = Name::new(env, comp);
            assert_eq!(
                call!(
                    env.amf().saAmfComponentRegister,
                    h,
                    n.ptr(),
                    std::ptr::null()
                ),
                OK
            );
            assert_eq!(hc_start(env, h, comp, &key("macsync"), 1, 2), OK);
            let ev = env.events_named("hc-start");
            assert!(
                ev[0].num("period_ms").unwrap() > 0 && ev[0].num("max_duration_ms").unwrap() > 0
            );
            let fd = sel(env, h);
            let cbs = wait_dispatch(env, h, fd, 500);
            assert!(cbs.iter().any(|c| matches!(c, Cb::CsiSet { csi, .. } if csi == "safCsi=macsync,safSi=macsync,safApp=macsync")));
            assert!(cbs
                .iter()
                .any(|c| matches!(c, Cb::Hc { key, .. } if key == "macsync")));
        },
    );
}

/// The runtime-object creates of one slowed-down IMM client, until `stop`: how long each
/// took. (The OI handle is its own, finalized at the end, so the rows of a table can each
/// start one.)
fn slow_imm_writer(env: &Env, prefix: &str, stop: &AtomicBool) -> Vec<Duration> {
    let oi = oi_init(env, None);
    assert_eq!(impl_set(env, oi, "macsync-SC-1"), OK);
    let node = format!("macSyncNodeId={prefix}");
    let b = node_attrs(env, &node, 0, 0);
    assert_eq!(rt_create(env, oi, "MacSyncNode", None, &b), OK);
    let mut took = Vec::new();
    while !stop.load(Ordering::Acquire) {
        let rdn = format!("macSyncInterfaceId=eth{}", took.len());
        let t = Instant::now();
        assert_eq!(create_if(env, oi, &node, &rdn, "02:00:00:00:00:01"), OK);
        took.push(t.elapsed());
    }
    assert_eq!(call!(env.oi().saImmOiFinalize, oi), OK);
    took
}

/// How a row of `healthchecks_never_wait_behind_slow_imm_calls` slows IMM down.
enum SlowImm {
    /// An `opensaf-sim` command (a setting or a fault); every IMM call then takes at
    /// least the duration.
    Cli(&'static [&'static str], Duration),
    /// Another writer holds the IMM store's lock (`imm.lock`, through its own open file
    /// description, exactly as another process would) for stretches of this long.
    StoreLockHeld(Duration),
}

/// Sets a stop flag when dropped, also when a failed assertion unwinds (so the scoped
/// threads end and the failure is reported instead of hanging the test).
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Holds `imm.lock` exclusively in `hold` stretches (10 ms apart) until `stop`.
fn hold_store_lock(dir: &std::path::Path, hold: Duration, stop: &AtomicBool) {
    use std::os::fd::AsRawFd;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.join("imm.lock"))
        .unwrap();
    while !stop.load(Ordering::Acquire) {
        // SAFETY: flock on a descriptor this function owns.
        assert_eq!(unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) }, 0);
        std::thread::sleep(hold);
        // SAFETY: as above.
        unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_UN) };
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// HealthcheckStart does not wait for IMM either: AMF read the component's keys at
/// register. Checked with the store's lock surely held (by this thread, through its own
/// open file description, as another process would).
fn healthcheck_start_while_store_locked(env: &Env, h: u64) {
    use std::os::fd::AsRawFd;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(env.dir.join("imm.lock"))
        .unwrap();
    // SAFETY: flock on a descriptor this function owns (unlocked when it is closed).
    assert_eq!(unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) }, 0);
    let t = Instant::now();
    assert_eq!(hc_start(env, h, COMP, &key("macsync"), 2, 2), OK);
    let took = t.elapsed();
    drop(f);
    let n = Name::new(env, COMP);
    assert_eq!(
        call!(env.amf().saAmfHealthcheckStop, h, n.ptr(), &key("macsync")),
        OK
    );
    assert!(
        took < Duration::from_millis(10),
        "saAmfHealthcheckStart took {took:?} while IMM was busy"
    );
}

#[test]
fn healthchecks_never_wait_behind_slow_imm_calls() {
    isolated(
        "healthchecks_never_wait_behind_slow_imm_calls",
        &[],
        |env| {
            env.load_xml("tests/data/amf-model.xml");
            env.load_xml("../samples/macsync-classes.xml");
            let h = init(env, &all_callbacks());
            let fd = sel(env, h);
            register(env, h);
            accept_initial_csi(env, h, fd);
            // p50: period 50 ms, max-duration 2 s (a slow answer is measured, not timed out).
            assert_eq!(hc_start(env, h, COMP, &key("p50"), 1, 2), OK);
            const PERIOD_MS: i128 = 50;
            let table: &[SlowImm] = &[
                SlowImm::Cli(
                    &["config", "imm_latency_us=20000"],
                    Duration::from_millis(20),
                ),
                SlowImm::Cli(
                    &["fault", "delay", "--ms", "200"],
                    Duration::from_millis(200),
                ),
                SlowImm::StoreLockHeld(Duration::from_millis(400)),
            ];
            const WINDOW: Duration = Duration::from_millis(1500);
            // Answer latency bound: far below every row's IMM delay.
            const BOUND_US: i128 = 10_000;
            let amf_stop = AtomicBool::new(false);
            std::thread::scope(|s| {
                // The AMF thread answers every healthcheck as soon as its fd is readable.
                let amf_thread = s.spawn(|| {
                    let mut answered = 0;
                    while !amf_stop.load(Ordering::Acquire) {
                        if !readable(fd, 20) {
                            continue;
                        }
                        assert_eq!(dispatch(env, h, 2), OK);
                        for cb in take() {
                            if let Cb::Hc { inv, .. } = cb {
                                assert_eq!(respond(env, h, inv, 1), OK);
                                answered += 1;
                            }
                        }
                    }
                    answered
                });
                let stop_amf = StopOnDrop(&amf_stop);
                for (row, slow) in table.iter().enumerate() {
                    env.cli_ok(&["config", "imm_latency_us=0"]);
                    if let SlowImm::Cli(args, _) = slow {
                        env.cli_ok(args);
                    }
                    let imm_stop = AtomicBool::new(false);
                    let from_us = opensaf_sim::clock::unix_now().as_micros() as i128;
                    let took = std::thread::scope(|s2| {
                        let _stop_imm = StopOnDrop(&imm_stop);
                        if let SlowImm::StoreLockHeld(hold) = slow {
                            s2.spawn(|| hold_store_lock(&env.dir, *hold, &imm_stop));
                        }
                        let w = s2.spawn(|| slow_imm_writer(env, &format!("row{row}"), &imm_stop));
                        std::thread::sleep(WINDOW / 3);
                        if let SlowImm::StoreLockHeld(_) = slow {
                            healthcheck_start_while_store_locked(env, h);
                        }
                        std::thread::sleep(WINDOW - WINDOW / 3);
                        imm_stop.store(true, Ordering::Release);
                        w.join().unwrap()
                    });
                    let to_us = opensaf_sim::clock::unix_now().as_micros() as i128;
                    env.cli_ok(&["fault", "clear"]);
                    // The IMM calls really were slow, all through the window.
                    assert!(took.len() >= 3, "row {row}: {} creates", took.len());
                    let (fastest, slowest) =
                        (took.iter().min().unwrap(), took.iter().max().unwrap());
                    match slow {
                        SlowImm::Cli(_, d) => assert!(fastest >= d, "row {row}: {fastest:?}"),
                        SlowImm::StoreLockHeld(d) => {
                            assert!(*slowest >= *d * 3 / 4, "row {row}: {slowest:?}")
                        }
                    }
                    let in_window = |name: &str| -> Vec<opensaf_sim::events::Event> {
                        env.events_named(name)
                            .into_iter()
                            .filter(|e| (from_us..=to_us).contains(&e.num("t_us").unwrap()))
                            .collect()
                    };
                    let answers: Vec<i128> = in_window("hc-answered")
                        .iter()
                        .map(|e| e.num("latency_us").unwrap())
                        .collect();
                    // The callbacks keep their period: no gap of three periods between two.
                    let sent: Vec<i128> = in_window("hc-sent")
                        .iter()
                        .map(|e| e.num("t_us").unwrap())
                        .collect();
                    let widest_gap = sent.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
                    let worst = answers.iter().copied().max().unwrap_or(0);
                    println!(
                        "row {row}: {} IMM creates ({fastest:?}..{slowest:?}), {} healthchecks, \
                     worst answer latency {worst} us, widest gap between callbacks {} ms",
                        took.len(),
                        answers.len(),
                        widest_gap / 1000
                    );
                    let expected = (WINDOW.as_millis() as i128 / PERIOD_MS) as usize;
                    assert!(
                        answers.len() >= expected * 2 / 3,
                        "row {row}: {} healthchecks answered in {WINDOW:?}",
                        answers.len()
                    );
                    assert!(
                        widest_gap < 3 * PERIOD_MS * 1000,
                        "row {row}: {} ms without a healthcheck callback",
                        widest_gap / 1000
                    );
                    assert!(
                        worst < BOUND_US,
                        "row {row}: a healthcheck answer took {worst} us: {answers:?}"
                    );
                }
                drop(stop_amf);
                assert!(amf_thread.join().unwrap() > 0);
            });
            assert!(env.events_named("hc-timeout").is_empty());
            let all: Vec<i128> = env
                .events_named("hc-answered")
                .iter()
                .map(|e| e.num("latency_us").unwrap())
                .collect();
            assert!(
                all.iter().all(|&us| us < BOUND_US),
                "every answer in time: {all:?}"
            );
        },
    );
}

#[test]
fn late_callback_answers_are_refused() {
    isolated(
        "late_callback_answers_are_refused",
        &[("OPENSAF_SIM_CALLBACK_TIMEOUT_MS", "100")],
        |env| {
            let h = init(env, &all_callbacks());
            let fd = sel(env, h);
            register(env, h);
            accept_initial_csi(env, h, fd);
            assert_eq!(ha_state(env), "ACTIVE");
            // (answered in time first, left unanswered, its callback label)
            let table: &[(Option<&str>, &str, &str)] = &[
                (None, "csi-standby", "csi-set-standby"),
                (Some("csi-standby"), "csi-active", "csi-set-active"),
                (Some("csi-active"), "csi-quiesced", "csi-set-quiesced"),
                (None, "csi-quiescing", "csi-set-quiescing"),
                (None, "csi-remove", "csi-remove"),
                (None, "terminate", "terminate"),
            ];
            let inv_of = |cbs: &[Cb]| match cbs[0] {
                Cb::CsiSet { inv, .. } | Cb::CsiRemove { inv, .. } | Cb::Terminate { inv } => inv,
                ref other => panic!("{other:?}"),
            };
            for (row, &(prep, action, label)) in table.iter().enumerate() {
                if let Some(p) = prep {
                    env.cli_ok(&["amf", p]);
                    let inv = inv_of(&wait_dispatch(env, h, fd, 500));
                    assert_eq!(respond(env, h, inv, 1), OK, "row {row}");
                }
                let before = ha_state(env);
                env.cli_ok(&["amf", action]);
                let inv = inv_of(&wait_dispatch(env, h, fd, 500));
                std::thread::sleep(Duration::from_millis(250));
                let timeouts = env.events_named("cb-timeout");
                let to = timeouts
                    .iter()
                    .find(|e| e.num("invocation") == Some(inv as i128))
                    .unwrap_or_else(|| panic!("row {row}: no cb-timeout in {timeouts:?}"));
                assert_eq!(to.str("callback"), Some(label), "row {row}");
                // Whatever the late answer says, the invocation is gone.
                assert_eq!(respond(env, h, inv, 1), err(12), "row {row}");
                assert_eq!(respond(env, h, inv, 21), err(12), "row {row}");
                let mut late: Vec<_> = env
                    .events_named("cb-late-response")
                    .into_iter()
                    .filter(|e| e.num("invocation") == Some(inv as i128))
                    .collect();
                if action == "csi-quiescing" {
                    // Nor can the quiescing be completed on it.
                    assert_eq!(
                        call!(env.amf().saAmfCSIQuiescingComplete, h, inv, SaAisErrorT(1)),
                        err(12)
                    );
                    late = env
                        .events_named("cb-late-response")
                        .into_iter()
                        .filter(|e| e.num("invocation") == Some(inv as i128))
                        .collect();
                    assert_eq!(late.len(), 3, "row {row}");
                    assert_eq!(late[2].str("call"), Some("saAmfCSIQuiescingComplete"));
                } else {
                    assert_eq!(late.len(), 2, "row {row}: {late:?}");
                }
                for (e, answer) in late
                    .iter()
                    .zip(["SA_AIS_OK", "SA_AIS_ERR_FAILED_OPERATION"])
                {
                    assert_eq!(e.str("callback"), Some(label), "row {row}");
                    assert_eq!(e.str("call"), Some("saAmfResponse_4"), "row {row}");
                    assert_eq!(e.str("error"), Some(answer), "row {row}");
                    assert_eq!(e.str("result"), Some("SA_AIS_ERR_NOT_EXIST"), "row {row}");
                    assert!(e.num("latency_us").unwrap() >= 100_000, "row {row}");
                    assert!(e.num("t_us") > to.num("t_us"), "row {row}: timeout first");
                }
                assert_eq!(
                    ha_state(env),
                    before,
                    "row {row}: a late answer changed the HA state"
                );
                assert!(
                    !env.events_named("cb-response")
                        .iter()
                        .any(|e| e.num("invocation") == Some(inv as i128)),
                    "row {row}: a late answer recorded as a response"
                );
            }
            // QUIESCING answered in time, but saAmfCSIQuiescingComplete comes too late.
            env.cli_ok(&["amf", "csi-quiescing"]);
            let inv = inv_of(&wait_dispatch(env, h, fd, 500));
            assert_eq!(respond(env, h, inv, 1), OK);
            let before = ha_state(env);
            std::thread::sleep(Duration::from_millis(250));
            assert!(env
                .events_named("cb-timeout")
                .iter()
                .any(|e| e.num("invocation") == Some(inv as i128)
                    && e.str("callback") == Some("quiescing-complete")));
            assert_eq!(
                call!(env.amf().saAmfCSIQuiescingComplete, h, inv, SaAisErrorT(1)),
                err(12)
            );
            let late = env.events_named("cb-late-response");
            let last = late.last().unwrap();
            assert_eq!(last.num("invocation"), Some(inv as i128));
            assert_eq!(last.str("callback"), Some("quiescing-complete"));
            assert_eq!(last.str("call"), Some("saAmfCSIQuiescingComplete"));
            assert!(env.events_named("quiescing-complete").is_empty());
            assert_eq!(ha_state(env), before);
            // An answer in time still works after all this; an unknown invocation is not
            // recorded as a late answer.
            env.cli_ok(&["amf", "csi-active"]);
            let inv = inv_of(&wait_dispatch(env, h, fd, 500));
            assert_eq!(respond(env, h, inv, 1), OK);
            assert_eq!(ha_state(env), "ACTIVE");
            let n = env.events_named("cb-late-response").len();
            assert_eq!(respond(env, h, inv + 1_000_000, 1), err(12));
            assert_eq!(env.events_named("cb-late-response").len(), n);
        },
    );
}
