//! The CLI server: how the `opensaf-sim` CLI reaches the processes that use a state
//! directory (AMF requests, faults, admin operations, status).
//!
//! Each such process serves an abstract unix socket (no path length limit, gone when the
//! process dies) named after the state directory and its pid, and registers itself as
//! `<state dir>/ctl/<pid>`. A request is one line, the answer one line starting with `ok`
//! or `err`. The server thread only touches the simulator's state under its short locks;
//! an API caller never waits for it.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use opensaf_sys::SaAisErrorT as Ais;

use crate::events::Val;
use crate::faults::Spec;
use crate::ids::next_id;
use crate::imm::model::{Value, ValueType};
use crate::imm::oi::{self, AdminRequest};
use crate::instance::Instance;
use crate::process::{proc_start_time, process_alive};

pub const CTL_DIR: &str = "ctl";
/// Concurrent control connections served at once (bounded threads).
const MAX_CONNECTIONS: usize = 16;

fn fnv(s: &[u8]) -> u64 {
    s.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x1000_0000_01b3)
    })
}

fn canonical(dir: &Path) -> PathBuf {
    dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf())
}

fn socket_name(dir: &Path, pid: u32) -> String {
    format!(
        "opensaf-sim.{:016x}.{pid}",
        fnv(canonical(dir).as_os_str().as_encoded_bytes())
    )
}

/// Starts serving this process's socket, once per process (the library calls it after
/// each successful initialize; the instance is fixed for the process by then).
pub fn start(inst: Arc<Instance>) {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| serve_socket(inst));
}

fn serve_socket(inst: Arc<Instance>) {
    let pid = std::process::id();
    let Ok(addr) = SocketAddr::from_abstract_name(socket_name(&inst.dir, pid).as_bytes()) else {
        return;
    };
    let Ok(listener) = UnixListener::bind_addr(&addr) else {
        return;
    };
    let reg = inst.dir.join(CTL_DIR);
    let _ = std::fs::create_dir_all(&reg);
    let _ = std::fs::write(
        reg.join(pid.to_string()),
        format!("{}\n", proc_start_time(pid).unwrap_or(0)),
    );
    let _ = std::thread::Builder::new()
        .name("opensaf-sim-cli".into())
        .spawn(move || {
            let active = Arc::new(AtomicUsize::new(0));
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                if active.load(Ordering::Acquire) >= MAX_CONNECTIONS {
                    let mut c = conn;
                    let _ = c.write_all(b"err busy\n");
                    continue;
                }
                active.fetch_add(1, Ordering::AcqRel);
                let inst = inst.clone();
                let active2 = active.clone();
                let spawned = std::thread::Builder::new()
                    .name("opensaf-sim-cli-conn".into())
                    .spawn(move || {
                        serve(&inst, conn);
                        active2.fetch_sub(1, Ordering::AcqRel);
                    });
                if spawned.is_err() {
                    active.fetch_sub(1, Ordering::AcqRel);
                }
            }
        });
}

