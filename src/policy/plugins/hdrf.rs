//! Hierarchical DRF (drf `enableHierarchy`): the share tree over queue paths
//! (`volcano.sh/hierarchy` / `volcano.sh/hierarchy-weights` on the queue), its saturation
//! refresh, the queue order and the what-if reclaim rule.
//!
//! Mirrors volcano pkg/scheduler/plugins/drf/drf.go (`buildHierarchy`,
//! `updateHierarchicalShare`, `resourceSaturated`, `compareQueues`, the hierarchy branch of
//! `OnSessionOpen`). Depends on policy types and `model` only; no I/O.

use std::cmp::Ordering;

use super::drf::{drf_allocated, share_of};
use crate::model::{ResourceName, Resources};
use crate::policy::snapshot::{JobId, QueueId, Snapshot, TaskId};

/// One node of the tree: a path element (internal) or a job (leaf).
#[derive(Debug, Clone)]
struct Node {
    /// Path element, or the job UID for a leaf.
    key: String,
    weight: f64,
    children: Vec<usize>,
    /// Leaf only: the job's total request and drf allocation.
    job: Option<JobId>,
    request: Resources,
    /// Per cluster resource name (the order of `Tree::names`).
    allocated: Vec<f64>,
    share: f64,
    saturated: bool,
}

/// The share tree of one session (rebuilt from the snapshot after every change).
#[derive(Debug, Clone, Default)]
pub struct Tree {
    nodes: Vec<Node>,
    names: Vec<ResourceName>,
    total: Vec<f64>,
}

/// The queue's path elements after `root` and their weights (parsed with errors → 0, then
/// clamped to ≥ 1, as `buildHierarchy` does). A missing weight counts as 1 (Volcano would
/// panic on the index; the admission webhook forbids it).
pub fn queue_path(snap: &Snapshot, q: QueueId) -> Vec<(String, f64)> {
    let qi = &snap.queues[q.ix()];
    if qi.hierarchy.is_empty() {
        return Vec::new();
    }
    let weights: Vec<&str> = qi.hierarchy_weights.split('/').collect();
    qi.hierarchy
        .split('/')
        .enumerate()
        .skip(1)
        .map(|(i, p)| {
            let w = weights
                .get(i)
                .and_then(|w| w.trim().parse::<f64>().ok())
                .unwrap_or(0.0);
            (p.to_string(), if w < 1.0 { 1.0 } else { w })
        })
        .collect()
}

impl Tree {
    /// Builds the tree of every live job. `extra` adds (or with a negative sign removes) a
    /// task's request to its job's leaf and to the total allocated — the what-if of reclaim.
    pub fn build(snap: &Snapshot, extra: &[(TaskId, i64)]) -> Tree {
        let names: Vec<ResourceName> = snap.total.names().collect();
        let total: Vec<f64> = names.iter().map(|&d| snap.total.get(d) as f64).collect();
        let mut t = Tree {
            nodes: vec![Node::internal("root".into(), 1.0, names.len())],
            names,
            total,
        };
        let mut total_allocated = Resources::empty();
        for j in snap.live_jobs() {
            let job = snap.job(j);
            let mut alloc = drf_allocated(snap, j);
            for &(task, sign) in extra {
                if snap.task(task).job == j {
                    let r = snap.task(task).resreq;
                    if sign > 0 {
                        alloc.add(&r);
                    } else {
                        alloc.sub(&r);
                    }
                }
            }
            total_allocated.add(&alloc);
            let mut request = Resources::empty();
            for &task in &job.tasks {
                request.add(&snap.task(task).resreq);
            }
            let mut at = 0;
            for (key, weight) in queue_path(snap, job.queue) {
                at = match t.child(at, &key) {
                    Some(c) => c,
                    None => t.push(at, Node::internal(key, weight, t.names.len())),
                };
            }
            let allocated = t.vector(&alloc);
            let share = share_of(&alloc, &snap.total);
            let leaf = Node {
                key: job.uid.clone(),
                weight: 1.0,
                children: Vec::new(),
                job: Some(j),
                request,
                allocated,
                share,
                saturated: false,
            };
            t.push(at, leaf);
        }
        // Demanding resources: those not yet fully allocated cluster-wide.
        let demanding: Vec<bool> = t
            .names
            .iter()
            .map(|&d| total_allocated.get(d) < snap.total.get(d))
            .collect();
        t.refresh(0, &demanding);
        t
    }

