//! One implementer's IMM session: the OI handle (implementer name set) and the OM handle,
//! the node object, the session's view of the interface objects under it, and the writes
//! that keep the view true whatever state an earlier, interrupted call left IMM in.
//!
//! Handles are made when first needed. BAD_HANDLE (IMM's node director restarted) has one
//! path, [`ImmSession::handle_lost`]: both handles are finalized, and the next use makes new
//! ones, sets the implementer name again and re-reads IMM. The OI handle is finalized before
//! the name is set again: when only the OM handle died, the OI handle still holds the name,
//! and setting it on a second handle would be refused (EXIST) until that one is gone.
//!
//! The node object's `mirrorState` follows the session: 0 (not current) as soon as the
//! implementer name is set, LIVE with the first counters update after that (the end of a sync
//! that made IMM match the kernel), STOPPED by [`ImmSession::write_stopped`] when the writes
//! stop on purpose. The 0 comes first because IMM, once the name is set again, shows what the
//! object said under its previous holder: a dead process's LIVE, now with a live name.

use std::collections::BTreeMap;
use std::os::fd::RawFd;

use super::SyncError;
use crate::diff::{Change, ImmView};
use crate::model::{self, Counters, IfRecord, MirrorState};
use crate::osaf::{
    AisCode, Attr, AttrValue, Dn, Error, ImmOi, ImmOm, OiHandler, RetryPolicy, Scope, MAX_LONG_DN,
};
use opensaf_sys::Apis;

/// Whose objects a session writes: one node object, the interface objects under it, and
/// the implementer name that owns them (`macsync-<node>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeTarget {
    pub node_dn: Dn,
    pub parent: Option<Dn>,
    pub implementer: String,
}

/// What [`ImmSession::apply`] did.
#[derive(Debug, PartialEq)]
pub(crate) enum Applied {
    /// Written as asked, in this many IMM writes.
    Written(u64),
    /// IMM refused the object (a create or update); the DN has no object now, and
    /// `deleted` says the view held one, which was deleted.
    Refused { error: Error, deleted: bool },
}

pub(crate) struct ImmSession {
    apis: Apis,
    target: NodeTarget,
    policy: RetryPolicy,
    /// Register the admin operation callback (the worker serves "resync").
    admin_ops: bool,
    oi: Option<ImmOi>,
    om: Option<ImmOm>,
    /// What IMM holds under the node object, as far as this session knows.
    view: Option<ImmView>,
    node_ready: bool,
    said: Said,
}

/// What the node object says through the current OI handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Said {
    /// No handle holds the implementer name.
    Nothing,
    /// 0, not current: written right after the name was set (or created so).
    NotSynced,
    Live,
    Stopped,
}

impl ImmSession {
    /// No IMM call yet: handles are made by the first call that needs them.
    pub fn new(apis: Apis, target: NodeTarget, policy: RetryPolicy, admin_ops: bool) -> Self {
        ImmSession {
            apis,
            target,
            policy,
            admin_ops,
            oi: None,
            om: None,
            view: None,
            node_ready: false,
            said: Said::Nothing,
        }
    }

    /// Every handle is dead (BAD_HANDLE, or its descriptor failed): the next use makes new
    /// ones, sets the implementer name again and re-reads IMM.
    pub fn handle_lost(&mut self) {
        self.oi = None;
        self.om = None;
        self.view = None;
        self.node_ready = false;
        self.said = Said::Nothing;
    }

    /// The outcome of a write is unknown (TIMEOUT), or a full resync was asked for: the
    /// next use re-reads the objects from IMM.
    pub fn forget_view(&mut self) {
        self.view = None;
    }

    /// The OI selection descriptor, while the handle is alive.
    pub fn selection_fd(&self) -> Option<RawFd> {
        self.oi.as_ref().and_then(|oi| oi.selection_fd().ok())
    }

