//! capacity: fixed `deserved` per queue, elastic up to the real capability
//! (plugins/capacity/capacity.go). Flat mode: attributes for queues with jobs. Hierarchical
//! mode (`enableHierarchy`): every queue sits in a tree under `root`, ancestors aggregate their
//! leaves, and allocation/enqueue are checked leaf → root; an invalid tree (job in a non-leaf
//! queue, missing parent or root, cycle, child capability/deserved/guarantee above the parent's)
//! makes capacity reject every enqueue, allocation and reclaim for the session.
//! No Overused function (capacity limits per task through Allocatable).

mod gang;
mod tree;

use std::cmp::Ordering;

use super::cmp_f64;
use crate::model::{DefaultValue, QueueState, Resources};
use crate::policy::conf::CapacityArgs;
use crate::policy::conf::Flag;
use crate::policy::conf::PluginKind;
use crate::policy::plugin::{EvictionContext, Plugin, Vote};
use crate::policy::session::State;
use crate::policy::snapshot::{JobId, QueueId, TaskId};
use crate::policy::tiers::Tiers;

/// Per-queue attributes for one session.
#[derive(Debug, Clone)]
pub(crate) struct Attr {
    pub deserved: Resources,
    pub allocated: Resources,
    pub request: Resources,
    pub inqueue: Resources,
    pub elastic: Resources,
    pub guarantee: Resources,
    pub capability: Option<Resources>,
    pub real_capability: Resources,
    pub share: f64,
    /// Root first, parent last (hierarchical mode only).
    pub ancestors: Vec<QueueId>,
    pub children: Vec<QueueId>,
}

impl Attr {
    pub(crate) fn new() -> Attr {
        Attr {
            deserved: Resources::empty(),
            allocated: Resources::empty(),
            request: Resources::empty(),
            inqueue: Resources::empty(),
            elastic: Resources::empty(),
            guarantee: Resources::empty(),
            capability: None,
            real_capability: Resources::empty(),
            share: 0.0,
            ancestors: Vec::new(),
            children: Vec::new(),
        }
    }
}

pub struct Capacity {
    hierarchy: bool,
    /// `ancestorReclaimLevel` (hierarchical reclaim), default 0.
    ancestor_reclaim_level: usize,
    /// False when the hierarchy is invalid for this session.
    ready: bool,
    attrs: Vec<Option<Attr>>,
}

impl Capacity {
    pub fn new(args: &CapacityArgs, hierarchy: bool) -> Capacity {
        Capacity {
            hierarchy,
            ancestor_reclaim_level: args.ancestor_reclaim_level,
            ready: true,
            attrs: Vec::new(),
        }
    }
    fn attr(&self, q: QueueId) -> Option<&Attr> {
        self.attrs.get(q.ix()).and_then(|a| a.as_ref())
    }
    fn is_leaf(&self, q: QueueId) -> bool {
        self.attr(q).map(|a| a.children.is_empty()).unwrap_or(true)
    }
    /// `root`: the one queue of the tree without ancestors.
    fn is_root(&self, q: QueueId) -> bool {
        self.attr(q).is_some_and(|a| a.ancestors.is_empty())
    }
    /// Mirrors volcano `sharesAnyNonRootAncestorWithinLevel`: the two leaves have a common
    /// non-root ancestor among their depth 1..=level ancestors (each counted from its leaf).
    fn shares_non_root_ancestor(&self, a: &Attr, b: &Attr) -> bool {
        let level = self.ancestor_reclaim_level;
        (1..=level)
            .filter_map(|k| ancestor_at_depth(a, k))
            .filter(|&x| !self.is_root(x))
            .any(|x| (1..=level).any(|k| ancestor_at_depth(b, k) == Some(x)))
    }
    /// The queue and its ancestors, leaf first.
    fn chain(&self, q: QueueId) -> Vec<QueueId> {
        let mut v = vec![q];
        if let Some(a) = self.attr(q) {
            v.extend(a.ancestors.iter().rev().copied());
        }
        v
    }
    fn add_allocated(&mut self, q: QueueId, r: &Resources, sign: i64) {
        for x in self.chain(q) {
            if let Some(Some(a)) = self.attrs.get_mut(x.ix()) {
                if sign > 0 {
                    a.allocated.add(r);
                } else {
                    a.allocated.sub(r);
                }
                a.share = share(a);
            }
        }
    }
}

