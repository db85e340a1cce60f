//! Helpers shared by integration tests: a private network namespace per test, `ip` wrappers,
//! `ip -j` read with the workspace's test JSON reader, waiting with deadlines, and a
//! reproducible PRNG.
//!
//! Network namespaces are per thread: [`enter_netns`] moves only the calling test thread
//! (and whatever it spawns afterwards: threads, `ip` processes, the monitor) into a new,
//! empty namespace, so tests never touch the host's interfaces and do not see each other.
//! Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The one JSON reader of the workspace's tests (also reads the ABI record).
#[path = "../../opensaf-sys/tests/abi/json.rs"]
pub mod json;

/// Moves the calling thread into a fresh network namespace (only `lo`, down).
///
/// Fails the test (never skips it) if that is impossible: the tests need root
/// (CAP_SYS_ADMIN) and must not fall back to the host's namespace.
pub fn enter_netns() {
    init_logging();
    let before = netns_inode();
    if let Err(e) = macsync::sys::unshare_netns() {
        panic!(
            "cannot create a private network namespace: unshare(CLONE_NEWNET) failed: {e}. \
             Run the tests as root or under `unshare -rn`; they never use the host's interfaces."
        );
    }
    let after = netns_inode();
    assert_ne!(
        before, after,
        "unshare(CLONE_NEWNET) did not change the namespace"
    );
    let links = ip_json_links();
    assert!(
        links.len() == 1 && links[0].1 == "lo",
        "a fresh namespace should contain only lo, found {links:?}"
    );
}

/// Routes `log` output to the test's captured output; `RUST_LOG=debug` to see it.
pub fn init_logging() {
    let _ = env_logger::builder().is_test(true).try_init();
}

/// True when running as real root, not as root of a user namespace (`unshare -r`): some
/// privileges (SO_RCVBUFFORCE) exist only there.
pub fn in_initial_user_namespace() -> bool {
    std::fs::read_to_string("/proc/self/uid_map")
        .map(|m| m.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"])
        .unwrap_or(false)
}

/// Inode of the calling thread's network namespace (identifies the namespace).
pub fn netns_inode() -> u64 {
    std::fs::metadata("/proc/thread-self/ns/net")
        .expect("stat /proc/thread-self/ns/net")
        .ino()
}

/// Runs `ip ARGS`, returns stdout; panics with stderr if it fails.
pub fn ip<S: AsRef<OsStr>>(args: &[S]) -> String {
    match try_ip(args) {
        Ok(out) => out,
        Err(e) => panic!("{e}"),
    }
}

/// Runs `ip ARGS`; `Err` carries the command line and its stderr.
pub fn try_ip<S: AsRef<OsStr>>(args: &[S]) -> Result<String, String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run ip: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        let line: Vec<_> = args.iter().map(|a| a.as_ref().to_string_lossy()).collect();
        Err(format!(
            "`ip {}` failed ({}): {}",
            line.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Runs many `ip` commands in one process (`ip -batch -`), e.g. "link add a type veth peer
/// name b". Panics if any line fails.
pub fn ip_batch<I, S>(lines: I)
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut input = String::new();
    for l in lines {
        input.push_str(l.as_ref());
        input.push('\n');
    }
    let mut child = Command::new("ip")
        .args(["-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run ip -batch");
    let mut stdin = child.stdin.take().expect("ip stdin");
    // Written from another thread so a chatty `ip` cannot deadlock against us on its pipes.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("wait for ip -batch");
    writer
        .join()
        .expect("writer thread")
        .expect("write to ip -batch");
    assert!(
        out.status.success(),
        "ip -batch failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

/// `n` veth pairs `{prefix}a{i}` <-> `{prefix}b{i}` (2n links) in one `ip -batch`.
pub fn add_veth_pairs(prefix: &str, n: usize) {
    ip_batch((0..n).map(|i| format!("link add {prefix}a{i} type veth peer name {prefix}b{i}")));
}

/// One round of churn, as `ip -batch` lines: 50 veth pairs `{tag}{round}x/y{i}` added, the
/// 50 of the round before deleted, and the MACs of 50 links `{prefix}a{p}` (of `pairs`)
/// changed.
pub fn churn_round(tag: &str, round: usize, prefix: &str, pairs: usize) -> Vec<String> {
    let adds =
        (0..50).map(|i| format!("link add {tag}{round}x{i} type veth peer name {tag}{round}y{i}"));
    let dels = (0..50)
        .filter(|_| round > 0)
        .map(|i| format!("link del {tag}{}x{i}", round - 1));
    let macs = (0..50).map(|i| {
        let p = (round * 50 + i) % pairs;
        let (hi, lo) = (p >> 8, p & 0xff);
        format!(
            "link set {prefix}a{p} address 02:{:02x}:{hi:02x}:{lo:02x}:00:02",
            round % 256
        )
    });
    adds.chain(dels).chain(macs).collect()
}

/// One link as `ip -j link show` prints it.
pub struct IpLink {
    pub index: u32,
    pub name: String,
    pub address: Option<String>,
    /// `ether`, `loopback`, `none`, ...
    pub link_type: Option<String>,
}

/// Every link, from `ip -j link show`.
pub fn ip_links() -> Vec<IpLink> {
    let text = ip(&["-j", "link", "show"]);
    let v = json::parse(&text).unwrap_or_else(|e| panic!("bad JSON from ip -j: {e}\n{text}"));
    let items = v.as_array().expect("ip -j link show: expected an array");
    let text_of = |it: &json::Value, key| {
        it.get(key)
            .and_then(json::Value::as_str)
            .map(str::to_string)
    };
    items
        .iter()
        .map(|it| {
            let idx = it.get("ifindex").and_then(json::Value::as_int);
            IpLink {
                index: u32::try_from(idx.expect("ifindex")).expect("ifindex fits u32"),
                name: text_of(it, "ifname").expect("ifname"),
                address: text_of(it, "address"),
                link_type: text_of(it, "link_type"),
            }
        })
        .collect()
}

/// (ifindex, name, address) for every link, from `ip -j link show`.
pub fn ip_json_links() -> Vec<(u32, String, Option<String>)> {
    ip_links()
        .into_iter()
        .map(|l| (l.index, l.name, l.address))
        .collect()
}

/// Polls `cond` every millisecond until it holds or `timeout` passes; returns the last result.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// `voluntary_ctxt_switches` of one thread of this process.
pub fn voluntary_ctxt_switches(tid: i32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/self/task/{tid}/status"))
        .unwrap_or_else(|e| panic!("read status of thread {tid}: {e}"));
    s.lines()
        .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("voluntary_ctxt_switches in status")
}

/// xorshift64*: small, seeded, reproducible; good enough to drive property tests.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeds from `MACSYNC_TEST_SEED` if set, else `default`; prints the seed so a failure can
    /// be replayed.
    pub fn from_env(default: u64) -> Rng {
        let seed = std::env::var("MACSYNC_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default);
        eprintln!("PRNG seed {seed} (set MACSYNC_TEST_SEED to replay)");
        Rng::new(seed)
    }

    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-ish in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }

    /// Random bytes of a random length below `max`.
    pub fn some_bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max);
        self.bytes(len)
    }
}
