//! (unit tests only) The AMF callbacks and a real sync worker against the in-process
//! simulator, answering through its AMF. The simulator's CSI callbacks target all CSIs;
//! [`AsCsi`] hands them on as if they named one CSI, so per-CSI HA states get real answers.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use opensaf_sys::{SaAmfCSIFlagsT, SaDispatchFlagsT};

use super::callbacks::AmfCallbacks;
use super::health::Health;
use crate::flag::ChangeFlag;
use crate::model::{self, NodeState};
use crate::netlink::{LinkFilter, Monitor, MonitorOptions};
use crate::osaf::{Amf, AmfHandler, AmfResponder, CsiDescriptor, HaState, ImmOm, Invocation};
use crate::sync::{NodeSpec, Status, SyncHandle, SyncSettings};
use crate::sys::{poll, Doorbell};
use crate::test_sim::{Sim, COMPONENT};

/// Hands the simulator's callbacks on as if they named `csi` (`None`: TARGET_ALL).
struct AsCsi<'a> {
    inner: &'a mut AmfCallbacks,
    csi: Option<&'static str>,
}

impl AmfHandler for AsCsi<'_> {
    fn healthcheck(&mut self, amf: &AmfResponder, inv: Invocation, key: &[u8]) {
        self.inner.healthcheck(amf, inv, key)
    }

    fn csi_set(&mut self, amf: &AmfResponder, inv: Invocation, ha: HaState, csi: &CsiDescriptor) {
        let named = CsiDescriptor {
            name: self.csi.map(str::to_string),
            ..csi.clone()
        };
        self.inner.csi_set(amf, inv, ha, &named)
    }

    fn csi_remove(
        &mut self,
        amf: &AmfResponder,
        inv: Invocation,
        _csi: Option<&str>,
        flags: SaAmfCSIFlagsT,
    ) {
        self.inner.csi_remove(amf, inv, self.csi, flags)
    }

    fn terminate(&mut self, amf: &AmfResponder, inv: Invocation) {
        self.inner.terminate(amf, inv)
    }
}

pub struct Component<'s> {
    pub sim: &'s Sim,
    amf: Amf,
    pub callbacks: Option<AmfCallbacks>,
    pub status: Arc<Status>,
    /// Rung by the worker when it sets `status.fatal`.
    pub wake: Arc<Doorbell>,
}

impl<'s> Component<'s> {
    /// Registered with AMF as node `unit-callbacks`, a real sync worker behind it.
    pub fn start(sim: &'s Sim) -> Component<'s> {
        Self::start_as(
            sim,
            NodeSpec {
                explicit: "unit-callbacks".into(),
                component: COMPONENT.into(),
                parent: None,
            },
        )
    }

    /// Registered with AMF (as [`COMPONENT`]), a real sync worker behind it writing for
    /// `node`. Its filter mirrors no link, so only the node object is written.
    pub fn start_as(sim: &'s Sim, node: NodeSpec) -> Component<'s> {
        let settings = SyncSettings {
            node,
            filter: LinkFilter {
                include: vec!["no-such-link-*".into()],
                ..Default::default()
            },
            max_dn: 255,
            policy: sim.policy(),
            on_report: None,
            membership: None,
        };
        let flag = Arc::new(ChangeFlag::new_clear());
        let monitor = Monitor::spawn(Arc::new(ChangeFlag::new_clear()), MonitorOptions::default());
        let monitor = Arc::new(monitor.unwrap());
        let wake = Arc::new(Doorbell::new().unwrap());
        let sync = SyncHandle::spawn(
            settings,
            sim.apis(),
            flag.clone(),
            monitor.clone(),
            wake.clone(),
        )
        .unwrap();
        let status = sync.status.clone();
        let health = Health {
            flag,
            monitor,
            status: status.clone(),
            stuck_bound: Duration::from_secs(60),
        };
        let amf = Amf::initialize(sim.apis().amf, &sim.policy()).unwrap();
        amf.register(COMPONENT, &sim.policy()).unwrap();
        Component {
            sim,
            amf,
            callbacks: Some(AmfCallbacks::new(health, sync)),
            status,
            wake,
        }
    }

    pub fn sync(&self) -> &SyncHandle {
        &self.callbacks.as_ref().expect("running").sync
    }

    /// Dispatches AMF's next callback as if it named `csi`.
    pub fn deliver(&mut self, csi: Option<&'static str>) {
        let fd = self.amf.selection_fd().unwrap();
        assert_eq!(
            poll(&[fd], 5000).unwrap(),
            vec![true],
            "no callback from AMF"
        );
        let inner = self.callbacks.as_mut().unwrap();
        let mut h = AsCsi { inner, csi };
        self.amf
            .dispatch(SaDispatchFlagsT::SA_DISPATCH_ONE, &mut h)
            .unwrap();
    }

    /// `amf <request>` as the simulator's CLI sends it, delivered as if it named `csi`.
    pub fn request(&mut self, request: &str, csi: Option<&'static str>) {
        self.sim.cli(&["amf", request]);
        self.deliver(csi);
    }

    pub fn active(&self) -> bool {
        self.status.active.load(Ordering::Acquire)
    }

    /// OK answers to `callback` so far.
    pub fn answered(&self, callback: &str) -> usize {
        self.sim
            .events_named("cb-response")
            .iter()
            .filter(|e| e.str("callback") == Some(callback))
            .count()
    }

    /// Waits until AMF has `n` OK answers to `callback` (answers may come from the worker).
    pub fn wait_answered(&self, callback: &str, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let answers: Vec<_> = self
                .sim
                .events_named("cb-response")
                .into_iter()
                .filter(|e| e.str("callback") == Some(callback))
                .collect();
            assert!(
                answers.iter().all(|e| e.str("error") == Some("SA_AIS_OK")),
                "{answers:?}"
            );
            if answers.len() >= n {
                assert_eq!(answers.len(), n, "{callback} answered twice");
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{callback}: {} of {n} answers",
                answers.len()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn quiescing_completions(&self) -> usize {
        self.sim.events_named("quiescing-complete").len()
    }
}

impl Drop for Component<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.callbacks.take() {
            c.sync.stop(Duration::from_secs(2));
        }
    }
}

/// Reads IMM through a handle of its own.
pub struct Reader(ImmOm);

impl Reader {
    pub fn new(sim: &Sim) -> Reader {
        Reader(ImmOm::initialize(sim.apis().imm_om, sim.apis().imm_oi, sim.policy()).unwrap())
    }

    /// Node `node`'s object state; None when it does not exist.
    pub fn node_state(&self, node: &str) -> Option<NodeState> {
        let dn = model::node_dn(node, None, 255).unwrap();
        self.0
            .get(&dn, Some(&model::NODE_STATE_ATTRS))
            .unwrap()
            .map(|o| NodeState::from_attrs(&o.attrs))
    }

    /// Waits up to 5 s for `cond` on node `node`'s state; returns that state.
    pub fn wait_state(
        &self,
        node: &str,
        what: &str,
        cond: impl Fn(&NodeState) -> bool,
    ) -> NodeState {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(s) = self.node_state(node).filter(|s| cond(s)) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "{node}: not {what} within 5 s: {:?}",
                self.node_state(node)
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
