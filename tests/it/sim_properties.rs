//! Property tests of the simulator on random small scenarios: no node over-allocated after any
//! cycle, gangs never partially placed (Helm default conf: no evictions), every job accounted
//! for, and identical outputs for equal seeds; and, with preempt and reclaim on and some jobs
//! restarting on eviction (`restart-job`), no over-allocation counting Releasing pods, no
//! PodGroup Running below minMember, and every restart, kill and failure accounted for.

use proptest::prelude::*;
use volsim::model::{
    DefaultValue, EngineParams, NodeSpec, OnEvict, PriorityClassSpec, QueueSpec, ResourceName,
    Resources,
};
use volsim::policy::{parse_scheduler_conf, PodGroupPhase, SchedulerConf, Snapshot, TaskStatus};
use volsim::report::{self, Meta, ReportParams};
use volsim::sim::{simulate, simulate_with_hook, SimInput};
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

fn scenario(nodes: Vec<i64>, jobs: Vec<JobGen>, vcjob: bool, seed: u64) -> SimInput<'static> {
    let jobs: Vec<TraceJob> = jobs
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
        jobs: jobs.into(),
        params: EngineParams {
            vcjob_mode: vcjob,
            ..Default::default()
        },
        seed,
        horizon_ms: Some(3_600_000),
    }
}

