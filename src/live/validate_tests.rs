//! Every manifest live mode builds passes the CRD-derived rules; broken ones are caught.

use super::*;
use crate::live::manifest::{build, queue, Meta, ObjectMode};
use crate::model::{QueueSpec, ResourceName, Resources};
use crate::workload::TraceJob;

fn job() -> TraceJob {
    let mut requests = Resources::cpu_mem(1500, 3 << 30);
    requests.set(ResourceName::GPU, 1000);
    TraceJob {
        id: "wf-1-abcdef012345".into(),
        submit_ms: 0,
        duration_ms: 90_500,
        replicas: 3,
        min_member: 2,
        requests,
        queue: "batch".into(),
        priority_class: Some("batch-normal".into()),
        priority: 0,
        class: "Marketing Campaign".into(),
    }
}

fn meta() -> Meta {
    Meta {
        namespace: "volsim".into(),
        key: "wf-1/activity 3 — ünïcode".into(),
        workflow_id: "wf-1".into(),
        predicted_wait_ms: Some(1234),
        image: "busybox:1.36".into(),
    }
}

#[test]
fn built_manifests_are_valid() {
    for mode in [ObjectMode::VcJob, ObjectMode::PodGroup, ObjectMode::Native] {
        for m in build(&job(), mode, &meta()) {
            assert_eq!(check(&m), Vec::<String>::new(), "{mode:?}: {m:?}");
        }
    }
    let mut q = QueueSpec::new("batch", 2);
    q.capability = Some(Resources::cpu_mem(64_000, 256 << 30));
    q.guarantee = Some(Resources::cpu_mem(8_000, 32 << 30));
    assert_eq!(check(&queue(&q)), Vec::<String>::new());
}

#[test]
fn vcjob_wire_shape() {
    let m = &build(&job(), ObjectMode::VcJob, &meta())[0];
    let v = serde_json::to_value(m).unwrap();
    assert_eq!(v["apiVersion"], "batch.volcano.sh/v1alpha1");
    assert_eq!(v["kind"], "Job");
    assert_eq!(v["spec"]["schedulerName"], "volcano");
    assert_eq!(v["spec"]["minAvailable"], 2);
    assert_eq!(v["spec"]["priorityClassName"], "batch-normal");
    assert_eq!(
        v["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "volsim"
    );
    assert_eq!(
        v["metadata"]["annotations"]["volsim.io/predicted-wait-ms"],
        "1234"
    );
    let c = &v["spec"]["tasks"][0]["template"]["spec"]["containers"][0];
    assert_eq!(c["resources"]["requests"]["cpu"], "1500m");
    assert_eq!(c["resources"]["limits"]["nvidia.com/gpu"], "1");
    assert_eq!(
        c["resources"]["requests"]["memory"],
        (3u64 << 30).to_string()
    );
    assert_eq!(
        c["command"][1], "90.5",
        "the run time itself, not rounded up"
    );
    assert_eq!(
        v["spec"]["tasks"][0]["template"]["metadata"]["annotations"]["volsim.dev/duration-ms"],
        "90500"
    );
    let pg = serde_json::to_value(&build(&job(), ObjectMode::PodGroup, &meta())[1]).unwrap();
    assert_eq!(
        pg["spec"]["template"]["metadata"]["annotations"]["scheduling.k8s.io/group-name"],
        "wf-1-abcdef012345"
    );
    let native = serde_json::to_value(&build(&job(), ObjectMode::Native, &meta())[0]).unwrap();
    assert!(native["spec"]["template"]["spec"]
        .get("schedulerName")
        .is_none());
}

#[test]
fn rule_violations_are_reported_with_paths() {
    let good = serde_json::to_value(&build(&job(), ObjectMode::VcJob, &meta())[0]).unwrap();
    let mutate = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        check_value(&v)
    };
    let has = |errs: Vec<String>, path: &str| {
        assert!(
            errs.iter().any(|e| e.starts_with(path)),
            "{path} not in {errs:?}"
        );
    };
    has(
        mutate(&|v| v["spec"]["minAvailable"] = 9.into()),
        "spec.minAvailable",
    );
    has(
        mutate(&|v| v["spec"]["minAvailable"] = (-1).into()),
        "spec.minAvailable",
    );
    has(
        mutate(&|v| v["metadata"]["name"] = "Bad_Name".into()),
        "metadata.name",
    );
    has(mutate(&|v| v["spec"]["queues"] = "x".into()), "spec.queues");
    has(
        mutate(&|v| v["spec"]["tasks"][0]["name"] = "A B".into()),
        "spec.tasks.0.name",
    );
    has(
        mutate(&|v| {
            v["spec"]["tasks"][0]["template"]["spec"]["containers"][0]["resources"]["requests"]
                ["cpu"] = "lots".into()
        }),
        "spec.tasks.0.template.spec.containers.0.resources.requests.cpu",
    );
    has(
        mutate(&|v| {
            v["spec"]["tasks"][0]["template"]["spec"]["containers"][0]["resources"]["limits"]
                ["nvidia.com/gpu"] = "500m".into()
        }),
        "spec.tasks.0.template.spec.containers.0.resources.limits.nvidia.com/gpu",
    );
    has(
        mutate(&|v| v["spec"]["tasks"] = serde_json::json!([])),
        "spec.tasks",
    );
    has(
        mutate(&|v| v["metadata"]["labels"]["volsim.io/class"] = "-bad-".into()),
        "metadata.labels.volsim.io/class",
    );
    let mut q = serde_json::to_value(queue(&QueueSpec::new("q", 1))).unwrap();
    q["spec"]["weight"] = 0.into();
    has(check_value(&q), "spec.weight");
    q["metadata"]["namespace"] = "x".into();
    has(check_value(&q), "metadata.namespace");
}
