//! The object-management library (read side): handles, searches and accessors.
//!
//! A search takes its result set when it is initialized (as IMM does) and hands out one
//! object per `SearchNext`; the name and attribute arrays it returns belong to the search
//! handle and stay valid until the next call on it or its finalize.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, OnceLock};

use opensaf_sys::SaAisErrorT as Ais;

use super::cvalues::CAttrs;
use super::model::{flags, Object, Value, ValueType, ATTR_CLASS_NAME};
use super::shown::{Shown, Visibility};
use super::ImmError;
use crate::ids::next_id;
use crate::instance;
use crate::mutex::lock;

/// Options (`SaImmSearchOptionsT` bits).
pub const ONE_ATTR: u64 = 0x1;
pub const GET_ALL_ATTR: u64 = 0x100;
pub const GET_NO_ATTR: u64 = 0x200;
pub const GET_SOME_ATTR: u64 = 0x400;
pub const GET_CONFIG_ATTR: u64 = 0x1_0000;

/// IMM sends search results in batches of this many objects; only the first of each
/// batch pays the emulated round-trip latency.
const SEARCH_BATCH: u64 = 500;

type Row = (String, Vec<(String, ValueType, Vec<Value>)>);

struct Search {
    om: u64,
    rows: VecDeque<Row>,
    current: Option<CAttrs>,
    nexts: u64,
}

struct Accessor {
    om: u64,
    current: Option<CAttrs>,
}

#[derive(Default)]
struct Registry {
    /// OM handle -> stale flag.
    handles: HashMap<u64, bool>,
    searches: HashMap<u64, Search>,
    accessors: HashMap<u64, Accessor>,
}

fn registry() -> &'static Mutex<Registry> {
    static R: OnceLock<Mutex<Registry>> = OnceLock::new();
    R.get_or_init(Default::default)
}

fn bad_handle() -> ImmError {
    ImmError::new(Ais::BAD_HANDLE, "unknown, finalized or stale OM handle")
}

fn check_om(r: &Registry, h: u64) -> Result<(), ImmError> {
    match r.handles.get(&h) {
        Some(false) => Ok(()),
        _ => Err(bad_handle()),
    }
}

pub fn initialize() -> Result<u64, ImmError> {
    let inst = instance::get().map_err(|c| ImmError::new(c, "simulated IMM is down"))?;
    inst.reload_config();
    inst.imm_reachable()?;
    inst.server_call("saImmOmInitialize", || {
        let h = next_id();
        lock(registry()).handles.insert(h, false);
        Ok(h)
    })
}

pub fn finalize(h: u64) -> Result<(), ImmError> {
    let mut r = lock(registry());
    r.handles.remove(&h).ok_or_else(bad_handle)?;
    r.searches.retain(|_, s| s.om != h);
    r.accessors.retain(|_, a| a.om != h);
    Ok(())
}

/// The bad-handle fault: every OM handle (and its searches/accessors) turns stale.
pub fn make_all_stale() -> usize {
    let mut r = lock(registry());
    let mut n = 0;
    for stale in r.handles.values_mut().filter(|s| !**s) {
        *stale = true;
        n += 1;
    }
    n
}

/// A search request as read from C.
pub struct SearchSpec {
    pub root: String,
    pub scope: u32,
    pub options: u64,
    pub filter: Option<(String, ValueType, Option<Value>)>,
    pub attr_names: Option<Vec<String>>,
}

fn select_attrs(
    o: &Shown,
    options: u64,
    names: &Option<Vec<String>>,
) -> Vec<(String, ValueType, Vec<Value>)> {
    if options & GET_NO_ATTR != 0 {
        return Vec::new();
    }
    if options & GET_SOME_ATTR != 0 {
        return names
            .iter()
            .flatten()
            .filter_map(|n| o.attr(n).map(|(t, v)| (n.clone(), t, v)))
            .collect();
    }
    let all = o.all_attrs();
    if options & GET_CONFIG_ATTR != 0 {
        return all
            .into_iter()
            .filter(|(n, _, _)| {
                let c = &o.object.class;
                c.attr_index(n).is_none_or(|i| c.attrs[i].is(flags::CONFIG))
            })
            .collect();
    }
    all
}

fn matches(o: &Object, filter: &Option<(String, ValueType, Option<Value>)>) -> bool {
    let Some((name, t, want)) = filter else {
        return true;
    };
    match o.attr(name) {
        None => false,
        Some((at, vals)) => match want {
            None => true,
            Some(w) => at == *t && vals.contains(w),
        },
    }
}

