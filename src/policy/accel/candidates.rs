//! The gang eviction actions' victim candidates of one session, by queue (`CandidateIndex`):
//! built once per session, at the first gang eviction action that has a starving job, and
//! shared by `gangpreempt` and `gangreclaim`, from per-node lists kept across cycles and
//! re-read only for nodes whose version moved (`NodeCandidates`). Shortcuts that never change
//! a decision (`Session::shortcuts`).
//!
//! Exact: within a session no task becomes Bound or Running (allocate and backfill make tasks
//! Allocated, the eviction actions only evict — Bound/Running → Releasing — and pipeline
//! Pending tasks; a discarded statement puts tasks back as they were), tasks do not move
//! between nodes and a job's queue, priority, liveness and `volcano.sh/preemptable` stay, so
//! the tasks that are candidates at any point of the session are among those indexed when
//! it was built; a use re-checks each indexed task's status and its job's liveness. Depends
//! on policy types only.

use crate::policy::plugin::EvictionKind;
use crate::policy::snapshot::{JobId, NodeId, QueueId, Snapshot, TaskId, TaskStatus};

/// The session's possible victim tasks by queue: on a node, Bound or Running, the pod and its
/// job `volcano.sh/preemptable` (unset = true), the job live.
#[derive(Debug)]
pub struct CandidateIndex {
    /// The session it was built in (`Accel::session`).
    session: u64,
    by_queue: Vec<QueueCandidates>,
}

/// One queue's indexed tasks.
#[derive(Debug, Clone)]
struct QueueCandidates {
    entries: Vec<Entry>,
    /// The lowest job priority among `entries` (`i32::MAX` for none).
    min_priority: i32,
    /// How many of `entries` were Running when indexed (an upper bound on reclaim's
    /// candidates for the rest of the session).
    running: u32,
}

/// An indexed task with its job and that job's priority.
#[derive(Debug, Clone, Copy)]
struct Entry {
    task: TaskId,
    job: JobId,
    priority: i32,
}

/// The candidate tests that depend on neither the preemptor nor the action: the pod's and the
/// job's `volcano.sh/preemptable` (unset = true) and the job in the session.
pub fn preemptable_pod(snap: &Snapshot, t: TaskId) -> bool {
    let task = snap.task(t);
    let vj = snap.job(task.job);
    task.preemptable && vj.live && vj.preemptable != Some(false)
}

/// A task's status passes the action's test: Bound or Running for preempt, Running for reclaim.
pub fn status_ok(status: TaskStatus, kind: EvictionKind) -> bool {
    match kind {
        EvictionKind::GangPreempt => status.is_preemptable(),
        EvictionKind::GangReclaim => status == TaskStatus::Running,
    }
}

impl CandidateIndex {
    /// Indexes the candidates of `snap` in session `session` (without cross-cycle help).
    pub fn new(snap: &Snapshot, session: u64) -> CandidateIndex {
        CandidateIndex::with_nodes(snap, session, &mut NodeCandidates::default())
    }

    /// Indexes the candidates of `snap` in session `session`, re-reading only the nodes whose
    /// version moved since `nodes` last saw them.
    pub fn with_nodes(snap: &Snapshot, session: u64, nodes: &mut NodeCandidates) -> CandidateIndex {
        let empty = QueueCandidates {
            entries: Vec::new(),
            min_priority: i32::MAX,
            running: 0,
        };
        let mut by_queue = vec![empty; snap.queues.len()];
        nodes.catch_up(snap);
        for (_, cached) in &nodes.per_node {
            for c in cached {
                let slot = &mut by_queue[c.queue.ix()];
                slot.entries.push(Entry {
                    task: c.task,
                    job: c.job,
                    priority: c.priority,
                });
                slot.min_priority = slot.min_priority.min(c.priority);
                slot.running += u32::from(c.running);
            }
        }
        CandidateIndex { session, by_queue }
    }

    /// The session it was built in.
    pub fn session(&self) -> u64 {
        self.session
    }

    /// The queues whose candidates preemptor job `j` may take (preempt: its own, if some
    /// entry there has a lower job priority; reclaim: every other one with a task that was
    /// Running).
    fn queues(&self, snap: &Snapshot, j: JobId, kind: EvictionKind) -> Vec<usize> {
        let pq = snap.job(j).queue.ix();
        match kind {
            EvictionKind::GangPreempt => {
                let own = &self.by_queue[pq];
                if own.min_priority < snap.job(j).priority {
                    vec![pq]
                } else {
                    Vec::new()
                }
            }
            EvictionKind::GangReclaim => (0..self.by_queue.len())
                .filter(|&q| q != pq && self.by_queue[q].running > 0)
                .collect(),
        }
    }

