//! An OpenSAF simulator set up like a real node for end-to-end tests of the `macsync`
//! binary: the sample IMM classes and AMF model loaded with `immcfg -f` (as on a cluster),
//! a short healthcheck period, and the simulator's cdylib behind OPENSAF_LIB_DIR.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use opensaf_sim::events::Event;
use opensaf_sim::imm::model::Value;
use opensaf_sim::imm::store::Store;

pub const COMP: &str = "safComp=macsync,safSu=SC-1,safSg=macsync,safApp=macsync";
pub const HC_TYPE: &str = "safHealthcheckKey=macsync,safVersion=1,safCompType=macsync";
pub const NODE: &str = "SC-1";
pub const NODE_DN: &str = "macSyncNodeId=SC-1";

pub struct SimEnv {
    /// Kept open: a read then only replays what was appended since the last one.
    store: std::cell::RefCell<Option<Store>>,
    pub dir: PathBuf,
    pub lib: PathBuf,
    pub period: Duration,
    pub max_duration: Duration,
}

/// (MAC, ifindex) by interface name.
pub type Table = BTreeMap<String, (String, u32)>;

impl SimEnv {
    pub fn new(name: &str, period: Duration, max_duration: Duration) -> SimEnv {
        Self::setup(name, period, max_duration, true)
    }

    /// Only the AMF model: IMM lacks macsync's classes.
    pub fn bare(name: &str, period: Duration, max_duration: Duration) -> SimEnv {
        Self::setup(name, period, max_duration, false)
    }

