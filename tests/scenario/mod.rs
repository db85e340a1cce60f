//! Scenarios written once, run on every backend: the simulator (`tests/component_e2e.rs`) and
//! a real OpenSAF cluster in containers (`tests/cluster.rs`). A backend is one node running
//! macsync under its platform plus a place to read IMM from; a scenario only changes links,
//! looks at the kernel and IMM, and uses the operations both platforms have. A divergence
//! between the simulator and OpenSAF then shows up as a scenario failing on one backend only.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::common::json;

/// (MAC, ifindex, operState) by interface name, the way both the kernel and IMM are compared.
pub type Table = BTreeMap<String, (String, u32, u32)>;

/// One node running macsync, as a scenario sees it.
pub trait Backend {
    /// The healthcheck period in force: a change must be in IMM within it (plus [`Backend::slack`]).
    fn period(&self) -> Duration;
    /// Time for a sync and for one read of IMM and the kernel on this backend.
    fn slack(&self) -> Duration;
    /// Runs `ip ARGS` on the node (its own network namespace; ARGS split at spaces, one
    /// command); returns stdout.
    fn ip(&self, args: &str) -> Result<String, String>;
    /// The node's interface objects in IMM; `None` when its node object does not exist.
    fn imm_links(&self) -> Result<Option<Table>, String>;
    /// One counter attribute of the node object (`syncs`, `objectsCreated`, ...).
    fn counter(&self, name: &str) -> Result<u64, String>;
    /// `immadm -o OP` on the node object; `Err` when IMM or macsync refused it.
    fn admin_op(&self, op: u64) -> Result<(), String>;
    /// SIGKILL macsync; returns once it is dead.
    fn kill_macsync(&self) -> Result<(), String>;
    /// Returns once a new macsync runs after [`Backend::kill_macsync`], started the way the
    /// platform starts it (AMF's component restart on a cluster; the test on the simulator).
    fn macsync_back(&self) -> Result<(), String>;

    /// The node's Ethernet links as the kernel reports them.
    fn kernel_links(&self) -> Result<Table, String> {
        parse_ip_links(&self.ip("-j link show")?)
    }

