//! The object-implementer library: handles, implementer names, runtime objects and
//! administrative operations.

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::Sender;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

use opensaf_sys::SaAisErrorT as Ais;
use opensaf_sys::{SaImmAdminOperationParamsT_2, SaImmOiCallbacksT_2, SaImmValueTypeT};

use super::alive;
use super::cvalues::{CAttrs, InAttr, InMod};
use super::journal::Op;
use super::model::{flags, Category, Value, ValueType};
use super::rules;
use super::state::{Holder, ImmState};
use super::ImmError;
use crate::clock::unix_now;
use crate::eventfd::EventFd;
use crate::events::Val;
use crate::faults::RtOp;
use crate::ids::next_id;
use crate::instance::{self, Instance};
use crate::mutex::lock;
use crate::names::{self, OwnedName};
use crate::process::{process_alive, self_identity};

/// An administrative operation waiting for its implementer.
pub struct AdminRequest {
    pub invocation: u64,
    pub dn: String,
    pub op_id: u64,
    pub params: Vec<(String, Value)>,
}

struct OiHandle {
    callbacks: SaImmOiCallbacksT_2,
    efd: EventFd,
    implementer: Option<String>,
    /// Set by the bad-handle fault: every call but finalize answers BAD_HANDLE.
    stale: bool,
    queue: VecDeque<AdminRequest>,
}

// SAFETY: the callbacks are plain C function pointers, callable from any thread; the rest
// is owned data.
unsafe impl Send for OiHandle {}

#[derive(Default)]
struct Registry {
    handles: HashMap<u64, OiHandle>,
    /// Admin operations in flight: invocation -> where the result goes.
    waiters: HashMap<u64, (u64, Sender<u32>)>,
}

fn registry() -> &'static (Mutex<Registry>, Condvar) {
    static R: OnceLock<(Mutex<Registry>, Condvar)> = OnceLock::new();
    R.get_or_init(Default::default)
}

fn bad_handle() -> ImmError {
    ImmError::new(Ais::BAD_HANDLE, "unknown, finalized or stale OI handle")
}

/// The IMM version the OM and OI libraries implement (A.02.17): release 'A' major 2 is
/// accepted.
pub const IMM_VERSION: (u8, u8, u8) = (b'A', 2, 17);

/// Creates a handle; `callbacks` may hold NULLs.
pub fn initialize(callbacks: SaImmOiCallbacksT_2) -> Result<u64, ImmError> {
    let inst = instance::get().map_err(|c| ImmError::new(c, "simulated IMM is down"))?;
    inst.reload_config();
    inst.imm_reachable()?;
    inst.server_call("saImmOiInitialize_2", || {
        let efd =
            EventFd::new().map_err(|e| ImmError::new(Ais::NO_MEMORY, format!("eventfd: {e}")))?;
        let h = next_id();
        lock(&registry().0).handles.insert(
            h,
            OiHandle {
                callbacks,
                efd,
                implementer: None,
                stale: false,
                queue: VecDeque::new(),
            },
        );
        Ok(h)
    })
}

fn with_handle<R>(
    h: u64,
    f: impl FnOnce(&mut OiHandle) -> Result<R, ImmError>,
) -> Result<R, ImmError> {
    let mut r = lock(&registry().0);
    match r.handles.get_mut(&h) {
        Some(oh) if !oh.stale => f(oh),
        _ => Err(bad_handle()),
    }
}

pub fn selection_object(h: u64) -> Result<i32, ImmError> {
    with_handle(h, |oh| Ok(oh.efd.raw()))
}

/// The implementer name of a live handle (BAD_OPERATION when none is set).
fn implementer_of(h: u64) -> Result<String, ImmError> {
    with_handle(h, |oh| {
        oh.implementer.clone().ok_or_else(|| {
            ImmError::new(Ais::BAD_OPERATION, "no implementer is set for this handle")
        })
    })
}

/// The library-side check of a runtime-object call: a live handle with an implementer.
pub fn check_implementer(h: u64) -> Result<(), ImmError> {
    implementer_of(h).map(|_| ())
}

/// Whether the holder of an implementer name is still alive.
pub(crate) fn holder_alive(hd: &Holder) -> bool {
    let (pid, start) = self_identity();
    if hd.pid == pid && hd.start == start {
        let r = lock(&registry().0);
        return r.handles.get(&hd.token).is_some_and(|oh| !oh.stale);
    }
    process_alive(hd.pid, hd.start)
}

