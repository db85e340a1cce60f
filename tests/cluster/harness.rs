//! A real OpenSAF cluster in Docker containers, driven through `deploy/container/cluster` and
//! `docker exec`: the node image, bringing a cluster up (and always down again), loading
//! macsync's sample model, and reading what the kernel and IMM hold on each node.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::scenario::{parse_ip_links, Backend, Table};

/// Every container and network of the tests carries label `io.macsync.cluster=<this>`.
pub const NAME: &str = "macsync-test";
/// The tests' half of 198.18.0.0/24 (`cluster up`'s default is the other half).
pub const SUBNET: &str = "198.18.0.128/25";
pub const IMAGE: &str = "macsync-opensaf-node:test";
/// The healthcheck period the tests set (the sample's default is 10 s).
pub const PERIOD: Duration = Duration::from_secs(1);
/// Time for a sync and for reading IMM through `docker exec` (several hundred ms per round).
pub const SLACK: Duration = Duration::from_secs(2);
pub const PAYLOAD: &str = "PL-3";
pub const NODES: [&str; 3] = ["SC-1", "SC-2", "PL-3"];

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn cluster_script() -> PathBuf {
    repo().join("deploy/container/cluster")
}

/// Runs a command; `Ok(stdout)` when it exits 0, else `Err` with the command and its output.
pub fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "{cmd:?} failed ({}):\n{}{}",
            out.status,
            stdout,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

pub fn docker(args: &[&str]) -> Result<String, String> {
    run(Command::new("docker").args(args))
}

/// Why the cluster tests cannot run here, if they cannot: `Err(reason)`.
pub fn prerequisites() -> Result<PathBuf, String> {
    docker(&["info", "--format", "{{.ServerVersion}}"])
        .map_err(|_| "no reachable Docker daemon (`docker info` failed)".to_string())?;
    let tarball = match std::env::var_os("MACSYNC_OPENSAF_TARBALL") {
        Some(t) => PathBuf::from(t),
        None => repo().join("../shared/opensaf/opensaf-5.21.03-debian12-x86_64.tar.xz"),
    };
    if !tarball.is_file() {
        return Err(format!(
            "no OpenSAF tarball at {} (set MACSYNC_OPENSAF_TARBALL)",
            tarball.display()
        ));
    }
    let base_exists = run(Command::new(repo().join("deploy/container/base-image")).arg("--tag"));
    let debootstrap = Path::new("/usr/sbin/debootstrap").exists();
    if base_exists.is_err() && !debootstrap {
        return Err(
            "no base image yet and no debootstrap to make it (apt-get install debootstrap)".into(),
        );
    }
    Ok(tarball)
}

/// Holds a lock file for the whole run; waits while another run holds it. Taken by the cluster
/// tests and `cargo bench --bench amf_floor`: one cluster at a time on a machine.
pub fn exclusive_run() -> std::io::Result<std::fs::File> {
    let path = std::env::temp_dir().join("macsync-cluster-tests.lock");
    let f = std::fs::File::create(&path)?;
    if f.try_lock().is_err() {
        println!(
            "waiting for another cluster run to finish ({})",
            path.display()
        );
        f.lock()?;
    }
    Ok(f)
}

/// Builds the node image with this build's macsync (only the macsync layer changes between runs).
pub fn build_image(tarball: &Path) -> Result<(), String> {
    run(Command::new(cluster_script()).args([
        "build",
        "--opensaf",
        tarball.to_str().unwrap(),
        "--macsync",
        env!("CARGO_BIN_EXE_macsync"),
        "--image",
        IMAGE,
    ]))
    .map(drop)
}

/// Removes every container and network labelled with the tests' cluster name.
pub fn remove_leftovers() -> Result<(), String> {
    run(Command::new(cluster_script()).args(["down", "--name", NAME])).map(drop)
}

/// A running cluster; dropping it removes it.
pub struct Cluster {
    _private: (),
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Err(e) = remove_leftovers() {
            eprintln!("cluster teardown failed: {e}");
        }
    }
}

impl Cluster {
    /// A new cluster (SC-1, SC-2, PL-3) with every node ENABLED.
    pub fn up() -> Result<Cluster, String> {
        remove_leftovers()?;
        let cluster = Cluster { _private: () };
        run(Command::new(cluster_script()).args([
            "up",
            "--name",
            NAME,
            "--image",
            IMAGE,
            "--subnet",
            SUBNET,
            "--timeout",
            "120",
        ]))?;
        Ok(cluster)
    }

