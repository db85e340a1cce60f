//! Simulator settings: `<state dir>/config` (`key=value` lines, `#` comments), each
//! overridable by an environment variable `OPENSAF_SIM_<KEY in upper case>`.
//!
//! | key | default | meaning |
//! | --- | --- | --- |
//! | `imm_latency_us` | 0 | emulated cost of each IMM server round trip |
//! | `callback_timeout_ms` | 10000 | how long AMF waits for a CSI/terminate response (then gives the invocation up) |
//! | `csi_name` | `safCsi=macsync,safSi=macsync,safApp=macsync` | CSI given to the component |
//! | `csi_on_register` | 1 | assign the CSI (ACTIVE) right after register |
//! | `clm_leave_ms` | 100 | after `clm leave NODE`, how long until CLM shows the node as not a member (real OpenSAF: within about 2000) |
//! | `imm_release_ms` | 300 | after `clm leave NODE`, how long until IMM releases the implementer names of the node's processes (real OpenSAF: a few seconds; their values read empty about 10000 after the node died, `imm_detach_ms` after the release) |
//! | `imm_strict_create` | 1 | a runtime object create that leaves out a cached attribute without a default answers SA_AIS_ERR_INVALID_PARAM, as real OpenSAF does; 0 takes it |
//! | `imm_detach_ms` | 6000 | how long after an implementer name was let go (process exit, finalize, clear, node release) OM reads still show its runtime objects' cached values (real OpenSAF: 6000 to 7000) |

use std::path::Path;

/// The variable naming the state directory.
pub const DIR_VAR: &str = "OPENSAF_SIM_DIR";
pub const FILE: &str = "config";

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub imm_latency_us: u64,
    pub callback_timeout_ms: u64,
    pub csi_name: String,
    pub csi_on_register: bool,
    pub clm_leave_ms: u64,
    pub imm_release_ms: u64,
    pub imm_detach_ms: u64,
    pub imm_strict_create: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            imm_latency_us: 0,
            callback_timeout_ms: 10_000,
            csi_name: "safCsi=macsync,safSi=macsync,safApp=macsync".to_string(),
            csi_on_register: true,
            clm_leave_ms: 100,
            imm_release_ms: 300,
            imm_detach_ms: 6000,
            imm_strict_create: true,
        }
    }
}

pub const KEYS: &[&str] = &[
    "imm_latency_us",
    "callback_timeout_ms",
    "csi_name",
    "csi_on_register",
    "clm_leave_ms",
    "imm_release_ms",
    "imm_detach_ms",
    "imm_strict_create",
];

fn flag(value: &str) -> bool {
    !matches!(value.trim(), "0" | "false" | "no")
}

impl Config {
    /// Applies one setting; unknown keys and bad values are reported.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let num = || {
            value
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("{key}: '{value}' is not a number"))
        };
        match key {
            "imm_latency_us" => self.imm_latency_us = num()?,
            "callback_timeout_ms" => self.callback_timeout_ms = num()?,
            "csi_name" => self.csi_name = value.trim().to_string(),
            "clm_leave_ms" => self.clm_leave_ms = num()?,
            "imm_release_ms" => self.imm_release_ms = num()?,
            "imm_detach_ms" => self.imm_detach_ms = num()?,
            "csi_on_register" => self.csi_on_register = flag(value),
            "imm_strict_create" => self.imm_strict_create = flag(value),
            _ => {
                return Err(format!(
                    "unknown setting '{key}' (known: {})",
                    KEYS.join(", ")
                ))
            }
        }
        Ok(())
    }

    /// Reads `dir/config` and the environment overrides. Problems are returned beside the
    /// result so a bad line never stops the component.
    pub fn load(dir: &Path) -> (Config, Vec<String>) {
        let mut c = Config::default();
        let mut problems = Vec::new();
        if let Ok(text) = std::fs::read_to_string(dir.join(FILE)) {
            for (n, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                match line.split_once('=') {
                    Some((k, v)) => {
                        if let Err(e) = c.set(k.trim(), v) {
                            problems.push(format!("{FILE} line {}: {e}", n + 1));
                        }
                    }
                    None => problems.push(format!("{FILE} line {}: expected key=value", n + 1)),
                }
            }
        }
        for key in KEYS {
            if let Ok(v) = std::env::var(format!("OPENSAF_SIM_{}", key.to_ascii_uppercase())) {
                if let Err(e) = c.set(key, &v) {
                    problems.push(e);
                }
            }
        }
        (c, problems)
    }

    pub fn render(&self) -> String {
        format!(
            "imm_latency_us={}\ncallback_timeout_ms={}\ncsi_name={}\ncsi_on_register={}\n\
             clm_leave_ms={}\nimm_release_ms={}\nimm_detach_ms={}\nimm_strict_create={}\n",
            self.imm_latency_us,
            self.callback_timeout_ms,
            self.csi_name,
            u8::from(self.csi_on_register),
            self.clm_leave_ms,
            self.imm_release_ms,
            self.imm_detach_ms,
            u8::from(self.imm_strict_create)
        )
    }
}
