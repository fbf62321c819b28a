//! `batch.volcano.sh/v1alpha1` Job (vcjob): its serde shape, the admission webhook's defaults
//! and checks (`mutate_job.go`, `validate_job.go`), and the job controller's translation into
//! one PodGroup plus per-task pod templates (`job_controller_actions.go`, `calcPGMinResources`).
//! Depends only on `crate::model` and `kube::{de, types, pod, scheduling}`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::de::Ignore;
use super::hypernode::NetworkTopologyY;
use super::pod::PodTemplateY;
use super::policy::{self, policies, LifecyclePolicy, PolicyAction, PolicyEvent, PolicyY};
use super::scheduling::{group_annotations, PreemptionPolicyY};
use super::types::{keys, parse_go_bool, sat_add, sat_times, ObjectMeta, Problem, Seg};
use crate::model::{
    NetworkTopologySpec, OnEvict, PodGroupSpec, PodSpec, PriorityClassSpec, ResourceName,
    Resources, Toleration, DEFAULT_MAX_RETRY,
};

/// A task's pod template, reduced to what scheduling needs.
#[derive(Debug, Clone, PartialEq)]
pub struct PodTemplate {
    pub annotations: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    /// Pod request: max(Σ containers (+ sidecars), max over init containers); requests
    /// default to limits per resource. No `pods: 1`.
    pub requests: Resources,
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<Toleration>,
    /// The template's own `priorityClassName` (the job's is inherited later).
    pub priority_class_name: Option<String>,
    /// `spec.priority`, overridden by the `volcano.sh/task-priority` annotation.
    pub priority: Option<i32>,
    /// `spec.preemptionPolicy: Never`.
    pub preemption_never: bool,
    /// `volcano.sh/preemptable` annotation, else label (unparsable → false); None if absent.
    pub preemptable: Option<bool>,
    /// `spec.schedulerName` of the pod (None when absent).
    pub scheduler_name: Option<String>,
    /// The longest finite `sleep N` in the main containers' command/args (a run time hint).
    pub sleep_ms: Option<u64>,
}

/// One entry of `spec.tasks`, with webhook defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct VcTask {
    /// `default<i>` when the YAML leaves it empty.
    pub name: String,
    pub replicas: u32,
    /// Defaults to `replicas`; never above it.
    pub min_available: u32,
    pub policies: Vec<LifecyclePolicy>,
    pub template: PodTemplate,
}

