//! Shared by the benchmarks: the old way (`ip link list` + text parse) and statistics.
#![allow(dead_code)]

use std::process::Command;
use std::time::Instant;

/// The shell way: remember the name from "N: name[@peer]: <...>" lines, take the address from
/// the following "link/ether ADDR brd ..." line.
pub fn parse_ip_text(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut name = String::new();
    for line in text.lines() {
        if line.starts_with(|c: char| c.is_ascii_digit()) {
            if let Some(n) = line.split(": ").nth(1) {
                name = n.split('@').next().unwrap_or(n).to_string();
            }
        } else if let Some(rest) = line.trim_start().strip_prefix("link/ether ") {
            let mac = rest.split_whitespace().next().unwrap_or("").to_string();
            out.push((name.clone(), mac));
        }
    }
    out
}

/// One poll the old way: fork+exec `ip link list`, parse its text. Returns (ms, links).
pub fn ip_link_poll() -> Result<(f64, usize), String> {
    let t = Instant::now();
    let out = Command::new("ip")
        .args(["link", "list"])
        .output()
        .map_err(|e| format!("ip: {e}"))?;
    if !out.status.success() {
        return Err("ip link list failed".into());
    }
    let n = parse_ip_text(&String::from_utf8_lossy(&out.stdout)).len();
    Ok((t.elapsed().as_secs_f64() * 1e3, n))
}

pub fn median(v: &mut [f64]) -> f64 {
    percentile(v, 50.0)
}

/// Nearest-rank percentile; sorts `v`.
pub fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}
