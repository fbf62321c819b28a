//! priority: task and job order by priority, Preemptable by strictly lower priority,
//! JobStarving = some task not yet placed (plugins/priority/priority.go). No Reclaimable.

use std::cmp::Ordering;

use crate::policy::conf::Flag;
use crate::policy::conf::PluginKind;
use crate::policy::plugin::{EvictionContext, EvictionKind, Plugin, Vote};
use crate::policy::session::State;
use crate::policy::snapshot::{JobId, TaskId};
use crate::policy::tiers::Tiers;

pub struct Priority;

impl Plugin for Priority {
    /// No event handlers.
    fn events_cancel(&self) -> bool {
        true
    }
    fn kind(&self) -> PluginKind {
        PluginKind::Priority
    }
    fn registers(&self, f: Flag) -> bool {
        matches!(
            f,
            Flag::TaskOrder | Flag::JobOrder | Flag::Preemptable | Flag::JobStarving
        )
    }
    fn task_order(&self, s: &State, l: TaskId, r: TaskId) -> Option<Ordering> {
        Some(s.snap.task(r).priority.cmp(&s.snap.task(l).priority))
    }
    fn registers_job_order(&self) -> bool {
        true
    }
    fn job_order_key(&self, s: &State, j: JobId) -> Option<f64> {
        Some(-(s.snap.job(j).priority as f64))
    }
    fn job_order(&self, s: &State, l: JobId, r: JobId) -> Option<Ordering> {
        Some(s.snap.job(r).priority.cmp(&s.snap.job(l).priority))
    }
    /// Job priorities only.
    fn may_be_victim_static(&self) -> bool {
        true
    }
    fn may_be_victim(&self, s: &State, _f: Flag, p: TaskId, c: TaskId) -> bool {
        let (pt, ct) = (s.snap.task(p), s.snap.task(c));
        if ct.job != pt.job {
            s.snap.job(ct.job).priority < s.snap.job(pt.job).priority
        } else {
            ct.priority < pt.priority
        }
    }
    /// Other jobs' victims are chosen by the preemptor's job priority.
    fn victim_vote_key(&self, s: &State, p: TaskId) -> Option<i64> {
        Some(s.snap.job_of(p).priority as i64)
    }
    fn preemptable(
        &self,
        s: &State,
        _tiers: &Tiers,
        p: TaskId,
        cands: &[TaskId],
    ) -> Option<(Vec<TaskId>, Vote)> {
        let pt = s.snap.task(p);
        let pj = s.snap.job(pt.job);
        let out = cands
            .iter()
            .copied()
            .filter(|&c| {
                let ct = s.snap.task(c);
                if ct.job != pt.job {
                    s.snap.job(ct.job).priority < pj.priority
                } else {
                    ct.priority < pt.priority
                }
            })
            .collect();
        Some((out, Vote::Permit))
    }
    /// Mirrors volcano priority.go (v1.15) `AddUnifiedEvictableFn`: gangpreempt keeps
    /// candidates whose job priority is below the preemptor job's; gangreclaim permits all.
    fn unified_evictable(
        &self,
        s: &State,
        ctx: &EvictionContext,
        cands: &[TaskId],
    ) -> Option<(Vec<TaskId>, Vote)> {
        let out = match ctx.kind {
            EvictionKind::GangReclaim => cands.to_vec(),
            EvictionKind::GangPreempt => {
                let p = s.snap.job(ctx.job).priority;
                cands
                    .iter()
                    .copied()
                    .filter(|&c| s.snap.job_of(c).priority < p)
                    .collect()
            }
        };
        Some((out, Vote::Permit))
    }
    /// Each candidate kept on its own job's priority.
    fn unified_evictable_per_task(&self) -> bool {
        true
    }
    fn job_starving(&self, s: &State, j: JobId) -> Option<bool> {
        let job = s.snap.job(j);
        Some(((job.ready_num() + job.waiting_num()) as usize) < job.tasks.len())
    }
}
