//! `cargo bench --bench component`: the component against the simulator, compared with the
//! old way (`ip link list` + parse at every healthcheck), in its own network namespace with
//! 10 000 veth links (needs root). The simulator emulates the IMM cost measured on a real
//! OpenSAF 5.21.03 node (250 us per runtime-object call).
//!
//! - hc_cpu_ns: CPU time of macsync's AMF thread per healthcheck while idle (poll wake-up,
//!   saAmfDispatch, the callback, saAmfResponse_4), from /proc/<pid>/task/<pid>/schedstat;
//! - the callback's own decision (`Health::assess`), timed in-process;
//! - healthcheck answer latency (AMF's send -> answer) during the first 10 000-link sync;
//! - one MAC change among 10 000 links (20 of them, one at a time): IMM writes, CPU of the
//!   whole macsync process beyond its idle rate (change_cpu_us), kernel change to IMM
//!   written (change_to_imm_ms, the worst of 20), against the old way's work per change (a
//!   full dump, the model and a diff of every link);
//! - 30 s of churn (links added and deleted, MACs changed) among 10 000 links: failed syncs
//!   (churn_failed_syncs), against the old way's dumps failing in the same churn.

#[path = "support/change.rs"]
mod change;
#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/simenv/mod.rs"]
mod simenv;
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use macsync::component::Health;
use macsync::flag::ChangeFlag;
use macsync::netlink::{Monitor, MonitorOptions};
use macsync::sync::Status;
use simenv::SimEnv;
use support::{ip_link_poll, median, percentile};

const PAIRS: usize = 5000;
const PERIOD: Duration = Duration::from_millis(20);
const MAX_DURATION: Duration = Duration::from_secs(6);
const IDLE: Duration = Duration::from_secs(10);
const IMM_LATENCY_US: u64 = 250;
const CHANGES: usize = 20;
const CHURN: Duration = Duration::from_secs(30);

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() {
    if let Err(e) = macsync::sys::unshare_netns() {
        eprintln!("component bench: cannot create a network namespace (needs root): {e}");
        std::process::exit(1);
    }
    if let Err(e) = run() {
        eprintln!("component bench: {e}");
        std::process::exit(1);
    }
}

/// Nanoseconds the thread has run on a CPU (first field of schedstat).
fn thread_cpu_ns(pid: u32) -> Res<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/schedstat"))?;
    Ok(s.split_whitespace().next().ok_or("schedstat")?.parse()?)
}

fn answered(env: &SimEnv, from_us: i128, to_us: i128) -> Vec<f64> {
    env.events_named("hc-answered")
        .iter()
        .filter(|e| e.num("t_us").is_some_and(|t| t >= from_us && t <= to_us))
        .filter_map(|e| e.num("latency_us"))
        .map(|us| us as f64 / 1e3)
        .collect()
}

/// What the monitor logs at each dump of the link table.
const DUMP_LINE: &str = "netlink monitor: dump ";

fn log_count(env: &SimEnv, needle: &str) -> usize {
    env.log().matches(needle).count()
}

fn now_us() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i128
}

/// CPU time of a thread per wake-up when another thread rings an eventfd it polls.
fn wakeup_cpu_ns(rounds: u32) -> Res<u64> {
    use macsync::sys::{poll, Doorbell};
    use std::os::fd::{AsFd, AsRawFd};
    let ping = Arc::new(Doorbell::new()?);
    let pong = Arc::new(Doorbell::new()?);
    let (p2, q2) = (ping.clone(), pong.clone());
    let waiter = std::thread::spawn(move || -> u64 {
        let start = macsync::sys::thread_cpu_ns();
        for _ in 0..rounds {
            let _ = poll(&[p2.as_fd().as_raw_fd()], -1);
            p2.drain();
            q2.ring();
        }
        macsync::sys::thread_cpu_ns() - start
    });
    for _ in 0..rounds {
        ping.ring();
        let _ = poll(&[pong.as_fd().as_raw_fd()], -1);
        pong.drain();
        // Let the waiter go back to sleep, as the AMF thread does between healthchecks.
        std::thread::sleep(Duration::from_micros(200));
    }
    let cpu = waiter.join().map_err(|_| "waiter thread panicked")?;
    Ok(cpu / u64::from(rounds))
}

