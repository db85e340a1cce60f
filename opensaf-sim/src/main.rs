//! `opensaf-sim`: the simulator's command-line tools (immcfg, immlist, immfind, immadm,
//! events, amf, fault, ...). See `opensaf-sim help`.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    std::process::exit(opensaf_sim::cli::run(args));
}
