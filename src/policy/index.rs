//! Incrementally maintained indexes and aggregates over a `Snapshot`, so a scheduling cycle
//! never rescans what cannot have changed: the live jobs, Pending-phase jobs, jobs with Pending
//! tasks, jobs touched since the last session close, per-queue sums (allocated, pending
//! requests, proportion/capacity `inqueue` and `elastic`), the cluster's used resources and
//! overcommit's inqueue total, and the nodes re-accounted since the node classes
//! (`policy::accel::classes`) last caught up.
//!
//! Invariant: every field equals what a full recomputation from the snapshot would give. The
//! snapshot calls `job_changed` after any change of a job's tasks or phase; plugins read the
//! sums once at session open, exactly where Volcano computes them.

use std::collections::BTreeSet;

use crate::model::{DefaultValue, Resources};

use super::slots::Slots;
use super::snapshot::{JobId, JobInfo, NodeId, PodGroupPhase, TaskStatus};

/// Per-queue sums over the queue's live jobs.
#[derive(Debug, Clone)]
pub struct QueueAgg {
    /// Live jobs in the queue (any phase).
    pub jobs: u32,
    /// Σ Resreq of tasks in AllocatedStatus.
    pub allocated: Resources,
    /// Σ Resreq of Pending tasks.
    pub pending: Resources,
    /// Pending tasks of live jobs (with `pending`, the mean pending pod the simulator's
    /// starvation metric uses; no policy reads it).
    pub pending_tasks: u32,
    /// Σ `GetInqueueResource` of Inqueue jobs and of Running jobs at minMember (with minResources).
    pub inqueue: Resources,
    /// Σ `GetElasticResources` (a job without minResources counts its whole allocation).
    pub elastic: Resources,
    /// Live jobs by phase (index = `PodGroupPhase as usize`).
    pub phases: [u32; 5],
}

impl Default for QueueAgg {
    fn default() -> Self {
        QueueAgg {
            jobs: 0,
            allocated: Resources::empty(),
            pending: Resources::empty(),
            pending_tasks: 0,
            inqueue: Resources::empty(),
            elastic: Resources::empty(),
            phases: [0; 5],
        }
    }
}

/// What one job contributes to the sums (kept on the job so it can be taken back out; boxed
/// there and absent when zero, so a finished job's slot does not carry three `Resources`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contribution {
    pub inqueue: Resources,
    pub elastic: Resources,
    /// overcommit: full minResources when Inqueue; the inqueue part when Running at minMember.
    pub overcommit: Resources,
    /// Pending tasks.
    pub pending_tasks: u32,
}

impl Default for Contribution {
    fn default() -> Self {
        Contribution {
            inqueue: Resources::empty(),
            elastic: Resources::empty(),
            overcommit: Resources::empty(),
            pending_tasks: 0,
        }
    }
}

/// `GetInqueueResource`: per dimension of minResources, `max(min − allocated, 0)`.
pub fn inqueue_part(min: &Resources, allocated: &Resources) -> Resources {
    let mut r = Resources::empty();
    for d in min.dims() {
        r.set(d, (min.get(d) - allocated.get(d)).max(0));
    }
    r
}

/// `GetElasticResources`: the part of the allocation above minResources (none if within).
pub fn elastic_part(allocated: &Resources, min: &Resources) -> Resources {
    if allocated.less_equal(min, DefaultValue::Zero) {
        Resources::empty()
    } else {
        allocated.exceeded_part(min)
    }
}

/// The contribution of `job` in its current state.
pub fn contribution(job: &JobInfo) -> Contribution {
    if !job.live {
        return Contribution::default();
    }
    let pending_tasks = job.count(TaskStatus::Pending);
    let Some(min) = &job.min_resources else {
        return Contribution {
            elastic: job.allocated,
            pending_tasks,
            ..Default::default()
        };
    };
    let allocated_tasks = job.ready_num() - job.count(TaskStatus::Succeeded);
    let running_at_min =
        job.phase == PodGroupPhase::Running && allocated_tasks >= job.min_available;
    let part = inqueue_part(min, &job.allocated);
    let inqueue = if job.phase == PodGroupPhase::Inqueue || running_at_min {
        part
    } else {
        Resources::empty()
    };
    let overcommit = match job.phase {
        PodGroupPhase::Inqueue => *min,
        _ if running_at_min => part,
        _ => Resources::empty(),
    };
    Contribution {
        inqueue,
        elastic: elastic_part(&job.allocated, min),
        overcommit,
        pending_tasks,
    }
}

/// The indexes kept alongside a snapshot.
#[derive(Debug, Clone, Default)]
pub struct Index {
    pub live: BTreeSet<JobId>,
    /// Live jobs in phase Pending.
    pub pending_phase: BTreeSet<JobId>,
    /// Live jobs with at least one Pending task.
    pub with_pending_tasks: BTreeSet<JobId>,
    /// The jobs of `with_pending_tasks` whose PodGroup is past phase Pending: the only ones
    /// allocate, backfill, preempt and reclaim look at.
    pub admitted_with_pending_tasks: BTreeSet<JobId>,
    /// Jobs changed since the last session close, in first-change order.
    pub dirty: Vec<JobId>,
    /// Jobs changed since the pending order (`policy::accel::order`) last caught up.
    pub order_changed: Vec<JobId>,
    pub queues: Vec<QueueAgg>,
    /// Σ node Used.
    pub used: Resources,
    /// overcommit's inqueue total.
    pub overcommit_inqueue: Resources,
}

