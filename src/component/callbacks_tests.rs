//! The callbacks against the in-process simulator, answering through its AMF. The
//! simulator's CSI callbacks target all CSIs; [`AsCsi`] hands them on as if they named one
//! CSI, so the per-CSI HA states are exercised with real answers.

use std::time::{Duration, Instant};

use opensaf_sys::SaDispatchFlagsT;

use super::*;
use crate::flag::ChangeFlag;
use crate::model;
use crate::netlink::{LinkFilter, Monitor, MonitorOptions};
use crate::osaf::{Amf, Dn, ImmOm};
use crate::sync::{NodeTarget, SyncSettings};
use crate::sys::{poll, Doorbell};
use crate::test_sim::{sim, Sim, COMPONENT};

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

struct Component<'s> {
    sim: &'s Sim,
    amf: Amf,
    callbacks: Option<AmfCallbacks>,
    status: Arc<Status>,
}

impl<'s> Component<'s> {
    /// Registered with AMF, a real sync worker behind it. Its filter mirrors no link, so
    /// only the node object is written.
    fn start(sim: &'s Sim) -> Component<'s> {
        let node_dn = model::node_dn("unit-callbacks", None, 255).unwrap();
        let settings = SyncSettings {
            target: NodeTarget {
                node_dn,
                parent: None,
                implementer: model::implementer_name("unit-callbacks"),
            },
            filter: LinkFilter {
                include: vec!["no-such-link-*".into()],
                ..Default::default()
            },
            max_dn: 255,
            policy: sim.policy(),
            on_report: None,
        };
        let flag = Arc::new(ChangeFlag::new_clear());
        let monitor = Monitor::spawn(Arc::new(ChangeFlag::new_clear()), MonitorOptions::default());
        let monitor = Arc::new(monitor.unwrap());
        let wake = Arc::new(Doorbell::new().unwrap());
        let sync =
            SyncHandle::spawn(settings, sim.apis(), flag.clone(), monitor.clone(), wake).unwrap();
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
        }
    }

    /// Dispatches AMF's next callback as if it named `csi`.
    fn deliver(&mut self, csi: Option<&'static str>) {
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
    fn request(&mut self, request: &str, csi: Option<&'static str>) {
        self.sim.cli(&["amf", request]);
        self.deliver(csi);
    }

    fn active(&self) -> bool {
        self.status.active.load(Ordering::Acquire)
    }

    /// Waits until AMF has `n` OK answers to `callback` (answers may come from the worker).
    fn wait_answered(&self, callback: &str, n: usize) {
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

    fn quiescing_completions(&self) -> usize {
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

#[test]
fn writes_follow_the_csis_that_are_active_and_each_callback_is_answered_once() {
    let sim = sim();
    let mut c = Component::start(&sim);
    let answered = |c: &Component, cb: &str| {
        c.sim
            .events_named("cb-response")
            .iter()
            .filter(|e| e.str("callback") == Some(cb))
            .count()
    };
    let (set_active, quiescing, removed) = (
        answered(&c, "csi-set-active"),
        answered(&c, "csi-set-quiescing"),
        answered(&c, "csi-remove"),
    );

    // Registration brings the first assignment: CSI A ACTIVE.
    c.deliver(Some("safCsi=A"));
    c.wait_answered("csi-set-active", set_active + 1);
    assert!(c.active());
    // The worker's first sync created the node object.
    let node = Dn::parse("macSyncNodeId=unit-callbacks", 255).unwrap();
    let om = ImmOm::initialize(sim.apis().imm_om, sim.apis().imm_oi, sim.policy()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while om.get(&node, Some(&[])).unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "no node object written while ACTIVE"
        );
        std::thread::sleep(Duration::from_millis(10));
    }

    // CSI B ACTIVE too; then A QUIESCING: B still wants writes, so A is answered and its
    // quiescing completed at once, and the writes go on.
    c.request("csi-active", Some("safCsi=B"));
    c.wait_answered("csi-set-active", set_active + 2);
    let completed = c.quiescing_completions();
    c.request("csi-quiescing", Some("safCsi=A"));
    c.wait_answered("csi-set-quiescing", quiescing + 1);
    assert_eq!(c.quiescing_completions(), completed + 1);
    assert!(c.active(), "B is still ACTIVE");
    assert!(!c.status.halt.load(Ordering::Acquire));

    // B removed: no CSI is ACTIVE any more. Writes stop, and the worker answers.
    c.request("csi-remove", Some("safCsi=B"));
    c.wait_answered("csi-remove", removed + 1);
    assert!(!c.active());
    assert!(c.status.halt.load(Ordering::Acquire));

    // TARGET_ALL ACTIVE makes A (the only CSI left) ACTIVE again; TARGET_ALL remove ends it.
    c.request("csi-active", None);
    c.wait_answered("csi-set-active", set_active + 3);
    assert!(c.active());
    assert!(!c.status.halt.load(Ordering::Acquire));
    c.request("csi-remove", None);
    c.wait_answered("csi-remove", removed + 2);
    assert!(!c.active());
}