    /// `saImmOiDispatch` on the live OI handle (nothing to dispatch without one).
    pub fn dispatch(&self, handler: &mut dyn OiHandler) -> Result<(), Error> {
        match &self.oi {
            Some(oi) => oi.dispatch(handler),
            None => Ok(()),
        }
    }

    fn oi(&mut self) -> Result<&ImmOi, Error> {
        Ok(self.connect()?.0)
    }

    /// OI handle with the implementer name set (and the node object saying 0, see the module
    /// documentation), and an OM handle. A handle whose 0 could not be written is dropped,
    /// letting go of the name, so no stale LIVE stays visible under it.
    pub fn connect(&mut self) -> Result<(&ImmOi, &ImmOm), Error> {
        if self.oi.is_none() {
            let mut oi = ImmOi::initialize(self.apis.imm_oi, self.admin_ops, self.policy.clone())?;
            oi.implementer_set(&self.target.implementer)?;
            write_not_synced(&oi, &self.target.node_dn)?;
            self.oi = Some(oi);
            self.view = None;
            self.node_ready = false;
            self.said = Said::NotSynced;
        }
        if self.om.is_none() {
            self.om = Some(ImmOm::initialize(
                self.apis.imm_om,
                self.apis.imm_oi,
                self.policy.clone(),
            )?);
        }
        Ok((
            self.oi.as_ref().expect("set above"),
            self.om.as_ref().expect("set above"),
        ))
    }

    /// Makes sure the node object exists. Returns the counters it holds when this call
    /// found it (read from IMM only with `read_counters`; zero when it was just created),
    /// `None` when it was known to exist already.
    pub fn ensure_node(&mut self, read_counters: bool) -> Result<Option<Counters>, SyncError> {
        if self.node_ready {
            return Ok(None);
        }
        let target = self.target.clone();
        let (oi, om) = match self.connect() {
            Err(e) if e.code() == Some(AisCode::BAD_OPERATION) => {
                return Err(SyncError::Fatal(foreign_owner(&target, &e)))
            }
            r => r?,
        };
        let node = &target.node_dn;
        let attrs = model::node_create_attrs(node);
        let found = match oi.create(model::NODE_CLASS, target.parent.as_ref(), &attrs) {
            Ok(()) => Some(Counters::default()),
            Err(e) if e.code() == Some(AisCode::EXIST) && !read_counters => None,
            Err(e) if e.code() == Some(AisCode::EXIST) => Some(
                om.get(node, Some(&model::COUNTER_ATTRS))?
                    .map(|o| Counters::from_attrs(&o.attrs))
                    .unwrap_or_default(),
            ),
            Err(e) => return Err(refusal(&target, om, e)?),
        };
        self.node_ready = true;
        Ok(found)
    }

    /// Whether the view is known, or the next use reads it from IMM (then only a full sync
    /// can tell what IMM should hold: it may have lost objects, or hold ones of an earlier
    /// run or a write whose outcome was unknown).
    pub fn view_known(&self) -> bool {
        self.view.is_some()
    }

    /// The interface objects under the node object, read from IMM if not known.
    pub fn view(&mut self) -> Result<&ImmView, Error> {
        if self.view.is_none() {
            let node = self.target.node_dn.clone();
            let (_, om) = self.connect()?;
            let objs = om.search(
                Some(&node),
                Scope::Sublevel,
                Some(model::IF_CLASS),
                Some(&[model::ATTR_MAC, model::ATTR_IFINDEX, model::ATTR_OPER]),
            )?;
            let mut view = ImmView::new();
            for o in objs {
                match Dn::parse(&o.dn, MAX_LONG_DN) {
                    Ok(dn) => view.insert(dn, IfRecord::from_attrs(&o.attrs)),
                    Err(e) => log::warn!("ignoring IMM object {:?}: {e}", o.dn),
                }
            }
            log::info!("IMM holds {} interface objects under {node}", view.len());
            self.view = Some(view);
        }
        Ok(self.view.as_ref().expect("read above"))
    }

