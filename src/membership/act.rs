//! Acting for a departed node in IMM: one attempt, safe to repeat and to race.
//!
//! Take the node's implementer name, delete its interface objects, write `mirrorState` =
//! DEPARTED (time, and which node did it), and keep holding the name until the node
//! rejoins (see [`Acting`] for why). The name is the mutex between survivors: EXIST means
//! it is not released yet or another survivor holds it, so the attempt ends as
//! [`Acted::Busy`] at once (the planner tries again 100 ms later) instead of blocking the
//! caller. Every step is idempotent: a missing object counts as deleted.

use std::collections::BTreeMap;
use std::time::Duration;

use opensaf_sys::ImmOiApi;

use super::plan::Outcome;
use crate::model::{self, MirrorState, NodeState};
use crate::osaf::{AisCode, AisCodeExt, Dn, Error, ImmOi, ImmOm, RetryPolicy, Scope, MAX_LONG_DN};

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acted {
    /// Its interface objects deleted (this many) and DEPARTED written.
    Departed { deleted: usize },
    /// Someone already wrote DEPARTED.
    AlreadyDeparted,
    /// It has no node object: nothing to do.
    NoObject,
    /// The implementer name is held: try again shortly.
    Busy,
    /// `still_departed` said no once the name was taken: nothing was changed (the name is
    /// let go at once).
    Rejoined,
}

impl Acted {
    /// What the planner makes of it.
    pub fn outcome(&self) -> Outcome {
        match self {
            Acted::Departed { .. } | Acted::AlreadyDeparted | Acted::NoObject => Outcome::Settled,
            Acted::Busy => Outcome::Busy,
            Acted::Rejoined => Outcome::Rejoined,
        }
    }
}

/// What an attempt needs besides IMM handles.
pub struct Target<'a> {
    /// The departed node's name and node object DN.
    pub node: &'a str,
    pub node_dn: &'a Dn,
    /// This node's name, for `mirrorStateBy`.
    pub me: &'a str,
}

/// The OI handles this macsync acts through: at most one being tried, and one per departed
/// node it has marked DEPARTED and holds.
///
/// Holding matters: IMM shows a runtime object's non-persistent attributes only while its
/// implementer is attached (and 6 s after it detaches), then every attribute reads
/// `<Empty>`. A DEPARTED written and released would vanish 6 s later; held, it stays until
/// the node rejoins ([`Acting::release_members`]) or this macsync stops. After that the node
/// object reads `<Empty>` (still not current) and the next survivor to read IMM acts again.
pub struct Acting {
    oi_api: &'static ImmOiApi,
    /// No retries inside IMM calls on these handles: EXIST on the name and transient codes
    /// come back at once and the planner paces the next try, so the caller (the sync worker)
    /// never sits in a 10 s retry loop.
    policy: RetryPolicy,
    trying: Option<(String, ImmOi)>,
    held: BTreeMap<String, ImmOi>,
}

impl Acting {
    /// `policy`'s stop flag is kept; its retry time is not (see the field).
    pub fn new(oi_api: &'static ImmOiApi, policy: &RetryPolicy) -> Acting {
        Acting {
            oi_api,
            policy: RetryPolicy {
                total: Duration::ZERO,
                ..policy.clone()
            },
            trying: None,
            held: BTreeMap::new(),
        }
    }

    /// The departed nodes whose implementer name this macsync holds.
    pub fn held(&self) -> impl Iterator<Item = &str> {
        self.held.keys().map(String::as_str)
    }

    /// Lets go of the names of nodes that are members again, so their own macsync can
    /// take them at once. Returns those nodes.
    pub fn release_members(&mut self, is_member: impl Fn(&str) -> bool) -> Vec<String> {
        let back: Vec<String> = self.held.keys().filter(|n| is_member(n)).cloned().collect();
        for n in &back {
            self.held.remove(n);
        }
        back
    }

    /// Forgets the held marks of nodes IMM shows unmarked (`nodes`: node name and
    /// `mirrorState` as just read): their handle died and the name went with it, so the
    /// planner's next attempt marks them again. Returns those nodes.
    pub fn forget_unmarked<'a>(
        &mut self,
        nodes: impl IntoIterator<Item = (&'a str, Option<MirrorState>)>,
    ) -> Vec<String> {
        let gone: Vec<String> = nodes
            .into_iter()
            .filter(|(n, state)| {
                *state != Some(MirrorState::Departed) && self.held.contains_key(*n)
            })
            .map(|(n, _)| n.to_string())
            .collect();
        for n in &gone {
            self.held.remove(n);
        }
        gone
    }

    /// IMM answered BAD_HANDLE (its node director restarted): every handle of this process
    /// died, the held names with them. Returns the nodes whose marks were held; the next IMM
    /// read that shows them unmarked puts them back to be marked again.
    pub fn handles_lost(&mut self) -> Vec<String> {
        self.trying = None;
        std::mem::take(&mut self.held).into_keys().collect()
    }

