//! What a reader of IMM on one node saw of another node's mirror, and when: `probe.sh` runs
//! inside the reader's container (no `docker exec` delay between reads) and stamps each change
//! with the time; the containers share the host's clock, so the stamps compare with
//! [`now`] taken here around `docker kill` and `docker start`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::harness::{container, docker, Cluster};

const SCRIPT: &str = include_str!("probe.sh");
const PATH: &str = "/tmp/macsync-probe";

/// Seconds since the epoch, the unit of [`Sample::t`].
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs_f64()
}

/// One reading of a node's mirror that differed from the one before.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// When the read ended: the change happened at or before it.
    pub t: f64,
    /// CLM's `saClmNodeIsMember` of the node.
    pub member: Option<bool>,
    /// `mirrorState`; None when IMM shows `<Empty>`.
    pub state: Option<u32>,
    pub by: String,
    pub implementer: String,
    /// (interface name, `macAddress`) of the node's interface objects.
    pub ifs: Vec<(String, String)>,
}

impl Sample {
    /// The README's reader rule: maintained by `node`'s own live macsync.
    pub fn current(&self, node: &str) -> bool {
        self.state == Some(1) && self.implementer == format!("macsync-{node}")
    }

    /// Marked DEPARTED by one of `survivors`, with no interface object left.
    pub fn departed(&self, survivors: &[&str]) -> bool {
        self.state == Some(3) && survivors.contains(&self.by.as_str()) && self.ifs.is_empty()
    }

    /// An interface object of the node shows `mac` (whatever the node object says).
    pub fn shows_mac(&self, mac: &str) -> bool {
        self.ifs.iter().any(|(_, m)| m.eq_ignore_ascii_case(mac))
    }

    fn parse(line: &str) -> Option<Result<Sample, String>> {
        let (t, rest) = line.split_once(' ')?;
        if rest == "ERR" {
            return None;
        }
        let t = t.parse().ok()?;
        let mut s = Sample {
            t,
            member: None,
            state: None,
            by: String::new(),
            implementer: String::new(),
            ifs: Vec::new(),
        };
        for field in rest.split(' ') {
            let Some((k, v)) = field.split_once('=') else {
                return Some(Err(format!("probe: bad field {field:?} in {line:?}")));
            };
            match k {
                "member" => s.member = v.parse::<u8>().ok().map(|m| m == 1),
                "mirrorState" => s.state = v.parse().ok(),
                "mirrorStateBy" => s.by = v.to_string(),
                "SaImmAttrImplementerName" => s.implementer = v.to_string(),
                "ifs" => {
                    s.ifs = v
                        .split(',')
                        .filter(|i| !i.is_empty())
                        .filter_map(|i| i.split_once('@'))
                        .map(|(n, m)| (n.to_string(), m.to_string()))
                        .collect()
                }
                _ => {}
            }
        }
        Some(Ok(s))
    }
}

/// A probe running on `on`, watching `node`'s mirror; stopped when dropped.
pub struct Probe {
    pub on: &'static str,
    pub node: &'static str,
    container: String,
    out: String,
}

impl Probe {
    /// Starts watching for `secs` seconds; returns once the first reading is in.
    pub fn start(
        c: &Cluster,
        on: &'static str,
        node: &'static str,
        secs: u32,
    ) -> Result<Probe, String> {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let out = format!(
            "/tmp/probe-{node}-{}.out",
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        c.sh(
            on,
            &format!("cat > {PATH} <<'EOF'\n{SCRIPT}EOF\nchmod +x {PATH}; rm -f {out}"),
        )?;
        let container = container(on);
        docker(&[
            "exec",
            "-d",
            &container,
            "sh",
            "-c",
            &format!("echo $$ > {out}.pid; exec {PATH} {node} {secs} > {out} 2>&1"),
        ])?;
        let p = Probe {
            on,
            node,
            container,
            out,
        };
        c.wait_for(
            &format!("the probe of {node} on {on} starts"),
            Duration::from_secs(10),
            || p.samples(c).is_ok_and(|s| !s.is_empty()),
        )?;
        Ok(p)
    }

    /// Everything seen so far, oldest first (failed reads left out).
    pub fn samples(&self, c: &Cluster) -> Result<Vec<Sample>, String> {
        c.sh(self.on, &format!("cat {}", self.out))?
            .lines()
            .filter_map(Sample::parse)
            .collect()
    }

    /// Polls until `cond` holds for what was seen, or `timeout` passes; returns what was seen.
    pub fn wait(
        &self,
        c: &Cluster,
        what: &str,
        timeout: Duration,
        cond: impl Fn(&[Sample]) -> bool,
    ) -> Result<Vec<Sample>, String> {
        let mut seen = Vec::new();
        let waited = c.wait_for(what, timeout, || {
            seen = self.samples(c).unwrap_or_default();
            cond(&seen)
        });
        match waited {
            Ok(_) => Ok(seen),
            Err(e) => Err(format!(
                "{e} (read on {}); seen:\n{}",
                self.on,
                timeline(&seen, seen.first().map_or(0.0, |s| s.t))
            )),
        }
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        let _ = docker(&[
            "exec",
            &self.container,
            "sh",
            "-c",
            &format!("kill $(cat {0}.pid) 2>/dev/null; rm -f {0}.pid", self.out),
        ]);
    }
}

/// The first sample after `t0` for which `pred` holds.
pub fn first_after(s: &[Sample], t0: f64, pred: impl Fn(&Sample) -> bool) -> Option<&Sample> {
    s.iter().find(|x| x.t > t0 && pred(x))
}

/// The sample in force at `t` (the last one read at or before it).
pub fn at(s: &[Sample], t: f64) -> Option<&Sample> {
    s.iter().rev().find(|x| x.t <= t)
}

/// Each sample on one line, its time relative to `t0`, for failure reports.
pub fn timeline(s: &[Sample], t0: f64) -> String {
    s.iter()
        .map(|x| {
            format!(
                "  {:+7.2} s member={:?} state={:?} by={} impl={} ifs={:?}",
                x.t - t0,
                x.member,
                x.state,
                x.by,
                x.implementer,
                x.ifs
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
