//! network-topology-aware: the candidate HyperNodes of a job with a network topology
//! (gradient), HyperNode scoring for its (sub-)job (HyperNode binpack), node scoring of its
//! tasks (LCA tier of the node and the job's allocated HyperNode), and HyperNode-level binpack
//! for pods without a topology. Keeps Volcano's per-HyperNode resource cache: allocatable,
//! idle and future idle summed at session open, `used` following allocate/deallocate events.
//!
//! Mirrors volcano pkg/scheduler/plugins/network-topology-aware/network_topology_aware.go at
//! v1.15.0 (semantics §3.4, §3.6). Scores nothing on a cluster without HyperNodes. Depends on
//! policy types and `model`.

use std::cell::RefCell;

use crate::model::{ResourceName, Resources};
use crate::policy::conf::{Flag, NetworkTopologyArgs, PluginKind};
use crate::policy::plugin::{Plugin, Purpose};
use crate::policy::session::State;
use crate::policy::snapshot::{JobId, NodeId, TaskId};
use crate::policy::tiers::Tiers;
use crate::policy::topology::{job, HnId, HyperNodes};

/// The NodeOrder sum of every enabled plugin but network-topology-aware: what depends on the
/// node alone (and may be cached per node version).
pub(crate) fn local_score(tiers: &Tiers, s: &State, t: TaskId, n: NodeId) -> f64 {
    node_order_where(tiers, s, t, n, |k| k != PluginKind::NetworkTopologyAware)
}

/// network-topology-aware's NodeOrder score (reads HyperNode-wide sums: never cached).
pub(crate) fn domain_score(tiers: &Tiers, s: &State, t: TaskId, n: NodeId) -> f64 {
    node_order_where(tiers, s, t, n, |k| k == PluginKind::NetworkTopologyAware)
}

fn node_order_where(
    tiers: &Tiers,
    s: &State,
    t: TaskId,
    n: NodeId,
    keep: impl Fn(PluginKind) -> bool,
) -> f64 {
    let mut total = 0.0;
    for slot in tiers.tiers.iter().flatten() {
        if slot.flags.has(Flag::NodeOrder)
            && slot.plugin.registers(Flag::NodeOrder)
            && keep(slot.plugin.kind())
        {
            if let Some(x) = slot.plugin.node_order(s, t, n) {
                total += x;
            }
        }
    }
    total
}

/// Per-HyperNode sums (`resourceStatus`).
#[derive(Debug, Clone, Default)]
struct Status {
    allocatable: Resources,
    used: Resources,
    idle: Resources,
    future: Resources,
}

pub struct NetworkTopologyAware {
    args: NetworkTopologyArgs,
    /// Binpack weights by dimension for this session (cpu, memory, then the named resources
    /// the snapshot knows).
    weights: Vec<(ResourceName, f64)>,
    /// Indexed by `HnId`; empty when the cluster has no HyperNodes.
    cache: Vec<Status>,
    min_tier: u32,
    max_tier: u32,
    /// `(tier, fading^(tier−1))` for every tier in `min_tier..=max_tier`, and their sum.
    tier_weights: Vec<(u32, f64)>,
    weight_sum: f64,
    /// Per HyperNode, the last binpack score computed and the request it was for: a
    /// HyperNode's score depends on its sums and the request only, so the nodes of one
    /// HyperNode share it. Cleared for a HyperNode when its `used` changes.
    memo: RefCell<Vec<Option<(Resources, f64)>>>,
    /// Node each task was allocated on this session (by task id): an un-allocated task has
    /// already lost its node when the event fires, but its HyperNodes' `used` must drop.
    placed: Vec<Option<NodeId>>,
}

impl NetworkTopologyAware {
    pub fn new(args: &NetworkTopologyArgs) -> NetworkTopologyAware {
        NetworkTopologyAware {
            args: args.clone(),
            weights: Vec::new(),
            cache: Vec::new(),
            min_tier: 0,
            max_tier: 0,
            tier_weights: Vec::new(),
            weight_sum: 0.0,
            memo: RefCell::new(Vec::new()),
            placed: Vec::new(),
        }
    }

