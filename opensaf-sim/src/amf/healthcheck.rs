//! AMF-invoked healthchecks: configuration from IMM, the period and max-duration timing,
//! and what answers and silences are recorded as.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, TryLockError};
use std::time::{Duration, Instant};

use opensaf_sys::SaAisErrorT as Ais;
use opensaf_sys::SaAmfHealthcheckKeyT;

use super::{amf, emit, env_comp_name, new_pending, recovery_name, Callback, InvKind, State};
use crate::imm::model::Value;
use crate::imm::state::ImmState;
use crate::instance;

/// A started healthcheck.
pub struct Hc {
    pub key: String,
    pub raw_key: SaAmfHealthcheckKeyT,
    pub amf_invoked: bool,
    pub recovery: u32,
    pub period: Duration,
    pub max_duration: Duration,
    /// When the next callback is due (the period runs from the previous callback).
    pub next_due: Instant,
    /// The invocation awaiting an answer.
    pub pending: Option<u64>,
}

/// The shortest period honoured (a 0 period would spin the timer).
const MIN_PERIOD: Duration = Duration::from_millis(1);

/// The key as a string: `keyLen` bytes, compared as a C string (up to the first NUL).
pub fn key_string(k: &SaAmfHealthcheckKeyT) -> Option<String> {
    let len = usize::from(k.keyLen);
    if len == 0 || len > k.key.len() {
        return None;
    }
    let bytes = &k.key[..len];
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(len);
    String::from_utf8(bytes[..end].to_vec()).ok()
}

fn time_attr(vals: Option<&[Value]>) -> Option<Duration> {
    match vals? {
        [Value::Time(ns)] if *ns >= 0 => Some(Duration::from_nanos(*ns as u64)),
        _ => None,
    }
}

/// (period, max-duration) of `key` for component `comp` in `st`: a SaAmfHealthcheck object
/// under the component overrides the SaAmfHealthcheckType object under its component type.
fn lookup(st: &ImmState, comp: &str, key: &str) -> Option<(Duration, Duration)> {
    let own = format!("safHealthcheckKey={key},{comp}");
    if st
        .objects
        .get(&own)
        .is_some_and(|o| o.class.name == "SaAmfHealthcheck")
    {
        let p = time_attr(st.attr_values(&own, "saAmfHealthcheckPeriod"));
        let m = time_attr(st.attr_values(&own, "saAmfHealthcheckMaxDuration"));
        if let (Some(p), Some(m)) = (p, m) {
            return Some((p, m));
        }
    }
    let ctype = comp_type(st, comp)?;
    let typed = format!("safHealthcheckKey={key},{ctype}");
    if st
        .objects
        .get(&typed)
        .is_none_or(|o| o.class.name != "SaAmfHealthcheckType")
    {
        return None;
    }
    let p = time_attr(st.attr_values(&typed, "saAmfHctDefPeriod"))?;
    let m = time_attr(st.attr_values(&typed, "saAmfHctDefMaxDuration"))?;
    Some((p, m))
}

fn comp_type(st: &ImmState, comp: &str) -> Option<String> {
    match st.attr_values(comp, "saAmfCompType")? {
        [Value::Name(t)] => Some(t.clone()),
        _ => None,
    }
}