pub fn implementer_set(h: u64, name: &str) -> Result<(), ImmError> {
    if name.is_empty() {
        return Err(ImmError::new(
            Ais::INVALID_PARAM,
            "implementer name is empty",
        ));
    }
    if name.len() >= names::MAX_INLINE {
        return Err(ImmError::new(
            Ais::INVALID_PARAM,
            "implementer name is too long",
        ));
    }
    if with_handle(h, |oh| Ok(oh.implementer.is_some()))? {
        return Err(ImmError::new(
            Ais::EXIST,
            "this handle already has an implementer name",
        ));
    }
    let inst = current()?;
    inst.server_call("saImmOiImplementerSet", || {
        let (pid, start) = self_identity();
        alive::start(&inst.dir);
        lock(&inst.store).write(|st| {
            if let Some(hd) = st.implementers.get(name) {
                if hd.token != h && holder_alive(hd) {
                    return Err(ImmError::new(
                        Ais::EXIST,
                        format!("implementer name {name} is held by pid {}", hd.pid),
                    ));
                }
            }
            Ok((
                vec![Op::ImplSet {
                    name: name.to_string(),
                    pid,
                    start,
                    token: h,
                }],
                (),
            ))
        })?;
        with_handle(h, |oh| {
            oh.implementer = Some(name.to_string());
            Ok(())
        })?;
        inst.events
            .emit("imm-implementer-set", &[("name", name.into())]);
        Ok(())
    })
}

pub fn implementer_clear(h: u64) -> Result<(), ImmError> {
    let name = implementer_of(h)?;
    let inst = current()?;
    inst.server_call("saImmOiImplementerClear", || {
        release_name(&inst, &name, h);
        with_handle(h, |oh| {
            oh.implementer = None;
            Ok(())
        })
    })
}

fn release_name(inst: &Instance, name: &str, token: u64) {
    let _ = lock(&inst.store).write(|st| {
        let ours = st
            .implementers
            .get(name)
            .is_some_and(|hd| hd.token == token);
        Ok((
            if ours {
                vec![Op::ImplRelease {
                    name: name.to_string(),
                    token,
                    at_ns: unix_now().as_nanos() as u64,
                }]
            } else {
                vec![]
            },
            (),
        ))
    });
}

fn current() -> Result<std::sync::Arc<Instance>, ImmError> {
    instance::current().ok_or_else(bad_handle)
}

pub fn finalize(h: u64) -> Result<(), ImmError> {
    let removed = {
        let mut r = lock(&registry().0);
        let oh = r.handles.remove(&h).ok_or_else(bad_handle)?;
        let waiting: Vec<u64> = r
            .waiters
            .iter()
            .filter(|(_, (hh, _))| *hh == h)
            .map(|(i, _)| *i)
            .collect();
        for inv in waiting {
            if let Some((_, tx)) = r.waiters.remove(&inv) {
                let _ = tx.send(Ais::NOT_EXIST.0);
            }
        }
        oh
    };
    registry().1.notify_all();
    if let (Some(name), false) = (&removed.implementer, removed.stale) {
        if let Some(inst) = instance::current() {
            release_name(&inst, name, h);
        }
    }
    Ok(())
}

/// The `fault bad-handle` effect (and a node's IMM leaving the cluster): every OI handle
/// turns stale, its implementer name is released, and its selection object fires so the
/// application dispatches and learns. Returns the names released.
pub fn make_all_stale(inst: &Instance) -> Vec<String> {
    let released: Vec<(String, u64)> = {
        let mut r = lock(&registry().0);
        let mut out = Vec::new();
        for (h, oh) in r.handles.iter_mut().filter(|(_, oh)| !oh.stale) {
            oh.stale = true;
            oh.efd.signal();
            if let Some(n) = oh.implementer.take() {
                out.push((n, *h));
            }
        }
        let waiting: Vec<u64> = r.waiters.keys().copied().collect();
        for inv in waiting {
            if let Some((_, tx)) = r.waiters.remove(&inv) {
                let _ = tx.send(Ais::BAD_HANDLE.0);
            }
        }
        out
    };
    registry().1.notify_all();
    for (n, h) in &released {
        release_name(inst, n, *h);
    }
    released.into_iter().map(|(n, _)| n).collect()
}

fn long_dns(st: &ImmState) -> bool {
    names::extended_names_enabled() && st.long_dns_allowed()
}

