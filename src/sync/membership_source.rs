//! Where the worker learns cluster membership: a [`MembershipSource`] (CLM's cluster track,
//! [`ClmSource`]; tests give their own), and the AMF node name of each CLM node.

use std::collections::BTreeMap;
use std::os::fd::RawFd;

use crate::osaf::{AisCode, Clm, ClmHandler, Dn, Error, ImmOm, Membership, RetryPolicy, Scope};
use crate::osaf::{Track, MAX_LONG_DN};
use opensaf_sys::Apis;

/// A membership view: the CLM node DNs of the members (`safNode=X,safCluster=...`).
pub type View = Vec<String>;

/// One tracking session of cluster membership. Made by a [`Connect`]; when it fails or this
/// node is no longer a member, it is dropped and a new one is made later.
pub trait MembershipSource {
    /// This process's own CLM node.
    fn local(&self) -> &str;
    /// Readable when [`MembershipSource::views`] has something.
    fn fd(&self) -> RawFd;
    /// The views reported since the last call, oldest first (the first call gives the
    /// current one). Err: tracking is over (CLM failed, or this node left the cluster).
    fn views(&mut self) -> Result<Vec<View>, Error>;
}

/// Makes a source; `Err` with `SA_AIS_ERR_UNAVAILABLE` means this node is not a member.
pub type Connect = Box<dyn FnMut() -> Result<Box<dyn MembershipSource>, Error> + Send>;

/// CLM's cluster track: the current view at once, then every change (with
/// `SA_TRACK_CHANGES`, which lists every member, so each notification is a full view).
pub struct ClmSource {
    clm: Clm,
    local: String,
    fd: RawFd,
}

/// A [`Connect`] making [`ClmSource`]s.
pub fn clm_connect(apis: Apis, policy: RetryPolicy) -> Connect {
    Box::new(move || {
        let clm = Clm::initialize(apis.clm, apis.amf, policy.clone())?;
        let local = clm.local_node()?.name;
        let fd = clm.selection_fd()?;
        clm.track(Track::CurrentAndChanges)?;
        Ok(Box::new(ClmSource { clm, local, fd }) as Box<dyn MembershipSource>)
    })
}

#[derive(Default)]
struct Collect(Vec<Result<Membership, Error>>);

impl ClmHandler for Collect {
    fn membership(&mut self, update: Result<Membership, Error>) {
        self.0.push(update);
    }
}

impl MembershipSource for ClmSource {
    fn local(&self) -> &str {
        &self.local
    }

    fn fd(&self) -> RawFd {
        self.fd
    }

    fn views(&mut self) -> Result<Vec<View>, Error> {
        let mut got = Collect::default();
        self.clm.dispatch(&mut got)?;
        got.0
            .into_iter()
            .map(|m| {
                Ok(m?
                    .nodes
                    .into_iter()
                    .filter(|n| n.node.member)
                    .map(|n| n.node.name)
                    .collect())
            })
            .collect()
    }
}

/// Whether `e` says this node is not a cluster member.
pub fn not_member(e: &Error) -> bool {
    e.code() == Some(AisCode::UNAVAILABLE)
}

/// AMF node names by CLM node DN (`saAmfNodeClmNode` of each `SaAmfNode`): macsync names
/// node objects after AMF nodes, CLM reports CLM nodes. Their RDN values are equal in
/// OpenSAF's own configurations; where IMM names no AMF node for a CLM node, the CLM
/// node's RDN value is used.
#[derive(Debug, Default)]
pub struct AmfNames(BTreeMap<String, String>);

impl AmfNames {
    pub fn read(om: &ImmOm) -> Result<AmfNames, Error> {
        let mut map = BTreeMap::new();
        for o in om.search(
            None,
            Scope::Subtree,
            Some("SaAmfNode"),
            Some(&["saAmfNodeClmNode"]),
        )? {
            let clm = o
                .attr("saAmfNodeClmNode")
                .and_then(|a| a.values.first())
                .and_then(|v| v.as_str())
                .map(str::to_string);
            if let (Some(clm), Ok(dn)) = (clm, Dn::parse(&o.dn, MAX_LONG_DN)) {
                map.insert(clm, dn.rdn_value());
            }
        }
        Ok(AmfNames(map))
    }

    /// Whether every CLM node of `view` is known.
    pub fn knows(&self, view: &[String]) -> bool {
        view.iter().all(|n| self.0.contains_key(n))
    }

    /// The AMF node name of CLM node `clm`.
    pub fn name(&self, clm: &str) -> String {
        if let Some(n) = self.0.get(clm) {
            return n.clone();
        }
        Dn::parse(clm, MAX_LONG_DN).map_or_else(|_| clm.to_string(), |d| d.rdn_value())
    }
}