    /// A new cluster with macsync's classes and model loaded, a 1 s healthcheck period and
    /// every SU unlocked; returns once every node's links are mirrored.
    pub fn with_macsync() -> Result<Cluster, String> {
        let c = Cluster::up()?;
        for f in ["macsync-classes.xml", "macsync-amf.xml"] {
            let src = repo().join("samples").join(f);
            docker(&[
                "cp",
                src.to_str().unwrap(),
                &format!("{}:/tmp/{f}", container("SC-1")),
            ])?;
        }
        c.sh(
            "SC-1",
            &format!(
                "immcfg -f /tmp/macsync-classes.xml && immcfg -f /tmp/macsync-amf.xml && \
                 immcfg -a saAmfHctDefPeriod={} safHealthcheckKey=macsync,safVersion=1,safCompType=macsync",
                PERIOD.as_nanos()
            ),
        )?;
        for n in NODES {
            c.unlock_in(n)?;
        }
        for n in NODES {
            c.wait_mirrored(n, other(n), Duration::from_secs(30))?;
        }
        Ok(c)
    }

    /// `sh -c SCRIPT` on a node.
    pub fn sh(&self, node: &str, script: &str) -> Result<String, String> {
        docker(&["exec", &container(node), "sh", "-c", script])
    }

    pub fn amf_adm(&self, on: &str, op: &str, dn: &str) -> Result<String, String> {
        self.sh(on, &format!("amf-adm {op} '{dn}'"))
    }

    /// `ip ARGS` inside a node (its own network namespace).
    pub fn ip(&self, node: &str, args: &str) -> Result<String, String> {
        self.sh(node, &format!("ip {args}"))
    }

    /// The node's Ethernet links, as the kernel reports them.
    pub fn kernel_links(&self, node: &str) -> Result<Table, String> {
        parse_ip_links(&self.ip(node, "-j link show")?)
    }

    /// The interface objects of `node` as IMM shows them when read on `reader`;
    /// `None` when the node object does not exist.
    pub fn imm_links(&self, node: &str, reader: &str) -> Result<Option<Table>, String> {
        // An object deleted between immfind and immlist tears the read: read again.
        let script = format!(
            "immfind macSyncNodeId={node} >/dev/null 2>&1 || {{ echo NONE; exit 0; }}
             immfind -c MacSyncInterface macSyncNodeId={node} | while read -r o; do
               echo \"@$o\"; immlist -a macAddress -a ifIndex -a operState \"$o\" || echo TORN; done"
        );
        let mut out = self.sh(reader, &script)?;
        for _ in 0..10 {
            if !out.lines().any(|l| l == "TORN") {
                break;
            }
            out = self.sh(reader, &script)?;
        }
        if out.lines().any(|l| l == "TORN") {
            return Err(format!(
                "IMM changed during each of 10 reads on {reader}:\n{out}"
            ));
        }
        if out.trim() == "NONE" {
            return Ok(None);
        }
        let mut table = Table::new();
        let mut cur: Option<(String, (String, u32, u32))> = None;
        for line in out.lines() {
            if let Some(dn) = line.strip_prefix('@') {
                table.extend(cur.take());
                cur = Some((rdn_value(dn), (String::new(), 0, 0)));
            } else if let (Some((_, v)), Some((attr, val))) = (cur.as_mut(), line.split_once('=')) {
                let val = if val == "<Empty>" { "" } else { val };
                match attr {
                    "macAddress" => v.0 = val.to_string(),
                    "ifIndex" => v.1 = val.parse().unwrap_or(0),
                    "operState" => v.2 = val.parse().unwrap_or(0),
                    _ => {}
                }
            }
        }
        table.extend(cur);
        Ok(Some(table))
    }

    /// Waits until IMM, read on `reader`, mirrors `node`'s kernel links; returns how long it took.
    pub fn wait_mirrored(
        &self,
        node: &str,
        reader: &str,
        timeout: Duration,
    ) -> Result<Duration, String> {
        Node::new(self, node, reader)
            .wait_mirrored(timeout)
            .map_err(|e| format!("{node}, read on {reader}: {e}"))
    }

    /// `amf-adm lock` and `lock-in` of the node's SU; returns once macsync has ended there.
    pub fn lock_in(&self, node: &str) -> Result<(), String> {
        self.amf_adm("SC-1", "lock", &su(node))?;
        self.amf_adm("SC-1", "lock-in", &su(node))?;
        self.wait_for(
            "macsync ends after lock-in",
            Duration::from_secs(10),
            || self.macsync_pid(node).is_none(),
        )
        .map(drop)
    }

