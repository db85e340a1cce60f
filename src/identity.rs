//! Which node this macsync speaks for: the `<node>` of `macSyncNodeId=<node>` and of the
//! implementer name `macsync-<node>`.
//!
//! Sources, first that gives a name wins:
//! 1. `--node` / `MACSYNC_NODE`;
//! 2. under AMF: the AMF node hosting the component's SU (`saAmfSUHostedByNode` of the SU
//!    in the component's own DN), read from IMM ([`under_amf`]);
//! 3. outside AMF (`--once`, `--purge`, `--sim`): `node_name` in OpenSAF's configuration
//!    directory, found as the install finds it ([`conf_dir`]), then the short host name with
//!    a warning ([`offline`]).
//!
//! The host name is never used under AMF: two containers or clones share host names, and
//! the AMF node is what CLM and the other nodes know this node as.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::osaf::{Dn, Error, ImmOm, MAX_LONG_DN};

/// The SU attribute naming the AMF node it is instantiated on.
pub const SU_HOSTED_BY: &str = "saAmfSUHostedByNode";
/// Where OpenSAF's installs put `osafdir.conf` (after `$OPENSAF_PREFIX/etc/opensaf/`).
pub const OSAFDIR_CONF_PLACES: [&str; 2] = [
    "/etc/opensaf/osafdir.conf",
    "/opt/opensaf/etc/opensaf/osafdir.conf",
];
/// The configuration directory of a default install, when nothing else names one.
pub const DEFAULT_CONF_DIR: &str = "/etc/opensaf";

/// Where a node name came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `--node` or `MACSYNC_NODE`.
    Configured,
    /// `saAmfSUHostedByNode` of this SU.
    AmfNode { su: String },
    /// A `node_name` file, as OpenSAF reads it (its first word).
    NodeNameFile(PathBuf),
    /// The short host name (outside AMF only).
    HostName,
}

/// A node name and its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub source: Source,
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node name '{}' ", self.name)?;
        match &self.source {
            Source::Configured => f.write_str("from --node / MACSYNC_NODE"),
            Source::AmfNode { su } => write!(f, "from {SU_HOSTED_BY} of {su}"),
            Source::NodeNameFile(p) => write!(f, "from {}", p.display()),
            Source::HostName => f.write_str(
                "from the host name (no --node, MACSYNC_NODE or OpenSAF node_name file found)",
            ),
        }
    }
}

impl Identity {
    /// The one log line that says which source gave the name (a warning for the host name).
    pub fn log(&self) {
        if self.source == Source::HostName {
            log::warn!("{self}");
        } else {
            log::info!("{self}");
        }
    }
}

/// What identity resolution reads from the machine (tests give a fake).
pub trait Host {
    fn var(&self, name: &str) -> Option<String>;
    fn read(&self, path: &Path) -> Option<String>;
    fn host_name(&self) -> Option<String>;
}

/// The real machine.
pub struct System;

impl Host for System {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn read(&self, path: &Path) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }

    fn host_name(&self) -> Option<String> {
        self.read(Path::new("/proc/sys/kernel/hostname"))
    }
}

/// OpenSAF's configuration directory: `OPENSAF_CONF_DIR`, else `pkgsysconfdir` of the first
/// `osafdir.conf` found (`$OPENSAF_PREFIX/etc/opensaf/`, then [`OSAFDIR_CONF_PLACES`]), else
/// [`DEFAULT_CONF_DIR`].
pub fn conf_dir(host: &dyn Host) -> PathBuf {
    if let Some(dir) = host
        .var("OPENSAF_CONF_DIR")
        .filter(|d| !d.trim().is_empty())
    {
        return PathBuf::from(dir.trim());
    }
    let prefixed = host
        .var("OPENSAF_PREFIX")
        .filter(|p| !p.trim().is_empty())
        .map(|p| Path::new(p.trim()).join("etc/opensaf/osafdir.conf"));
    prefixed
        .into_iter()
        .chain(OSAFDIR_CONF_PLACES.iter().map(PathBuf::from))
        .find_map(|conf| host.read(&conf).and_then(|t| pkgsysconfdir(&t)))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONF_DIR))
}

/// `pkgsysconfdir` as a shell sourcing `osafdir.conf` would set it, without running one:
/// `name=value` lines, values optionally quoted, `$name` / `${name}` of earlier lines
/// expanded. None when it is not set or uses anything else a shell would do (`$(...)`,
/// an unknown variable).
pub fn pkgsysconfdir(text: &str) -> Option<PathBuf> {
    let mut vars: Vec<(String, Option<String>)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        if line.starts_with('#') {
            continue;
        }
        let Some((name, raw)) = line.split_once('=') else {
            continue;
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            continue;
        }
        let value = shell_value(raw.trim_end(), &vars);
        vars.retain(|(n, _)| n != name);
        vars.push((name.to_string(), value));
    }
    vars.into_iter()
        .find(|(n, _)| n == "pkgsysconfdir")
        .and_then(|(_, v)| v)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// One assignment's value: `"..."` (with `$` expansion), `'...'` (literal) or a bare word.
