//! Driver tests on hand-built workflows: inline replay reproduces the recorded close, mapped
//! activities go through the cluster (and queue), retries replay as extra jobs, children nest.

use serde_json::json;

use super::*;
use crate::model::EngineParams;
use crate::model::{NodeSpec, QueueSpec, ResourceName, Resources};
use crate::policy::SchedulerConf;
use crate::sim::{simulate_with_source, SimInput};
use crate::workload::mapping::MappingTable;

fn activity(
    id: u64,
    issued: u64,
    deps: &[u64],
    ty: &str,
    total: u64,
    service: u64,
) -> serde_json::Value {
    json!({
        "id": id, "issued_ms": issued,
        "deps": deps.iter().map(|d| json!({"node": d})).collect::<Vec<_>>(),
        "kind": {"type": "activity", "activity_type": ty, "activity_id": id.to_string(),
                 "task_queue": "tq", "schedule_to_start_ms": total - service,
                 "service_ms": service, "total_ms": total, "attempts": 1, "outcome": "completed"}
    })
}

fn wf(id: &str, arrival: i64, close: u64, nodes: Vec<serde_json::Value>) -> Workflow {
    serde_json::from_value(json!({
        "workflow_id": id, "run_id": "r", "workflow_type": "wt", "task_queue": "wtq",
        "arrival_unix_ms": arrival, "close": {"status": "completed", "at_ms": close},
        "history_length": 10, "nodes": nodes
    }))
    .unwrap()
}

/// START → a (10 → 110) → timer (120 → 170) → b (180 → 200); close at 210.
fn chain(id: &str, arrival: i64) -> Workflow {
    wf(
        id,
        arrival,
        210,
        vec![
            activity(5, 10, &[1], "a", 100, 80),
            json!({"id": 11, "issued_ms": 120, "deps": [{"node": 5}],
                   "kind": {"type": "timer", "timer_id": "t", "start_to_fire_ms": 50, "elapsed_ms": 50}}),
            activity(15, 180, &[11], "b", 20, 15),
        ],
    )
}

fn drain(d: &mut WorkflowDriver) {
    let mut out = Vec::new();
    while d.next_time() != u64::MAX {
        let t = d.next_time();
        d.poll(t, &mut out);
        assert!(out.is_empty(), "nothing is mapped");
    }
}

#[test]
fn inline_replay_reproduces_recorded_close() {
    let wfs = vec![chain("w1", 1_000), chain("w2", 1_500)];
    let table = MappingTable::default();
    let mut d = WorkflowDriver::new(&wfs, &table);
    drain(&mut d);
    let r = d.records();
    assert_eq!(r.len(), 2);
    assert_eq!((r[0].start_ms, r[1].start_ms), (0, 500));
    for x in &r {
        assert_eq!(x.simulated_e2e_ms, Some(210));
        assert_eq!(x.recorded_e2e_ms, Some(210));
        assert_eq!(x.mapped_activities(), 0);
        assert_eq!(x.activities[0].simulated_ms, Some(100));
    }
}

fn input(cpu: i64) -> SimInput<'static> {
    let mut a = Resources::cpu_mem(cpu, 64 << 30);
    a.set(ResourceName::PODS, 110);
    SimInput {
        nodes: vec![NodeSpec {
            name: "n0".into(),
            allocatable: a,
            labels: Default::default(),
            taints: vec![],
            unschedulable: false,
        }],
        queues: vec![QueueSpec::new("q", 1)],
        priority_classes: vec![],
        conf: SchedulerConf::helm_default(),
        jobs: vec![].into(),
        params: EngineParams {
            vcjob_mode: false,
            ..Default::default()
        },
        seed: 0,
        horizon_ms: None,
    }
}

fn table() -> MappingTable {
    toml::from_str(
        "[[rule]]\nactivity_type = \"a\"\nqueue = \"q\"\ncpu = \"1\"\nmemory = \"1Gi\"\n",
    )
    .unwrap()
}

