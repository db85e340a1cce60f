//! The pure decision: which departed nodes to act for, and when.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::model::MirrorState;

/// Timing rules (see the module documentation).
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a node must have been gone before anyone acts (`--depart-grace`).
    pub grace: Duration,
    /// How much later each further rank acts (`--depart-stagger`).
    pub stagger: Duration,
    /// Pause after EXIST on the implementer name (a dead node's name is released ~10 s
    /// after it died, another survivor's within milliseconds).
    pub busy_retry: Duration,
    /// For this long after the first EXIST, retry at `busy_retry`; then at `slow_retry`.
    pub busy_fast_for: Duration,
    /// Pause after other failures, and after EXIST has lasted `busy_fast_for`.
    pub slow_retry: Duration,
    /// Read IMM's node objects again after this long even without a departure (a survivor
    /// holding a DEPARTED node may have stopped, which no membership change shows).
    pub reread: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            grace: Duration::from_secs(5),
            stagger: Duration::from_secs(3),
            busy_retry: Duration::from_millis(100),
            busy_fast_for: Duration::from_secs(15),
            slow_retry: Duration::from_secs(1),
            reread: Duration::from_secs(60),
        }
    }
}

/// How one attempt to act for a node ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing left to do (acted, found DEPARTED already, or no node object) until it joins
    /// and leaves again, or an IMM read shows it unmarked.
    Settled,
    /// The implementer name is held (not released yet, or another survivor acts).
    Busy,
    /// Another error; try again later.
    Failed,
    /// The caller found the node back (its check after taking the implementer).
    Rejoined,
}

/// A node to act for now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub node: String,
    /// How long ago it left (or was found gone).
    pub gone_for: Duration,
    /// This node's rank among the members.
    pub rank: usize,
}

#[derive(Debug, Clone)]
struct Pending {
    /// When it left CLM, or when it was found in IMM without being a member.
    since: Instant,
    /// No attempt before this (after Busy / Failed).
    not_before: Option<Instant>,
    first_busy: Option<Instant>,
}

/// Decides when to act for which departed node; fed with CLM membership, IMM's node
/// objects and the time, it makes no call itself.
#[derive(Debug)]
pub struct Planner {
    me: String,
    s: Settings,
    /// The current CLM members; None until the first full view.
    members: Option<BTreeSet<String>>,
    pending: BTreeMap<String, Pending>,
    /// Node objects IMM showed before membership was known; placed at the first view.
    unplaced: BTreeSet<String>,
    /// When IMM's node objects were last given; None: never.
    imm_read: Option<Instant>,
    /// A member left since then: what IMM holds may have changed.
    imm_stale: bool,
}

impl Planner {
    pub fn new(me: &str, s: Settings) -> Planner {
        Planner {
            me: me.to_string(),
            s,
            members: None,
            pending: BTreeMap::new(),
            unplaced: BTreeSet::new(),
            imm_read: None,
            imm_stale: false,
        }
    }

