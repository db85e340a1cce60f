//! The AMF/IMM event log: one JSON object per line in `<state dir>/events.log`, appended
//! with `O_APPEND` (one `write(2)` per line) so several processes can log at once and
//! `opensaf-sim events` can read it from another process. Every line has `time`
//! (RFC 3339 UTC), `t_us` (Unix microseconds), `pid` and `event`; healthcheck lines also
//! carry `latency_us`. The file is rotated to `events.log.1` past 16 MiB.
//!
//! Emitting is cheap: the pid is cached (reset in a forked child) and the file's size is
//! looked at only every [`CHECK_EVERY`] lines or once this process's own writes could have
//! taken it past the limit (other processes append too, hence the periodic look, which
//! also notices a rotation done by another process and reopens the new file).

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use opensaf_sys::SaAisErrorT;

use crate::clock::{format_rfc3339, unix_now};
use crate::mutex::lock;

pub const FILE: &str = "events.log";
const ROTATE_AT: u64 = 16 << 20;
/// Lines written between two looks at the file's real size and identity.
pub const CHECK_EVERY: u32 = 64;

/// A field value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Str(String),
    Num(i128),
    Bool(bool),
    Null,
}

impl From<&str> for Val {
    fn from(s: &str) -> Val {
        Val::Str(s.to_string())
    }
}
impl From<String> for Val {
    fn from(s: String) -> Val {
        Val::Str(s)
    }
}
impl From<u64> for Val {
    fn from(n: u64) -> Val {
        Val::Num(i128::from(n))
    }
}
impl From<i64> for Val {
    fn from(n: i64) -> Val {
        Val::Num(i128::from(n))
    }
}
impl From<u32> for Val {
    fn from(n: u32) -> Val {
        Val::Num(i128::from(n))
    }
}
/// An AIS code is recorded by its C name (`SA_AIS_ERR_EXIST`), or its `Display` text
/// when the headers do not know it.
impl From<SaAisErrorT> for Val {
    fn from(code: SaAisErrorT) -> Val {
        Val::Str(code.name().map_or_else(|| code.to_string(), str::to_string))
    }
}
impl From<bool> for Val {
    fn from(b: bool) -> Val {
        Val::Bool(b)
    }
}

/// The open log and what this process knows of its size.
struct Open {
    file: File,
    ino: u64,
    /// The size when last looked at plus what this process wrote since.
    size: u64,
    /// Lines written since the last look.
    lines: u32,
}

pub struct EventLog {
    path: PathBuf,
    file: Mutex<Option<Open>>,
    rotate_at: u64,
}

impl EventLog {
    pub fn new(dir: &Path) -> EventLog {
        EventLog::with_rotation(dir, ROTATE_AT)
    }

    /// A log rotated past `rotate_at` bytes (for tests; [`EventLog::new`] uses 16 MiB).
    pub fn with_rotation(dir: &Path, rotate_at: u64) -> EventLog {
        EventLog {
            path: dir.join(FILE),
            file: Mutex::new(None),
            rotate_at,
        }
    }

