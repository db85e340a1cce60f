//! The benchmark's tables (Markdown, ready for the README) and its summary line.

use crate::sample::{Usage, CLASSES};
use crate::support::median;

/// One node in one window: what each process used.
pub struct Round {
    pub node: &'static str,
    pub elapsed_ns: u64,
    /// How busy the whole machine was (all its CPUs, every container and the host).
    pub machine_busy_pct: f64,
    pub macsync: Usage,
    /// amf_floor and its twin (the same program, a second component on the node).
    pub floor: [Usage; 2],
}

impl Round {
    /// The node's healthchecks in the window, as both amf_floor instances counted them
    /// (macsync has the same period).
    fn healthchecks(&self) -> f64 {
        self.floor
            .iter()
            .map(|u| u.healthchecks.unwrap_or(0))
            .sum::<u64>() as f64
            / 2.0
    }

    /// `x` per healthcheck, healthchecks coming every `interval_ns`.
    pub fn per_hc(&self, x: u64, interval_ns: f64) -> f64 {
        x as f64 * interval_ns / self.elapsed_ns as f64
    }
}

/// The mean healthcheck interval over `rounds`, which is longer than the configured period.
pub fn interval_ns(rounds: &[&Round]) -> f64 {
    let hcs: f64 = rounds.iter().map(|r| r.healthchecks()).sum();
    let ns: u64 = rounds.iter().map(|r| r.elapsed_ns).sum();
    ns as f64 / hcs.max(1.0)
}

/// One process in one round, with the node's healthcheck interval.
#[derive(Clone, Copy)]
struct Obs<'a> {
    round: &'a Round,
    usage: &'a Usage,
    interval_ns: f64,
}

impl Obs<'_> {
    /// (CPU us, wake-ups) per healthcheck of a thread class, or of the whole process.
    fn per_hc(&self, class: Option<&str>) -> (f64, f64) {
        let (cpu, wakes) = match class {
            None => (self.usage.cpu_ns, self.usage.sleeps),
            Some(c) => self.usage.classes.get(c).copied().unwrap_or_default(),
        };
        let f = |x| self.round.per_hc(x, self.interval_ns);
        (f(cpu) / 1e3, f(wakes))
    }
}

/// The observations of node `k`.
fn of<'a>(v: &[(usize, Obs<'a>)], k: usize) -> Vec<Obs<'a>> {
    v.iter().filter(|(n, _)| *n == k).map(|(_, o)| *o).collect()
}

fn med(obs: &[Obs], class: Option<&str>) -> (f64, f64) {
    let (mut cpu, mut wakes): (Vec<f64>, Vec<f64>) = obs.iter().map(|o| o.per_hc(class)).unzip();
    (median(&mut cpu), median(&mut wakes))
}

/// Prints the tables and returns the summary line.
pub fn print(rounds: &[Round], nodes: &[(&'static str, String)]) -> String {
    let mut macsync = Vec::new();
    let mut floor = Vec::new();
    let mut twin_ratios = Vec::new();
    println!("\nCPU per healthcheck (us), whole process, all read in the same windows:\n");
    println!("| round | node | machine busy | macsync | amf_floor | amf_floor twin |");
    println!("|---|---|---|---|---|---|");
    let intervals: Vec<f64> = nodes
        .iter()
        .map(|(n, _)| interval_ns(&rounds.iter().filter(|r| r.node == *n).collect::<Vec<_>>()))
        .collect();
    for (i, r) in rounds.iter().enumerate() {
        let k = nodes.iter().position(|(n, _)| *n == r.node).unwrap_or(0);
        let obs = |usage| Obs {
            round: r,
            usage,
            interval_ns: intervals[k],
        };
        let us = |o: Obs| o.per_hc(None).0;
        println!(
            "| {} | {} | {:.0} % | {:.1} | {:.1} | {:.1} |",
            i / nodes.len() + 1,
            nodes[k].1,
            r.machine_busy_pct,
            us(obs(&r.macsync)),
            us(obs(&r.floor[0])),
            us(obs(&r.floor[1]))
        );
        macsync.push((k, obs(&r.macsync)));
        floor.extend(r.floor.iter().map(|u| (k, obs(u))));
    }

    println!(
        "\nMedians of the rounds (amf_floor: both instances); the parts need not add up; \
         wake-ups: voluntary context switches:\n"
    );
    println!("| node | process | thread | CPU us per healthcheck | wake-ups per healthcheck |");
    println!("|---|---|---|---|---|");
    for (k, (_, label)) in nodes.iter().enumerate() {
        for (name, obs) in [("macsync", of(&macsync, k)), ("amf_floor", of(&floor, k))] {
            let (cpu, wakes) = med(&obs, None);
            println!("| {label} | {name} | all | {cpu:.1} | {wakes:.2} |");
            for c in CLASSES {
                if obs.iter().any(|o| o.usage.classes.contains_key(c)) {
                    let (cpu, wakes) = med(&obs, Some(c));
                    println!("| {label} | {name} | {c} | {cpu:.1} | {wakes:.2} |");
                }
            }
        }
        let mut twins: Vec<f64> = rounds
            .iter()
            .filter(|r| r.node == nodes[k].0)
            .map(|r| r.floor[1].cpu_ns as f64 / r.floor[0].cpu_ns.max(1) as f64)
            .collect();
        let twin = median(&mut twins);
        println!("| {label} | amf_floor twin / amf_floor | all (median of rounds) | {twin:.2} | |");
        twin_ratios.push(twin);
        println!(
            "| {label} | healthcheck interval | | {:.3} s | |",
            intervals[k] / 1e9
        );
    }

    let all =
        |v: &[(usize, Obs)], class| med(&v.iter().map(|(_, o)| *o).collect::<Vec<_>>(), class).0;
    let (m, f) = (all(&macsync, None), all(&floor, None));
    let (ma, fa) = (
        all(&macsync, Some(CLASSES[0])),
        all(&floor, Some(CLASSES[0])),
    );
    let twin_worst = twin_ratios
        .iter()
        .copied()
        .max_by(|a, b| (a - 1.0).abs().total_cmp(&(b - 1.0).abs()))
        .unwrap_or(1.0);
    println!(
        "\ngoal: macsync within 10 % of the floor (ratio <= 1.10): {}",
        if m / f <= 1.10 { "met" } else { "not met" }
    );
    let interval = interval_ns(&rounds.iter().collect::<Vec<_>>());
    let busy = median(
        &mut rounds
            .iter()
            .map(|r| r.machine_busy_pct)
            .collect::<Vec<_>>(),
    );
    format!(
        "floor_us={f:.1} macsync_us={m:.1} ratio={:.2} amf_thread_floor_us={fa:.1} \
         amf_thread_macsync_us={ma:.1} amf_thread_ratio={:.2} twin_worst={twin_worst:.2} \
         rounds={} window_s={:.0} hc_interval_s={:.3} machine_busy_pct={busy:.0}",
        m / f,
        ma / fa,
        rounds.len() / nodes.len().max(1),
        rounds.first().map_or(0.0, |r| r.elapsed_ns as f64 / 1e9),
        interval / 1e9
    )
}
