//! The simulator as seen by one process: its state directory, its replica of the IMM
//! store, settings, faults and event log. Created at the first AIS call (from
//! `OPENSAF_SIM_DIR`) or by [`crate::use_state_dir`], then fixed for the process, like the
//! node directors a real process talks to.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use opensaf_sys::SaAisErrorT as Ais;

use crate::config::{self, Config};
use crate::events::{EventLog, Val};
use crate::faults::{Faults, Spec};
use crate::imm::store::Store;
use crate::imm::ImmError;
use crate::mutex::lock;

pub const PENDING_FAULTS: &str = "faults.pending";

pub struct Instance {
    pub dir: PathBuf,
    pub store: Mutex<Store>,
    pub config: Mutex<Config>,
    pub latency_us: AtomicU64,
    pub faults: Faults,
    pub events: EventLog,
    /// Set when this process's node left the cluster and IMM dropped it (`clm leave`),
    /// cleared when it joins again: its IMM node director is gone meanwhile.
    pub imm_node_gone: AtomicBool,
}

static INSTANCE: OnceLock<Arc<Instance>> = OnceLock::new();
static CREATE: Mutex<()> = Mutex::new(());

impl Instance {
    fn open(dir: &Path) -> std::io::Result<Instance> {
        let store = Store::open(dir)?;
        let (cfg, problems) = Config::load(dir);
        let inst = Instance {
            dir: dir.to_path_buf(),
            store: Mutex::new(store),
            latency_us: AtomicU64::new(cfg.imm_latency_us),
            config: Mutex::new(cfg),
            faults: Faults::default(),
            events: EventLog::new(dir),
            imm_node_gone: AtomicBool::new(false),
        };
        for p in problems {
            eprintln!("opensaf-sim: {p}");
        }
        inst.take_pending_faults();
        Ok(inst)
    }

    /// Re-reads the settings (each initialize does, so a test can change them between runs).
    pub fn reload_config(&self) {
        let (cfg, _) = Config::load(&self.dir);
        self.latency_us.store(cfg.imm_latency_us, Ordering::Relaxed);
        *lock(&self.config) = cfg;
    }

    pub fn config(&self) -> Config {
        lock(&self.config).clone()
    }

    /// Applies faults the CLI left while no process was attached.
    pub fn take_pending_faults(&self) {
        let path = self.dir.join(PENDING_FAULTS);
        let _g = lock(&CREATE_PENDING);
        if let Ok(text) = std::fs::read_to_string(&path) {
            let _ = std::fs::remove_file(&path);
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                if let Ok(spec) = Spec::parse(line) {
                    self.faults.apply(&spec);
                    self.events.emit(
                        "fault",
                        &[("spec", Val::from(line)), ("from", "pending".into())],
                    );
                }
            }
        }
    }

    /// A new IMM handle needs this node's IMM node director: while the node is out of the
    /// cluster there is none, and the library answers TRY_AGAIN as it does while one
    /// restarts.
    pub fn imm_reachable(&self) -> Result<(), ImmError> {
        if self.imm_node_gone.load(Ordering::Acquire) {
            return Err(ImmError::new(
                Ais::TRY_AGAIN,
                "this node left the cluster: no IMM node director",
            ));
        }
        Ok(())
    }

    /// Runs one IMM call that goes to the (simulated) IMM server: injected delay and
    /// TRY_AGAIN first, then the call, the emulated latency, and an injected TIMEOUT
    /// (the call has taken effect, the caller cannot know).
    pub fn server_call<T>(
        &self,
        call: &str,
        f: impl FnOnce() -> Result<T, ImmError>,
    ) -> Result<T, ImmError> {
        self.server_call_weighted(call, true, f)
    }

    /// As `server_call`; `round_trip` false skips the emulated latency (calls that real
    /// IMM answers from a prefetched batch).
    pub fn server_call_weighted<T>(
        &self,
        call: &str,
        round_trip: bool,
        f: impl FnOnce() -> Result<T, ImmError>,
    ) -> Result<T, ImmError> {
        let d = self.faults.decide();
        if !d.delay.is_zero() {
            std::thread::sleep(d.delay);
        }
        if d.try_again {
            self.events.emit(
                "imm-fault",
                &[
                    ("call", call.into()),
                    ("result", "SA_AIS_ERR_TRY_AGAIN".into()),
                ],
            );
            return Err(ImmError::new(Ais::TRY_AGAIN, "injected fault: try again"));
        }
        let r = f();
        let lat = self.latency_us.load(Ordering::Relaxed);
        if round_trip && lat > 0 {
            crate::clock::precise_sleep(Duration::from_micros(lat));
        }
        if d.timeout_after {
            let outcome = match &r {
                Ok(_) => Ais::OK,
                Err(e) => e.code,
            };
            self.events.emit(
                "imm-fault",
                &[
                    ("call", call.into()),
                    ("result", "SA_AIS_ERR_TIMEOUT".into()),
                    ("real_outcome", outcome.into()),
                ],
            );
            return Err(ImmError::new(
                Ais::TIMEOUT,
                "injected fault: timeout after the call",
            ));
        }
        r
    }
}

static CREATE_PENDING: Mutex<()> = Mutex::new(());

/// Why there is no simulator: reported once per process on stderr.
fn report_missing(msg: &str) {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| eprintln!("opensaf-sim: {msg}"));
}

/// The process's instance, created from `OPENSAF_SIM_DIR` on first use.
///
/// Without a usable state directory the simulated services are "down": the calls answer
/// SA_AIS_ERR_TRY_AGAIN, as real OpenSAF's libraries do while their node director is not
/// running (clients retry, then give up with their own timeout).
pub fn get() -> Result<Arc<Instance>, Ais> {
    if let Some(i) = INSTANCE.get() {
        return Ok(i.clone());
    }
    let _g = lock(&CREATE);
    if let Some(i) = INSTANCE.get() {
        return Ok(i.clone());
    }
    let Some(dir) = std::env::var_os(config::DIR_VAR).filter(|d| !d.is_empty()) else {
        report_missing(&format!(
            "{} is not set: the simulated OpenSAF services are down (SA_AIS_ERR_TRY_AGAIN)",
            config::DIR_VAR
        ));
        return Err(Ais::TRY_AGAIN);
    };
    create(Path::new(&dir)).map_err(|e| {
        report_missing(&format!(
            "cannot use state directory {}: {e}",
            Path::new(&dir).display()
        ));
        Ais::TRY_AGAIN
    })
}

fn create(dir: &Path) -> std::io::Result<Arc<Instance>> {
    let inst = Arc::new(Instance::open(dir)?);
    let _ = INSTANCE.set(inst.clone());
    Ok(inst)
}

/// Fixes the process's state directory before the first AIS call (for `macsync --sim`
/// and tests). Fails if another directory is already in use.
pub fn use_dir(dir: &Path) -> std::io::Result<()> {
    let _g = lock(&CREATE);
    match INSTANCE.get() {
        Some(i) if i.dir == dir => Ok(()),
        Some(i) => Err(std::io::Error::other(format!(
            "this process already uses {}",
            i.dir.display()
        ))),
        None => create(dir).map(|_| ()),
    }
}

/// The instance if one exists (for the CLI server and dispatch paths).
pub fn current() -> Option<Arc<Instance>> {
    INSTANCE.get().cloned()
}
