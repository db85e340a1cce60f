//! The AMF agent and node director as one component process sees them: handles, the
//! component registration, healthchecks, CSI assignments and their responses.
//!
//! All timing runs in this process (a timer thread, like the real agent's threads);
//! callbacks are queued, the handle's selection object (an eventfd) becomes readable, and
//! they run only inside `saAmfDispatch` on the dispatching thread.
//!
//! An invocation not answered in time is given up (recorded as `cb-timeout` /
//! `hc-timeout`); an answer to it afterwards is refused with SA_AIS_ERR_NOT_EXIST and
//! recorded as `cb-late-response` / `hc-late-response`, as real AMF has moved on to the
//! recovery by then. AMF shares no lock with the IMM side and reads its healthcheck
//! configuration from the IMM store only when the store is free (see
//! [`healthcheck::resolve`]), so an IMM call never holds up an AMF one.

pub mod healthcheck;
pub mod timer;

use std::collections::{HashMap, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use opensaf_sys::SaAisErrorT as Ais;
use opensaf_sys::{
    SaAmfCSIDescriptorT, SaAmfCSITransitionDescriptorT, SaAmfCallbacksT_4, SaAmfHAStateT,
    SaAmfHealthcheckKeyT,
};

use crate::eventfd::EventFd;
use crate::events::Val;
use crate::ids::next_id;
use crate::instance;
use crate::mutex::lock;
use crate::names::OwnedName;

pub use healthcheck::Hc;

/// The environment variable AMF sets for the component.
pub const COMP_NAME_VAR: &str = "SA_AMF_COMPONENT_NAME";

pub const HA_ACTIVE: u32 = 1;
pub const HA_STANDBY: u32 = 2;
pub const HA_QUIESCED: u32 = 3;
pub const HA_QUIESCING: u32 = 4;
pub const CSI_TARGET_ALL: u32 = 4;

pub fn ha_name(ha: u32) -> &'static str {
    match ha {
        HA_ACTIVE => "ACTIVE",
        HA_STANDBY => "STANDBY",
        HA_QUIESCED => "QUIESCED",
        HA_QUIESCING => "QUIESCING",
        _ => "?",
    }
}

pub fn recovery_name(r: u32) -> &'static str {
    match r {
        1 => "NO_RECOMMENDATION",
        2 => "COMPONENT_RESTART",
        3 => "COMPONENT_FAILOVER",
        4 => "NODE_SWITCHOVER",
        5 => "NODE_FAILOVER",
        6 => "NODE_FAILFAST",
        7 => "CLUSTER_RESET",
        8 => "APPLICATION_RESTART",
        9 => "CONTAINER_RESTART",
        _ => "?",
    }
}

/// A callback waiting for dispatch.
#[derive(Clone)]
pub enum Callback {
    Healthcheck {
        inv: u64,
        key: SaAmfHealthcheckKeyT,
    },
    CsiSet {
        inv: u64,
        ha: u32,
        flags: u32,
        csi: String,
    },
    CsiRemove {
        inv: u64,
        flags: u32,
        csi: String,
    },
    Terminate {
        inv: u64,
    },
}

/// What an outstanding invocation is for.
#[derive(Debug, Clone, PartialEq)]
pub enum InvKind {
    Healthcheck {
        key: String,
        recovery: u32,
    },
    CsiSet {
        ha: u32,
    },
    CsiRemove,
    Terminate,
    /// A QUIESCING CSI set that was answered; `saAmfCSIQuiescingComplete` is due.
    QuiescingComplete,
}

impl InvKind {
    fn label(&self) -> String {
        match self {
            InvKind::Healthcheck { .. } => "healthcheck".into(),
            InvKind::CsiSet { ha } => format!("csi-set-{}", ha_name(*ha).to_ascii_lowercase()),
            InvKind::CsiRemove => "csi-remove".into(),
            InvKind::Terminate => "terminate".into(),
            InvKind::QuiescingComplete => "quiescing-complete".into(),
        }
    }
}