    /// A full membership view (CLM's SA_TRACK_CURRENT answer, at start or after CLM was
    /// initialized again). Members known before and missing now have left.
    pub fn clm_view<I, S>(&mut self, members: I, now: Instant)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let new: BTreeSet<String> = members.into_iter().map(Into::into).collect();
        let gone: Vec<String> = match &self.members {
            Some(old) => old.difference(&new).cloned().collect(),
            None => Vec::new(),
        };
        for n in &new {
            self.rejoined(n);
        }
        self.members = Some(new);
        for n in gone {
            self.left(n, now);
        }
        let unplaced = std::mem::take(&mut self.unplaced);
        self.place(unplaced.into_iter().map(|n| (n, None)), now);
    }

    /// One membership change (a CLM track callback's item).
    pub fn clm_change(&mut self, node: &str, member: bool, now: Instant) {
        let Some(members) = self.members.as_mut() else {
            // Changes before the first view cannot be placed; the view will tell.
            return;
        };
        if member {
            members.insert(node.to_string());
            self.rejoined(node);
        } else if members.remove(node) {
            self.left(node.to_string(), now);
        }
    }

    /// CLM tracking is lost (its handle must be initialized again): until the next full
    /// view nothing is acted for, since nobody can tell who is a member.
    pub fn clm_lost(&mut self) {
        self.members = None;
        self.imm_read = None;
    }

    /// The node objects IMM holds (node name, `mirrorState`; None when it reads `<Empty>`).
    /// Nodes that are not members and not DEPARTED left while nobody watched, or their
    /// DEPARTED mark went with a survivor that stopped: they are acted for, counted from now.
    /// Give what was read just now (the planner takes it as the truth at `now`).
    pub fn imm_nodes<I, S>(&mut self, nodes: I, now: Instant)
    where
        I: IntoIterator<Item = (S, Option<MirrorState>)>,
        S: Into<String>,
    {
        if self.members.is_some() {
            self.imm_read = Some(now);
            self.imm_stale = false;
        }
        self.place(nodes, now);
    }

    /// Takes node objects read from IMM (see [`Planner::imm_nodes`]) into account, without
    /// counting as a read (nodes read before membership was known are placed this way).
    fn place<I, S>(&mut self, nodes: I, now: Instant)
    where
        I: IntoIterator<Item = (S, Option<MirrorState>)>,
        S: Into<String>,
    {
        for (name, state) in nodes {
            let name: String = name.into();
            if state == Some(MirrorState::Departed) {
                self.unplaced.remove(&name);
                self.pending.remove(&name);
                continue;
            }
            let Some(members) = &self.members else {
                self.unplaced.insert(name);
                continue;
            };
            if name == self.me || members.contains(&name) || self.pending.contains_key(&name) {
                continue;
            }
            self.pending.insert(
                name,
                Pending {
                    since: now,
                    not_before: None,
                    first_busy: None,
                },
            );
        }
    }

    /// Whether the caller should read IMM's node objects now and give them to
    /// [`Planner::imm_nodes`]: not read since membership is known, a member left since, or
    /// `reread` has passed.
    pub fn wants_imm_read(&self, now: Instant) -> bool {
        match self.imm_read {
            None => true,
            Some(t) => self.imm_stale || now.saturating_duration_since(t) >= self.s.reread,
        }
    }

    /// When [`Planner::wants_imm_read`] turns true with nothing else happening (for the
    /// caller's poll timeout); None: IMM was never read with membership known.
    pub fn next_imm_read(&self) -> Option<Instant> {
        self.imm_read.map(|t| t + self.s.reread)
    }

    /// Whether `node` is a CLM member now.
    pub fn is_member(&self, node: &str) -> bool {
        self.members.as_ref().is_some_and(|m| m.contains(node))
    }

    /// This node's rank among the members (position by name), or None when it is not a
    /// member itself or membership is unknown: then it acts for nobody.
    pub fn rank(&self) -> Option<usize> {
        self.members.as_ref()?.iter().position(|m| *m == self.me)
    }

    fn ready_at(&self, p: &Pending, rank: usize) -> Instant {
        let turn = p.since + self.s.grace + self.s.stagger * rank as u32;
        p.not_before.map_or(turn, |t| t.max(turn))
    }

    /// The nodes to act for now. Dispatch pending CLM callbacks first, so a node that came
    /// back is not acted for.
    pub fn due(&self, now: Instant) -> Vec<Due> {
        let Some(rank) = self.rank() else {
            return Vec::new();
        };
        self.pending
            .iter()
            .filter(|(_, p)| self.ready_at(p, rank) <= now)
            .map(|(node, p)| Due {
                node: node.clone(),
                gone_for: now.saturating_duration_since(p.since),
                rank,
            })
            .collect()
    }

    /// When [`Planner::due`] will next have something (for the caller's poll timeout).
    pub fn next_due(&self) -> Option<Instant> {
        let rank = self.rank()?;
        self.pending.values().map(|p| self.ready_at(p, rank)).min()
    }

    /// How an attempt for `node` ended.
    pub fn outcome(&mut self, node: &str, outcome: Outcome, now: Instant) {
        match outcome {
            Outcome::Settled => {
                self.pending.remove(node);
            }
            Outcome::Rejoined => {
                // Its join callback is on its way; until then, do not insist.
                if let Some(p) = self.pending.get_mut(node) {
                    p.not_before = Some(now + self.s.slow_retry);
                }
            }
            Outcome::Busy => {
                let (fast, fast_for) = (self.s.busy_retry, self.s.busy_fast_for);
                let slow = self.s.slow_retry;
                if let Some(p) = self.pending.get_mut(node) {
                    let first = *p.first_busy.get_or_insert(now);
                    let pause = if now.saturating_duration_since(first) < fast_for {
                        fast
                    } else {
                        slow
                    };
                    p.not_before = Some(now + pause);
                }
            }
            Outcome::Failed => {
                let slow = self.s.slow_retry;
                if let Some(p) = self.pending.get_mut(node) {
                    p.not_before = Some(now + slow);
                }
            }
        }
    }

    /// Nodes waiting to be acted for (for logs and tests).
    pub fn pending(&self) -> impl Iterator<Item = &str> {
        self.pending.keys().map(String::as_str)
    }

    fn rejoined(&mut self, node: &str) {
        self.pending.remove(node);
    }

    fn left(&mut self, node: String, now: Instant) {
        self.imm_stale = true;
        if node == self.me {
            return;
        }
        self.pending.entry(node).or_insert(Pending {
            since: now,
            not_before: None,
            first_busy: None,
        });
    }
}
