//! `samples/macsync-clc`, the CLC-CLI script AMF runs to instantiate and clean up macsync,
//! driven the way AMF drives it: executed directly (its shebang), with a scrubbed environment
//! holding SA_AMF_COMPONENT_NAME and the configured `VAR=value` pairs, stdout/stderr piped, cwd
//! `/`. Each test has its own temp directory holding a fake `macsync` (a small sh script that
//! records its argv and selected environment variables, then sleeps, ignores SIGTERM or exits
//! at once), the pid file and every log. Whatever a test starts is killed by the `Sandbox`
//! drop guard, also when an assertion fails.
//!
//! "Gone" means: no `/proc/<pid>` entry, or a zombie (State Z), or a pid now naming some other
//! program. A killed macsync is an orphan (the script that started it has exited), and an
//! init that does not reap (as in some containers) leaves it a zombie: dead, not running.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/macsync-clc");
const COMP_NAME: &str = "safComp=MacSync,safSu=SU1,safSg=MacSync,safApp=MacSync";
const NODE_ID: &str = "0x2020f";
/// A `VAR=value` of saAmfCtDefCmdEnv, with a space and an `=` in the value.
const CMD_ENV: (&str, &str) = ("MACSYNC_TEST_CMDENV", "two words=and an equals sign");
/// Environment variables the fake macsync writes into its record.
const RECORDED_VARS: [&str; 6] = [
    "SA_AMF_COMPONENT_NAME",
    "NCS_ENV_NODE_ID",
    "MACSYNC_TEST_CMDENV",
    "MACSYNC_NODE",
    "OSAF_COMPONENT_ERROR_SOURCE",
    "MACSYNC_UNSET_PROBE",
];
const USAGE_PREFIX: &str = "usage: macsync-clc ";
/// Hard limit for one script run; past it the run is killed and the test fails.
const RUN_LIMIT: Duration = Duration::from_secs(10);

static SEQ: AtomicUsize = AtomicUsize::new(0);

#[derive(Clone, Copy, Debug)]
enum Fake {
    /// Runs until SIGTERM, which it notes in `<dir>/terms` before exiting 0.
    Runs,
    /// Ignores SIGTERM: only SIGKILL stops it.
    IgnoresTerm,
    /// Exits at once with this status.
    ExitsAtOnce(u8),
}

#[derive(Debug)]
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Run {
    #[track_caller]
    fn expect_code(&self, code: i32, what: &str) {
        assert_eq!(self.status.code(), Some(code), "{what}: {self:#?}");
    }

    #[track_caller]
    fn expect_silent(&self, what: &str) {
        assert_eq!(self.stdout, "", "{what}: stdout");
        assert_eq!(self.stderr, "", "{what}: stderr");
    }
}

struct Sandbox {
    dir: PathBuf,
    /// The script to run (the sample itself, or a copy in a bundle directory).
    script: PathBuf,
    /// `None`: exec the script (its shebang), as AMF does; else run it with this shell.
    shell: Option<String>,
    env: BTreeMap<String, String>,
    fake: PathBuf,
    pid_file: PathBuf,
    log_file: PathBuf,
    console_log: PathBuf,
    clc_log: PathBuf,
    /// Processes the test spawned itself (an unrelated `sleep`); killed and reaped on drop.
    children: Vec<Child>,
}