pub struct Pending {
    pub handle: u64,
    pub kind: InvKind,
    pub sent: Instant,
    pub deadline: Instant,
}

/// How many timed-out invocations are remembered (to record late answers to them).
const EXPIRED_KEPT: usize = 256;

pub struct AmfHandle {
    pub callbacks: SaAmfCallbacksT_4,
    pub efd: EventFd,
    pub queue: VecDeque<Callback>,
    pub healthchecks: Vec<Hc>,
}

impl AmfHandle {
    pub fn push(&mut self, cb: Callback) {
        self.queue.push_back(cb);
        self.efd.signal();
    }
}

#[derive(Default)]
pub struct State {
    pub handles: HashMap<u64, AmfHandle>,
    pub pending: HashMap<u64, Pending>,
    /// Invocations AMF gave up on (their answer did not come in time), oldest first: an
    /// answer to one is refused with SA_AIS_ERR_NOT_EXIST and recorded as late.
    pub expired: VecDeque<(u64, Pending)>,
    /// The registered component and the handle that registered it.
    pub registered: Option<(String, u64)>,
    pub ha_state: Option<u32>,
}

// SAFETY: the callbacks inside are plain C function pointers, callable from any thread;
// everything else is owned data. The state is only reached through its Mutex.
unsafe impl Send for State {}

pub struct Amf {
    pub state: Mutex<State>,
    pub cond: Condvar,
}

pub fn amf() -> &'static Amf {
    static A: OnceLock<Amf> = OnceLock::new();
    A.get_or_init(|| Amf {
        state: Mutex::new(State::default()),
        cond: Condvar::new(),
    })
}

pub fn state() -> MutexGuard<'static, State> {
    lock(&amf().state)
}

pub fn emit(event: &str, fields: &[(&str, Val)]) {
    if let Some(i) = instance::current() {
        i.events.emit(event, fields);
    }
}

/// The component name AMF gave this process.
pub fn env_comp_name() -> Option<String> {
    std::env::var(COMP_NAME_VAR).ok().filter(|s| !s.is_empty())
}

fn callback_timeout() -> Duration {
    let ms = instance::current()
        .map(|i| i.config().callback_timeout_ms)
        .unwrap_or(10_000);
    Duration::from_millis(ms)
}

/// Version negotiation: release 'B' major 4 answers B.04.01.
pub const AMF_VERSION: (u8, u8, u8) = (b'B', 4, 1);

pub fn initialize(callbacks: SaAmfCallbacksT_4) -> Result<u64, Ais> {
    let inst = instance::get()?;
    inst.reload_config();
    let efd = EventFd::new().map_err(|_| Ais::NO_MEMORY)?;
    let h = next_id();
    state().handles.insert(
        h,
        AmfHandle {
            callbacks,
            efd,
            queue: VecDeque::new(),
            healthchecks: Vec::new(),
        },
    );
    timer::ensure_started();
    inst.events.emit("amf-initialize", &[("handle", h.into())]);
    Ok(h)
}

pub fn selection_object(h: u64) -> Result<i32, Ais> {
    state()
        .handles
        .get(&h)
        .map(|a| a.efd.raw())
        .ok_or(Ais::BAD_HANDLE)
}

pub fn finalize(h: u64) -> Result<(), Ais> {
    let mut st = state();
    st.handles.remove(&h).ok_or(Ais::BAD_HANDLE)?;
    st.pending.retain(|_, p| p.handle != h);
    st.expired.retain(|(_, p)| p.handle != h);
    if st.registered.as_ref().is_some_and(|(_, rh)| *rh == h) {
        st.registered = None;
    }
    drop(st);
    amf().cond.notify_all();
    emit("amf-finalize", &[("handle", h.into())]);
    Ok(())
}