    /// Whether job `j` has no candidate at all (the domain search then does nothing). Never
    /// true when it has one.
    pub fn none_for(&self, snap: &Snapshot, j: JobId, kind: EvictionKind) -> bool {
        self.queues(snap, j, kind)
            .iter()
            .all(|&q| self.by_queue[q].entries.is_empty())
    }

    /// The candidates of `j` on `domain` now, as (victim job, task), sorted: preempt takes
    /// Bound or Running tasks of strictly lower-priority jobs of its queue, reclaim Running
    /// tasks of other, reclaimable queues (`gang_evict::candidates`' node walk).
    pub fn pairs(
        &self,
        snap: &Snapshot,
        j: JobId,
        domain: &[NodeId],
        kind: EvictionKind,
    ) -> Vec<(JobId, TaskId)> {
        let queues = self.queues(snap, j, kind);
        let mut out = Vec::new();
        if queues.iter().all(|&q| self.by_queue[q].entries.is_empty()) {
            return out;
        }
        let mut in_domain = vec![false; snap.nodes.len()];
        for &n in domain {
            in_domain[n.ix()] = true;
        }
        let p = snap.job(j).priority;
        for q in queues {
            // The job-level tests hold for a whole queue (reclaim) or per job priority
            // (preempt; the preemptor's own job has its priority); the rest only needs the
            // task's status again.
            if kind == EvictionKind::GangReclaim && !snap.queues[q].reclaimable {
                continue;
            }
            for e in &self.by_queue[q].entries {
                if kind == EvictionKind::GangPreempt && e.priority >= p {
                    continue;
                }
                let task = snap.task(e.task);
                let on = task.node.is_some_and(|n| in_domain[n.ix()]);
                if on && status_ok(task.status, kind) {
                    out.push((e.job, e.task));
                }
            }
        }
        out.sort_unstable();
        // A job whose PodGroup was deleted is out of the session (its pods may still be on
        // their nodes): checked here, once per victim job, not in the node cache.
        let mut last: Option<(JobId, bool)> = None;
        out.retain(|&(vj, _)| match last {
            Some((j, live)) if j == vj => live,
            _ => {
                let live = snap.job(vj).live;
                last = Some((vj, live));
                live
            }
        });
        out
    }
}

/// Per node, the tasks that may be a gang eviction victim as of the node's version, kept
/// across cycles: Bound or Running, the pod's and its job's `volcano.sh/preemptable` not
/// false. Exact while the version stands: every change of a task's status or node goes
/// through `Snapshot::set_status`, which bumps the versions of the nodes it leaves and joins,
/// and a pod's and a PodGroup's preemptable, queue and priority are fixed once the job is
/// added. Whether the job is live is not cached (a PodGroup can be deleted while its pods
/// stay): `CandidateIndex::pairs` checks it.
#[derive(Debug, Default)]
pub struct NodeCandidates {
    /// Per node: (the version the entries describe, the entries); `None` before the first
    /// read.
    per_node: Vec<(Option<u64>, Vec<Cached>)>,
}

/// A cached possible victim with what the index files it by.
#[derive(Debug, Clone, Copy)]
struct Cached {
    task: TaskId,
    job: JobId,
    queue: QueueId,
    priority: i32,
    running: bool,
}

impl NodeCandidates {
    /// Re-reads the nodes whose version moved.
    fn catch_up(&mut self, snap: &Snapshot) {
        if self.per_node.len() < snap.nodes.len() {
            self.per_node.resize(snap.nodes.len(), (None, Vec::new()));
        }
        for (node, slot) in snap.nodes.iter().zip(&mut self.per_node) {
            if slot.0 == Some(node.version) {
                continue;
            }
            slot.0 = Some(node.version);
            slot.1.clear();
            for &t in &node.tasks {
                let task = snap.task(t);
                if !task.status.is_preemptable() {
                    continue;
                }
                let vj = snap.job(task.job);
                if !task.preemptable || vj.preemptable == Some(false) {
                    continue;
                }
                slot.1.push(Cached {
                    task: t,
                    job: task.job,
                    queue: vj.queue,
                    priority: vj.priority,
                    running: task.status == TaskStatus::Running,
                });
            }
        }
    }
}
