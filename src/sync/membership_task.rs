//! The worker's membership duty ([`crate::membership`] has the rules): it follows cluster
//! membership all the time, and while this macsync is ACTIVE acts for the nodes that left
//! (the planner says when, [`Acting`] does it in IMM). It runs on the worker thread between
//! syncs, so IMM still has one user per process apart from the handles acting needs.
//!
//! This node itself leaving the cluster (CLM says so, or refuses it as a non-member) stops
//! its syncs: its IMM is cut off and another node may act for it. When it is a member again
//! the worker re-reads its objects and syncs at once; if a survivor acted meanwhile, the
//! implementer name is free again as soon as that survivor sees the node back.

use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use super::membership_source::{not_member, AmfNames, Connect, MembershipSource, View};
use crate::membership::act::{Acted, Acting, Target};
use crate::membership::{Outcome, Planner, Settings};
use crate::model::{self, NodeState};
use crate::osaf::{Dn, Error, ImmOm, RetryPolicy, Scope, MAX_LONG_DN};
use opensaf_sys::Apis;

/// After a failed or lost membership source, the next try comes this much later.
const RECONNECT: Duration = Duration::from_secs(1);

/// How membership is followed (`--depart-grace`, `--depart-stagger`, the source).
pub struct MembershipSettings {
    pub grace: Duration,
    pub stagger: Duration,
    pub connect: Connect,
}

/// What the worker must do after [`MembershipTask::run`].
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Turn {
    Nothing,
    /// This node is a member again after it was not: re-read IMM and sync now.
    Back,
}

pub(super) struct MembershipTask {
    /// This node's AMF name.
    me: String,
    parent: Option<Dn>,
    max_dn: usize,
    apis: Apis,
    policy: RetryPolicy,
    connect: Connect,
    source: Option<Box<dyn MembershipSource>>,
    /// When to make a new source (None while one works).
    reconnect_at: Option<Instant>,
    /// CLM says this node is not a member: no syncs.
    out: bool,
    planner: Planner,
    acting: Option<Acting>,
    om: Option<ImmOm>,
    /// After a failed read of the node objects, the next one waits until then.
    read_after: Option<Instant>,
    names: AmfNames,
}

impl MembershipTask {
    /// `policy` is the worker's (its stop flag cancels acting on deactivation).
    pub fn new(
        s: MembershipSettings,
        me: &str,
        parent: Option<Dn>,
        max_dn: usize,
        apis: Apis,
        policy: RetryPolicy,
    ) -> MembershipTask {
        let settings = Settings {
            grace: s.grace,
            stagger: s.stagger,
            ..Default::default()
        };
        MembershipTask {
            me: me.to_string(),
            parent,
            max_dn,
            apis,
            policy,
            connect: s.connect,
            source: None,
            reconnect_at: Some(Instant::now()),
            out: false,
            planner: Planner::new(me, settings),
            acting: None,
            om: None,
            read_after: None,
            names: AmfNames::default(),
        }
    }

    pub fn fd(&self) -> Option<RawFd> {
        self.source.as_ref().map(|s| s.fd())
    }

    /// This node is known not to be a cluster member.
    pub fn out_of_cluster(&self) -> bool {
        self.out
    }

    /// When [`MembershipTask::run`] has something to do without a wake-up of the fd: a new
    /// source, and while `active` a node due or the periodic read of the node objects.
    pub fn due(&self, active: bool) -> Option<Instant> {
        let (acting, read) = match (active, self.source.is_some()) {
            (true, true) => {
                let read = self.planner.next_imm_read();
                // Not before a failed read's pause is over.
                let read = read.map(|t| self.read_after.map_or(t, |r| r.max(t)));
                (self.planner.next_due(), read)
            }
            _ => (None, None),
        };
        [self.reconnect_at, acting, read]
            .into_iter()
            .flatten()
            .min()
    }