/// Capacity's per-queue `deserved` for the snapshot as it is (flat or hierarchical); `None`
/// for queues without attributes (or everywhere when the hierarchy is invalid).
pub fn deserved_of(
    snap: &crate::policy::snapshot::Snapshot,
    hierarchy: bool,
) -> Vec<Option<Resources>> {
    let attrs = if hierarchy {
        tree::build_hierarchical(snap).unwrap_or_else(|| vec![None; snap.queues.len()])
    } else {
        tree::build_flat(snap)
    };
    attrs.into_iter().map(|a| a.map(|a| a.deserved)).collect()
}

pub(crate) fn share(a: &Attr) -> f64 {
    share_of(&a.deserved, &a.allocated)
}

/// `updateQueueAttrShare`: 1 for a best-effort queue (empty deserved), else the max over
/// deserved's dimensions of allocated / deserved.
pub fn share_of(deserved: &Resources, allocated: &Resources) -> f64 {
    if deserved.is_empty() {
        return 1.0;
    }
    let mut s: f64 = 0.0;
    for d in deserved.names() {
        let x = crate::model::resources::share(allocated.get(d), deserved.get(d));
        if x > s {
            s = x;
        }
    }
    s
}

/// Requested dims of `r` (value > 0), pods excluded.
fn req_dims(r: &Resources) -> impl Iterator<Item = crate::model::ResourceName> + '_ {
    r.dims().filter(move |d| d.0 != 2 && r.get(*d) > 0)
}

/// Mirrors volcano `queueAncestorAtDepth`: depth 1 is the parent, 2 the grandparent, …
fn ancestor_at_depth(a: &Attr, depth: usize) -> Option<QueueId> {
    (depth > 0 && a.ancestors.len() >= depth).then(|| a.ancestors[a.ancestors.len() - depth])
}

/// Mirrors volcano `isImmediateVictim`: the request shares no dimension with `deserved`.
fn immediate_victim(req: &Resources, deserved: &Resources) -> bool {
    !req_dims(req).any(|d| deserved.get(d) > 0)
}

/// Deepest common level of two ancestor chains (`getQueueLevel`).
fn common_level(l: &[QueueId], r: &[QueueId]) -> usize {
    let mut level = 0;
    for i in 0..l.len().min(r.len()) {
        if l[i] == r[i] {
            level = i;
        } else {
            return level;
        }
    }
    level
}

impl Plugin for Capacity {
    /// Integer sums move by the same request both ways; shares are recomputed from them.
    fn events_cancel(&self) -> bool {
        true
    }
    fn kind(&self) -> PluginKind {
        PluginKind::Capacity
    }
    fn registers(&self, f: Flag) -> bool {
        matches!(
            f,
            Flag::QueueOrder
                | Flag::Allocatable
                | Flag::Preemptive
                | Flag::Reclaimable
                | Flag::JobEnqueued
        )
    }

    fn on_session_open(&mut self, s: &State) {
        if self.hierarchy {
            match tree::build_hierarchical(s.snap) {
                Some(attrs) => {
                    self.attrs = attrs;
                    self.ready = true;
                }
                None => {
                    self.attrs = vec![None; s.snap.queues.len()];
                    self.ready = false;
                }
            }
        } else {
            self.attrs = tree::build_flat(s.snap);
        }
    }

    fn queue_order(&self, s: &State, l: QueueId, r: QueueId) -> Option<Ordering> {
        let (ql, qr) = (&s.snap.queues[l.ix()], &s.snap.queues[r.ix()]);
        if ql.priority != qr.priority {
            return Some(qr.priority.cmp(&ql.priority));
        }
        let (a, b) = (self.attr(l)?, self.attr(r)?);
        if !self.hierarchy {
            let o = cmp_f64(a.share, b.share);
            if o != Ordering::Equal {
                return Some(o);
            }
            return Some(a.deserved.is_empty().cmp(&b.deserved.is_empty()));
        }
        match (self.is_leaf(l), self.is_leaf(r)) {
            (true, false) => return Some(Ordering::Less),
            (false, true) => return Some(Ordering::Greater),
            (false, false) => return Some(cmp_f64(a.share, b.share)),
            (true, true) => {}
        }
        // Between leaves, compare the ancestors just below their lowest common ancestor.
        let level = common_level(&a.ancestors, &b.ancestors);
        let lp = a.ancestors.get(level + 1).copied().unwrap_or(l);
        let rp = b.ancestors.get(level + 1).copied().unwrap_or(r);
        Some(cmp_f64(self.attr(lp)?.share, self.attr(rp)?.share))
    }

