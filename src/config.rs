//! Command line and environment. AMF starts the component through the CLC-CLI script with
//! a fixed command line, so every flag also has an environment variable (set on the
//! component type's saAmfCtDefCmdEnv or in the script); a flag wins over its variable.

use std::path::PathBuf;
use std::time::Duration;

use crate::netlink::LinkFilter;

pub const USAGE: &str = "\
usage: macsync [options]            run as an OpenSAF AMF component
       macsync --once [options]     print the link table as it would be written to IMM, and exit
       macsync --sim [DIR] [opts]   run against the built-in OpenSAF simulator (state in DIR)
       macsync --purge [options]    delete this node's objects from IMM (when macsync is stopped)

options (environment variable in brackets):
  --healthcheck-key KEY   AMF healthcheck key [MACSYNC_HEALTHCHECK_KEY] (default: macsync)
  --node NAME             node name for macSyncNodeId [MACSYNC_NODE] (default: under AMF the
                          AMF node hosting this component's SU; otherwise node_name in OpenSAF's
                          configuration directory, else the host name; --purge: whose objects)
  --parent-dn DN          create the node object under DN [MACSYNC_PARENT_DN] (default: IMM root)
  --include GLOBS         only links whose name matches one of the comma-separated globs [MACSYNC_INCLUDE]
  --exclude GLOBS         skip links whose name matches [MACSYNC_EXCLUDE]
  --all-types             all link types, not only Ethernet [MACSYNC_ALL_TYPES=1]
  --long-dns              allow DNs up to 2048 characters (needs IMM longDnsAllowed=1) [MACSYNC_LONG_DNS=1]
  --depart-grace SECS     act for a node that left the cluster after this long [MACSYNC_DEPART_GRACE] (default: 5)
  --depart-stagger SECS   each further surviving node waits this much longer [MACSYNC_DEPART_STAGGER] (default: 3)
  --sync-stuck-secs N     fail the healthcheck when one sync runs longer [MACSYNC_SYNC_STUCK_SECS] (default: 60)
  --log-file PATH         append the log here (AMF discards stdout/stderr) [MACSYNC_LOG_FILE]
  --log-level LEVEL       error|warn|info|debug|trace, or a RUST_LOG filter [RUST_LOG] (default: info)
  -h, --help              this text
  -V, --version           the version
";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Component,
    Once,
    /// Delete this node's objects from IMM (macsync stopped) and exit.
    Purge,
    Sim(Option<PathBuf>),
}

#[derive(Debug, Clone)]
pub struct Config {
    pub mode: Mode,
    pub healthcheck_key: String,
    /// The node name: as given (`--node` / `MACSYNC_NODE`; empty when neither is), until
    /// [`crate::identity`] resolves it and the caller stores the result here.
    pub node: String,
    pub parent_dn: Option<String>,
    pub filter: LinkFilter,
    pub long_dns: bool,
    pub sync_stuck: Duration,
    /// How long a node must have left the CLM cluster before a survivor acts for it.
    pub depart_grace: Duration,
    /// How much later each further surviving node (ranked by name) acts.
    pub depart_stagger: Duration,
    pub log_file: Option<PathBuf>,
    pub log_level: String,
}

/// What the command line asked for.
#[derive(Debug)]
pub enum Command {
    Run(Box<Config>),
    Help,
    Version,
}

fn globs(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(String::from)
        .collect()
}

fn truthy(v: &str) -> bool {
    matches!(v.trim(), "1" | "yes" | "true" | "on")
}