fn check_values(
    a: &super::model::AttrDef,
    given: &InAttr,
    allow_empty: bool,
) -> Result<(), ImmError> {
    if given.vtype != a.vtype {
        return Err(ImmError::new(
            Ais::INVALID_PARAM,
            format!(
                "attribute {} is {}, the value given is {}",
                a.name,
                a.vtype.xml_name(),
                given.vtype.xml_name()
            ),
        ));
    }
    if given.values.is_empty() && !allow_empty {
        return Err(ImmError::new(
            Ais::INVALID_PARAM,
            format!("attribute {} is given with no values", a.name),
        ));
    }
    if given.values.len() > 1 && !a.is(flags::MULTI_VALUE) {
        return Err(ImmError::new(
            Ais::INVALID_PARAM,
            format!(
                "attribute {} is single-valued but {} values are given",
                a.name,
                given.values.len()
            ),
        ));
    }
    Ok(())
}

fn is_system_attr(name: &str) -> bool {
    name.starts_with("SaImmAttr")
}

/// Validates a runtime object create against the store; returns the operation.
pub fn validate_create(
    st: &ImmState,
    class: &str,
    parent: &str,
    attrs: &[InAttr],
    implementer: &str,
    strict: bool,
) -> Result<(Op, String), ImmError> {
    let c = st
        .classes
        .get(class)
        .ok_or_else(|| ImmError::new(Ais::NOT_EXIST, format!("class {class} does not exist")))?;
    if c.category != Category::Runtime {
        return Err(ImmError::new(
            Ais::INVALID_PARAM,
            format!("class {class} is a configuration class"),
        ));
    }
    let rdn_def = c.rdn();
    let rdn_given = attrs
        .iter()
        .find(|a| a.name == rdn_def.name)
        .ok_or_else(|| {
            ImmError::new(
                Ais::INVALID_PARAM,
                format!("the RDN attribute {} is missing", rdn_def.name),
            )
        })?;
    check_values(rdn_def, rdn_given, false)?;
    let rdn = match &rdn_given.values[0] {
        Value::String(s) | Value::Name(s) => s.clone(),
        _ => unreachable!("RDN type is checked against the class"),
    };
    rules::check_rdn(&rdn).map_err(|e| ImmError::new(Ais::INVALID_PARAM, e))?;
    if !rdn.starts_with(&format!("{}=", rdn_def.name)) {
        return Err(ImmError::new(
            Ais::INVALID_PARAM,
            format!("RDN value '{rdn}' does not start with '{}='", rdn_def.name),
        ));
    }
    let dn = if parent.is_empty() {
        rdn.clone()
    } else {
        format!("{rdn},{parent}")
    };
    rules::check_lengths(&rdn, &dn, long_dns(st))?;
    if !parent.is_empty() {
        rules::check_dn(parent).map_err(|e| ImmError::new(Ais::INVALID_PARAM, e))?;
        if !st.objects.contains_key(parent) {
            return Err(ImmError::new(
                Ais::NOT_EXIST,
                format!("parent {parent} does not exist"),
            ));
        }
    }
    if st.objects.contains_key(&dn) {
        return Err(ImmError::new(Ais::EXIST, format!("{dn} already exists")));
    }
    let mut out: Vec<(String, Vec<Value>)> = Vec::with_capacity(attrs.len());
    for a in attrs {
        if out.iter().any(|(n, _)| *n == a.name) {
            return Err(ImmError::new(
                Ais::INVALID_PARAM,
                format!("attribute {} given twice", a.name),
            ));
        }
        if is_system_attr(&a.name) {
            return Err(ImmError::new(
                Ais::INVALID_PARAM,
                format!("{} is set by IMM", a.name),
            ));
        }
        let i = c.attr_index(&a.name).ok_or_else(|| {
            ImmError::new(
                Ais::NOT_EXIST,
                format!("class {class} has no attribute {}", a.name),
            )
        })?;
        let def = &c.attrs[i];
        if def.is(flags::CONFIG) {
            return Err(ImmError::new(
                Ais::INVALID_PARAM,
                format!("{} is a configuration attribute", a.name),
            ));
        }
        check_values(def, a, false)?;
        if def.is(flags::NO_DUPLICATES) {
            for (k, v) in a.values.iter().enumerate() {
                if a.values[..k].contains(v) {
                    return Err(ImmError::new(
                        Ais::INVALID_PARAM,
                        format!("{}: duplicate value", a.name),
                    ));
                }
            }
        }
        out.push((a.name.clone(), a.values.clone()));
    }
    for def in c.attrs.iter().filter(|d| d.is(flags::CACHED)) {
        if out.iter().any(|(n, _)| *n == def.name) {
            continue;
        }
        // As measured on OpenSAF 5.21.03: a cached attribute is given or has a default
        // (`imm_strict_create`, on by default).
        let Some(d) = &def.default else {
            if !strict {
                continue;
            }
            return Err(ImmError::new(
                Ais::INVALID_PARAM,
                format!(
                    "attr '{}' is cached but not included in the rt object create call",
                    def.name
                ),
            ));
        };
        out.push((def.name.clone(), vec![d.clone()]));
    }
    Ok((
        Op::Create {
            dn: dn.clone(),
            class: class.to_string(),
            implementer: Some(implementer.to_string()),
            attrs: out,
        },
        dn,
    ))
}