impl Sandbox {
    fn new(name: &str, fake: Fake) -> Sandbox {
        let dir = std::env::temp_dir().join(format!(
            "macsync-clc-test.{}.{}.{}",
            std::process::id(),
            name,
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let shown = dir.display().to_string();
        assert!(
            !shown.contains(|c: char| c.is_whitespace() || "\"'$`\\".contains(c)),
            "temp dir {shown:?} cannot be embedded in the fake script"
        );
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create temp dir");
        // Parent directories of the pid file and the logs do not exist yet: the script
        // creates them.
        let mut sb = Sandbox {
            script: PathBuf::from(SCRIPT),
            shell: None,
            env: BTreeMap::new(),
            fake: dir.join("macsync"),
            pid_file: dir.join("run/macsync.pid"),
            log_file: dir.join("log/macsync-PL-3.log"),
            console_log: dir.join("console/macsync.out"),
            clc_log: dir.join("clc/macsync-clc.log"),
            children: Vec::new(),
            dir,
        };
        write_fake(&sb.fake, &sb.dir, fake);
        let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/sbin:/usr/bin:/sbin:/bin".into());
        let vars = [
            ("PATH", path.as_str()),
            ("SA_AMF_COMPONENT_NAME", COMP_NAME),
            ("NCS_ENV_NODE_ID", NODE_ID),
            CMD_ENV,
            ("MACSYNC_NODE", "PL-3"),
            ("MACSYNC_BIN", &sb.fake.display().to_string()),
            ("MACSYNC_PID_FILE", &sb.pid_file.display().to_string()),
            ("MACSYNC_LOG_FILE", &sb.log_file.display().to_string()),
            ("MACSYNC_CONSOLE_LOG", &sb.console_log.display().to_string()),
            ("MACSYNC_CLC_LOG", &sb.clc_log.display().to_string()),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        sb.env.extend(vars);
        sb
    }

    fn set(&mut self, var: &str, value: impl AsRef<Path>) {
        let value = value.as_ref().display().to_string();
        self.env.insert(var.into(), value);
    }

    /// Runs `macsync-clc ARGS` to completion (bounded by RUN_LIMIT) and collects its output.
    /// It gets its own process group, so nothing it signals can reach the test harness.
    fn clc(&self, args: &[&str]) -> Run {
        let mut cmd = match &self.shell {
            Some(sh) => {
                let mut c = Command::new(sh);
                c.arg(&self.script);
                c
            }
            None => Command::new(&self.script),
        };
        cmd.args(args)
            .env_clear()
            .envs(&self.env)
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let start = Instant::now();
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("run {:?}: {e}", self.script));
        let out = drain(child.stdout.take().expect("stdout pipe"));
        let err = drain(child.stderr.take().expect("stderr pipe"));
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for macsync-clc") {
                break status;
            }
            if start.elapsed() > RUN_LIMIT {
                let _ = child.kill();
                let _ = child.wait();
                panic!("macsync-clc {args:?} still running after {RUN_LIMIT:?}");
            }
            thread::sleep(Duration::from_millis(5));
        };
        let elapsed = start.elapsed();
        // The pipes stand for AMF's: a background macsync still holding them would make a
        // caller that reads to EOF hang.
        let held = |what: &str| {
            format!("macsync-clc {args:?} exited but its {what} pipe is still held open")
        };
        let stdout = out
            .recv_timeout(Duration::from_secs(2))
            .unwrap_or_else(|_| panic!("{}", held("stdout")));
        let stderr = err
            .recv_timeout(Duration::from_secs(2))
            .unwrap_or_else(|_| panic!("{}", held("stderr")));
        Run {
            status,
            stdout,
            stderr,
            elapsed,
        }
    }

    /// The pid in the pid file, which must hold exactly one decimal pid and a newline.
    #[track_caller]
    fn recorded_pid(&self) -> u32 {
        let text = fs::read_to_string(&self.pid_file)
            .unwrap_or_else(|e| panic!("pid file {:?}: {e}", self.pid_file));
        let digits = text.strip_suffix('\n').unwrap_or("");
        assert!(
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
            "pid file holds {text:?}"
        );
        digits.parse().expect("pid")
    }

    /// What the fake started as `pid` recorded (waits up to 2 s for it).
    #[track_caller]
    fn record(&self, pid: u32) -> Record {
        let path = self.dir.join(format!("started.{pid}"));
        let text = wait_for(Duration::from_secs(2), || fs::read_to_string(&path).ok())
            .unwrap_or_else(|| panic!("fake macsync pid {pid} wrote no {path:?}"));
        Record::parse(&text)
    }

    /// Pids of the fake macsync processes whose record exists.
    fn started(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = fs::read_dir(&self.dir)
            .expect("read temp dir")
            .filter_map(|e| {
                let name = e.ok()?.file_name().into_string().ok()?;
                name.strip_prefix("started.")?.parse().ok()
            })
            .collect();
        pids.sort_unstable();
        pids
    }

    /// Live (non-zombie) processes running this sandbox's fake macsync.
    fn running_fakes(&self) -> Vec<u32> {
        all_pids()
            .into_iter()
            .filter(|&pid| self.is_our_fake(pid))
            .collect()
    }

    fn is_our_fake(&self, pid: u32) -> bool {
        let fake = self.fake.display().to_string();
        running(pid) && cmdline(pid).contains(&fake)
    }

    #[track_caller]
    fn assert_fake_running(&self, pid: u32) {
        assert!(
            self.is_our_fake(pid),
            "pid {pid} is not a running fake macsync: {}",
            describe(pid)
        );
    }

    #[track_caller]
    fn assert_gone(&self, pid: u32) {
        assert!(
            !self.is_our_fake(pid),
            "fake macsync pid {pid} still running: {}",
            describe(pid)
        );
    }

    /// Starts an unrelated long-running process (`sleep 30`) owned by this sandbox.
    fn spawn_unrelated(&mut self) -> u32 {
        let child = Command::new("sleep")
            .arg("30")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn sleep");
        let pid = child.id();
        self.children.push(child);
        pid
    }