    /// `binpack` through the per-HyperNode memo (the same value, computed once per request
    /// while the HyperNode's sums stay).
    fn binpack_memo(&self, h: HnId, request: &Resources) -> f64 {
        let mut memo = self.memo.borrow_mut();
        if let Some(Some((r, x))) = memo.get(h.ix()) {
            if r == request {
                return *x;
            }
        }
        let x = self.binpack(h, request);
        if let Some(slot) = memo.get_mut(h.ix()) {
            *slot = Some((*request, x));
        }
        x
    }

    fn weight_of(&self, d: ResourceName) -> Option<f64> {
        self.weights.iter().find(|(x, _)| *x == d).map(|&(_, w)| w)
    }

    /// `scaleFinalScore`.
    fn scale(&self, x: f64) -> f64 {
        x * 100.0 * self.args.weight as f64
    }

    /// Binpack score of `request` on HyperNode `h` (`getPodHyperNodeBinPackingScore`): 0 if a
    /// weighted resource would overflow or none is requested.
    fn binpack(&self, h: HnId, request: &Resources) -> f64 {
        let Some(st) = self.cache.get(h.ix()) else {
            return 0.0;
        };
        let (mut total, mut wsum) = (0.0, 0.0);
        for d in request.names() {
            let Some(w) = self.weight_of(d) else {
                continue;
            };
            let (alloc, used, req) = (st.allocatable.get(d), st.used.get(d), request.get(d));
            if used + req > alloc {
                return 0.0;
            }
            total += w * (used + req) as f64 / alloc as f64;
            wsum += w;
        }
        if wsum > 0.0 {
            total / wsum
        } else {
            0.0
        }
    }

    /// `scoreWithTaskNum`: the share of job `j`'s tasks placed on `h`'s nodes.
    fn task_share(s: &State, h: Option<HnId>, j: JobId) -> f64 {
        let (Some(h), job) = (h, s.snap.job(j)) else {
            return 0.0;
        };
        if job.tasks.is_empty() {
            return 0.0;
        }
        let topo = &s.snap.topology;
        let on = job
            .tasks
            .iter()
            .filter(|&&t| s.snap.task(t).node.is_some_and(|n| topo.contains(h, n)))
            .count();
        on as f64 / job.tasks.len() as f64
    }

    /// `networkTopologyAwareScore`: how close node's HyperNode `hn` is to `allocated`.
    fn lca_score(&self, topo: &HyperNodes, hn: Option<HnId>, allocated: HnId) -> f64 {
        let Some(hn) = hn else {
            return 0.0;
        };
        if hn == allocated {
            return 1.0;
        }
        let Some(lca) = topo.lca(Some(hn), Some(allocated)) else {
            return 0.0;
        };
        let t = topo.tier(lca);
        if self.min_tier == self.max_tier {
            return 1.0;
        }
        if t < self.min_tier || t > self.max_tier {
            return 0.0;
        }
        (self.max_tier - t) as f64 / (self.max_tier - self.min_tier) as f64
    }

    /// Adds the task-count share to every candidate sharing the best score (ties only).
    fn break_ties(scores: &mut [f64], share: impl Fn(usize) -> f64) {
        let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let best: Vec<usize> = (0..scores.len()).filter(|&i| scores[i] == max).collect();
        if best.len() > 1 {
            for i in best {
                scores[i] += share(i);
            }
        }
    }

    /// `used` of every HyperNode holding the task's node changes by its request.
    fn account(&mut self, s: &State, t: TaskId, add: bool) {
        if self.cache.is_empty() {
            return;
        }
        let task = s.snap.task(t);
        if self.placed.len() <= t.ix() {
            self.placed.resize(t.ix() + 1, None);
        }
        let node = if add {
            self.placed[t.ix()] = task.node;
            task.node
        } else {
            task.node.or(self.placed[t.ix()].take())
        };
        let Some(n) = node else { return };
        let memo = self.memo.get_mut();
        for &h in s.snap.topology.holding(n) {
            if let Some(st) = self.cache.get_mut(h.ix()) {
                if add {
                    st.used.add(&task.resreq);
                } else {
                    st.used.sub(&task.resreq);
                }
            }
            if let Some(m) = memo.get_mut(h.ix()) {
                *m = None;
            }
        }
    }
}