    /// `amf-adm unlock-in` and `unlock` of the node's SU.
    pub fn unlock_in(&self, node: &str) -> Result<(), String> {
        self.amf_adm("SC-1", "unlock-in", &su(node))?;
        self.amf_adm("SC-1", "unlock", &su(node)).map(drop)
    }

    /// One attribute of one object, as `immlist -a` prints it (`None` if it cannot be read).
    pub fn attr(&self, on: &str, dn: &str, attr: &str) -> Option<String> {
        let out = self.sh(on, &format!("immlist -a {attr} '{dn}'")).ok()?;
        out.trim()
            .strip_prefix(&format!("{attr}="))
            .map(str::to_string)
    }

    /// Several attributes of one object in one read: (name, value as `immlist -a` prints it).
    pub fn attrs(
        &self,
        on: &str,
        dn: &str,
        names: &[&str],
    ) -> Result<Vec<(String, String)>, String> {
        let args: String = names.iter().map(|a| format!(" -a {a}")).collect();
        let out = self.sh(on, &format!("immlist{args} '{dn}'"))?;
        let mut got: Vec<(String, String)> = out
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        got.sort();
        Ok(got)
    }

    /// The interface objects, read on `on`, whose `macAddress` is `mac`.
    pub fn claims(&self, on: &str, mac: &str) -> Result<Vec<String>, String> {
        let out = self.sh(
            on,
            &format!(
                "for o in $(immfind -c MacSyncInterface); do \
                   immlist -a macAddress \"$o\" 2>/dev/null | grep -qix 'macAddress={mac}' && echo \"$o\"; \
                 done; true"
            ),
        )?;
        Ok(out.lines().map(str::to_string).collect())
    }

    /// The pid of the running macsync on `node` (from macsync-clc's pid file), if it runs.
    pub fn macsync_pid(&self, node: &str) -> Option<u32> {
        self.sh(
            node,
            "p=$(cat /var/run/macsync.pid) && grep -q '^State:[[:space:]]*[RSD]' /proc/$p/status && echo $p",
        )
        .ok()?
        .trim()
        .parse()
        .ok()
    }

    /// Polls `cond` every 200 ms until it holds or `timeout` passes.
    pub fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        mut cond: impl FnMut() -> bool,
    ) -> Result<Duration, String> {
        let t0 = Instant::now();
        while !cond() {
            if t0.elapsed() >= timeout {
                return Err(format!("{what}: not within {timeout:?}"));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Ok(t0.elapsed())
    }

    /// `docker kill`: the node is gone at once, as after a power loss. Docker counts it as a
    /// manual stop, so the restart policy does not bring it back; [`Cluster::start_node`] does.
    pub fn kill_node(&self, node: &str) -> Result<(), String> {
        docker(&["kill", &container(node)]).map(drop)
    }

    pub fn start_node(&self, node: &str) -> Result<(), String> {
        docker(&["start", &container(node)]).map(drop)
    }

    /// Cuts the node off the cluster network (a partition), or reconnects it at its address.
    pub fn set_connected(&self, node: &str, connected: bool) -> Result<(), String> {
        let c = container(node);
        if connected {
            docker(&["network", "connect", "--ip", &address(node), NAME, &c]).map(drop)
        } else {
            docker(&["network", "disconnect", NAME, &c]).map(drop)
        }
    }

    /// How often Docker restarted the node's container (a node "reboot" ends the container).
    pub fn restart_count(&self, node: &str) -> u32 {
        docker(&["inspect", "-f", "{{.RestartCount}}", &container(node)])
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    }

    /// AMF's operational state of a node, read on `reader`: true when ENABLED.
    pub fn node_enabled(&self, node: &str, reader: &str) -> bool {
        self.attr(
            reader,
            &format!("safAmfNode={node},safAmfCluster=myAmfCluster"),
            "saAmfNodeOperState",
        )
        .as_deref()
            == Some("1")
    }

    /// The controller whose OpenSAF 2N service instance is ACTIVE, as `reader` sees it.
    pub fn active_controller(&self, reader: &str) -> Option<&'static str> {
        ["SC-1", "SC-2"].into_iter().find(|sc| {
            self.attr(
                reader,
                &format!(
                    "safSISU=safSu={sc}\\,safSg=2N\\,safApp=OpenSAF,safSi=SC-2N,safApp=OpenSAF"
                ),
                "saAmfSISUHAState",
            )
            .as_deref()
                == Some("1")
        })
    }

    /// macsync's logs and OpenSAF's log lines of one node, for a failure report.
    pub fn diagnostics(&self, node: &str) -> String {
        let c = container(node);
        let state = docker(&[
            "inspect",
            "-f",
            "{{.State.Status}} restarts={{.RestartCount}}",
            &c,
        ])
        .unwrap_or_else(|e| e);
        let logs = self
            .sh(
                node,
                &format!(
                    "for f in /opt/opensaf/var/log/opensaf/macsync-{node}.log /opt/opensaf/var/log/opensaf/macsync-{node}.out; do \
                       echo \"--- $f (last 30 lines)\"; tail -30 $f 2>&1; done; \
                     echo '--- /var/log/messages: osaf*, macsync (last 40 lines)'; \
                     grep -E 'osaf|macsync|opensaf' /var/log/messages | tail -40; \
                     echo '--- reboot.log'; cat /opt/opensaf/var/log/opensaf/reboot.log 2>/dev/null; true"
                ),
            )
            .unwrap_or_else(|e| e);
        format!("===== {node} ({c}: {}) =====\n{logs}", state.trim())
    }
}

