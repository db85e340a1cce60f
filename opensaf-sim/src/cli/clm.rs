//! `clm`: cluster membership as CLM shows it, and nodes leaving and joining.
//!
//! A node that leaves is seen as real OpenSAF 5.21.03 shows a node that dies: after
//! `clm_leave_ms` CLM shows it as not a member (`saClmNodeIsMember` 0) and every process
//! tracking the cluster gets its callback; at `imm_release_ms` after the leave IMM releases
//! the implementer names its processes held, whose IMM handles turn stale (their runtime
//! objects stay, and read empty `imm_detach_ms` later). The command returns when both have
//! happened.

use std::path::Path;
use std::time::{Duration, Instant};

use opensaf_sys::SaAisErrorT as Ais;

use super::imm::open;
use crate::cli_server;
use crate::clm::membership::{self, Node};
use crate::config::Config;
use crate::events::EventLog;
use crate::imm::ImmError;

const PROCESS_TIMEOUT: Duration = Duration::from_secs(5);

pub fn clm(dir: &Path, args: &[String]) -> Result<(), String> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] | ["status"] => status(dir),
        ["leave", node] => leave(dir, node),
        ["join", node] => join(dir, node),
        _ => Err("clm: give status, leave NODE or join NODE".into()),
    }
}

fn find(dir: &Path, name: &str) -> Result<Node, String> {
    open(dir)?
        .read(|st| membership::find(st, name))
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no CLM node '{name}' (see `clm status`)"))
}

fn status(dir: &Path) -> Result<(), String> {
    let nodes = open(dir)?
        .read(membership::nodes)
        .map_err(|e| e.to_string())?;
    println!("view {}", membership::view(dir));
    for n in nodes {
        println!(
            "{}  id=0x{:x}  member={}  initial-view={}",
            n.dn,
            n.id,
            u8::from(n.member),
            n.initial_view
        );
    }
    Ok(())
}

/// Moves the store to the next view with `ops` applied, if `node` is still as expected.
fn change(
    dir: &Path,
    node: &Node,
    want_member: bool,
    ops: impl FnOnce(&crate::imm::state::ImmState, u64) -> Vec<crate::imm::journal::Op>,
) -> Result<u64, String> {
    open(dir)?
        .write(|st| {
            match membership::find(st, &node.dn) {
                Some(n) if n.member == want_member => {}
                _ => {
                    return Err(ImmError::new(
                        Ais::FAILED_OPERATION,
                        format!("the membership of {} changed meanwhile", node.dn),
                    ))
                }
            }
            let view = membership::next_view(dir)
                .map_err(|e| ImmError::new(Ais::LIBRARY, format!("view number: {e}")))?;
            Ok((ops(st, view), view))
        })
        .map_err(|e| e.to_string())
}

/// Tells every process; prints what each answered.
fn tell_processes(dir: &Path, line: &str) {
    for (pid, r) in cli_server::broadcast(dir, line, PROCESS_TIMEOUT) {
        match r {
            Ok(s) => println!("  pid {pid}: {s}"),
            Err(e) => println!("  pid {pid}: no answer ({e})"),
        }
    }
}

fn leave(dir: &Path, name: &str) -> Result<(), String> {
    let start = Instant::now();
    let node = find(dir, name)?;
    if !node.member {
        return Err(format!("{} is not a member", node.dn));
    }
    let (cfg, _) = Config::load(dir);
    let events = EventLog::new(dir);
    events.emit("clm-node-leaving", &[("node", node.dn.as_str().into())]);
    std::thread::sleep(Duration::from_millis(cfg.clm_leave_ms));
    let view = change(dir, &node, true, |st, _| {
        membership::leave_ops(st, &node.dn)
    })?;
    let ms = start.elapsed().as_millis() as u64;
    events.emit(
        "clm-node-left",
        &[
            ("node", node.dn.as_str().into()),
            ("view", view.into()),
            ("after_ms", ms.into()),
        ],
    );
    println!("{}: not a member after {ms} ms (view {view})", node.dn);
    tell_processes(dir, &format!("clm change {} left {view}", node.dn));
    let release_at = Duration::from_millis(cfg.imm_release_ms);
    std::thread::sleep(release_at.saturating_sub(start.elapsed()));
    let ms = start.elapsed().as_millis() as u64;
    events.emit(
        "imm-node-release",
        &[("node", node.dn.as_str().into()), ("after_ms", ms.into())],
    );
    println!("{}: IMM releases its implementers after {ms} ms", node.dn);
    tell_processes(dir, &format!("clm imm-release {}", node.dn));
    Ok(())
}

fn join(dir: &Path, name: &str) -> Result<(), String> {
    let node = find(dir, name)?;
    if node.member {
        return Err(format!("{} is a member already", node.dn));
    }
    let now_ns = crate::clock::unix_now().as_nanos() as i64;
    let view = change(dir, &node, false, |st, view| {
        membership::join_ops(st, &node.dn, view, now_ns)
    })?;
    EventLog::new(dir).emit(
        "clm-node-joined",
        &[("node", node.dn.as_str().into()), ("view", view.into())],
    );
    println!("{}: a member (view {view})", node.dn);
    tell_processes(dir, &format!("clm change {} joined {view}", node.dn));
    Ok(())
}