fn serve(inst: &Instance, conn: UnixStream) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(match conn.try_clone() {
        Ok(c) => c,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader
        .by_ref()
        .take(64 * 1024)
        .read_line(&mut line)
        .is_err()
    {
        return;
    }
    let reply = match handle(inst, line.trim_end()) {
        Ok(s) => format!("ok {s}\n"),
        Err(e) => format!("err {}\n", e.replace('\n', " ")),
    };
    let mut w = conn;
    let _ = w.write_all(reply.as_bytes());
}

fn handle(inst: &Instance, line: &str) -> Result<String, String> {
    let (cmd, rest) = line.split_once(' ').unwrap_or((line, ""));
    match cmd {
        "ping" => Ok(std::process::id().to_string()),
        "status" => Ok(format!(
            "pid={} {} {} oi={:?} faults={}",
            std::process::id(),
            crate::clm::describe(),
            crate::amf::describe(),
            oi::describe(),
            inst.faults.describe()
        )),
        "fault" => {
            let spec = Spec::parse(rest)?;
            inst.events
                .emit("fault", &[("spec", Val::from(spec.render()))]);
            if spec == Spec::BadHandle {
                let oi_n = oi::make_all_stale(inst).len();
                let om_n = crate::imm::om::make_all_stale();
                inst.events.emit(
                    "imm-bad-handle",
                    &[
                        ("oi_handles_with_implementer", (oi_n as u64).into()),
                        ("om_handles", (om_n as u64).into()),
                    ],
                );
                return Ok(format!("stale implementers={oi_n} om={om_n}"));
            }
            inst.faults.apply(&spec);
            Ok("applied".into())
        }
        "amf" => crate::amf::request(rest.trim()),
        "clm" => crate::clm::requests::handle(inst, rest.trim()),
        "admin-op" => admin_op(inst, rest),
        _ => Err(format!("unknown request '{cmd}'")),
    }
}

/// `admin-op TOKEN TIMEOUT_MS OP_ID DN\tNAME:TYPE:VALUE...`
fn admin_op(inst: &Instance, rest: &str) -> Result<String, String> {
    let mut parts = rest.split('\t');
    let head = parts.next().unwrap_or("");
    let mut w = head.splitn(4, ' ');
    let num = |s: Option<&str>| {
        s.and_then(|x| x.parse::<u64>().ok())
            .ok_or("malformed admin-op")
    };
    let token = num(w.next())?;
    let timeout_ms = num(w.next())?;
    let op_id = num(w.next())?;
    let dn = w.next().ok_or("malformed admin-op")?.to_string();
    let mut params = Vec::new();
    for p in parts.filter(|p| !p.is_empty()) {
        params.push(parse_param(p)?);
    }
    let inv = next_id();
    let (tx, rx) = mpsc::channel();
    inst.events.emit(
        "imm-admin-op",
        &[
            ("dn", dn.clone().into()),
            ("operation_id", op_id.into()),
            ("invocation", inv.into()),
        ],
    );
    if let Err(code) = oi::queue_admin_op(
        token,
        AdminRequest {
            invocation: inv,
            dn,
            op_id,
            params,
        },
        tx,
    ) {
        return Ok(code.to_string());
    }
    match rx.recv_timeout(Duration::from_millis(timeout_ms)) {
        Ok(code) => Ok(code.to_string()),
        Err(_) => {
            oi::forget_admin_op(inv);
            Ok(Ais::TIMEOUT.0.to_string())
        }
    }
}

/// `name:SA_UINT32_T:value` as immadm's `-p` takes it.
pub fn parse_param(p: &str) -> Result<(String, Value), String> {
    let mut it = p.splitn(3, ':');
    let (Some(n), Some(t), Some(v)) = (it.next(), it.next(), it.next()) else {
        return Err(format!("parameter '{p}' is not name:type:value"));
    };
    let t =
        ValueType::from_xml_name(t).ok_or_else(|| format!("parameter type '{t}' is unknown"))?;
    Ok((n.to_string(), Value::parse(t, v, true)?))
}

/// Sends one request to the process `pid` and returns its answer line.
pub fn send(dir: &Path, pid: u32, line: &str, timeout: Duration) -> Result<String, String> {
    let addr = SocketAddr::from_abstract_name(socket_name(dir, pid).as_bytes())
        .map_err(|e| e.to_string())?;
    let mut s = UnixStream::connect_addr(&addr).map_err(|e| format!("pid {pid}: {e}"))?;
    s.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    s.write_all(format!("{line}\n").as_bytes())
        .map_err(|e| e.to_string())?;
    let mut out = String::new();
    BufReader::new(s)
        .read_line(&mut out)
        .map_err(|e| format!("pid {pid}: no answer ({e})"))?;
    let out = out.trim_end().to_string();
    match out.strip_prefix("ok") {
        Some(r) => Ok(r.trim_start().to_string()),
        None => Err(out.strip_prefix("err ").unwrap_or(&out).to_string()),
    }
}

/// The processes attached to `dir` (stale registrations of dead processes are removed).
pub fn attached(dir: &Path) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir.join(CTL_DIR)) else {
        return out;
    };
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let start = std::fs::read_to_string(e.path())
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok());
        if start.is_some_and(|st| process_alive(pid, st)) {
            out.push(pid);
        } else {
            let _ = std::fs::remove_file(e.path());
        }
    }
    out.sort_unstable();
    out
}

/// Sends a request to every attached process.
pub fn broadcast(dir: &Path, line: &str, timeout: Duration) -> Vec<(u32, Result<String, String>)> {
    attached(dir)
        .into_iter()
        .map(|pid| (pid, send(dir, pid, line, timeout)))
        .collect()
}
