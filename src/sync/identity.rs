//! Which node the worker writes for. Under AMF the name comes from IMM (the AMF node hosting
//! this component's SU, [`crate::identity::under_amf`]), so the worker resolves it itself,
//! before its first IMM write: the AMF thread registers at once and never waits for IMM.
//!
//! Until the name is known the worker only serves its inbox: it tries at start, and again
//! at each activation or sync request; deactivations are answered at once (nothing has been
//! written), a stop ends it. A name IMM cannot give (no such SU, a host that is not an AMF
//! node, a name IMM would refuse) ends the component with one line: under AMF the name is
//! never guessed.

use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::Ordering;

use super::worker::Parts;
use super::{NodeTarget, Request};
use crate::identity::{self, AmfIdentityError, Identity, Source};
use crate::model;
use crate::osaf::{Dn, ImmOm, RetryPolicy};
use crate::sys::poll;
use opensaf_sys::Apis;

/// What the worker knows of its node before IMM is asked.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    /// `--node` / `MACSYNC_NODE`; empty: the AMF node hosting `component`'s SU.
    pub explicit: String,
    /// This component's DN (`saAmfComponentNameGet`).
    pub component: String,
    /// `--parent-dn`, already checked.
    pub parent: Option<Dn>,
}

/// One try's result.
enum Resolved {
    Known(NodeTarget),
    /// Not now (IMM failed, or the SU names no node yet): at the next request.
    Later,
    Fatal(String),
}

/// Resolves the node from `spec`, reading IMM through its own OM handle.
pub(super) struct Resolver {
    spec: NodeSpec,
    max_dn: usize,
    apis: Apis,
    policy: RetryPolicy,
    om: Option<ImmOm>,
}

impl Resolver {
    pub fn new(spec: NodeSpec, max_dn: usize, apis: Apis, policy: RetryPolicy) -> Resolver {
        Resolver {
            spec,
            max_dn,
            apis,
            policy,
            om: None,
        }
    }

    fn identity(&mut self) -> Result<Identity, AmfIdentityError> {
        if !self.spec.explicit.is_empty() {
            return Ok(Identity {
                name: self.spec.explicit.clone(),
                source: Source::Configured,
            });
        }
        if self.om.is_none() {
            let om = ImmOm::initialize(self.apis.imm_om, self.apis.imm_oi, self.policy.clone());
            self.om = Some(om.map_err(AmfIdentityError::Imm)?);
        }
        let om = self.om.as_ref().expect("made above");
        identity::under_amf("", &self.spec.component, om)
    }

    fn attempt(&mut self) -> Resolved {
        let id = match self.identity() {
            Ok(id) => id,
            Err(AmfIdentityError::Invalid(m)) => {
                return Resolved::Fatal(format!("{m} (under AMF the node name is not guessed)"))
            }
            Err(AmfIdentityError::Imm(e)) if e.is_bad_handle() => {
                self.om = None;
                log::warn!("node name from AMF: {e}; trying again at the next request");
                return Resolved::Later;
            }
            Err(e) => {
                log::warn!("node name from AMF: {e}; trying again at the next request");
                return Resolved::Later;
            }
        };
        // The name is known for good: the handle is not needed any more.
        self.om = None;
        id.log();
        let s = &self.spec;
        match model::node_dn(&id.name, s.parent.as_ref(), self.max_dn) {
            Ok(node_dn) => Resolved::Known(NodeTarget {
                node_dn,
                parent: s.parent.clone(),
                implementer: model::implementer_name(&id.name),
            }),
            Err(e) => Resolved::Fatal(format!("node name '{}': {e}", id.name)),
        }
    }
}

/// Serves the inbox until the node is known. Returns it, and whether an activation or sync
/// request found it (that request's sync is then due); None when the worker is to end (a
/// stop request, or a fatal error, which is then in `status.fatal` and main woken).
pub(super) fn await_node(resolver: &mut Resolver, parts: &Parts) -> Option<(NodeTarget, bool)> {
    let status = &parts.status;
    let mut tries = |status: &super::Status| {
        status.set_busy(true);
        let r = resolver.attempt();
        status.set_busy(false);
        r
    };
    let mut outcome = tries(status);
    let mut requested = false;
    loop {
        match outcome {
            Resolved::Known(t) => {
                // Requests left in the channel are the worker's now: make sure it looks.
                parts.inbox.bell.ring();
                return Some((t, requested));
            }
            Resolved::Fatal(msg) => {
                log::error!("{msg}");
                *status.fatal.lock().unwrap_or_else(|p| p.into_inner()) = Some(msg);
                parts.wake_main.ring();
                return None;
            }
            Resolved::Later => {}
        }
        outcome = Resolved::Later;
        if let Err(e) = poll(&[parts.inbox.bell.as_fd().as_raw_fd()], -1) {
            log::warn!("sync worker poll: {e}");
        }
        parts.inbox.bell.drain();
        while let Ok(req) = parts.inbox.rx.try_recv() {
            match req {
                Request::Stop => return None,
                Request::Deactivate { answer } => {
                    answer.answer();
                }
                Request::Sync | Request::Activate => {
                    status.sync_queued.store(false, Ordering::Release);
                    if status.active.load(Ordering::Acquire) {
                        requested = true;
                        outcome = tries(status);
                        if !matches!(outcome, Resolved::Later) {
                            break;
                        }
                    }
                }
            }
        }
    }
}