/// A validated Volcano Job with the admission webhook's defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct VcJob {
    pub namespace: String,
    pub name: String,
    pub annotations: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    /// Defaults to Σ task `min_available`; never above Σ replicas.
    pub min_available: u32,
    /// Defaults to `default`.
    pub queue: String,
    pub priority_class_name: Option<String>,
    /// Defaults to `volcano`.
    pub scheduler_name: String,
    /// Defaults to 3 (also when written as 0, as the admission webhook does).
    pub max_retry: u32,
    pub policies: Vec<LifecyclePolicy>,
    pub tasks: Vec<VcTask>,
    /// sla waiting time from the job's annotations (copied to its PodGroup), ms.
    pub sla_waiting_ms: Option<u64>,
    /// `volcano.sh/preemptable` of the job (copied to its PodGroup); `None` if absent.
    pub preemptable: Option<bool>,
    /// `spec.networkTopology` (copied to its PodGroup).
    pub network_topology: Option<NetworkTopologySpec>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct JobY {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: JobSpecY,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct JobSpecY {
    pub scheduler_name: Option<String>,
    pub min_available: Option<u32>,
    pub queue: Option<String>,
    pub priority_class_name: Option<String>,
    pub max_retry: Option<u32>,
    pub policies: Vec<PolicyY>,
    pub tasks: Vec<TaskY>,
    pub network_topology: Option<NetworkTopologyY>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct TaskY {
    pub name: Option<String>,
    pub replicas: Option<u32>,
    pub min_available: Option<u32>,
    pub template: PodTemplateY,
    pub policies: Vec<PolicyY>,
}

pub(crate) const JOB_SPEC_IGNORED: &[(&str, Ignore)] = &[
    ("volumes", Ignore::Quiet),
    ("plugins", Ignore::Quiet),
    ("ttlSecondsAfterFinished", Ignore::Quiet),
    ("runningEstimate", Ignore::Quiet),
    ("minSuccess", Ignore::NotModelled),
];

pub(crate) const TASK_IGNORED: &[(&str, Ignore)] = &[
    ("topologyPolicy", Ignore::Quiet),
    ("maxRetry", Ignore::Quiet),
    ("dependsOn", Ignore::NotModelled),
    ("partitionPolicy", Ignore::NotModelled),
];

const TASK_PRIORITY: &str = "volcano.sh/task-priority";
const PREEMPTABLE: &str = "volcano.sh/preemptable";

fn sub(at: &[Seg], more: &[Seg]) -> Vec<Seg> {
    at.iter().chain(more).cloned().collect()
}

fn key(k: &str) -> Seg {
    Seg::Key(k.to_string())
}

fn template(t: &PodTemplateY, at: &[Seg], warn: &mut Vec<Problem>) -> Result<PodTemplate, Problem> {
    template_of(&t.metadata, &t.spec, at, warn)
}

/// A pod's metadata and spec (a template, or a plain Pod) reduced to what scheduling needs;
/// `at` is the path of the object holding `metadata` and `spec`.
pub(crate) fn template_of(
    meta: &super::types::ObjectMeta,
    spec: &super::pod::PodSpecY,
    at: &[Seg],
    warn: &mut Vec<Problem>,
) -> Result<PodTemplate, Problem> {
    let mut priority = spec.priority;
    if let Some(v) = meta.annotations.get(TASK_PRIORITY) {
        let p = sub(
            at,
            &[key("metadata"), key("annotations"), key(TASK_PRIORITY)],
        );
        priority =
            Some(v.trim().parse().map_err(|_| {
                Problem::new(&p, format!("invalid value {v:?}: expected an integer"))
            })?);
    }
    let preemptable = meta.annotation_or_label(PREEMPTABLE).map(|(v, p)| {
        parse_go_bool(v).unwrap_or_else(|| {
            warn.push(Problem::new(
                &sub(at, &p),
                format!("{v:?} is not a boolean; Volcano treats it as false"),
            ));
            false
        })
    });
    Ok(PodTemplate {
        annotations: meta.annotations.clone(),
        labels: meta.labels.clone(),
        requests: spec.requests(),
        node_selector: spec.node_selector.clone(),
        tolerations: spec.tolerations(&sub(at, &[key("spec")]))?,
        priority_class_name: spec.priority_class_name.clone().filter(|s| !s.is_empty()),
        priority,
        preemption_never: spec.preemption_policy == Some(PreemptionPolicyY::Never),
        preemptable,
        scheduler_name: spec.scheduler_name.clone().filter(|s| !s.is_empty()),
        sleep_ms: spec.sleep_ms(),
    })
}

impl JobY {
    /// Applies webhook defaults and rejects what the webhook would reject.
    pub(super) fn to_model(&self, warn: &mut Vec<Problem>) -> Result<VcJob, Problem> {
        let name = self.metadata.required_name()?;
        let (sla_waiting_ms, preemptable) = group_annotations(&self.metadata, warn)?;
        let s = &self.spec;
        if s.tasks.is_empty() {
            return Err(Problem::new(
                &keys(&["spec", "tasks"]),
                "empty: a job needs at least one task",
            ));
        }
        let mut tasks: Vec<VcTask> = Vec::with_capacity(s.tasks.len());
        for (i, t) in s.tasks.iter().enumerate() {
            let at = vec![key("spec"), key("tasks"), Seg::Idx(i)];
            let tname = t
                .name
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| format!("default{i}"));
            if tasks.iter().any(|x| x.name == tname) {
                return Err(Problem::new(
                    &sub(&at, &[key("name")]),
                    format!("duplicated task name {tname:?}"),
                ));
            }
            let replicas = t.replicas.unwrap_or_else(|| {
                warn.push(Problem::new(
                    &sub(&at, &[key("replicas")]),
                    "missing: the task has 0 pods",
                ));
                0
            });
            let min_available = t.min_available.unwrap_or(replicas);
            if min_available > replicas {
                return Err(Problem::new(
                    &sub(&at, &[key("minAvailable")]),
                    format!("invalid value {min_available}: must not exceed replicas ({replicas})"),
                ));
            }
            tasks.push(VcTask {
                name: tname,
                replicas,
                min_available,
                policies: policies(&t.policies, &sub(&at, &[key("policies")]))?,
                template: template(&t.template, &sub(&at, &[key("template")]), warn)?,
            });
        }
        let total_replicas: u64 = tasks.iter().map(|t| u64::from(t.replicas)).sum();
        let min_available = match s.min_available {
            None | Some(0) => tasks.iter().map(|t| t.min_available).sum(),
            Some(m) => m,
        };
        if u64::from(min_available) > total_replicas {
            return Err(Problem::new(
                &keys(&["spec", "minAvailable"]),
                format!("invalid value {min_available}: must not exceed the total replicas of all tasks ({total_replicas})"),
            ));
        }
        let scheduler_name = s
            .scheduler_name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "volcano".into());
        if scheduler_name != "volcano" {
            warn.push(Problem::new(
                &keys(&["spec", "schedulerName"]),
                format!("{scheduler_name:?} is not volcano; simulated as if volcano"),
            ));
        }
        let job_policies = policies(&s.policies, &keys(&["spec", "policies"]))?;
        let network_topology = match &s.network_topology {
            None => None,
            Some(t) => Some(t.to_model(&keys(&["spec", "networkTopology"]))?),
        };
        warn_unmodelled_evict_actions(&tasks, &job_policies, warn);
        Ok(VcJob {
            namespace: self.metadata.namespace_or_default(),
            name,
            annotations: self.metadata.annotations.clone(),
            labels: self.metadata.labels.clone(),
            min_available,
            queue: s
                .queue
                .clone()
                .filter(|q| !q.is_empty())
                .unwrap_or_else(|| "default".into()),
            priority_class_name: s.priority_class_name.clone().filter(|p| !p.is_empty()),
            scheduler_name,
            max_retry: s.max_retry.filter(|&m| m != 0).unwrap_or(DEFAULT_MAX_RETRY),
            policies: job_policies,
            tasks,
            sla_waiting_ms,
            preemptable,
            network_topology,
        })
    }
}

