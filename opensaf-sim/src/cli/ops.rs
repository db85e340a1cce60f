//! events, amf, fault, config, status, install-lib.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cli_server;
use crate::config::{self, Config};
use crate::events::{self, Event};
use crate::faults::Spec;
use crate::imm::store::Store;
use crate::instance::PENDING_FAULTS;
use crate::process::process_alive;

const CONTROL_TIMEOUT: Duration = Duration::from_secs(5);

pub fn events(dir: &Path, args: &[String]) -> Result<(), String> {
    let mut json = false;
    let mut follow = false;
    let mut until = None;
    let mut timeout = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => json = true,
            "--follow" | "-f" => follow = true,
            "--until" => until = Some(it.next().ok_or("--until needs an event name")?.clone()),
            "--timeout" => {
                let v = it.next().ok_or("--timeout needs seconds")?;
                timeout = Some(Duration::from_secs_f64(
                    v.parse().map_err(|_| format!("'{v}' is not a number"))?,
                ));
            }
            other => return Err(format!("events: unknown option {other}")),
        }
    }
    let show = |line: &str| -> Option<Event> {
        let ev = Event::parse(line)?;
        if json {
            println!("{}", line.trim_end());
        } else {
            println!("{}", ev.human());
        }
        Some(ev)
    };
    let path = dir.join(events::FILE);
    let mut pos = 0u64;
    let mut ino = None;
    let started = Instant::now();
    loop {
        if let Ok(f) = File::open(&path) {
            use std::os::unix::fs::MetadataExt;
            let meta = f.metadata().map_err(|e| e.to_string())?;
            if ino != Some(meta.ino()) || meta.len() < pos {
                pos = 0;
                ino = Some(meta.ino());
            }
            let mut r = BufReader::new(f);
            r.seek(SeekFrom::Start(pos)).map_err(|e| e.to_string())?;
            let mut line = String::new();
            loop {
                line.clear();
                let n = r.read_line(&mut line).map_err(|e| e.to_string())?;
                if n == 0 || !line.ends_with('\n') {
                    break;
                }
                pos += n as u64;
                if let Some(ev) = show(&line) {
                    if until.as_deref() == Some(ev.name()) {
                        return Ok(());
                    }
                }
            }
        }
        if !follow {
            return match until {
                Some(u) => Err(format!("no '{u}' event")),
                None => Ok(()),
            };
        }
        if timeout.is_some_and(|t| started.elapsed() >= t) {
            return Err(match until {
                Some(u) => format!("no '{u}' event within the timeout"),
                None => "timeout".into(),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends a request to every attached process; Ok if at least one accepted it.
fn to_attached(dir: &Path, line: &str) -> Result<Vec<String>, String> {
    let answers = cli_server::broadcast(dir, line, CONTROL_TIMEOUT);
    if answers.is_empty() {
        return Err("no process is attached to this state directory".into());
    }
    let ok: Vec<String> = answers
        .iter()
        .filter_map(|(pid, r)| r.as_ref().ok().map(|s| format!("pid {pid}: {s}")))
        .collect();
    if ok.is_empty() {
        let errs: Vec<String> = answers
            .iter()
            .filter_map(|(pid, r)| r.as_ref().err().map(|e| format!("pid {pid}: {e}")))
            .collect();
        return Err(errs.join("; "));
    }
    Ok(ok)
}

pub fn amf(dir: &Path, args: &[String]) -> Result<(), String> {
    let action = args
        .first()
        .ok_or("amf: give an action (terminate, csi-remove, csi-active, ...)")?;
    const ACTIONS: [&str; 6] = [
        "terminate",
        "csi-remove",
        "csi-active",
        "csi-standby",
        "csi-quiesced",
        "csi-quiescing",
    ];
    if !ACTIONS.contains(&action.as_str()) {
        return Err(format!(
            "amf: unknown action '{action}' (one of {})",
            ACTIONS.join(", ")
        ));
    }
    for line in to_attached(dir, &format!("amf {action}"))? {
        println!("{line}");
    }
    Ok(())
}

/// Turns `try-again --count 3` into the spec `try-again count=3`.
fn fault_spec(args: &[String]) -> Result<Spec, String> {
    let kind = args
        .first()
        .ok_or("fault: give a kind (try-again, timeout, delay, refuse, bad-handle, clear)")?;
    let mut line = kind.clone();
    let mut it = args[1..].iter();
    while let Some(a) = it.next() {
        let key = match a.as_str() {
            "--count" | "-n" => "count",
            "--ms" => "ms",
            "--for-ms" => "for_ms",
            "--op" => "op",
            "--dn" => "dn",
            "--code" => "code",
            other => return Err(format!("fault: unknown option {other}")),
        };
        let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
        line.push_str(&format!(" {key}={v}"));
    }
    Spec::parse(&line)
}

pub fn fault(dir: &Path, args: &[String]) -> Result<(), String> {
    let spec = fault_spec(args)?;
    // Relative windows become absolute here, so a pending fault keeps its window.
    let wire = spec.render();
    if spec == Spec::Clear {
        let _ = std::fs::remove_file(dir.join(PENDING_FAULTS));
    }
    let answers = cli_server::broadcast(dir, &format!("fault {wire}"), CONTROL_TIMEOUT);
    let ok: Vec<_> = answers.iter().filter(|(_, r)| r.is_ok()).collect();
    if !ok.is_empty() {
        for (pid, r) in ok {
            println!(
                "pid {pid}: {}",
                r.as_ref().map(String::as_str).unwrap_or("")
            );
        }
        return Ok(());
    }
    if let Some((pid, Err(e))) = answers.first() {
        return Err(format!("pid {pid}: {e}"));
    }
    match spec {
        Spec::Clear => println!("no process attached; pending faults removed"),
        Spec::BadHandle => {
            println!("no process attached: no IMM handle exists, nothing to invalidate");
        }
        _ => {
            use std::io::Write;
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join(PENDING_FAULTS))
                .map_err(|e| e.to_string())?;
            writeln!(f, "{wire}").map_err(|e| e.to_string())?;
            println!("no process attached; the fault applies from the next initialize");
        }
    }
    Ok(())
}

pub fn config(dir: &Path, args: &[String]) -> Result<(), String> {
    let path = dir.join(config::FILE);
    if !args.is_empty() {
        let mut lines: Vec<String> = std::fs::read_to_string(&path)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect();
        for kv in args {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| format!("'{kv}' is not KEY=VALUE"))?;
            Config::default().set(k.trim(), v)?;
            lines.retain(|l| {
                l.split_once('=')
                    .map(|(lk, _)| lk.trim() != k.trim())
                    .unwrap_or(true)
            });
            lines.push(format!("{}={}", k.trim(), v.trim()));
        }
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        std::fs::write(&path, lines.join("\n") + "\n").map_err(|e| e.to_string())?;
    }
    let (cfg, problems) = Config::load(dir);
    print!("{}", cfg.render());
    for p in problems {
        eprintln!("warning - {p}");
    }
    Ok(())
}

pub fn status(dir: &Path) -> Result<(), String> {
    println!("state directory: {}", dir.display());
    for (pid, r) in cli_server::broadcast(dir, "status", CONTROL_TIMEOUT) {
        match r {
            Ok(s) => println!("attached: {s}"),
            Err(e) => println!("attached pid {pid}: no answer ({e})"),
        }
    }
    let mut store = Store::open(dir).map_err(|e| e.to_string())?;
    store
        .read(|st| {
            println!(
                "classes: {}  objects: {}",
                st.classes.len(),
                st.objects.len()
            );
            let mut imps: Vec<_> = st.implementers.iter().collect();
            imps.sort_by(|a, b| a.0.cmp(b.0));
            for (name, h) in imps {
                let live = if process_alive(h.pid, h.start) {
                    "live"
                } else {
                    "dead (name free)"
                };
                println!("implementer {name}: pid {} {live}", h.pid);
            }
        })
        .map_err(|e| e.msg)?;
    if let Ok(p) = std::fs::read_to_string(dir.join(PENDING_FAULTS)) {
        println!("pending faults: {}", p.trim().replace('\n', "; "));
    }
    Ok(())
}

pub fn install_lib(args: &[String]) -> Result<(), String> {
    let mut dir = None;
    let mut lib: Option<PathBuf> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--lib" => lib = Some(PathBuf::from(it.next().ok_or("--lib needs a path")?)),
            _ => dir = Some(PathBuf::from(a)),
        }
    }
    let dir = dir.ok_or("install-lib: give a directory")?;
    let lib = match lib {
        Some(l) => l,
        None => {
            let exe = std::env::current_exe().map_err(|e| e.to_string())?;
            exe.parent()
                .map(|p| p.join("libopensaf_sim.so"))
                .ok_or("cannot locate the library")?
        }
    };
    crate::install_lib_dir(&dir, &lib).map_err(|e| e.to_string())?;
    println!("{} -> {}", dir.display(), lib.display());
    Ok(())
}
