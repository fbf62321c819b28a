//! drf: dominant-resource share per job; JobOrder lower share first; Preemptable when the
//! preemptor's share (after adding its task) is below or equal to the victim job's share
//! (plugins/drf/drf.go). With `enableHierarchy` it also orders queues and filters reclaim
//! victims by the hierarchical share tree (`hdrf.rs`).
//!
//! The job's allocation as drf sees it is the snapshot's `allocated` (AllocatedStatus) plus its
//! Pipelined tasks, which is what drf's event handlers accumulate during a session.

use std::cmp::Ordering;

use super::cmp_f64;
use crate::model::Resources;
use crate::policy::conf::Flag;
use crate::policy::conf::PluginKind;
use crate::policy::plugin::{Plugin, Vote};
use crate::policy::session::State;
use crate::policy::snapshot::{JobId, Snapshot, TaskId, TaskStatus};
use crate::policy::tiers::Tiers;

/// drf; `tree` is the session's hierarchical share tree when `enableHierarchy` is on.
#[derive(Default)]
pub struct Drf {
    hierarchy: bool,
    tree: Option<super::hdrf::Tree>,
}

impl Drf {
    pub fn new(hierarchy: bool) -> Drf {
        Drf {
            hierarchy,
            tree: None,
        }
    }
    /// Mirrors drf.go: the tree is refreshed at session open and on every (de)allocation.
    fn rebuild(&mut self, s: &State) {
        if self.hierarchy {
            self.tree = Some(super::hdrf::Tree::build(s.snap, &[]));
        }
    }
}

/// The job's drf allocation: AllocatedStatus + Pipelined tasks.
pub fn drf_allocated(snap: &Snapshot, j: JobId) -> Resources {
    let job = snap.job(j);
    let mut a = job.allocated;
    if job.count(TaskStatus::Pipelined) > 0 {
        for &t in &job.tasks {
            let task = snap.task(t);
            if task.status == TaskStatus::Pipelined {
                a.add(&task.resreq);
            }
        }
    }
    a
}

/// The job's dominant share; 0 without any allocation (hot path of job ordering).
#[inline]
pub fn job_share(snap: &Snapshot, j: JobId) -> f64 {
    let job = snap.job(j);
    if job.count(TaskStatus::Pipelined) == 0 && job.allocated.all_zero() {
        return 0.0;
    }
    share_of(&drf_allocated(snap, j), &snap.total)
}

/// max over cluster dims (value ≥ 0.1 in total) of allocated / total.
pub fn share_of(alloc: &Resources, total: &Resources) -> f64 {
    let mut s: f64 = 0.0;
    for d in total.names() {
        let t = total.get(d);
        let x = if t == 0 {
            0.0
        } else {
            alloc.get(d) as f64 / t as f64
        };
        if x > s {
            s = x;
        }
    }
    s
}

impl Plugin for Drf {
    /// The handlers rebuild from the snapshot as it is.
    fn events_cancel(&self) -> bool {
        true
    }
    fn kind(&self) -> PluginKind {
        PluginKind::Drf
    }
    fn registers(&self, f: Flag) -> bool {
        matches!(f, Flag::JobOrder | Flag::Preemptable)
            || (self.hierarchy && matches!(f, Flag::QueueOrder | Flag::Reclaimable))
    }
    fn on_session_open(&mut self, s: &State) {
        self.rebuild(s);
    }
    fn on_allocate(&mut self, s: &State, _t: TaskId) {
        self.rebuild(s);
    }
    fn on_deallocate(&mut self, s: &State, _t: TaskId) {
        self.rebuild(s);
    }
    /// Registered in hierarchy mode only (`compareQueues`).
    fn queue_order(
        &self,
        s: &State,
        l: crate::policy::snapshot::QueueId,
        r: crate::policy::snapshot::QueueId,
    ) -> Option<Ordering> {
        let tree = self.tree.as_ref().filter(|_| self.hierarchy)?;
        Some(tree.compare(s.snap, l, r))
    }
    /// Registered in hierarchy mode only: the what-if of drf.go's reclaimFn.
    fn reclaimable(
        &self,
        s: &State,
        _tiers: &Tiers,
        reclaimer: TaskId,
        cands: &[TaskId],
    ) -> Option<(Vec<TaskId>, Vote)> {
        if !self.hierarchy {
            return None;
        }
        Some((
            super::hdrf::reclaimable(s.snap, reclaimer, cands),
            Vote::Permit,
        ))
    }
    fn registers_job_order(&self) -> bool {
        true
    }
    fn job_order_key(&self, s: &State, j: JobId) -> Option<f64> {
        Some(job_share(s.snap, j))
    }
    fn job_order(&self, s: &State, l: JobId, r: JobId) -> Option<Ordering> {
        let a = job_share(s.snap, l);
        let b = job_share(s.snap, r);
        Some(cmp_f64(a, b))
    }
    /// `may_be_victim` is the default `true`.
    fn may_be_victim_static(&self) -> bool {
        true
    }
    /// Reads the preemptor job's allocation (nothing, for a job with no task on a node) and
    /// its request.
    fn victim_vote_key(&self, s: &State, p: TaskId) -> Option<i64> {
        if self.hierarchy {
            // The reclaim answer depends on the reclaimer's queue and the whole tree.
            return None;
        }
        drf_allocated(s.snap, s.snap.task(p).job)
            .is_zero()
            .then_some(0)
    }
    fn preemptable(
        &self,
        s: &State,
        _tiers: &Tiers,
        p: TaskId,
        cands: &[TaskId],
    ) -> Option<(Vec<TaskId>, Vote)> {
        let pt = s.snap.task(p);
        let ls = share_of(
            &drf_allocated(s.snap, pt.job).plus(&pt.resreq),
            &s.snap.total,
        );
        let mut out = Vec::new();
        let mut running: Vec<(JobId, Resources)> = Vec::new();
        for &c in cands {
            let ct = s.snap.task(c);
            let pos = match running.iter().position(|(j, _)| *j == ct.job) {
                Some(i) => i,
                None => {
                    running.push((ct.job, drf_allocated(s.snap, ct.job)));
                    running.len() - 1
                }
            };
            // The running copy shrinks for every preemptee, victim or not (Sub in place).
            running[pos].1.sub(&ct.resreq);
            let rs = share_of(&running[pos].1, &s.snap.total);
            if ls < rs || (ls - rs).abs() <= 1e-6 {
                out.push(c);
            }
        }
        Some((out, Vote::Permit))
    }
}