    #[track_caller]
    fn assert_unrelated_alive(&mut self, pid: u32) {
        let child = self
            .children
            .iter_mut()
            .find(|c| c.id() == pid)
            .expect("our child");
        assert_eq!(
            child.try_wait().expect("try_wait"),
            None,
            "the unrelated process {pid} was killed"
        );
        assert!(running(pid), "{}", describe(pid));
    }

    fn clc_log_text(&self) -> String {
        fs::read_to_string(&self.clc_log).unwrap_or_default()
    }

    fn write_pid_file(&self, content: &str) {
        fs::create_dir_all(self.pid_file.parent().expect("pid dir")).expect("mkdir");
        fs::write(&self.pid_file, content).expect("write pid file");
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // Everything whose command line names a file in the sandbox: fakes, a script copy.
        let prefix = format!("{}/", self.dir.display());
        let me = std::process::id();
        let strays: Vec<String> = all_pids()
            .into_iter()
            .filter(|&pid| pid != me && running(pid))
            .filter(|&pid| cmdline(pid).iter().any(|a| a.starts_with(&prefix)))
            .map(|pid| pid.to_string())
            .collect();
        if !strays.is_empty() {
            let _ = Command::new("sh")
                .args(["-c", "kill -KILL \"$@\" 2>/dev/null", "sh"])
                .args(&strays)
                .status();
        }
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// What one fake macsync recorded at start.
#[derive(Debug)]
struct Record {
    argv: Vec<String>,
    env: BTreeMap<String, String>,
}

impl Record {
    fn parse(text: &str) -> Record {
        let mut argv = Vec::new();
        let mut env = BTreeMap::new();
        let mut argc = None;
        for line in text.lines() {
            if let Some(n) = line.strip_prefix("argc=") {
                argc = Some(n.parse::<usize>().expect("argc"));
            } else if let Some(a) = line.strip_prefix("arg=") {
                argv.push(a.to_string());
            } else if let Some(kv) = line.strip_prefix("env:") {
                let (k, v) = kv.split_once('=').expect("env line");
                env.insert(k.to_string(), v.to_string());
            }
        }
        assert_eq!(argc, Some(argv.len()), "record {text:?}");
        Record { argv, env }
    }
}

fn write_fake(path: &Path, dir: &Path, fake: Fake) {
    let d = dir.display();
    let mut s = format!(
        "#!/bin/sh\n\
         # Fake macsync written by tests/clc_script.rs ({fake:?}).\n\
         rec=\"{d}/started.$$\"\n\
         {{\n\
         \x20   echo \"argc=$#\"\n\
         \x20   for a in \"$@\"; do printf 'arg=%s\\n' \"$a\"; done\n"
    );
    for v in RECORDED_VARS {
        s += &format!("    if [ -n \"${{{v}+set}}\" ]; then printf 'env:{v}=%s\\n' \"${v}\"; fi\n");
    }
    s += "} > \"$rec.tmp\" && mv -f \"$rec.tmp\" \"$rec\"\n";
    s += "echo 'fake macsync: to stdout'\necho 'fake macsync: to stderr' >&2\n";
    match fake {
        Fake::Runs => s += &format!("trap 'echo \"$$\" >> \"{d}/terms\"; exit 0' TERM\n"),
        Fake::IgnoresTerm => s += "trap '' TERM\n",
        Fake::ExitsAtOnce(code) => s += &format!("exit {code}\n"),
    }
    // Short sleeps: an orphaned `sleep` outlives a killed fake by 0.1 s at most, and the
    // fake gives up by itself after 30 s whatever happens.
    s += "i=0\nwhile [ \"$i\" -lt 300 ]; do sleep 0.1; i=$((i + 1)); done\n";
    fs::create_dir_all(path.parent().expect("fake dir")).expect("mkdir");
    fs::write(path, s).expect("write fake macsync");
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).expect("chmod fake");
}

fn drain(mut pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        let _ = tx.send(String::from_utf8_lossy(&buf).into_owned());
    });
    rx
}

