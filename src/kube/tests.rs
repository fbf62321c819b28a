//! Unit tests of the `kube` loader over real-shaped YAML (fixtures in `tests/fixtures/kube/`)
//! and over broken inputs, whose messages must name file, document, field and value.

use super::*;
use crate::model::{QueueState, ResourceName, Resources, TaintEffect};

pub(super) const QUEUES: &str = include_str!("../../tests/fixtures/kube/queues.yaml");
pub(super) const TF_JOB: &str = include_str!("../../tests/fixtures/kube/tf-job.yaml");
pub(super) const PODGROUP: &str = include_str!("../../tests/fixtures/kube/podgroup.yaml");
pub(super) const PRIORITY: &str = include_str!("../../tests/fixtures/kube/priorityclasses.yaml");
pub(super) const CONFIGMAP: &str =
    include_str!("../../tests/fixtures/kube/scheduler-configmap.yaml");
pub(super) const NODES: &str = include_str!("../../tests/fixtures/kube/nodes.yaml");

const GI: i64 = 1 << 30;

fn res(pairs: &[(&str, &str)]) -> Resources {
    Resources::from_quantities(pairs.iter().copied()).unwrap()
}

pub(super) fn ok(text: &str) -> KubeObjects {
    parse_objects(text, "t.yaml").unwrap_or_else(|e| panic!("{e}"))
}

pub(super) fn err(text: &str) -> String {
    parse_objects(text, "bad.yaml")
        .expect_err("expected an error")
        .to_string()
}

pub(super) fn assert_has(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "{p:?} missing from: {msg}");
    }
}

#[test]
fn queues_parse_with_defaults_and_numbers() {
    let o = ok(QUEUES);
    assert!(o.warnings.is_empty(), "{:?}", o.warnings);
    let [research, prod] = &o.queues[..] else {
        panic!("{:?}", o.queues)
    };
    assert_eq!(
        (
            research.name.as_str(),
            research.weight,
            research.reclaimable
        ),
        ("research", 4, false)
    );
    let cap = research.capability.unwrap();
    assert_eq!(
        (cap.cpu(), cap.memory(), cap.get(ResourceName::GPU)),
        (64_000, 256 * GI, 8000)
    );
    assert_eq!(research.state, QueueState::Open);
    assert_eq!(
        (prod.weight, prod.priority, prod.parent.as_deref()),
        (1, 10, Some("root"))
    );
    assert!(prod.reclaimable);
    assert_eq!(prod.deserved.unwrap().cpu(), 32_000);
    let g = prod.guarantee.unwrap();
    assert_eq!((g.cpu(), g.memory()), (1500, 8 * GI));
    assert_eq!(prod.state, QueueState::Closed);
    // The hierarchical drf annotations are kept for the policy's queue info.
    assert_eq!(
        (prod.hierarchy.as_str(), prod.hierarchy_weights.as_str()),
        ("root/prod", "1/4")
    );
    assert_eq!(research.hierarchy, "");
}

