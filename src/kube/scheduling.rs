//! `scheduling.volcano.sh/v1beta1` Queue and PodGroup and `scheduling.k8s.io/v1` PriorityClass:
//! serde shapes as users write them and their conversion to `model::{QueueSpec, PodGroupSpec,
//! PriorityClassSpec}` with webhook defaults applied. Depends only on `crate::model` and
//! `kube::{de, types}`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::de::Ignore;
use super::hypernode::NetworkTopologyY;
use super::types::{keys, parse_go_bool, ObjectMeta, Problem, ResourceList, Weight};
use crate::model::{
    check_hierarchy, parse_duration, PodGroupSpec, PriorityClassSpec, QueueSpec, QueueState,
};

/// Queue annotations of hierarchical drf.
const HIERARCHY: &str = "volcano.sh/hierarchy";
const HIERARCHY_WEIGHTS: &str = "volcano.sh/hierarchy-weights";

/// A Volcano Queue object.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QueueY {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: QueueSpecY,
    #[serde(default)]
    pub status: Option<QueueStatusY>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct QueueSpecY {
    pub weight: Option<Weight>,
    pub capability: Option<ResourceList>,
    pub deserved: Option<ResourceList>,
    pub guarantee: Option<GuaranteeY>,
    pub reclaimable: Option<bool>,
    pub priority: Option<i32>,
    pub parent: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct GuaranteeY {
    pub resource: Option<ResourceList>,
}

/// Queue `status.state` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) enum QueueStateY {
    Open,
    Closed,
    Closing,
    Unknown,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct QueueStatusY {
    pub state: Option<QueueStateY>,
}

pub(crate) const QUEUE_SPEC_IGNORED: &[(&str, Ignore)] = &[
    ("dequeueStrategy", Ignore::Quiet),
    ("type", Ignore::Quiet),
    ("extendClusters", Ignore::NotModelled),
    ("affinity", Ignore::NotModelled),
];

pub(crate) const QUEUE_STATUS_IGNORED: &[(&str, Ignore)] = &[
    ("pending", Ignore::Quiet),
    ("running", Ignore::Quiet),
    ("unknown", Ignore::Quiet),
    ("inqueue", Ignore::Quiet),
    ("completed", Ignore::Quiet),
    ("allocated", Ignore::Quiet),
    ("reservation", Ignore::Quiet),
    ("conditions", Ignore::Quiet),
];

impl QueueY {
    /// Webhook defaults: weight 1, reclaimable true, state Open, parent none. The
    /// `volcano.sh/hierarchy(-weights)` annotations are checked and kept.
    pub(super) fn to_model(&self, warn: &mut Vec<Problem>) -> Result<QueueSpec, Problem> {
        let name = self.metadata.required_name()?;
        let s = &self.spec;
        let mut q = QueueSpec::new(&name, s.weight.map_or(1, |w| w.0));
        q.capability = s.capability.map(|r| r.0);
        q.deserved = s.deserved.map(|r| r.0);
        q.guarantee = s.guarantee.as_ref().and_then(|g| g.resource).map(|r| r.0);
        q.reclaimable = s.reclaimable.unwrap_or(true);
        q.priority = s.priority.unwrap_or(0);
        q.parent = s.parent.clone().filter(|p| !p.is_empty());
        q.state = match self.status.as_ref().and_then(|st| st.state) {
            None | Some(QueueStateY::Open) => QueueState::Open,
            Some(QueueStateY::Closed) => QueueState::Closed,
            Some(QueueStateY::Closing) => QueueState::Closing,
            Some(QueueStateY::Unknown) => QueueState::Unknown,
        };
        let ann = &self.metadata.annotations;
        match (ann.get(HIERARCHY), ann.get(HIERARCHY_WEIGHTS)) {
            (None, None) => {}
            (Some(path), weights) => {
                let weights = match weights {
                    Some(w) => w.clone(),
                    None => {
                        let ones = vec!["1"; path.split('/').count()].join("/");
                        warn.push(Problem::new(
                            &keys(&["metadata", "annotations", HIERARCHY]),
                            format!(
                                "no {HIERARCHY_WEIGHTS} annotation: every level weighs 1 \
                                 ({ones:?}); Volcano's queue webhook would refuse the queue"
                            ),
                        ));
                        ones
                    }
                };
                check_hierarchy(path, &weights).map_err(|m| {
                    Problem::new(&keys(&["metadata", "annotations", HIERARCHY_WEIGHTS]), m)
                })?;
                q.hierarchy = path.clone();
                q.hierarchy_weights = weights;
            }
            (None, Some(_)) => {
                return Err(Problem::new(
                    &keys(&["metadata", "annotations", HIERARCHY_WEIGHTS]),
                    format!("set without {HIERARCHY}"),
                ))
            }
        }
        if q.parent.as_deref() == Some(name.as_str()) {
            return Err(Problem::new(
                &keys(&["spec", "parent"]),
                format!("invalid value {name:?}: a queue cannot be its own parent"),
            ));
        }
        Ok(q)
    }
}

/// A Volcano PodGroup object.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PodGroupY {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: PodGroupSpecY,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct PodGroupSpecY {
    pub min_member: Option<u32>,
    pub min_task_member: BTreeMap<String, u32>,
    pub queue: Option<String>,
    pub priority_class_name: Option<String>,
    pub min_resources: Option<ResourceList>,
    pub network_topology: Option<NetworkTopologyY>,
}