    /// Waits until IMM mirrors the kernel; returns how long that took. A read that fails (IMM
    /// busy during a failover, say) counts as "not yet".
    fn wait_mirrored(&self, timeout: Duration) -> Result<Duration, String> {
        let t0 = Instant::now();
        loop {
            let read = self.kernel_links().and_then(|k| Ok((k, self.imm_links()?)));
            if let Ok((kernel, Some(imm))) = &read {
                if imm == kernel {
                    return Ok(t0.elapsed());
                }
            }
            if t0.elapsed() >= timeout {
                return Err(match read {
                    Ok((kernel, imm)) => format!(
                        "IMM does not mirror the kernel after {timeout:?}\n kernel: {kernel:?}\n IMM:    {imm:?}"
                    ),
                    Err(e) => format!("no mirror after {timeout:?}; the last read failed: {e}"),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn text_of<'a>(it: &'a json::Value, key: &str) -> Option<&'a str> {
    it.get(key).and_then(json::Value::as_str)
}

/// Ethernet links from `ip -j link show`.
pub fn parse_ip_links(text: &str) -> Result<Table, String> {
    let v = json::parse(text)?;
    let items = v.as_array().ok_or("ip -j link show: not an array")?;
    let mut out = Table::new();
    for it in items {
        if text_of(it, "link_type") != Some("ether") {
            continue;
        }
        let name = text_of(it, "ifname").unwrap_or_default();
        let mac = text_of(it, "address").unwrap_or_default();
        let idx = it
            .get("ifindex")
            .and_then(json::Value::as_int)
            .and_then(|i| u32::try_from(i).ok())
            .unwrap_or(0);
        let oper = oper_state(text_of(it, "operstate").unwrap_or(""));
        out.insert(name.to_string(), (mac.to_string(), idx, oper));
    }
    Ok(out)
}

/// IF_OPER_* from `ip -j`'s operstate.
fn oper_state(s: &str) -> u32 {
    match s {
        "NOTPRESENT" => 1,
        "DOWN" => 2,
        "LOWERLAYERDOWN" => 3,
        "TESTING" => 4,
        "DORMANT" => 5,
        "UP" => 6,
        _ => 0,
    }
}

fn ensure(cond: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(why())
    }
}

/// Add, MAC change, rename, up, down, delete: each in IMM within one healthcheck period (plus
/// the backend's slack). Returns the time each step took.
pub fn link_lifecycle(b: &dyn Backend) -> Result<Vec<(&'static str, Duration)>, String> {
    let steps: [(&str, &str, &str); 7] = [
        ("add", "link add t0 type veth peer name t1", ""),
        ("MAC change", "link set t0 address 02:00:00:c6:12:01", ""),
        ("rename", "link set t1 name lan1", ""),
        ("up", "link set t0 up", "link set lan1 up"),
        ("down", "link set lan1 down", ""),
        ("delete", "link del t0", ""),
        ("add another", "link add d0 type veth peer name d1", ""),
    ];
    b.wait_mirrored(b.period() + b.slack())?;
    let mut times = Vec::new();
    for (what, change, and_then) in steps {
        let t0 = Instant::now();
        b.ip(change)?;
        if !and_then.is_empty() {
            b.ip(and_then)?;
        }
        b.wait_mirrored(b.period() + b.slack())
            .map_err(|e| format!("{what}: {e}"))?;
        times.push((what, t0.elapsed()));
        // What the step must have produced, so that "mirrored" compared something.
        let imm = b.imm_links()?.unwrap_or_default();
        let expected = match what {
            "add" => imm.contains_key("t0") && imm.contains_key("t1"),
            "MAC change" => imm.get("t0").is_some_and(|v| v.0 == "02:00:00:c6:12:01"),
            "rename" => imm.contains_key("lan1") && !imm.contains_key("t1"),
            "up" => imm.get("t0").is_some_and(|v| v.2 == 6),
            // t0's peer went down: t0 is LOWERLAYERDOWN (3), lan1 DOWN (2).
            "down" => {
                imm.get("t0").is_some_and(|v| v.2 == 3) && imm.get("lan1").is_some_and(|v| v.2 == 2)
            }
            "delete" => !imm.contains_key("t0") && !imm.contains_key("lan1"),
            _ => imm.contains_key("d0"),
        };
        ensure(expected, || format!("after {what}, IMM holds {imm:?}"))?;
    }
    Ok(times)
}

/// macsync killed with SIGKILL and started again: a change made right after the kill is in
/// IMM once it is back, and its counters carry on from IMM's (cumulative across restarts).
pub fn restart_after_sigkill_reconciles(b: &dyn Backend) -> Result<(), String> {
    b.ip("link add k0 type veth peer name k1")?;
    b.wait_mirrored(b.period() + b.slack())?;
    let created = b.counter("objectsCreated")?;
    b.kill_macsync()?;
    b.ip("link del k0")?;
    b.ip("link add k2 type veth peer name k3")?;
    b.macsync_back()?;
    b.wait_mirrored(Duration::from_secs(30))?;
    let imm = b.imm_links()?.unwrap_or_default();
    ensure(
        !imm.contains_key("k0") && imm.contains_key("k2") && imm.contains_key("k3"),
        || format!("after the restart IMM holds {imm:?}"),
    )?;
    let after = b.counter("objectsCreated")?;
    ensure(after >= created + 2, || {
        format!("objectsCreated went from {created} to {after}: counters must carry on")
    })
}

/// Admin operation 1 on the node object answers once a full sync is done; others are refused.
pub fn admin_resync(b: &dyn Backend) -> Result<(), String> {
    let before = b.counter("syncs")?;
    b.admin_op(1)?;
    let after = b.counter("syncs")?;
    ensure(after > before, || {
        format!("admin operation 1 returned but no sync was counted ({before} -> {after})")
    })?;
    ensure(b.admin_op(99).is_err(), || {
        "admin operation 99 must be refused".into()
    })
}