#[test]
fn mapped_activities_queue_in_the_cluster() {
    // Ten workflows arriving together; activity `a` needs 1 cpu for 80 ms.
    let wfs: Vec<Workflow> = (0..10).map(|i| chain(&format!("w{i}"), 0)).collect();
    let t = table();
    let run = |cpu: i64| {
        let mut d = WorkflowDriver::new(&wfs, &t);
        let o = simulate_with_source(&input(cpu), &mut d);
        (o, d.records())
    };
    let (roomy, rr) = run(16_000);
    let (tight, tr) = run(1_000);
    assert_eq!(roomy.jobs.len(), 10);
    assert!(roomy
        .jobs
        .iter()
        .all(|j| j.finish_ms.is_set() && &*j.class == "a"));
    let e2e = |r: &[WorkflowRecord]| -> Vec<u64> {
        r.iter().map(|x| x.simulated_e2e_ms.unwrap()).collect()
    };
    let (re, te) = (e2e(&rr), e2e(&tr));
    // Mapped: submit at 10 ms, the cycle at 1 s binds, +100 ms bind latency, 80 ms run.
    assert!(re.iter().all(|&x| x > 210 && x == re[0]), "{re:?}");
    assert!(te.iter().max() > re.iter().max(), "{te:?} vs {re:?}");
    assert!(
        tr.iter().map(|x| x.activity_wait_ms()).sum::<u64>()
            > rr.iter().map(|x| x.activity_wait_ms()).sum::<u64>()
    );
    assert_eq!(tight.jobs.len(), 10);
    // Deterministic.
    let (again, ar) = run(1_000);
    assert_eq!((again.decision_hash, ar), (tight.decision_hash, tr));
}

#[test]
fn retries_replay_as_extra_jobs() {
    let mut w = chain("w", 0);
    if let NodeKind::Activity(a) = &mut w.nodes[0].kind {
        a.attempts = 2;
        a.earlier_attempts = vec![crate::workload::workflow::SynthAttempt {
            attempt: 1,
            queue_ms: 0,
            run_ms: 30,
            backoff_ms: 500,
            timed_out: false,
        }];
    }
    let wfs = vec![w];
    let t = table();
    let mut d = WorkflowDriver::new(&wfs, &t);
    let o = simulate_with_source(&input(4_000), &mut d);
    assert_eq!(o.jobs.len(), 2);
    assert_eq!(o.jobs[0].id, "w/5#1");
    assert_eq!(o.jobs[1].id, "w/5#2");
    let r = d.records();
    assert_eq!(r[0].activities[0].runs, 2);
    // The second attempt is submitted 500 ms after the first finished.
    assert_eq!(
        o.jobs[1].submit_ms,
        o.jobs[0].finish_ms.get().unwrap() + 500
    );
    assert!(r[0].simulated_e2e_ms.is_some());
}

#[test]
fn child_workflow_replays_as_a_sub_dag() {
    let child = chain("child", 0);
    let mut parent = wf(
        "parent",
        0,
        300,
        vec![json!({"id": 5, "issued_ms": 20, "deps": [{"node": 1}],
            "kind": {"type": "child", "workflow_id": "child", "workflow_type": "wt",
                     "task_queue": "wtq", "start_latency_ms": 10, "duration_ms": 215,
                     "outcome": "completed"}})],
    );
    if let NodeKind::Child(c) = &mut parent.nodes[0].kind {
        c.execution = Some(child);
    }
    let wfs = vec![parent];
    let table = MappingTable::default();
    let mut d = WorkflowDriver::new(&wfs, &table);
    drain(&mut d);
    let r = d.records();
    assert_eq!(r.len(), 2);
    assert_eq!(r[1].parent.as_deref(), Some("parent"));
    // The child ran 210 ms, the parent saw 10 + 215: it starts when the parent saw it start
    // (at most the start latency after the issue) and its close reaches the parent 5 ms later.
    assert_eq!(r[1].start_ms, 30);
    assert_eq!(r[1].simulated_e2e_ms, Some(210));
    assert_eq!(r[0].simulated_e2e_ms, Some(300));
}