#[test]
fn tf_job_becomes_podgroup_and_pods() {
    let o = ok(TF_JOB);
    assert!(o.warnings.is_empty(), "{:?}", o.warnings);
    let job = &o.vcjobs[0];
    assert_eq!(
        (
            job.name.as_str(),
            job.namespace.as_str(),
            job.queue.as_str()
        ),
        ("tf-benchmark", "default", "research")
    );
    assert_eq!(
        (
            job.min_available,
            job.max_retry,
            job.scheduler_name.as_str()
        ),
        (3, 3, "volcano")
    );
    assert_eq!(
        job.action_for("ps", PolicyEvent::PodEvicted),
        Some(PolicyAction::RestartJob)
    );
    assert_eq!(
        job.action_for("worker", PolicyEvent::TaskCompleted),
        Some(PolicyAction::CompleteJob)
    );
    assert_eq!(job.action_for("ps", PolicyEvent::TaskCompleted), None);

    let (pg, pods) = job.to_podgroup_and_pods(&[]);
    assert_eq!((pg.min_member, pg.queue.as_str()), (3, "research"));
    assert_eq!(
        pg.min_task_member,
        [("ps".to_string(), 1), ("worker".to_string(), 2)].into()
    );
    let mut want = res(&[("cpu", "10"), ("memory", "20Gi"), ("nvidia.com/gpu", "2")]);
    want.set(ResourceName::PODS, 3);
    assert_eq!(pg.min_resources, Some(want));

    let (ps_name, ps_n, ps) = &pods[0];
    assert_eq!((ps_name.as_str(), *ps_n, ps.role.as_str()), ("ps", 1, "ps"));
    assert_eq!(ps.requests, res(&[("cpu", "2"), ("memory", "4Gi")]));
    assert_eq!(
        (ps.priority, ps.priority_class_name.as_deref()),
        (Some(0), None)
    );
    let (_, w_n, w) = &pods[1];
    assert_eq!((*w_n, w.name.as_str()), (2, "tf-benchmark-worker"));
    assert_eq!(
        w.requests,
        res(&[("cpu", "4"), ("memory", "8Gi"), ("nvidia.com/gpu", "1")]),
        "limits default requests"
    );
    assert_eq!(w.preemptable, Some(false));
    assert_eq!(
        w.node_selector.get("accelerator").map(String::as_str),
        Some("nvidia-a100")
    );
    assert_eq!(w.tolerations[0].effect, Some(TaintEffect::NoSchedule));
    assert!(w.tolerations[0].operator_exists);
}

#[test]
fn podgroup_and_priority_classes() {
    let o = ok(&format!("{PODGROUP}---\n{PRIORITY}"));
    assert!(o.warnings.is_empty(), "{:?}", o.warnings);
    let pg = &o.podgroups[0];
    assert_eq!(
        (pg.name.as_str(), pg.min_member, pg.queue.as_str()),
        ("test", 1, "default")
    );
    assert_eq!(pg.sla_waiting_ms, Some(5_400_000));
    assert_eq!(pg.priority_class.as_deref(), Some("high-priority"));
    assert_eq!(
        pg.min_resources,
        Some(res(&[("cpu", "3"), ("memory", "2048Mi")]))
    );
    assert_eq!(pg.preemptable, None);
    let [high, low] = &o.priority_classes[..] else {
        panic!()
    };
    assert_eq!(
        (high.value, high.global_default, high.preemption_never),
        (1_000_000, false, false)
    );
    assert_eq!(
        (low.value, low.global_default, low.preemption_never),
        (10, true, true)
    );

    // Pods without a class get the global default, as Kubernetes' priority admission does.
    let job = &ok(TF_JOB).vcjobs[0];
    let (_, pods) = job.to_podgroup_and_pods(&o.priority_classes);
    assert_eq!(
        pods[0].2.priority_class_name.as_deref(),
        Some("low-priority-nonpreempting")
    );
    assert_eq!(
        (pods[0].2.priority, pods[0].2.preemption_never),
        (Some(10), true)
    );
}

#[test]
fn scheduler_conf_from_configmap_or_bare_file() {
    let o = ok(CONFIGMAP);
    let conf = o.scheduler_conf.unwrap();
    assert!(
        conf.starts_with("actions: \"enqueue, allocate, backfill\"\ntiers:\n"),
        "{conf}"
    );
    assert!(conf.contains("\n  - name: binpack\n"), "{conf}");
    let bare =
        "# my conf\nactions: \"enqueue, allocate, preempt\"\ntiers:\n- plugins:\n  - name: gang\n";
    assert_eq!(ok(bare).scheduler_conf.as_deref(), Some(bare));
    let e = err(&format!("{CONFIGMAP}---\n{bare}"));
    assert_has(&e, &["bad.yaml", "document 2", "second scheduler conf"]);
}

