//! The `opensaf-sim` command line: the real tools' subset (immcfg, immlist, immfind,
//! immadm) plus the simulator's own commands (events, amf, clm, fault, config, status).
//! Invoked through a symlink named like a real tool (`immlist`), it behaves as that tool.

mod clm;
mod imm;
mod ops;

use std::path::{Path, PathBuf};

pub const USAGE: &str = "\
usage: opensaf-sim [--dir STATE_DIR] COMMAND [ARGS]
       (the state directory defaults to $OPENSAF_SIM_DIR)

IMM (like the OpenSAF tools):
  immcfg -f FILE.xml [-f FILE.xml ...]  load classes and objects (all or nothing)
  immcfg -a ATTR=VALUE [-a ...] DN      replace writable configuration attributes
  immcfg -d DN                          delete a configuration object and its subtree
  immlist [-a ATTR] DN [DN ...]         print an object's attributes (name type value)
  immlist -c CLASS                      print a class definition
  immfind [ROOT] [-c CLASS] [-s one|sublevel|subtree]
                                        print DNs (escaped as stored)
  immadm -o ID [-p NAME:TYPE:VALUE ...] [-t SECONDS] DN
                                        invoke an admin operation on DN's implementer and
                                        print its result (exit 1 unless SA_AIS_OK)
AMF and faults (reach the running component through its CLI server socket):
  events [--json] [--follow [--until EVENT] [--timeout SECONDS]]
                                        the AMF/IMM event log (healthchecks, latencies,
                                        timeouts, CSI callbacks, error reports, faults)
  amf terminate|csi-remove|csi-active|csi-standby|csi-quiesced|csi-quiescing
  fault try-again (--count N | --ms T)  next N IMM calls (or for T ms) answer TRY_AGAIN
  fault timeout --count N               next N IMM calls take effect, then answer TIMEOUT
  fault delay --ms T [--count N | --for-ms T]
                                        IMM calls take T ms longer
  fault refuse --op create|update --dn DN --code N
                                        every create (update) of DN answers code N,
                                        until clear
  fault bad-handle                      every IMM handle turns stale (IMMND restart)
  fault clear                           remove all faults
CLM (cluster membership; each process runs on the node $OPENSAF_SIM_NODE, default SC-1):
  clm [status]                          the CLM nodes: node id, member or not, the view
  clm leave NODE                        NODE leaves: after clm_leave_ms CLM shows it as not
                                        a member and every tracking process gets a callback;
                                        at imm_release_ms IMM releases the implementer names
                                        of NODE's processes, whose objects read empty
                                        imm_detach_ms later (returns after the release)
  clm join NODE                         NODE joins again (member, callbacks, IMM back)
Simulator:
  config [KEY=VALUE ...]                show or change settings (state dir file `config`)
  status                                attached processes, implementers, faults
  compact                               rewrite the IMM journal as a snapshot
  install-lib DIR [--lib PATH]          make DIR an OPENSAF_LIB_DIR (soname symlinks)
  help                                  this text
";

/// Runs one command on the state directory `dir`, as `opensaf-sim --dir DIR ARGS...`;
/// returns the exit code.
pub fn run_in(dir: &Path, args: &[&str]) -> i32 {
    let mut argv = vec!["opensaf-sim".to_string(), "--dir".into()];
    argv.push(dir.display().to_string());
    argv.extend(args.iter().map(|a| a.to_string()));
    run(argv)
}

/// Runs the CLI with `args` (argv, including the program name); returns the exit code.
pub fn run(args: Vec<String>) -> i32 {
    let prog = args
        .first()
        .map(|a| a.rsplit('/').next().unwrap_or(a).to_string())
        .unwrap_or_default();
    let mut rest: Vec<String> = args.into_iter().skip(1).collect();
    if matches!(prog.as_str(), "immcfg" | "immlist" | "immfind" | "immadm") {
        rest.insert(0, prog);
    }
    let mut dir: Option<PathBuf> = None;
    while rest.first().map(String::as_str) == Some("--dir") {
        if rest.len() < 2 {
            eprintln!("--dir needs a directory");
            return 2;
        }
        dir = Some(PathBuf::from(rest.remove(1)));
        rest.remove(0);
    }
    let Some(cmd) = (!rest.is_empty()).then(|| rest.remove(0)) else {
        eprint!("{USAGE}");
        return 2;
    };
    if matches!(cmd.as_str(), "help" | "--help" | "-h") {
        print!("{USAGE}");
        return 0;
    }
    if cmd == "install-lib" {
        return match ops::install_lib(&rest) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("error - {e}");
                1
            }
        };
    }
    let dir = match dir.or_else(|| std::env::var_os(crate::DIR_VAR).map(PathBuf::from)) {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => {
            eprintln!(
                "error - no state directory: give --dir or set {}",
                crate::DIR_VAR
            );
            return 2;
        }
    };
    let r = match cmd.as_str() {
        "immcfg" => imm::immcfg(&dir, &rest),
        "immlist" => imm::immlist(&dir, &rest),
        "immfind" => imm::immfind(&dir, &rest),
        "immadm" => imm::immadm(&dir, &rest),
        "events" => ops::events(&dir, &rest),
        "amf" => ops::amf(&dir, &rest),
        "clm" => clm::clm(&dir, &rest),
        "fault" => ops::fault(&dir, &rest),
        "config" => ops::config(&dir, &rest),
        "status" => ops::status(&dir),
        "compact" => imm::compact(&dir),
        other => Err(format!("unknown command '{other}'\n{USAGE}")),
    };
    match r {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error - {e}");
            1
        }
    }
}
