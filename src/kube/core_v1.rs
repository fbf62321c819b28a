//! Core `v1` kinds: Node (name, labels, taints, unschedulable, allocatable → `model::NodeSpec`)
//! and ConfigMap (the scheduler conf under `volcano-scheduler.conf`, kept as raw text).
//! Depends only on `crate::model` and `kube::{de, types}`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::de::Ignore;
use super::types::{keys, ObjectMeta, Problem, ResourceList, Seg, TaintY};
use crate::model::{NodeSpec, ResourceName};

/// The ConfigMap key Volcano's scheduler reads its configuration from.
pub const SCHEDULER_CONF_KEY: &str = "volcano-scheduler.conf";

/// kubelet's default `--max-pods`, used when a Node lists no `pods` allocatable.
pub const DEFAULT_MAX_PODS: i64 = 110;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NodeY {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: NodeSpecY,
    #[serde(default)]
    pub status: NodeStatusY,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct NodeSpecY {
    pub taints: Vec<TaintY>,
    pub unschedulable: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct NodeStatusY {
    pub allocatable: Option<ResourceList>,
    pub capacity: Option<ResourceList>,
}

pub(crate) const NODE_SPEC_IGNORED: &[(&str, Ignore)] = &[
    ("podCIDR", Ignore::Quiet),
    ("podCIDRs", Ignore::Quiet),
    ("providerID", Ignore::Quiet),
    ("configSource", Ignore::Quiet),
    ("externalID", Ignore::Quiet),
];

pub(crate) const NODE_STATUS_IGNORED: &[(&str, Ignore)] = &[
    ("conditions", Ignore::Quiet),
    ("addresses", Ignore::Quiet),
    ("daemonEndpoints", Ignore::Quiet),
    ("nodeInfo", Ignore::Quiet),
    ("images", Ignore::Quiet),
    ("volumesInUse", Ignore::Quiet),
    ("volumesAttached", Ignore::Quiet),
    ("config", Ignore::Quiet),
    ("phase", Ignore::Quiet),
    ("runtimeHandlers", Ignore::Quiet),
    ("features", Ignore::Quiet),
];

impl NodeY {
    /// Allocatable falls back to capacity (as the kubelet reports it when nothing is
    /// reserved); `pods` defaults to 110 when absent. A node with neither is an error.
    pub(super) fn to_model(&self, warn: &mut Vec<Problem>) -> Result<NodeSpec, Problem> {
        let name = self.metadata.required_name()?;
        let mut alloc = match (self.status.allocatable, self.status.capacity) {
            (Some(a), _) => a,
            (None, Some(c)) => {
                warn.push(Problem::new(
                    &keys(&["status", "allocatable"]),
                    "missing: using status.capacity",
                ));
                c
            }
            (None, None) => {
                return Err(Problem::new(
                    &keys(&["status", "allocatable"]),
                    "missing: a node needs allocatable resources",
                ))
            }
        };
        if alloc.1 & (1 << ResourceName::PODS.0) == 0 {
            alloc.0.set(ResourceName::PODS, DEFAULT_MAX_PODS);
        }
        let mut taints = Vec::with_capacity(self.spec.taints.len());
        for (i, t) in self.spec.taints.iter().enumerate() {
            let at = vec![
                Seg::Key("spec".into()),
                Seg::Key("taints".into()),
                Seg::Idx(i),
            ];
            taints.push(t.to_model(&at)?);
        }
        Ok(NodeSpec {
            name,
            allocatable: alloc.0,
            labels: self.metadata.labels.clone(),
            taints,
            unschedulable: self.spec.unschedulable.unwrap_or(false),
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConfigMapY {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub data: BTreeMap<String, String>,
}

impl ConfigMapY {
    /// The scheduler conf text, or None (with a warning) when the ConfigMap does not hold one.
    pub(super) fn scheduler_conf(&self, warn: &mut Vec<Problem>) -> Option<String> {
        let conf = self.data.get(SCHEDULER_CONF_KEY).cloned();
        if conf.is_none() {
            let name = self.metadata.name.clone().unwrap_or_default();
            warn.push(Problem::new(
                &keys(&["data"]),
                format!("ConfigMap {name:?} has no {SCHEDULER_CONF_KEY:?} key; ignored"),
            ));
        }
        conf
    }
}