fn wait_for<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if start.elapsed() > limit {
            return None;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// The State letter of `/proc/<pid>/stat`, `None` when there is no such process.
fn proc_state(pid: u32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().next()?.chars().next()
}

/// A process exists and is not a zombie.
fn running(pid: u32) -> bool {
    matches!(proc_state(pid), Some(s) if s != 'Z' && s != 'X')
}

fn nul_list(path: String) -> Vec<String> {
    fs::read(path)
        .map(|b| {
            b.split(|&c| c == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn cmdline(pid: u32) -> Vec<String> {
    nul_list(format!("/proc/{pid}/cmdline"))
}

fn environ(pid: u32) -> Vec<String> {
    nul_list(format!("/proc/{pid}/environ"))
}

fn describe(pid: u32) -> String {
    format!("state {:?}, cmdline {:?}", proc_state(pid), cmdline(pid))
}

fn all_pids() -> Vec<u32> {
    fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn fd_target(pid: u32, fd: u32) -> PathBuf {
    fs::read_link(format!("/proc/{pid}/fd/{fd}")).unwrap_or_default()
}

/// Whether `prog` can be run (`prog --version` starts).
fn have(prog: &str) -> bool {
    Command::new(prog)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

#[track_caller]
fn assert_usage(run: &Run, what: &str) {
    run.expect_code(2, what);
    assert_eq!(run.stdout, "", "{what}: stdout");
    assert_eq!(run.stderr.lines().count(), 1, "{what}: {:?}", run.stderr);
    assert!(
        run.stderr.starts_with(USAGE_PREFIX)
            && run.stderr.contains("instantiate")
            && run.stderr.contains("cleanup")
            && run.stderr.ends_with('\n'),
        "{what}: {:?}",
        run.stderr
    );
}

#[test]
fn instantiate_starts_macsync_detached_with_amf_environment_and_args() {
    let sb = Sandbox::new("instantiate", Fake::Runs);
    let extra = ["--sim", "--node", "an arg with spaces", ""];
    let mut args = vec!["instantiate"];
    args.extend(extra);

    let run = sb.clc(&args);
    run.expect_code(0, "instantiate");
    run.expect_silent("instantiate");
    assert!(
        run.elapsed < Duration::from_secs(2),
        "took {:?}",
        run.elapsed
    );

    let pid = sb.recorded_pid();
    sb.assert_fake_running(pid);
    assert_eq!(sb.running_fakes(), vec![pid], "exactly one macsync");

    // argv, as the kernel sees it and as the fake recorded it.
    let fake = sb.fake.display().to_string();
    let log = sb.log_file.display().to_string();
    let mut want: Vec<String> = vec!["--log-file".into(), log.clone()];
    want.extend(extra.iter().map(|a| a.to_string()));
    let record = sb.record(pid);
    assert_eq!(record.argv, want);
    let cmd = nul_list(format!("/proc/{pid}/cmdline"));
    let after_bin: Vec<String> = cmd
        .iter()
        .skip_while(|a| **a != fake)
        .skip(1)
        .cloned()
        .collect();
    // The empty last argument leaves no trace in a NUL-split cmdline.
    assert_eq!(after_bin, want[..want.len() - 1], "cmdline {cmd:?}");

    // Environment: AMF's variables and the configured VAR=value are inherited.
    let env = environ(pid);
    for kv in [
        format!("SA_AMF_COMPONENT_NAME={COMP_NAME}"),
        format!("NCS_ENV_NODE_ID={NODE_ID}"),
        format!("{}={}", CMD_ENV.0, CMD_ENV.1),
        "MACSYNC_NODE=PL-3".to_string(),
    ] {
        assert!(env.contains(&kv), "{kv:?} not in environ {env:?}");
    }
    assert_eq!(record.env["SA_AMF_COMPONENT_NAME"], COMP_NAME);
    assert_eq!(record.env["NCS_ENV_NODE_ID"], NODE_ID);
    assert_eq!(record.env[CMD_ENV.0], CMD_ENV.1);
    assert!(!record.env.contains_key("MACSYNC_UNSET_PROBE"));
    assert!(!record.env.contains_key("OSAF_COMPONENT_ERROR_SOURCE"));

    // Detached: stdin from /dev/null, stdout and stderr appended to the console log.
    assert_eq!(fd_target(pid, 0), Path::new("/dev/null"));
    assert_eq!(fd_target(pid, 1), sb.console_log);
    assert_eq!(fd_target(pid, 2), sb.console_log);
    let console = wait_for(Duration::from_secs(2), || {
        fs::read_to_string(&sb.console_log)
            .ok()
            .filter(|t| t.contains("to stderr"))
    })
    .expect("console log gets the fake's output");
    assert!(console.contains("fake macsync: to stdout"), "{console:?}");

    // The script logged to its own log (directory created on the way).
    let clc_log = sb.clc_log_text();
    assert!(
        clc_log.contains(&format!("instantiate component={COMP_NAME}"))
            && clc_log.contains(&format!("node_id={NODE_ID}"))
            && clc_log.contains(&format!("started macsync pid {pid}")),
        "{clc_log:?}"
    );
    assert!(sb.log_file.parent().expect("log dir").is_dir());

    sb.clc(&["cleanup"]).expect_code(0, "cleanup");
    sb.assert_gone(pid);
}

#[test]
fn second_instantiate_refuses_and_starts_no_second_copy() {
    let sb = Sandbox::new("twice", Fake::Runs);
    sb.clc(&["instantiate"]).expect_code(0, "first instantiate");
    let pid = sb.recorded_pid();
    sb.record(pid);

    let again = sb.clc(&["instantiate", "--second"]);
    again.expect_code(1, "second instantiate");
    assert_eq!(again.stdout, "");
    assert!(
        again
            .stderr
            .contains(&format!("already running as pid {pid}")),
        "{:?}",
        again.stderr
    );
    // A copy started by mistake would have recorded itself by now.
    thread::sleep(Duration::from_millis(300));
    assert_eq!(sb.recorded_pid(), pid, "pid file rewritten");
    assert_eq!(sb.started(), vec![pid], "a second macsync was started");
    assert_eq!(sb.running_fakes(), vec![pid]);
    sb.assert_fake_running(pid);
    assert!(sb.clc_log_text().contains("instantiate refused"));

    sb.clc(&["cleanup"]).expect_code(0, "cleanup");
    sb.assert_gone(pid);
}

#[test]
fn cleanup_stops_macsync_with_sigterm_removes_pid_file_and_is_idempotent() {
    let mut sb = Sandbox::new("cleanup", Fake::Runs);
    sb.clc(&["instantiate"]).expect_code(0, "instantiate");
    let pid = sb.recorded_pid();
    sb.record(pid);
    sb.assert_fake_running(pid);

    sb.set("OSAF_COMPONENT_ERROR_SOURCE", "5");
    let run = sb.clc(&["cleanup"]);
    run.expect_code(0, "cleanup");
    run.expect_silent("cleanup");
    // Checked at once: the script returns only when macsync is gone.
    sb.assert_gone(pid);
    assert!(!sb.pid_file.exists(), "pid file left behind");
    // SIGTERM was enough: the fake saw it and no SIGKILL was needed.
    let terms = fs::read_to_string(sb.dir.join("terms")).unwrap_or_default();
    assert_eq!(terms, format!("{pid}\n"), "fake never saw SIGTERM");
    assert!(
        run.elapsed < Duration::from_secs(2),
        "took {:?}",
        run.elapsed
    );
    let log = sb.clc_log_text();
    assert!(
        log.contains("error_source=5")
            && log.contains(&format!("cleanup: macsync pid {pid} stopped"))
            && !log.contains("SIGKILL"),
        "{log:?}"
    );

    // Nothing runs any more: still 0, twice.
    for round in 1..=2 {
        let run = sb.clc(&["cleanup"]);
        run.expect_code(0, &format!("cleanup again #{round}"));
        run.expect_silent("cleanup again");
        assert!(!sb.pid_file.exists());
    }
    assert!(sb
        .clc_log_text()
        .contains("no pid recorded, nothing to stop"));

    // AMF restarts the component: a fresh instantiate works after cleanup.
    sb.clc(&["instantiate"]).expect_code(0, "re-instantiate");
    let pid2 = sb.recorded_pid();
    assert_ne!(pid2, pid);
    sb.assert_fake_running(pid2);
    sb.clc(&["cleanup"]).expect_code(0, "final cleanup");
    sb.assert_gone(pid2);
    assert!(sb.running_fakes().is_empty());
}

#[test]
fn cleanup_sigkills_macsync_that_ignores_sigterm_after_stop_timeout() {
    let mut sb = Sandbox::new("sigkill", Fake::IgnoresTerm);
    sb.set("MACSYNC_STOP_TIMEOUT", "1");
    sb.clc(&["instantiate"]).expect_code(0, "instantiate");
    let pid = sb.recorded_pid();
    sb.record(pid);
    sb.assert_fake_running(pid);
    // Precondition: the fake really ignores SIGTERM (bit 15 of SigIgn).
    let status = fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let sig_ign = status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .map(|h| u64::from_str_radix(h.trim(), 16).expect("SigIgn hex"))
        .expect("SigIgn line");
    assert_ne!(sig_ign & (1 << (15 - 1)), 0, "fake does not ignore SIGTERM");

    let run = sb.clc(&["cleanup"]);
    run.expect_code(0, "cleanup");
    run.expect_silent("cleanup");
    sb.assert_gone(pid);
    assert!(!sb.pid_file.exists(), "pid file left behind");
    // It waited MACSYNC_STOP_TIMEOUT before SIGKILL, and no more than needed.
    assert!(
        run.elapsed >= Duration::from_millis(900) && run.elapsed < Duration::from_secs(4),
        "cleanup took {:?}",
        run.elapsed
    );
    let log = sb.clc_log_text();
    assert!(
        log.contains(&format!(
            "pid {pid} still running after SIGTERM, sending SIGKILL"
        )) && log.contains(&format!("cleanup: macsync pid {pid} stopped")),
        "{log:?}"
    );
    sb.clc(&["cleanup"]).expect_code(0, "cleanup again");
}

#[test]
fn stale_pid_file_naming_unrelated_process_neither_kills_it_nor_blocks_instantiate() {
    let mut sb = Sandbox::new("stale", Fake::Runs);
    let other = sb.spawn_unrelated();

    // cleanup: not ours, left alone; the stale pid file goes.
    sb.write_pid_file(&format!("{other}\n"));
    let run = sb.clc(&["cleanup"]);
    run.expect_code(0, "cleanup with stale pid file");
    run.expect_silent("cleanup");
    assert!(!sb.pid_file.exists(), "stale pid file kept");
    thread::sleep(Duration::from_millis(200));
    sb.assert_unrelated_alive(other);
    assert!(sb
        .clc_log_text()
        .contains(&format!("pid {other} is not a running macsync")));

    // instantiate: not blocked, and the pid file now names the new macsync.
    sb.write_pid_file(&format!("{other}\n"));
    let run = sb.clc(&["instantiate"]);
    run.expect_code(0, "instantiate over stale pid file");
    run.expect_silent("instantiate");
    let pid = sb.recorded_pid();
    assert_ne!(pid, other);
    sb.assert_fake_running(pid);
    sb.assert_unrelated_alive(other);

    sb.clc(&["cleanup"]).expect_code(0, "cleanup");
    sb.assert_gone(pid);
    thread::sleep(Duration::from_millis(200));
    sb.assert_unrelated_alive(other);
}

#[test]
fn unusable_pid_files_are_discarded() {
    let sb = Sandbox::new("garbage", Fake::Runs);
    // A pid that no longer exists: a child that has exited and been reaped.
    let mut gone = Command::new("true").spawn().expect("spawn true");
    let dead = gone.id();
    gone.wait().expect("reap true");
    let contents = [
        String::new(),
        "\n".into(),
        "not-a-pid\n".into(),
        "-1\n".into(),
        "12 34\n".into(),
        format!("{dead}\n"),
        format!("{dead}"),
    ];
    for content in &contents {
        sb.write_pid_file(content);
        let run = sb.clc(&["cleanup"]);
        run.expect_code(0, &format!("cleanup with pid file {content:?}"));
        run.expect_silent("cleanup");
        assert!(!sb.pid_file.exists(), "pid file {content:?} kept");
    }
    for content in [&contents[2], &contents[6]] {
        sb.write_pid_file(content);
        sb.clc(&["instantiate"])
            .expect_code(0, &format!("instantiate over pid file {content:?}"));
        let pid = sb.recorded_pid();
        sb.assert_fake_running(pid);
        sb.clc(&["cleanup"]).expect_code(0, "cleanup");
        sb.assert_gone(pid);
    }
}

#[test]
fn bad_or_missing_argument_prints_usage_and_exits_2() {
    let sb = Sandbox::new("usage", Fake::Runs);
    for args in [
        &[][..],
        &["start"][..],
        &["stop"][..],
        &["INSTANTIATE"][..],
        &[""][..],
        &["--help"][..],
        &["instantiat", "--sim"][..],
    ] {
        let run = sb.clc(args);
        assert_usage(&run, &format!("args {args:?}"));
    }
    assert!(sb.started().is_empty(), "a bad argument started macsync");
    assert!(!sb.pid_file.exists());
    assert!(!sb.clc_log.exists(), "a bad argument wrote the log");
}

#[test]
fn instantiate_fails_when_macsync_cannot_run() {
    let mut sb = Sandbox::new("fails", Fake::ExitsAtOnce(3));
    let run = sb.clc(&["instantiate"]);
    run.expect_code(1, "instantiate of a macsync that exits at once");
    assert!(!sb.pid_file.exists(), "pid file of a dead macsync kept");
    let started = sb.started();
    assert_eq!(started.len(), 1, "{started:?}");
    sb.assert_gone(started[0]);
    let log = sb.clc_log_text();
    assert!(log.contains("exited at once, status 3"), "{log:?}");

    let missing = sb.dir.join("no/such/macsync");
    sb.set("MACSYNC_BIN", &missing);
    let run = sb.clc(&["instantiate"]);
    run.expect_code(1, "instantiate of a missing binary");
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        format!("macsync-clc: {} is not executable\n", missing.display())
    );
    assert!(!sb.pid_file.exists());
}

/// AMF's real layout: the script and macsync side by side in the bundle directory, no
/// MACSYNC_BIN, console and script logs derived from the log file name.
#[test]
fn defaults_find_macsync_next_to_script_and_derive_logs_from_log_file() {
    let mut sb = Sandbox::new("bundle", Fake::Runs);
    let bundle = sb.dir.join("bundle");
    fs::create_dir_all(&bundle).expect("mkdir bundle");
    let script = bundle.join("macsync-clc");
    fs::copy(SCRIPT, &script).expect("copy script");
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
    sb.fake = bundle.join("macsync");
    write_fake(&sb.fake, &sb.dir, Fake::Runs);
    sb.script = script;
    for var in ["MACSYNC_BIN", "MACSYNC_CONSOLE_LOG", "MACSYNC_CLC_LOG"] {
        sb.env.remove(var);
    }
    let console = sb.dir.join("log/macsync-PL-3.out");

    sb.clc(&["instantiate"]).expect_code(0, "instantiate");
    let pid = sb.recorded_pid();
    sb.assert_fake_running(pid);
    assert_eq!(fd_target(pid, 1), console);
    let text = wait_for(Duration::from_secs(2), || {
        fs::read_to_string(&console)
            .ok()
            .filter(|t| t.contains("to stderr") && t.contains("started macsync pid"))
    })
    .unwrap_or_else(|| panic!("{console:?}: {:?}", fs::read_to_string(&console)));
    assert!(
        text.contains(&format!("bin={}", sb.fake.display())),
        "{text:?}"
    );

    sb.clc(&["cleanup"]).expect_code(0, "cleanup");
    sb.assert_gone(pid);
    assert!(fs::read_to_string(&console)
        .expect("console log")
        .contains(&format!("cleanup: macsync pid {pid} stopped")));
}

/// OpenSAF installed under `<sandbox>/osaf`, as `../shared/opensaf` installs it: its
/// `osafdir.conf` (found through `OPENSAF_PREFIX`) names the configuration directory,
/// holding `node_name` when given, and the log directory. Returns the log directory.
fn prefix_install(sb: &mut Sandbox, node_name: Option<&str>) -> PathBuf {
    let prefix = sb.dir.join("osaf");
    let conf_dir = prefix.join("etc/opensaf");
    fs::create_dir_all(&conf_dir).expect("mkdir conf dir");
    let conf = format!(
        "#!/bin/sh\n# do not edit! generated automatically!\nprefix=\"{}\"\n\
         sysconfdir=\"${{prefix}}/etc\"\nlocalstatedir=\"$prefix/var\"\n\
         pkgsysconfdir=\"${{sysconfdir}}/opensaf\"\npkglogdir=\"${{localstatedir}}/log/opensaf\"\n",
        prefix.display()
    );
    fs::write(conf_dir.join("osafdir.conf"), conf).expect("write osafdir.conf");
    if let Some(n) = node_name {
        fs::write(conf_dir.join("node_name"), n).expect("write node_name");
    }
    sb.set("OPENSAF_PREFIX", &prefix);
    prefix.join("var/log/opensaf")
}

/// The `--log-file` an instantiate passes to macsync (and where its console log goes).
fn default_log(sb: &Sandbox) -> (PathBuf, PathBuf) {
    sb.clc(&["instantiate"]).expect_code(0, "instantiate");
    let pid = sb.recorded_pid();
    let record = sb.record(pid);
    assert_eq!(record.argv.len(), 2, "{:?}", record.argv);
    let console = fd_target(pid, 1);
    sb.clc(&["cleanup"]).expect_code(0, "cleanup");
    sb.assert_gone(pid);
    (PathBuf::from(&record.argv[1]), console)
}

#[test]
fn default_log_is_named_after_opensafs_node_name_found_as_the_install_finds_it() {
    let mut sb = Sandbox::new("nodename", Fake::Runs);
    for var in ["MACSYNC_NODE", "MACSYNC_LOG_FILE", "MACSYNC_CONSOLE_LOG"] {
        sb.env.remove(var);
    }
    // Its first word, as OpenSAF reads it (a blank first line, no final newline).
    let logs = prefix_install(&mut sb, Some("\n  SC-7 spare words"));
    let (log, console) = default_log(&sb);
    assert_eq!(log, logs.join("macsync-SC-7.log"));
    assert_eq!(console, logs.join("macsync-SC-7.out"));

    // OPENSAF_CONF_DIR names the configuration directory itself.
    let other = sb.dir.join("conf");
    fs::create_dir_all(&other).expect("mkdir");
    fs::write(other.join("node_name"), "PL-9\n").expect("write node_name");
    sb.set("OPENSAF_CONF_DIR", &other);
    assert_eq!(default_log(&sb).0, logs.join("macsync-PL-9.log"));

    // MACSYNC_NODE wins.
    sb.set("MACSYNC_NODE", "PL-3");
    assert_eq!(default_log(&sb).0, logs.join("macsync-PL-3.log"));
    sb.env.remove("MACSYNC_NODE");

    // No node_name: the host name.
    fs::remove_file(other.join("node_name")).expect("rm node_name");
    let host = Command::new("uname").arg("-n").output().expect("uname -n");
    let host: String = String::from_utf8_lossy(&host.stdout)
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    assert_eq!(default_log(&sb).0, logs.join(format!("macsync-{host}.log")));
}

#[test]
fn bare_macsync_bin_is_looked_up_in_path() {
    let mut sb = Sandbox::new("path", Fake::Runs);
    let bin_dir = sb.dir.join("bin");
    sb.fake = bin_dir.join("macsync");
    write_fake(&sb.fake, &sb.dir, Fake::Runs);
    let path = format!("{}:{}", bin_dir.display(), sb.env["PATH"]);
    sb.set("PATH", path);
    sb.set("MACSYNC_BIN", "macsync");

    sb.clc(&["instantiate"]).expect_code(0, "instantiate");
    let pid = sb.recorded_pid();
    sb.assert_fake_running(pid);
    sb.clc(&["cleanup"]).expect_code(0, "cleanup");
    sb.assert_gone(pid);
}

/// Red Hat style nodes have bash as /bin/sh: the same lifecycle under bash.
#[test]
fn lifecycle_under_bash() {
    assert!(
        have("bash"),
        "bash is needed for this test (apt-get install bash)"
    );
    let mut sb = Sandbox::new("bash", Fake::IgnoresTerm);
    sb.shell = Some("bash".into());
    sb.set("MACSYNC_STOP_TIMEOUT", "0");
    sb.clc(&["instantiate", "--sim"])
        .expect_code(0, "instantiate");
    let pid = sb.recorded_pid();
    sb.assert_fake_running(pid);
    assert_eq!(sb.record(pid).env["SA_AMF_COMPONENT_NAME"], COMP_NAME);
    sb.clc(&["instantiate"])
        .expect_code(1, "second instantiate");
    assert_eq!(sb.running_fakes(), vec![pid]);
    sb.clc(&["cleanup"]).expect_code(0, "cleanup");
    sb.assert_gone(pid);
    assert!(!sb.pid_file.exists());
    sb.clc(&["cleanup"]).expect_code(0, "cleanup again");
    assert_usage(&sb.clc(&["bogus"]), "bogus under bash");
}

#[test]
fn script_is_executable_and_passes_syntax_check_and_shellcheck() {
    let mode = fs::metadata(SCRIPT).expect("script").permissions().mode();
    assert_eq!(mode & 0o111, 0o111, "AMF execs the script: mode {mode:o}");
    let first = fs::read_to_string(SCRIPT).expect("read script");
    assert!(first.starts_with("#!/bin/sh\n"), "shebang");

    let out = Command::new("sh")
        .args(["-n", SCRIPT])
        .output()
        .expect("sh -n");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "sh -n: {out:?}"
    );
    let out = Command::new("bash")
        .args(["-n", SCRIPT])
        .output()
        .expect("bash -n");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "bash -n: {out:?}"
    );

    match Command::new("shellcheck").arg(SCRIPT).output() {
        Ok(out) => {
            let report = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && report.is_empty() && out.stderr.is_empty(),
                "shellcheck: {:?}\n{report}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // .ci/run installs it; a missing linter is a failure, not a pass.
        Err(e) => panic!("shellcheck: {e} (apt-get install shellcheck)"),
    }
}

// Script bugs, found while writing these tests. `read_pid` accepts any digit string, and
// `is_macsync` takes a missing /proc/<pid> directory to mean "no /proc at all" and trusts
// `kill -0`. `kill` accepts spellings procfs has no directory for: `0` (the caller's process
// group) and leading zeros (`0123` is pid 123, /proc/0123 does not exist). Each test runs the
// script in its own process group, so a `kill 0` stays contained.

#[test]
fn pid_file_holding_0_is_not_a_running_macsync() {
    let sb = Sandbox::new("pid0", Fake::Runs);
    let mut wrong = Vec::new();

    sb.write_pid_file("0\n");
    let run = sb.clc(&["cleanup"]);
    if run.status.code() != Some(0) {
        wrong.push(format!("cleanup with pid file \"0\": {run:?}"));
    }
    sb.write_pid_file("0\n");
    let run = sb.clc(&["instantiate"]);
    if run.status.code() != Some(0) {
        wrong.push(format!("instantiate over pid file \"0\": {run:?}"));
    } else {
        let pid = sb.recorded_pid();
        sb.clc(&["cleanup"]).expect_code(0, "cleanup");
        sb.assert_gone(pid);
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn pid_file_with_leading_zero_does_not_kill_unrelated_process() {
    let mut sb = Sandbox::new("pid00", Fake::Runs);
    sb.set("MACSYNC_STOP_TIMEOUT", "1");
    let other = sb.spawn_unrelated();
    sb.write_pid_file(&format!("0{other}\n"));
    let run = sb.clc(&["cleanup"]);
    thread::sleep(Duration::from_millis(200));
    sb.assert_unrelated_alive(other);
    run.expect_code(0, "cleanup");
}
