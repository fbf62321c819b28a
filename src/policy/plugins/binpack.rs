//! binpack: prefer fuller nodes (plugins/binpack/binpack.go). Score =
//! 100 × weight × Σ w_r × (req_r + used_r) / alloc_r / Σ w_r over the task's requested
//! resources with a weight; 0 if any weighted resource would overflow.

use std::collections::BTreeMap;

use crate::model::ResourceName;
use crate::policy::conf::Arguments;
use crate::policy::conf::Flag;
use crate::policy::plugin::Plugin;
use crate::policy::session::State;
use crate::policy::snapshot::{NodeId, TaskId};

pub struct Binpack {
    weight: f64,
    /// Resource weights by dimension (cpu, memory and configured scalars).
    weights: BTreeMap<ResourceName, f64>,
}

impl Binpack {
    pub fn new(args: &Arguments) -> Binpack {
        let int = |k: &str, d: i64| args.get(k).and_then(|v| v.as_i64()).unwrap_or(d);
        let pos = |x: i64| if x < 0 { 1 } else { x };
        let mut weights = BTreeMap::new();
        weights.insert(ResourceName::CPU, pos(int("binpack.cpu", 1)) as f64);
        weights.insert(ResourceName::MEMORY, pos(int("binpack.memory", 1)) as f64);
        if let Some(list) = args.get("binpack.resources").and_then(|v| v.as_str()) {
            for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                if let Ok(d) = ResourceName::intern(name) {
                    let w = pos(int(&format!("binpack.resources.{name}"), 1));
                    weights.insert(d, w as f64);
                }
            }
        }
        Binpack {
            weight: int("binpack.weight", 1) as f64,
            weights,
        }
    }
}

impl Plugin for Binpack {
    fn name(&self) -> &'static str {
        "binpack"
    }
    fn registers(&self, f: Flag) -> bool {
        matches!(f, Flag::NodeOrder)
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
            let Some(&w) = self.weights.get(&d) else {
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
