use std::io::Write;
use std::process::ExitCode;

use macsync::component::{self, Options};
use macsync::config::{Command, Config, Mode, USAGE};
use macsync::identity;

fn init_logging(cfg: &Config) -> Result<(), String> {
    let mut b = env_logger::Builder::new();
    b.parse_filters(&cfg.log_level);
    b.format(|f, rec| {
        writeln!(
            f,
            "{} {:<5} macsync: {}",
            f.timestamp_millis(),
            rec.level(),
            rec.args()
        )
    });
    if let Some(path) = &cfg.log_file {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("log file {}: {e}", path.display()))?;
        b.target(env_logger::Target::Pipe(Box::new(file)));
    }
    b.try_init().map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = match Config::parse(&args, &|k| std::env::var(k).ok()) {
        Ok(Command::Run(c)) => c,
        Ok(Command::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("macsync {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("macsync: {e}");
            return ExitCode::from(2);
        }
    };
    let mut cfg = cfg;
    if matches!(cfg.mode, Mode::Sim(_) | Mode::Once | Mode::Purge)
        && cfg.log_file.is_none()
        && std::env::var_os("RUST_LOG").is_none()
        && !args.iter().any(|a| a.starts_with("--log-level"))
    {
        // These print what they do themselves; only problems go to the log.
        cfg.log_level = "warn".into();
    }
    if let Err(e) = init_logging(&cfg) {
        eprintln!("macsync: {e}");
        return ExitCode::from(2);
    }
    // Outside AMF the node name comes from the flag, OpenSAF's files or the host name.
    let offline_id = if cfg.mode == Mode::Component {
        None
    } else {
        match identity::offline(&cfg.node, &identity::System) {
            Ok(id) => {
                id.log();
                cfg.node = id.name.clone();
                Some(id)
            }
            Err(e) => {
                eprintln!("macsync: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    if cfg.long_dns {
        // OpenSAF's libraries read this before the first AIS call; no thread runs yet.
        std::env::set_var("SA_ENABLE_EXTENDED_NAMES", "1");
    }
    // Before any thread exists, so every thread inherits the blocked mask and SIGTERM/SIGINT
    // arrive only through the component's signal descriptor.
    let signals = match macsync::sys::Signals::new() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("macsync: signalfd: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match &cfg.mode {
        Mode::Once => macsync::once::run(&cfg, offline_id.as_ref().expect("resolved above"))
            .map(|table| print!("{table}")),
        Mode::Purge => macsync::purge::run(&cfg, offline_id.as_ref().expect("resolved above"))
            .map(|msg| println!("{msg}")),
        Mode::Sim(dir) => run_sim(&cfg, dir.as_deref(), signals),
        Mode::Component => opensaf_sys::Apis::load()
            .map_err(|e| e.to_string())
            .and_then(|apis| {
                // The node name, unless given, is resolved by the sync worker (from AMF).
                let opts = Options {
                    test_hooks: std::env::var("MACSYNC_TEST_HOOKS").is_ok_and(|v| v == "1"),
                    ..Default::default()
                };
                component::run(&cfg, apis, opts, signals)
            }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if cfg.log_file.is_some() {
                log::error!("{e}");
            }
            eprintln!("macsync: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "sim")]
fn run_sim(
    cfg: &Config,
    dir: Option<&std::path::Path>,
    signals: macsync::sys::Signals,
) -> Result<(), String> {
    macsync::sim_mode::run(cfg, dir, signals)
}

#[cfg(not(feature = "sim"))]
fn run_sim(
    _: &Config,
    _: Option<&std::path::Path>,
    _: macsync::sys::Signals,
) -> Result<(), String> {
    Err("this build has no simulator (built without the `sim` feature)".into())
}
