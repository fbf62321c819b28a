//! nodeorder: Kubernetes resource scoring as Volcano wraps it (plugins/nodeorder): least
//! requested, most requested and balanced allocation, each 0..100 times its weight.
//! Affinity, taint-preference, image-locality and spread scores are not modelled (no pod
//! affinity or images in our inputs). Requests use k8s's non-zero defaults (100m cpu, 200Mi).
//!
//! With the compatibility switch `nodeorder-double-count` (`conf::Compat`, DRIFT F) every pod
//! allocated or pipelined in the session counts twice on its node (Volcano 7a5d24ecc).

use crate::policy::conf::Flag;
use crate::policy::conf::{NodeOrderArgs, PluginKind};
use crate::policy::plugin::Plugin;
use crate::policy::session::State;
use crate::policy::snapshot::{NodeId, TaskId};

const DEFAULT_CPU: i64 = 100;
const DEFAULT_MEM: i64 = 200 * 1024 * 1024;

pub struct NodeOrder {
    least: f64,
    most: f64,
    balanced: f64,
    /// DRIFT F on for this session (`Compat::nodeorder_double_count`).
    double_count: bool,
    /// Per node: the (cpu, memory) of the pods this session allocated or pipelined there,
    /// counted a second time under DRIFT F.
    extra: Vec<[i64; 2]>,
    /// The tasks whose requests are in `extra`, with their node (a deallocation removes only
    /// what was added; the task has already lost its node when the handler runs).
    added: Vec<(TaskId, NodeId)>,
}

impl NodeOrder {
    pub fn new(args: &NodeOrderArgs) -> NodeOrder {
        NodeOrder {
            least: args.least_requested as f64,
            most: args.most_requested as f64,
            balanced: args.balanced_resource as f64,
            double_count: false,
            extra: Vec::new(),
            added: Vec::new(),
        }
    }
}

/// (requested after placing the pod, allocatable) for cpu and memory, k8s non-zero rules;
/// `extra` is added to the node's requests (DRIFT F's second count, else zero).
fn requested(s: &State, t: TaskId, n: NodeId, extra: [i64; 2]) -> [(i64, i64); 2] {
    let node = &s.snap.nodes[n.ix()];
    let req = &s.snap.task(t).resreq;
    let cpu = if req.cpu() == 0 {
        DEFAULT_CPU
    } else {
        req.cpu()
    };
    let mem = if req.memory() == 0 {
        DEFAULT_MEM
    } else {
        req.memory()
    };
    let used_cpu = node.used.cpu() + node.pipelined.cpu() + extra[0];
    let used_mem = node.used.memory() + node.pipelined.memory() + extra[1];
    [
        (used_cpu + cpu, node.allocatable.cpu()),
        (used_mem + mem, node.allocatable.memory()),
    ]
}

/// k8s LeastAllocated: mean over cpu, memory of `(alloc − req) × 100 / alloc` (integer).
pub fn least_allocated(r: &[(i64, i64); 2]) -> i64 {
    let per = |(req, cap): (i64, i64)| {
        if cap == 0 || req > cap {
            0
        } else {
            (cap - req) * 100 / cap
        }
    };
    (per(r[0]) + per(r[1])) / 2
}

/// k8s MostAllocated: mean of `req × 100 / alloc` (integer, capped at alloc).
pub fn most_allocated(r: &[(i64, i64); 2]) -> i64 {
    let per = |(req, cap): (i64, i64)| {
        if cap == 0 {
            0
        } else {
            req.min(cap) * 100 / cap
        }
    };
    (per(r[0]) + per(r[1])) / 2
}

/// k8s BalancedAllocation: `(1 − std(fractions)) × 100` over cpu and memory.
pub fn balanced(r: &[(i64, i64); 2]) -> i64 {
    let f = |(req, cap): (i64, i64)| {
        if cap == 0 {
            0.0
        } else {
            (req as f64 / cap as f64).min(1.0)
        }
    };
    let (a, b) = (f(r[0]), f(r[1]));
    let std = (a - b).abs() / 2.0;
    ((1.0 - std) * 100.0) as i64
}

impl Plugin for NodeOrder {
    /// The double count of 7a5d24ecc files an undone eviction's victim as a pod the session
    /// added, which the eviction had not removed: not cancelled. Without it, nothing is kept.
    fn events_cancel(&self) -> bool {
        !self.double_count
    }
    fn kind(&self) -> PluginKind {
        PluginKind::NodeOrder
    }
    fn registers(&self, f: Flag) -> bool {
        matches!(f, Flag::NodeOrder)
    }
    fn on_session_open(&mut self, s: &State) {
        self.double_count = s.conf.compat.nodeorder_double_count;
        self.extra.clear();
        self.added.clear();
        if self.double_count {
            self.extra.resize(s.snap.nodes.len(), [0, 0]);
        }
    }
    /// Mirrors volcano 7a5d24ecc plugins/nodeorder/nodeorder.go `OnSessionOpen`: its
    /// `AllocateFunc` event handler calls `AddPod` on `ssn.NodeMap`, the k8s NodeInfo map that
    /// predicates' handler already added the pod to, so the k8s scorers see in-session pods
    /// twice (removed in 9167045b7, v1.8.0). Pipelined pods fire the same handler.
    fn on_allocate(&mut self, s: &State, t: TaskId) {
        if !self.double_count {
            return;
        }
        let task = s.snap.task(t);
        if let Some(n) = task.node {
            let e = &mut self.extra[n.ix()];
            e[0] += task.resreq.cpu();
            e[1] += task.resreq.memory();
            self.added.push((t, n));
        }
    }
    /// Mirrors the `DeallocateFunc` handlers (`RemovePod` by both plugins removes both
    /// copies). A pod this session did not add (an eviction's victim) changes nothing here.
    fn on_deallocate(&mut self, s: &State, t: TaskId) {
        let Some(i) = self.added.iter().rposition(|&(x, _)| x == t) else {
            return;
        };
        let (_, n) = self.added.swap_remove(i);
        let req = &s.snap.task(t).resreq;
        let e = &mut self.extra[n.ix()];
        e[0] -= req.cpu();
        e[1] -= req.memory();
    }
    fn node_order(&self, s: &State, t: TaskId, n: NodeId) -> Option<f64> {
        let extra = if self.double_count {
            self.extra[n.ix()]
        } else {
            [0, 0]
        };
        let r = requested(s, t, n, extra);
        let mut score = 0.0;
        if self.least != 0.0 {
            score += least_allocated(&r) as f64 * self.least;
        }
        if self.most != 0.0 {
            score += most_allocated(&r) as f64 * self.most;
        }
        if self.balanced != 0.0 {
            score += balanced(&r) as f64 * self.balanced;
        }
        Some(score)
    }
}
