//! The kube forecast base from listed JSON: nodes and queues through the kube reader, foreign
//! pods subtracted from their nodes, our running jobs placed, our pending jobs queued.

use serde_json::json;

use super::*;
use crate::model::{EngineParams, ResourceName};
use crate::policy::SchedulerConf;

/// A node as `kubectl get nodes -o json` lists it. Its hugepages size is the one the
/// conformance fixtures already name: the unit tests share one process-wide table of resource
/// names (at most `MAX_DIMS`), and a name no other test uses would be its thirteenth — whether
/// this test or another then fails would depend on the order the tests ran in.
fn node(name: &str) -> Value {
    json!({
        "metadata": {"name": name, "uid": "u", "labels": {"kubernetes.io/hostname": name}, "managedFields": []},
        "spec": {"podCIDR": "10.0.0.0/24"},
        "status": {
            "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi", "hugepages-1Gi": "0"},
            "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi", "hugepages-1Gi": "0"},
            "conditions": [{"type": "Ready", "status": "True"}],
            "nodeInfo": {"kubeletVersion": "v1.33.0"}
        }
    })
}

fn pod(
    ns: &str,
    name: &str,
    node: Option<&str>,
    phase: &str,
    cpu: &str,
    job: Option<&str>,
) -> Value {
    let mut labels = json!({});
    if let Some(j) = job {
        labels["volcano.sh/job-name"] = j.into();
    }
    json!({
        "metadata": {"namespace": ns, "name": name, "labels": labels},
        "spec": {"nodeName": node, "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu, "memory": "1Gi"}}}]},
        "status": {"phase": phase}
    })
}

fn tj(id: &str, cpu: i64, replicas: u32, dur: u64) -> TraceJob {
    TraceJob {
        id: id.into(),
        submit_ms: 0,
        duration_ms: dur,
        replicas,
        min_member: replicas,
        requests: Resources::cpu_mem(cpu, 1 << 30),
        queue: "q".into(),
        priority_class: None,
        priority: 0,
        class: String::new(),
    }
}

#[test]
fn builds_the_forecast_base_from_listed_state() {
    let nodes = json!({"items": [node("n1"), node("n2")]});
    let queues = json!({"items": [{"metadata": {"name": "q"}, "spec": {"weight": 2, "reclaimable": true}, "status": {"state": "Open"}}]});
    let (nodes, queues) = parse_nodes_queues(&nodes, &queues).unwrap();
    assert_eq!(nodes.len(), 2);
    assert_eq!(nodes[0].allocatable.cpu(), 4000);
    assert_eq!(queues[0].weight, 2);
    let pods = parse_pods(&json!({"items": [
        pod("kube-system", "coredns", Some("n1"), "Running", "1", None),
        pod("other", "done", Some("n2"), "Succeeded", "3", None),
        pod("ns", "run-main-0", Some("n2"), "Running", "2", Some("run")),
        pod("ns", "run-main-1", Some("n2"), "Running", "2", Some("run")),
    ]}));
    assert_eq!(pods.len(), 4);
    assert_eq!(pods[0].requests.cpu(), 1000);
    assert_eq!(pods[2].job.as_deref(), Some("run"));
    let like = Model::new(
        &[],
        &[],
        &[],
        crate::policy::Scheduler::new(&SchedulerConf::helm_default()).unwrap(),
        EngineParams::default(),
        1,
    );
    let own = vec![
        OwnJob {
            job: tj("run", 2000, 2, 60_000),
            running_since: Some(5_000),
            done: false,
        },
        OwnJob {
            job: tj("old", 1000, 1, 1_000),
            running_since: Some(1_000),
            done: true,
        },
        OwnJob {
            job: tj("wait", 3000, 1, 10_000),
            running_since: None,
            done: false,
        },
    ];
    let m = build_model(&like, nodes, &queues, &pods, &own, "ns", 20_000);
    let n1 = &m.cluster().snap.nodes[m.cluster().snap.find_node("n1").unwrap().ix()];
    assert_eq!(n1.allocatable.cpu(), 3000, "coredns is subtracted");
    assert_eq!(n1.allocatable.get(ResourceName::PODS), 109);
    let n2 = &m.cluster().snap.nodes[m.cluster().snap.find_node("n2").unwrap().ix()];
    assert_eq!(
        n2.used.cpu(),
        4000,
        "our running gang sits on n2; the finished pod does not"
    );
    assert_eq!(m.view("run").unwrap().phase, "Running");
    assert!(m.view("old").is_none());
    assert_eq!(m.view("wait").unwrap().phase, "Pending");
    // the waiting job (3 CPU) fits on n1 (3 CPU left) right away; a 4-CPU job must wait for
    // the running gang to end at 5 s + 60 s
    assert!(m.forecast(&tj("x", 3000, 1, 1000)).is_some());
    let w = m.forecast(&tj("y", 4000, 1, 1000)).unwrap();
    assert!(w >= 65_000 - 20_000, "{w}");
}