#[test]
fn node_list_from_kubectl() {
    let o = ok(NODES);
    assert!(o.warnings.is_empty(), "{:?}", o.warnings);
    let [gpu, cpu] = &o.nodes[..] else { panic!() };
    assert_eq!(
        (gpu.allocatable.cpu(), gpu.allocatable.pods()),
        (31_850, 110)
    );
    assert_eq!(gpu.taints[0].effect, TaintEffect::NoSchedule);
    assert_eq!(gpu.labels["accelerator"], "nvidia-a100");
    assert!(cpu.unschedulable && cpu.allocatable.pods() == DEFAULT_MAX_PODS);
}

#[test]
fn multi_document_file_with_empty_documents() {
    let text = format!("---\n{QUEUES}\n---\n---\n# nothing\n---\n{TF_JOB}---\n{PRIORITY}---\n{CONFIGMAP}---\n{NODES}");
    let o = ok(&text);
    assert_eq!(
        (
            o.queues.len(),
            o.vcjobs.len(),
            o.priority_classes.len(),
            o.nodes.len()
        ),
        (2, 1, 2, 2)
    );
    assert!(o.scheduler_conf.is_some() && o.warnings.is_empty());
}

#[test]
fn quantities_as_numbers_or_strings() {
    let o = ok("apiVersion: scheduling.volcano.sh/v1beta1\nkind: Queue\nmetadata: {name: q}\nspec:\n  capability: {cpu: 1.5, memory: 1e9, pods: 20, nvidia.com/gpu: \"2\", example.com/foo: 500m}\n");
    let c = o.queues[0].capability.unwrap();
    assert_eq!(
        (c.cpu(), c.memory(), c.pods(), c.get(ResourceName::GPU)),
        (1500, 1_000_000_000, 20, 2000)
    );
    assert_eq!(c.get(ResourceName::intern("example.com/foo").unwrap()), 500);
}

/// Volcano's docs/design/min-avaiable-member-resource.md table: master (2 × 50m) and work
/// (2 × 100m), varying job/task minAvailable.
#[test]
fn min_resources_follow_volcano_table() {
    let job = |jm: &str, mm: &str, wm: &str, pc: &str| {
        format!(
            "apiVersion: batch.volcano.sh/v1alpha1\nkind: Job\nmetadata: {{name: j}}\nspec:\n  minAvailable: {jm}\n  tasks:\n  - {{name: master, replicas: 2{mm}, template: {{spec: {{containers: [{{resources: {{requests: {{cpu: 50m}}}}}}]}}}}}}\n  - {{name: work, replicas: 2{wm}, template: {{spec: {pc}containers: [{{resources: {{requests: {{cpu: 100m}}}}}}]}}}}}}\n"
        )
    };
    let m = |n: u32| {
        if n == 0 {
            String::new()
        } else {
            format!(", minAvailable: {n}")
        }
    };
    for (jm, mm, wm, members, cpu) in [
        (0, 0, 1, 3, 200),
        (0, 1, 1, 2, 150),
        (3, 0, 1, 3, 200),
        (3, 1, 0, 3, 250),
        (3, 1, 1, 3, 200),
        (2, 1, 1, 2, 150),
        (2, 0, 1, 2, 100),
        (2, 1, 0, 2, 100),
    ] {
        let j = &ok(&job(&jm.to_string(), &m(mm), &m(wm), "{")).vcjobs[0];
        let (pg, _) = j.to_podgroup_and_pods(&[]);
        let r = pg.min_resources.unwrap();
        assert_eq!(
            (pg.min_member, r.cpu(), r.pods()),
            (members, cpu, i64::from(members)),
            "case {jm}/{mm}/{wm}"
        );
    }
    // A higher-priority class on `work` puts its pods first.
    let pcs = [crate::model::PriorityClassSpec {
        name: "hi".into(),
        value: 100,
        global_default: false,
        preemption_never: false,
    }];
    let j = &ok(&job("2", "", "", "{priorityClassName: hi, ")).vcjobs[0];
    assert_eq!(
        j.to_podgroup_and_pods(&pcs).0.min_resources.unwrap().cpu(),
        200
    );
}

