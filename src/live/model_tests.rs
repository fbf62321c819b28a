//! The modelled cluster in live mode: forecasts match what the twin then does, runs are
//! deterministic, deletes free resources, impossible jobs are never predicted.

use super::*;
use crate::model::{EngineParams, ResourceName, Resources};

fn node(name: &str) -> NodeSpec {
    let mut alloc = Resources::cpu_mem(4000, 8 << 30);
    alloc.set(ResourceName::PODS, 110);
    NodeSpec {
        name: name.into(),
        allocatable: alloc,
        labels: Default::default(),
        taints: vec![],
        unschedulable: false,
    }
}

fn model() -> Model {
    let conf =
        crate::policy::Scheduler::new(&crate::policy::SchedulerConf::helm_default()).unwrap();
    Model::new(
        &[node("a"), node("b")],
        &[QueueSpec::new("q", 1)],
        &[],
        conf,
        EngineParams::default(),
        1,
    )
}

fn job(id: &str, cpu: i64, replicas: u32, dur: u64) -> TraceJob {
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
fn forecast_matches_the_twin() {
    let mut m = model();
    m.advance_to(500);
    assert!(m.submit(&job("big", 3000, 2, 60_000)));
    m.advance_to(1_700);
    let j = job("next", 2000, 2, 10_000);
    let predicted = m.forecast(&j).expect("admitted once big finishes");
    assert!(predicted > 55_000, "waits for the first gang: {predicted}");
    assert!(m.submit(&j));
    m.advance_to(200_000);
    let v = m.view("next").unwrap();
    assert_eq!(v.gang_ready_ms.map(|g| g - v.submit_ms), Some(predicted));
    assert_eq!(v.phase, "Completed");
    assert!(!m.log().is_empty());
}

#[test]
fn unplaceable_jobs_get_no_prediction() {
    let m = model();
    assert_eq!(m.forecast(&job("huge", 64_000, 1, 1000)), None);
    let mut unknown = job("lost", 100, 1, 1000);
    unknown.queue = "missing".into();
    assert_eq!(m.forecast(&unknown), None);
}

#[test]
fn deterministic_and_delete_frees_nodes() {
    let run = || {
        let mut m = model();
        for i in 0..6 {
            m.advance_to(i * 700);
            m.submit(&job(&format!("j{i}"), 1500, 2, 20_000));
        }
        m.advance_to(10_000);
        m
    };
    let (mut a, b) = (run(), run());
    assert_eq!(a.log(), b.log());
    assert!(a.view("j0").unwrap().gang_ready_ms.is_some());
    for n in a.names() {
        assert!(a.delete(&n));
    }
    a.advance_to(12_000);
    assert!(a.cluster().snap.nodes.iter().all(|n| n.used.cpu() == 0));
    // The index agrees: no deleted job is live or pending any more.
    assert_eq!(a.cluster().snap.live_jobs().count(), 0);
    assert_eq!(a.view("j0").unwrap().phase, "Deleted");
    assert!(!a.delete("nope"));
    assert!(!a.submit(&job("j0", 1, 1, 1)), "names are unique");
}
