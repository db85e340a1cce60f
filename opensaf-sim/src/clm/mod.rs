//! The CLM library (B.04.01) as one process sees it: handles, cluster tracking and node
//! queries.
//!
//! Every simulated process runs on one node, `$OPENSAF_SIM_NODE` (default `SC-1`): the
//! local node of `saClmClusterNodeGet_4(SA_CLM_LOCAL_NODE_ID)` and `SA_TRACK_LOCAL`. The
//! membership itself is in the IMM store ([`membership`]). The CLI changes it (`clm leave`,
//! `clm join`): it updates the store, then tells every process through its CLI server, and
//! each process queues the track callbacks of its tracking handles ([`membership_changed`]).
//! Callbacks run only inside `saClmDispatch`, as with AMF.
//!
//! As the CLM specification says, a process whose node is not a member gets
//! SA_AIS_ERR_UNAVAILABLE from initialize, track and node get; callbacks already queued
//! (its own node's LEFT) are still dispatched. The track call's answers were measured on
//! OpenSAF 5.21.03: unknown flag bits are ignored, SA_AIS_ERR_BAD_FLAGS when neither
//! CURRENT nor CHANGES(_ONLY) is asked or both CHANGES and CHANGES_ONLY are, then
//! SA_AIS_ERR_INIT for a handle without a track callback (even for a synchronous CURRENT).
//! `SA_TRACK_START_STEP` / `SA_TRACK_VALIDATE_STEP` are accepted; CLM only uses those
//! steps for administrative operations, which the simulator has not, so every callback is
//! step COMPLETED. Not simulated: `saClmClusterNodeGetAsync`, `saClmResponse_4`.

pub mod deliver;
pub mod membership;
pub mod requests;

use std::collections::{HashMap, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};

use opensaf_sys::{
    SaAisErrorT as Ais, SaClmCallbacksT_4, SaClmClusterNotificationT_4, SA_TRACK_CHANGES,
    SA_TRACK_CHANGES_ONLY, SA_TRACK_CURRENT, SA_TRACK_LOCAL,
};

use crate::eventfd::EventFd;
use crate::events::Val;
use crate::ids::next_id;
use crate::instance::{self, Instance};
use crate::mutex::lock;
use deliver::{CallerBuffer, Delivery, Item};
use membership::Node;

/// The environment variable naming the node a simulated process runs on.
pub const NODE_VAR: &str = "OPENSAF_SIM_NODE";
pub const DEFAULT_NODE: &str = "SC-1";
/// Version negotiation: release 'B' major 4 answers B.04.01.
pub const CLM_VERSION: (u8, u8, u8) = (b'B', 4, 1);

/// The clusterChange values (`SaClmClusterChangesT`).
pub const NO_CHANGE: u32 = 1;
pub const JOINED: u32 = 2;
pub const LEFT: u32 = 3;

/// The node this process runs on, as named in `$OPENSAF_SIM_NODE` (read once).
pub fn local_node_name() -> &'static str {
    static NODE: OnceLock<String> = OnceLock::new();
    NODE.get_or_init(|| {
        std::env::var(NODE_VAR)
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| DEFAULT_NODE.to_string())
    })
}

struct ClmHandle {
    callbacks: SaClmCallbacksT_4,
    efd: EventFd,
    /// The SA_TRACK_* flags of a running track (None: not tracking changes).
    tracking: Option<u8>,
    queue: VecDeque<Delivery>,
}

// SAFETY: the callbacks are plain C function pointers, callable from any thread; the rest
// is owned data, reached only through the agent's Mutex.
unsafe impl Send for ClmHandle {}

#[derive(Default)]
struct Agent {
    handles: HashMap<u64, ClmHandle>,
    /// Notification arrays the library allocated for a synchronous track (by address), with
    /// the handle they belong to, until `saClmClusterNotificationFree_4`.
    buffers: HashMap<usize, (u64, Box<[SaClmClusterNotificationT_4]>)>,
}

// SAFETY: the notification arrays hold SaNameT values (plain bytes, or a pointer into the
// process-wide name copies of `names::kept`); nothing in them is tied to a thread.
unsafe impl Send for Agent {}

fn agent() -> &'static (Mutex<Agent>, Condvar) {
    static A: OnceLock<(Mutex<Agent>, Condvar)> = OnceLock::new();
    A.get_or_init(Default::default)
}

fn state() -> MutexGuard<'static, Agent> {
    lock(&agent().0)
}

fn emit(event: &str, fields: &[(&str, Val)]) {
    if let Some(i) = instance::current() {
        i.events.emit(event, fields);
    }
}

