//! Cluster membership (CLM B.04.01): which nodes are in the cluster, this process's own
//! node, and tracking the changes. Track callbacks run inside [`Clm::dispatch`] and reach
//! the caller's [`ClmHandler`] through `osaf::dispatch`, like AMF's.

use std::os::fd::RawFd;

use opensaf_sys::*;

use super::dispatch;
use super::error::{AisCodeExt, Error};
use super::handle::{self, Version};
use super::names::NameFns;
use super::retry::RetryPolicy;

const CLM_VERSION: Version = (b'B', 4, 1);
/// How long `saClmClusterNodeGet_4` may wait for CLM.
const NODE_GET_TIMEOUT: SaTimeT = 10 * SA_TIME_ONE_SECOND;

/// A cluster node as CLM describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterNode {
    /// The CLM node's DN, e.g. `safNode=PL-3,safCluster=myClmCluster` (an AMF node names
    /// its CLM node in `saAmfNodeClmNode`).
    pub name: String,
    pub id: SaClmNodeIdT,
    pub member: bool,
    /// When the node booted, nanoseconds since the epoch.
    pub boot_timestamp: SaTimeT,
    /// The view in which the node joined the cluster.
    pub initial_view: u64,
}

/// What happened to a node (`SaClmClusterChangesT`; unknown values kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeChange {
    NoChange,
    Joined,
    Left,
    Reconfigured,
    Unlocked,
    ShutDown,
    Other(u32),
}

impl From<SaClmClusterChangesT> for NodeChange {
    fn from(c: SaClmClusterChangesT) -> Self {
        match c {
            SaClmClusterChangesT::SA_CLM_NODE_NO_CHANGE => NodeChange::NoChange,
            SaClmClusterChangesT::SA_CLM_NODE_JOINED => NodeChange::Joined,
            SaClmClusterChangesT::SA_CLM_NODE_LEFT => NodeChange::Left,
            SaClmClusterChangesT::SA_CLM_NODE_RECONFIGURED => NodeChange::Reconfigured,
            SaClmClusterChangesT::SA_CLM_NODE_UNLOCK => NodeChange::Unlocked,
            SaClmClusterChangesT::SA_CLM_NODE_SHUTDOWN => NodeChange::ShutDown,
            SaClmClusterChangesT(n) => NodeChange::Other(n),
        }
    }
}

/// One node of a membership notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeNotification {
    pub node: ClusterNode,
    pub change: NodeChange,
}

/// The membership CLM reports: the current view, or a change of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub view: u64,
    /// Members in this view (a node that just left is listed but not counted).
    pub members: u32,
    /// With [`Track::Changes`] every member plus the nodes that changed; with
    /// [`Track::ChangesOnly`] only those.
    pub nodes: Vec<NodeNotification>,
}

impl Membership {
    /// The nodes whose change is not [`NodeChange::NoChange`].
    pub fn changed(&self) -> impl Iterator<Item = &NodeNotification> {
        self.nodes
            .iter()
            .filter(|n| n.change != NodeChange::NoChange)
    }
}

/// What [`Clm::track`] asks CLM for (`SA_TRACK_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Track {
    /// The current membership at once (as a callback), then [`Track::Changes`].
    CurrentAndChanges,
    /// Each change, listing every member plus the nodes that changed.
    Changes,
    /// Each change, listing only the nodes that changed.
    ChangesOnly,
}

impl Track {
    fn flags(self) -> SaUint8T {
        match self {
            Track::CurrentAndChanges => SA_TRACK_CURRENT | SA_TRACK_CHANGES,
            Track::Changes => SA_TRACK_CHANGES,
            Track::ChangesOnly => SA_TRACK_CHANGES_ONLY,
        }
    }
}

/// What a track delivers, inside [`Clm::dispatch`].
pub trait ClmHandler {
    /// A membership notification, or the error CLM reports instead of one.
    fn membership(&mut self, update: Result<Membership, Error>);
}

dispatch::route!(ClmCallbacks: "saClmDispatch", dyn ClmHandler, ());

/// Reads one node CLM handed us.
fn node(names: &NameFns, n: &SaClmClusterNodeT_4) -> ClusterNode {
    ClusterNode {
        name: names.read(&n.nodeName).unwrap_or_default(),
        id: n.nodeId,
        member: n.member != SaBoolT::SA_FALSE,
        boot_timestamp: n.bootTimestamp,
        initial_view: n.initialViewNumber,
    }
}

