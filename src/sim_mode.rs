//! `macsync --sim [DIR]`: the real component, in-process, against the built-in OpenSAF
//! simulator, set up like a node: the sample IMM classes and AMF model loaded, a 1 s
//! healthcheck period. Each sync's changes and the resulting objects are printed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::component::{self, Options};
use crate::config::Config;
use crate::sync::SyncReport;
use crate::sys::Signals;

const CLASSES_XML: &str = include_str!("../samples/macsync-classes.xml");
const AMF_XML: &str = include_str!("../samples/macsync-amf.xml");
/// A component of the sample model; its type carries the healthcheck key `macsync`.
const COMPONENT: &str = "safComp=macsync,safSu=SC-1,safSg=macsync,safApp=macsync";
const HC_TYPE: &str = "safHealthcheckKey=macsync,safVersion=1,safCompType=macsync";
/// Print every object after a sync only up to this many.
const LIST_MAX: usize = 40;

fn sim(dir: &Path, args: &[&str]) -> Result<(), String> {
    let mut argv = vec![
        "opensaf-sim".to_string(),
        "--dir".into(),
        dir.display().to_string(),
    ];
    argv.extend(args.iter().map(|s| s.to_string()));
    match opensaf_sim::cli::run(argv) {
        0 => Ok(()),
        code => Err(format!("simulator command {args:?} failed ({code})")),
    }
}

fn prepare(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let loaded = opensaf_sim::imm::store::Store::open(dir)
        .ok()
        .and_then(|mut s| {
            s.read(|st| st.classes.contains_key(crate::model::NODE_CLASS))
                .ok()
        })
        .unwrap_or(false);
    if !loaded {
        for (name, text) in [
            ("macsync-classes.xml", CLASSES_XML),
            ("macsync-amf.xml", AMF_XML),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
            sim(dir, &["immcfg", "-f", &path.display().to_string()])?;
        }
    }
    sim(
        dir,
        &[
            "immcfg",
            "-a",
            "saAmfHctDefPeriod=1000000000",
            "-a",
            "saAmfHctDefMaxDuration=500000000",
            HC_TYPE,
        ],
    )
}

fn render(r: &SyncReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "sync: {} created, {} updated, {} deleted ({} IMM writes, {:.1} ms)",
        r.created.len(),
        r.updated.len(),
        r.deleted.len(),
        r.writes,
        r.took.as_secs_f64() * 1e3
    );
    for (dn, rec) in &r.created {
        let _ = writeln!(
            s,
            "  + {dn}  {}  ifIndex={} operState={}",
            rec.mac, rec.ifindex, rec.oper
        );
    }
    for (dn, rec) in &r.updated {
        let _ = writeln!(
            s,
            "  ~ {dn}  {}  ifIndex={} operState={}",
            rec.mac, rec.ifindex, rec.oper
        );
    }
    for dn in &r.deleted {
        let _ = writeln!(s, "  - {dn}");
    }
    for e in &r.refused {
        let _ = writeln!(s, "  ! not mirrored: {e}");
    }
    let _ = writeln!(
        s,
        "IMM now holds {} interface objects{}",
        r.objects.len(),
        if r.objects.len() <= LIST_MAX { ":" } else { "" }
    );
    if r.objects.len() <= LIST_MAX {
        for (dn, rec) in &r.objects {
            let _ = writeln!(
                s,
                "    {:<50} {:<17} {:>6} {:>3}",
                dn.as_str(),
                rec.mac,
                rec.ifindex,
                rec.oper
            );
        }
    }
    s
}

pub fn run(cfg: &Config, dir: Option<&Path>, signals: Signals) -> Result<(), String> {
    let dir: PathBuf = match dir {
        Some(d) => d.to_path_buf(),
        None => std::env::temp_dir().join(format!("macsync-sim-{}", std::process::id())),
    };
    prepare(&dir)?;
    opensaf_sim::use_state_dir(&dir)
        .map_err(|e| format!("simulator state {}: {e}", dir.display()))?;
    // As AMF sets it for the instantiate script; no other thread runs yet.
    std::env::set_var("SA_AMF_COMPONENT_NAME", COMPONENT);
    println!(
        "macsync on the OpenSAF simulator (state in {}); Ctrl-C stops.",
        dir.display()
    );
    println!(
        "inspect while it runs: cargo run -p opensaf-sim -- --dir {} immfind -c MacSyncInterface",
        dir.display()
    );
    let opts = Options {
        test_hooks: false,
        on_report: Some(Box::new(|r: &SyncReport| {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(render(r).as_bytes());
            let _ = out.flush();
        })),
    };
    component::run(cfg, opensaf_sim::apis(), opts, signals)
}
