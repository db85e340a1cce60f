//! The worker with the real netlink monitor in a private network namespace and the
//! in-process simulator as IMM: changes racing syncs, a failed sync, lost notifications
//! during a sync. Each test ends with IMM equal to the kernel, without a failed sync where
//! none was caused, and without a dump beyond those the monitor must take.
//!
//! Only the monitor and the link commands live in the private namespace ([`Netns`]): the
//! simulator's control socket is an abstract unix socket, which belongs to the namespace
//! the test process started in.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::flag::ChangeFlag;
use crate::model::{self, IfRecord};
use crate::netlink::{LinkFilter, Monitor, MonitorOptions, Snapshotter};
use crate::osaf::Dn;
use crate::sync::imm_session::tests::imm_view;
use crate::sync::{NodeSpec, NodeTarget, ReportFn, Request, SyncHandle, SyncSettings};
use crate::sys::Doorbell;
use crate::test_sim::{sim, Sim};

type Job = Box<dyn FnOnce() + Send>;

/// A thread in a private network namespace of its own, running what it is sent; threads
/// and processes it starts are in that namespace too. It ends when dropped.
struct Netns(mpsc::Sender<Job>);

impl Netns {
    fn new() -> Netns {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::spawn(move || {
            crate::sys::unshare_netns()
                .expect("a private network namespace (run the tests as root)");
            for job in rx {
                job();
            }
        });
        Netns(tx)
    }

    fn run<R: Send + 'static>(&self, f: impl FnOnce() -> R + Send + 'static) -> R {
        let (tx, rx) = mpsc::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        self.0.send(job).expect("namespace thread alive");
        rx.recv().expect("the job in the namespace panicked")
    }

    /// A thread of its own inside the namespace.
    fn spawn(&self, f: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
        self.run(move || std::thread::spawn(f))
    }

    fn ip_batch(&self, lines: impl IntoIterator<Item = String>) {
        let lines: Vec<String> = lines.into_iter().collect();
        self.run(move || ip_batch(lines))
    }
}

struct Rig {
    ns: Netns,
    sim: Sim,
    target: NodeTarget,
    node: Dn,
    flag: Arc<ChangeFlag>,
    monitor: Arc<Monitor>,
    sync: Option<SyncHandle>,
}

/// A private network namespace with `pairs` veth pairs, a monitor, and an active worker
/// writing under node object `node`; returns once IMM mirrors the kernel.
fn rig(node: &str, pairs: usize, opts: MonitorOptions) -> Rig {
    rig_with(node, pairs, opts, None)
}

/// [`rig`] with a report callback.
fn rig_with(node: &str, pairs: usize, opts: MonitorOptions, on_report: Option<ReportFn>) -> Rig {
    let ns = Netns::new();
    ns.ip_batch((0..pairs).map(|i| format!("link add {node}a{i} type veth peer name {node}b{i}")));
    let sim = sim();
    let node_dn = model::node_dn(node, None, 255).unwrap();
    let flag = Arc::new(ChangeFlag::new_raised());
    let f = flag.clone();
    let monitor = ns.run(move || Monitor::spawn(f, opts).expect("netlink monitor"));
    let monitor = Arc::new(monitor);
    let target = NodeTarget {
        node_dn: node_dn.clone(),
        parent: None,
        implementer: model::implementer_name(node),
    };
    let settings = SyncSettings {
        node: NodeSpec {
            explicit: node.to_string(),
            component: String::new(),
            parent: None,
        },
        filter: LinkFilter::default(),
        max_dn: 255,
        policy: sim.policy(),
        on_report,
        membership: None,
    };
    let wake = Arc::new(Doorbell::new().unwrap());
    let sync = SyncHandle::spawn(settings, sim.apis(), flag.clone(), monitor.clone(), wake)
        .expect("sync worker");
    sync.status
        .active
        .store(true, std::sync::atomic::Ordering::Release);
    sync.request(Request::Activate);
    let rig = Rig {
        ns,
        sim,
        target,
        node: node_dn,
        flag,
        monitor,
        sync: Some(sync),
    };
    rig.converge(Duration::from_secs(20), "start");
    rig
}

impl Rig {
    fn sync(&self) -> &SyncHandle {
        self.sync.as_ref().expect("running")
    }