    fn victim_queue_order(
        &self,
        _s: &State,
        l: QueueId,
        r: QueueId,
        p: QueueId,
    ) -> Option<Ordering> {
        if !self.hierarchy {
            return None;
        }
        let (la, ra, pa) = (self.attr(l)?, self.attr(r)?, self.attr(p)?);
        let ll = common_level(&la.ancestors, &pa.ancestors);
        let rl = common_level(&ra.ancestors, &pa.ancestors);
        // The queue diverging from the preemptor's path deeper gives up victims first.
        Some(rl.cmp(&ll))
    }

    fn allocatable(&self, s: &State, q: QueueId, t: TaskId) -> Option<bool> {
        if !self.ready || s.snap.queues[q.ix()].state != QueueState::Open {
            return Some(false);
        }
        if self.hierarchy && !self.is_leaf(q) {
            return Some(false);
        }
        let req = &s.snap.task(t).resreq;
        for x in self.chain(q) {
            let Some(a) = self.attr(x) else {
                return Some(false);
            };
            if !a
                .allocated
                .plus(req)
                .less_equal_on_requested(&a.real_capability, req)
            {
                return Some(false);
            }
        }
        Some(true)
    }

    fn preemptive(&self, s: &State, q: QueueId, req: &Resources) -> Option<bool> {
        if !self.ready || s.snap.queues[q.ix()].state != QueueState::Open {
            return Some(false);
        }
        let Some(a) = self.attr(q) else {
            return Some(false);
        };
        let future = a.allocated.plus(req);
        if !future.less_equal_on_requested(&a.real_capability, req) {
            return Some(false);
        }
        if future.less_equal_partly(&a.deserved, req, true) {
            return Some(true);
        }
        if self.hierarchy && self.ancestor_reclaim_level > 0 {
            // Mirrors volcano AddPreemptiveFn: depth 1..=level ancestors, root skipped.
            for &anc in a.ancestors.iter().rev().take(self.ancestor_reclaim_level) {
                if self.is_root(anc) {
                    continue;
                }
                if let Some(x) = self.attr(anc) {
                    if x.allocated
                        .plus(req)
                        .less_equal_partly(&x.deserved, req, true)
                    {
                        return Some(true);
                    }
                }
            }
        }
        Some(false)
    }

