//! Static specs of the objects the scheduler sees: nodes, queues, priority classes, PodGroups
//! (jobs) and pods (tasks). These are what scenarios and Volcano YAML produce and what the
//! cluster model instantiates; the policy core builds its per-cycle snapshot from them plus
//! dynamic state. Plain data; depends only on `model::resources` and `model::topology`.

use std::collections::BTreeMap;

use super::resources::Resources;

/// A Kubernetes taint (`key=value:effect`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Taint {
    pub key: String,
    pub value: String,
    pub effect: TaintEffect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

impl TaintEffect {
    pub fn parse(s: &str) -> Option<TaintEffect> {
        match s {
            "NoSchedule" => Some(TaintEffect::NoSchedule),
            "PreferNoSchedule" => Some(TaintEffect::PreferNoSchedule),
            "NoExecute" => Some(TaintEffect::NoExecute),
            _ => None,
        }
    }
}

/// A pod toleration. `key: None` with `Exists` tolerates everything.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Toleration {
    pub key: Option<String>,
    pub operator_exists: bool,
    pub value: String,
    /// `None` tolerates every effect.
    pub effect: Option<TaintEffect>,
}

impl Toleration {
    /// Kubernetes `ToleratesTaint`.
    pub fn tolerates(&self, t: &Taint) -> bool {
        if let Some(e) = self.effect {
            if e != t.effect {
                return false;
            }
        }
        match &self.key {
            None => self.operator_exists,
            Some(k) if k != &t.key => false,
            Some(_) => self.operator_exists || self.value == t.value,
        }
    }
}

/// A node: allocatable resources (including `pods`), labels and taints.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSpec {
    pub name: String,
    pub allocatable: Resources,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    /// `spec.unschedulable` (cordoned).
    pub unschedulable: bool,
}

/// Queue `status.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueueState {
    Open,
    Closed,
    Closing,
    Unknown,
}

impl QueueState {
    pub fn parse(s: &str) -> Option<QueueState> {
        match s {
            "Open" => Some(QueueState::Open),
            "Closed" => Some(QueueState::Closed),
            "Closing" => Some(QueueState::Closing),
            "Unknown" => Some(QueueState::Unknown),
            _ => None,
        }
    }
}

/// `scheduling.volcano.sh/v1beta1 Queue` as the scheduler uses it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSpec {
    pub name: String,
    /// Proportion weight (≥ 1; webhook default 1).
    pub weight: u32,
    pub capability: Option<Resources>,
    pub deserved: Option<Resources>,
    pub guarantee: Option<Resources>,
    /// May other queues reclaim from it (default true).
    pub reclaimable: bool,
    pub priority: i32,
    pub parent: Option<String>,
    pub state: QueueState,
    /// Annotation `volcano.sh/hierarchy` (`root/a/b`; "" = directly under root), read by
    /// hierarchical drf.
    pub hierarchy: String,
    /// Annotation `volcano.sh/hierarchy-weights` (`1/2/8`, one weight per path level).
    pub hierarchy_weights: String,
}

impl QueueSpec {
    pub fn new(name: &str, weight: u32) -> QueueSpec {
        QueueSpec {
            name: name.to_string(),
            weight,
            capability: None,
            deserved: None,
            guarantee: None,
            reclaimable: true,
            priority: 0,
            parent: None,
            state: QueueState::Open,
            hierarchy: String::new(),
            hierarchy_weights: String::new(),
        }
    }
}

/// Checks a hierarchical-drf path and its weights (Volcano's queue webhook): the path is
/// `root/…` with non-empty levels, the weights one positive number per level.
pub fn check_hierarchy(path: &str, weights: &str) -> Result<(), String> {
    let levels: Vec<&str> = path.split('/').collect();
    if levels.first() != Some(&"root") || levels.iter().any(|l| l.trim().is_empty()) {
        return Err(format!(
            "hierarchy {path:?}: expected a path such as \"root/eng/ml\" (starting at root, no \
             empty level)"
        ));
    }
    let ws: Vec<&str> = weights.split('/').collect();
    if ws.len() != levels.len() {
        return Err(format!(
            "hierarchy-weights {weights:?}: expected {} weights (one per level of {path:?}), \
             such as \"{}\"",
            levels.len(),
            vec!["1"; levels.len()].join("/")
        ));
    }
    if let Some(w) = ws.iter().find(|w| {
        !w.trim()
            .parse::<f64>()
            .is_ok_and(|x| x.is_finite() && x > 0.0)
    }) {
        return Err(format!(
            "hierarchy-weights {weights:?}: {w:?} is not a positive number"
        ));
    }
    Ok(())
}

/// `scheduling.k8s.io/v1 PriorityClass`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorityClassSpec {
    pub name: String,
    pub value: i32,
    pub global_default: bool,
    /// `preemptionPolicy: Never`.
    pub preemption_never: bool,
}

/// A PodGroup (Volcano's `JobInfo` source).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PodGroupSpec {
    pub namespace: String,
    pub name: String,
    pub queue: String,
    pub min_member: u32,
    /// `spec.minTaskMember` (role → minimum).
    pub min_task_member: BTreeMap<String, u32>,
    pub priority_class: Option<String>,
    pub min_resources: Option<Resources>,
    /// sla waiting time from the `volcano.sh/sla-waiting-time` annotation, in ms.
    pub sla_waiting_ms: Option<u64>,
    /// `volcano.sh/preemptable` on the PodGroup (annotation, else label; unparsable → false);
    /// `None` when absent. Read by the gang eviction actions only: absent lets the job be a
    /// victim (`IsJobPreemptableForGangEviction`), while Volcano's `JobInfo.Preemptable`
    /// would read it as false.
    pub preemptable: Option<bool>,
    /// `spec.networkTopology` (None = the job has no topology constraint).
    pub network_topology: Option<super::topology::NetworkTopologySpec>,
}

/// A pod (Volcano's `TaskInfo` source).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PodSpec {
    pub namespace: String,
    pub name: String,
    /// Role (`volcano.sh/task-spec`), "" if absent.
    pub role: String,
    /// Container requests; `pods: 1` is added by the scheduler when building the task.
    pub requests: Resources,
    /// `pod.spec.priority` (None → task priority 1).
    pub priority: Option<i32>,
    pub priority_class_name: Option<String>,
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<Toleration>,
    /// `volcano.sh/preemptable` annotation/label; None = default (true).
    pub preemptable: Option<bool>,
    /// `preemptionPolicy: Never` on the pod.
    pub preemption_never: bool,
}