    fn failed_syncs(&self) -> u64 {
        self.sync()
            .status
            .failed_syncs
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// What the healthcheck does at every period.
    fn healthcheck(&self) {
        if self.flag.needs_sync() {
            self.sync().request_sync();
        }
    }

    fn imm(&self) -> BTreeMap<Dn, IfRecord> {
        imm_view(&self.sim, &self.target)
    }

    fn kernel(&self) -> BTreeMap<Dn, IfRecord> {
        let links = self.ns.run(|| Snapshotter::new().unwrap().dump().unwrap());
        model::desired(&links, &LinkFilter::default(), &self.node, 255).0
    }

    /// Healthchecks every 10 ms until IMM equals the kernel (twice in a row, 50 ms apart, so
    /// a change still in flight is not mistaken for the end).
    fn converge(&self, timeout: Duration, what: &str) {
        let deadline = Instant::now() + timeout;
        let mut matched = 0;
        loop {
            self.healthcheck();
            let (imm, kernel) = (self.imm(), self.kernel());
            matched = if imm == kernel { matched + 1 } else { 0 };
            if matched == 2 {
                return;
            }
            if Instant::now() > deadline {
                let diff: Vec<_> = kernel
                    .iter()
                    .filter(|(dn, r)| imm.get(*dn) != Some(r))
                    .map(|(dn, _)| dn.as_str())
                    .chain(
                        imm.keys()
                            .filter(|dn| !kernel.contains_key(*dn))
                            .map(Dn::as_str),
                    )
                    .take(5)
                    .collect();
                panic!(
                    "{what}: IMM ({}) differs from the kernel ({}) after {timeout:?}: {diff:?}; {:?}",
                    imm.len(),
                    kernel.len(),
                    self.monitor.stats()
                );
            }
            std::thread::sleep(Duration::from_millis(if matched > 0 { 50 } else { 10 }));
        }
    }

    /// Healthchecks every 10 ms until `cond`.
    fn until(&self, timeout: Duration, what: &str, cond: impl Fn(&Rig) -> bool) {
        let deadline = Instant::now() + timeout;
        while !cond(self) {
            assert!(Instant::now() < deadline, "{what}: not within {timeout:?}");
            self.healthcheck();
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        if let Some(s) = self.sync.take() {
            s.stop(Duration::from_secs(2));
        }
    }
}

fn ip_batch(lines: impl IntoIterator<Item = String>) {
    use std::io::Write;
    let mut child = Command::new("ip")
        .args(["-batch", "-"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("ip");
    let mut stdin = child.stdin.take().unwrap();
    for l in lines {
        writeln!(stdin, "{l}").unwrap();
    }
    drop(stdin);
    assert!(child.wait().unwrap().success(), "ip -batch failed");
}

#[test]
fn changes_racing_slow_syncs_all_reach_imm_without_a_dump() {
    let rig = rig("race", 20, MonitorOptions::default());
    // Every IMM call takes 20 ms: syncs last long enough for changes to land during them.
    rig.sim
        .cli(&["fault", "delay", "--ms", "20", "--for-ms", "6000"]);
    let changes = rig.ns.spawn(|| {
        for round in 0..40 {
            let i = round % 20;
            ip_batch([
                format!("link set racea{i} address 02:00:00:00:{round:02x}:01"),
                format!("link add racex{round} type veth peer name racey{round}"),
                format!("link set raceb{i} name racer{round}"),
                format!("link set racer{round} name raceb{i}"),
                format!("link set racea{i} up"),
            ]);
            if round % 3 == 0 {
                ip_batch([format!("link del racex{round}")]);
            }
            std::thread::sleep(Duration::from_millis(15));
        }
    });
    let t = Instant::now();
    while !changes.is_finished() {
        rig.healthcheck();
        std::thread::sleep(Duration::from_millis(10));
    }
    changes.join().unwrap();
    assert!(
        t.elapsed() > Duration::from_millis(600),
        "the changes were over before the syncs could race them"
    );
    rig.converge(Duration::from_secs(30), "after the changes");
    let status = &rig.sync().status;
    assert_eq!(rig.failed_syncs(), 0);
    assert!(status.syncs.load(std::sync::atomic::Ordering::Relaxed) > 5);
    let s = rig.monitor.stats();
    assert_eq!((s.dumps, s.enobufs), (1, 0), "{s:?}");
}

#[test]
fn a_failed_sync_leaves_its_changes_pending() {
    let rig = rig("fail", 3, MonitorOptions::default());
    // TRY_AGAIN for longer than the retry budget (2 s): the next sync fails.
    rig.sim.cli(&["fault", "try-again", "--ms", "4000"]);
    rig.ns
        .ip_batch(["link set faila1 address 02:00:00:00:fa:11".to_string()]);
    rig.until(Duration::from_secs(10), "a failed sync", |r| {
        r.failed_syncs() == 1
    });
    rig.sim.cli(&["fault", "clear"]);
    // No other change: only the put-back changed set can bring the MAC to IMM.
    rig.converge(Duration::from_secs(10), "after the failure");
    let dn = Dn::child(Some(&rig.node), model::IF_RDN, b"faila1", 255).unwrap();
    assert_eq!(rig.imm()[&dn].mac, "02:00:00:00:fa:11");
    assert_eq!(rig.failed_syncs(), 1);
    assert_eq!(rig.monitor.stats().dumps, 1);
}

#[test]
fn lost_notifications_during_a_sync_end_in_a_full_sync_from_the_new_seed() {
    // A 4 KiB receive buffer, so a burst overflows it.
    let rig = rig("lost", 10, MonitorOptions { rcvbuf: 4096 });
    rig.sim
        .cli(&["fault", "delay", "--ms", "50", "--for-ms", "3000"]);
    rig.ns
        .ip_batch((0..10).map(|i| format!("link set losta{i} address 02:00:00:00:1c:{i:02x}")));
    rig.until(Duration::from_secs(5), "a sync under way", |r| {
        r.sync().status.stuck(Duration::ZERO)
    });
    // While that sync writes: the monitor starves, a burst overflows its buffer.
    rig.monitor.stall_for_test(Duration::from_millis(300));
    rig.ns
        .ip_batch((0..500).map(|i| format!("link add burst{i} type veth peer name burstp{i}")));
    rig.ns
        .ip_batch((0..5).map(|i| format!("link del lostb{i}")));
    rig.converge(Duration::from_secs(60), "after the overflow");
    let s = rig.monitor.stats();
    assert!(s.enobufs > 0, "no overflow: {s:?}");
    assert!(
        s.dumps >= 2 && s.dumps == 1 + s.resyncs + s.resync_failures,
        "{s:?}"
    );
    assert_eq!(rig.failed_syncs(), 0);
}

#[test]
fn an_object_imm_refuses_is_reported_once_and_skipped_while_the_others_are_mirrored() {
    let refused = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = refused.clone();
    let report: ReportFn = Box::new(move |r| {
        let mut seen = seen.lock().unwrap();
        seen.extend(r.refused.iter().map(ToString::to_string));
    });
    let rig = rig_with("poison", 2, MonitorOptions::default(), Some(report));
    let refused = move || refused.lock().unwrap().clone();
    let bad = Dn::child(Some(&rig.node), model::IF_RDN, b"poisonx", 255).unwrap();
    let (dn, op) = (bad.as_str(), "create");
    rig.sim
        .cli(&["fault", "refuse", "--op", op, "--dn", dn, "--code", "7"]);
    // IMM equals the kernel but for the refused link.
    let all_but_bad = |r: &Rig| {
        let mut kernel = r.kernel();
        kernel.remove(&bad);
        r.imm() == kernel
    };
    let mac_of = |r: &Rig, name: &str| {
        let dn = Dn::child(Some(&r.node), model::IF_RDN, name.as_bytes(), 255).unwrap();
        r.imm().get(&dn).map(|rec| rec.mac.clone())
    };
    rig.ns.ip_batch([
        "link add poisonx type veth peer name poisony".to_string(),
        "link set poisona0 address 02:00:00:00:99:01".to_string(),
    ]);
    rig.until(Duration::from_secs(10), "the others mirrored", |r| {
        all_but_bad(r) && mac_of(r, "poisony").is_some()
    });
    // Later syncs mirror later changes and do not try the refused link again.
    rig.ns
        .ip_batch(["link set poisona1 address 02:00:00:00:99:02".to_string()]);
    rig.until(Duration::from_secs(10), "a later change", |r| {
        all_but_bad(r) && mac_of(r, "poisona1").as_deref() == Some("02:00:00:00:99:02")
    });
    for _ in 0..20 {
        rig.healthcheck();
        std::thread::sleep(Duration::from_millis(10));
    }
    let once = refused();
    assert_eq!(once.len(), 1, "{once:?}");
    for part in ["'poisonx'", dn, "SA_AIS_ERR_INVALID_PARAM"] {
        assert!(once[0].contains(part), "{part} not in {once:?}");
    }
    let asked = |dn: &str| {
        let faults = rig.sim.events_named("imm-fault");
        faults.iter().filter(|e| e.str("dn") == Some(dn)).count()
    };
    assert_eq!(asked(dn), 1, "IMM was asked once");
    assert_eq!(rig.failed_syncs(), 0);

    // A change makes it acceptable: mirrored at once.
    rig.ns
        .ip_batch(["link set poisonx name poisonz".to_string()]);
    rig.converge(Duration::from_secs(10), "renamed");
    // A change makes it refused again: tried, reported, its old object deleted.
    rig.ns
        .ip_batch(["link set poisonz name poisonx".to_string()]);
    rig.until(Duration::from_secs(10), "refused again", |r| {
        all_but_bad(r) && mac_of(r, "poisonz").is_none()
    });
    assert_eq!((refused().len(), asked(dn)), (2, 2));
    // A full sync tries it again: now accepted.
    rig.sim.cli(&["fault", "clear"]);
    rig.flag.raise_resync();
    rig.converge(Duration::from_secs(10), "full sync");
    assert_eq!(refused().len(), 2);
    assert_eq!(rig.failed_syncs(), 0);
}