fn check_owner(st: &ImmState, dn: &str, implementer: &str) -> Result<(), ImmError> {
    let o = st
        .objects
        .get(dn)
        .ok_or_else(|| ImmError::new(Ais::NOT_EXIST, format!("{dn} does not exist")))?;
    if o.class.category != Category::Runtime || o.implementer.as_deref() != Some(implementer) {
        return Err(ImmError::new(
            Ais::BAD_OPERATION,
            format!(
                "{dn} is not a runtime object of implementer {implementer} (its implementer: {})",
                o.implementer.as_deref().unwrap_or("none")
            ),
        ));
    }
    Ok(())
}

/// Validates a runtime object update; returns the operation with the new values.
pub fn validate_update(
    st: &ImmState,
    dn: &str,
    mods: &[InMod],
    implementer: &str,
) -> Result<Op, ImmError> {
    check_owner(st, dn, implementer)?;
    let o = &st.objects[dn];
    let mut changed: Vec<(String, Vec<Value>)> = Vec::new();
    for m in mods {
        let a = &m.attr;
        if is_system_attr(&a.name) {
            return Err(ImmError::new(
                Ais::INVALID_PARAM,
                format!("{} is set by IMM", a.name),
            ));
        }
        let i = o.class.attr_index(&a.name).ok_or_else(|| {
            ImmError::new(
                Ais::NOT_EXIST,
                format!("class {} has no attribute {}", o.class.name, a.name),
            )
        })?;
        let def = &o.class.attrs[i];
        if def.is(flags::RDN) {
            return Err(ImmError::new(
                Ais::INVALID_PARAM,
                "the RDN cannot be modified",
            ));
        }
        if def.is(flags::CONFIG) {
            return Err(ImmError::new(
                Ais::INVALID_PARAM,
                format!("{} is a configuration attribute", a.name),
            ));
        }
        let replace = match m.mod_type {
            3 => true,
            1 | 2 => false,
            t => {
                return Err(ImmError::new(
                    Ais::INVALID_PARAM,
                    format!("modType {t} is invalid"),
                ))
            }
        };
        // REPLACE with no values clears the attribute; ADD/DELETE need values.
        check_values(def, a, replace)?;
        let slot = match changed.iter().position(|(n, _)| *n == a.name) {
            Some(p) => p,
            None => {
                changed.push((a.name.clone(), o.values[i].clone()));
                changed.len() - 1
            }
        };
        let cur = &mut changed[slot].1;
        match m.mod_type {
            3 => *cur = a.values.clone(),
            1 => {
                if def.is(flags::NO_DUPLICATES) && a.values.iter().any(|v| cur.contains(v)) {
                    return Err(ImmError::new(
                        Ais::INVALID_PARAM,
                        format!("{}: duplicate value", a.name),
                    ));
                }
                cur.extend(a.values.iter().cloned());
                if cur.len() > 1 && !def.is(flags::MULTI_VALUE) {
                    return Err(ImmError::new(
                        Ais::INVALID_PARAM,
                        format!("{} is single-valued and already has a value", a.name),
                    ));
                }
            }
            _ => cur.retain(|v| !a.values.contains(v)),
        }
    }
    Ok(Op::SetAttrs {
        dn: dn.to_string(),
        attrs: changed,
    })
}

/// Validates a runtime object delete (the object and its subtree must be ours).
pub fn validate_delete(st: &ImmState, dn: &str, implementer: &str) -> Result<Op, ImmError> {
    check_owner(st, dn, implementer)?;
    for d in st.subtree(dn).iter().skip(1) {
        check_owner(st, d, implementer)?;
    }
    Ok(Op::Delete { dn: dn.to_string() })
}