#[test]
fn pod_requests_with_init_and_sidecar_containers() {
    let text = "apiVersion: batch.volcano.sh/v1alpha1\nkind: Job\nmetadata: {name: j}\nspec:\n  tasks:\n  - replicas: 1\n    template:\n      spec:\n        initContainers:\n        - {name: big-init, resources: {requests: {cpu: 3, memory: 1Gi}}}\n        - {name: sidecar, restartPolicy: Always, resources: {requests: {cpu: 500m}}}\n        containers:\n        - {name: a, resources: {requests: {cpu: 1, memory: 2Gi}}}\n        - {name: b, resources: {requests: {cpu: 1}}}\n";
    let (_, pods) = ok(text).vcjobs[0].to_podgroup_and_pods(&[]);
    // max(Σ containers + sidecar = 2.5 cpu / 2Gi, init 3 cpu / 1Gi) per dimension.
    assert_eq!(pods[0].2.requests, res(&[("cpu", "3"), ("memory", "2Gi")]));
}

#[test]
fn ignore_table_names_real_structs() {
    let names = [
        std::any::type_name::<scheduling::QueueY>(),
        std::any::type_name::<scheduling::QueueSpecY>(),
        std::any::type_name::<scheduling::QueueStatusY>(),
        std::any::type_name::<scheduling::PodGroupY>(),
        std::any::type_name::<scheduling::PodGroupSpecY>(),
        std::any::type_name::<scheduling::PriorityClassY>(),
        std::any::type_name::<vcjob::JobY>(),
        std::any::type_name::<vcjob::JobSpecY>(),
        std::any::type_name::<vcjob::TaskY>(),
        std::any::type_name::<pod::PodSpecY>(),
        std::any::type_name::<pod::ContainerY>(),
        std::any::type_name::<pod::ResourceRequirementsY>(),
        std::any::type_name::<types::ObjectMeta>(),
        std::any::type_name::<types::TaintY>(),
        std::any::type_name::<types::TolerationY>(),
        std::any::type_name::<core_v1::NodeY>(),
        std::any::type_name::<core_v1::NodeSpecY>(),
        std::any::type_name::<core_v1::NodeStatusY>(),
        std::any::type_name::<core_v1::ConfigMapY>(),
        std::any::type_name::<workload::PodY>(),
        std::any::type_name::<workload::BatchJobY>(),
        std::any::type_name::<workload::BatchJobSpecY>(),
        std::any::type_name::<hypernode::HyperNodeY>(),
    ];
    for (n, _) in reader::IGNORE {
        assert!(
            names.iter().any(|t| t.rsplit("::").next() == Some(n)),
            "{n} is not a struct"
        );
    }
}

#[test]
fn load_objects_reads_files_and_names_missing_ones() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kube");
    let o = load_objects(&dir.join("tf-job.yaml")).unwrap();
    assert_eq!(o.vcjobs.len(), 1);
    let e = load_objects(&dir.join("nope.yaml")).unwrap_err();
    assert_has(&e.to_string(), &["nope.yaml", "cannot read file"]);
}

/// A one-task vcjob with the given job-level and task-level policy lines.
fn evict_job(extra_spec: &str, task_policies: &str) -> String {
    format!(
        "apiVersion: batch.volcano.sh/v1alpha1\nkind: Job\nmetadata:\n  name: j\nspec:\n{extra_spec}  tasks:\n  - name: w\n    replicas: 2\n{task_policies}    template:\n      spec:\n        containers:\n        - name: c\n          resources: {{requests: {{cpu: 1}}}}\n"
    )
}

