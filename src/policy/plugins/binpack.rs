//! binpack: prefer fuller nodes (plugins/binpack/binpack.go). Score =
//! 100 × weight × Σ w_r × (req_r + used_r) / alloc_r / Σ w_r over the task's requested
//! resources with a weight; 0 if any weighted resource would overflow.

use crate::model::ResourceName;
use crate::policy::conf::{BinpackArgs, Flag, PluginKind};
use crate::policy::plugin::Plugin;
use crate::policy::session::State;
use crate::policy::snapshot::{NodeId, TaskId};

pub struct Binpack {
    weight: f64,
    /// `binpack.resources` names with their weights, as configured.
    named: Vec<(String, f64)>,
    cpu: f64,
    memory: f64,
    /// Resource weights by dimension for this session: the named resources the snapshot's
    /// resource names know, then cpu and memory (which win, as in Volcano's map).
    weights: Vec<(ResourceName, f64)>,
}

impl Binpack {
    pub fn new(args: &BinpackArgs) -> Binpack {
        Binpack {
            weight: args.weight as f64,
            named: args
                .resources
                .iter()
                .map(|(n, w)| (n.clone(), *w as f64))
                .collect(),
            cpu: args.cpu as f64,
            memory: args.memory as f64,
            weights: Vec::new(),
        }
    }

    fn weight_of(&self, d: ResourceName) -> Option<f64> {
        self.weights.iter().find(|(x, _)| *x == d).map(|&(_, w)| w)
    }
}

impl Plugin for Binpack {
    /// No event handlers.
    fn events_cancel(&self) -> bool {
        true
    }
    fn kind(&self) -> PluginKind {
        PluginKind::Binpack
    }
    fn registers(&self, f: Flag) -> bool {
        matches!(f, Flag::NodeOrder)
    }
    /// Resolves the configured resource names (a name no node or pod uses has no dimension
    /// and so cannot be requested).
    fn on_session_open(&mut self, _s: &State) {
        let mut weights: Vec<(ResourceName, f64)> = Vec::new();
        let mut set = |d: ResourceName, w: f64| match weights.iter_mut().find(|(x, _)| *x == d) {
            Some(e) => e.1 = w,
            None => weights.push((d, w)),
        };
        for (name, w) in &self.named {
            if let Some(d) = ResourceName::lookup(name) {
                set(d, *w);
            }
        }
        set(ResourceName::CPU, self.cpu);
        set(ResourceName::MEMORY, self.memory);
        self.weights = weights;
    }
    fn node_order(&self, s: &State, t: TaskId, n: NodeId) -> Option<f64> {
        if self.weight == 0.0 {
            return Some(0.0);
        }
        let node = &s.snap.nodes[n.ix()];
        let req = &s.snap.task(t).resreq;
        let mut score = 0.0;
        let mut wsum = 0.0;
        for d in req.names() {
            let Some(w) = self.weight_of(d) else {
                continue;
            };
            let alloc = node.allocatable.get(d);
            let used = node.used.get(d);
            let r = req.get(d);
            wsum += w;
            if alloc == 0 {
                continue;
            }
            if r + used > alloc {
                return Some(0.0);
            }
            score += w * (r + used) as f64 / alloc as f64;
        }
        if wsum == 0.0 {
            return Some(0.0);
        }
        Some(score / wsum * 100.0 * self.weight)
    }
}