pub fn comp_name_get(h: u64) -> Result<String, Ais> {
    if !state().handles.contains_key(&h) {
        return Err(Ais::BAD_HANDLE);
    }
    env_comp_name().ok_or(Ais::NOT_EXIST)
}

/// The checks register/unregister share: the name must be this process's component.
fn check_own_name(name: &str) -> Result<(), Ais> {
    let own = env_comp_name().ok_or(Ais::NOT_EXIST)?;
    if own.len() != name.len() {
        return Err(Ais::INVALID_PARAM);
    }
    if own != name {
        return Err(Ais::BAD_OPERATION);
    }
    Ok(())
}

pub fn register(h: u64, name: &str, proxy_given: bool) -> Result<(), Ais> {
    let mut st = state();
    let a = st.handles.get(&h).ok_or(Ais::BAD_HANDLE)?;
    if proxy_given {
        return Err(Ais::INVALID_PARAM);
    }
    let cb = &a.callbacks;
    if cb.saAmfCSISetCallback.is_none()
        || cb.saAmfCSIRemoveCallback.is_none()
        || cb.saAmfComponentTerminateCallback.is_none()
    {
        return Err(Ais::INIT);
    }
    check_own_name(name)?;
    if st.registered.is_some() {
        return Err(Ais::EXIST);
    }
    st.registered = Some((name.to_string(), h));
    emit(
        "comp-register",
        &[("comp", name.into()), ("handle", h.into())],
    );
    let cfg = instance::current().map(|i| i.config()).unwrap_or_default();
    if cfg.csi_on_register {
        queue_csi_set(&mut st, h, HA_ACTIVE, &cfg.csi_name);
    }
    drop(st);
    amf().cond.notify_all();
    healthcheck::preload(name);
    Ok(())
}

pub fn unregister(h: u64, name: &str, proxy_given: bool) -> Result<(), Ais> {
    let mut st = state();
    st.handles.get(&h).ok_or(Ais::BAD_HANDLE)?;
    if proxy_given {
        return Err(Ais::INVALID_PARAM);
    }
    check_own_name(name)?;
    match &st.registered {
        Some((_, rh)) if *rh == h => {
            st.registered = None;
            emit("comp-unregister", &[("comp", name.into())]);
            Ok(())
        }
        _ => Err(Ais::NOT_EXIST),
    }
}

fn new_pending(st: &mut State, h: u64, kind: InvKind, timeout: Duration) -> u64 {
    let inv = next_id();
    let now = Instant::now();
    st.pending.insert(
        inv,
        Pending {
            handle: h,
            kind,
            sent: now,
            deadline: now + timeout,
        },
    );
    inv
}

/// AMF gives up on an invocation whose answer did not come in time: the timeout is
/// recorded (real AMF then runs the recovery: cleanup and restart for a callback, the
/// requested recovery for a healthcheck) and the invocation no longer exists. A
/// healthcheck is no longer waiting for an answer: its next callback is sent when its
/// period comes (at once if it already has).
pub fn expire(st: &mut State, inv: u64, now: Instant) {
    let Some(p) = st.pending.remove(&inv) else {
        return;
    };
    match &p.kind {
        InvKind::Healthcheck { key, recovery } => {
            emit(
                "hc-timeout",
                &[
                    ("key", key.clone().into()),
                    ("invocation", inv.into()),
                    (
                        "latency_us",
                        (now.duration_since(p.sent).as_micros() as u64).into(),
                    ),
                    ("recovery", recovery_name(*recovery).into()),
                ],
            );
            if let Some(hc) = st
                .handles
                .get_mut(&p.handle)
                .and_then(|a| a.healthchecks.iter_mut().find(|hc| hc.pending == Some(inv)))
            {
                hc.pending = None;
            }
        }
        kind => emit(
            "cb-timeout",
            &[
                ("invocation", inv.into()),
                ("callback", kind.label().into()),
                (
                    "waited_ms",
                    (now.duration_since(p.sent).as_millis() as u64).into(),
                ),
            ],
        ),
    }
    if st.expired.len() >= EXPIRED_KEPT {
        st.expired.pop_front();
    }
    st.expired.push_back((inv, p));
}