    /// The view as last read or written, without reading IMM.
    pub fn known_objects(&self) -> Option<&BTreeMap<Dn, IfRecord>> {
        self.view.as_ref().map(ImmView::objects)
    }

    /// Writes one change and records it in the view. A create or update IMM refuses for a
    /// reason of that object alone ([`super::refused`]) is no error: whatever IMM held for
    /// that DN is deleted, so the link has no object, as one IMM cannot name.
    pub fn apply(&mut self, change: &Change) -> Result<Applied, Error> {
        self.view()?;
        let written = match change {
            Change::Create(dn, rec) => self.create_or_replace(dn, rec),
            Change::Update(dn, new, old) => match self.oi()?.update(dn, &new.changed_attrs(old)) {
                Ok(()) => Ok(1),
                Err(e) if e.code() == Some(AisCode::NOT_EXIST) => {
                    self.create_or_replace(dn, new).map(|w| w + 1)
                }
                Err(e) => Err(e),
            },
            Change::Delete(dn) => self.delete_if_present(dn).map(|()| 1),
        };
        let error = match written {
            Ok(writes) => {
                self.view.as_mut().expect("read above").apply(change);
                return Ok(Applied::Written(writes));
            }
            Err(e) if !matches!(change, Change::Delete(_)) && self.refuses_object(&e)? => e,
            Err(e) => return Err(e),
        };
        let dn = change.dn();
        self.delete_if_present(dn)?;
        let view = self.view.as_mut().expect("read above");
        let deleted = view.get(dn).is_some();
        view.remove(dn);
        Ok(Applied::Refused { error, deleted })
    }

    /// Whether a create or update failed for a reason of its object alone (its name or
    /// values), not of IMM or the node object. NOT_EXIST is the object's own only while the
    /// node object exists; a node object that is gone is made again by the next sync.
    fn refuses_object(&mut self, e: &Error) -> Result<bool, Error> {
        Ok(match e.code() {
            Some(AisCode::INVALID_PARAM | AisCode::NAME_TOO_LONG) => true,
            Some(AisCode::NOT_EXIST) => {
                let node = self.target.node_dn.clone();
                let exists = self.connect()?.1.get(&node, Some(&[]))?.is_some();
                if !exists {
                    log::warn!("{node}: the node object is gone; it is made again");
                    self.node_ready = false;
                    self.said = Said::NotSynced;
                    self.view = None;
                }
                exists
            }
            Some(_) => false,
            // Arguments the OpenSAF layer refuses before calling IMM.
            None => matches!(e, Error::Invalid(_) | Error::Dn(_)),
        })
    }

    /// Creates an interface object under the node object; if it already exists (an earlier
    /// call that timed out did take), replaces its attributes instead. Returns the number
    /// of IMM writes.
    pub fn create_or_replace(&mut self, dn: &Dn, rec: &IfRecord) -> Result<u64, Error> {
        let mut attrs = vec![Attr::one(
            model::IF_RDN,
            AttrValue::Str(dn.rdn().to_string()),
        )];
        attrs.extend(rec.attrs());
        let node = self.target.node_dn.clone();
        let node = Some(&node);
        let oi = self.oi()?;
        match oi.create(model::IF_CLASS, node, &attrs) {
            Ok(()) => Ok(1),
            Err(e) if e.code() == Some(AisCode::EXIST) => {
                oi.update(dn, &rec.attrs())?;
                Ok(2)
            }
            Err(e) => Err(e),
        }
    }