/// Reads a notification buffer CLM handed us.
///
/// # Safety
/// `buf.notification` is NULL or holds `buf.numberOfItems` valid items, as CLM guarantees
/// for the duration of the callback or until the buffer is freed.
unsafe fn membership(
    names: &NameFns,
    buf: &SaClmClusterNotificationBufferT_4,
    members: u32,
) -> Membership {
    let items: &[SaClmClusterNotificationT_4] = if buf.notification.is_null() {
        &[]
    } else {
        // SAFETY: non-NULL with `numberOfItems` valid items (the caller's contract).
        unsafe { std::slice::from_raw_parts(buf.notification, buf.numberOfItems as usize) }
    };
    Membership {
        view: buf.viewNumber,
        members,
        nodes: items
            .iter()
            .map(|i| NodeNotification {
                node: node(names, &i.clusterNode),
                change: i.clusterChange.into(),
            })
            .collect(),
    }
}

#[allow(clippy::too_many_arguments)] // the C callback's signature
unsafe extern "C" fn on_track(
    buf: *const SaClmClusterNotificationBufferT_4,
    members: SaUint32T,
    _inv: SaInvocationT,
    _root_cause: *const SaNameT,
    _correlation: *const SaNtfCorrelationIdsT,
    _step: SaClmChangeStepT,
    _supervision: SaTimeT,
    error: SaAisErrorT,
) {
    dispatch::callback::<ClmCallbacks>(|c| {
        let update = match error.check("saClmClusterTrackCallback") {
            Err(e) => Err(e),
            // SAFETY: with SA_AIS_OK, CLM passes a valid buffer (or NULL) for the duration
            // of the callback; it is copied before the callback returns.
            Ok(()) => Ok(match unsafe { buf.as_ref() } {
                // SAFETY: as above, the items it points to included.
                Some(b) => unsafe { membership(&c.names, b, members) },
                None => Membership {
                    view: 0,
                    members,
                    nodes: Vec::new(),
                },
            }),
        };
        c.handler.membership(update)
    });
}

/// An initialized CLM handle. Drop finalizes it.
pub struct Clm {
    api: &'static ClmApi,
    handle: SaClmHandleT,
    names: NameFns,
    policy: RetryPolicy,
    finalized: bool,
}

impl Clm {
    /// `saClmInitialize_4` at B.04.01, with the track callback. CLM has no SaNameT helpers
    /// of its own: `names_from` is the AMF library, which exports them. SA_AIS_ERR_UNAVAILABLE
    /// means this node is not a cluster member.
    pub fn initialize(
        api: &'static ClmApi,
        names_from: &'static AmfApi,
        policy: RetryPolicy,
    ) -> Result<Clm, Error> {
        let callbacks = SaClmCallbacksT_4 {
            saClmClusterNodeGetCallback: None,
            saClmClusterTrackCallback: Some(on_track),
        };
        let handle = handle::initialize("saClmInitialize_4", CLM_VERSION, &policy, |h, v| {
            // SAFETY: pointers to live locals; CLM copies the callbacks struct.
            unsafe { (api.saClmInitialize_4)(h, &callbacks, v) }
        })?;
        Ok(Clm {
            api,
            handle,
            names: NameFns::new(names_from.saAisNameLend, names_from.saAisNameBorrow),
            policy,
            finalized: false,
        })
    }

    /// The fd to poll; readable when a track callback is pending.
    pub fn selection_fd(&self) -> Result<RawFd, Error> {
        handle::selection_fd("saClmSelectionObjectGet", |fd| {
            // SAFETY: live handle, pointer to the caller's local.
            unsafe { (self.api.saClmSelectionObjectGet)(self.handle, fd) }
        })
    }

    /// `saClmClusterNodeGet_4` of this process's own node (`SA_CLM_LOCAL_NODE_ID`).
    pub fn local_node(&self) -> Result<ClusterNode, Error> {
        let mut n = SaClmClusterNodeT_4::default();
        self.policy.run("saClmClusterNodeGet_4", || {
            let get = self.api.saClmClusterNodeGet_4;
            // SAFETY: live handle, writes into a local struct.
            unsafe { get(self.handle, SA_CLM_LOCAL_NODE_ID, NODE_GET_TIMEOUT, &mut n) }
                .into_result()
        })?;
        Ok(node(&self.names, &n))
    }

