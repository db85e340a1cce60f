//! When a process that held an implementer name died.
//!
//! Real IMM learns of an OI process's death at once (its connection drops) and shows the
//! implementer's cached values for `imm_detach_ms` more. No simulator process sees another
//! one die, so a process holding a name refreshes the modification time of
//! `<state dir>/alive/<pid>.<start>` every [`BEAT`]: a dead holder's last beat dates its
//! death to within a beat.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use crate::mutex::lock;
use crate::process::self_identity;

pub const DIR: &str = "alive";
pub const BEAT: Duration = Duration::from_millis(500);
/// Beat files of processes dead this long are removed when a process starts beating.
const FORGET_AFTER: Duration = Duration::from_secs(3600);

fn path(dir: &Path, pid: u32, start: u64) -> PathBuf {
    dir.join(DIR).join(format!("{pid}.{start}"))
}

/// Starts this process's beat in `dir` (once per process and directory) before it first
/// holds a name there; the first beat is written before this returns.
pub fn start(dir: &Path) {
    static BEATING: Mutex<Vec<(u32, PathBuf)>> = Mutex::new(Vec::new());
    let (pid, start) = self_identity();
    {
        let mut beating = lock(&BEATING);
        if beating.iter().any(|(p, d)| *p == pid && d == dir) {
            return;
        }
        beating.push((pid, dir.to_path_buf()));
    }
    forget_old(dir);
    let p = path(dir, pid, start);
    let beat = || -> std::io::Result<File> {
        fs::create_dir_all(p.parent().unwrap_or(dir))?;
        let f = File::options().create(true).append(true).open(&p)?;
        f.set_modified(SystemTime::now())?;
        Ok(f)
    };
    let Ok(file) = beat() else {
        // Unwritable state directory: the holder's death then reads as long ago.
        return;
    };
    let _ = std::thread::Builder::new()
        .name("opensaf-sim-alive".into())
        .spawn(move || loop {
            std::thread::sleep(BEAT);
            let _ = file.set_modified(SystemTime::now());
        });
}

/// When the process `pid` that started at `start` last beat, if it ever did.
pub fn last_beat(dir: &Path, pid: u32, start: u64) -> Option<SystemTime> {
    fs::metadata(path(dir, pid, start)).ok()?.modified().ok()
}

fn forget_old(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir.join(DIR)) else {
        return;
    };
    let now = SystemTime::now();
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| now.duration_since(t).unwrap_or_default() > FORGET_AFTER);
        if old {
            let _ = fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_beat_is_recent_and_refreshed() {
        let dir = std::env::temp_dir().join(format!("osim-alive-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        start(&dir);
        let (pid, st) = self_identity();
        let first = last_beat(&dir, pid, st).expect("beat file written by start");
        std::thread::sleep(BEAT * 3);
        let later = last_beat(&dir, pid, st).unwrap();
        assert!(later > first, "the beat thread refreshes the time");
        assert!(SystemTime::now().duration_since(later).unwrap() < BEAT * 2);
        assert_eq!(last_beat(&dir, pid, st + 1), None, "another process");
        let _ = fs::remove_dir_all(&dir);
    }
}