/// Expires `inv` if its deadline has passed (an answer exactly then is already too late,
/// whether or not the timer thread has noticed).
fn expire_if_due(st: &mut State, inv: u64, now: Instant) {
    if st.pending.get(&inv).is_some_and(|p| p.deadline <= now) {
        expire(st, inv, now);
    }
}

/// Records an answer to an invocation AMF gave up on (`call` answered `error`); the
/// caller then gets SA_AIS_ERR_NOT_EXIST. Nothing is recorded for an invocation that
/// never existed.
fn record_late(st: &State, h: u64, inv: u64, call: &str, error: u32, now: Instant) {
    let Some((_, p)) = st.expired.iter().find(|(i, p)| *i == inv && p.handle == h) else {
        return;
    };
    let late_for_call = match &p.kind {
        InvKind::QuiescingComplete => call == "saAmfCSIQuiescingComplete",
        InvKind::CsiSet { ha } if *ha == HA_QUIESCING => true,
        _ => call == "saAmfResponse_4",
    };
    if !late_for_call {
        return;
    }
    let latency = now.duration_since(p.sent).as_micros() as u64;
    let result = Ais::NOT_EXIST;
    match &p.kind {
        InvKind::Healthcheck { key, .. } => emit(
            "hc-late-response",
            &[
                ("key", key.clone().into()),
                ("invocation", inv.into()),
                ("error", Ais(error).into()),
                ("result", result.into()),
                ("latency_us", latency.into()),
            ],
        ),
        kind => emit(
            "cb-late-response",
            &[
                ("invocation", inv.into()),
                ("callback", kind.label().into()),
                ("call", call.into()),
                ("error", Ais(error).into()),
                ("result", result.into()),
                ("latency_us", latency.into()),
            ],
        ),
    }
}

/// Errors other than OK and FAILED_OPERATION are turned into FAILED_OPERATION.
fn normalize(error: u32) -> u32 {
    if error == Ais::OK.0 || error == Ais::FAILED_OPERATION.0 {
        error
    } else {
        Ais::FAILED_OPERATION.0
    }
}

fn queue_csi_set(st: &mut State, h: u64, ha: u32, csi: &str) -> u64 {
    let inv = new_pending(st, h, InvKind::CsiSet { ha }, callback_timeout());
    // Logged before the selection object becomes readable (as every callback).
    emit(
        "csi-set",
        &[
            ("invocation", inv.into()),
            ("ha", ha_name(ha).into()),
            ("csi", csi.into()),
            ("flags", "TARGET_ALL".into()),
        ],
    );
    if let Some(a) = st.handles.get_mut(&h) {
        a.push(Callback::CsiSet {
            inv,
            ha,
            flags: CSI_TARGET_ALL,
            csi: csi.to_string(),
        });
    }
    inv
}

/// Queues a CSI set / remove / terminate for the registered component (a CLI request).
pub fn request(action: &str) -> Result<String, String> {
    let mut st = state();
    let Some((_, h)) = st.registered.clone() else {
        return Err("no component is registered in this process".into());
    };
    let csi = instance::current()
        .map(|i| i.config().csi_name)
        .unwrap_or_default();
    let inv = match action {
        "csi-active" => queue_csi_set(&mut st, h, HA_ACTIVE, &csi),
        "csi-standby" => queue_csi_set(&mut st, h, HA_STANDBY, &csi),
        "csi-quiesced" => queue_csi_set(&mut st, h, HA_QUIESCED, &csi),
        "csi-quiescing" => queue_csi_set(&mut st, h, HA_QUIESCING, &csi),
        "csi-remove" => {
            let inv = new_pending(&mut st, h, InvKind::CsiRemove, callback_timeout());
            emit(
                "csi-remove",
                &[
                    ("invocation", inv.into()),
                    ("csi", csi.clone().into()),
                    ("flags", "TARGET_ALL".into()),
                ],
            );
            if let Some(a) = st.handles.get_mut(&h) {
                a.push(Callback::CsiRemove {
                    inv,
                    flags: CSI_TARGET_ALL,
                    csi,
                });
            }
            inv
        }
        "terminate" => {
            let inv = new_pending(&mut st, h, InvKind::Terminate, callback_timeout());
            emit("terminate", &[("invocation", inv.into())]);
            if let Some(a) = st.handles.get_mut(&h) {
                a.push(Callback::Terminate { inv });
            }
            inv
        }
        other => return Err(format!("unknown AMF request '{other}'")),
    };
    drop(st);
    amf().cond.notify_all();
    Ok(format!("invocation={inv}"))
}

