//! Kubernetes/Volcano objects live mode writes, as typed serde structs (never string
//! templates): `batch.volcano.sh/v1alpha1` Job, `scheduling.volcano.sh/v1beta1` PodGroup and
//! Queue, `batch/v1` Job (with a PodGroup, or plain for `--scheduler native`).
//!
//! Depends on `model`, `workload`. Invariant: every object carries
//! `app.kubernetes.io/managed-by: volsim` and the idempotency key annotation, and its name is
//! the job's deterministic name; `validate::check` accepts everything built here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{PriorityClassSpec, QueueSpec, ResourceName, Resources};
use crate::workload::TraceJob;

pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const KEY_ANNOTATION: &str = "volsim.io/idempotency-key";
pub const WORKFLOW_ANNOTATION: &str = "volsim.io/workflow-id";
pub const PREDICTION_ANNOTATION: &str = "volsim.io/predicted-wait-ms";
pub const CLASS_LABEL: &str = "volsim.io/class";
pub const GROUP_NAME_ANNOTATION: &str = "scheduling.k8s.io/group-name";
/// Run time of a placeholder pod in *wall* milliseconds (model duration / `--speed`); the
/// realvolcano fakelet (and any fake kubelet) honours it before the container's `sleep N`.
pub const DURATION_ANNOTATION: &str = "volsim.dev/duration-ms";

/// Which objects represent one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectMode {
    /// One Volcano Job (`batch.volcano.sh/v1alpha1`).
    VcJob,
    /// A PodGroup plus a `batch/v1` Job whose pods name it.
    PodGroup,
    /// A plain `batch/v1` Job for the default scheduler (`--scheduler native`).
    Native,
}