    fn vector(&self, r: &Resources) -> Vec<f64> {
        self.names.iter().map(|&d| r.get(d) as f64).collect()
    }

    fn child(&self, at: usize, key: &str) -> Option<usize> {
        self.nodes[at]
            .children
            .iter()
            .copied()
            .find(|&c| self.nodes[c].key == key && self.nodes[c].job.is_none())
    }

    fn push(&mut self, parent: usize, n: Node) -> usize {
        self.nodes.push(n);
        let ix = self.nodes.len() - 1;
        self.nodes[parent].children.push(ix);
        ix
    }

    fn dominant(&self, v: &[f64]) -> f64 {
        v.iter()
            .zip(&self.total)
            .filter(|(_, &t)| t > 0.0)
            .map(|(a, t)| a / t)
            .fold(0.0, f64::max)
    }

    /// `updateHierarchicalShare`, bottom-up from `n`.
    fn refresh(&mut self, n: usize, demanding: &[bool]) {
        if self.nodes[n].job.is_some() {
            let node = &self.nodes[n];
            // Mirrors `resourceSaturated` over the resource names the job holds.
            let saturated = self.names.iter().enumerate().any(|(i, &d)| {
                let a = node.allocated[i];
                let req = node.request.get(d) as f64;
                a > 0.0 && req > 0.0 && (a >= req || !demanding[i])
            });
            self.nodes[n].saturated = saturated;
            return;
        }
        let children = self.nodes[n].children.clone();
        let mut mdr: f64 = 1.0;
        for &c in &children {
            self.refresh(c, demanding);
            let ch = &self.nodes[c];
            if ch.share != 0.0 && !ch.saturated {
                mdr = mdr.min(self.dominant(&ch.allocated));
            }
        }
        let mut allocated = vec![0.0; self.names.len()];
        let mut saturated = true;
        for &c in &children {
            let ch = &self.nodes[c];
            saturated &= ch.saturated;
            if ch.share == 0.0 {
                continue;
            }
            let scale = if ch.saturated { 1.0 } else { mdr / ch.share };
            for (a, x) in allocated.iter_mut().zip(&ch.allocated) {
                *a += x * scale;
            }
        }
        self.nodes[n].share = self.dominant(&allocated);
        self.nodes[n].allocated = allocated;
        self.nodes[n].saturated = saturated;
    }

    /// `compareQueues`: from the root down both paths, a non-saturated node first, then the
    /// smaller share / weight; equal at every level of the shorter path → `Equal`.
    pub fn compare(&self, snap: &Snapshot, l: QueueId, r: QueueId) -> Ordering {
        let lp = queue_path(snap, l);
        let rp = queue_path(snap, r);
        let depth = lp.len().min(rp.len()) + 1;
        let (mut ln, mut rn) = (0usize, 0usize);
        for i in 0..depth {
            let (a, b) = (&self.nodes[ln], &self.nodes[rn]);
            match (a.saturated, b.saturated) {
                (false, true) => return Ordering::Less,
                (true, false) => return Ordering::Greater,
                _ => {}
            }
            let (x, y) = (a.share / a.weight, b.share / b.weight);
            if x != y {
                return x.partial_cmp(&y).unwrap_or(Ordering::Equal);
            }
            if i + 1 < depth {
                // A path element with no job in this session has no node (Volcano would
                // dereference nil here); treat the queues as equal.
                match (self.child(ln, &lp[i].0), self.child(rn, &rp[i].0)) {
                    (Some(a), Some(b)) => (ln, rn) = (a, b),
                    _ => return Ordering::Equal,
                }
            }
        }
        Ordering::Equal
    }
}

impl Node {
    fn internal(key: String, weight: f64, dims: usize) -> Node {
        Node {
            key,
            weight,
            children: Vec::new(),
            job: None,
            request: Resources::empty(),
            allocated: vec![0.0; dims],
            share: 0.0,
            saturated: false,
        }
    }
}

/// The hierarchy branch of drf's reclaim rule: with the reclaimer's task added, each
/// reclaimee independently removed, the reclaimer's queue must still order strictly first.
pub fn reclaimable(snap: &Snapshot, reclaimer: TaskId, cands: &[TaskId]) -> Vec<TaskId> {
    let lq = snap.queue_of_task(reclaimer);
    cands
        .iter()
        .copied()
        .filter(|&c| {
            let tree = Tree::build(snap, &[(reclaimer, 1), (c, -1)]);
            tree.compare(snap, lq, snap.queue_of_task(c)) == Ordering::Less
        })
        .collect()
}