pub fn response(h: u64, inv: u64, correlation_given: bool, error: u32) -> Result<(), Ais> {
    let mut st = state();
    st.handles.get(&h).ok_or(Ais::BAD_HANDLE)?;
    if error == Ais::OK.0 && correlation_given {
        return Err(Ais::INVALID_PARAM);
    }
    let error = normalize(error);
    let now = Instant::now();
    expire_if_due(&mut st, inv, now);
    let known = st
        .pending
        .get(&inv)
        .is_some_and(|p| p.handle == h && p.kind != InvKind::QuiescingComplete);
    if !known {
        record_late(&st, h, inv, "saAmfResponse_4", error, now);
        drop(st);
        // An expiry above may have freed a healthcheck whose next callback is due.
        amf().cond.notify_all();
        return Err(Ais::NOT_EXIST);
    }
    let p = st.pending.remove(&inv).expect("checked above");
    let latency = now.duration_since(p.sent).as_micros() as u64;
    match &p.kind {
        InvKind::Healthcheck { key, recovery } => {
            healthcheck::answered(&mut st, h, key, inv, error, *recovery, latency, now);
        }
        kind => {
            emit(
                "cb-response",
                &[
                    ("invocation", inv.into()),
                    ("callback", kind.label().into()),
                    ("error", Ais(error).into()),
                    ("latency_us", latency.into()),
                ],
            );
            if let InvKind::CsiSet { ha } = kind {
                if error == Ais::OK.0 {
                    if *ha == HA_QUIESCING {
                        st.pending.insert(
                            inv,
                            Pending {
                                handle: h,
                                kind: InvKind::QuiescingComplete,
                                sent: now,
                                deadline: now + callback_timeout(),
                            },
                        );
                    } else {
                        st.ha_state = Some(*ha);
                    }
                }
            }
            if *kind == InvKind::CsiRemove && error == Ais::OK.0 {
                st.ha_state = None;
            }
        }
    }
    drop(st);
    amf().cond.notify_all();
    Ok(())
}

pub fn quiescing_complete(h: u64, inv: u64, error: u32) -> Result<(), Ais> {
    let mut st = state();
    st.handles.get(&h).ok_or(Ais::BAD_HANDLE)?;
    let error = normalize(error);
    let now = Instant::now();
    expire_if_due(&mut st, inv, now);
    let known = st
        .pending
        .get(&inv)
        .is_some_and(|p| p.handle == h && p.kind == InvKind::QuiescingComplete);
    if !known {
        record_late(&st, h, inv, "saAmfCSIQuiescingComplete", error, now);
        return Err(Ais::NOT_EXIST);
    }
    let p = st.pending.remove(&inv).expect("checked above");
    if error == Ais::OK.0 {
        st.ha_state = Some(HA_QUIESCED);
    }
    emit(
        "quiescing-complete",
        &[
            ("invocation", inv.into()),
            ("error", Ais(error).into()),
            (
                "latency_us",
                (now.duration_since(p.sent).as_micros() as u64).into(),
            ),
        ],
    );
    Ok(())
}