fn shell_value(raw: &str, vars: &[(String, Option<String>)]) -> Option<String> {
    if let Some(inner) = raw.strip_prefix('\'') {
        return inner.strip_suffix('\'').map(str::to_string);
    }
    let inner = match raw.strip_prefix('"') {
        Some(rest) => rest.strip_suffix('"')?,
        None if raw.contains(char::is_whitespace) || raw.contains(['"', '\'', '`', ';']) => {
            return None
        }
        None => raw,
    };
    if inner.contains(['`', '\\']) {
        return None;
    }
    let mut out = String::new();
    let mut rest = inner;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        let (name, tail) = match rest.strip_prefix('{') {
            Some(r) => {
                let end = r.find('}')?;
                (&r[..end], &r[end + 1..])
            }
            None => {
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        let value = vars
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())?;
        out.push_str(value);
        rest = tail;
    }
    out.push_str(rest);
    Some(out)
}

/// The node name in a `node_name` file's text: its first word, as OpenSAF reads it.
pub fn first_word(text: &str) -> Option<String> {
    text.split_whitespace().next().map(str::to_string)
}

/// The node name outside AMF: `explicit` (from `--node` / `MACSYNC_NODE`), else `node_name`
/// in [`conf_dir`], else the short host name (as OpenSAF itself defaults it).
pub fn offline(explicit: &str, host: &dyn Host) -> Result<Identity, String> {
    if !explicit.is_empty() {
        return Ok(configured(explicit));
    }
    let file = conf_dir(host).join("node_name");
    if let Some(name) = host.read(&file).as_deref().and_then(first_word) {
        return Ok(Identity {
            name,
            source: Source::NodeNameFile(file),
        });
    }
    let host_name = host
        .host_name()
        .as_deref()
        .and_then(first_word)
        .map(|h| h.split('.').next().unwrap_or_default().to_string())
        .filter(|h| !h.is_empty())
        .ok_or_else(|| {
            format!(
                "no node name: give --node (or MACSYNC_NODE); {} does not exist and the host name is empty",
                file.display()
            )
        })?;
    Ok(Identity {
        name: host_name,
        source: Source::HostName,
    })
}

fn configured(name: &str) -> Identity {
    Identity {
        name: name.to_string(),
        source: Source::Configured,
    }
}

/// The SU of a component DN (`safComp=...,safSu=SC-1,safSg=...` -> `safSu=SC-1,safSg=...`).
pub fn su_of(component: &str) -> Result<Dn, String> {
    let comp = Dn::parse(component, MAX_LONG_DN)
        .map_err(|e| format!("component name '{component}': {e}"))?;
    comp.parent()
        .filter(|su| su.rdn().starts_with("safSu="))
        .ok_or_else(|| format!("component name '{component}' has no safSu= parent"))
}

/// The AMF node name in `saAmfSUHostedByNode` (`safAmfNode=SC-1,safAmfCluster=...` -> `SC-1`).
pub fn amf_node_name(hosted_by: &str) -> Result<String, String> {
    let dn = Dn::parse(hosted_by, MAX_LONG_DN)
        .map_err(|e| format!("{SU_HOSTED_BY} '{hosted_by}': {e}"))?;
    if !dn.rdn().starts_with("safAmfNode=") {
        return Err(format!(
            "{SU_HOSTED_BY} '{hosted_by}' is not a safAmfNode DN"
        ));
    }
    Ok(dn.rdn_value())
}

/// Why the AMF node could not be read.
#[derive(Debug)]
pub enum AmfIdentityError {
    /// IMM failed (transient codes already retried by the OM handle's policy; BAD_HANDLE
    /// and TIMEOUT are the caller's to recover as for any IMM read).
    Imm(Error),
    /// The SU exists but names no node yet: try again shortly.
    NotYet(String),
    /// It will not work however often it is tried: end with this one-line message.
    Invalid(String),
}

impl fmt::Display for AmfIdentityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AmfIdentityError::Imm(e) => write!(f, "reading this node's AMF node from IMM: {e}"),
            AmfIdentityError::NotYet(s) | AmfIdentityError::Invalid(s) => f.write_str(s),
        }
    }
}

/// The node name under AMF: `explicit` (from `--node` / `MACSYNC_NODE`), else the AMF node
/// hosting `component`'s SU, read from IMM. Never the host name.
pub fn under_amf(
    explicit: &str,
    component: &str,
    om: &ImmOm,
) -> Result<Identity, AmfIdentityError> {
    if !explicit.is_empty() {
        return Ok(configured(explicit));
    }
    let su = su_of(component).map_err(AmfIdentityError::Invalid)?;
    let obj = om
        .get(&su, Some(&[SU_HOSTED_BY]))
        .map_err(AmfIdentityError::Imm)?
        .ok_or_else(|| {
            AmfIdentityError::Invalid(format!(
                "{su} (the SU of component {component}) does not exist in IMM; give --node"
            ))
        })?;
    let hosted_by = obj
        .attr(SU_HOSTED_BY)
        .and_then(|a| a.values.first())
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| AmfIdentityError::NotYet(format!("{SU_HOSTED_BY} of {su} is empty")))?;
    let name = amf_node_name(hosted_by).map_err(AmfIdentityError::Invalid)?;
    Ok(Identity {
        name,
        source: Source::AmfNode { su: su.to_string() },
    })
}

#[cfg(test)]
mod tests;
