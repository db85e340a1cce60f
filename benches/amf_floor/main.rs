//! `cargo bench --bench amf_floor`: macsync's CPU per idle healthcheck on a real 3-node OpenSAF
//! 5.21.03 cluster in containers, against the floor OpenSAF's own AMF agent sets: amf_floor
//! (`amf_floor.c`), an SA-aware C component that only answers AMF, twice per node (amf_floor
//! and its twin, to show the measurement's resolution), on the same nodes in the same run,
//! all with a 1 s healthcheck period.
//!
//! It builds amf_floor (macsync's own AIS headers, the tarball's libSaAmf.so.0) and the node
//! image with this build's release macsync, brings up its own cluster (`macsync-bench-*`,
//! 198.18.0.96/27), loads macsync's classes and model and amf_floor's model, unlocks every SU,
//! lets the cluster settle, then reads the three processes' CPU per thread on every node
//! (`/proc/PID/task/*/schedstat`) at the edges of AMF_FLOOR_ROUNDS windows (10) of
//! AMF_FLOOR_WINDOW_SECS (30 s); amf_floor's healthcheck counter gives the healthchecks. The
//! cluster is removed at the end, on failure and on Ctrl-C. Needs what the cluster tests need
//! (Docker, the OpenSAF tarball) and a C compiler (`cc`).

#[path = "../../tests/common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "../../tests/cluster/harness.rs"]
mod harness;
mod report;
mod sample;
#[path = "../../tests/scenario/mod.rs"]
mod scenario;
#[path = "../support/mod.rs"]
mod support;

use std::os::fd::{AsFd, AsRawFd};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use harness::{docker, repo, run};
use report::Round;

const NAME: &str = "macsync-bench";
/// Inside the benchmarking range and apart from the cluster tests' 198.18.0.128/25; the
/// default `cluster up` network (198.18.0.0/25) holds it, so the two cannot run at once.
const SUBNET: &str = "198.18.0.96/27";
const IMAGE: &str = "macsync-opensaf-node:bench";
const NODES: [&str; 3] = ["SC-1", "SC-2", "PL-3"];
const PERIOD: Duration = Duration::from_secs(1);
/// After every SU is in service: the first syncs, IMM and AMF traffic of the start-up.
const SETTLE: Duration = Duration::from_secs(30);
const MACSYNC_PID: &str = "/var/run/macsync.pid";
/// amf_floor and its twin (`saAmfCompCmdEnv` of the twins in the model).
const FLOOR_PIDS: [&str; 2] = ["/var/run/amf_floor.pid", "/var/run/amf_floor-twin.pid"];

type Res<T> = Result<T, String>;

fn main() {
    // Before any thread: SIGINT and SIGTERM then reach only the teardown thread.
    let signals = macsync::sys::Signals::new().unwrap_or_else(|e| fail(&format!("signalfd: {e}")));
    let rounds = env_number("AMF_FLOOR_ROUNDS", 10);
    let window = Duration::from_secs(env_number("AMF_FLOOR_WINDOW_SECS", 30));
    std::thread::spawn(move || {
        let _ = macsync::sys::poll(&[signals.as_fd().as_raw_fd()], -1);
        eprintln!("amf_floor: interrupted, removing the cluster");
        teardown();
        let _ = std::fs::remove_dir_all(tmp_dir());
        std::process::exit(130);
    });
    if let Err(e) = bench(rounds as usize, window) {
        fail(&e);
    }
}

fn fail(e: &str) -> ! {
    eprintln!("amf_floor bench: {e}");
    std::process::exit(1)
}

fn env_number(var: &str, default: u64) -> u64 {
    match std::env::var(var) {
        Err(_) => default,
        Ok(v) => match v.parse() {
            Ok(n) if n > 0 => n,
            _ => fail(&format!("{var} must be a positive number, not '{v}'")),
        },
    }
}

fn cluster(args: &[&str]) -> Res<String> {
    run(Command::new(repo().join("deploy/container/cluster")).args(args))
}

fn down() -> Res<()> {
    cluster(&["down", "--name", NAME]).map(drop)
}

fn sh(node: &str, script: &str) -> Res<String> {
    docker(&["exec", &format!("{NAME}-{node}"), "sh", "-c", script])
}

/// Removes the cluster once, whichever comes first: the end of the benchmark, an error, a
/// panic or a signal (the other waits until it is done).
fn teardown() {
    static DONE: Mutex<bool> = Mutex::new(false);
    let mut done = DONE.lock().unwrap_or_else(|p| p.into_inner());
    if !*done {
        match down() {
            Ok(()) => eprintln!("amf_floor: cluster {NAME} removed"),
            Err(e) => eprintln!("amf_floor: cluster teardown failed: {e}"),
        }
        *done = true;
    }
}

