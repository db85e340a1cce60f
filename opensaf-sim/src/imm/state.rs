//! The in-memory IMM contents every process rebuilds from the journal.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use super::journal::Op;
use super::model::{ClassDef, Object, Value};
use super::rules::parent_of;

/// The IMM service object holding `longDnsAllowed` (created with the system model).
pub const IMM_SERVICE_DN: &str = "opensafImm=opensafImm,safApp=safImmService";

/// Who holds an implementer name: a handle (`token`) in the process `pid` started at `start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    pub start: u64,
    pub token: u64,
}

#[derive(Debug, Default, Clone)]
pub struct ImmState {
    pub classes: HashMap<String, Arc<ClassDef>>,
    pub objects: HashMap<String, Object>,
    /// Children by parent DN ("" holds the top-level objects), sorted for stable output.
    pub children: HashMap<String, BTreeSet<String>>,
    pub implementers: HashMap<String, Holder>,
    /// When each implementer name nobody holds was let go (Unix ns): IMM keeps showing
    /// its objects' cached values for a while after (`om::Visibility`).
    pub released: HashMap<String, u64>,
}

impl ImmState {
    /// Applies one journal operation. Replay never fails: an operation that no longer fits
    /// (which a validated journal never holds) is skipped.
    pub fn apply(&mut self, op: &Op) {
        match op {
            Op::DefineClass(c) => {
                self.classes.insert(c.name.clone(), Arc::new(c.clone()));
            }
            Op::Create {
                dn,
                class,
                implementer,
                attrs,
            } => {
                let Some(c) = self.classes.get(class).cloned() else {
                    return;
                };
                if self.objects.contains_key(dn) {
                    return;
                }
                let mut values = vec![Vec::new(); c.attrs.len()];
                for (name, vals) in attrs {
                    if let Some(i) = c.attr_index(name) {
                        values[i] = vals.clone();
                    }
                }
                self.children
                    .entry(parent_of(dn).to_string())
                    .or_default()
                    .insert(dn.clone());
                self.objects.insert(
                    dn.clone(),
                    Object {
                        class: c,
                        values,
                        implementer: implementer.clone(),
                    },
                );
            }
            Op::SetAttrs { dn, attrs } => {
                if let Some(o) = self.objects.get_mut(dn) {
                    for (name, vals) in attrs {
                        if let Some(i) = o.class.attr_index(name) {
                            o.values[i] = vals.clone();
                        }
                    }
                }
            }
            Op::Delete { dn } => self.delete_subtree(dn),
            Op::ImplSet {
                name,
                pid,
                start,
                token,
            } => {
                self.released.remove(name);
                self.implementers.insert(
                    name.clone(),
                    Holder {
                        pid: *pid,
                        start: *start,
                        token: *token,
                    },
                );
            }
            Op::ImplRelease { name, token, at_ns } => match self.implementers.get(name) {
                Some(h) if h.token != *token => {}
                _ => {
                    self.implementers.remove(name);
                    self.released.insert(name.clone(), *at_ns);
                }
            },
        }
    }

    fn delete_subtree(&mut self, dn: &str) {
        if self.objects.remove(dn).is_none() {
            return;
        }
        if let Some(siblings) = self.children.get_mut(parent_of(dn)) {
            siblings.remove(dn);
            if siblings.is_empty() {
                self.children.remove(parent_of(dn));
            }
        }
        let mut stack: Vec<String> = self
            .children
            .remove(dn)
            .map(|s| s.into_iter().collect())
            .unwrap_or_default();
        while let Some(d) = stack.pop() {
            self.objects.remove(&d);
            if let Some(kids) = self.children.remove(&d) {
                stack.extend(kids);
            }
        }
    }

    /// `dn` (unless "") and all its descendants, parents before children.
    pub fn subtree(&self, dn: &str) -> Vec<String> {
        let mut out = Vec::new();
        if !dn.is_empty() {
            out.push(dn.to_string());
        }
        let mut i = 0;
        let mut frontier = vec![dn.to_string()];
        while i < frontier.len() {
            if let Some(kids) = self.children.get(&frontier[i]) {
                for k in kids {
                    out.push(k.clone());
                    frontier.push(k.clone());
                }
            }
            i += 1;
        }
        out
    }

    pub fn children_of(&self, dn: &str) -> impl Iterator<Item = &String> {
        self.children.get(dn).into_iter().flatten()
    }

    /// The operations that rebuild this state (for compaction).
    pub fn snapshot_ops(&self) -> Vec<Op> {
        let mut ops = Vec::with_capacity(self.classes.len() + self.objects.len() + 8);
        let mut classes: Vec<_> = self.classes.values().collect();
        classes.sort_by(|a, b| a.name.cmp(&b.name));
        ops.extend(classes.into_iter().map(|c| Op::DefineClass((**c).clone())));
        for dn in self.subtree("") {
            let o = &self.objects[&dn];
            let attrs = o
                .class
                .attrs
                .iter()
                .zip(&o.values)
                .filter(|(_, v)| !v.is_empty())
                .map(|(a, v)| (a.name.clone(), v.clone()))
                .collect();
            ops.push(Op::Create {
                dn,
                class: o.class.name.clone(),
                implementer: o.implementer.clone(),
                attrs,
            });
        }
        let mut imps: Vec<_> = self.implementers.iter().collect();
        imps.sort_by(|a, b| a.0.cmp(b.0));
        for (name, h) in imps {
            ops.push(Op::ImplSet {
                name: name.clone(),
                pid: h.pid,
                start: h.start,
                token: h.token,
            });
        }
        let mut released: Vec<_> = self.released.iter().collect();
        released.sort();
        ops.extend(released.into_iter().map(|(name, at)| Op::ImplRelease {
            name: name.clone(),
            token: 0,
            at_ns: *at,
        }));
        ops
    }

    /// An attribute's values by name, for simple lookups (AMF configuration).
    pub fn attr_values(&self, dn: &str, attr: &str) -> Option<&[Value]> {
        self.objects.get(dn)?.get(attr)
    }

    /// Whether long DNs are allowed by the IMM service object (`longDnsAllowed=1`).
    pub fn long_dns_allowed(&self) -> bool {
        matches!(
            self.attr_values(IMM_SERVICE_DN, "longDnsAllowed"),
            Some([Value::Uint32(1)])
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(name: &str, token: u64) -> Op {
        Op::ImplSet {
            name: name.into(),
            pid: 1,
            start: 2,
            token,
        }
    }

    fn release(name: &str, token: u64, at_ns: u64) -> Op {
        Op::ImplRelease {
            name: name.into(),
            token,
            at_ns,
        }
    }

    #[test]
    fn release_times_follow_the_holder_and_survive_compaction() {
        let mut st = ImmState::default();
        for op in [
            set("a", 1),
            release("a", 1, 100),
            set("b", 2),
            release("b", 9, 200), // another handle's release: b stays held
            set("c", 3),
            release("c", 3, 300),
            set("c", 4), // set again: no longer released
        ] {
            st.apply(&op);
        }
        assert_eq!(st.released, HashMap::from([("a".to_string(), 100)]));
        assert_eq!(
            st.implementers.keys().collect::<BTreeSet<_>>(),
            BTreeSet::from([&"b".to_string(), &"c".to_string()])
        );
        let mut rebuilt = ImmState::default();
        for op in st.snapshot_ops() {
            rebuilt.apply(&op);
        }
        assert_eq!(rebuilt.released, st.released);
        assert_eq!(rebuilt.implementers, st.implementers);
    }
}