fn run() -> Res<()> {
    common::add_veth_pairs("b", PAIRS);
    let env = SimEnv::new("bench", PERIOD, MAX_DURATION);
    env.sim_ok(&["config", &format!("imm_latency_us={IMM_LATENCY_US}")]);

    // First sync of 10 000 links, healthchecks every 20 ms meanwhile.
    let t0 = Instant::now();
    let t0_us = now_us();
    let mc = env.start_logging(&[], "info");
    let pid = mc.0.id();
    env.wait_mirrored(Duration::from_secs(300), "first sync");
    let sync_s = t0.elapsed().as_secs_f64();
    let mut during = answered(&env, t0_us, now_us());
    let timeouts = env.events_named("hc-timeout").len() + env.events_named("hc-failed").len();

    // Idle: nothing changes; count healthchecks, AMF-thread CPU and IMM writes.
    std::thread::sleep(Duration::from_millis(500));
    let (cpu0, n0, j0, all0, t_idle) = (
        thread_cpu_ns(pid)?,
        env.events_named("hc-answered").len(),
        env.journal_bytes(),
        change::cpu_ns(pid, None)?,
        Instant::now(),
    );
    std::thread::sleep(IDLE);
    let (cpu1, n1, j1, all1) = (
        thread_cpu_ns(pid)?,
        env.events_named("hc-answered").len(),
        env.journal_bytes(),
        change::cpu_ns(pid, None)?,
    );
    let idle_rate = (all1 - all0) as f64 / t_idle.elapsed().as_nanos() as f64;
    let idle_hcs = (n1 - n0) as u64;
    let hc_cpu_ns = (cpu1 - cpu0) / idle_hcs.max(1);

    // MAC changes among 10 000 links, one at a time.
    let before = env.counters();
    let j_before = env.journal_bytes();
    let mut ch = change::mac_changes(&env, pid, "ba", CHANGES, PERIOD, idle_rate)?;
    let after = env.counters();
    let delta = |k: &str| after[k] - before[k];
    let if_writes = (delta("objectsCreated") + delta("objectsUpdated") + delta("objectsDeleted"))
        as f64
        / CHANGES as f64;
    let node_updates = delta("syncs") as f64 / CHANGES as f64;
    let journal_growth = (env.journal_bytes() - j_before) / CHANGES as u64;
    let change_cpu_us = median(&mut ch.cpu_us);
    let netlink_us = median(&mut ch.netlink_us);
    let sync_us = median(&mut ch.sync_us);
    let change_p50 = percentile(&mut ch.latency_ms, 50.0);
    let change_max = percentile(&mut ch.latency_ms, 100.0);

    // Churn among 10 000 links; then IMM must equal the kernel.
    let (failed0, dumps0, syncs0) = (
        log_count(&env, "sync failed"),
        log_count(&env, DUMP_LINE),
        env.counters()["syncs"],
    );
    let rounds = change::churn("c", "b", PAIRS, CHURN);
    let t_conv = Instant::now();
    env.wait_mirrored(Duration::from_secs(120), "after the churn");
    let converge_ms = t_conv.elapsed().as_secs_f64() * 1e3;
    let churn_failed = log_count(&env, "sync failed") - failed0;
    let churn_dumps = log_count(&env, DUMP_LINE) - dumps0;
    let churn_syncs = env.counters()["syncs"] - syncs0;

    // The callback's own work, in-process: the same Health::assess the callback calls.
    let flag = Arc::new(ChangeFlag::new_clear());
    let monitor = Arc::new(Monitor::spawn(flag.clone(), MonitorOptions::default())?);
    flag.take();
    let health = Health {
        flag,
        monitor,
        status: Arc::new(Status::new()),
        stuck_bound: Duration::from_secs(60),
    };
    let iters = 10_000_000u32;
    let t = Instant::now();
    for _ in 0..iters {
        std::hint::black_box(health.assess());
    }
    let assess_ns = t.elapsed().as_nanos() as f64 / f64::from(iters);

    // What any thread pays on this machine to be woken through poll(2) by another thread,
    // the floor under the AMF thread's cost per healthcheck.
    let wake_ns = wakeup_cpu_ns(2000)?;

    // The old way, same namespace, same links.
    let mut ip_ms = Vec::new();
    for _ in 0..7 {
        let (ms, n) = ip_link_poll()?;
        if n < 2 * PAIRS {
            return Err(format!("ip link list parse found {n} links").into());
        }
        ip_ms.push(ms);
    }
    let ip_poll_us = median(&mut ip_ms) * 1e3;
    let dump_sync_us = change::dump_sync_cpu_us(7)?;
    let own_sync_us = change::own_sync_work_us("ba3", 50)?;
    let (old_dumps, old_failed) = change::old_way_churn("b", PAIRS, CHURN, PERIOD)?;
    let hc_p50 = percentile(&mut during, 50.0);
    let hc_p99 = percentile(&mut during, 99.0);
    let hc_max = percentile(&mut during, 100.0);

    println!("metric                                                  value");
    println!(
        "links                                                   {}",
        2 * PAIRS
    );
    println!("emulated IMM cost per call (us)                         {IMM_LATENCY_US}");
    println!("first sync of all links, start to mirrored (s)          {sync_s:.2}");
    println!(
        "healthchecks answered during it                         {}",
        during.len()
    );
    println!("  answer latency p50 / p99 / max (ms)                   {hc_p50:.3} / {hc_p99:.3} / {hc_max:.3}");
    println!("  healthcheck timeouts or failures                      {timeouts}");
    println!(
        "idle healthchecks ({:?} at {:?})                      {idle_hcs}",
        IDLE, PERIOD
    );
    println!("  AMF-thread CPU per healthcheck (ns)                   {hc_cpu_ns}");
    println!("  callback decision Health::assess (ns)                 {assess_ns:.1}");
    println!("  bare poll(2) wake-up of a thread, for reference (ns)  {wake_ns}");
    println!(
        "  IMM journal growth while idle (bytes)                 {}",
        j1 - j0
    );
    println!("one MAC change among them, {CHANGES} one at a time (medians)");
    println!(
        "  interface-object writes / node counter updates        {if_writes} / {node_updates}"
    );
    println!("  IMM journal growth (bytes)                            {journal_growth}");
    println!("  CPU of the macsync process beyond idle (us)           {change_cpu_us:.0}");
    println!(
        "  of which its netlink thread / sync thread (us)        {netlink_us:.0} / {sync_us:.0}"
    );
    println!(
        "  kernel -> IMM p50 / max (ms)                          {change_p50:.1} / {change_max:.1}"
    );
    println!(
        "  sync thread's own work, in-process: flag, cache, model, diff (us)  {own_sync_us:.1}"
    );
    println!("  old way: dump + model + diff of all links, CPU (us)   {dump_sync_us:.0}");
    println!("churn for {CHURN:?}: {rounds} rounds (50 pairs added, 50 deleted, 50 MACs)");
    println!("  syncs / failed syncs / dumps                          {churn_syncs} / {churn_failed} / {churn_dumps}");
    println!("  IMM equal to the kernel after the churn (ms)          {converge_ms:.0}");
    println!("  old way, a dump every {PERIOD:?}: dumps / failed      {old_dumps} / {old_failed}");
    println!("old way: ip link list + parse, median of 7 (us)         {ip_poll_us:.0}");
    println!(
        "hc_cpu_ns={hc_cpu_ns} ip_poll_us={ip_poll_us:.0} ratio={:.0} hc_p99_ms={hc_p99:.3} writes_for_one_change={if_writes} \
         change_cpu_us={change_cpu_us:.0} change_to_imm_ms={change_max:.1} churn_failed_syncs={churn_failed} \
         old_dump_sync_cpu_us={dump_sync_us:.0} old_churn_failed_dumps={old_failed}",
        ip_poll_us * 1e3 / hc_cpu_ns.max(1) as f64
    );
    Ok(())
}
