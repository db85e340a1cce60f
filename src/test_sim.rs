//! The OpenSAF simulator in-process, for unit tests: one state directory per test process
//! (the simulator serves one), loaded with the sample IMM classes and AMF model as on a
//! node. Faults and the AMF registration are process-wide, so a test holds [`Sim`] (a lock)
//! while it uses the simulator; dropping it clears the faults it set.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use crate::osaf::RetryPolicy;
use opensaf_sys::Apis;

/// The component of the sample AMF model the tests register as.
pub const COMPONENT: &str = "safComp=macsync,safSu=SC-1,safSg=macsync,safApp=macsync";

pub struct Sim {
    dir: MutexGuard<'static, PathBuf>,
}

/// Takes the simulator for the calling test, setting it up on first use.
pub fn sim() -> Sim {
    static DIR: OnceLock<Mutex<PathBuf>> = OnceLock::new();
    let lock = DIR.get_or_init(|| {
        remove_dirs_of_finished_runs();
        let dir = std::env::temp_dir().join(format!("{DIR_PREFIX}{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("simulator state directory");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let classes = root.join("samples/macsync-classes.xml");
        let amf = root.join("samples/macsync-amf.xml");
        cli(&dir, &["immcfg", "-f", path(&classes), "-f", path(&amf)]);
        // As AMF sets it for the instantiate script; set once, before any AIS call.
        std::env::set_var("SA_AMF_COMPONENT_NAME", COMPONENT);
        opensaf_sim::use_state_dir(&dir).expect("simulator state directory in use");
        Mutex::new(dir)
    });
    // A test that failed while holding the simulator leaves it usable for the others.
    Sim {
        dir: lock.lock().unwrap_or_else(|p| p.into_inner()),
    }
}

const DIR_PREFIX: &str = "macsync-unit-sim-";

/// The directory lives as long as the test process, which has no hook at its exit: each
/// run removes those of runs that have ended.
fn remove_dirs_of_finished_runs() {
    let tmp = std::env::temp_dir();
    for entry in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(DIR_PREFIX) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

fn cli(dir: &Path, args: &[&str]) {
    let mut argv = vec!["opensaf-sim".to_string(), "--dir".into(), path(dir).into()];
    argv.extend(args.iter().map(|s| s.to_string()));
    assert_eq!(opensaf_sim::cli::run(argv), 0, "opensaf-sim {args:?}");
}

impl Sim {
    pub fn apis(&self) -> Apis {
        opensaf_sim::apis()
    }

    /// Runs an `opensaf-sim` command (`fault bad-handle`, `amf csi-active`, ...); it must
    /// succeed.
    pub fn cli(&self, args: &[&str]) {
        cli(&self.dir, args)
    }

    /// Runs an `opensaf-sim` command that may fail (`immadm` of an operation refused);
    /// returns its exit code.
    pub fn cli_code(&self, args: &[&str]) -> i32 {
        opensaf_sim::cli::run_in(&self.dir, args)
    }

    /// Events of one kind, oldest first.
    pub fn events_named(&self, name: &str) -> Vec<opensaf_sim::events::Event> {
        opensaf_sim::events::read_all(&self.dir)
            .into_iter()
            .filter(|e| e.name() == name)
            .collect()
    }

    /// Retries short enough that a test fails fast.
    pub fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            total: Duration::from_secs(2),
            ..Default::default()
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        // No assertion here: this may run while a failed test unwinds.
        let dir = path(&self.dir).to_string();
        let argv = ["opensaf-sim", "--dir", &dir, "fault", "clear"];
        opensaf_sim::cli::run(argv.iter().map(|s| s.to_string()).collect());
    }
}
