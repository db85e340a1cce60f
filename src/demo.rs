//! `macsync --sim`: the component against the built-in OpenSAF simulator.
use crate::config::Config;
pub fn run(_cfg: &Config, _dir: Option<&std::path::Path>) -> Result<(), String> {
    Err("simulator demo not wired yet".into())
}