impl NetworkTopologyAware {
    /// `hyperNodeGradientFn`: the search root (`job::search_root`), then the BFS below it of
    /// the HyperNodes within `highest_tier` that `isEligibleHyperNode` accepts, grouped by
    /// tier ascending. `None` (Volcano's error) when there is no search root.
    pub(crate) fn gradient_within(
        &self,
        s: &State,
        input: HnId,
        highest_tier: u32,
        allocated: Option<HnId>,
        min_res: &Resources,
        purpose: Purpose,
    ) -> Option<Vec<Vec<HnId>>> {
        let topo = &s.snap.topology;
        let root = job::search_root(topo, input, highest_tier, allocated)?;
        Some(job::gradient(topo, root, highest_tier, |h| {
            self.eligible(h, allocated, min_res, purpose)
        }))
    }

    /// Overwrites the idle and future-idle sums cached for `h` at session open, as Volcano's
    /// `TestHyperNodeGradientPreFiltering` edits `hyperNodeResourceCache` (conformance only).
    pub(crate) fn set_free_sums(&mut self, h: HnId, idle: Resources, future: Resources) {
        if let Some(st) = self.cache.get_mut(h.ix()) {
            st.idle = idle;
            st.future = future;
        }
    }

    /// `isEligibleHyperNode` past the tier test: a job with an allocated HyperNode, or a
    /// HyperNode without a cache entry, skips the resource test; evict asks the allocatable
    /// sum to hold `min_res`, allocate the idle or the future idle sum.
    fn eligible(
        &self,
        h: HnId,
        allocated: Option<HnId>,
        min_res: &Resources,
        purpose: Purpose,
    ) -> bool {
        if allocated.is_some() {
            return true;
        }
        match (self.cache.get(h.ix()), purpose) {
            (None, _) => true,
            (Some(st), Purpose::Evict) => min_res.fits_in(&st.allocatable),
            (Some(st), Purpose::Allocate) => {
                min_res.fits_in(&st.idle) || min_res.fits_in(&st.future)
            }
        }
    }
}

