//! gang: all-or-nothing admission of a PodGroup's `minMember` tasks (plugins/gang/gang.go).
//! JobValid, JobReady, JobPipelined (never abstains), JobStarving, JobOrder (not-ready first),
//! Preemptable/Reclaimable (at most `ready − minAvailable` victims per job).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::policy::conf::Flag;
use crate::policy::conf::PluginKind;
use crate::policy::plugin::{EvictionContext, Plugin, Vote};
use crate::policy::session::State;
use crate::policy::snapshot::{JobId, JobInfo, Snapshot, TaskId, TaskStatus};
use crate::policy::tiers::Tiers;

pub struct Gang;

/// Per-role counts used by the `CheckTask*` functions.
fn role_counts(
    snap: &Snapshot,
    job: &JobInfo,
    mut pred: impl FnMut(TaskStatus, bool) -> bool,
) -> BTreeMap<String, u32> {
    let mut m = BTreeMap::new();
    for &t in &job.tasks {
        let task = snap.task(t);
        if pred(task.status, task.best_effort) {
            *m.entry(task.role.clone()).or_insert(0) += 1;
        }
    }
    m
}

fn roles_ok(snap: &Snapshot, job: &JobInfo, pred: impl FnMut(TaskStatus, bool) -> bool) -> bool {
    if job.task_min_available.is_empty() || job.min_available < job.task_min_total {
        return true;
    }
    let counts = role_counts(snap, job, pred);
    job.task_min_available
        .iter()
        .all(|(role, &min)| counts.get(role).copied().unwrap_or(0) >= min)
}

/// `CheckTaskValid`.
pub fn check_task_valid(snap: &Snapshot, job: &JobInfo) -> bool {
    roles_ok(snap, job, |s, _| {
        s.is_allocated()
            || matches!(
                s,
                TaskStatus::Succeeded | TaskStatus::Pipelined | TaskStatus::Pending
            )
    })
}
/// `CheckTaskReady`.
pub fn check_task_ready(snap: &Snapshot, job: &JobInfo) -> bool {
    roles_ok(snap, job, |s, be| {
        s.is_allocated() || s == TaskStatus::Succeeded || (s == TaskStatus::Pending && be)
    })
}
/// `CheckTaskPipelined`.
pub fn check_task_pipelined(snap: &Snapshot, job: &JobInfo) -> bool {
    roles_ok(snap, job, |s, be| {
        s.is_allocated()
            || matches!(s, TaskStatus::Succeeded | TaskStatus::Pipelined)
            || (s == TaskStatus::Pending && be)
    })
}

/// Whether gang skips the Unschedulable condition because the only shortfall is scheduled pods
/// that are terminating (volcano master d725ce4db): no pending/pipelined replacement, and the
/// scheduled tasks counting Releasing ones on a node still reach `minAvailable`.
pub fn skip_unschedulable_for_releasing(snap: &Snapshot, j: JobId) -> bool {
    let job = snap.job(j);
    let mut releasing = 0;
    let mut ready = 0;
    for &t in &job.tasks {
        let task = snap.task(t);
        match task.status {
            TaskStatus::Pending | TaskStatus::Pipelined => return false,
            TaskStatus::Releasing if task.node.is_some() => releasing += 1,
            s if s.is_allocated() || s == TaskStatus::Succeeded => ready += 1,
            _ => {}
        }
    }
    releasing > 0 && ready + releasing >= job.min_available
}

impl Plugin for Gang {
    /// No event handlers.
    fn events_cancel(&self) -> bool {
        true
    }
    fn kind(&self) -> PluginKind {
        PluginKind::Gang
    }
    fn registers(&self, f: Flag) -> bool {
        matches!(
            f,
            Flag::JobReady
                | Flag::JobPipelined
                | Flag::JobStarving
                | Flag::JobOrder
                | Flag::Preemptable
                | Flag::Reclaimable
        )
    }
    fn job_valid(&self, s: &State, j: JobId) -> Option<bool> {
        let job = s.snap.job(j);
        Some(check_task_valid(s.snap, job) && job.valid_num() >= job.min_available)
    }
    fn job_ready(&self, s: &State, j: JobId) -> Option<bool> {
        let job = s.snap.job(j);
        Some(job.is_ready() && check_task_ready(s.snap, job))
    }
    fn job_pipelined(&self, s: &State, j: JobId) -> Option<Vote> {
        let job = s.snap.job(j);
        Some(if job.is_pipelined() && check_task_pipelined(s.snap, job) {
            Vote::Permit
        } else {
            Vote::Reject
        })
    }
    fn job_starving(&self, s: &State, j: JobId) -> Option<bool> {
        Some(s.snap.job(j).is_starving())
    }
    fn registers_job_order(&self) -> bool {
        true
    }
    fn job_order_key(&self, s: &State, j: JobId) -> Option<f64> {
        Some(if s.snap.job(j).is_ready() { 1.0 } else { 0.0 })
    }
    fn job_order(&self, s: &State, l: JobId, r: JobId) -> Option<Ordering> {
        let (a, b) = (s.snap.job(l).is_ready(), s.snap.job(r).is_ready());
        Some(a.cmp(&b))
    }
    fn preemptable(
        &self,
        s: &State,
        _tiers: &Tiers,
        _p: TaskId,
        cands: &[TaskId],
    ) -> Option<(Vec<TaskId>, Vote)> {
        Some((victims(s, cands), Vote::Permit))
    }
    /// Only jobs with more ready tasks than minAvailable give victims.
    fn may_be_victim(&self, s: &State, _f: Flag, _p: TaskId, c: TaskId) -> bool {
        let job = s.snap.job_of(c);
        job.ready_num() > job.min_available
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
        Some((victims(s, cands), Vote::Permit))
    }
    /// Mirrors volcano gang.go (v1.15) `AddUnifiedEvictableFn`: every candidate (the bundles
    /// already decided which gangs break).
    fn unified_evictable(
        &self,
        _s: &State,
        _ctx: &EvictionContext,
        cands: &[TaskId],
    ) -> Option<(Vec<TaskId>, Vote)> {
        Some((cands.to_vec(), Vote::Permit))
    }
    /// Every candidate kept.
    fn unified_evictable_per_task(&self) -> bool {
        true
    }
}

/// At most `ready − minAvailable` victims per job, the first ones in the given order.
/// Mirrors volcano gang.go preemptableFn (quirk #12: which ones depends on the input order).
fn victims(s: &State, cands: &[TaskId]) -> Vec<TaskId> {
    let mut left: BTreeMap<JobId, i64> = BTreeMap::new();
    let mut out = Vec::new();
    for &t in cands {
        let j = s.snap.task(t).job;
        let job = s.snap.job(j);
        let c = left.entry(j).or_insert(job.ready_num() as i64);
        if *c > job.min_available as i64 {
            *c -= 1;
            out.push(t);
        }
    }
    out
}