pub fn error_report(h: u64, comp: &str, detection_time: i64, recovery: u32) -> Result<(), Ais> {
    if !state().handles.contains_key(&h) {
        return Err(Ais::BAD_HANDLE);
    }
    if !(1..=9).contains(&recovery) {
        return Err(Ais::INVALID_PARAM);
    }
    if env_comp_name().as_deref() != Some(comp) {
        return Err(Ais::NOT_EXIST);
    }
    emit(
        "error-report",
        &[
            ("comp", comp.into()),
            ("detection_time", detection_time.into()),
            ("recovery", recovery_name(recovery).into()),
        ],
    );
    Ok(())
}

/// Runs one pending callback; Ok(false) if there was none.
fn dispatch_one(h: u64) -> Result<bool, Ais> {
    let (cb, callbacks, comp) = {
        let mut st = state();
        let comp = st
            .registered
            .as_ref()
            .map(|(n, _)| n.clone())
            .or_else(env_comp_name);
        let a = st.handles.get_mut(&h).ok_or(Ais::BAD_HANDLE)?;
        let Some(cb) = a.queue.pop_front() else {
            a.efd.clear();
            return Ok(false);
        };
        if a.queue.is_empty() {
            a.efd.clear();
        }
        (cb, a.callbacks, comp.unwrap_or_default())
    };
    let comp = OwnedName::new(&comp);
    match cb {
        Callback::Healthcheck { inv, mut key } => {
            if let Some(f) = callbacks.saAmfHealthcheckCallback {
                // SAFETY: the application's callback of the declared type; the name and key
                // live until it returns; no simulator lock is held.
                unsafe { f(inv, comp.as_ptr(), &mut key) };
            }
        }
        Callback::CsiSet {
            inv,
            ha,
            flags,
            csi,
        } => {
            if let Some(f) = callbacks.saAmfCSISetCallback {
                let csi_name = OwnedName::new(&csi);
                let mut d = SaAmfCSIDescriptorT {
                    csiFlags: flags,
                    csiName: csi_name.value(),
                    ..Default::default()
                };
                if ha == HA_ACTIVE {
                    d.csiStateDescriptor.activeDescriptor.transitionDescriptor =
                        SaAmfCSITransitionDescriptorT::SA_AMF_CSI_NEW_ASSIGN;
                }
                // SAFETY: as above; the descriptor is passed by value and any long-name
                // pointer inside it (csi_name) lives until the callback returns.
                unsafe { f(inv, comp.as_ptr(), SaAmfHAStateT(ha), d) };
            }
        }
        Callback::CsiRemove { inv, flags, csi } => {
            if let Some(f) = callbacks.saAmfCSIRemoveCallback {
                let csi_name = OwnedName::new(&csi);
                // SAFETY: as above.
                unsafe { f(inv, comp.as_ptr(), csi_name.as_ptr(), flags) };
            }
        }
        Callback::Terminate { inv } => {
            if let Some(f) = callbacks.saAmfComponentTerminateCallback {
                // SAFETY: as above.
                unsafe { f(inv, comp.as_ptr()) };
            }
        }
    }
    Ok(true)
}

pub fn dispatch(h: u64, flags: u32) -> Result<(), Ais> {
    let pending = |st: &State| st.handles.get(&h).map(|a| !a.queue.is_empty());
    crate::dispatch::dispatch(flags, &amf().state, &amf().cond, pending, || {
        dispatch_one(h)
    })
}

/// A summary for `status`.
pub fn describe() -> String {
    let st = state();
    format!(
        "amf handles={} registered={} ha={} healthchecks={} pending={}",
        st.handles.len(),
        st.registered
            .as_ref()
            .map(|(n, _)| n.as_str())
            .unwrap_or("-"),
        st.ha_state.map(ha_name).unwrap_or("-"),
        st.handles
            .values()
            .map(|a| a.healthchecks.len())
            .sum::<usize>(),
        st.pending.len()
    )
}