    /// Deletes an object (and its runtime children); one already gone is success.
    pub fn delete_if_present(&mut self, dn: &Dn) -> Result<(), Error> {
        match self.oi()?.delete(dn) {
            Ok(()) => Ok(()),
            Err(e) if e.code() == Some(AisCode::NOT_EXIST) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Replaces attributes of the node object (its counters), at the end of a sync that made
    /// IMM match the kernel. The first such update since the implementer name was set also
    /// says LIVE (in the same IMM call).
    pub fn update_node(&mut self, attrs: &[Attr]) -> Result<(), Error> {
        let node = self.target.node_dn.clone();
        let mut attrs = attrs.to_vec();
        let live = self.is_live();
        if !live {
            attrs.extend(MirrorState::Live.attrs(model::now_ns(), &node.rdn_value()));
        }
        self.oi()?.update(&node, &attrs)?;
        if !live {
            log::info!("{node}: mirrorState LIVE");
            self.said = Said::Live;
        }
        Ok(())
    }

    /// Whether the node object says LIVE through this session.
    pub fn is_live(&self) -> bool {
        self.said == Said::Live
    }

    /// Whether this session holds the implementer name and the node object does not say
    /// STOPPED through it yet: the writes stopping must be shown (LIVE, or 0 before the
    /// first sync, must not stay under a name that is still held).
    pub fn stop_due(&self) -> bool {
        matches!(self.said, Said::NotSynced | Said::Live)
    }

    /// Writes STOPPED on the node object: one IMM call, no retries (the caller is about to
    /// answer AMF), on the handle this session has (none: the implementer is detached
    /// already, nothing is written).
    pub fn write_stopped(&mut self) -> Result<(), Error> {
        let node = self.target.node_dn.clone();
        if let Some(oi) = self.oi.as_mut() {
            let attrs = MirrorState::Stopped.attrs(model::now_ns(), &node.rdn_value());
            let saved = oi.replace_policy(RetryPolicy::none());
            let written = oi.update(&node, &attrs);
            oi.replace_policy(saved);
            written?;
            log::info!("{node}: mirrorState STOPPED");
            self.said = Said::Stopped;
        }
        Ok(())
    }
}

/// Makes the node object say 0 (not synced yet) on a handle that has just set the name.
/// An object that does not exist yet is created with 0 ([`ImmSession::ensure_node`]).
fn write_not_synced(oi: &ImmOi, node: &Dn) -> Result<(), Error> {
    match oi.update(
        node,
        &model::not_synced_attrs(model::now_ns(), &node.rdn_value()),
    ) {
        Ok(()) => {
            log::info!("{node}: mirrorState 0 (implementer name set, not synced yet)");
            Ok(())
        }
        Err(e) if e.code() == Some(AisCode::NOT_EXIST) => Ok(()),
        Err(e) => Err(e),
    }
}

fn foreign_owner(target: &NodeTarget, e: &Error) -> String {
    format!(
        "{} is owned by another implementer than {} ({e})",
        target.node_dn, target.implementer
    )
}

/// Why IMM refused to create the node object. Configuration it cannot take (an unknown
/// class, a missing parent, another owner, a name it refuses) stops the component with one
/// line, since retrying cannot help; anything else is an ordinary IMM error.
fn refusal(target: &NodeTarget, om: &ImmOm, e: Error) -> Result<SyncError, Error> {
    let node = &target.node_dn;
    let line = match e.code() {
        Some(AisCode::NOT_EXIST) => match &target.parent {
            Some(p) if om.get(p, Some(&[]))?.is_none() => {
                format!("parent DN {p} does not exist in IMM (--parent-dn)")
            }
            _ => format!(
                "IMM does not know class {} ({e}): load samples/macsync-classes.xml with immcfg -f",
                model::NODE_CLASS
            ),
        },
        Some(AisCode::BAD_OPERATION) => foreign_owner(target, &e),
        Some(AisCode::INVALID_PARAM) | Some(AisCode::NAME_TOO_LONG) => {
            format!("IMM refuses the node object {node}: {e}")
        }
        _ => return Ok(SyncError::Imm(e)),
    };
    Ok(SyncError::Fatal(line))
}

#[cfg(all(test, feature = "sim"))]
#[path = "imm_session_tests.rs"]
pub(super) mod tests;
