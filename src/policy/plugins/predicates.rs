//! predicates: the non-resource filters Volcano runs per node (plugins/predicates): node
//! unschedulable (cordon), NodeAffinity via nodeSelector, TaintToleration (NoSchedule /
//! NoExecute), and the pod-count limit. Resource fit is checked by the actions, not here.
//! Node affinity and taint toleration can be turned off with `predicate.<Name>Enable: false`;
//! NodeUnschedulable always runs (Volcano has no switch for it).

use crate::model::TaintEffect;
use crate::policy::conf::Flag;
use crate::policy::conf::{PluginKind, PredicatesArgs};
use crate::policy::plugin::{FitError, Plugin};
use crate::policy::session::State;
use crate::policy::snapshot::{NodeId, TaskId};

pub struct Predicates {
    node_affinity: bool,
    taint_toleration: bool,
}

impl Predicates {
    pub fn new(args: &PredicatesArgs) -> Predicates {
        Predicates {
            node_affinity: args.node_affinity,
            taint_toleration: args.taint_toleration,
        }
    }
}

impl Plugin for Predicates {
    /// No event handlers.
    fn events_cancel(&self) -> bool {
        true
    }
    fn kind(&self) -> PluginKind {
        PluginKind::Predicates
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
        if node.unschedulable {
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
