//! `cargo bench --bench links`: snapshot cost against `ip link list`, kernel-change-to-flag
//! latency, dumps taken for ordinary changes (none: the monitor's cache is the sync's source,
//! so the dump's own cost, bounded by the kernel, is paid only at start and on resync), idle
//! wake-ups of the monitor thread, and memory. Runs in its own network namespace (needs
//! root) with 10 000 veth links.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod support;

use support::{median, parse_ip_text, percentile};

use macsync::flag::ChangeFlag;
use macsync::netlink::{LinkFilter, LinkSetter, Monitor, MonitorOptions, Snapshotter};
use macsync::sys::unshare_netns;

const PAIRS: usize = 5000;
const LINKS: usize = 2 * PAIRS;
const ITERATIONS: usize = 9;
const MAC_CHANGES: usize = 1000;
const IDLE: Duration = Duration::from_secs(10);

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() {
    if let Err(e) = unshare_netns() {
        eprintln!("links bench: cannot create a network namespace (needs root): {e}");
        std::process::exit(1);
    }
    if let Err(e) = run() {
        eprintln!("links bench: {e}");
        std::process::exit(1);
    }
}

fn run() -> Res<()> {
    let t = Instant::now();
    create_links()?;
    println!(
        "setup: {LINKS} veth links in {:.2} s",
        t.elapsed().as_secs_f64()
    );

    // Snapshot + filter, the way the component uses it: one Snapshotter, reused.
    let mut snap = Snapshotter::new()?;
    let filter = LinkFilter::default();
    let mut snap_ms = Vec::new();
    for i in 0..=ITERATIONS {
        let t = Instant::now();
        let mut links = snap.dump()?;
        filter.retain(&mut links);
        let ms = t.elapsed().as_secs_f64() * 1e3;
        if links.len() != LINKS {
            return Err(format!("snapshot found {} Ethernet links", links.len()).into());
        }
        // The first run warms caches and the allocator; it is not counted.
        if i > 0 {
            snap_ms.push(ms);
        }
    }

    // The old way: run `ip link list` and pick "link/ether" lines out of its text.
    let mut ip_ms = Vec::new();
    for i in 0..=ITERATIONS {
        let t = Instant::now();
        let out = Command::new("ip").args(["link", "list"]).output()?;
        if !out.status.success() {
            return Err("ip link list failed".into());
        }
        let pairs = parse_ip_text(&String::from_utf8_lossy(&out.stdout));
        let ms = t.elapsed().as_secs_f64() * 1e3;
        if pairs.len() != LINKS {
            return Err(format!("ip link list parse found {} links", pairs.len()).into());
        }
        if i > 0 {
            ip_ms.push(ms);
        }
    }

    // Kernel change -> flag latency.
    let flag = Arc::new(ChangeFlag::new_clear());
    let mon = Monitor::spawn(Arc::clone(&flag), MonitorOptions::default())?;
    let target = snap
        .dump()?
        .into_iter()
        .find(|l| l.name == b"la0")
        .ok_or("link la0 not found")?;
    let mut setter = LinkSetter::new()?;
    let mut lat_us = Vec::with_capacity(MAC_CHANGES);
    let mut missed = 0;
    let before = mon.stats();
    for i in 0..MAC_CHANGES {
        // Distinct every time, so every request is a real change.
        let mac = [0x02, 0x42, 0, (i >> 8) as u8, i as u8, 0x01];
        flag.take();
        let t = Instant::now();
        let seq = setter.send_set_address(target.ifindex, &mac)?;
        while !flag.is_raised() {
            if t.elapsed() > Duration::from_secs(1) {
                missed += 1;
                break;
            }
            std::hint::spin_loop();
        }
        lat_us.push(t.elapsed().as_secs_f64() * 1e6);
        setter.wait_ack(seq)?;
    }
    let after = mon.stats();
    flag.take();

    // Idle: the monitor thread must not wake at all.
    let tid = mon.thread_tid();
    std::thread::sleep(Duration::from_millis(200));
    let (vol0, invol0) = ctxt_switches(tid)?;
    std::thread::sleep(IDLE);
    let (vol1, invol1) = ctxt_switches(tid)?;
    let idle_wakeups = vol1 - vol0;
    let rss = rss_kib()?;

    let snap_med = median(&mut snap_ms);
    let ip_med = median(&mut ip_ms);
    let ratio = ip_med / snap_med;
    let p50 = percentile(&mut lat_us, 50.0);
    let p99 = percentile(&mut lat_us, 99.0);
    let pmax = percentile(&mut lat_us, 100.0);

    println!();
    println!(
        "{:<44} {:>12} {:>10} {:>5}",
        "metric", "value", "goal", "ok"
    );
    let row = |name: &str, value: String, goal: &str, ok: Option<bool>| {
        let ok = match ok {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "",
        };
        println!("{name:<44} {value:>12} {goal:>10} {ok:>5}");
    };
    row(
        &format!("snapshot+filter median of {ITERATIONS} (ms)"),
        format!("{snap_med:.2}"),
        "",
        None,
    );
    row(
        "snapshot+filter min / max (ms)",
        format!(
            "{:.2}/{:.2}",
            snap_ms.first().unwrap_or(&0.0),
            snap_ms.last().unwrap_or(&0.0)
        ),
        "",
        None,
    );
    row(
        &format!("ip link list + text parse median of {ITERATIONS} (ms)"),
        format!("{ip_med:.2}"),
        "",
        None,
    );
    row(
        "ip link list + text parse min / max (ms)",
        format!(
            "{:.2}/{:.2}",
            ip_ms.first().unwrap_or(&0.0),
            ip_ms.last().unwrap_or(&0.0)
        ),
        "",
        None,
    );
    row("ratio ip / snapshot", format!("{ratio:.1}"), "", None);
    row(
        "monitor dumps for the MAC changes",
        (after.dumps - before.dumps).to_string(),
        "0",
        Some(after.dumps == before.dumps),
    );
    row(
        &format!("flag latency p50 over {MAC_CHANGES} MAC changes (us)"),
        format!("{p50:.1}"),
        "",
        None,
    );
    row(
        "flag latency p99 (us)",
        format!("{p99:.1}"),
        "< 1000",
        Some(p99 < 1000.0),
    );
    row("flag latency max (us)", format!("{pmax:.1}"), "", None);
    row(
        "MAC changes never flagged (1 s timeout)",
        missed.to_string(),
        "0",
        Some(missed == 0),
    );
    row(
        "monitor events / changes during latency run",
        format!(
            "{}/{}",
            after.events - before.events,
            after.changes - before.changes
        ),
        "",
        None,
    );
    row(
        "monitor overruns",
        after.overruns.to_string(),
        "0",
        Some(after.overruns == 0),
    );
    row(
        "monitor rcvbuf effective (bytes)",
        after.rcvbuf_effective.to_string(),
        "",
        None,
    );
    row(
        &format!("monitor voluntary ctx switches, {} s idle", IDLE.as_secs()),
        idle_wakeups.to_string(),
        "0",
        Some(idle_wakeups == 0),
    );
    row(
        "monitor involuntary ctx switches, idle",
        (invol1 - invol0).to_string(),
        "",
        None,
    );
    row("process VmRSS (KiB)", rss.to_string(), "", None);
    println!();
    println!(
        "links={LINKS} snapshot_ms={snap_med:.2} ip_link_ms={ip_med:.2} ratio={ratio:.1} \
         dumps_for_changes={} flag_p50_us={p50:.1} flag_p99_us={p99:.1} \
         idle_wakeups_10s={idle_wakeups} rss_kib={rss}",
        after.dumps - before.dumps
    );
    mon.stop();
    Ok(())
}

fn create_links() -> Res<()> {
    let mut script = String::new();
    for i in 0..PAIRS {
        script.push_str(&format!("link add la{i} type veth peer name lb{i}\n"));
    }
    let mut child = Command::new("ip")
        .args(["-batch", "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .ok_or("ip stdin")?
        .write_all(script.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(format!(
            "ip -batch failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    Ok(())
}

fn ctxt_switches(tid: i32) -> Res<(u64, u64)> {
    let s = std::fs::read_to_string(format!("/proc/self/task/{tid}/status"))?;
    let field = |key: &str| -> Res<u64> {
        s.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| format!("{key} missing from status of thread {tid}").into())
    };
    Ok((
        field("voluntary_ctxt_switches:")?,
        field("nonvoluntary_ctxt_switches:")?,
    ))
}

fn rss_kib() -> Res<u64> {
    let s = std::fs::read_to_string("/proc/self/status")?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "VmRSS missing from /proc/self/status".into())
}