/// The implementer name of `h`, re-checked against the store (another process cannot
/// have taken it while the handle lives, but a stale handle's name is gone).
fn owns_name(st: &ImmState, name: &str, h: u64) -> Result<(), ImmError> {
    match st.implementers.get(name) {
        Some(hd) if hd.token == h => Ok(()),
        _ => Err(bad_handle()),
    }
}

pub fn rt_create(h: u64, class: &str, parent: &str, attrs: &[InAttr]) -> Result<(), ImmError> {
    let name = implementer_of(h)?;
    let inst = current()?;
    let strict = inst.config().imm_strict_create;
    inst.server_call("saImmOiRtObjectCreate_2", || {
        lock(&inst.store).write(|st| {
            owns_name(st, &name, h)?;
            let (op, dn) = validate_create(st, class, parent, attrs, &name, strict)?;
            injected_refusal(&inst, RtOp::Create, &dn)?;
            Ok((vec![op], ()))
        })
    })
}

pub fn rt_update(h: u64, dn: &str, mods: &[InMod]) -> Result<(), ImmError> {
    let name = implementer_of(h)?;
    let inst = current()?;
    inst.server_call("saImmOiRtObjectUpdate_2", || {
        lock(&inst.store).write(|st| {
            owns_name(st, &name, h)?;
            let op = validate_update(st, dn, mods, &name)?;
            injected_refusal(&inst, RtOp::Update, dn)?;
            Ok((vec![op], ()))
        })
    })
}

/// A `refuse` fault for this write: IMM answers its code, the object unchanged.
fn injected_refusal(inst: &Instance, op: RtOp, dn: &str) -> Result<(), ImmError> {
    let Some(code) = inst.faults.refusal(op, dn) else {
        return Ok(());
    };
    let call = match op {
        RtOp::Create => "saImmOiRtObjectCreate_2",
        RtOp::Update => "saImmOiRtObjectUpdate_2",
    };
    let code = Ais(code);
    inst.events.emit(
        "imm-fault",
        &[
            ("call", call.into()),
            ("dn", dn.into()),
            ("result", code.into()),
        ],
    );
    Err(ImmError::new(code, format!("injected fault: {dn} refused")))
}

pub fn rt_delete(h: u64, dn: &str) -> Result<(), ImmError> {
    let name = implementer_of(h)?;
    let inst = current()?;
    inst.server_call("saImmOiRtObjectDelete", || {
        lock(&inst.store).write(|st| {
            owns_name(st, &name, h)?;
            Ok((vec![validate_delete(st, dn, &name)?], ()))
        })
    })
}

/// Queues an admin operation on the handle holding `token`; the result arrives on `tx`.
pub fn queue_admin_op(token: u64, req: AdminRequest, tx: Sender<u32>) -> Result<(), u32> {
    let mut r = lock(&registry().0);
    let Some(oh) = r.handles.get_mut(&token).filter(|oh| !oh.stale) else {
        return Err(Ais::NOT_EXIST.0);
    };
    if oh.queue.len() >= 256 {
        return Err(Ais::BUSY.0);
    }
    let inv = req.invocation;
    oh.queue.push_back(req);
    oh.efd.signal();
    r.waiters.insert(inv, (token, tx));
    drop(r);
    registry().1.notify_all();
    Ok(())
}

/// Forgets an admin operation whose requester gave up.
pub fn forget_admin_op(inv: u64) {
    lock(&registry().0).waiters.remove(&inv);
}

pub fn admin_result(h: u64, inv: u64, result: u32) -> Result<(), ImmError> {
    with_handle(h, |_| Ok(()))?;
    let inst = current()?;
    inst.server_call("saImmOiAdminOperationResult", || {
        let waiter = lock(&registry().0).waiters.remove(&inv);
        inst.events.emit(
            "imm-admin-result",
            &[
                ("invocation", inv.into()),
                ("result", Ais(result).into()),
                ("requester_waiting", Val::Bool(waiter.is_some())),
            ],
        );
        if let Some((_, tx)) = waiter {
            let _ = tx.send(result);
        }
        Ok(())
    })
}