/// The membership as the store has it now: every node, and this process's node.
fn read_membership(inst: &Instance) -> Result<(Vec<Node>, Option<Node>), Ais> {
    lock(&inst.store)
        .read(|st| {
            let local = membership::find(st, local_node_name());
            (membership::nodes(st), local)
        })
        .map_err(|e| e.code)
}

/// The nodes and the local one, or UNAVAILABLE when this process's node is not a member.
fn member_view(inst: &Instance) -> Result<(Vec<Node>, Node), Ais> {
    match read_membership(inst)? {
        (nodes, Some(local)) if local.member => Ok((nodes, local)),
        _ => Err(Ais::UNAVAILABLE),
    }
}

pub fn initialize(callbacks: SaClmCallbacksT_4) -> Result<u64, Ais> {
    let inst = instance::get()?;
    inst.reload_config();
    let (_, local) = member_view(&inst)?;
    let efd = EventFd::new().map_err(|_| Ais::NO_MEMORY)?;
    let h = next_id();
    state().handles.insert(
        h,
        ClmHandle {
            callbacks,
            efd,
            tracking: None,
            queue: VecDeque::new(),
        },
    );
    inst.events.emit(
        "clm-initialize",
        &[("handle", h.into()), ("node", local.dn.into())],
    );
    Ok(h)
}

pub fn selection_object(h: u64) -> Result<i32, Ais> {
    state()
        .handles
        .get(&h)
        .map(|c| c.efd.raw())
        .ok_or(Ais::BAD_HANDLE)
}

pub fn finalize(h: u64) -> Result<(), Ais> {
    let mut st = state();
    st.handles.remove(&h).ok_or(Ais::BAD_HANDLE)?;
    st.buffers.retain(|_, (owner, _)| *owner != h);
    drop(st);
    agent().1.notify_all();
    emit("clm-finalize", &[("handle", h.into())]);
    Ok(())
}

/// The items of a current-membership answer: every member (or only the local node).
fn current_items(nodes: &[Node], local: &Node, flags: u8) -> Vec<Item> {
    nodes
        .iter()
        .filter(|n| n.member)
        .filter(|n| flags & SA_TRACK_LOCAL == 0 || n.dn == local.dn)
        .map(|n| Item {
            node: n.clone(),
            change: NO_CHANGE,
        })
        .collect()
}

/// What `saClmClusterTrack_4` was given as its buffer.
pub enum Buffer {
    /// NULL: a current membership is delivered through the track callback.
    Callback,
    /// Filled in the call: the caller's array when it gave one, else one the library
    /// allocates (freed with `saClmClusterNotificationFree_4`).
    Fill(CallerBuffer),
}

pub fn track(h: u64, flags: u8, buffer: Buffer) -> Result<(), Ais> {
    let changes = flags & (SA_TRACK_CHANGES | SA_TRACK_CHANGES_ONLY);
    if changes == SA_TRACK_CHANGES | SA_TRACK_CHANGES_ONLY
        || flags & (SA_TRACK_CURRENT | changes) == 0
    {
        return Err(Ais::BAD_FLAGS);
    }
    let has_callback = {
        let st = state();
        let c = st.handles.get(&h).ok_or(Ais::BAD_HANDLE)?;
        c.callbacks.saClmClusterTrackCallback.is_some()
    };
    if !has_callback {
        return Err(Ais::INIT);
    }
    let inst = instance::current().ok_or(Ais::BAD_HANDLE)?;
    let (nodes, local) = member_view(&inst)?;
    let view = membership::view(&inst.dir);
    let members = nodes.iter().filter(|n| n.member).count() as u32;
    let mut st = state();
    if flags & SA_TRACK_CURRENT != 0 {
        let items = current_items(&nodes, &local, flags);
        match buffer {
            Buffer::Fill(buf) => {
                if let Some(array) = deliver::fill(buf, view, &items)? {
                    st.buffers.insert(array.as_ptr() as usize, (h, array));
                }
            }
            Buffer::Callback => {
                let c = st.handles.get_mut(&h).ok_or(Ais::BAD_HANDLE)?;
                c.queue.push_back(Delivery {
                    view,
                    members,
                    items,
                    cause: None,
                });
                c.efd.signal();
            }
        }
    }
    if changes != 0 {
        let c = st.handles.get_mut(&h).ok_or(Ais::BAD_HANDLE)?;
        c.tracking = Some(changes | flags & SA_TRACK_LOCAL);
    }
    drop(st);
    agent().1.notify_all();
    inst.events.emit(
        "clm-track",
        &[("handle", h.into()), ("flags", u32::from(flags).into())],
    );
    Ok(())
}

