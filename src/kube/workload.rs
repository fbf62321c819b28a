//! Workload kinds besides the vcjob: a plain `v1` Pod and a `batch/v1` Job, as Volcano sees
//! them — pods with `schedulerName: volcano`, grouped into a PodGroup by the
//! `scheduling.k8s.io/group-name` annotation, else into one PodGroup per owner (Volcano's
//! podgroup controller, minMember 1).
//! Depends only on `crate::model` and `kube::{de, types, pod, vcjob}`.

use serde::Deserialize;

use super::de::Ignore;
use super::pod::{PodSpecY, PodTemplateY};
use super::types::{keys, ObjectMeta, Problem, Seg};
use super::vcjob::{template_of, PodTemplate};

/// The annotation that puts a pod into a Volcano PodGroup (`GroupNameAnnotationKey`).
pub const GROUP_NAME_ANNOTATION: &str = "scheduling.k8s.io/group-name";

/// A plain `v1` Pod.
#[derive(Debug, Clone, PartialEq)]
pub struct PlainPod {
    pub namespace: String,
    pub name: String,
    /// `scheduling.k8s.io/group-name`: the PodGroup the pod belongs to.
    pub group: Option<String>,
    /// Requests, priority, scheduler name, sleep hint (`template.annotations` = the pod's).
    pub template: PodTemplate,
}

/// A `batch/v1` Job.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchJob {
    pub namespace: String,
    pub name: String,
    /// `spec.parallelism` (default 1): pods running at once.
    pub parallelism: u32,
    /// `spec.completions` (default: parallelism).
    pub completions: u32,
    /// The template's `scheduling.k8s.io/group-name`.
    pub group: Option<String>,
    pub template: PodTemplate,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PodY {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: PodSpecY,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct BatchJobY {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: BatchJobSpecY,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct BatchJobSpecY {
    pub parallelism: Option<u32>,
    pub completions: Option<u32>,
    pub template: PodTemplateY,
}

pub(crate) const BATCH_JOB_SPEC_IGNORED: &[(&str, Ignore)] = &[
    ("backoffLimit", Ignore::Quiet),
    ("backoffLimitPerIndex", Ignore::Quiet),
    ("maxFailedIndexes", Ignore::Quiet),
    ("podFailurePolicy", Ignore::Quiet),
    ("successPolicy", Ignore::Quiet),
    ("ttlSecondsAfterFinished", Ignore::Quiet),
    ("selector", Ignore::Quiet),
    ("manualSelector", Ignore::Quiet),
    ("podReplacementPolicy", Ignore::Quiet),
    ("completionMode", Ignore::NotModelled),
    ("activeDeadlineSeconds", Ignore::NotModelled),
    ("suspend", Ignore::NotModelled),
];

fn group_of(meta: &ObjectMeta) -> Option<String> {
    meta.annotations
        .get(GROUP_NAME_ANNOTATION)
        .filter(|g| !g.is_empty())
        .cloned()
}

impl PodY {
    pub(super) fn to_model(&self, warn: &mut Vec<Problem>) -> Result<PlainPod, Problem> {
        let name = self.metadata.required_name()?;
        Ok(PlainPod {
            namespace: self.metadata.namespace_or_default(),
            name,
            group: group_of(&self.metadata),
            template: template_of(&self.metadata, &self.spec, &[], warn)?,
        })
    }
}

impl BatchJobY {
    pub(super) fn to_model(&self, warn: &mut Vec<Problem>) -> Result<BatchJob, Problem> {
        let name = self.metadata.required_name()?;
        let parallelism = self.spec.parallelism.unwrap_or(1);
        if parallelism == 0 {
            return Err(Problem::new(
                &keys(&["spec", "parallelism"]),
                "0: the job runs no pod (suspended); expected ≥ 1",
            ));
        }
        let completions = self.spec.completions.unwrap_or(parallelism);
        let t = &self.spec.template;
        let at: Vec<Seg> = keys(&["spec", "template"]);
        Ok(BatchJob {
            namespace: self.metadata.namespace_or_default(),
            name,
            parallelism,
            completions,
            group: group_of(&t.metadata),
            template: template_of(&t.metadata, &t.spec, &at, warn)?,
        })
    }
}
