//! Property tests of the simulator on random small scenarios: no node over-allocated after any
//! cycle, gangs never partially placed (Helm default conf: no evictions), every job accounted
//! for, and identical outputs for equal seeds.

use proptest::prelude::*;
use volsim::model::{DefaultValue, NodeSpec, QueueSpec, ResourceName, Resources};
use volsim::policy::{SchedulerConf, Snapshot, TaskStatus};
use volsim::report::{self, Meta, ReportParams};
use volsim::sim::{simulate, simulate_with_hook, SimInput, SimParams};
use volsim::workload::TraceJob;

fn node(i: usize, cpu: i64) -> NodeSpec {
    let mut a = Resources::cpu_mem(cpu * 1000, cpu << 31);
    a.set(ResourceName::PODS, 110);
    NodeSpec {
        name: format!("n{i}"),
        allocatable: a,
        labels: Default::default(),
        taints: vec![],
        unschedulable: false,
    }
}

/// (submit s, duration s, replicas, gang?, cpu, queue)
type JobGen = (u64, u64, u32, bool, i64, usize);

fn scenario(nodes: Vec<i64>, jobs: Vec<JobGen>, vcjob: bool, seed: u64) -> SimInput {
    let jobs = jobs
        .into_iter()
        .enumerate()
        .map(|(i, (s, d, r, gang, cpu, q))| TraceJob {
            id: format!("j{i}"),
            submit_ms: s * 1000,
            duration_ms: d * 1000,
            replicas: r,
            min_member: if gang { r } else { 1 },
            requests: Resources::cpu_mem(cpu * 1000, cpu << 30),
            queue: format!("q{q}"),
            priority_class: None,
            priority: 0,
            class: if gang { "gang".into() } else { "single".into() },
        })
        .collect();
    SimInput {
        nodes: nodes
            .into_iter()
            .enumerate()
            .map(|(i, c)| node(i, c))
            .collect(),
        queues: vec![QueueSpec::new("q0", 1), QueueSpec::new("q1", 2)],
        priority_classes: vec![],
        conf: SchedulerConf::helm_default(),
        jobs,
        params: SimParams {
            vcjob_mode: vcjob,
            seed,
            horizon_ms: Some(3_600_000),
            ..Default::default()
        },
    }
}

/// No node over-allocated; a live gang holds 0 or ≥ minMember bound/running pods.
fn check_snapshot(s: &Snapshot) -> Result<(), String> {
    for n in &s.nodes {
        if !n.used.less_equal(&n.allocatable, DefaultValue::Zero) {
            return Err(format!("node {} over-allocated", n.name));
        }
    }
    for j in s.jobs.iter().filter(|j| j.live) {
        let up = j.ready_num();
        let placed = up - j.count(TaskStatus::Succeeded);
        if placed > 0 && up < j.min_available {
            return Err(format!(
                "job {} partially placed: {up}/{}",
                j.uid, j.min_available
            ));
        }
    }
    Ok(())
}

type Scenario = (Vec<i64>, Vec<JobGen>, bool, u64);

fn arb() -> impl Strategy<Value = Scenario> {
    (
        prop::collection::vec(prop::sample::select(vec![2i64, 4, 8]), 1..4),
        prop::collection::vec(
            (
                0u64..60,
                1u64..120,
                1u32..4,
                any::<bool>(),
                1i64..4,
                0usize..2,
            ),
            1..12,
        ),
        any::<bool>(),
        any::<u64>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn invariants_hold((nodes, jobs, vcjob, seed) in arb()) {
        let inp = scenario(nodes, jobs, vcjob, seed);
        let mut err = None;
        let o = simulate_with_hook(&inp, &mut |s, t| {
            if err.is_none() {
                if let Err(e) = check_snapshot(s) {
                    err = Some(format!("t={t}: {e}"));
                }
            }
        });
        prop_assert!(err.is_none(), "{:?}", err);
        prop_assert_eq!(o.jobs.len(), inp.jobs.len());
        for j in &o.jobs {
            // completed ⇒ gang-ready ⇒ bound ⇒ admitted: each job is completed, running,
            // pending or starved, never lost.
            if j.finish_ms.is_some() {
                prop_assert!(j.gang_ready_ms.is_some());
            }
            if j.gang_ready_ms.is_some() {
                prop_assert!(j.first_bind_ms.is_some());
            }
            if j.first_bind_ms.is_some() {
                prop_assert!(j.inqueue_ms.is_some());
            }
            prop_assert_eq!(j.evictions, 0);
        }
        let m = report::metrics(&o, &ReportParams::default());
        prop_assert_eq!(m.total.jobs as usize, inp.jobs.len());
        prop_assert_eq!(m.queues.iter().map(|q| q.jobs).sum::<u64>() as usize, inp.jobs.len());
    }

    #[test]
    fn equal_seed_equal_bytes((nodes, jobs, vcjob, seed) in arb()) {
        let inp = scenario(nodes, jobs, vcjob, seed);
        let (a, b) = (simulate(&inp), simulate(&inp));
        prop_assert_eq!(a.decision_hash, b.decision_hash);
        let meta = Meta { scenario_name: "p".into(), scenario_digest: "d".into() };
        let p = ReportParams::default();
        prop_assert_eq!(
            report::write::summary_json(&a, &meta, &p),
            report::write::summary_json(&b, &meta, &p)
        );
        prop_assert_eq!(report::write::jobs_csv(&a).unwrap(), report::write::jobs_csv(&b).unwrap());
        prop_assert_eq!(
            report::write::queues_csv(&a).unwrap(),
            report::write::queues_csv(&b).unwrap()
        );
    }
}
