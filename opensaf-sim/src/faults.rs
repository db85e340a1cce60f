//! Injected IMM faults. A fault is described by a one-line spec (what `opensaf-sim fault`
//! sends through a process's CLI server or leaves in `faults.pending`):
//!
//! * `try-again count=N` / `try-again ms=T`: the next N calls (or all calls for T ms)
//!   answer SA_AIS_ERR_TRY_AGAIN without doing anything;
//! * `timeout count=N`: the next N calls are carried out, then answer SA_AIS_ERR_TIMEOUT;
//! * `delay ms=T [count=N | for_ms=T2]`: calls take T ms longer;
//! * `refuse op=create|update dn=DN code=N`: every runtime object create (or update) of
//!   that DN answers code N without doing anything, until `clear` (an object IMM refuses
//!   for a reason of its own, whatever the other objects);
//! * `bad-handle`: handled by the IMM libraries (every existing handle turns stale);
//! * `clear`: removes all of the above.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::clock::unix_ms;
use crate::mutex::lock;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Limit {
    Count(u64),
    Until(Instant),
}

impl Limit {
    fn live(&self, now: Instant) -> bool {
        match self {
            Limit::Count(n) => *n > 0,
            Limit::Until(t) => now < *t,
        }
    }

    /// Uses up one call; returns whether the fault applied to it.
    fn consume(&mut self, now: Instant) -> bool {
        match self {
            Limit::Count(n) if *n > 0 => {
                *n -= 1;
                true
            }
            Limit::Until(t) => now < *t,
            _ => false,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    try_again: Option<Limit>,
    timeout: Option<Limit>,
    delay: Option<(Duration, Limit)>,
    refusals: Vec<(RtOp, String, u32)>,
}

impl State {
    fn any(&self) -> bool {
        self.try_again.is_some()
            || self.timeout.is_some()
            || self.delay.is_some()
            || !self.refusals.is_empty()
    }
}

/// The runtime object writes `refuse` can apply to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtOp {
    Create,
    Update,
}

impl RtOp {
    fn name(self) -> &'static str {
        match self {
            RtOp::Create => "create",
            RtOp::Update => "update",
        }
    }
}

/// What an IMM call must do under the current faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Decision {
    pub delay: Duration,
    pub try_again: bool,
    pub timeout_after: bool,
}

#[derive(Default)]
pub struct Faults {
    state: Mutex<State>,
    /// Fast path: no lock on the hot path while no fault is set.
    active: AtomicBool,
}

/// A parsed spec.
#[derive(Debug, Clone, PartialEq)]
pub enum Spec {
    TryAgainCount(u64),
    /// Until this Unix time in ms (absolute, so a pending spec keeps its window).
    TryAgainUntil(u64),
    TimeoutCount(u64),
    Delay {
        ms: u64,
        count: Option<u64>,
        until_unix_ms: Option<u64>,
    },
    Refuse {
        op: RtOp,
        dn: String,
        code: u32,
    },
    BadHandle,
    Clear,
}

/// The text after `key=` in one of `words`.
fn word<'a>(words: &[&'a str], key: &str) -> Option<&'a str> {
    words
        .iter()
        .find_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
}

fn kv(words: &[&str], key: &str) -> Result<Option<u64>, String> {
    for w in words {
        if let Some(v) = w.strip_prefix(key).and_then(|r| r.strip_prefix('=')) {
            return v
                .parse()
                .map(Some)
                .map_err(|_| format!("{key}: '{v}' is not a number"));
        }
    }
    Ok(None)
}