    fn open(&self) -> Option<Open> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .ok()?;
        let meta = file.metadata().ok()?;
        Some(Open {
            file,
            ino: meta.ino(),
            size: meta.len(),
            lines: 0,
        })
    }

    /// Whether the open file must be given up: rotated (here, past the limit, or by
    /// another process: the path no longer names it).
    fn must_reopen(&self, o: &mut Open) -> bool {
        o.lines = 0;
        // Rotated by another process: reopen (renaming now would rotate its new file).
        if fs::metadata(&self.path).map_or(true, |m| m.ino() != o.ino) {
            return true;
        }
        match o.file.metadata() {
            Ok(m) => o.size = m.len(),
            Err(_) => return true,
        }
        if o.size > self.rotate_at {
            let _ = fs::rename(&self.path, self.path.with_extension("log.1"));
            return true;
        }
        false
    }

    /// Appends one event. Logging never fails the API call that reports it.
    pub fn emit(&self, event: &str, fields: &[(&str, Val)]) {
        let now = unix_now();
        let mut line = format!(
            "{{\"time\":\"{}\",\"t_us\":{},\"pid\":{},\"event\":\"{}\"",
            format_rfc3339(now),
            now.as_micros(),
            crate::process::pid(),
            json_escape(event)
        );
        for (k, v) in fields {
            line.push_str(&format!(",\"{}\":", json_escape(k)));
            match v {
                Val::Str(s) => line.push_str(&format!("\"{}\"", json_escape(s))),
                Val::Num(n) => line.push_str(&n.to_string()),
                Val::Bool(b) => line.push_str(if *b { "true" } else { "false" }),
                Val::Null => line.push_str("null"),
            }
        }
        line.push_str("}\n");
        let mut guard = lock(&self.file);
        if guard.is_none() {
            *guard = self.open();
        }
        if let Some(o) = guard.as_mut() {
            let _ = o.file.write_all(line.as_bytes());
            o.size += line.len() as u64;
            o.lines += 1;
            if (o.lines >= CHECK_EVERY || o.size > self.rotate_at) && self.must_reopen(o) {
                *guard = None;
            }
        }
    }
}

/// One parsed event line.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub fields: Vec<(String, Val)>,
}

impl Event {
    pub fn get(&self, k: &str) -> Option<&Val> {
        self.fields.iter().find(|(n, _)| n == k).map(|(_, v)| v)
    }

