//! The component benchmark's incremental-sync part: CPU and latency of one change among
//! 10 000 links, failed syncs during churn, and the same work done the old way (a full dump
//! per sync).
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use macsync::diff::{diff, diff_incremental, ImmView};
use macsync::flag::ChangeFlag;
use macsync::model;
use macsync::netlink::{
    LinkFilter, LinkSetter, Monitor, MonitorOptions, NetlinkError, Snapshotter,
};
use macsync::osaf::Dn;

use crate::common;
use crate::simenv::{SimEnv, NODE_DN};

pub type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// CPU time (ns) of every thread of process `pid`, or of those whose name is in `names`.
pub fn cpu_ns(pid: u32, names: Option<&[&str]>) -> Res<u64> {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let dir = task?.path();
        if let Some(names) = names {
            let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
            if !names.contains(&comm.trim()) {
                continue;
            }
        }
        // A thread that just ended has no schedstat any more: it no longer runs.
        if let Ok(s) = std::fs::read_to_string(dir.join("schedstat")) {
            total += s
                .split_whitespace()
                .next()
                .ok_or("schedstat")?
                .parse::<u64>()?;
        }
    }
    Ok(total)
}

/// Per change: CPU of the whole process beyond its idle rate, of its netlink thread and of
/// its sync thread (us); kernel change to IMM written (ms).
#[derive(Default)]
pub struct Changes {
    pub cpu_us: Vec<f64>,
    pub netlink_us: Vec<f64>,
    pub sync_us: Vec<f64>,
    pub latency_ms: Vec<f64>,
}

/// `n` MAC changes of links `{prefix}{i}`, one at a time, at varied points of the
/// healthcheck period. `idle_rate`: the process's CPU per second of idle time.
pub fn mac_changes(
    env: &SimEnv,
    pid: u32,
    prefix: &str,
    n: usize,
    period: Duration,
    idle_rate: f64,
) -> Res<Changes> {
    let mut out = Changes::default();
    for i in 0..n {
        // Let the previous sync and its healthchecks pass, then start at a varied phase.
        std::thread::sleep(period * 3 + period * (i as u32 % 7) / 7);
        let name = format!("{prefix}{}", 100 + i);
        let mac = format!("02:00:00:ca:{:02x}:{:02x}", i >> 8, i & 0xff);
        let (cpu0, nl0, sy0, w0) = (
            cpu_ns(pid, None)?,
            cpu_ns(pid, Some(&[NETLINK_THREAD]))?,
            cpu_ns(pid, Some(&[SYNC_THREAD]))?,
            Instant::now(),
        );
        common::ip(&["link", "set", &name, "address", &mac]);
        let t = Instant::now();
        while env.imm_mac(&name).as_deref() != Some(mac.as_str()) {
            if t.elapsed() > Duration::from_secs(10) {
                return Err(format!("the MAC change of {name} never reached IMM").into());
            }
            std::thread::sleep(Duration::from_micros(500));
        }
        out.latency_ms.push(t.elapsed().as_secs_f64() * 1e3);
        // The sync ends with the node object's counters, just after the interface object.
        std::thread::sleep(period * 2);
        let (cpu1, nl1, sy1) = (
            cpu_ns(pid, None)?,
            cpu_ns(pid, Some(&[NETLINK_THREAD]))?,
            cpu_ns(pid, Some(&[SYNC_THREAD]))?,
        );
        let idle_ns = idle_rate * w0.elapsed().as_nanos() as f64;
        out.cpu_us
            .push(((cpu1 - cpu0) as f64 - idle_ns).max(0.0) / 1e3);
        out.netlink_us.push((nl1 - nl0) as f64 / 1e3);
        out.sync_us.push((sy1 - sy0) as f64 / 1e3);
    }
    Ok(out)
}

/// The threads that work only when something changed.
const NETLINK_THREAD: &str = "macsync-netlink";
const SYNC_THREAD: &str = "macsync-sync";

/// Links added and deleted without pause for `length` (each round: 50 veth pairs added, the
/// 50 of the round before deleted, 50 MACs among pairs `{prefix}a0..{pairs}` changed).
/// Returns the rounds done.
pub fn churn(tag: &str, prefix: &str, pairs: usize, length: Duration) -> usize {
    let t0 = Instant::now();
    let mut round = 0usize;
    while t0.elapsed() < length {
        common::ip_batch(common::churn_round(tag, round, prefix, pairs));
        round += 1;
    }
    // The last round's links stay: the table ends as it would on a busy host.
    round
}