impl Spec {
    /// Parses `try-again count=3` etc. Relative windows (`ms=`, `for_ms=`) are turned into
    /// absolute times now.
    pub fn parse(line: &str) -> Result<Spec, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let now = unix_ms();
        match words.first().copied() {
            Some("try-again") => match (
                kv(&words, "count")?,
                kv(&words, "ms")?,
                kv(&words, "until")?,
            ) {
                (Some(n), None, None) => Ok(Spec::TryAgainCount(n)),
                (None, Some(ms), None) => Ok(Spec::TryAgainUntil(now + ms)),
                (None, None, Some(t)) => Ok(Spec::TryAgainUntil(t)),
                _ => Err("try-again needs exactly one of count=N or ms=T".into()),
            },
            Some("timeout") => match kv(&words, "count")? {
                Some(n) => Ok(Spec::TimeoutCount(n)),
                None => Err("timeout needs count=N".into()),
            },
            Some("delay") => {
                let ms = kv(&words, "ms")?.ok_or("delay needs ms=T")?;
                let count = kv(&words, "count")?;
                let until = match (kv(&words, "for_ms")?, kv(&words, "until")?) {
                    (Some(f), _) => Some(now + f),
                    (None, u) => u,
                };
                if count.is_some() && until.is_some() {
                    return Err("delay takes count=N or for_ms=T, not both".into());
                }
                Ok(Spec::Delay {
                    ms,
                    count,
                    until_unix_ms: until,
                })
            }
            Some("refuse") => {
                let op = match word(&words, "op") {
                    Some("create") => RtOp::Create,
                    Some("update") => RtOp::Update,
                    _ => return Err("refuse needs op=create or op=update".into()),
                };
                let dn = word(&words, "dn").filter(|d| !d.is_empty());
                let dn = dn.ok_or("refuse needs dn=DN")?.to_string();
                let code = kv(&words, "code")?.ok_or("refuse needs code=N (an SaAisErrorT)")?;
                match u32::try_from(code) {
                    Ok(code) if code > 1 => Ok(Spec::Refuse { op, dn, code }),
                    _ => Err(format!("refuse: code {code} is not an error code")),
                }
            }
            Some("bad-handle") => Ok(Spec::BadHandle),
            Some("clear") => Ok(Spec::Clear),
            _ => Err(format!("unknown fault '{line}'")),
        }
    }

    /// The spec with absolute times, for persisting.
    pub fn render(&self) -> String {
        match self {
            Spec::TryAgainCount(n) => format!("try-again count={n}"),
            Spec::TryAgainUntil(t) => format!("try-again until={t}"),
            Spec::TimeoutCount(n) => format!("timeout count={n}"),
            Spec::Delay {
                ms,
                count,
                until_unix_ms,
            } => {
                let mut s = format!("delay ms={ms}");
                if let Some(c) = count {
                    s.push_str(&format!(" count={c}"));
                }
                if let Some(u) = until_unix_ms {
                    s.push_str(&format!(" until={u}"));
                }
                s
            }
            Spec::Refuse { op, dn, code } => {
                format!("refuse op={} dn={dn} code={code}", op.name())
            }
            Spec::BadHandle => "bad-handle".into(),
            Spec::Clear => "clear".into(),
        }
    }
}

fn until(unix: u64) -> Limit {
    let now = unix_ms();
    Limit::Until(Instant::now() + Duration::from_millis(unix.saturating_sub(now)))
}

impl Faults {
    /// Applies a spec (bad-handle is not a standing fault and is ignored here).
    pub fn apply(&self, spec: &Spec) {
        let mut s = lock(&self.state);
        match spec {
            Spec::TryAgainCount(n) => s.try_again = Some(Limit::Count(*n)),
            Spec::TryAgainUntil(t) => s.try_again = Some(until(*t)),
            Spec::TimeoutCount(n) => s.timeout = Some(Limit::Count(*n)),
            Spec::Delay {
                ms,
                count,
                until_unix_ms,
            } => {
                let limit = match (count, until_unix_ms) {
                    (Some(c), _) => Limit::Count(*c),
                    (None, Some(u)) => until(*u),
                    (None, None) => Limit::Count(u64::MAX),
                };
                s.delay = Some((Duration::from_millis(*ms), limit));
            }
            Spec::Refuse { op, dn, code } => {
                s.refusals.retain(|(o, d, _)| (o, d) != (op, dn));
                s.refusals.push((*op, dn.clone(), *code));
            }
            Spec::Clear => *s = State::default(),
            Spec::BadHandle => {}
        }
        self.active.store(s.any(), Ordering::Release);
    }