    /// Follows membership (`ready`: the source's fd is readable) and, while `active`, acts
    /// for departed nodes that are due.
    pub fn run(&mut self, ready: bool, active: bool) -> Turn {
        let was_out = self.out;
        if self.source.is_none() && self.reconnect_at.is_some_and(|t| t <= Instant::now()) {
            self.reconnect();
        }
        if ready {
            self.dispatch();
        }
        if !active {
            // Held DEPARTED marks go with the handles; another survivor marks them again.
            self.acting = None;
        } else if self.source.is_some() {
            self.act();
        }
        if was_out && !self.out {
            log::info!("this node is a cluster member again: re-reading IMM and syncing");
            return Turn::Back;
        }
        Turn::Nothing
    }

    fn reconnect(&mut self) {
        match (self.connect)() {
            Ok(source) => {
                log::info!(
                    "following cluster membership (this node: {})",
                    source.local()
                );
                self.source = Some(source);
                self.reconnect_at = None;
                // The current view comes as the first notification.
                self.dispatch();
            }
            Err(e) => self.failed(e),
        }
    }

    fn failed(&mut self, e: Error) {
        if not_member(&e) {
            self.lost(true, &e.to_string());
        } else {
            log::warn!("cluster membership: {e}; trying again in {RECONNECT:?}");
            self.lost(false, "");
        }
    }

    /// Tracking is over (`out`: this node is not a member, `why`): membership is unknown
    /// until a new source gives a view. The departed nodes' names this macsync holds are let
    /// go: it can no longer see them rejoin, and their own macsync must be able to take them
    /// when they do (a survivor still in the cluster marks them again).
    fn lost(&mut self, out: bool, why: &str) {
        if out && !self.out {
            log::warn!("this node is not a cluster member ({why}): no IMM writes until it is");
        }
        self.out |= out;
        self.source = None;
        self.planner.clm_lost();
        self.reconnect_at = Some(Instant::now() + RECONNECT);
        if let Some(acting) = self.acting.take() {
            let held: Vec<&str> = acting.held().collect();
            if !held.is_empty() {
                log::info!("membership unknown: implementer names of {held:?} let go");
            }
        }
    }

    fn dispatch(&mut self) {
        let Some(source) = self.source.as_mut() else {
            return;
        };
        match source.views() {
            Ok(views) => {
                for v in views {
                    self.view(v);
                }
            }
            Err(e) => self.failed(e),
        }
    }

    fn view(&mut self, view: View) {
        let Some(local) = self.source.as_ref().map(|s| s.local().to_string()) else {
            return;
        };
        if !view.contains(&local) {
            self.lost(true, &format!("{local} left the cluster"));
            return;
        }
        self.out = false;
        if !self.names.knows(&view) {
            match self.reader().and_then(AmfNames::read) {
                Ok(n) => self.names = n,
                Err(e) => log::debug!("AMF node names: {e}; using the CLM node names"),
            }
        }
        let members: Vec<String> = view.iter().map(|c| self.names.name(c)).collect();
        log::debug!("cluster members: {members:?}");
        self.planner.clm_view(members, Instant::now());
        if let Some(acting) = self.acting.as_mut() {
            for n in acting.release_members(|n| self.planner.is_member(n)) {
                log::info!("node {n} is back: implementer name macsync-{n} let go");
            }
        }
    }

    fn reader(&mut self) -> Result<&ImmOm, Error> {
        if self.om.is_none() {
            let om = ImmOm::initialize(self.apis.imm_om, self.apis.imm_oi, self.policy.clone())?;
            self.om = Some(om);
        }
        Ok(self.om.as_ref().expect("made above"))
    }

    /// An IMM failure: a dead handle is made again at the next use. BAD_HANDLE on one
    /// handle means every handle died (IMM's node director restarted), the acting ones too.
    fn imm_failed(&mut self, what: &str, e: &Error) {
        log::warn!("{what}: {e}");
        if e.is_bad_handle() {
            self.om = None;
            let lost = self.acting.as_mut().map(Acting::handles_lost);
            if let Some(lost) = lost.filter(|l| !l.is_empty()) {
                log::warn!("DEPARTED marks of {lost:?} lost with their handles: marked again once IMM shows them unmarked");
            }
        }
    }

