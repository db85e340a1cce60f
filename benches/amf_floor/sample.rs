//! The CPU of processes inside a node, read with the node's own clock: for every thread,
//! its nanoseconds on a CPU (`/proc/PID/task/TID/schedstat`), how often it went to sleep
//! (voluntary context switches) and its name; amf_floor's healthcheck counter; the whole
//! machine's CPU time (`/proc/stat`, not namespaced); and what a window between two readings
//! cost per thread class.

use std::collections::BTreeMap;

/// One thread at one reading.
#[derive(Clone, Debug)]
pub struct ThreadStat {
    pub pid: u32,
    pub tid: u32,
    pub comm: String,
    pub cpu_ns: u64,
    /// Voluntary context switches: each is one sleep, so one wake-up after it.
    pub sleeps: u64,
}

/// Every thread of the sampled processes at one moment of the node's clock.
#[derive(Clone, Debug)]
pub struct Sample {
    pub t_ns: u64,
    /// The machine's CPU time, all CPUs, in clock ticks: (busy, total).
    pub machine: (u64, u64),
    pub threads: Vec<ThreadStat>,
    /// Healthchecks answered so far, by pid, of the processes that count them (amf_floor).
    pub healthchecks: BTreeMap<u32, u64>,
}

/// The thread classes a process's CPU is broken down into, in report order.
pub const CLASSES: [&str; 4] = ["AMF thread", "OpenSAF library", "netlink", "sync"];

/// macsync names its own threads; the main thread polls AMF (in amf_floor too); any other
/// thread belongs to OpenSAF's libraries (the AMF agent's transport thread).
pub fn class(t: &ThreadStat) -> &'static str {
    match t.comm.as_str() {
        _ if t.tid == t.pid => CLASSES[0],
        "macsync-netlink" => CLASSES[2],
        "macsync-sync" => CLASSES[3],
        _ => CLASSES[1],
    }
}

/// The shell script that prints a [`Sample`] of `pids` (run on the node): the clock, one line
/// per thread, one `hc PID COUNT` line per process with a healthcheck counter.
pub fn script(pids: &[u32]) -> String {
    let pids: Vec<String> = pids.iter().map(u32::to_string).collect();
    format!(
        "date +%s%N; head -1 /proc/stat; for p in {}; do for t in /proc/$p/task/*; do \
           read -r cpu _ < $t/schedstat; read -r comm < $t/comm; vol=; \
           while read -r k v; do case $k in voluntary_ctxt_switches:) vol=$v;; esac; \
           done < $t/status; echo \"$p ${{t##*/}} $cpu $vol $comm\"; done; \
           c=/dev/shm/amf_floor.$p; [ -e $c ] && echo \"hc $p $(od -An -tu8 -N8 $c)\"; done; true",
        pids.join(" ")
    )
}

/// Parses the output of [`script`]; every pid must have at least one thread.
pub fn parse(out: &str, pids: &[u32]) -> Result<Sample, String> {
    let mut lines = out.lines();
    let t_ns = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .ok_or_else(|| format!("no clock reading in {out:?}"))?;
    let machine = lines
        .next()
        .and_then(machine_time)
        .ok_or_else(|| format!("no /proc/stat line in {out:?}"))?;
    let mut threads = Vec::new();
    let mut healthchecks = BTreeMap::new();
    for line in lines {
        let f: Vec<&str> = line.split_whitespace().collect();
        let num = |i: usize| f.get(i).and_then(|s| s.parse::<u64>().ok());
        if f.first() == Some(&"hc") {
            match (num(1), num(2)) {
                (Some(pid), Some(n)) => healthchecks.insert(pid as u32, n),
                _ => return Err(format!("unreadable counter line {line:?}")),
            };
            continue;
        }
        match (num(0), num(1), num(2), num(3), f.len() >= 5) {
            (Some(pid), Some(tid), Some(cpu_ns), Some(sleeps), true) => threads.push(ThreadStat {
                pid: pid as u32,
                tid: tid as u32,
                comm: f[4..].join(" "),
                cpu_ns,
                sleeps,
            }),
            _ => return Err(format!("unreadable thread line {line:?}")),
        }
    }
    for p in pids {
        if !threads.iter().any(|t| t.pid == *p) {
            return Err(format!("process {p} is gone"));
        }
    }
    Ok(Sample {
        t_ns,
        machine,
        threads,
        healthchecks,
    })
}

/// (busy, total) ticks from the `cpu` line of /proc/stat: idle and iowait are not busy.
fn machine_time(line: &str) -> Option<(u64, u64)> {
    let ticks: Vec<u64> = line
        .strip_prefix("cpu ")?
        .split_whitespace()
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal (guest time is inside user).
    let total: u64 = ticks.iter().take(8).sum();
    Some((total - ticks.get(3)? - ticks.get(4)?, total))
}

/// The machine's busy share of its CPU time between two samples, in percent.
pub fn machine_busy_pct(a: &Sample, b: &Sample) -> f64 {
    let busy = b.machine.0.saturating_sub(a.machine.0);
    let total = b.machine.1.saturating_sub(a.machine.1).max(1);
    busy as f64 * 100.0 / total as f64
}

/// What one process used between two samples: CPU ns and sleeps, per class and in all.
#[derive(Clone, Debug, Default)]
pub struct Usage {
    pub classes: BTreeMap<&'static str, (u64, u64)>,
    pub cpu_ns: u64,
    pub sleeps: u64,
    /// Healthchecks it answered, if it counts them.
    pub healthchecks: Option<u64>,
}

/// A thread that appeared during the window counts from zero; one that ended is lost
/// (macsync and amf_floor start no threads while idle).
pub fn usage(a: &Sample, b: &Sample, pid: u32) -> Usage {
    let mut u = Usage::default();
    for t in b.threads.iter().filter(|t| t.pid == pid) {
        let before = a.threads.iter().find(|s| s.tid == t.tid);
        let cpu = t.cpu_ns - before.map_or(0, |s| s.cpu_ns.min(t.cpu_ns));
        let sleeps = t.sleeps - before.map_or(0, |s| s.sleeps.min(t.sleeps));
        let e = u.classes.entry(class(t)).or_default();
        e.0 += cpu;
        e.1 += sleeps;
        u.cpu_ns += cpu;
        u.sleeps += sleeps;
    }
    if let (Some(x), Some(y)) = (a.healthchecks.get(&pid), b.healthchecks.get(&pid)) {
        u.healthchecks = Some(y.saturating_sub(*x));
    }
    u
}