impl Plugin for NetworkTopologyAware {
    /// Per-HyperNode sums move by the same request both ways; the memos are recomputed.
    fn events_cancel(&self) -> bool {
        true
    }
    fn kind(&self) -> PluginKind {
        PluginKind::NetworkTopologyAware
    }
    fn registers(&self, f: Flag) -> bool {
        matches!(
            f,
            Flag::NodeOrder | Flag::HyperNodeOrder | Flag::HyperNodeGradient
        )
    }
    /// `initHyperNodeResourceCache` and the tier range of `HyperNodesTiers`.
    fn on_session_open(&mut self, s: &State) {
        let topo = &s.snap.topology;
        self.cache.clear();
        self.weights.clear();
        self.tier_weights.clear();
        self.memo.get_mut().clear();
        self.placed.clear();
        if topo.is_empty() {
            return;
        }
        self.weights.push((ResourceName::CPU, self.args.cpu as f64));
        self.weights
            .push((ResourceName::MEMORY, self.args.memory as f64));
        for (name, w) in &self.args.resources {
            if let Some(d) = ResourceName::lookup(name) {
                if !self.weights.iter().any(|(x, _)| *x == d) {
                    self.weights.push((d, *w as f64));
                }
            }
        }
        self.min_tier = topo.tiers().first().copied().unwrap_or(0);
        self.max_tier = topo.tiers().last().copied().unwrap_or(0);
        self.tier_weights = (self.min_tier..=self.max_tier)
            .map(|t| (t, self.args.normal_pod_fading.powi(t as i32 - 1)))
            .collect();
        self.weight_sum = self.tier_weights.iter().map(|x| x.1).sum();
        *self.memo.get_mut() = vec![None; topo.len()];
        // Sums bottom-up: a HyperNode that is the disjoint union of its lower-tier children
        // adds their sums (integer sums, so the order does not matter).
        let mut cache = vec![Status::default(); topo.len()];
        for h in topo.by_tier() {
            let mut st = Status::default();
            if topo.is_union_of_children(h) {
                for &c in topo.children(h) {
                    let k = &cache[c.ix()];
                    st.allocatable.add(&k.allocatable);
                    st.used.add(&k.used);
                    st.idle.add(&k.idle);
                    st.future.add(&k.future);
                }
            } else {
                for &n in topo.nodes(h) {
                    let node = &s.snap.nodes[n.ix()];
                    st.allocatable.add(&node.allocatable);
                    st.used.add(&node.used);
                    st.idle.add(&node.idle);
                    st.future.add(&node.future_idle());
                }
            }
            cache[h.ix()] = st;
        }
        self.cache = cache;
    }
    fn on_allocate(&mut self, s: &State, t: TaskId) {
        self.account(s, t, true);
    }
    fn on_deallocate(&mut self, s: &State, t: TaskId) {
        self.account(s, t, false);
    }
    /// `batchNodeOrderFnForNormalPods` (tasks of jobs without a network topology): tier-faded
    /// HyperNode binpack. Tasks of jobs with a topology are scored by `topology_node_order`
    /// on the topology path (0 elsewhere, as Volcano's empty map).
    fn node_order(&self, s: &State, t: TaskId, n: NodeId) -> Option<f64> {
        let topo = &s.snap.topology;
        if topo.is_empty() || !self.args.normal_pod_enable {
            return None;
        }
        if s.snap.job_of(t).network_topology.is_some() {
            return None;
        }
        let req = &s.snap.task(t).resreq;
        let held = topo.holding(n);
        let mut total = 0.0;
        for &(tier, w) in &self.tier_weights {
            let score = held
                .iter()
                .find(|&&h| topo.tier(h) == tier)
                .map_or(1.0, |&h| self.binpack_memo(h, req));
            total += w * score;
        }
        if self.weight_sum <= 0.0 {
            return None;
        }
        Some(self.scale(total / self.weight_sum))
    }
    /// `batchNodeOrderFnForNetworkAwarePods`.
    fn topology_node_order(
        &self,
        s: &State,
        t: TaskId,
        allocated: Option<HnId>,
        nodes: &[NodeId],
    ) -> Option<Vec<f64>> {
        let topo = &s.snap.topology;
        let Some(allocated) = allocated else {
            return Some(vec![0.0; nodes.len()]);
        };
        let mut scores: Vec<f64> = nodes
            .iter()
            .map(|&n| self.lca_score(topo, topo.leaf_of(n), allocated))
            .collect();
        let j = s.snap.task(t).job;
        Self::break_ties(&mut scores, |i| {
            Self::task_share(s, topo.leaf_of(nodes[i]), j)
        });
        Some(scores.into_iter().map(|x| self.scale(x)).collect())
    }
    /// `HyperNodeOrderFn`: binpack of all the (sub-)job's tasks on each candidate.
    fn hypernode_order(&self, s: &State, j: JobId, candidates: &[HnId]) -> Option<Vec<f64>> {
        let mut request = Resources::empty();
        for &t in &s.snap.job(j).tasks {
            request.add(&s.snap.task(t).resreq);
        }
        let mut scores: Vec<f64> = candidates
            .iter()
            .map(|&h| self.binpack(h, &request))
            .collect();
        Self::break_ties(&mut scores, |i| Self::task_share(s, Some(candidates[i]), j));
        Some(scores.into_iter().map(|x| self.scale(x)).collect())
    }
    /// `HyperNodeGradientForJobFn` / `ForSubJobFn`: for a job in hard mode (soft converted
    /// included) the BFS gradient (`gradient_within`), reversed and capped at
    /// `hypernode.gradient.evict.max-hypernodes` for `Purpose::Evict`; `[[input]]` otherwise;
    /// no candidates when the search root cannot be found.
    fn hypernode_gradient(
        &self,
        s: &State,
        j: JobId,
        input: HnId,
        allocated: Option<HnId>,
        min_res: &Resources,
        purpose: Purpose,
    ) -> Option<Vec<Vec<HnId>>> {
        let topo = &s.snap.topology;
        let Some(eff) = job::effective(topo, s.snap.job(j).network_topology.as_ref()) else {
            return Some(vec![vec![input]]);
        };
        let g = self
            .gradient_within(s, input, eff.highest_tier, allocated, min_res, purpose)
            .unwrap_or_default();
        Some(match purpose {
            Purpose::Allocate => g,
            Purpose::Evict => job::reverse_and_cap(&g, self.args.evict_max_hypernodes),
        })
    }
}
