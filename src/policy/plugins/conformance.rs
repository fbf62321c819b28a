//! conformance: critical pods (`system-cluster-critical`, `system-node-critical`, namespace
//! `kube-system`) are never victims (plugins/conformance/conformance.go). Always votes, so it
//! "decides" its tier whenever any candidate survives (semantics §1.4 note 4).

use crate::policy::conf::Flag;
use crate::policy::conf::PluginKind;
use crate::policy::plugin::{EvictionContext, Plugin, Vote};
use crate::policy::session::State;
use crate::policy::snapshot::TaskId;
use crate::policy::tiers::Tiers;

pub struct Conformance;

fn keep(s: &State, cands: &[TaskId]) -> Vec<TaskId> {
    cands
        .iter()
        .copied()
        .filter(|&t| !s.snap.task(t).critical)
        .collect()
}

impl Plugin for Conformance {
    /// No event handlers.
    fn events_cancel(&self) -> bool {
        true
    }
    fn kind(&self) -> PluginKind {
        PluginKind::Conformance
    }
    fn registers(&self, f: Flag) -> bool {
        matches!(f, Flag::Preemptable | Flag::Reclaimable)
    }
    fn preemptable(
        &self,
        s: &State,
        _tiers: &Tiers,
        _p: TaskId,
        cands: &[TaskId],
    ) -> Option<(Vec<TaskId>, Vote)> {
        Some((keep(s, cands), Vote::Permit))
    }
    /// Criticality only.
    fn may_be_victim_static(&self) -> bool {
        true
    }
    fn may_be_victim(&self, s: &State, _f: Flag, _p: TaskId, c: TaskId) -> bool {
        !s.snap.task(c).critical
    }
    /// Answers read only the candidates (and the preemptor's queue and request).
    fn victim_vote_key(&self, _s: &State, _p: TaskId) -> Option<i64> {
        Some(0)
    }
    fn reclaimable(
        &self,
        s: &State,
        _tiers: &Tiers,
        _p: TaskId,
        cands: &[TaskId],
    ) -> Option<(Vec<TaskId>, Vote)> {
        Some((keep(s, cands), Vote::Permit))
    }
    /// Mirrors volcano conformance.go (v1.15) `AddUnifiedEvictableFn`: critical pods never.
    fn unified_evictable(
        &self,
        s: &State,
        _ctx: &EvictionContext,
        cands: &[TaskId],
    ) -> Option<(Vec<TaskId>, Vote)> {
        Some((keep(s, cands), Vote::Permit))
    }
    /// `keep` drops critical pods one by one.
    fn unified_evictable_per_task(&self) -> bool {
        true
    }
}