    fn setup(name: &str, period: Duration, max_duration: Duration, classes: bool) -> SimEnv {
        let dir = std::env::temp_dir().join(format!("macsync-e2e-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let lib = dir.join("lib");
        let exe = PathBuf::from(env!("CARGO_BIN_EXE_macsync"));
        // Cargo builds the simulator's cdylib as a dependency of macsync, under deps/ (and
        // uplifts it next to the binary when the workspace is built).
        let cdylib = ["deps/libopensaf_sim.so", "libopensaf_sim.so"]
            .iter()
            .map(|p| exe.parent().unwrap().join(p))
            .filter(|p| p.is_file())
            .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
            .expect("libopensaf_sim.so not built next to the macsync binary");
        opensaf_sim::install_lib_dir(&lib, &cdylib).unwrap();
        let env = SimEnv {
            store: Default::default(),
            dir,
            lib,
            period,
            max_duration,
        };
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let classes_xml = root.join("samples/macsync-classes.xml");
        let amf = root.join("samples/macsync-amf.xml");
        if classes {
            env.sim_ok(&["immcfg", "-f", classes_xml.to_str().unwrap()]);
        }
        env.sim_ok(&["immcfg", "-f", amf.to_str().unwrap()]);
        env.sim_ok(&[
            "immcfg",
            "-a",
            &format!("saAmfHctDefPeriod={}", period.as_nanos()),
            "-a",
            &format!("saAmfHctDefMaxDuration={}", max_duration.as_nanos()),
            HC_TYPE,
        ]);
        env
    }

    /// Runs an `opensaf-sim` command against this state directory; returns its exit code.
    pub fn sim(&self, args: &[&str]) -> i32 {
        let mut argv = vec![
            "opensaf-sim".to_string(),
            "--dir".into(),
            self.dir.display().to_string(),
        ];
        argv.extend(args.iter().map(|s| s.to_string()));
        opensaf_sim::cli::run(argv)
    }

    pub fn sim_ok(&self, args: &[&str]) {
        assert_eq!(self.sim(args), 0, "opensaf-sim {args:?} failed");
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join("macsync.log")
    }

    /// Starts the real binary as AMF would (environment of the instantiate script). The
    /// guard kills it when dropped, so a failing test leaves no macsync behind.
    pub fn start(&self, extra: &[&str]) -> Running {
        self.start_logging(extra, "debug")
    }

    pub fn start_logging(&self, extra: &[&str], level: &str) -> Running {
        let mut cmd = self.command(env!("CARGO_BIN_EXE_macsync"));
        cmd.args(extra).env("RUST_LOG", level);
        Running(cmd.spawn().expect("start macsync"))
    }

    /// `program` with the environment the instantiate script gives macsync (component SC-1,
    /// `MACSYNC_NODE`, the log file, test hooks, `debug` logs), no standard streams.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("OPENSAF_LIB_DIR", &self.lib)
            .env("OPENSAF_SIM_DIR", &self.dir)
            .env("SA_AMF_COMPONENT_NAME", COMP)
            .env("MACSYNC_NODE", NODE)
            .env("MACSYNC_LOG_FILE", self.log_path())
            .env("MACSYNC_TEST_HOOKS", "1")
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn read<R>(&self, f: impl FnOnce(&opensaf_sim::imm::state::ImmState) -> R) -> R {
        let mut slot = self.store.borrow_mut();
        let store = slot
            .get_or_insert_with(|| Store::open(&self.dir).expect("open the simulator's IMM store"));
        store.read(f).expect("read IMM")
    }

    /// The interface objects under the node object, by (unescaped) interface name.
    pub fn imm_interfaces(&self) -> Table {
        self.imm_interfaces_of(NODE_DN)
    }

    /// The interface objects under node object `node_dn`, by (unescaped) interface name.
    pub fn imm_interfaces_of(&self, node_dn: &str) -> Table {
        self.read(|st| {
            let mut out = Table::new();
            for dn in st.children.get(node_dn).into_iter().flatten() {
                let Some(o) = st.objects.get(dn) else {
                    continue;
                };
                if o.class.name != "MacSyncInterface" {
                    continue;
                }
                let rdn_value = macsync::osaf::Dn::parse(dn, 2048).unwrap().rdn_value();
                let mac = match o.get("macAddress") {
                    Some([Value::String(s)]) => s.clone(),
                    _ => String::new(),
                };
                let ifindex = match o.get("ifIndex") {
                    Some([Value::Uint32(n)]) => *n,
                    _ => 0,
                };
                out.insert(rdn_value, (mac, ifindex));
            }
            out
        })
    }

    /// The operState IMM holds for one interface.
    pub fn imm_oper(&self, ifname: &str) -> Option<u32> {
        self.read(
            |st| match st.objects.get(if_dn(ifname).as_str())?.get("operState") {
                Some([Value::Uint32(n)]) => Some(*n),
                _ => None,
            },
        )
    }

    /// The MAC address IMM holds for one interface (one object read, not the whole table).
    pub fn imm_mac(&self, ifname: &str) -> Option<String> {
        self.read(
            |st| match st.objects.get(if_dn(ifname).as_str())?.get("macAddress") {
                Some([Value::String(s)]) => Some(s.clone()),
                _ => None,
            },
        )
    }

    /// The node object's counters (syncs, objectsCreated, ...).
    pub fn counters(&self) -> BTreeMap<String, u64> {
        self.counters_of(NODE_DN)
    }

    /// Node object `node_dn`'s counters.
    pub fn counters_of(&self, node_dn: &str) -> BTreeMap<String, u64> {
        self.read(|st| {
            let mut out = BTreeMap::new();
            if let Some(o) = st.objects.get(node_dn) {
                for name in macsync::model::COUNTER_ATTRS {
                    if let Some([Value::Uint64(n)]) = o.get(name) {
                        out.insert(name.to_string(), *n);
                    }
                }
            }
            out
        })
    }

    /// Objects of `class` anywhere in IMM.
    pub fn count_class(&self, class: &str) -> usize {
        self.read(|st| {
            st.objects
                .values()
                .filter(|o| o.class.name == class)
                .count()
        })
    }

    /// The node object's `mirrorState`, `mirrorStateBy` and its implementer binding; None
    /// when it does not exist.
    pub fn node_state(&self, node_dn: &str) -> Option<(u32, String, String)> {
        self.read(|st| {
            let o = st.objects.get(node_dn)?;
            let state = match o.get("mirrorState") {
                Some([Value::Uint32(n)]) => *n,
                _ => 0,
            };
            let by = match o.get("mirrorStateBy") {
                Some([Value::String(s)]) => s.clone(),
                _ => String::new(),
            };
            Some((state, by, o.implementer.clone().unwrap_or_default()))
        })
    }

    /// Whether a live handle holds implementer name `name`.
    pub fn implementer_held(&self, name: &str) -> bool {
        self.read(|st| st.implementers.contains_key(name))
    }

    pub fn object_exists(&self, dn: &str) -> bool {
        self.read(|st| st.objects.contains_key(dn))
    }

    pub fn events(&self) -> Vec<Event> {
        opensaf_sim::events::read_all(&self.dir)
    }

    pub fn events_named(&self, name: &str) -> Vec<Event> {
        self.events()
            .into_iter()
            .filter(|e| e.name() == name)
            .collect()
    }

    /// Size of the IMM journal: it grows with every IMM write.
    pub fn journal_bytes(&self) -> u64 {
        std::fs::read_dir(&self.dir)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains("journal"))
            .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
            .sum()
    }

    /// Waits until IMM mirrors the kernel's Ethernet links; panics with both tables if not.
    pub fn wait_mirrored(&self, timeout: Duration, what: &str) {
        let deadline = Instant::now() + timeout;
        loop {
            let kernel = kernel_ether_links();
            let imm = self.imm_interfaces();
            if kernel == imm {
                return;
            }
            if Instant::now() >= deadline {
                let only_k: Vec<_> = kernel
                    .iter()
                    .filter(|(k, v)| imm.get(*k) != Some(v))
                    .take(5)
                    .collect();
                let only_i: Vec<_> = imm
                    .iter()
                    .filter(|(k, v)| kernel.get(*k) != Some(v))
                    .take(5)
                    .collect();
                panic!(
                    "{what}: IMM does not match the kernel after {timeout:?} ({} vs {} links)\n kernel only/different: {only_k:?}\n IMM only/different: {only_i:?}\n--- macsync log tail:\n{}",
                    kernel.len(),
                    imm.len(),
                    tail(&self.log(), 30)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for SimEnv {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The DN of one interface's object.
fn if_dn(ifname: &str) -> macsync::osaf::Dn {
    macsync::osaf::Dn::child(
        Some(&macsync::osaf::Dn::parse(NODE_DN, 255).unwrap()),
        "macSyncInterfaceId",
        ifname.as_bytes(),
        255,
    )
    .unwrap()
}

pub fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The kernel's Ethernet links in this namespace, from `ip -j link show`.
pub fn kernel_ether_links() -> Table {
    super::common::ip_links()
        .into_iter()
        .filter(|l| l.link_type.as_deref() == Some("ether"))
        .map(|l| (l.name, (l.address.unwrap_or_default(), l.index)))
        .collect()
}

/// A started process, killed when dropped (so also when a test fails halfway).
pub struct Running(pub Child);

impl Running {
    /// Waits for the process to exit within `timeout`; returns its exit code or None if it
    /// did not.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.0.try_wait().unwrap() {
                return Some(st.code().unwrap_or(-1));
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
