//! Object → job conversion for `workload.objects`: vcjobs, PodGroups with their member Pods
//! and `batch/v1` Jobs, ungrouped Jobs and Pods (see the parent module for the rules). Every
//! object that cannot become a job is named in `skips`; approximations are warnings.
//!
//! Depends on `kube`, `model` and `workload`.

use std::collections::BTreeMap;

use crate::kube::{KubeObjects, Origin, PodTemplate};
use crate::model::{NetworkTopologySpec, OnEvict, Resources};
use crate::workload::TraceJob;

use super::CLASS;

/// One job before its arrival and run time are resolved.
pub(super) struct Pending {
    pub job: TraceJob,
    pub origin: Origin,
    /// Longest `sleep N` of its pod templates.
    pub sleep_ms: Option<u64>,
}

fn find<'a>(objs: &'a KubeObjects, kind: &str, ns: &str, name: &str) -> &'a Origin {
    objs.origins
        .iter()
        .find(|o| o.kind == kind && o.namespace == ns && o.name == name)
        .expect("every parsed workload object has an origin")
}

fn job_id(ns: &str, name: &str) -> String {
    if ns == "default" {
        name.to_string()
    } else {
        format!("{ns}/{name}")
    }
}

/// Per-resource maximum of pod requests, with a warning when they differ.
fn one_shape(what: &str, shapes: &[Resources], warnings: &mut Vec<String>) -> Resources {
    let mut r = shapes.first().copied().unwrap_or_else(Resources::empty);
    for s in &shapes[1..] {
        r = r.max_with(s);
    }
    if shapes.windows(2).any(|w| w[0] != w[1]) {
        warnings.push(format!(
            "{what}: its pods request different resources; volsim's job has one pod shape, so \
             every pod requests the per-resource maximum {r}"
        ));
    }
    r
}

fn base_job(id: String, replicas: u32, min: u32, requests: Resources, queue: &str) -> TraceJob {
    TraceJob {
        id,
        submit_ms: 0,
        duration_ms: 0,
        replicas,
        min_member: min.clamp(1, replicas.max(1)),
        requests,
        queue: queue.to_string(),
        priority_class: None,
        priority: 0,
        class: String::new(),
    }
}

/// Notes what a pod template carries that an object job cannot express.
fn unmodelled(what: &str, t: &PodTemplate, warnings: &mut Vec<String>) {
    if !t.node_selector.is_empty() || !t.tolerations.is_empty() {
        warnings.push(format!(
            "{what}: nodeSelector / tolerations are not modelled for object jobs; its pods may \
             go to any node without NoSchedule taints"
        ));
    }
}

/// Carries an object's `spec.networkTopology` as its class's (the class becomes the job id
/// when the object names none, as for eviction policies).
fn class_topology(
    what: &str,
    job: &mut TraceJob,
    spec: Option<&NetworkTopologySpec>,
    topology: &mut BTreeMap<String, NetworkTopologySpec>,
    warnings: &mut Vec<String>,
) {
    let Some(spec) = spec else { return };
    if job.class.is_empty() {
        job.class = job.id.clone();
    }
    if topology
        .insert(job.class.clone(), spec.clone())
        .is_some_and(|o| o != *spec)
    {
        warnings.push(format!(
            "{what}: class {:?} has jobs with different networkTopology; the last wins",
            job.class
        ));
    }
}