impl VcJob {
    /// The PodGroup the job controller creates and, per task, `(task name, replicas, pod)`.
    ///
    /// PodGroup: `minMember` = job minAvailable, `minTaskMember[task]` = task minAvailable,
    /// queue and priority class of the job, sla/preemptable from the job's metadata, and
    /// `minResources` = requests of the first `minMember` pods by task priority (Volcano's
    /// `calcPGMinResources`, including `pods: n` as Kubernetes' quota usage does).
    ///
    /// Pod (one template per task; the caller names replicas `<pod.name>-<index>`): role = task
    /// name; `priority_class_name` = template's, else job's, else the global default class
    /// (Kubernetes priority admission); `priority` = explicit template priority (or
    /// `volcano.sh/task-priority`), else the class value, else 0. A class name not found in
    /// `priority_classes` leaves `priority` at the explicit value (None if none) so the caller
    /// can report it. `preemption_never` comes from the class when found, else the template.
    pub fn to_podgroup_and_pods(
        &self,
        priority_classes: &[PriorityClassSpec],
    ) -> (PodGroupSpec, Vec<(String, u32, PodSpec)>) {
        let find = |n: &str| priority_classes.iter().find(|p| p.name == n);
        let global = priority_classes
            .iter()
            .filter(|p| p.global_default)
            .max_by_key(|p| p.value);
        let pg = PodGroupSpec {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            queue: self.queue.clone(),
            min_member: self.min_available,
            min_task_member: self
                .tasks
                .iter()
                .map(|t| (t.name.clone(), t.min_available))
                .collect(),
            priority_class: self.priority_class_name.clone(),
            min_resources: Some(self.min_resources(&find)),
            sla_waiting_ms: self.sla_waiting_ms,
            preemptable: self.preemptable,
            network_topology: self.network_topology.clone(),
        };
        let pods = self
            .tasks
            .iter()
            .map(|t| {
                let tp = &t.template;
                let class = tp
                    .priority_class_name
                    .clone()
                    .or_else(|| self.priority_class_name.clone());
                let (class, value, never) = match &class {
                    Some(n) => match find(n) {
                        Some(pc) => (Some(n.clone()), Some(pc.value), pc.preemption_never),
                        None => (Some(n.clone()), None, tp.preemption_never),
                    },
                    None => match global {
                        Some(pc) => (Some(pc.name.clone()), Some(pc.value), pc.preemption_never),
                        None => (None, Some(0), tp.preemption_never),
                    },
                };
                let pod = PodSpec {
                    namespace: self.namespace.clone(),
                    name: format!("{}-{}", self.name, t.name),
                    role: t.name.clone(),
                    requests: tp.requests,
                    priority: tp.priority.or(value),
                    priority_class_name: class,
                    node_selector: tp.node_selector.clone(),
                    tolerations: tp.tolerations.clone(),
                    preemptable: tp.preemptable,
                    preemption_never: never,
                };
                (t.name.clone(), t.replicas, pod)
            })
            .collect();
        (pg, pods)
    }