    /// The code a `refuse` fault answers for this write of `dn`, if one is set.
    pub fn refusal(&self, op: RtOp, dn: &str) -> Option<u32> {
        if !self.active.load(Ordering::Acquire) {
            return None;
        }
        let s = lock(&self.state);
        s.refusals
            .iter()
            .find(|(o, d, _)| *o == op && d == dn)
            .map(|(_, _, code)| *code)
    }

    /// Decides the fate of one IMM server call (and uses up counted faults).
    pub fn decide(&self) -> Decision {
        if !self.active.load(Ordering::Acquire) {
            return Decision::default();
        }
        let now = Instant::now();
        let mut s = lock(&self.state);
        let mut d = Decision::default();
        if let Some((ms, limit)) = &mut s.delay {
            if limit.consume(now) {
                d.delay = *ms;
            }
        }
        if let Some(l) = &mut s.try_again {
            d.try_again = l.consume(now);
        }
        if !d.try_again {
            if let Some(l) = &mut s.timeout {
                d.timeout_after = l.consume(now);
            }
        }
        if !s.try_again.is_some_and(|l| l.live(now)) {
            s.try_again = None;
        }
        if !s.timeout.is_some_and(|l| l.live(now)) {
            s.timeout = None;
        }
        if !s.delay.is_some_and(|(_, l)| l.live(now)) {
            s.delay = None;
        }
        self.active.store(s.any(), Ordering::Release);
        d
    }

    /// A description of the standing faults (for `status`).
    pub fn describe(&self) -> String {
        let s = lock(&self.state);
        format!("{s:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_try_again() {
        let f = Faults::default();
        f.apply(&Spec::parse("try-again count=2").unwrap());
        assert!(f.decide().try_again);
        assert!(f.decide().try_again);
        assert!(!f.decide().try_again);
    }

    #[test]
    fn timeout_and_delay() {
        let f = Faults::default();
        f.apply(&Spec::parse("timeout count=1").unwrap());
        f.apply(&Spec::parse("delay ms=5 count=1").unwrap());
        let d = f.decide();
        assert!(d.timeout_after);
        assert_eq!(d.delay, Duration::from_millis(5));
        assert_eq!(f.decide(), Decision::default());
        assert!(Spec::parse("bogus").is_err());
    }

    #[test]
    fn refuse_one_dn_for_one_kind_of_write_until_cleared() {
        let f = Faults::default();
        let line = "refuse op=create dn=a=x\\,y,b=1 code=7";
        let spec = Spec::parse(line).unwrap();
        assert_eq!(
            spec.render(),
            line,
            "the DN is kept whole, '=' and ',' included"
        );
        f.apply(&spec);
        assert_eq!(f.refusal(RtOp::Create, "a=x\\,y,b=1"), Some(7));
        assert_eq!(f.refusal(RtOp::Update, "a=x\\,y,b=1"), None);
        assert_eq!(f.refusal(RtOp::Create, "a=z,b=1"), None);
        // Standing: every call, and other calls are not touched.
        assert_eq!(f.decide(), Decision::default());
        assert_eq!(f.refusal(RtOp::Create, "a=x\\,y,b=1"), Some(7));
        f.apply(&Spec::parse("refuse op=create dn=a=x\\,y,b=1 code=13").unwrap());
        assert_eq!(f.refusal(RtOp::Create, "a=x\\,y,b=1"), Some(13), "replaced");
        f.apply(&Spec::Clear);
        assert_eq!(f.refusal(RtOp::Create, "a=x\\,y,b=1"), None);
        for bad in [
            "refuse dn=a=1 code=7",
            "refuse op=delete dn=a=1 code=7",
            "refuse op=create code=7",
            "refuse op=create dn=a=1",
            "refuse op=create dn=a=1 code=1",
        ] {
            assert!(Spec::parse(bad).is_err(), "{bad}");
        }
    }
}
