//! The HA state of each CSI the component holds. AMF may assign several CSIs and change
//! them one at a time, so "active" is a property of the set: IMM is written while any CSI
//! is ACTIVE, and losing one of two ACTIVE CSIs changes nothing.

use std::collections::BTreeMap;

use crate::osaf::HaState;

#[derive(Debug, Default)]
pub(crate) struct Assignments {
    /// HA state per CSI ("" for one assigned with TARGET_ALL before any was named).
    csis: BTreeMap<String, HaState>,
}

impl Assignments {
    /// A CSI set callback; `csi` is `None` when it targets all CSIs (TARGET_ALL).
    pub fn set(&mut self, csi: Option<&str>, ha: HaState) {
        match csi {
            // TARGET_ALL: every CSI this component holds (or the one it is about to hold).
            None if self.csis.is_empty() => {
                self.csis.insert(String::new(), ha);
            }
            None => self.csis.values_mut().for_each(|s| *s = ha),
            Some(name) => {
                self.csis.insert(name.to_string(), ha);
            }
        }
    }

    /// A CSI remove callback; `None` removes every CSI (TARGET_ALL).
    pub fn remove(&mut self, csi: Option<&str>) {
        match csi {
            None => self.csis.clear(),
            Some(name) => {
                self.csis.remove(name);
            }
        }
    }

    /// Whether IMM may be written.
    pub fn any_active(&self) -> bool {
        self.csis.values().any(|s| *s == HaState::Active)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_while_any_named_csi_is_active() {
        let mut a = Assignments::default();
        assert!(!a.any_active());
        a.set(Some("safCsi=A"), HaState::Active);
        a.set(Some("safCsi=B"), HaState::Active);
        assert!(a.any_active());
        // One CSI quiesced or on standby: the other still asks for writes.
        a.set(Some("safCsi=A"), HaState::Quiescing);
        assert!(a.any_active());
        a.set(Some("safCsi=A"), HaState::Quiesced);
        a.set(Some("safCsi=B"), HaState::Standby);
        assert!(!a.any_active());
        a.set(Some("safCsi=B"), HaState::Active);
        assert!(a.any_active());
        // Removing the only ACTIVE one stops writes; the other keeps its own state.
        a.remove(Some("safCsi=B"));
        assert!(!a.any_active());
        a.remove(Some("safCsi=unknown"));
        assert!(!a.any_active());
        a.set(Some("safCsi=A"), HaState::Active);
        assert!(a.any_active());
    }

    #[test]
    fn target_all_sets_every_held_csi_or_stands_for_the_first() {
        let mut a = Assignments::default();
        // Before any CSI was named, TARGET_ALL stands for the one about to be held.
        a.set(None, HaState::Active);
        assert!(a.any_active());
        a.set(None, HaState::Standby);
        assert!(!a.any_active());
        a.remove(None);
        a.set(Some("safCsi=A"), HaState::Standby);
        a.set(Some("safCsi=B"), HaState::Quiesced);
        // TARGET_ALL changes every CSI held, adding none.
        a.set(None, HaState::Active);
        assert!(a.any_active());
        a.remove(Some("safCsi=A"));
        assert!(a.any_active(), "B was made ACTIVE by TARGET_ALL too");
        a.remove(None);
        assert!(!a.any_active());
        a.set(Some("safCsi=C"), HaState::Quiescing);
        assert!(!a.any_active());
    }

    #[test]
    fn an_unknown_ha_state_is_not_active() {
        let mut a = Assignments::default();
        a.set(Some("safCsi=A"), HaState::Other(42));
        assert!(!a.any_active());
    }
}