    /// Volcano's `calcPGMinResources`: tasks ordered by their template class value (highest
    /// first; stable, unknown class = 0). If job minAvailable < Σ task minAvailable, the first
    /// minAvailable pods in that order; otherwise every task's minAvailable pods, then the
    /// remaining replicas in order until minAvailable pods are counted.
    // Mirrors volcano pkg/controllers/job/job_controller_util.go: CalcFirstCountResources /
    // CalcPGMinResources. Deviation: per-pod requests here already default to limits, whereas
    // Volcano sums the undefaulted template requests (a limits-only container adds nothing).
    fn min_resources<'a>(&self, find: &dyn Fn(&str) -> Option<&'a PriorityClassSpec>) -> Resources {
        let mut order: Vec<(i32, &VcTask)> = self
            .tasks
            .iter()
            .map(|t| {
                (
                    t.template
                        .priority_class_name
                        .as_deref()
                        .and_then(find)
                        .map_or(0, |p| p.value),
                    t,
                )
            })
            .collect();
        order.sort_by_key(|&(v, _)| std::cmp::Reverse(v));
        let mut counts: Vec<u32> = vec![0; order.len()];
        let total_min: u64 = self.tasks.iter().map(|t| u64::from(t.min_available)).sum();
        let mut left = self.min_available;
        if u64::from(self.min_available) < total_min {
            for (i, (_, t)) in order.iter().enumerate() {
                counts[i] = t.replicas.min(left);
                left -= counts[i];
            }
        } else {
            for (i, (_, t)) in order.iter().enumerate() {
                counts[i] = t.min_available.min(left);
                left -= counts[i];
            }
            for (i, (_, t)) in order.iter().enumerate() {
                let extra = (t.replicas - t.min_available).min(left);
                counts[i] += extra;
                left -= extra;
            }
        }
        let mut r = Resources::empty();
        let mut pods = 0i64;
        for (i, (_, t)) in order.iter().enumerate() {
            sat_add(
                &mut r,
                &sat_times(&t.template.requests, i64::from(counts[i])),
            );
            pods += i64::from(counts[i]);
        }
        r.set(ResourceName::PODS, pods);
        r
    }

    /// The action the job controller takes for `event` on a pod of `task`: the task's policies
    /// first, then the job's (`*` matches any event). None = default handling (sync).
    pub fn action_for(&self, task: &str, event: PolicyEvent) -> Option<PolicyAction> {
        let task_policies = self
            .tasks
            .iter()
            .find(|t| t.name == task)
            .map_or(&[][..], |t| &t.policies[..]);
        policy::action_for(task_policies, &self.policies, event)
    }

    /// What the modelled job controller does when a pod of this job is evicted: `RestartJob`
    /// (with the job's `maxRetry`) when the `PodEvicted` (or `*`) policy in force for any task
    /// — its own policies first, then the job's — says `RestartJob`; otherwise the default
    /// sync, which recreates the pod.
    // Deviation: a simulated job has one role, so one task's RestartJob policy stands for the
    // whole job. Other actions on PodEvicted are not modelled (warned about at load time).
    pub fn on_evict(&self) -> OnEvict {
        let restart = self.tasks.iter().any(|t| {
            self.action_for(&t.name, PolicyEvent::PodEvicted) == Some(PolicyAction::RestartJob)
        });
        if restart {
            OnEvict::RestartJob {
                max_retry: self.max_retry,
            }
        } else {
            OnEvict::RecreatePod
        }
    }
}

/// Warns about `PodEvicted` policies whose action the simulator does not model (everything but
/// `RestartJob`), naming the policy that matched.
fn warn_unmodelled_evict_actions(
    tasks: &[VcTask],
    job_policies: &[LifecyclePolicy],
    warn: &mut Vec<Problem>,
) {
    let mut seen_job_level = false;
    for (i, t) in tasks.iter().enumerate() {
        let Some((task_level, k, action)) =
            policy::policy_for(&t.policies, job_policies, PolicyEvent::PodEvicted)
        else {
            continue;
        };
        if action == PolicyAction::RestartJob || (!task_level && seen_job_level) {
            continue;
        }
        seen_job_level |= !task_level;
        let at = if task_level {
            vec![
                key("spec"),
                key("tasks"),
                Seg::Idx(i),
                key("policies"),
                Seg::Idx(k),
            ]
        } else {
            vec![key("spec"), key("policies"), Seg::Idx(k)]
        };
        warn.push(Problem::new(
            &sub(&at, &[key("action")]),
            format!(
                "PodEvicted → {action:?} is not modelled: volsim recreates the evicted pod \
                 (it models the default sync and RestartJob)"
            ),
        ));
    }
}
