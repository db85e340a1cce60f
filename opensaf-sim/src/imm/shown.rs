//! How OM reads show objects whose implementer is gone, as measured on OpenSAF 5.21.03
//! (opensaf-sim/README.md, "Implementers that are gone"):
//!
//! * while the implementer name is held by a live process, every value reads as stored;
//! * once it was let go (the process exited, finalized or cleared it, or IMM released its
//!   node), reads stay as they were for `imm_detach_ms` (IMM's `DEFAULT_TIMEOUT_SEC`, 6 s);
//! * after that every runtime attribute reads with no values (the RDN and the system
//!   attributes included), except persistent ones, and the system attributes of a class
//!   with a persistent attribute (IMM makes them persistent too). Searches still find the
//!   objects: a filter matches the stored values;
//! * as soon as any process sets the name again, the stored values read again.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::alive;
use super::model::{flags, Category, Object, Value, ValueType};
use super::oi::holder_alive;
use super::state::ImmState;

/// Decides, once per implementer name and read, whether its objects' values show.
pub struct Visibility<'s> {
    st: &'s ImmState,
    dir: &'s Path,
    detach: Duration,
    now: SystemTime,
    shown: RefCell<HashMap<String, bool>>,
}

impl<'s> Visibility<'s> {
    pub fn new(st: &'s ImmState, dir: &'s Path, detach_ms: u64) -> Visibility<'s> {
        Visibility {
            st,
            dir,
            detach: Duration::from_millis(detach_ms),
            now: SystemTime::now(),
            shown: RefCell::default(),
        }
    }

    fn values_shown(&self, implementer: &str) -> bool {
        if let Some(v) = self.shown.borrow().get(implementer) {
            return *v;
        }
        let until = match self.st.implementers.get(implementer) {
            Some(h) if holder_alive(h) => None,
            // The beat dates the death to within a beat: count from the latest it can be.
            Some(h) => Some(
                alive::last_beat(self.dir, h.pid, h.start)
                    .map_or(UNIX_EPOCH, |t| t + alive::BEAT + self.detach),
            ),
            None => Some(self.st.released.get(implementer).map_or(UNIX_EPOCH, |ns| {
                UNIX_EPOCH + Duration::from_nanos(*ns) + self.detach
            })),
        };
        let v = until.is_none_or(|u| self.now < u);
        self.shown.borrow_mut().insert(implementer.to_string(), v);
        v
    }

    pub fn show<'o>(&self, o: &'o Object) -> Shown<'o> {
        let blank = o
            .implementer
            .as_deref()
            .is_some_and(|name| !self.values_shown(name));
        Shown { object: o, blank }
    }
}

/// An object as an OM read shows it.
pub struct Shown<'o> {
    pub object: &'o Object,
    /// Its implementer is gone for longer than `imm_detach_ms`.
    pub blank: bool,
}

impl Shown<'_> {
    /// Whether `attr` keeps its values when the implementer is gone.
    fn keeps(&self, attr: &str) -> bool {
        let c = &self.object.class;
        match c.attr_index(attr) {
            Some(i) => !c.attrs[i].is(flags::RUNTIME) || c.attrs[i].is(flags::PERSISTENT),
            // A system attribute: configuration in a configuration class, else runtime and
            // persistent when any attribute of the class is.
            None => {
                c.category == Category::Config || c.attrs.iter().any(|a| a.is(flags::PERSISTENT))
            }
        }
    }

    fn values(&self, name: &str, vals: Vec<Value>) -> Vec<Value> {
        if self.blank && !self.keeps(name) {
            Vec::new()
        } else {
            vals
        }
    }

    /// One attribute (system ones included), or None if the class has no such attribute.
    pub fn attr(&self, name: &str) -> Option<(ValueType, Vec<Value>)> {
        let (t, v) = self.object.attr(name)?;
        Some((t, self.values(name, v)))
    }

    /// Every attribute, system attributes included.
    pub fn all_attrs(&self) -> Vec<(String, ValueType, Vec<Value>)> {
        self.object
            .all_attrs()
            .into_iter()
            .map(|(n, t, v)| {
                let v = self.values(&n, v);
                (n, t, v)
            })
            .collect()
    }
}