/// Every healthcheck key configured for `comp` (under it or under its component type).
fn keys_of(st: &ImmState, comp: &str) -> Vec<String> {
    let mut parents = vec![comp.to_string()];
    parents.extend(comp_type(st, comp));
    let mut keys: Vec<String> = parents
        .iter()
        .flat_map(|p| st.children_of(p))
        .filter_map(|dn| {
            crate::imm::rules::rdn_of(dn)
                .strip_prefix("safHealthcheckKey=")
                .map(str::to_string)
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// AMF's copy of the healthcheck configuration, `(component, key) -> (period,
/// max-duration)`. Real AMF keeps it in its node director, never behind the component's
/// IMM library: here it is refreshed from the IMM store whenever the store is free and
/// used as it is while an IMM call (or another process) holds the store.
type ConfigCopy = HashMap<(String, String), (Duration, Duration)>;

fn cache() -> &'static Mutex<ConfigCopy> {
    static C: OnceLock<Mutex<ConfigCopy>> = OnceLock::new();
    C.get_or_init(Default::default)
}

/// The healthcheck configuration as AMF knows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Config {
    Found(Duration, Duration),
    Missing,
    /// The store is busy and this key was never read.
    Unknown,
}

/// Runs `f` on the IMM store: without waiting (None while an IMM call or another
/// process holds it) unless `wait`.
fn read_store<R>(wait: bool, f: impl FnOnce(&ImmState) -> R) -> Option<Option<R>> {
    let Some(inst) = instance::current() else {
        return Some(None);
    };
    let mut store = if wait {
        crate::mutex::lock(&inst.store)
    } else {
        match inst.store.try_lock() {
            Ok(g) => g,
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        }
    };
    let r = if wait {
        store.read(f).map(Some)
    } else {
        store.try_read(f)
    };
    match r {
        Ok(Some(r)) => Some(Some(r)),
        Ok(None) => None,
        // An unreadable store configures nothing (the key does not exist).
        Err(_) => Some(None),
    }
}

/// The configuration of `key` for `comp`: read from the store (waiting for it only when
/// `wait` and it is not known yet), else AMF's copy.
pub fn resolve(comp: &str, key: &str, wait: bool) -> Config {
    let id = (comp.to_string(), key.to_string());
    let read = match read_store(false, |st| lookup(st, comp, key)) {
        Some(r) => Some(r.flatten()),
        None if wait && !crate::mutex::lock(cache()).contains_key(&id) => {
            read_store(true, |st| lookup(st, comp, key)).map(Option::flatten)
        }
        None => None,
    };
    let mut c = crate::mutex::lock(cache());
    match read {
        Some(Some((p, m))) => {
            c.insert(id, (p, m));
            Config::Found(p, m)
        }
        Some(None) => {
            c.remove(&id);
            Config::Missing
        }
        None => match c.get(&id) {
            Some(&(p, m)) => Config::Found(p, m),
            None => Config::Unknown,
        },
    }
}

/// Reads every healthcheck configured for `comp` into AMF's copy if the store is free
/// (at register, so that HealthcheckStart finds its key even while IMM is busy).
pub fn preload(comp: &str) {
    let Some(Some(found)) = read_store(false, |st| {
        keys_of(st, comp)
            .into_iter()
            .filter_map(|k| lookup(st, comp, &k).map(|v| (k, v)))
            .collect::<Vec<_>>()
    }) else {
        return;
    };
    let mut c = crate::mutex::lock(cache());
    c.retain(|(cn, _), _| cn != comp);
    for (k, v) in found {
        c.insert((comp.to_string(), k), v);
    }
}

pub fn start(
    h: u64,
    comp: &str,
    raw_key: SaAmfHealthcheckKeyT,
    inv_type: u32,
    recovery: u32,
) -> Result<(), Ais> {
    {
        let st = super::state();
        let a = st.handles.get(&h).ok_or(Ais::BAD_HANDLE)?;
        if !(1..=2).contains(&inv_type) {
            return Err(Ais::INVALID_PARAM);
        }
        if raw_key.keyLen == 0 || usize::from(raw_key.keyLen) > raw_key.key.len() {
            return Err(Ais::INVALID_PARAM);
        }
        if !(1..=9).contains(&recovery) {
            return Err(Ais::ACCESS);
        }
        if inv_type == 1 && a.callbacks.saAmfHealthcheckCallback.is_none() {
            return Err(Ais::INIT);
        }
        if env_comp_name().as_deref() != Some(comp) {
            return Err(Ais::NOT_EXIST);
        }
        if !matches!(&st.registered, Some((n, _)) if n == comp) {
            return Err(Ais::BAD_OPERATION);
        }
    }
    let key = key_string(&raw_key).ok_or(Ais::INVALID_PARAM)?;
    // Configuration is read without the AMF lock held; AMF's copy serves while the store
    // is busy (it waits for the store only for a key it has never read).
    let (period, max_duration) = match resolve(comp, &key, true) {
        Config::Found(p, m) => (p, m),
        Config::Missing | Config::Unknown => return Err(Ais::NOT_EXIST),
    };
    let mut st = super::state();
    let a = st.handles.get_mut(&h).ok_or(Ais::BAD_HANDLE)?;
    if a.healthchecks.iter().any(|hc| hc.key == key) {
        return Err(Ais::EXIST);
    }
    let now = Instant::now();
    a.healthchecks.push(Hc {
        key: key.clone(),
        raw_key,
        amf_invoked: inv_type == 1,
        recovery,
        period: period.max(MIN_PERIOD),
        max_duration,
        next_due: now,
        pending: None,
    });
    emit(
        "hc-start",
        &[
            ("key", key.clone().into()),
            (
                "invocation_type",
                if inv_type == 1 {
                    "AMF_INVOKED"
                } else {
                    "COMPONENT_INVOKED"
                }
                .into(),
            ),
            ("recovery", recovery_name(recovery).into()),
            ("period_ms", (period.as_millis() as u64).into()),
            ("max_duration_ms", (max_duration.as_millis() as u64).into()),
        ],
    );
    if inv_type == 1 {
        fire(&mut st, h, &key, now);
    }
    drop(st);
    amf().cond.notify_all();
    Ok(())
}

pub fn stop(h: u64, comp: &str, raw_key: &SaAmfHealthcheckKeyT) -> Result<(), Ais> {
    let mut st = super::state();
    let a = st.handles.get_mut(&h).ok_or(Ais::BAD_HANDLE)?;
    if env_comp_name().as_deref() != Some(comp) {
        return Err(Ais::NOT_EXIST);
    }
    let key = key_string(raw_key).ok_or(Ais::INVALID_PARAM)?;
    let i = a
        .healthchecks
        .iter()
        .position(|hc| hc.key == key)
        .ok_or(Ais::NOT_EXIST)?;
    let hc = a.healthchecks.remove(i);
    a.queue.retain(|cb| match cb {
        Callback::Healthcheck { inv, .. } => Some(*inv) != hc.pending,
        _ => true,
    });
    if a.queue.is_empty() {
        a.efd.clear();
    }
    if let Some(inv) = hc.pending {
        st.pending.remove(&inv);
    }
    emit("hc-stop", &[("key", key.into())]);
    Ok(())
}

/// Sends a healthcheck callback now.
pub fn fire(st: &mut State, h: u64, key: &str, now: Instant) {
    let Some(a) = st.handles.get(&h) else { return };
    let Some(hc) = a.healthchecks.iter().find(|hc| hc.key == key) else {
        return;
    };
    let (max, recovery) = (hc.max_duration, hc.recovery);
    let inv = new_pending(
        st,
        h,
        InvKind::Healthcheck {
            key: key.to_string(),
            recovery,
        },
        max,
    );
    let a = st.handles.get_mut(&h).expect("checked above");
    let hc = a
        .healthchecks
        .iter_mut()
        .find(|hc| hc.key == key)
        .expect("checked above");
    hc.pending = Some(inv);
    hc.next_due = now + hc.period;
    let raw = hc.raw_key;
    // Logged before the selection object becomes readable: whoever sees the callback
    // also finds it in the log.
    emit(
        "hc-sent",
        &[("key", key.into()), ("invocation", inv.into())],
    );
    a.push(Callback::Healthcheck { inv, key: raw });
}

/// Records an answer (in time: a late one no longer finds its invocation); the next
/// callback follows at once if its period already expired.
#[allow(clippy::too_many_arguments)]
pub fn answered(
    st: &mut State,
    h: u64,
    key: &str,
    inv: u64,
    error: u32,
    recovery: u32,
    latency_us: u64,
    now: Instant,
) {
    let ok = error == Ais::OK.0;
    emit(
        "hc-answered",
        &[
            ("key", key.into()),
            ("invocation", inv.into()),
            ("error", Ais(error).into()),
            ("latency_us", latency_us.into()),
        ],
    );
    if !ok {
        emit(
            "hc-failed",
            &[
                ("key", key.into()),
                ("invocation", inv.into()),
                ("error", Ais(error).into()),
                ("latency_us", latency_us.into()),
                ("recovery", recovery_name(recovery).into()),
            ],
        );
    }
    let due = match st
        .handles
        .get_mut(&h)
        .and_then(|a| a.healthchecks.iter_mut().find(|hc| hc.key == key))
    {
        Some(hc) if hc.pending == Some(inv) => {
            hc.pending = None;
            hc.next_due <= now
        }
        _ => return,
    };
    if due {
        fire(st, h, key, now);
    }
}