    /// The current membership, at once (`SA_TRACK_CURRENT` into a buffer CLM allocates).
    pub fn members(&self) -> Result<Membership, Error> {
        let mut buf = SaClmClusterNotificationBufferT_4 {
            viewNumber: 0,
            numberOfItems: 0,
            notification: std::ptr::null_mut(),
        };
        self.policy.run("saClmClusterTrack_4", || {
            // SAFETY: live handle; a NULL notification array asks CLM to allocate one,
            // which is freed below.
            unsafe { (self.api.saClmClusterTrack_4)(self.handle, SA_TRACK_CURRENT, &mut buf) }
                .into_result()
        })?;
        // SAFETY: CLM filled `buf` with `numberOfItems` items it allocated.
        let mut m = unsafe { membership(&self.names, &buf, 0) };
        m.members = m.nodes.iter().filter(|n| n.node.member).count() as u32;
        if !buf.notification.is_null() {
            let free = self.api.saClmClusterNotificationFree_4;
            // SAFETY: the array CLM allocated for this handle, freed exactly once.
            if let Err(e) = unsafe { free(self.handle, buf.notification) }
                .check("saClmClusterNotificationFree_4")
            {
                log::warn!("{e}");
            }
        }
        Ok(m)
    }

    /// `saClmClusterTrack_4`: notifications come through [`Clm::dispatch`].
    pub fn track(&self, mode: Track) -> Result<(), Error> {
        self.policy.run("saClmClusterTrack_4", || {
            let track = self.api.saClmClusterTrack_4;
            // SAFETY: live handle; a NULL buffer makes CLM deliver the current membership
            // through the callback.
            unsafe { track(self.handle, mode.flags(), std::ptr::null_mut()) }.into_result()
        })
    }

    /// `saClmClusterTrackStop`: no track callback is delivered after it.
    pub fn track_stop(&self) -> Result<(), Error> {
        // SAFETY: live handle.
        unsafe { (self.api.saClmClusterTrackStop)(self.handle) }.check("saClmClusterTrackStop")
    }

    /// `saClmDispatch` of every pending callback, routed to `handler`. A handler panic is
    /// re-raised here.
    pub fn dispatch(&self, handler: &mut dyn ClmHandler) -> Result<(), Error> {
        let mut lent = dispatch::Lent {
            handler,
            responder: (),
            names: self.names,
        };
        let all = SaDispatchFlagsT::SA_DISPATCH_ALL;
        // SAFETY: live handle; the callback re-enters Rust only through `on_track`, which
        // reaches `lent` through `dispatch::run` and catches panics.
        dispatch::run::<ClmCallbacks>(&mut lent, || unsafe {
            (self.api.saClmDispatch)(self.handle, all)
        })
    }

    /// `saClmFinalize` with its answer (dropping a `Clm` finalizes too, logging a failure).
    pub fn finalize(mut self) -> Result<(), Error> {
        self.finalized = true;
        // SAFETY: the handle came from saClmInitialize_4; `finalized` keeps drop from
        // finalizing it again.
        unsafe { (self.api.saClmFinalize)(self.handle) }.check("saClmFinalize")
    }
}

impl Drop for Clm {
    fn drop(&mut self) {
        if self.finalized {
            return;
        }
        // SAFETY: the handle came from saClmInitialize_4 and is finalized exactly once.
        let rc = unsafe { (self.api.saClmFinalize)(self.handle) };
        handle::log_finalize("saClmFinalize", rc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_modes_are_the_spec_flags() {
        assert_eq!(Track::CurrentAndChanges.flags(), 0x03);
        assert_eq!(Track::Changes.flags(), 0x02);
        assert_eq!(Track::ChangesOnly.flags(), 0x04);
    }

    #[test]
    fn unknown_changes_are_kept() {
        assert_eq!(
            NodeChange::from(SaClmClusterChangesT::SA_CLM_NODE_LEFT),
            NodeChange::Left
        );
        assert_eq!(
            NodeChange::from(SaClmClusterChangesT(9)),
            NodeChange::Other(9)
        );
    }
}