    /// One attempt to act for `t.node`. `om` is the caller's reader. `still_departed` is
    /// asked once the name is held (dispatch CLM there): false leaves everything as it is.
    ///
    /// WANTED from `crate::osaf` (after its rework): `ImmOi::implementer_clear`
    /// (`saImmOiImplementerClear`) to let go of a name without finalizing the handle;
    /// dropping the handle releases it too, at the cost of one initialize per act.
    pub fn attempt(
        &mut self,
        om: &ImmOm,
        t: &Target,
        still_departed: &mut dyn FnMut() -> bool,
    ) -> Result<Acted, Error> {
        if self.held.contains_key(t.node) {
            return Ok(Acted::AlreadyDeparted);
        }
        // Looking first costs one read and spares taking a name another survivor holds.
        if let Some(done) = settled(om, t.node_dn)? {
            self.trying = None;
            return Ok(done);
        }
        let result = self.try_once(om, t, still_departed);
        let busy = match &result {
            Ok(Acted::Busy) => true,
            Err(e) => e.code().is_some_and(AisCodeExt::is_transient),
            Ok(_) => false,
        };
        match self.trying.take() {
            // Marked: keep the name, so DEPARTED stays readable.
            Some((node, oi)) if matches!(result, Ok(Acted::Departed { .. })) => {
                self.held.insert(node, oi);
            }
            // Busy before the name was taken: keep the handle for the next try.
            Some((node, oi)) if busy && oi.implementer().is_none() => {
                self.trying = Some((node, oi));
            }
            // Anything else: dropping the handle releases the name if it was taken.
            _ => {}
        }
        match result {
            Err(e) if busy => {
                log::debug!("acting for {}: {e}; trying again shortly", t.node);
                Ok(Acted::Busy)
            }
            r => r,
        }
    }

    fn try_once(
        &mut self,
        om: &ImmOm,
        t: &Target,
        still_departed: &mut dyn FnMut() -> bool,
    ) -> Result<Acted, Error> {
        if self.trying.as_ref().is_some_and(|(n, _)| n != t.node) {
            self.trying = None;
        }
        if self.trying.is_none() {
            let oi = ImmOi::initialize(self.oi_api, false, self.policy.clone())?;
            self.trying = Some((t.node.to_string(), oi));
        }
        let (_, oi) = self.trying.as_mut().expect("set above");
        match oi.implementer_set(&model::implementer_name(t.node)) {
            Ok(()) => {}
            Err(e) if e.code() == Some(AisCode::EXIST) => return Ok(Acted::Busy),
            Err(e) => return Err(e),
        }
        holding(oi, om, t, still_departed)
    }
}

fn holding(
    oi: &ImmOi,
    om: &ImmOm,
    t: &Target,
    still_departed: &mut dyn FnMut() -> bool,
) -> Result<Acted, Error> {
    if !still_departed() {
        return Ok(Acted::Rejoined);
    }
    // A DEPARTED read now is no reason to stop: values hidden while nobody held the name
    // show again once someone does, so it may be a mark nobody could read. Mark again.
    if om.get(t.node_dn, Some(&[]))?.is_none() {
        return Ok(Acted::NoObject);
    }
    let children = om.search(
        Some(t.node_dn),
        Scope::Sublevel,
        Some(model::IF_CLASS),
        Some(&[]),
    )?;
    let mut deleted = 0;
    for o in children {
        let dn = match Dn::parse(&o.dn, MAX_LONG_DN) {
            Ok(dn) => dn,
            Err(e) => {
                log::warn!("acting for {}: skipping {:?}: {e}", t.node, o.dn);
                continue;
            }
        };
        match oi.delete(&dn) {
            Ok(()) => deleted += 1,
            Err(e) if e.code() == Some(AisCode::NOT_EXIST) => {}
            Err(e) => return Err(e),
        }
    }
    match oi.update(
        t.node_dn,
        &MirrorState::Departed.attrs(model::now_ns(), t.me),
    ) {
        Ok(()) => Ok(Acted::Departed { deleted }),
        // Deleted meanwhile (e.g. `macsync --purge --node`): nothing left to mark.
        Err(e) if e.code() == Some(AisCode::NOT_EXIST) => Ok(Acted::NoObject),
        Err(e) => Err(e),
    }
}

/// Some(..) when nothing is left to do for the node.
fn settled(om: &ImmOm, node_dn: &Dn) -> Result<Option<Acted>, Error> {
    Ok(match om.get(node_dn, Some(&model::NODE_STATE_ATTRS))? {
        None => Some(Acted::NoObject),
        Some(o) if NodeState::from_attrs(&o.attrs).state == Some(MirrorState::Departed) => {
            Some(Acted::AlreadyDeparted)
        }
        Some(_) => None,
    })
}