/// The old way's work for one change: a full dump, the model of every link and a diff
/// against a view of them all (what every sync did before the incremental sync). CPU of the
/// calling thread, us, median of `n`.
pub fn dump_sync_cpu_us(n: usize) -> Res<f64> {
    let node = Dn::parse(NODE_DN, 255)?;
    let filter = LinkFilter::default();
    let mut snap = Snapshotter::new()?;
    let links = snap.dump()?;
    let (mut view, _) = model::desired(&links, &filter, &node, 255);
    if let Some(first) = view.values_mut().next() {
        first.mac = "02:00:00:00:00:00".into();
    }
    let mut cpu = Vec::new();
    for _ in 0..n {
        let t = macsync::sys::thread_cpu_ns();
        let links = snap.dump()?;
        let (want, _) = model::desired(&links, &filter, &node, 255);
        let changes = diff(&view, &want);
        std::hint::black_box(&changes);
        cpu.push((macsync::sys::thread_cpu_ns() - t) as f64 / 1e3);
    }
    Ok(crate::support::median(&mut cpu))
}

/// The old way during churn: a full dump every `period` (each sync dumped), counting the
/// dumps that failed (every retry interrupted by a change: NLM_F_DUMP_INTR).
pub fn old_way_churn(
    prefix: &str,
    pairs: usize,
    length: Duration,
    period: Duration,
) -> Res<(usize, usize)> {
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s2 = stop.clone();
    let dumper = std::thread::spawn(move || -> Result<(usize, usize), String> {
        let mut snap = Snapshotter::new().map_err(|e| e.to_string())?;
        let (mut dumps, mut failed) = (0, 0);
        while !s2.load(std::sync::atomic::Ordering::SeqCst) {
            dumps += 1;
            match snap.dump() {
                Ok(_) => {}
                Err(NetlinkError::Interrupted { .. }) => failed += 1,
                Err(e) => return Err(e.to_string()),
            }
            std::thread::sleep(period);
        }
        Ok((dumps, failed))
    });
    churn("o", prefix, pairs, length);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    Ok(dumper.join().map_err(|_| "dumper panicked")??)
}

/// macsync's own work for one MAC change among all links, in-process, without IMM: take the
/// flag and the changed links from a monitor's cache, model them, diff them against a view
/// of every link, record the result in the view. CPU of the calling thread, us, median of
/// `n`; the monitor thread's share is measured on the component itself.
pub fn own_sync_work_us(link: &str, n: usize) -> Res<f64> {
    let flag = Arc::new(ChangeFlag::new_clear());
    let mon = Monitor::spawn(flag.clone(), MonitorOptions::default())?;
    let (node, filter) = (Dn::parse(NODE_DN, 255)?, LinkFilter::default());
    let links = Snapshotter::new()?.dump()?;
    let ifindex = links
        .iter()
        .find(|l| l.name == link.as_bytes())
        .ok_or("link not found")?
        .ifindex;
    let mut view: ImmView = model::desired(&links, &filter, &node, 255)
        .0
        .into_iter()
        .collect();
    let mut setter = LinkSetter::new()?;
    let mut changed = Vec::new();
    let mut cpu = Vec::new();
    flag.take();
    mon.cache().take_changed(&mut changed)?;
    for i in 0..n {
        let seq = setter.send_set_address(ifindex, &[2, 0, 0, 0xee, (i >> 8) as u8, i as u8])?;
        setter.wait_ack(seq)?;
        let t = Instant::now();
        while !flag.is_raised() {
            if t.elapsed() > Duration::from_secs(5) {
                return Err("the monitor never saw the change".into());
            }
            std::thread::sleep(Duration::from_micros(100));
        }
        let t0 = macsync::sys::thread_cpu_ns();
        flag.take();
        mon.cache().take_changed(&mut changed)?;
        let wanted: Vec<_> = changed
            .iter()
            .map(|(i, s)| {
                let want = s.and_then(|s| model::desired_one(&s.to_link(*i), &filter, &node, 255));
                (*i, want.and_then(Result::ok))
            })
            .collect();
        for c in diff_incremental(&view, &wanted) {
            view.apply(&c);
        }
        cpu.push((macsync::sys::thread_cpu_ns() - t0) as f64 / 1e3);
    }
    Ok(crate::support::median(&mut cpu))
}