pub(crate) const PODGROUP_SPEC_IGNORED: &[(&str, Ignore)] =
    &[("subGroupPolicy", Ignore::NotModelled)];

/// Annotation keys of the sla plugin's waiting time, in the order Volcano reads them.
const SLA_KEYS: [&str; 2] = ["volcano.sh/sla-waiting-time", "sla-waiting-time"];
const PREEMPTABLE: &str = "volcano.sh/preemptable";

/// Reads the PodGroup-level annotations the scheduler uses: the sla waiting time (a positive
/// Go duration; invalid → error, where Volcano would log and ignore it) and `preemptable`
/// (annotation, else label; `None` when absent; unparsable → false with a warning, as Volcano).
pub(crate) fn group_annotations(
    meta: &ObjectMeta,
    warn: &mut Vec<Problem>,
) -> Result<(Option<u64>, Option<bool>), Problem> {
    let mut sla = None;
    for k in SLA_KEYS {
        if let Some(v) = meta.annotations.get(k) {
            let at = keys(&["metadata", "annotations", k]);
            let ms = parse_duration(v)
                .map_err(|e| Problem::new(&at, format!("{e}; expected a positive Go duration")))?;
            if ms == 0 {
                return Err(Problem::new(
                    &at,
                    format!("invalid value {v:?}: expected a positive Go duration such as 90s"),
                ));
            }
            sla = Some(ms);
            break;
        }
    }
    let preemptable = meta.annotation_or_label(PREEMPTABLE).map(|(v, at)| {
        parse_go_bool(v).unwrap_or_else(|| {
            warn.push(Problem::new(
                &at,
                format!("{v:?} is not a boolean; Volcano treats it as false"),
            ));
            false
        })
    });
    Ok((sla, preemptable))
}

impl PodGroupY {
    /// Queue defaults to `default`; minMember defaults to 0 (no CRD default).
    pub(super) fn to_model(&self, warn: &mut Vec<Problem>) -> Result<PodGroupSpec, Problem> {
        let name = self.metadata.required_name()?;
        let (sla_waiting_ms, preemptable) = group_annotations(&self.metadata, warn)?;
        let s = &self.spec;
        let network_topology = match &s.network_topology {
            None => None,
            Some(t) => Some(t.to_model(&keys(&["spec", "networkTopology"]))?),
        };
        Ok(PodGroupSpec {
            namespace: self.metadata.namespace_or_default(),
            name,
            queue: s
                .queue
                .clone()
                .filter(|q| !q.is_empty())
                .unwrap_or_else(|| "default".into()),
            min_member: s.min_member.unwrap_or(0),
            min_task_member: s.min_task_member.clone(),
            priority_class: s.priority_class_name.clone().filter(|p| !p.is_empty()),
            min_resources: s.min_resources.map(|r| r.0),
            sla_waiting_ms,
            preemptable,
            network_topology,
        })
    }
}

/// `preemptionPolicy` of a PriorityClass or pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub(crate) enum PreemptionPolicyY {
    PreemptLowerPriority,
    Never,
}

/// A `scheduling.k8s.io/v1` PriorityClass (fields sit at the top level, not under `spec`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PriorityClassY {
    #[serde(default)]
    pub metadata: ObjectMeta,
    pub value: i32,
    #[serde(default)]
    pub global_default: Option<bool>,
    #[serde(default)]
    pub preemption_policy: Option<PreemptionPolicyY>,
}

impl PriorityClassY {
    pub(super) fn to_model(&self) -> Result<PriorityClassSpec, Problem> {
        Ok(PriorityClassSpec {
            name: self.metadata.required_name()?,
            value: self.value,
            global_default: self.global_default.unwrap_or(false),
            preemption_never: self.preemption_policy == Some(PreemptionPolicyY::Never),
        })
    }
}