impl Config {
    /// Parses `args` (without `argv[0]`) over the environment read through `env`.
    /// Errors are one line, meant to be printed as `macsync: <error>`.
    pub fn parse(args: &[String], env: &dyn Fn(&str) -> Option<String>) -> Result<Command, String> {
        let mut c = Config {
            mode: Mode::Component,
            healthcheck_key: env("MACSYNC_HEALTHCHECK_KEY").unwrap_or_else(|| "macsync".into()),
            node: env("MACSYNC_NODE").unwrap_or_default(),
            parent_dn: env("MACSYNC_PARENT_DN").filter(|s| !s.is_empty()),
            filter: LinkFilter {
                include: env("MACSYNC_INCLUDE")
                    .map(|s| globs(&s))
                    .unwrap_or_default(),
                exclude: env("MACSYNC_EXCLUDE")
                    .map(|s| globs(&s))
                    .unwrap_or_default(),
                all_types: env("MACSYNC_ALL_TYPES").is_some_and(|v| truthy(&v)),
            },
            long_dns: env("MACSYNC_LONG_DNS").is_some_and(|v| truthy(&v)),
            sync_stuck: Duration::from_secs(60),
            depart_grace: Duration::from_secs(5),
            depart_stagger: Duration::from_secs(3),
            log_file: env("MACSYNC_LOG_FILE")
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
            log_level: env("RUST_LOG")
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "info".into()),
        };
        // Flags win: the variables they override are only read (and checked) without them.
        let mut stuck_flag = false;
        let (mut grace_flag, mut stagger_flag) = (false, false);
        let (mut include_flag, mut exclude_flag) = (false, false);
        let mut i = 0;
        while i < args.len() {
            let arg = args[i].as_str();
            // Accept both `--flag value` and `--flag=value`.
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
                _ => (arg, None),
            };
            let mut value = |name: &str| -> Result<String, String> {
                if let Some(v) = inline.clone() {
                    return Ok(v);
                }
                i += 1;
                args.get(i)
                    .cloned()
                    .ok_or_else(|| format!("{name} needs a value (see --help)"))
            };
            let no_value = matches!(
                flag,
                "--once" | "--purge" | "--all-types" | "--long-dns" | "--help" | "--version"
            );
            if no_value && inline.is_some() {
                return Err(format!("{flag} takes no value (see --help)"));
            }
            match flag {
                "-h" | "--help" => return Ok(Command::Help),
                "-V" | "--version" => return Ok(Command::Version),
                "--once" => c.mode = Mode::Once,
                "--purge" => c.mode = Mode::Purge,
                "--sim" => {
                    let dir = match inline {
                        Some(v) => Some(PathBuf::from(v)),
                        None => match args.get(i + 1) {
                            Some(next) if !next.starts_with('-') => {
                                i += 1;
                                Some(PathBuf::from(next))
                            }
                            _ => None,
                        },
                    };
                    c.mode = Mode::Sim(dir);
                }
                "--healthcheck-key" => c.healthcheck_key = value(flag)?,
                "--node" => c.node = value(flag)?,
                "--parent-dn" => c.parent_dn = Some(value(flag)?).filter(|s| !s.is_empty()),
                "--include" => {
                    let g = globs(&value(flag)?);
                    if !std::mem::replace(&mut include_flag, true) {
                        c.filter.include.clear();
                    }
                    c.filter.include.extend(g);
                }
                "--exclude" => {
                    let g = globs(&value(flag)?);
                    if !std::mem::replace(&mut exclude_flag, true) {
                        c.filter.exclude.clear();
                    }
                    c.filter.exclude.extend(g);
                }
                "--all-types" => c.filter.all_types = true,
                "--long-dns" => c.long_dns = true,
                "--sync-stuck-secs" => {
                    c.sync_stuck = secs(&value(flag)?, flag)?;
                    stuck_flag = true;
                }
                "--depart-grace" => {
                    c.depart_grace = delay(&value(flag)?, flag)?;
                    grace_flag = true;
                }
                "--depart-stagger" => {
                    c.depart_stagger = delay(&value(flag)?, flag)?;
                    stagger_flag = true;
                }
                "--log-file" => c.log_file = Some(PathBuf::from(value(flag)?)),
                "--log-level" => c.log_level = value(flag)?,
                other if other.starts_with('-') => {
                    return Err(format!("unknown flag '{other}' (see --help)"))
                }
                other => return Err(format!("unexpected argument '{other}' (see --help)")),
            }
            i += 1;
        }
        if !stuck_flag {
            if let Some(v) = env("MACSYNC_SYNC_STUCK_SECS") {
                c.sync_stuck = secs(&v, "MACSYNC_SYNC_STUCK_SECS")?;
            }
        }
        if !grace_flag {
            if let Some(v) = env("MACSYNC_DEPART_GRACE") {
                c.depart_grace = delay(&v, "MACSYNC_DEPART_GRACE")?;
            }
        }
        if !stagger_flag {
            if let Some(v) = env("MACSYNC_DEPART_STAGGER") {
                c.depart_stagger = delay(&v, "MACSYNC_DEPART_STAGGER")?;
            }
        }
        let key = &c.healthcheck_key;
        if key.is_empty() || key.len() > 31 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!(
                "healthcheck key '{key}' must be 1 to 31 printable characters (AMF compares keys as C strings)"
            ));
        }
        Ok(Command::Run(Box::new(c)))
    }

    /// The parent DN (if any) and this node's object DN, as IMM will see them (`node` must
    /// have been resolved).
    pub fn node_dns(&self) -> Result<(Option<crate::osaf::Dn>, crate::osaf::Dn), String> {
        let parent = self.parent()?;
        let node = crate::model::node_dn(&self.node, parent.as_ref(), self.max_dn())
            .map_err(|e| format!("node name: {e}"))?;
        Ok((parent, node))
    }

    /// The parent DN (if any), as IMM will see it.
    pub fn parent(&self) -> Result<Option<crate::osaf::Dn>, String> {
        self.parent_dn
            .as_deref()
            .map(|p| crate::osaf::Dn::parse(p, self.max_dn()))
            .transpose()
            .map_err(|e| format!("--parent-dn: {e}"))
    }

    /// The longest DN IMM will take with this configuration.
    pub fn max_dn(&self) -> usize {
        if self.long_dns {
            crate::osaf::MAX_LONG_DN
        } else {
            crate::osaf::MAX_DN
        }
    }
}

/// A delay in whole seconds, 0 allowed (act at once), at most an hour.
fn delay(v: &str, name: &str) -> Result<Duration, String> {
    match v.trim().parse::<u64>() {
        Ok(n) if n <= 3600 => Ok(Duration::from_secs(n)),
        _ => Err(format!(
            "{name} must be a whole number of seconds from 0 to 3600, not '{v}'"
        )),
    }
}

fn secs(v: &str, name: &str) -> Result<Duration, String> {
    match v.trim().parse::<u64>() {
        Ok(n) if n > 0 && n <= 86_400 => Ok(Duration::from_secs(n)),
        _ => Err(format!(
            "{name} must be a whole number of seconds from 1 to 86400, not '{v}'"
        )),
    }
}

#[cfg(test)]
mod tests;