    pub fn str(&self, k: &str) -> Option<&str> {
        match self.get(k)? {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn num(&self, k: &str) -> Option<i128> {
        match self.get(k)? {
            Val::Num(n) => Some(*n),
            _ => None,
        }
    }

    pub fn name(&self) -> &str {
        self.str("event").unwrap_or("")
    }

    /// `time pid event k=v ...` for people.
    pub fn human(&self) -> String {
        let mut s = format!(
            "{} {:>7} {:<18}",
            self.str("time").unwrap_or("?"),
            self.num("pid").unwrap_or(0),
            self.name()
        );
        for (k, v) in &self.fields {
            if matches!(k.as_str(), "time" | "t_us" | "pid" | "event") {
                continue;
            }
            match v {
                Val::Str(x) => s.push_str(&format!(" {k}={x}")),
                Val::Num(n) => s.push_str(&format!(" {k}={n}")),
                Val::Bool(b) => s.push_str(&format!(" {k}={b}")),
                Val::Null => s.push_str(&format!(" {k}=null")),
            }
        }
        s
    }

    /// Parses one line written by [`EventLog::emit`] (a flat JSON object).
    pub fn parse(line: &str) -> Option<Event> {
        let b = line.trim().as_bytes();
        let mut p = 0;
        let ws = |p: &mut usize| {
            while *p < b.len() && b[*p].is_ascii_whitespace() {
                *p += 1;
            }
        };
        let string = |p: &mut usize| -> Option<String> {
            if b.get(*p) != Some(&b'"') {
                return None;
            }
            *p += 1;
            let mut out = Vec::new();
            loop {
                let c = *b.get(*p)?;
                *p += 1;
                match c {
                    b'"' => return String::from_utf8(out).ok(),
                    b'\\' => {
                        let e = *b.get(*p)?;
                        *p += 1;
                        match e {
                            b'n' => out.push(b'\n'),
                            b'r' => out.push(b'\r'),
                            b't' => out.push(b'\t'),
                            b'u' => {
                                let hex = std::str::from_utf8(b.get(*p..*p + 4)?).ok()?;
                                *p += 4;
                                let ch = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                                let mut buf = [0; 4];
                                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                            }
                            other => out.push(other),
                        }
                    }
                    c => out.push(c),
                }
            }
        };
        ws(&mut p);
        if b.get(p) != Some(&b'{') {
            return None;
        }
        p += 1;
        let mut fields = Vec::new();
        loop {
            ws(&mut p);
            if b.get(p) == Some(&b'}') {
                break;
            }
            let k = string(&mut p)?;
            ws(&mut p);
            if b.get(p) != Some(&b':') {
                return None;
            }
            p += 1;
            ws(&mut p);
            let v = match b.get(p)? {
                b'"' => Val::Str(string(&mut p)?),
                b't' if b[p..].starts_with(b"true") => {
                    p += 4;
                    Val::Bool(true)
                }
                b'f' if b[p..].starts_with(b"false") => {
                    p += 5;
                    Val::Bool(false)
                }
                b'n' if b[p..].starts_with(b"null") => {
                    p += 4;
                    Val::Null
                }
                _ => {
                    let start = p;
                    while p < b.len() && (b[p] == b'-' || b[p].is_ascii_digit()) {
                        p += 1;
                    }
                    Val::Num(std::str::from_utf8(&b[start..p]).ok()?.parse().ok()?)
                }
            };
            fields.push((k, v));
            ws(&mut p);
            match b.get(p) {
                Some(b',') => p += 1,
                Some(b'}') => break,
                _ => return None,
            }
        }
        Some(Event { fields })
    }
}

/// Every event in the log of `dir` (the rotated file first), skipping unreadable lines.
pub fn read_all(dir: &Path) -> Vec<Event> {
    let mut out = Vec::new();
    for name in [format!("{FILE}.1"), FILE.to_string()] {
        if let Ok(f) = File::open(dir.join(name)) {
            for line in BufReader::new(f).lines().map_while(Result::ok) {
                if let Some(e) = Event::parse(&line) {
                    out.push(e);
                }
            }
        }
    }
    out
}

/// Escapes a string for a JSON string literal.
pub fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = std::env::temp_dir().join(format!("osim-ev-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let log = EventLog::new(&dir);
        log.emit(
            "hc-answered",
            &[("key", "k\"1".into()), ("latency_us", 42u64.into())],
        );
        let ev = read_all(&dir);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].name(), "hc-answered");
        assert_eq!(ev[0].str("key"), Some("k\"1"));
        assert_eq!(ev[0].num("latency_us"), Some(42));
        fs::remove_dir_all(&dir).unwrap();
    }

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("osim-ev-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn rotation_without_a_size_check_per_line() {
        let dir = temp("rot");
        let log = EventLog::with_rotation(&dir, 4096);
        // ~100 bytes a line: the limit is crossed after ~40 lines; this process's own
        // writes tell it so without waiting for the periodic look.
        let n = 60;
        for i in 0..n {
            log.emit("hc-sent", &[("invocation", (i as u64).into())]);
        }
        let old = fs::metadata(dir.join("events.log.1")).unwrap().len();
        assert!((4096..4096 + 200).contains(&old), "rotated at {old} bytes");
        let ev = read_all(&dir);
        assert_eq!(ev.len(), n, "nothing lost");
        for (i, e) in ev.iter().enumerate() {
            assert_eq!(e.num("invocation"), Some(i as i128), "in order");
            assert_eq!(e.num("pid"), Some(i128::from(std::process::id())));
            assert!(e.str("time").is_some() && e.num("t_us").is_some());
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn writes_of_other_processes_and_their_rotation_are_noticed() {
        let dir = temp("other");
        let log = EventLog::with_rotation(&dir, 8192);
        log.emit("first", &[]);
        // Another process appends past the limit: noticed at the next periodic look.
        let filler = format!("{}\n", "x".repeat(9000));
        OpenOptions::new()
            .append(true)
            .open(dir.join(FILE))
            .unwrap()
            .write_all(filler.as_bytes())
            .unwrap();
        for _ in 0..CHECK_EVERY {
            log.emit("mine", &[]);
        }
        assert!(fs::metadata(dir.join("events.log.1")).unwrap().len() > 8192);
        // Another process rotates: this one follows into the new file within
        // CHECK_EVERY lines, without rotating it again.
        fs::rename(dir.join(FILE), dir.join("events.log.1")).unwrap();
        for _ in 0..CHECK_EVERY + 1 {
            log.emit("after", &[]);
        }
        let current = fs::read_to_string(dir.join(FILE)).unwrap();
        assert!(current.lines().count() >= 1);
        assert!(current
            .lines()
            .all(|l| Event::parse(l).unwrap().name() == "after"));
        fs::remove_dir_all(&dir).unwrap();
    }
}
