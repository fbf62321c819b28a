//! The scheduler actions (legacy and v1.15 gang eviction) and the helpers they share: the predicate scan with Volcano's
//! feasible-node sampling, node prioritisation with random tie-breaks, and per-queue heaps.
//! Depends on policy types only.

pub mod allocate;
pub mod backfill;
pub mod enqueue;
pub mod gang_bundles;
pub mod gang_evict;
pub(crate) mod gang_plan;
pub mod preempt;
pub mod reclaim;
mod victims;

pub(crate) use victims::{FailMemo, JobHeap};

use std::cmp::Ordering;

use super::conf::Action;
use super::heap::PriorityQueue;
use super::plugin::EvictionKind;
use super::session::Session;
use super::snapshot::{JobId, NodeId, QueueId, TaskId};

/// Runs one action on the session.
pub fn run(ssn: &mut Session, a: Action) {
    match a {
        Action::Enqueue => enqueue::run(ssn),
        Action::Allocate => allocate::run(ssn),
        Action::Backfill => backfill::run(ssn),
        Action::Preempt => preempt::run(ssn),
        Action::Reclaim => reclaim::run(ssn),
        Action::GangPreempt => gang_evict::run(ssn, EvictionKind::GangPreempt),
        Action::GangReclaim => gang_evict::run(ssn, EvictionKind::GangReclaim),
    }
}

/// `numNodesToFind` (util/scheduler_helper.go) with the default server flags
/// (`minimum-feasible-nodes=100`, `percentage-nodes-to-find=0` → adaptive, min 5 %).
pub fn num_nodes_to_find(n: usize) -> usize {
    if n <= 100 {
        return n;
    }
    let pct = (50i64 - n as i64 / 125).max(5) as usize;
    (n * pct / 100).max(100)
}

impl Session<'_> {
    pub(crate) fn qless(&self, l: QueueId, r: QueueId) -> bool {
        self.tiers.queue_order(&self.st, l, r) == Ordering::Less
    }
    pub(crate) fn jless(&self, l: JobId, r: JobId) -> bool {
        self.tiers.job_order(&self.st, l, r) == Ordering::Less
    }
    pub(crate) fn tless(&self, l: TaskId, r: TaskId) -> bool {
        self.tiers.task_order(&self.st, l, r) == Ordering::Less
    }

    pub(crate) fn push_queue(&self, h: &mut PriorityQueue<QueueId>, q: QueueId) {
        h.push(q, |a, b| self.qless(a, b));
    }
    pub(crate) fn pop_queue(&self, h: &mut PriorityQueue<QueueId>) -> Option<QueueId> {
        h.pop(|a, b| self.qless(a, b))
    }
    pub(crate) fn push_job(&self, h: &mut PriorityQueue<JobId>, j: JobId) {
        h.push(j, |a, b| self.jless(a, b));
    }
    pub(crate) fn pop_job(&self, h: &mut PriorityQueue<JobId>) -> Option<JobId> {
        h.pop(|a, b| self.jless(a, b))
    }
    pub(crate) fn push_task(&self, h: &mut PriorityQueue<TaskId>, t: TaskId) {
        h.push(t, |a, b| self.tless(a, b));
    }
    pub(crate) fn pop_task(&self, h: &mut PriorityQueue<TaskId>) -> Option<TaskId> {
        h.pop(|a, b| self.tless(a, b))
    }

    /// A task heap over `tasks` in task order.
    pub(crate) fn task_heap(
        &self,
        tasks: impl IntoIterator<Item = TaskId>,
    ) -> PriorityQueue<TaskId> {
        let mut h = PriorityQueue::new();
        for t in tasks {
            self.push_task(&mut h, t);
        }
        h
    }

    /// Picks the best node among `nodes` by summed plugin scores; equal best scores are broken
    /// at random (`util.SelectBestNodeAndScore`). A single candidate is returned unscored.
    pub(crate) fn best_node(&mut self, t: TaskId, nodes: &[NodeId]) -> NodeId {
        if nodes.len() == 1 || !self.tiers.scores_nodes() {
            if nodes.len() == 1 {
                return nodes[0];
            }
            let i = self.rng.pick(nodes.len());
            return nodes[i];
        }
        let mut best = f64::NEG_INFINITY;
        let mut ties: Vec<NodeId> = Vec::new();
        let key = crate::policy::accel::request_key(&self.st.snap.task(t).resreq);
        for &n in nodes {
            let s = self.cached_score(t, n, key);
            if s > best {
                best = s;
                ties.clear();
                ties.push(n);
            } else if s == best {
                ties.push(n);
            }
        }
        if ties.len() == 1 {
            ties[0]
        } else {
            ties[self.rng.pick(ties.len())]
        }
    }

    /// `NodeOrderFn` summed over the plugins, through the cross-cycle score cache (bypassed
    /// without shortcuts).
    pub(crate) fn cached_score(&mut self, t: TaskId, n: NodeId, key: u64) -> f64 {
        if !self.shortcuts {
            return self.tiers.node_score(&self.st, t, n);
        }
        let version = self.st.snap.nodes[n.ix()].version;
        if let Some(s) = self.accel.scores.get(n.ix(), version, key) {
            return s;
        }
        let s = self.tiers.node_score(&self.st, t, n);
        self.accel.scores.put(n.ix(), version, key, s);
        s
    }

    /// Scores `nodes` and returns them in descending score, ties in the given order.
    pub(crate) fn nodes_by_score(&mut self, t: TaskId, nodes: &[NodeId]) -> Vec<NodeId> {
        if !self.tiers.scores_nodes() {
            return nodes.to_vec();
        }
        let key = crate::policy::accel::request_key(&self.st.snap.task(t).resreq);
        let mut scored: Vec<(f64, usize, NodeId)> = nodes
            .iter()
            .enumerate()
            .map(|(i, &n)| (self.cached_score(t, n, key), i, n))
            .collect();
        scored.sort_by(|a, b| {
            b.0.partial_cmp(&a.0)
                .unwrap_or(Ordering::Equal)
                .then(a.1.cmp(&b.1))
        });
        scored.into_iter().map(|x| x.2).collect()
    }

    /// The nodes of `within` (in that order) passing the preempt/reclaim predicate (only
    /// unresolvable failures exclude a node), minus nodes recorded unresolvable for `t` during
    /// allocate.
    pub(crate) fn preempt_candidates(&self, t: TaskId, within: &[NodeId]) -> Vec<NodeId> {
        let skip = self.unresolvable.get(&t);
        within
            .iter()
            .copied()
            .filter(|n| skip.is_none_or(|s| !s.contains(n)))
            .filter(|&n| match self.tiers.predicate(&self.st, t, n) {
                Ok(()) => true,
                Err(e) => !e.unresolvable,
            })
            .collect()
    }
}