pub fn container(node: &str) -> String {
    format!("{NAME}-{node}")
}

/// The node's fixed address: .10 + slot of the subnet, as `cluster up` gives it.
pub fn address(node: &str) -> String {
    let slot: u8 = node
        .rsplit('-')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap();
    let base = SUBNET.split('/').next().unwrap();
    let (net, last) = base.rsplit_once('.').unwrap();
    format!("{net}.{}", last.parse::<u8>().unwrap() + 10 + slot)
}

pub fn su(node: &str) -> String {
    format!("safSu={node},safSg=macsync,safApp=macsync")
}

pub fn comp(node: &str) -> String {
    format!("safComp=macsync,{}", su(node))
}

/// A node other than `node` to read IMM on.
pub fn other(node: &str) -> &'static str {
    if node == "SC-2" {
        "SC-1"
    } else {
        "SC-2"
    }
}

/// The unescaped value of a DN's first RDN (`macSyncInterfaceId=a\,b,...` -> `a,b`).
fn rdn_value(dn: &str) -> String {
    let mut out = String::new();
    let mut chars = dn.chars();
    for c in chars.by_ref() {
        if c == '=' {
            break;
        }
    }
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            ',' => break,
            _ => out.push(c),
        }
    }
    out
}

/// One node of the cluster as a backend of the shared scenarios: links changed on `node`,
/// IMM read on `reader`, macsync restarted by AMF.
pub struct Node<'a> {
    pub c: &'a Cluster,
    pub node: &'a str,
    pub reader: &'a str,
    killed: Cell<Option<u32>>,
}

impl<'a> Node<'a> {
    pub fn new(c: &'a Cluster, node: &'a str, reader: &'a str) -> Node<'a> {
        Node {
            c,
            node,
            reader,
            killed: Cell::new(None),
        }
    }
}

impl Backend for Node<'_> {
    fn period(&self) -> Duration {
        PERIOD
    }

    fn slack(&self) -> Duration {
        SLACK
    }

    fn ip(&self, args: &str) -> Result<String, String> {
        self.c.ip(self.node, args)
    }

    fn imm_links(&self) -> Result<Option<Table>, String> {
        self.c.imm_links(self.node, self.reader)
    }

    fn counter(&self, name: &str) -> Result<u64, String> {
        let dn = format!("macSyncNodeId={}", self.node);
        self.c
            .attr(self.reader, &dn, name)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("cannot read {name} of {dn} on {}", self.reader))
    }

    fn admin_op(&self, op: u64) -> Result<(), String> {
        self.c
            .sh(
                self.reader,
                &format!("immadm -o {op} macSyncNodeId={}", self.node),
            )
            .map(drop)
    }

    fn kill_macsync(&self) -> Result<(), String> {
        let pid = self
            .c
            .macsync_pid(self.node)
            .ok_or("macsync does not run")?;
        self.c.sh(self.node, &format!("kill -KILL {pid}"))?;
        self.killed.set(Some(pid));
        self.c
            .wait_for("macsync dead", Duration::from_secs(5), || {
                self.c.macsync_pid(self.node) != Some(pid)
            })
            .map(drop)
    }

    fn macsync_back(&self) -> Result<(), String> {
        let old = self.killed.get();
        self.c
            .wait_for("AMF restarts macsync", Duration::from_secs(60), || {
                self.c
                    .macsync_pid(self.node)
                    .is_some_and(|p| Some(p) != old)
            })
            .map(drop)
    }
}