/// Calls [`teardown`] however `bench` ends.
struct Teardown;

impl Drop for Teardown {
    fn drop(&mut self) {
        teardown();
    }
}

fn bench(rounds: usize, window: Duration) -> Res<()> {
    let tarball = harness::prerequisites()?;
    let _lock = harness::exclusive_run().map_err(|e| format!("cluster lock: {e}"))?;
    let tmp = tmp_dir();
    let floor = build_floor(&tarball, &tmp);
    let result = floor.and_then(|bin| {
        down()?;
        let t = Instant::now();
        cluster(&[
            "build",
            "--opensaf",
            tarball.to_str().ok_or("tarball path")?,
            "--macsync",
            env!("CARGO_BIN_EXE_macsync"),
            "--image",
            IMAGE,
        ])?;
        eprintln!("amf_floor: node image {IMAGE} ready in {:.0?}", t.elapsed());
        let _teardown = Teardown;
        set_up(&bin)?;
        measure(rounds, window)
    });
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

/// Where amf_floor is built (the OpenSAF libraries it links against unpacked beside it).
fn tmp_dir() -> PathBuf {
    std::env::temp_dir().join(format!("amf_floor-{}", std::process::id()))
}

/// Compiles amf_floor.c against macsync's headers and the tarball's libSaAmf.so.0.
fn build_floor(tarball: &Path, tmp: &Path) -> Res<PathBuf> {
    let here = repo().join("benches/amf_floor");
    std::fs::create_dir_all(tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    run(Command::new("tar")
        .arg("-xJf")
        .arg(tarball)
        .arg("-C")
        .arg(tmp)
        .args(["--wildcards", "./lib/*.so*"]))?;
    let lib = tmp.join("lib");
    let bin = tmp.join("amf_floor");
    run(
        Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
            .args(["-O2", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-I"])
            .arg(repo().join("opensaf-sys/include"))
            .arg(here.join("amf_floor.c"))
            .arg("-o")
            .arg(&bin)
            .arg(format!("-L{}", lib.display()))
            .arg(format!(
                "-Wl,-rpath-link,{0}:{0}/opensaf,-rpath,/opt/opensaf/lib",
                lib.display()
            ))
            .arg("-l:libSaAmf.so.0"),
    )?;
    Ok(bin)
}

/// A new cluster with macsync and amf_floor in service on every node.
fn set_up(floor: &Path) -> Res<()> {
    let t = Instant::now();
    let up = format!("up --name {NAME} --image {IMAGE} --subnet {SUBNET} --timeout 180");
    cluster(&up.split(' ').collect::<Vec<_>>())?;
    eprintln!("amf_floor: cluster {NAME} up in {:.0?}", t.elapsed());
    let clc = repo().join("samples/macsync-clc");
    for n in NODES {
        sh(n, "mkdir -p /opt/amf_floor/bin")?;
        for f in [floor, clc.as_path()] {
            let dest = format!("{NAME}-{n}:/opt/amf_floor/bin/");
            docker(&["cp", f.to_str().ok_or("path")?, &dest])?;
        }
    }
    let models = [
        repo().join("samples/macsync-classes.xml"),
        repo().join("samples/macsync-amf.xml"),
        repo().join("benches/amf_floor/amf_floor-amf.xml"),
    ];
    for m in &models {
        docker(&[
            "cp",
            m.to_str().ok_or("path")?,
            &format!("{NAME}-SC-1:/tmp/"),
        ])?;
    }
    sh(
        "SC-1",
        &format!(
            "immcfg -f /tmp/macsync-classes.xml && immcfg -f /tmp/macsync-amf.xml && \
             immcfg -a saAmfHctDefPeriod={} safHealthcheckKey=macsync,safVersion=1,safCompType=macsync && \
             immcfg -f /tmp/amf_floor-amf.xml",
            PERIOD.as_nanos()
        ),
    )?;
    for (app, su) in sus() {
        let su = format!("safSu={su},safSg={app},safApp={app}");
        sh(
            "SC-1",
            &format!("amf-adm unlock-in '{su}' && amf-adm unlock '{su}'"),
        )?;
    }
    let t = Instant::now();
    while let Some(why) = not_ready()? {
        if t.elapsed() > Duration::from_secs(90) {
            return Err(format!("not in service after 90 s: {why}"));
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    eprintln!(
        "amf_floor: every component ACTIVE on every node; settling for {:?}",
        SETTLE
    );
    std::thread::sleep(SETTLE);
    Ok(())
}

/// (application, SU) of every SU the benchmark unlocks: per node macsync, amf_floor, its twin.
fn sus() -> Vec<(&'static str, String)> {
    NODES
        .iter()
        .flat_map(|n| {
            [
                ("macsync", n.to_string()),
                ("amf_floor", n.to_string()),
                ("amf_floor", format!("{n}-twin")),
            ]
        })
        .collect()
}

/// What is not in service yet: an SU without its ACTIVE assignment, a node macsync has not
/// synced yet.
fn not_ready() -> Res<Option<String>> {
    for (app, su) in sus() {
        let dn =
            format!("safSISU=safSu={su}\\,safSg={app}\\,safApp={app},safSi={app},safApp={app}");
        let st = sh(
            "SC-1",
            &format!("immlist -a saAmfSISUHAState '{dn}' || true"),
        )?;
        if st.trim() != "saAmfSISUHAState=1" {
            return Ok(Some(format!("{app} SU {su} not ACTIVE")));
        }
    }
    for n in NODES {
        let s = sh(
            "SC-1",
            &format!("immlist -a syncs macSyncNodeId={n} || true"),
        )?;
        let syncs: u64 = s
            .trim()
            .strip_prefix("syncs=")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if syncs == 0 {
            return Ok(Some(format!("macsync on {n} has not synced")));
        }
    }
    Ok(None)
}

fn pid(node: &str, file: &str) -> Res<u32> {
    sh(node, &format!("cat {file}"))?
        .trim()
        .parse()
        .map_err(|_| format!("no pid in {file} on {node}"))
}

/// The nodes with their role, e.g. `SC-1 (active)`.
fn labels() -> Res<Vec<(&'static str, String)>> {
    let mut out = Vec::new();
    for n in NODES {
        let label = if n.starts_with("SC-") {
            let dn =
                format!("safSISU=safSu={n}\\,safSg=2N\\,safApp=OpenSAF,safSi=SC-2N,safApp=OpenSAF");
            let ha = sh(n, &format!("immlist -a saAmfSISUHAState '{dn}'"))?;
            let role = if ha.trim() == "saAmfSISUHAState=1" {
                "active"
            } else {
                "standby"
            };
            format!("{n} ({role})")
        } else {
            format!("{n} (payload)")
        };
        out.push((n, label));
    }
    Ok(out)
}

fn measure(rounds: usize, window: Duration) -> Res<()> {
    let mut pids = Vec::new();
    for n in NODES {
        pids.push([
            pid(n, MACSYNC_PID)?,
            pid(n, FLOOR_PIDS[0])?,
            pid(n, FLOOR_PIDS[1])?,
        ]);
    }
    let read = |i: usize| -> Res<sample::Sample> {
        let p = &pids[i];
        sample::parse(&sh(NODES[i], &sample::script(p))?, p)
            .map_err(|e| format!("on {}: {e} (restarted by AMF?)", NODES[i]))
    };
    let first: Vec<sample::Sample> = (0..NODES.len()).map(read).collect::<Res<_>>()?;
    for (i, n) in NODES.iter().enumerate() {
        let threads: Vec<String> = first[i]
            .threads
            .iter()
            .map(|t| {
                let k = pids[i].iter().position(|p| *p == t.pid).unwrap_or(0);
                let who = ["macsync", "amf_floor", "twin"][k];
                format!("{who}/{} '{}' = {}", t.tid, t.comm, sample::class(t))
            })
            .collect();
        eprintln!("amf_floor: {n} threads: {}", threads.join(", "));
    }
    let mut prev = first;
    let mut all = Vec::new();
    let t0 = Instant::now();
    for r in 1..=rounds {
        std::thread::sleep((window * r as u32).saturating_sub(t0.elapsed()));
        let now: Vec<sample::Sample> = (0..NODES.len()).map(read).collect::<Res<_>>()?;
        for (i, n) in NODES.iter().enumerate() {
            let round = Round {
                node: n,
                elapsed_ns: now[i].t_ns - prev[i].t_ns,
                machine_busy_pct: sample::machine_busy_pct(&prev[i], &now[i]),
                macsync: sample::usage(&prev[i], &now[i], pids[i][0]),
                floor: [1, 2].map(|k| sample::usage(&prev[i], &now[i], pids[i][k])),
            };
            if round.floor.iter().any(|u| u.healthchecks.unwrap_or(0) == 0) {
                return Err(format!(
                    "amf_floor on {n} counted no healthcheck in round {r}"
                ));
            }
            let per_s = |u: &sample::Usage| u.cpu_ns as f64 / round.elapsed_ns as f64 * 1e6;
            eprintln!(
                "amf_floor: round {r}/{rounds} {n}: machine {:.0} % busy; CPU us per second: macsync {:.1}, amf_floor {:.1}, twin {:.1}",
                round.machine_busy_pct,
                per_s(&round.macsync),
                per_s(&round.floor[0]),
                per_s(&round.floor[1]),
            );
            all.push(round);
        }
        prev = now;
    }
    let summary = report::print(&all, &labels()?);
    println!("\n{summary}");
    Ok(())
}
