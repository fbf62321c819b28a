//! The scenario TOML as written by users (serde types, unknown fields rejected). See
//! `scenarios/README.md` for the documented format. Depends on `workload` (class tables) only.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::workload::mapping::{FairnessRule, MappingRule, PriorityRule};
use crate::workload::synth::WorkloadClass;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Display name (default: the file stem).
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Base seed (default 1).
    pub seed: Option<u64>,
    /// Simulated time limit, Go duration (default: until every job finished).
    pub horizon: Option<String>,
    /// A job that waited longer than this is counted as starved (default 10m).
    pub starvation_threshold: Option<String>,
    #[serde(default)]
    pub sim: SimSection,
    #[serde(default)]
    pub scheduler: SchedulerSection,
    #[serde(default, rename = "nodes")]
    pub node_pools: Vec<NodePool>,
    /// Cluster objects from Kubernetes manifests (`[cluster] objects`).
    #[serde(default)]
    pub cluster: ClusterSection,
    #[serde(default)]
    pub queues: QueuesSection,
    #[serde(default)]
    pub priority_classes: Vec<PriorityClassEntry>,
    #[serde(default)]
    pub workload: WorkloadSection,
    /// Activity → Volcano job mapping for `workload.workflows`.
    #[serde(default)]
    pub mapping: MappingSection,
    /// SLOs: `"<queue|class>.<metric> <= <value>"`, e.g. `"interactive.p95_wait <= 2m"`.
    #[serde(default)]
    pub slo: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimSection {
    /// Volcano `--schedule-period` (default 1s).
    pub schedule_period: Option<String>,
    /// Bind request → pod Running (default 100ms).
    pub bind_latency: Option<String>,
    /// Width of the spread of bind → Running over pods, centred on `bind_latency` (default
    /// 0s: every pod takes exactly `bind_latency`).
    pub bind_spread: Option<String>,
    /// vcjob controller: PodGroup leaves Pending → pods exist (default 500ms).
    pub controller_delay: Option<String>,
    /// Evicted pod stays Releasing this long (default 30s).
    pub eviction_grace: Option<String>,
    /// `vcjob` (pods created after enqueue, default) or `podgroup` (pods pre-created).
    pub job_object: Option<String>,
    /// Queue time-series sample period (default 10s).
    pub sample_period: Option<String>,
    /// The job controller's reaction to an evicted pod, for every job a workload class does
    /// not configure: `recreate-pod` (default) or `restart-job`.
    pub on_evict: Option<String>,
    /// `restart-job` only: Volcano `maxRetry` (default 3).
    pub max_retry: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerSection {
    /// Path to `volcano-scheduler.conf` or to its ConfigMap YAML.
    pub conf: Option<String>,
    /// The conf text inline.
    pub inline: Option<String>,
    /// A compatibility profile replacing v1.15 behaviours by an older Volcano's
    /// (`policy::conf::Compat`: `"volcano-7a5d24ecc"`, `"volcano-7a5d24ecc:A,F"`; default none).
    pub compat: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodePool {
    pub name: String,
    pub count: u32,
    pub cpu: toml::Value,
    pub memory: toml::Value,
    #[serde(default)]
    pub gpu: Option<toml::Value>,
    /// Max pods per node (default 110).
    #[serde(default)]
    pub pods: Option<u32>,
    /// Other extended resources (`"example.com/foo" = "4"`).
    #[serde(default)]
    pub scalars: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `"key=value:Effect"` or `"key:Effect"`.
    #[serde(default)]
    pub taints: Vec<String>,
}

/// `[cluster]`: Kubernetes manifests describing the cluster.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSection {
    /// Paths or globs (`*`, `?` in the file name) of multi-document YAML/JSON: Nodes, Queues,
    /// PriorityClasses, the scheduler ConfigMap (`kubectl get … -o yaml` Lists too).
    #[serde(default)]
    pub objects: Vec<String>,
    /// HyperNode tiers over the node pools, lowest tier first (`[[cluster.topology]]`).
    #[serde(default)]
    pub topology: Vec<TopologyTier>,
}

/// One `[[cluster.topology]]` tier: HyperNodes `<name>-0`, `<name>-1`, … of tier = its
/// position (1-based), tierName = `name`, each holding `size` consecutive members of the tier
/// below (nodes of `pools` for the first tier).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopologyTier {
    pub name: String,
    /// Members per HyperNode (≥ 1); the last one may hold fewer.
    pub size: i64,
    /// First tier only: the node pools grouped, in this order (default: every `[[nodes]]` pool
    /// in file order).
    #[serde(default)]
    pub pools: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueuesSection {
    /// Volcano YAML files (Queue, PriorityClass; a scheduler ConfigMap is also accepted).
    #[serde(default)]
    pub files: Vec<String>,
    /// Queues written inline.
    #[serde(default)]
    pub inline: Vec<QueueEntry>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueEntry {
    pub name: String,
    #[serde(default)]
    pub weight: Option<i64>,
    #[serde(default)]
    pub capability: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub deserved: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub guarantee: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub reclaimable: Option<bool>,
    #[serde(default)]
    pub priority: Option<i32>,
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    /// Hierarchical drf path (annotation `volcano.sh/hierarchy`), e.g. `"root/eng/ml"`.
    #[serde(default)]
    pub hierarchy: Option<String>,
    /// Its weights (`volcano.sh/hierarchy-weights`), one per level, e.g. `"1/2/8"`.
    #[serde(default)]
    pub hierarchy_weights: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityClassEntry {
    pub name: String,
    pub value: i32,
    #[serde(default)]
    pub global_default: bool,
    #[serde(default)]
    pub preemption_policy: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSection {
    /// A trace file (path relative to the scenario).
    pub trace: Option<String>,
    /// `csv` (canonical, default), `swf` or `openb`.
    pub format: Option<String>,
    /// A trace record (or object) that would be skipped is a load error (default false:
    /// skipped, counted and reported as a warning).
    pub strict: Option<bool>,
    /// SWF only: `auto` (default), `queue`, `partition` or `none` — which field names the queue.
    pub queue_from: Option<String>,
    /// Volcano objects as workload: paths or globs of multi-document YAML/JSON with
    /// `batch.volcano.sh` Jobs, PodGroups with their pods or a `batch/v1` Job, and plain Pods
    /// with `schedulerName: volcano`.
    #[serde(default)]
    pub objects: Vec<String>,
    /// Run time of an object job with no `volsim.dev/duration` annotation and no `sleep N`
    /// in its containers (Go duration; without it such a job is an error).
    pub default_duration: Option<String>,
    /// Arrival-rate multiplier: submit times are divided by it (2.0 = twice the traffic).
    pub rate_multiplier: Option<f64>,
    /// Repeat the trace this many times, shifted by its span (`load × k`).
    pub repeat: Option<u32>,
    #[serde(default)]
    pub classes: Vec<WorkloadClass>,
    /// A workflow file (`volsim trace import --format temporal`), replayed step by step.
    pub workflows: Option<String>,
}

/// `[mapping]` + `[[mapping.rule]]`: the `workload::mapping::MappingTable` TOML plus `hints`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingSection {
    /// Queue for mapped activities that name none (default `"default"`).
    pub default_queue: Option<String>,
    /// Use the resource hints recorded in the histories (default true); false: rules only.
    pub hints: Option<bool>,
    /// Rules, first match wins.
    #[serde(default, rename = "rule", alias = "rules")]
    pub rules: Vec<MappingRule>,
    /// `[[mapping.priority]]`: Temporal priority key → PriorityClass.
    #[serde(default)]
    pub priority: Vec<PriorityRule>,
    /// `[[mapping.fairness]]`: Temporal fairness key → queue.
    #[serde(default)]
    pub fairness: Vec<FairnessRule>,
}