pub(super) fn convert(
    objs: &KubeObjects,
    pending: &mut Vec<Pending>,
    skips: &mut Vec<String>,
    on_evict: &mut BTreeMap<String, OnEvict>,
    topology: &mut BTreeMap<String, NetworkTopologySpec>,
    warnings: &mut Vec<String>,
) {
    for j in &objs.vcjobs {
        let origin = find(objs, "Job", &j.namespace, &j.name).clone();
        let what = origin.describe();
        let replicas: u32 = j
            .tasks
            .iter()
            .map(|t| t.replicas)
            .fold(0, u32::saturating_add);
        if replicas == 0 {
            skips.push(format!("{what}: no pods (every task has 0 replicas)"));
            continue;
        }
        let shapes: Vec<Resources> = j.tasks.iter().map(|t| t.template.requests).collect();
        let mut job = base_job(
            job_id(&j.namespace, &j.name),
            replicas,
            j.min_available,
            one_shape(&what, &shapes, warnings),
            &j.queue,
        );
        job.priority_class = j.priority_class_name.clone().or_else(|| {
            j.tasks
                .iter()
                .find_map(|t| t.template.priority_class_name.clone())
        });
        job.class = origin.annotations.get(CLASS).cloned().unwrap_or_default();
        class_topology(
            &what,
            &mut job,
            j.network_topology.as_ref(),
            topology,
            warnings,
        );
        if let OnEvict::RestartJob { max_retry } = j.on_evict() {
            if job.class.is_empty() {
                job.class = job.id.clone();
            }
            let want = OnEvict::RestartJob { max_retry };
            if on_evict
                .insert(job.class.clone(), want)
                .is_some_and(|o| o != want)
            {
                warnings.push(format!(
                    "{what}: class {:?} has vcjobs with different eviction policies; the last wins",
                    job.class
                ));
            }
        }
        j.tasks
            .iter()
            .for_each(|t| unmodelled(&what, &t.template, warnings));
        let sleep_ms = j.tasks.iter().filter_map(|t| t.template.sleep_ms).max();
        pending.push(Pending {
            job,
            origin,
            sleep_ms,
        });
    }
    // PodGroups gather their members: pods and batch/v1 Jobs naming them.
    let mut used_pods = vec![false; objs.pods.len()];
    let mut used_batch = vec![false; objs.batch_jobs.len()];
    for pg in &objs.podgroups {
        let origin = find(objs, "PodGroup", &pg.namespace, &pg.name).clone();
        let what = origin.describe();
        let member =
            |ns: &str, g: &Option<String>| ns == pg.namespace && g.as_ref() == Some(&pg.name);
        let mut templates: Vec<(&PodTemplate, u32)> = Vec::new();
        for (i, p) in objs.pods.iter().enumerate() {
            if member(&p.namespace, &p.group) {
                used_pods[i] = true;
                templates.push((&p.template, 1));
            }
        }
        for (i, b) in objs.batch_jobs.iter().enumerate() {
            if member(&b.namespace, &b.group) {
                used_batch[i] = true;
                templates.push((&b.template, b.parallelism));
            }
        }
        if objs
            .vcjobs
            .iter()
            .any(|j| j.namespace == pg.namespace && j.name == pg.name)
        {
            skips.push(format!(
                "{what}: the PodGroup of the vcjob of the same name"
            ));
            continue;
        }
        let replicas: u32 = templates.iter().map(|t| t.1).fold(0, u32::saturating_add);
        if replicas == 0 {
            skips.push(format!(
                "{what}: no pods (no Pod or batch/v1 Job in workload.objects has annotation \
                 scheduling.k8s.io/group-name: {})",
                pg.name
            ));
            continue;
        }
        let shapes: Vec<Resources> = templates.iter().map(|t| t.0.requests).collect();
        let mut job = base_job(
            job_id(&pg.namespace, &pg.name),
            replicas,
            pg.min_member,
            one_shape(&what, &shapes, warnings),
            &pg.queue,
        );
        if pg.min_member > replicas {
            warnings.push(format!(
                "{what}: minMember {} exceeds its {replicas} pods; Volcano would never start it, \
                 volsim gangs all {replicas}",
                pg.min_member
            ));
        }
        job.priority_class = pg.priority_class.clone().or_else(|| {
            templates
                .iter()
                .find_map(|t| t.0.priority_class_name.clone())
        });
        job.class = origin.annotations.get(CLASS).cloned().unwrap_or_default();
        class_topology(
            &what,
            &mut job,
            pg.network_topology.as_ref(),
            topology,
            warnings,
        );
        templates.iter().for_each(|t| {
            unmodelled(&what, t.0, warnings);
            scheduler_note(&what, t.0, warnings);
        });
        let sleep_ms = templates.iter().filter_map(|t| t.0.sleep_ms).max();
        pending.push(Pending {
            job,
            origin,
            sleep_ms,
        });
    }
    // Ungrouped batch/v1 Jobs: one PodGroup per owner, minMember 1.
    // Mirrors volcano pkg/controllers/podgroup (createNormalPodPGIfNotExist).
    for (b, _) in objs
        .batch_jobs
        .iter()
        .zip(&used_batch)
        .filter(|(_, u)| !**u)
    {
        let origin = find(objs, "batch/v1 Job", &b.namespace, &b.name).clone();
        let what = origin.describe();
        if let Some(g) = &b.group {
            skips.push(format!(
                "{what}: its PodGroup {g:?} is not in workload.objects"
            ));
            continue;
        }
        if !for_volcano(&what, &b.template, skips, warnings) {
            continue;
        }
        if b.completions > b.parallelism {
            warnings.push(format!(
                "{what}: completions {} > parallelism {}: simulated as one wave of {} pods",
                b.completions, b.parallelism, b.parallelism
            ));
        }
        let mut job = base_job(
            job_id(&b.namespace, &b.name),
            b.parallelism,
            1,
            b.template.requests,
            "default",
        );
        job.priority_class = b.template.priority_class_name.clone();
        job.class = origin.annotations.get(CLASS).cloned().unwrap_or_default();
        unmodelled(&what, &b.template, warnings);
        pending.push(Pending {
            job,
            origin,
            sleep_ms: b.template.sleep_ms,
        });
    }
    // Ungrouped plain Pods: one single-pod job each.
    for (p, _) in objs.pods.iter().zip(&used_pods).filter(|(_, u)| !**u) {
        let origin = find(objs, "Pod", &p.namespace, &p.name).clone();
        let what = origin.describe();
        if let Some(g) = &p.group {
            skips.push(format!(
                "{what}: its PodGroup {g:?} is not in workload.objects"
            ));
            continue;
        }
        if !for_volcano(&what, &p.template, skips, warnings) {
            continue;
        }
        let mut job = base_job(
            job_id(&p.namespace, &p.name),
            1,
            1,
            p.template.requests,
            "default",
        );
        job.priority_class = p.template.priority_class_name.clone();
        job.class = origin.annotations.get(CLASS).cloned().unwrap_or_default();
        unmodelled(&what, &p.template, warnings);
        pending.push(Pending {
            job,
            origin,
            sleep_ms: p.template.sleep_ms,
        });
    }
}

/// Whether pods of this template are Volcano's to schedule: no `schedulerName` (the default
/// scheduler's) → skipped; another name → simulated as Volcano with a warning.
fn for_volcano(
    what: &str,
    t: &PodTemplate,
    skips: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> bool {
    match t.scheduler_name.as_deref() {
        None | Some("default-scheduler") => {
            skips.push(format!(
                "{what}: schedulerName is not volcano (the default scheduler places it)"
            ));
            false
        }
        _ => {
            scheduler_note(what, t, warnings);
            true
        }
    }
}

fn scheduler_note(what: &str, t: &PodTemplate, warnings: &mut Vec<String>) {
    if let Some(s) = t.scheduler_name.as_deref().filter(|s| *s != "volcano") {
        warnings.push(format!(
            "{what}: schedulerName {s:?} is not volcano; simulated as if volcano"
        ));
    }
}
