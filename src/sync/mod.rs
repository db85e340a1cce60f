//! The sync worker: the only thread that talks to IMM, so the AMF thread never waits on it.
//!
//! A sync takes the change flag, *then* the links changed since the last sync from the
//! netlink monitor's cache (all links for a full sync: at start, after lost notifications,
//! on the admin operation "resync"), and puts both back if anything fails, so a change that
//! lands during or after the sync is never lost (crate::flag). It diffs those links with its
//! view of IMM and writes only the differences: its cost is that of what changed.
//!
//! - `requests`: what the AMF thread asks of the worker and reads from it without waiting
//!   ([`SyncHandle`], [`Request`], [`CsiAnswer`], [`Status`]).
//! - `imm_session`: one implementer's IMM handles, its view of the objects under one node
//!   object, and the writes (create-or-replace, delete-if-present); the one BAD_HANDLE path.
//! - `batch`: the links one sync took from the cache, and what IMM should hold for them.
//! - `refused`: links that get no object (a name IMM cannot hold, or an object IMM refused),
//!   skipped while the sync goes on with the others.
//! - `counters`: the node object's cumulative counters.
//! - `identity`: the node the worker writes for, resolved before its first write.
//! - `membership_source`, `membership_task`: cluster membership (CLM) and acting for the
//!   nodes that left it, between syncs.
//! - `worker`: the worker loop, one sync and its retries, admin operations; `worker/`
//!   `stop_and_membership`: STOPPED before a deactivation is answered, and membership.

mod batch;
mod counters;
mod identity;
mod imm_session;
mod membership_source;
mod membership_task;
mod refused;
mod requests;
mod worker;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::diff::Change;
use crate::model::IfRecord;
use crate::netlink::{LinkFilter, NotSeeded};
use crate::osaf::{Dn, Error, RetryPolicy};

pub use identity::NodeSpec;
pub use imm_session::NodeTarget;
pub use membership_source::{clm_connect, Connect, MembershipSource, View};
pub use membership_task::MembershipSettings;
pub use refused::Refused;
pub use requests::{CsiAnswer, Request, Status, SyncHandle};
pub use worker::ADMIN_OP_RESYNC;

/// What the worker is configured with.
pub struct SyncSettings {
    /// Which node: the node object, its parent and the implementer name follow from it.
    pub node: NodeSpec,
    pub filter: LinkFilter,
    pub max_dn: usize,
    pub policy: RetryPolicy,
    pub on_report: Option<ReportFn>,
    /// Follow cluster membership and act for departed nodes (None: neither).
    pub membership: Option<MembershipSettings>,
}

/// Called after each sync that wrote something (the `--sim` display).
pub type ReportFn = Box<dyn Fn(&SyncReport) + Send>;

/// One sync's outcome, for logs and the `--sim` display.
#[derive(Debug, Default, Clone)]
pub struct SyncReport {
    pub created: Vec<(Dn, IfRecord)>,
    pub updated: Vec<(Dn, IfRecord)>,
    pub deleted: Vec<Dn>,
    /// Interface objects IMM holds afterwards (filled only when a report callback is set).
    pub objects: BTreeMap<Dn, IfRecord>,
    /// Links that got no object: each is logged once, with the sync that handed it over.
    pub refused: Vec<Refused>,
    pub writes: u64,
    pub took: Duration,
}

impl SyncReport {
    /// Lists a change that was written.
    fn record(&mut self, change: Change) {
        match change {
            Change::Create(dn, rec) => self.created.push((dn, rec)),
            Change::Update(dn, rec, _) => self.updated.push((dn, rec)),
            Change::Delete(dn) => self.deleted.push(dn),
        }
    }
}

#[derive(Debug)]
enum SyncError {
    Imm(Error),
    /// The monitor's cache is being re-seeded: the sync waits for it.
    NotSeeded(NotSeeded),
    /// The assignment was taken away mid-sync.
    Deactivated,
    /// Configuration IMM cannot take (unknown class, missing parent): stop the component.
    Fatal(String),
}

impl From<Error> for SyncError {
    fn from(e: Error) -> Self {
        SyncError::Imm(e)
    }
}

impl std::fmt::Display for SyncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SyncError::Imm(e) => e.fmt(f),
            SyncError::NotSeeded(e) => e.fmt(f),
            SyncError::Deactivated => f.write_str("assignment removed during the sync"),
            SyncError::Fatal(s) => f.write_str(s),
        }
    }
}
