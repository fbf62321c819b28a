//! The forecast base for the `kube` backend: the cluster's current state, listed from the API
//! (nodes, Volcano queues, every pod), turned into a `live::model::Model`. Our own jobs enter
//! as they are (running ones with their pods on their nodes and the remaining run time;
//! the others pending); pods of anything else are subtracted from their node's allocatable.
//! Deviation: foreign pods do not count against a Volcano queue and are assumed to run for
//! the whole forecast horizon (conservative).
//!
//! Depends on `kube` (Node/Queue parsing via `parse_objects`), `model`, `workload`. Pure
//! functions over JSON; the HTTP calls live in `kube_rest`.

use std::collections::BTreeMap;

use serde_json::Value;

use super::model::Model;
use super::LiveError;
use crate::kube::parse_objects;
use crate::model::{NodeSpec, QueueSpec, Resources};
use crate::workload::TraceJob;

/// A pod as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedPod {
    pub namespace: String,
    pub name: String,
    pub node: Option<String>,
    pub phase: String,
    pub requests: Resources,
    /// The job the pod belongs to (vcjob or batch/v1 label), if any.
    pub job: Option<String>,
}

/// Our own job as the backend last saw it.
#[derive(Debug, Clone)]
pub struct OwnJob {
    pub job: TraceJob,
    /// Gang-ready time (model ms) if observed running.
    pub running_since: Option<u64>,
    pub done: bool,
}

fn with_type(items: &Value, api: &str, kind: &str) -> String {
    let mut docs = Vec::new();
    for it in items
        .get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let mut o = it.clone();
        if let Some(m) = o.as_object_mut() {
            m.insert("apiVersion".into(), api.into());
            m.insert("kind".into(), kind.into());
            // fields the model does not read; dropping them keeps the warnings short
            if let Some(md) = m.get_mut("metadata").and_then(Value::as_object_mut) {
                md.retain(|k, _| matches!(k.as_str(), "name" | "namespace" | "labels"));
            }
        }
        docs.push(o.to_string());
    }
    docs.join("\n---\n")
}

/// Parses `NodeList` and `QueueList` JSON into model specs.
pub fn parse_nodes_queues(
    nodes: &Value,
    queues: &Value,
) -> Result<(Vec<NodeSpec>, Vec<QueueSpec>), LiveError> {
    let text = format!(
        "{}\n---\n{}",
        with_type(nodes, "v1", "Node"),
        with_type(queues, "scheduling.volcano.sh/v1beta1", "Queue")
    );
    let objs =
        parse_objects(&text, "cluster state").map_err(|e| LiveError::Backend(e.to_string()))?;
    Ok((objs.nodes, objs.queues))
}

fn quantity_sum(containers: Option<&Value>) -> Resources {
    let mut total = Resources::empty();
    for c in containers.and_then(Value::as_array).into_iter().flatten() {
        let Some(req) = c.pointer("/resources/requests").and_then(Value::as_object) else {
            continue;
        };
        let items: Vec<(&str, &str)> = req
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
            .collect();
        if let Ok(r) = Resources::from_quantities(items) {
            total.add(&r);
        }
    }
    total
}

/// Parses a `PodList`.
pub fn parse_pods(list: &Value) -> Vec<ListedPod> {
    let mut out = Vec::new();
    for p in list
        .get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let s = |ptr: &str| p.pointer(ptr).and_then(Value::as_str).map(str::to_string);
        let Some(name) = s("/metadata/name") else {
            continue;
        };
        let job = s("/metadata/labels/volcano.sh~1job-name")
            .or_else(|| s("/metadata/labels/batch.kubernetes.io~1job-name"))
            .or_else(|| s("/metadata/labels/job-name"));
        out.push(ListedPod {
            namespace: s("/metadata/namespace").unwrap_or_default(),
            name,
            node: s("/spec/nodeName"),
            phase: s("/status/phase").unwrap_or_else(|| "Pending".into()),
            requests: quantity_sum(p.pointer("/spec/containers")),
            job,
        });
    }
    out
}

/// Builds the forecast base at model time `now` from listed state and our jobs (in submission
/// order). `like` supplies the conf, timing and priority classes.
pub fn build_model(
    like: &Model,
    mut nodes: Vec<NodeSpec>,
    queues: &[QueueSpec],
    pods: &[ListedPod],
    own: &[OwnJob],
    namespace: &str,
    now: u64,
) -> Model {
    let ours: BTreeMap<&str, &OwnJob> = own.iter().map(|o| (o.job.id.as_str(), o)).collect();
    let mut placed: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for p in pods {
        let Some(node) = &p.node else { continue };
        if !matches!(p.phase.as_str(), "Pending" | "Running") {
            continue;
        }
        let own_job = p
            .job
            .as_deref()
            .filter(|j| p.namespace == namespace && ours.contains_key(j));
        match own_job {
            Some(j) => placed.entry(j).or_default().push(node.clone()),
            None => {
                if let Some(n) = nodes.iter_mut().find(|n| &n.name == node) {
                    let mut req = p.requests;
                    req.set(crate::model::ResourceName::PODS, 1);
                    n.allocatable = n.allocatable.minus(&req).max_with(&Resources::empty());
                }
            }
        }
    }
    let mut m = like.empty_like(&nodes, queues);
    m.advance_to(now);
    for o in own.iter().filter(|o| !o.done) {
        match (o.running_since, placed.get(o.job.id.as_str())) {
            (Some(since), Some(on)) => {
                m.submit_running(&o.job, on, since);
            }
            _ => {
                m.submit(&o.job);
            }
        }
    }
    m
}

#[cfg(test)]
#[path = "kube_state_tests.rs"]
mod tests;