/// Runs one admin-operation callback; false if none was pending.
fn dispatch_one(h: u64) -> Result<bool, ImmError> {
    let (req, cb) = {
        let mut r = lock(&registry().0);
        let oh = match r.handles.get_mut(&h) {
            Some(oh) if !oh.stale => oh,
            _ => return Err(bad_handle()),
        };
        let Some(req) = oh.queue.pop_front() else {
            oh.efd.clear();
            return Ok(false);
        };
        if oh.queue.is_empty() {
            oh.efd.clear();
        }
        (req, oh.callbacks.saImmOiAdminOperationCallback)
    };
    let Some(cb) = cb else {
        // No admin-operation callback registered: the operation fails at once.
        let waiter = lock(&registry().0).waiters.remove(&req.invocation);
        if let Some((_, tx)) = waiter {
            let _ = tx.send(Ais::FAILED_OPERATION.0);
        }
        return Ok(true);
    };
    let name = OwnedName::new(&req.dn);
    let mut params = ParamStorage::build(&req.params);
    // SAFETY: `cb` is the application's callback of the declared type; every pointer
    // passed (name, NULL-terminated parameter array and its contents) lives until it
    // returns. No simulator lock is held, so the callback may call back into the library.
    unsafe { cb(h, req.invocation, name.as_ptr(), req.op_id, params.as_ptr()) };
    Ok(true)
}

/// The parameters of an admin-operation callback and everything they point to.
struct ParamStorage {
    _values: CAttrs,
    _params: Vec<SaImmAdminOperationParamsT_2>,
    ptrs: Vec<*const SaImmAdminOperationParamsT_2>,
}

impl ParamStorage {
    fn build(params: &[(String, Value)]) -> ParamStorage {
        let attrs: Vec<(String, ValueType, Vec<Value>)> = params
            .iter()
            .map(|(n, v)| (n.clone(), v.vtype(), vec![v.clone()]))
            .collect();
        let mut values = CAttrs::build(&attrs);
        let base = values.as_ptr();
        let mut params_c = Vec::with_capacity(params.len());
        for i in 0..params.len() {
            // SAFETY: `base` has params.len() non-NULL entries before its NULL, each an
            // SaImmAttrValuesT_2 owned by `values` with exactly one value.
            let a = unsafe { &**base.add(i) };
            // SAFETY: attrValues has one element (see above).
            let v = unsafe { *a.attrValues };
            params_c.push(SaImmAdminOperationParamsT_2 {
                paramName: a.attrName,
                paramType: SaImmValueTypeT(a.attrValueType.0),
                paramBuffer: v,
            });
        }
        // Taken after the last push: the Vec's buffer no longer moves.
        let mut ptrs: Vec<*const SaImmAdminOperationParamsT_2> = params_c
            .iter()
            .map(|b| b as *const SaImmAdminOperationParamsT_2)
            .collect();
        ptrs.push(std::ptr::null());
        ParamStorage {
            _values: values,
            _params: params_c,
            ptrs,
        }
    }

    fn as_ptr(&mut self) -> *mut *const SaImmAdminOperationParamsT_2 {
        self.ptrs.as_mut_ptr()
    }
}

pub fn dispatch(h: u64, flags: u32) -> Result<(), ImmError> {
    match flags {
        1 => dispatch_one(h).map(|_| ()),
        2 => {
            // Bounded so a callback that keeps queueing cannot pin the caller forever.
            for _ in 0..1024 {
                if !dispatch_one(h)? {
                    break;
                }
            }
            Ok(())
        }
        3 => {
            with_handle(h, |_| Ok(()))?;
            loop {
                {
                    let (m, cv) = registry();
                    let r = lock(m);
                    match r.handles.get(&h) {
                        // Finalized (by another thread): a blocking dispatch ends normally.
                        None => return Ok(()),
                        Some(oh) if oh.stale => return Err(bad_handle()),
                        Some(oh) if oh.queue.is_empty() => {
                            let _ = cv.wait_timeout(r, Duration::from_millis(200));
                            continue;
                        }
                        Some(_) => {}
                    }
                }
                match dispatch_one(h) {
                    Ok(_) => {}
                    Err(_) if !lock(&registry().0).handles.contains_key(&h) => return Ok(()),
                    Err(e) => return Err(e),
                }
            }
        }
        _ => Err(ImmError::new(
            Ais::INVALID_PARAM,
            format!("dispatch flags {flags} are invalid"),
        )),
    }
}

/// Number of live OI handles and their implementer names (for `status`).
pub fn describe() -> Vec<(u64, Option<String>, bool)> {
    lock(&registry().0)
        .handles
        .iter()
        .map(|(h, oh)| (*h, oh.implementer.clone(), oh.stale))
        .collect()
}
