//! The scheduler actions (legacy and v1.15 gang eviction) and the helpers they share: the predicate scan with Volcano's
//! feasible-node sampling, node prioritisation with random tie-breaks, and per-queue heaps.
//! Depends on policy types only.

pub mod allocate;
mod allocate_topology;
pub mod backfill;
pub mod enqueue;
pub mod gang_bundles;
pub(crate) mod gang_domains;
pub mod gang_evict;
pub(crate) mod gang_plan;
mod gang_select;
mod job_line;
pub mod preempt;
pub mod reclaim;
mod victims;

pub(crate) use victims::{FailMemo, JobHeap};

use std::cmp::Ordering;

use super::accel::classes::FITS_IDLE;
use super::conf::Action;
use super::heap::PriorityQueue;
use super::plugin::EvictionKind;
use super::session::Session;
use super::snapshot::{JobId, NodeId, QueueId, TaskId};
use crate::model::Resources;

/// Which of a candidate list `Session::best_node_among` chooses from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Among {
    /// Every candidate.
    All,
    /// The candidates whose Idle fits the task (class memo under this fit stamp).
    FitsIdle(u32),
}

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
    pub(crate) fn pop_task(&self, h: &mut PriorityQueue<TaskId>) -> Option<TaskId> {
        h.pop(|a, b| self.tless(a, b))
    }

    /// A task heap over `tasks` in task order: the heap pushing them one by one builds, made
    /// in place (a `Vec` passed in keeps its buffer: no second allocation per job and cycle).
    pub(crate) fn task_heap(
        &self,
        tasks: impl IntoIterator<Item = TaskId>,
    ) -> PriorityQueue<TaskId> {
        PriorityQueue::from_pushes(tasks.into_iter().collect(), |a, b| self.tless(a, b))
    }

    /// Picks the best node among `nodes` by summed plugin scores; equal best scores are broken
    /// at random (`util.SelectBestNodeAndScore`). A single candidate is returned unscored.
    /// Node classes score a class once; with HyperNode-wide scores (`uncached_scores`) a node's
    /// score is not its class's, so every node is scored (`plain_score`).
    pub(crate) fn best_node(&mut self, t: TaskId, nodes: &[NodeId]) -> NodeId {
        if self.shortcuts && !self.uncached_scores {
            return self.best_node_among(t, nodes, Among::All);
        }
        if nodes.len() == 1 || !self.tiers.scores_nodes() {
            if nodes.len() == 1 {
                return nodes[0];
            }
            let i = self.rng.pick(nodes.len());
            return nodes[i];
        }
        let mut best = f64::NEG_INFINITY;
        let mut ties: Vec<NodeId> = Vec::new();
        for &n in nodes {
            let s = self.plain_score(t, n);
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

    /// [`Session::best_node`] over the nodes of `nodes` that `among` keeps, in that order,
    /// through the node classes (`accel::classes`; shortcuts on): each class is scored once,
    /// the ties are counted instead of listed, and the draw picks the same node.
    pub(crate) fn best_node_among(&mut self, t: TaskId, nodes: &[NodeId], among: Among) -> NodeId {
        self.accel.classes.sync(self.st.snap);
        let req = self.st.snap.task(t).resreq;
        let mut count = 0usize;
        let mut first = None;
        for &n in nodes {
            if self.keeps(n, &req, among) {
                count += 1;
                first.get_or_insert(n);
            }
        }
        let first = first.expect("best_node needs a candidate");
        let scores = self.tiers.scores_nodes();
        if count == 1 || !scores {
            if count == 1 {
                return first;
            }
            let i = self.rng.pick(count);
            return self.nth_kept(nodes, &req, among, i, |_| true);
        }
        let stamp = self.accel.classes.begin();
        let mut best = f64::NEG_INFINITY;
        let mut ties = 0usize;
        for &n in nodes {
            if !self.keeps(n, &req, among) {
                continue;
            }
            let s = self.class_score(t, n, &req, stamp);
            if s > best {
                best = s;
                ties = 1;
            } else if s == best {
                ties += 1;
            }
        }
        let i = if ties == 1 { 0 } else { self.rng.pick(ties) };
        let classes = &self.accel.classes;
        self.nth_kept(nodes, &req, among, i, |n| {
            classes.memo_score(classes.class_of(n), stamp) == Some(best)
        })
    }

    fn keeps(&mut self, n: NodeId, req: &Resources, among: Among) -> bool {
        match among {
            Among::All => true,
            Among::FitsIdle(stamp) => {
                self.accel.classes.fit_bits(self.st.snap, n, req, stamp) & FITS_IDLE != 0
            }
        }
    }

    /// The `i`-th node (from 0) of `nodes` that `among` keeps and `also` accepts.
    fn nth_kept(
        &self,
        nodes: &[NodeId],
        req: &Resources,
        among: Among,
        mut i: usize,
        also: impl Fn(NodeId) -> bool,
    ) -> NodeId {
        for &n in nodes {
            let keep = match among {
                Among::All => true,
                Among::FitsIdle(_) => req.fits_in(&self.st.snap.nodes[n.ix()].idle),
            };
            if keep && also(n) {
                if i == 0 {
                    return n;
                }
                i -= 1;
            }
        }
        unreachable!("the draw is below the number of candidates")
    }

    /// `NodeOrderFn` summed over the plugins for node `n`'s class, through the class's score
    /// cache, memoised under `stamp` (classes synced by the caller).
    pub(crate) fn class_score(&mut self, t: TaskId, n: NodeId, req: &Resources, stamp: u32) -> f64 {
        let c = self.accel.classes.class_of(n);
        if let Some(s) = self.accel.classes.memo_score(c, stamp) {
            return s;
        }
        if let Some(s) = self.accel.classes.cached_score(c, req, stamp) {
            return s;
        }
        let s = self.tiers.node_score(&self.st, t, n);
        self.accel.classes.put_score(c, req, stamp, s);
        s
    }

    /// `NodeOrderFn` summed over the plugins, node by node. With HyperNode-wide scores the
    /// node-local plugins' sum plus network-topology-aware's, the same arithmetic with or
    /// without shortcuts.
    fn plain_score(&self, t: TaskId, n: NodeId) -> f64 {
        use super::plugins::network_topology_aware::{domain_score, local_score};
        if self.uncached_scores {
            local_score(self.tiers, &self.st, t, n) + domain_score(self.tiers, &self.st, t, n)
        } else {
            self.tiers.node_score(&self.st, t, n)
        }
    }

    /// Scores `nodes` and returns them in descending score, ties in the given order.
    pub(crate) fn nodes_by_score(&mut self, t: TaskId, nodes: &[NodeId]) -> Vec<NodeId> {
        if !self.tiers.scores_nodes() {
            return nodes.to_vec();
        }
        let req = self.st.snap.task(t).resreq;
        let classes = self.shortcuts && !self.uncached_scores;
        let stamp = if classes {
            self.accel.classes.sync(self.st.snap);
            self.accel.classes.begin()
        } else {
            0
        };
        let mut scored: Vec<(f64, usize, NodeId)> = Vec::with_capacity(nodes.len());
        for (i, &n) in nodes.iter().enumerate() {
            let s = if classes {
                self.class_score(t, n, &req, stamp)
            } else {
                self.plain_score(t, n)
            };
            scored.push((s, i, n));
        }
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
