//! `Scheduler`: the modelled Volcano scheduler built once per run from a typed
//! `SchedulerConf`. It owns the plugins (built once; each session only resets their
//! per-session state through `OnSessionOpen`) and the cross-cycle speed caches
//! (`policy::accel`); `cycle` runs one scheduling cycle on a `Snapshot`.
//!
//! Mirrors volcano pkg/scheduler/scheduler.go (`runOnce`: open a session, run the actions in
//! conf order, close it). No I/O, no clock, no global state: `now` and the tie-breaking RNG are
//! passed in. Depends on policy types and `model` only.

use super::accel::{request_key, Accel};
use super::conf::{ConfError, Flag, SchedulerConf};
use super::plugins;
use super::session::{CycleOutput, Session, TieBreak};
use super::snapshot::Snapshot;
use super::tiers::{Slot, Tiers};

/// The scheduler of one run: conf, plugins and caches.
pub struct Scheduler {
    conf: SchedulerConf,
    tiers: Tiers,
    accel: Accel,
    /// Identity of the node-scoring configuration (keys the score cache).
    score_fingerprint: u64,
    /// See `Session::shortcuts`.
    shortcuts: bool,
    /// A heap cell whose address tells this scheduler's cache stamps from those of other
    /// schedulers alive at the same time (`Accel::attach`).
    anchor: Box<u64>,
}

impl Scheduler {
    /// Builds the plugins of every tier. Fails only on a conf that `parse_scheduler_conf`
    /// would have refused (checked again here for confs built in code).
    pub fn new(conf: &SchedulerConf) -> Result<Scheduler, ConfError> {
        conf.validate()?;
        Ok(Scheduler::new_unvalidated(conf))
    }

    /// Builds the plugins without the cross-entry checks of `SchedulerConf::validate`, as
    /// Volcano's unit tests do (they build tiers directly, bypassing the conf parser — e.g.
    /// hdrf_test.go puts hierarchical drf and proportion in one tier). For the conformance
    /// runner; a run always goes through [`Scheduler::new`].
    pub fn new_unvalidated(conf: &SchedulerConf) -> Scheduler {
        let mut tiers = Tiers::default();
        for tier in &conf.tiers {
            let slots = tier
                .iter()
                .map(|pc| Slot {
                    flags: pc.flags,
                    plugin: plugins::build(pc),
                })
                .collect();
            tiers.tiers.push(slots);
        }
        tiers.index_flags();
        Scheduler {
            conf: conf.clone(),
            tiers,
            accel: Accel::default(),
            score_fingerprint: score_fingerprint(conf),
            shortcuts: true,
            anchor: Box::new(0),
        }
    }

    /// The conf this scheduler was built from.
    pub fn conf(&self) -> &SchedulerConf {
        &self.conf
    }

    /// Turns the shortcuts that never change a decision on or off (on by default): with them
    /// off, every session starts with empty caches and preempt/reclaim walk everything. Tests
    /// compare both ways.
    pub fn set_shortcuts(&mut self, on: bool) {
        self.shortcuts = on;
    }

    /// Opens a session on `snap` (plugins reset, caches attached); run actions on it and
    /// `close` it, or use [`Scheduler::cycle`] which does all three.
    pub fn session<'a>(
        &'a mut self,
        snap: &'a mut Snapshot,
        now: u64,
        rng: &'a mut dyn TieBreak,
    ) -> Session<'a> {
        let salt = &*self.anchor as *const u64 as u64;
        if !self.shortcuts {
            self.accel = Accel::default();
        }
        self.accel.attach(snap, salt);
        let mut ssn = Session::open(
            snap,
            &self.conf,
            &mut self.tiers,
            &mut self.accel,
            self.score_fingerprint,
            now,
            rng,
        );
        ssn.shortcuts = self.shortcuts;
        ssn
    }

    /// Runs one full cycle on `snap` and returns its decisions. The snapshot is left as the
    /// cluster would see it after the cycle (bind requests Binding, victims Releasing, phases
    /// written, session-only statuses reverted).
    pub fn cycle(&mut self, snap: &mut Snapshot, now: u64, rng: &mut dyn TieBreak) -> CycleOutput {
        let mut ssn = self.session(snap, now, rng);
        ssn.run_actions();
        ssn.close()
    }

    /// `cycle`, also writing into `deserved` (by queue index; the buffer is reused) the
    /// deserved (cpu milli, memory bytes) capacity — or else proportion — computed at session
    /// open. Observation only: the decisions are those of `cycle`.
    pub fn cycle_observed(
        &mut self,
        snap: &mut Snapshot,
        now: u64,
        rng: &mut dyn TieBreak,
        deserved: &mut Vec<Option<(f64, f64)>>,
    ) -> CycleOutput {
        let mut ssn = self.session(snap, now, rng);
        ssn.tiers
            .observe_deserved(ssn.st.snap.queues.len(), deserved);
        ssn.run_actions();
        ssn.close()
    }
}

impl Clone for Scheduler {
    /// The same conf and settings with fresh plugins and **empty caches** (e.g. for a forecast
    /// on a cloned snapshot): caches never change a decision, so the clone decides the same.
    fn clone(&self) -> Scheduler {
        let mut s = Scheduler::new(&self.conf).expect("this conf already built a scheduler");
        s.shortcuts = self.shortcuts;
        s
    }
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("conf", &self.conf)
            .field("shortcuts", &self.shortcuts)
            .finish_non_exhaustive()
    }
}

/// Identity of the node-scoring configuration: enabled NodeOrder plugins and their arguments.
fn score_fingerprint(conf: &SchedulerConf) -> u64 {
    let mut text = String::new();
    for pc in conf.tiers.iter().flatten() {
        if pc.flags.has(Flag::NodeOrder) {
            text += &format!("{:?};", pc.args);
        }
    }
    let mut h = request_key(&crate::model::Resources::empty());
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}