/// What goes on every object besides the job itself.
#[derive(Debug, Clone)]
pub struct Meta {
    pub namespace: String,
    pub key: String,
    pub workflow_id: String,
    pub predicted_wait_ms: Option<u64>,
    /// Container image of the placeholder pods (they sleep for the job's duration).
    pub image: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ResourceRequirements {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub requests: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Container {
    pub name: String,
    pub image: String,
    pub command: Vec<String>,
    pub resources: ResourceRequirements,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpecT {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler_name: Option<String>,
    pub restart_policy: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    pub containers: Vec<Container>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PodTemplate {
    pub metadata: ObjectMeta,
    pub spec: PodSpecT,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VcTask {
    pub name: String,
    pub replicas: u32,
    pub min_available: u32,
    pub template: PodTemplate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VcJobSpec {
    pub scheduler_name: String,
    pub queue: String,
    pub min_available: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    pub max_retry: u32,
    pub tasks: Vec<VcTask>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodGroupSpecT {
    pub min_member: u32,
    pub queue: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class_name: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub min_resources: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchJobSpec {
    pub parallelism: u32,
    pub completions: u32,
    pub backoff_limit: u32,
    pub template: PodTemplate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueSpecT {
    pub weight: u32,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub capability: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub deserved: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guarantee: Option<Guarantee>,
    pub reclaimable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Guarantee {
    pub resource: BTreeMap<String, String>,
}

/// One object, tagged by `kind` with its `apiVersion`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub enum Manifest {
    #[serde(rename = "Job")]
    Job {
        #[serde(rename = "apiVersion")]
        api_version: String,
        metadata: ObjectMeta,
        spec: JobSpecAny,
    },
    PodGroup {
        #[serde(rename = "apiVersion")]
        api_version: String,
        metadata: ObjectMeta,
        spec: PodGroupSpecT,
    },
    Queue {
        #[serde(rename = "apiVersion")]
        api_version: String,
        metadata: ObjectMeta,
        spec: QueueSpecT,
    },
}

/// Both `Job` kinds share the name; the API group decides which spec it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum JobSpecAny {
    Volcano(VcJobSpec),
    Batch(BatchJobSpec),
}

pub const VC_JOB_API: &str = "batch.volcano.sh/v1alpha1";
pub const PODGROUP_API: &str = "scheduling.volcano.sh/v1beta1";
pub const BATCH_API: &str = "batch/v1";

impl Manifest {
    pub fn metadata(&self) -> &ObjectMeta {
        match self {
            Manifest::Job { metadata, .. }
            | Manifest::PodGroup { metadata, .. }
            | Manifest::Queue { metadata, .. } => metadata,
        }
    }
    /// `(apiVersion, kind)`.
    pub fn type_meta(&self) -> (&str, &'static str) {
        match self {
            Manifest::Job { api_version, .. } => (api_version, "Job"),
            Manifest::PodGroup { api_version, .. } => (api_version, "PodGroup"),
            Manifest::Queue { api_version, .. } => (api_version, "Queue"),
        }
    }
}

/// The objects as one multi-document YAML stream (`---` between documents, a comment header),
/// as `kubectl apply -f FILE` reads it. Strings that YAML would read as another type (`"1"`,
/// `"yes"`, `"1.36"`) are quoted, so the stream parses back to the same objects.
pub fn to_yaml(objs: &[Manifest]) -> Result<String, String> {
    let body = serde_saphyr::to_string_multiple(objs).map_err(|e| e.to_string())?;
    Ok(format!(
        "# volsim dry-run: the objects the kube backend would create (kubectl apply -f FILE)\n---\n{body}"
    ))
}

/// Kubernetes ResourceList strings (`cpu: 1500m`, `memory: 1073741824`, `nvidia.com/gpu: 1`);
/// the scheduler-internal `pods` dimension is left out.
pub fn resource_list(r: &Resources) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for d in r.dims() {
        if d == ResourceName::PODS {
            continue;
        }
        let v = r.get(d);
        let s = d.scale();
        let text = if s == 1 || v % s == 0 {
            (v / s).to_string()
        } else {
            format!("{v}m")
        };
        out.insert(d.name(), text);
    }
    out
}

fn meta(job: &TraceJob, m: &Meta) -> ObjectMeta {
    let mut labels = BTreeMap::new();
    labels.insert(MANAGED_BY.to_string(), "volsim".to_string());
    let class = super::names::sanitize(&job.class);
    if !class.is_empty() {
        let mut c = class;
        c.truncate(63);
        labels.insert(CLASS_LABEL.to_string(), c.trim_end_matches('-').to_string());
    }
    let mut annotations = BTreeMap::new();
    annotations.insert(KEY_ANNOTATION.to_string(), m.key.clone());
    annotations.insert(WORKFLOW_ANNOTATION.to_string(), m.workflow_id.clone());
    if let Some(p) = m.predicted_wait_ms {
        annotations.insert(PREDICTION_ANNOTATION.to_string(), p.to_string());
    }
    ObjectMeta {
        name: job.id.clone(),
        namespace: m.namespace.clone(),
        labels,
        annotations,
    }
}

/// Wall-clock milliseconds of `model_ms` of model time at `speed` (model time runs `speed`×
/// faster than the wall clock; a non-positive or non-finite speed counts as 1).
pub fn wall_ms(model_ms: u64, speed: f64) -> u64 {
    if !(speed.is_finite() && speed > 0.0) || speed == 1.0 {
        return model_ms;
    }
    (model_ms as f64 / speed).round() as u64
}

/// `sleep` argument for `ms` milliseconds: whole seconds when exact, else seconds with
/// millisecond decimals (busybox and GNU `sleep` both accept fractions).
pub fn sleep_arg(ms: u64) -> String {
    if ms.is_multiple_of(1000) {
        (ms / 1000).to_string()
    } else {
        let frac = format!("{:03}", ms % 1000);
        format!("{}.{}", ms / 1000, frac.trim_end_matches('0'))
    }
}

fn pod_template(
    job: &TraceJob,
    m: &Meta,
    scheduler: Option<&str>,
    group: Option<&str>,
    speed: f64,
) -> PodTemplate {
    let mut md = meta(job, m);
    md.name = String::new();
    md.namespace = String::new();
    md.annotations.retain(|k, _| k == KEY_ANNOTATION);
    if let Some(g) = group {
        md.annotations
            .insert(GROUP_NAME_ANNOTATION.to_string(), g.to_string());
    }
    let run_ms = wall_ms(job.duration_ms, speed);
    md.annotations
        .insert(DURATION_ANNOTATION.to_string(), run_ms.to_string());
    let list = resource_list(&job.requests);
    PodTemplate {
        metadata: md,
        spec: PodSpecT {
            scheduler_name: scheduler.map(str::to_string),
            restart_policy: "Never".to_string(),
            priority_class_name: job.priority_class.clone(),
            containers: vec![Container {
                name: "main".to_string(),
                image: m.image.clone(),
                command: vec!["sleep".to_string(), sleep_arg(run_ms)],
                resources: ResourceRequirements {
                    requests: list.clone(),
                    limits: list,
                },
            }],
        },
    }
}

/// The objects representing `job` (creation order), its pods running for the model duration
/// (`build_at_speed` with speed 1).
pub fn build(job: &TraceJob, mode: ObjectMode, m: &Meta) -> Vec<Manifest> {
    build_at_speed(job, mode, m, 1.0)
}

/// The objects representing `job` for a run at `speed`: the pods' run time (annotation
/// `volsim.dev/duration-ms` and `sleep`) is the model duration / `speed`, in wall time.
pub fn build_at_speed(job: &TraceJob, mode: ObjectMode, m: &Meta, speed: f64) -> Vec<Manifest> {
    match mode {
        ObjectMode::VcJob => vec![Manifest::Job {
            api_version: VC_JOB_API.to_string(),
            metadata: meta(job, m),
            spec: JobSpecAny::Volcano(VcJobSpec {
                scheduler_name: "volcano".to_string(),
                queue: job.queue.clone(),
                min_available: job.min_member,
                priority_class_name: job.priority_class.clone(),
                max_retry: 0,
                tasks: vec![VcTask {
                    name: "main".to_string(),
                    replicas: job.replicas,
                    min_available: job.min_member,
                    template: pod_template(job, m, Some("volcano"), None, speed),
                }],
            }),
        }],
        ObjectMode::PodGroup => vec![
            Manifest::PodGroup {
                api_version: PODGROUP_API.to_string(),
                metadata: meta(job, m),
                spec: PodGroupSpecT {
                    min_member: job.min_member,
                    queue: job.queue.clone(),
                    priority_class_name: job.priority_class.clone(),
                    min_resources: resource_list(&job.requests.times(job.min_member as i64)),
                },
            },
            batch_job(job, m, Some("volcano"), Some(&job.id), speed),
        ],
        ObjectMode::Native => vec![batch_job(job, m, None, None, speed)],
    }
}

fn batch_job(
    job: &TraceJob,
    m: &Meta,
    scheduler: Option<&str>,
    group: Option<&str>,
    speed: f64,
) -> Manifest {
    Manifest::Job {
        api_version: BATCH_API.to_string(),
        metadata: meta(job, m),
        spec: JobSpecAny::Batch(BatchJobSpec {
            parallelism: job.replicas,
            completions: job.replicas,
            backoff_limit: 0,
            template: pod_template(job, m, scheduler, group, speed),
        }),
    }
}

/// A Volcano Queue for `--apply-queues`.
pub fn queue(q: &QueueSpec) -> Manifest {
    let mut md = ObjectMeta {
        name: q.name.clone(),
        ..Default::default()
    };
    md.labels
        .insert(MANAGED_BY.to_string(), "volsim".to_string());
    Manifest::Queue {
        api_version: PODGROUP_API.to_string(),
        metadata: md,
        spec: QueueSpecT {
            weight: q.weight.max(1),
            capability: q.capability.as_ref().map(resource_list).unwrap_or_default(),
            deserved: q.deserved.as_ref().map(resource_list).unwrap_or_default(),
            guarantee: q.guarantee.as_ref().map(|g| Guarantee {
                resource: resource_list(g),
            }),
            reclaimable: q.reclaimable,
            parent: q.parent.clone(),
        },
    }
}

/// A core `v1` Namespace (live mode creates its namespace; 409 → adopt).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamespaceObj {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
}

/// The namespace `name`, labelled as ours.
pub fn namespace(name: &str) -> NamespaceObj {
    let mut metadata = ObjectMeta {
        name: name.to_string(),
        ..Default::default()
    };
    metadata
        .labels
        .insert(MANAGED_BY.to_string(), "volsim".to_string());
    NamespaceObj {
        api_version: "v1".to_string(),
        kind: "Namespace".to_string(),
        metadata,
    }
}

/// A `scheduling.k8s.io/v1` PriorityClass (cluster-scoped; `value` at the top level).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriorityClassObj {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub value: i32,
    pub global_default: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preemption_policy: Option<String>,
    pub description: String,
}

/// The scenario's PriorityClass `pc`, as Kubernetes needs it for the pods that name it.
pub fn priority_class(pc: &PriorityClassSpec) -> PriorityClassObj {
    let mut metadata = ObjectMeta {
        name: pc.name.clone(),
        ..Default::default()
    };
    metadata
        .labels
        .insert(MANAGED_BY.to_string(), "volsim".to_string());
    PriorityClassObj {
        api_version: "scheduling.k8s.io/v1".to_string(),
        kind: "PriorityClass".to_string(),
        metadata,
        value: pc.value,
        global_default: pc.global_default,
        preemption_policy: pc.preemption_never.then(|| "Never".to_string()),
        description: "created by volsim live from the scenario's priority_classes".to_string(),
    }
}