    /// `may_be_victim` is the default `true`.
    fn may_be_victim_static(&self) -> bool {
        true
    }
    /// Answers read only the candidates (and the preemptor's queue and request).
    fn victim_vote_key(&self, _s: &State, _p: TaskId) -> Option<i64> {
        Some(0)
    }
    fn reclaimable(
        &self,
        s: &State,
        tiers: &Tiers,
        reclaimer: TaskId,
        cands: &[TaskId],
    ) -> Option<(Vec<TaskId>, Vote)> {
        if !self.ready {
            return Some((Vec::new(), Vote::Reject));
        }
        let req = s.snap.task(reclaimer).resreq;
        let rq = s.snap.queue_of_task(reclaimer);
        let ordered = tiers.victim_order(s, cands, reclaimer);
        let mut running: Vec<(QueueId, Resources)> = Vec::new();
        let mut out = Vec::new();
        for c in ordered {
            let ct = s.snap.task(c);
            let q = s.snap.queue_of_task(c);
            let Some(attr) = self.attr(q) else { continue };
            // 1. The reclaimee must free something the reclaimer asks for.
            if !req_dims(&ct.resreq).any(|d| req.get(d) > 0) {
                continue;
            }
            let pos = crate::policy::plugins::running_slot(&mut running, q, attr.allocated);
            let allocated = running[pos].1;
            // 2. Never reclaim below guarantee.
            if !attr
                .guarantee
                .less_equal(&allocated.minus(&ct.resreq), DefaultValue::Zero)
            {
                continue;
            }
            // 3. Immediate victim when it uses nothing the queue is entitled to; otherwise the
            //    queue must exceed deserved on a dimension the reclaimee requests.
            let ra = self.attr(rq);
            let gated = self.hierarchy && self.ancestor_reclaim_level > 0;
            if immediate_victim(&ct.resreq, &attr.deserved) {
                // Mirrors volcano capacity.go (v1.15 ancestorReclaimLevel): no real contention
                // when both leaves share a non-root ancestor within the level and the
                // reclaimer's own deserved covers nothing it requests.
                if gated
                    && ra.is_some_and(|ra| {
                        self.shares_non_root_ancestor(ra, attr)
                            && immediate_victim(&req, &ra.deserved)
                    })
                {
                    continue;
                }
            } else if !allocated.greater_partly_relevant(&attr.deserved, &ct.resreq) {
                continue;
            }
            // 4. Ancestor gate (`getReclaimeeAncestorToCheck`): for k = 1..=level the
            //    reclaimee's k-th ancestor (counted up from the leaf), unless it is root or the
            //    reclaimer's k-th ancestor too, must be an immediate victim for this reclaimee or
            //    exceed its running deserved on a relevant dimension.
            let mut checked: Vec<usize> = Vec::new();
            if let (true, Some(ra)) = (gated, ra) {
                let mut eligible = true;
                for k in 1..=self.ancestor_reclaim_level {
                    let Some(anc) = ancestor_at_depth(attr, k) else {
                        continue;
                    };
                    if self.is_root(anc) || ancestor_at_depth(ra, k) == Some(anc) {
                        continue;
                    }
                    let Some(aa) = self.attr(anc) else {
                        eligible = false;
                        break;
                    };
                    let ap = match running.iter().position(|(x, _)| *x == anc) {
                        Some(p) => p,
                        None => {
                            running.push((anc, aa.allocated));
                            running.len() - 1
                        }
                    };
                    if !checked.contains(&ap) {
                        checked.push(ap);
                    }
                    if immediate_victim(&ct.resreq, &aa.deserved) {
                        continue;
                    }
                    if !running[ap]
                        .1
                        .greater_partly_relevant(&aa.deserved, &ct.resreq)
                    {
                        eligible = false;
                        break;
                    }
                }
                if !eligible {
                    continue;
                }
            }
            for ap in checked {
                running[ap].1.sub(&ct.resreq);
            }
            running[pos].1.sub(&ct.resreq);
            out.push(c);
        }
        Some((out, Vote::Permit))
    }

    fn unified_evictable(
        &self,
        s: &State,
        ctx: &EvictionContext,
        cands: &[TaskId],
    ) -> Option<(Vec<TaskId>, Vote)> {
        Some(self.gang_evictable(s, ctx, cands))
    }

    fn job_enqueueable(&self, s: &State, j: JobId) -> Option<Vote> {
        let job = s.snap.job(j);
        if !self.ready || s.snap.queues[job.queue.ix()].state != QueueState::Open {
            return Some(Vote::Reject);
        }
        if self.hierarchy && !self.is_leaf(job.queue) {
            return Some(Vote::Reject);
        }
        let Some(min) = &job.min_resources else {
            return Some(Vote::Permit);
        };
        for x in self.chain(job.queue) {
            let Some(a) = self.attr(x) else {
                return Some(Vote::Permit);
            };
            let future = min.plus(&a.allocated).plus(&a.inqueue).minus(&a.elastic);
            if !future.less_equal_on_requested(&a.real_capability, min) {
                return Some(Vote::Reject);
            }
        }
        Some(Vote::Permit)
    }

    fn job_enqueued(&mut self, s: &State, j: JobId) {
        let job = s.snap.job(j);
        let Some(min) = job.min_resources else { return };
        for x in self.chain(job.queue) {
            if let Some(Some(a)) = self.attrs.get_mut(x.ix()) {
                a.inqueue.add(&min);
            }
        }
    }

    fn on_allocate(&mut self, s: &State, t: TaskId) {
        let q = s.snap.queue_of_task(t);
        let r = s.snap.task(t).resreq;
        self.add_allocated(q, &r, 1);
    }

    fn on_deallocate(&mut self, s: &State, t: TaskId) {
        let q = s.snap.queue_of_task(t);
        let r = s.snap.task(t).resreq;
        self.add_allocated(q, &r, -1);
    }

    fn deserved(&self, q: QueueId) -> Option<(f64, f64)> {
        let a = self.attr(q).filter(|_| self.ready)?;
        Some((a.deserved.cpu() as f64, a.deserved.memory() as f64))
    }
}
