//! predicates: the non-resource filters Volcano runs per node (plugins/predicates): node
//! unschedulable (cordon), NodeAffinity via nodeSelector, TaintToleration (NoSchedule /
//! NoExecute), and the pod-count limit. Resource fit is checked by the actions, not here.
//! Each filter can be turned off with `predicate.<Name>Enable: false`.

use crate::model::TaintEffect;
use crate::policy::conf::Arguments;
use crate::policy::conf::Flag;
use crate::policy::plugin::{FitError, Plugin};
use crate::policy::session::State;
use crate::policy::snapshot::{NodeId, TaskId};

pub struct Predicates {
    node_affinity: bool,
    taint_toleration: bool,
    node_unschedulable: bool,
}

impl Predicates {
    pub fn new(args: &Arguments) -> Predicates {
        let on = |k: &str| args.get(k).and_then(|v| v.as_bool()).unwrap_or(true);
        Predicates {
            node_affinity: on("predicate.NodeAffinityEnable"),
            taint_toleration: on("predicate.TaintTolerationEnable"),
            node_unschedulable: on("predicate.NodeUnschedulableEnable"),
        }
    }
}

impl Plugin for Predicates {
    fn name(&self) -> &'static str {
        "predicates"
    }
    fn registers(&self, f: Flag) -> bool {
        matches!(f, Flag::Predicate)
    }
    fn predicate(&self, s: &State, t: TaskId, n: NodeId) -> Option<Result<(), FitError>> {
        let node = &s.snap.nodes[n.ix()];
        let task = s.snap.task(t);
        if node.allocatable.pods() > 0 && node.pod_count() as i64 >= node.allocatable.pods() {
            return Some(Err(FitError::unschedulable("node(s) pod number exceeded")));
        }
        if self.node_unschedulable && node.unschedulable {
            return Some(Err(FitError::unresolvable("node(s) were unschedulable")));
        }
        if self.node_affinity
            && !task
                .node_selector
                .iter()
                .all(|(k, v)| node.labels.get(k) == Some(v))
        {
            return Some(Err(FitError::unresolvable(
                "node(s) didn't match Pod's node affinity/selector",
            )));
        }
        if self.taint_toleration {
            for taint in &node.taints {
                if taint.effect == TaintEffect::PreferNoSchedule {
                    continue;
                }
                if !task.tolerations.iter().any(|tol| tol.tolerates(taint)) {
                    return Some(Err(FitError::unresolvable(format!(
                        "node(s) had untolerated taint {{{}: {}}}",
                        taint.key, taint.value
                    ))));
                }
            }
        }
        Some(Ok(()))
    }
}