pub fn search_initialize(h: u64, spec: SearchSpec) -> Result<u64, ImmError> {
    check_om(&lock(registry()), h)?;
    if !(1..=3).contains(&spec.scope) {
        return Err(ImmError::new(
            Ais::INVALID_PARAM,
            format!("scope {} is invalid", spec.scope),
        ));
    }
    let kinds = [GET_ALL_ATTR, GET_NO_ATTR, GET_SOME_ATTR, GET_CONFIG_ATTR]
        .iter()
        .filter(|k| spec.options & **k != 0)
        .count();
    if kinds != 1 {
        return Err(ImmError::new(
            Ais::INVALID_PARAM,
            "searchOptions needs exactly one of GET_ALL_ATTR, GET_NO_ATTR, GET_SOME_ATTR, GET_CONFIG_ATTR",
        ));
    }
    if (spec.options & GET_SOME_ATTR != 0) != spec.attr_names.is_some() {
        return Err(ImmError::new(
            Ais::INVALID_PARAM,
            "attributeNames must be given with GET_SOME_ATTR and only then",
        ));
    }
    if spec.scope == 1 && spec.root.is_empty() {
        return Err(ImmError::new(
            Ais::INVALID_PARAM,
            "SA_IMM_ONE needs a root object",
        ));
    }
    let inst = instance::current().ok_or_else(bad_handle)?;
    let detach_ms = inst.config().imm_detach_ms;
    let rows = inst.server_call("saImmOmSearchInitialize_2", || {
        lock(&inst.store).read(|st| {
            let vis = Visibility::new(st, &inst.dir, detach_ms);
            if !spec.root.is_empty() && !st.objects.contains_key(&spec.root) {
                return Err(ImmError::new(
                    Ais::NOT_EXIST,
                    format!("root {} does not exist", spec.root),
                ));
            }
            let dns: Vec<String> = match spec.scope {
                1 => vec![spec.root.clone()],
                2 => {
                    let mut v: Vec<String> = if spec.root.is_empty() {
                        vec![]
                    } else {
                        vec![spec.root.clone()]
                    };
                    v.extend(st.children_of(&spec.root).cloned());
                    v
                }
                _ => st.subtree(&spec.root),
            };
            Ok(dns
                .into_iter()
                .filter_map(|dn| {
                    // IMM matches the filter on the stored values, even those it will not show.
                    let o = st.objects.get(&dn)?;
                    matches(o, &spec.filter).then(|| {
                        let shown = vis.show(o);
                        (dn, select_attrs(&shown, spec.options, &spec.attr_names))
                    })
                })
                .collect::<VecDeque<Row>>())
        })?
    })?;
    let mut r = lock(registry());
    check_om(&r, h)?;
    let sh = next_id();
    r.searches.insert(
        sh,
        Search {
            om: h,
            rows,
            current: None,
            nexts: 0,
        },
    );
    Ok(sh)
}

/// Advances a search; `out` receives the name and attribute array (valid until the next
/// call on the search handle).
pub fn search_next<R>(sh: u64, out: impl FnOnce(&mut CAttrs, &str) -> R) -> Result<R, ImmError> {
    let nexts = {
        let mut r = lock(registry());
        let om = r.searches.get(&sh).ok_or_else(bad_handle)?.om;
        check_om(&r, om)?;
        let s = r.searches.get_mut(&sh).expect("checked above");
        s.nexts += 1;
        s.nexts
    };
    let inst = instance::current().ok_or_else(bad_handle)?;
    inst.server_call_weighted(
        "saImmOmSearchNext_2",
        (nexts - 1) % SEARCH_BATCH == 0,
        || Ok(()),
    )?;
    let mut r = lock(registry());
    let s = r.searches.get_mut(&sh).ok_or_else(bad_handle)?;
    s.current = None;
    let Some((dn, attrs)) = s.rows.pop_front() else {
        return Err(ImmError::new(Ais::NOT_EXIST, "no more objects"));
    };
    let mut c = CAttrs::build(&attrs);
    c.object_name = Some(crate::names::OwnedName::new(&dn));
    let res = out(&mut c, &dn);
    s.current = Some(c);
    Ok(res)
}

pub fn search_finalize(sh: u64) -> Result<(), ImmError> {
    let mut r = lock(registry());
    let om = r.searches.get(&sh).ok_or_else(bad_handle)?.om;
    let stale = r.handles.get(&om).copied().unwrap_or(true);
    r.searches.remove(&sh);
    if stale {
        return Err(bad_handle());
    }
    Ok(())
}

pub fn accessor_initialize(h: u64) -> Result<u64, ImmError> {
    let mut r = lock(registry());
    check_om(&r, h)?;
    let ah = next_id();
    r.accessors.insert(
        ah,
        Accessor {
            om: h,
            current: None,
        },
    );
    Ok(ah)
}

pub fn accessor_get<R>(
    ah: u64,
    dn: &str,
    names: Option<Vec<String>>,
    out: impl FnOnce(&mut CAttrs) -> R,
) -> Result<R, ImmError> {
    {
        let r = lock(registry());
        let om = r.accessors.get(&ah).ok_or_else(bad_handle)?.om;
        check_om(&r, om)?;
    }
    if dn.is_empty() {
        return Err(ImmError::new(Ais::INVALID_PARAM, "objectName is empty"));
    }
    let inst = instance::current().ok_or_else(bad_handle)?;
    let detach_ms = inst.config().imm_detach_ms;
    let attrs = inst.server_call("saImmOmAccessorGet_2", || {
        lock(&inst.store).read(|st| {
            let o =
                Visibility::new(st, &inst.dir, detach_ms).show(st.objects.get(dn).ok_or_else(
                    || ImmError::new(Ais::NOT_EXIST, format!("{dn} does not exist")),
                )?);
            match &names {
                None => Ok(o.all_attrs()),
                Some(list) => list
                    .iter()
                    .map(|n| {
                        o.attr(n).map(|(t, v)| (n.clone(), t, v)).ok_or_else(|| {
                            ImmError::new(
                                Ais::NOT_EXIST,
                                format!("class {} has no attribute {n}", o.object.class.name),
                            )
                        })
                    })
                    .collect(),
            }
        })?
    })?;
    let mut r = lock(registry());
    let a = r.accessors.get_mut(&ah).ok_or_else(bad_handle)?;
    a.current = None;
    let mut c = CAttrs::build(&attrs);
    let res = out(&mut c);
    a.current = Some(c);
    Ok(res)
}

pub fn accessor_finalize(ah: u64) -> Result<(), ImmError> {
    let mut r = lock(registry());
    r.accessors.remove(&ah).ok_or_else(bad_handle)?;
    Ok(())
}

/// The class-name filter most searches use (for building specs from Rust).
pub fn class_filter(class: &str) -> (String, ValueType, Option<Value>) {
    (
        ATTR_CLASS_NAME.to_string(),
        ValueType::String,
        Some(Value::String(class.to_string())),
    )
}
