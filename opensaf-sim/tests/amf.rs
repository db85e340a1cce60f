//! AMF through the C ABI of the built library: initialize, dispatch, register,
//! healthchecks, CSI callbacks and responses, error reports.

// `call!` (tests/common) expands the test's argument expressions in its unsafe block.
#![allow(clippy::macro_metavars_in_unsafe)]

mod common;

use std::ffi::CStr;
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
        std::thread::sleep(Duration::from_millis(120));
        let to = env.events_named("hc-timeout");
        assert_eq!(to.len(), 1, "one timeout recorded");
        assert_eq!(to[0].str("recovery"), Some("COMPONENT_FAILOVER"));
        assert!(to[0].num("latency_us").unwrap() >= 40_000);
        // The period expired while the answer was pending: the next callback follows the
        // (late) answer at once.
        assert!(!readable(fd, 0));
        let late = Instant::now();
        assert_eq!(respond(env, h, inv, 1), OK);
        assert!(readable(fd, 10), "fires right after the answer");
        assert!(late.elapsed() < Duration::from_millis(15));
        assert_eq!(dispatch(env, h, 2), OK);
        let Cb::Hc { inv, .. } = take()[0] else {
            panic!()
        };
        // An error answer is a healthcheck failure; errors other than FAILED_OPERATION are
        // turned into FAILED_OPERATION.
        assert_eq!(respond(env, h, inv, 6), OK);
        let f = env.events_named("hc-failed");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].str("error"), Some("SA_AIS_ERR_FAILED_OPERATION"));
        assert_eq!(f[0].str("recovery"), Some("COMPONENT_FAILOVER"));
        let answered = env.events_named("hc-answered");
        assert_eq!(answered.len(), 3);
        assert!(answered
            .iter()
            .all(|e| e.num("latency_us").is_some() && e.str("time").is_some()));
        assert_eq!(
            answered[1].get("late"),
            Some(&opensaf_sim::events::Val::Bool(true))
        );
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
            let Cb::CsiSet { ha, .. } = wait_dispatch(env, h, fd, 500)[0].clone() else {
                panic!()
            };
            assert_eq!(ha, 1);
            std::thread::sleep(Duration::from_millis(300));
            let to = env.events_named("cb-timeout");
            assert_eq!(to.len(), 1);
            assert_eq!(to[0].str("callback"), Some("csi-set-active"));
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