pub fn track_stop(h: u64) -> Result<(), Ais> {
    let mut st = state();
    let c = st.handles.get_mut(&h).ok_or(Ais::BAD_HANDLE)?;
    if c.tracking.take().is_none() {
        return Err(Ais::NOT_EXIST);
    }
    // No callback of a stopped track is delivered after the stop.
    c.queue.retain(|d| d.cause.is_none());
    if c.queue.is_empty() {
        c.efd.clear();
    }
    drop(st);
    emit("clm-track-stop", &[("handle", h.into())]);
    Ok(())
}

pub fn notification_free(h: u64, array: usize) -> Result<(), Ais> {
    let mut st = state();
    if !st.handles.contains_key(&h) {
        return Err(Ais::BAD_HANDLE);
    }
    match st.buffers.get(&array) {
        Some((owner, _)) if *owner == h => {
            st.buffers.remove(&array);
            Ok(())
        }
        _ => Err(Ais::INVALID_PARAM),
    }
}

/// `saClmClusterNodeGet_4`: the node with `id` (0xFFFFFFFF: the local node), if a member.
pub fn node_get(h: u64, id: u32) -> Result<Node, Ais> {
    if !state().handles.contains_key(&h) {
        return Err(Ais::BAD_HANDLE);
    }
    let inst = instance::current().ok_or(Ais::BAD_HANDLE)?;
    let (nodes, local) = member_view(&inst)?;
    if id == opensaf_sys::SA_CLM_LOCAL_NODE_ID {
        return Ok(local);
    }
    nodes
        .into_iter()
        .find(|n| n.id == id && n.member)
        .ok_or(Ais::NOT_EXIST)
}

/// A membership change the CLI made (`clm leave` / `clm join`): queues the track callback
/// of every handle tracking changes. With SA_TRACK_CHANGES the buffer holds every member
/// plus the node that left; with SA_TRACK_CHANGES_ONLY only the changed node; with
/// SA_TRACK_LOCAL only a change of this process's node is reported.
pub fn membership_changed(inst: &Instance, dn: &str, change: u32, view: u64) -> Result<u32, Ais> {
    let (nodes, local) = read_membership(inst)?;
    let changed = nodes
        .iter()
        .find(|n| n.dn == dn)
        .cloned()
        .ok_or(Ais::NOT_EXIST)?;
    let members = nodes.iter().filter(|n| n.member).count() as u32;
    let is_local = local.as_ref().is_some_and(|l| l.dn == dn);
    let mut st = state();
    let mut queued = 0;
    for c in st.handles.values_mut() {
        let Some(flags) = c.tracking else { continue };
        if flags & SA_TRACK_LOCAL != 0 && !is_local {
            continue;
        }
        let items = deliver::change_items(&nodes, &changed, change, flags);
        c.queue.push_back(Delivery {
            view,
            members,
            items,
            cause: Some(changed.dn.clone()),
        });
        c.efd.signal();
        queued += 1;
    }
    drop(st);
    agent().1.notify_all();
    let what = if change == LEFT { "left" } else { "joined" };
    inst.events.emit(
        "clm-callbacks-queued",
        &[
            ("node", dn.into()),
            ("change", what.into()),
            ("view", view.into()),
            ("handles", u64::from(queued).into()),
        ],
    );
    Ok(queued)
}

/// Runs one queued callback; Ok(false) if there was none.
fn dispatch_one(h: u64) -> Result<bool, Ais> {
    let (delivery, cb) = {
        let mut st = state();
        let c = st.handles.get_mut(&h).ok_or(Ais::BAD_HANDLE)?;
        let Some(d) = c.queue.pop_front() else {
            c.efd.clear();
            return Ok(false);
        };
        if c.queue.is_empty() {
            c.efd.clear();
        }
        (d, c.callbacks.saClmClusterTrackCallback)
    };
    // No lock is held: the callback may call back into the library.
    deliver::call(cb, &delivery);
    Ok(true)
}

pub fn dispatch(h: u64, flags: u32) -> Result<(), Ais> {
    let (agent, queued) = agent();
    let pending = |a: &Agent| a.handles.get(&h).map(|c| !c.queue.is_empty());
    crate::dispatch::dispatch(flags, agent, queued, pending, || dispatch_one(h))
}

/// A summary for `status`.
pub fn describe() -> String {
    let st = state();
    format!(
        "clm node={} handles={} tracking={}",
        local_node_name(),
        st.handles.len(),
        st.handles.values().filter(|c| c.tracking.is_some()).count()
    )
}