    fn act(&mut self) {
        let now = Instant::now();
        if self.planner.wants_imm_read(now) && self.read_after.is_none_or(|t| t <= now) {
            match self.node_objects() {
                Ok(nodes) => {
                    if let Some(acting) = self.acting.as_mut() {
                        let read = nodes.iter().map(|(n, s)| (n.as_str(), *s));
                        for n in acting.forget_unmarked(read) {
                            log::warn!("node {n}: its DEPARTED mark is gone, marking it again");
                        }
                    }
                    self.planner.imm_nodes(nodes, now)
                }
                Err(e) => {
                    self.imm_failed("reading the node objects", &e);
                    self.read_after = Some(now + RECONNECT);
                }
            }
        }
        for due in self.planner.due(now) {
            if self.source.is_none() {
                // Membership was lost during an earlier attempt: nobody is acted for now.
                break;
            }
            let outcome = match self.attempt(&due.node) {
                Ok(acted) => {
                    match &acted {
                        Acted::Departed { deleted } => log::info!(
                            "acted for node {} (left the cluster {:?} ago): {deleted} interface objects deleted, mirrorState DEPARTED",
                            due.node,
                            due.gone_for
                        ),
                        other => log::debug!("acting for node {}: {other:?}", due.node),
                    }
                    acted.outcome()
                }
                Err(e) => {
                    self.imm_failed(&format!("acting for node {}", due.node), &e);
                    Outcome::Failed
                }
            };
            self.planner.outcome(&due.node, outcome, Instant::now());
        }
    }

    /// (node name, mirrorState) of every node object under the parent.
    fn node_objects(&mut self) -> Result<Vec<(String, Option<model::MirrorState>)>, Error> {
        let parent = self.parent.clone();
        let objs = self.reader()?.search(
            parent.as_ref(),
            Scope::Sublevel,
            Some(model::NODE_CLASS),
            Some(&[model::ATTR_STATE]),
        )?;
        Ok(objs
            .into_iter()
            .filter_map(|o| {
                let dn = Dn::parse(&o.dn, MAX_LONG_DN).ok()?;
                Some((dn.rdn_value(), NodeState::from_attrs(&o.attrs).state))
            })
            .collect())
    }

    /// One attempt for `node`; CLM is asked once more after the name is taken.
    fn attempt(&mut self, node: &str) -> Result<Acted, Error> {
        let Ok(node_dn) = model::node_dn(node, self.parent.as_ref(), self.max_dn) else {
            return Ok(Acted::NoObject);
        };
        self.reader()?;
        let acting = self
            .acting
            .get_or_insert_with(|| Acting::new(self.apis.imm_oi, &self.policy));
        let target = Target {
            node,
            node_dn: &node_dn,
            me: &self.me,
        };
        let mut fresh: Vec<View> = Vec::new();
        let mut failed = None;
        let (source, names, planner) = (&mut self.source, &self.names, &self.planner);
        let mut still_departed = || {
            if let Some(s) = source.as_mut() {
                match s.views() {
                    Ok(v) => fresh.extend(v),
                    Err(e) => failed = Some(e),
                }
            }
            match fresh.last() {
                Some(v) => !v.iter().any(|c| names.name(c) == node),
                None => !planner.is_member(node),
            }
        };
        let om = self.om.as_ref().expect("made above");
        let result = acting.attempt(om, &target, &mut still_departed);
        for v in fresh {
            self.view(v);
        }
        if let Some(e) = failed {
            self.failed(e);
        }
        result
    }
}

#[cfg(all(test, feature = "sim"))]
#[path = "membership_task_tests.rs"]
mod tests;