#[test]
fn pod_evicted_restart_job_policy_selects_restart_job() {
    use crate::model::OnEvict;
    // Job level (the TF example), default maxRetry.
    assert_eq!(
        ok(TF_JOB).vcjobs[0].on_evict(),
        OnEvict::RestartJob { max_retry: 3 }
    );
    // Task level, with `*` and an explicit maxRetry.
    let o = ok(&evict_job(
        "  maxRetry: 5\n",
        "    policies:\n    - event: \"*\"\n      action: RestartJob\n",
    ));
    assert!(o.warnings.is_empty(), "{:?}", o.warnings);
    assert_eq!(o.vcjobs[0].on_evict(), OnEvict::RestartJob { max_retry: 5 });
    // The admission webhook turns maxRetry 0 into 3.
    let o = ok(&evict_job(
        "  maxRetry: 0\n  policies:\n  - events: [PodFailed, PodEvicted]\n    action: RestartJob\n",
        "",
    ));
    assert_eq!(o.vcjobs[0].on_evict(), OnEvict::RestartJob { max_retry: 3 });
    // A task policy for PodEvicted overrides the job's.
    let o = ok(&evict_job(
        "  policies:\n  - event: PodEvicted\n    action: RestartJob\n",
        "    policies:\n    - event: PodEvicted\n      action: AbortJob\n",
    ));
    assert_eq!(o.vcjobs[0].on_evict(), OnEvict::RecreatePod);
    assert_eq!(o.warnings.len(), 1, "{:?}", o.warnings);
    assert_has(
        &o.warnings[0],
        &[
            "t.yaml",
            "spec.tasks[0].policies[0].action",
            "PodEvicted → AbortJob is not modelled",
        ],
    );
    // No policy, or one for other events: the default sync recreates the pod.
    assert_eq!(
        ok(&evict_job("", "")).vcjobs[0].on_evict(),
        OnEvict::RecreatePod
    );
    let o = ok(&evict_job(
        "  policies:\n  - event: PodFailed\n    action: RestartJob\n",
        "",
    ));
    assert_eq!(o.vcjobs[0].on_evict(), OnEvict::RecreatePod);
    assert!(o.warnings.is_empty(), "{:?}", o.warnings);
    // An unknown action is an error naming file and field.
    let e = err(&evict_job(
        "",
        "    policies:\n    - event: PodEvicted\n      action: RestartJobs\n",
    ));
    assert_has(
        &e,
        &[
            "bad.yaml",
            "spec.tasks[0].policies[0].action",
            "RestartJobs",
        ],
    );
}

#[test]
fn batch_job_pod_and_legacy_podgroup_with_origins() {
    let o = ok(include_str!(
        "../../tests/fixtures/kube/volcano-example-job.yaml"
    ));
    assert_eq!(o.batch_jobs.len(), 1);
    let b = &o.batch_jobs[0];
    assert_eq!(
        (b.name.as_str(), b.parallelism, b.completions),
        ("qj-1", 6, 6)
    );
    assert_eq!(b.group.as_deref(), Some("qj-1"));
    assert_eq!(b.template.scheduler_name.as_deref(), Some("kube-batch"));
    assert_eq!(b.template.requests.cpu(), 1000);
    assert_eq!((o.podgroups.len(), o.podgroups[0].min_member), (1, 6));
    assert!(
        o.warnings
            .iter()
            .any(|w| w.contains("document 2 (PodGroup qj-1): apiVersion: old apiVersion")),
        "{:?}",
        o.warnings
    );
    let kinds: Vec<(&str, usize)> = o
        .origins
        .iter()
        .map(|x| (x.kind.as_str(), x.document))
        .collect();
    assert_eq!(kinds, [("batch/v1 Job", 1), ("PodGroup", 2)]);

    let pod = ok("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: ns\n  creationTimestamp: \"2026-01-01T00:00:05Z\"\n  annotations:\n    volsim.dev/duration: 1m\nspec:\n  schedulerName: volcano\n  containers:\n  - name: c\n    args: [\"sleep\", \"30\"]\n    resources:\n      requests: {cpu: 250m}\nstatus:\n  phase: Pending\n");
    let p = &pod.pods[0];
    assert_eq!(
        (p.namespace.as_str(), p.template.sleep_ms),
        ("ns", Some(30_000))
    );
    let origin = &pod.origins[0];
    assert_eq!(
        origin.creation_timestamp.as_deref(),
        Some("2026-01-01T00:00:05Z")
    );
    assert_eq!(
        origin
            .annotations
            .get("volsim.dev/duration")
            .map(String::as_str),
        Some("1m")
    );
    assert_eq!(origin.describe(), "t.yaml: document 1 (Pod ns/p)");
}