/// No node over-allocated; a live gang holds 0 or ≥ minMember bound/running pods.
fn check_snapshot(s: &Snapshot) -> Result<(), String> {
    for n in &s.nodes {
        if !n.used.less_equal(&n.allocatable, DefaultValue::Zero) {
            return Err(format!("node {} over-allocated", n.name));
        }
    }
    for (_, j) in s.jobs.iter().filter(|(_, j)| j.live) {
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
            prop_assert!(stages_in_order(j), "{:?}", j);
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

const EVICT_CONF: &str = r#"actions: "enqueue, allocate, backfill, preempt, reclaim"
tiers:
- plugins:
  - name: priority
  - name: gang
  - name: conformance
- plugins:
  - name: overcommit
  - name: drf
  - name: predicates
  - name: proportion
  - name: nodeorder
  - name: binpack
"#;

/// (submit s, duration s, replicas, gang?, cpu, queue, high priority?, restart-job?)
type EvictJobGen = (u64, u64, u32, bool, i64, usize, bool, bool);

fn evict_scenario(
    nodes: Vec<i64>,
    jobs: Vec<EvictJobGen>,
    vcjob: bool,
    seed: u64,
    max_retry: u32,
) -> SimInput<'static> {
    let jobs = jobs
        .into_iter()
        .enumerate()
        .map(|(i, (s, d, r, gang, cpu, q, high, restart))| TraceJob {
            id: format!("j{i}"),
            submit_ms: s * 1000,
            duration_ms: d * 1000,
            replicas: r,
            min_member: if gang { r } else { 1 },
            requests: Resources::cpu_mem(cpu * 1000, cpu << 30),
            queue: format!("q{q}"),
            priority_class: Some(if high { "high" } else { "low" }.into()),
            priority: 0,
            class: if restart { "restart" } else { "recreate" }.into(),
        })
        .collect();
    let mut params = EngineParams {
        vcjob_mode: vcjob,
        eviction_grace_ms: 5_000,
        ..Default::default()
    };
    params
        .on_evict
        .classes
        .insert("restart".into(), OnEvict::RestartJob { max_retry });
    SimInput {
        nodes: nodes
            .into_iter()
            .enumerate()
            .map(|(i, c)| node(i, c))
            .collect(),
        queues: vec![QueueSpec::new("q0", 1), QueueSpec::new("q1", 2)],
        priority_classes: [("low", 10), ("high", 1000)]
            .into_iter()
            .map(|(n, v)| PriorityClassSpec {
                name: n.into(),
                value: v,
                global_default: false,
                preemption_never: false,
            })
            .collect(),
        conf: parse_scheduler_conf(EVICT_CONF).unwrap(),
        jobs,
        params,
        seed,
        horizon_ms: Some(3_600_000),
    }
}

/// No node over-allocated (Releasing pods count as used); a live PodGroup in phase Running has
/// at least minMember scheduled pods (Releasing pods with a node count, as in Volcano).
fn check_evict_snapshot(s: &Snapshot) -> Result<(), String> {
    for n in &s.nodes {
        if !n.used.less_equal(&n.allocatable, DefaultValue::Zero) {
            return Err(format!("node {} over-allocated", n.name));
        }
    }
    for j in s
        .jobs
        .iter()
        .map(|(_, j)| j)
        .filter(|j| j.live && j.phase == PodGroupPhase::Running)
    {
        let scheduled = j
            .tasks
            .iter()
            .map(|&t| s.task(t))
            .filter(|t| {
                t.status.is_scheduled() || (t.status == TaskStatus::Releasing && t.node.is_some())
            })
            .count() as u32;
        if scheduled < j.min_available {
            return Err(format!(
                "job {} Running with {scheduled} < minMember {} scheduled pods",
                j.uid, j.min_available
            ));
        }
    }
    Ok(())
}

type EvictScenario = (Vec<i64>, Vec<EvictJobGen>, bool, u64, u32);

fn arb_evict() -> impl Strategy<Value = EvictScenario> {
    (
        prop::collection::vec(prop::sample::select(vec![2i64, 4, 8]), 1..3),
        prop::collection::vec(
            (
                0u64..120,
                10u64..300,
                1u32..4,
                any::<bool>(),
                1i64..4,
                0usize..2,
                any::<bool>(),
                prop::bool::weighted(0.7),
            ),
            2..12,
        ),
        any::<bool>(),
        any::<u64>(),
        1u32..4,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn restart_job_accounts_for_every_job(
        (nodes, jobs, vcjob, seed, max_retry) in arb_evict()
    ) {
        let inp = evict_scenario(nodes, jobs, vcjob, seed, max_retry);
        let mut err = None;
        let o = simulate_with_hook(&inp, &mut |s, t| {
            if err.is_none() {
                if let Err(e) = check_evict_snapshot(s) {
                    err = Some(format!("t={t}: {e}"));
                }
            }
        });
        prop_assert!(err.is_none(), "{:?}", err);
        prop_assert_eq!(o.jobs.len(), inp.jobs.len());
        for (j, tj) in o.jobs.iter().zip(inp.jobs.iter()) {
            // Each job is completed, failed, or still pending/running: never two, never lost.
            prop_assert!(!(j.finish_ms.is_set() && j.failed_ms.is_set()), "{:?}", j);
            prop_assert!(stages_in_order(j), "{:?}", j);
            // Every restart was caused by an eviction of the job; kills only come with one.
            prop_assert!(j.restarts <= j.evictions, "{:?}", j);
            prop_assert!(j.restart_kills == 0 || j.restarts > 0, "{:?}", j);
            if tj.class == "restart" {
                prop_assert!(j.restarts <= max_retry);
                prop_assert_eq!(j.failed_ms.is_set(), j.restarts == max_retry);
            } else {
                prop_assert_eq!((j.restarts, j.restart_kills), (0, 0));
                prop_assert!(j.failed_ms.get().is_none());
            }
        }
        let kill_rows = o.evictions.iter().filter(|e| e.action == "restart-job").count();
        prop_assert_eq!(kill_rows as u64, o.counters.restart_kills);
        prop_assert_eq!(
            o.jobs.iter().map(|j| j.restart_kills as u64).sum::<u64>(),
            o.counters.restart_kills
        );
        prop_assert_eq!(
            o.jobs.iter().map(|j| j.evictions as u64).sum::<u64>(),
            o.counters.evictions
        );
        let m = report::metrics(&o, &ReportParams::default());
        prop_assert_eq!(m.total.jobs as usize, inp.jobs.len());
        prop_assert_eq!(
            m.total.failed,
            o.jobs.iter().filter(|j| j.failed_ms.is_set()).count() as u64
        );
        prop_assert_eq!(&o, &simulate(&inp));
    }
}

#[test]
fn random_evict_scenarios_exercise_restarts() {
    // The generator must really produce restarts, restart kills and failures at maxRetry
    // (otherwise the property above would be vacuous).
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config {
        cases: 48,
        ..Config::default()
    });
    let seen = std::cell::Cell::new((0u64, 0u64, 0u64));
    runner
        .run(&arb_evict(), |(nodes, jobs, vcjob, seed, max_retry)| {
            let o = simulate(&evict_scenario(nodes, jobs, vcjob, seed, max_retry));
            let (r, k, f) = seen.get();
            seen.set((
                r + o.jobs.iter().map(|j| j.restarts as u64).sum::<u64>(),
                k + o.counters.restart_kills,
                f + o.jobs.iter().filter(|j| j.failed_ms.is_set()).count() as u64,
            ));
            Ok(())
        })
        .unwrap();
    let (restarts, kills, failed) = seen.get();
    eprintln!("over 48 random scenarios: {restarts} restarts, {kills} kills, {failed} failed");
    assert!(restarts > 0 && kills > 0 && failed > 0, "{:?}", seen.get());
}

/// completed ⇒ gang-ready ⇒ bound ⇒ admitted.
fn stages_in_order(j: &volsim::sim::JobRecord) -> bool {
    (!j.finish_ms.is_set() || j.gang_ready_ms.is_set())
        && (!j.gang_ready_ms.is_set() || j.first_bind_ms.is_set())
        && (!j.first_bind_ms.is_set() || j.inqueue_ms.is_set())
}