impl Index {
    /// Re-files `j` after a change: sets, contribution and the dirty list.
    pub fn job_changed(&mut self, j: JobId, job: &mut JobInfo) {
        if !job.dirty {
            job.dirty = true;
            self.dirty.push(j);
        }
        if !job.order_dirty {
            job.order_dirty = true;
            self.order_changed.push(j);
        }
        let live = job.live;
        let counted = live.then_some(job.phase);
        if counted != job.counted_phase {
            let q = &mut self.queues[job.queue.ix()];
            if let Some(p) = job.counted_phase {
                q.phases[p as usize] -= 1;
            }
            if let Some(p) = counted {
                q.phases[p as usize] += 1;
            }
            job.counted_phase = counted;
        }
        let pending_tasks = live && job.count(TaskStatus::Pending) > 0;
        let member = (u8::from(live && job.phase == PodGroupPhase::Pending) * IN_PENDING_PHASE)
            | (u8::from(pending_tasks) * IN_WITH_PENDING_TASKS)
            | (u8::from(pending_tasks && job.phase != PodGroupPhase::Pending)
                * IN_ADMITTED_WITH_PENDING_TASKS);
        // The sets are touched only when the job's membership changes (most changes of a
        // job's tasks leave it in the same sets).
        let moved = member ^ job.index_member;
        if moved != 0 {
            if moved & IN_PENDING_PHASE != 0 {
                set_member(&mut self.pending_phase, j, member & IN_PENDING_PHASE != 0);
            }
            if moved & IN_WITH_PENDING_TASKS != 0 {
                set_member(
                    &mut self.with_pending_tasks,
                    j,
                    member & IN_WITH_PENDING_TASKS != 0,
                );
            }
            if moved & IN_ADMITTED_WITH_PENDING_TASKS != 0 {
                set_member(
                    &mut self.admitted_with_pending_tasks,
                    j,
                    member & IN_ADMITTED_WITH_PENDING_TASKS != 0,
                );
            }
            job.index_member = member;
        }
        let new = contribution(job);
        let unchanged = match job.contrib.as_deref() {
            Some(old) => *old == new,
            None => new == Contribution::default(),
        };
        if !unchanged {
            let old = job.contrib.as_deref().copied().unwrap_or_default();
            let q = &mut self.queues[job.queue.ix()];
            q.inqueue.sub(&old.inqueue);
            q.elastic.sub(&old.elastic);
            q.inqueue.add(&new.inqueue);
            q.elastic.add(&new.elastic);
            q.pending_tasks = q.pending_tasks - old.pending_tasks + new.pending_tasks;
            self.overcommit_inqueue.sub(&old.overcommit);
            self.overcommit_inqueue.add(&new.overcommit);
            job.contrib = match job.contrib.take() {
                _ if new == Contribution::default() => None,
                Some(mut b) => {
                    *b = new;
                    Some(b)
                }
                None => Some(Box::new(new)),
            };
        }
    }

    /// The jobs allocate, backfill, preempt and reclaim look at (`admitted_with_pending_tasks`),
    /// in id order.
    pub fn admitted_pending_jobs(&self) -> Vec<JobId> {
        self.admitted_with_pending_tasks.iter().copied().collect()
    }

    /// Drains the dirty list (sorted by id) and clears the flags.
    pub fn take_dirty(&mut self, jobs: &mut Slots<JobInfo>) -> Vec<JobId> {
        let mut d = std::mem::take(&mut self.dirty);
        for j in &d {
            jobs[j.ix()].dirty = false;
        }
        d.sort_unstable();
        d
    }
}

/// `JobInfo::index_member` bits: the job is in `pending_phase`, `with_pending_tasks`,
/// `admitted_with_pending_tasks`.
pub const IN_PENDING_PHASE: u8 = 1;
pub const IN_WITH_PENDING_TASKS: u8 = 2;
pub const IN_ADMITTED_WITH_PENDING_TASKS: u8 = 4;

fn set_member(s: &mut BTreeSet<JobId>, j: JobId, member: bool) {
    if member {
        s.insert(j);
    } else {
        s.remove(&j);
    }
}

/// The nodes changed since a reader last drained the list, each listed once (so the list
/// never holds more entries than there are nodes).
#[derive(Debug, Clone, Default)]
pub struct NodeChanges {
    list: Vec<NodeId>,
    listed: Vec<bool>,
}

impl NodeChanges {
    #[inline]
    pub(crate) fn note(&mut self, n: NodeId) {
        if self.listed.len() <= n.ix() {
            self.listed.resize(n.ix() + 1, false);
        }
        if !self.listed[n.ix()] {
            self.listed[n.ix()] = true;
            self.list.push(n);
        }
    }
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
    /// Empties the list, handing each changed node to `f` in first-change order.
    pub fn drain(&mut self, mut f: impl FnMut(NodeId)) {
        for n in self.list.drain(..) {
            self.listed[n.ix()] = false;
            f(n);
        }
    }
}
