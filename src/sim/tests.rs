//! Hand-made scenarios with exact expected times, skipping equivalence and determinism.

use super::*;
use crate::model::{ResourceName, Resources};

pub(crate) fn node(name: &str, cpu: i64) -> NodeSpec {
    let mut a = Resources::cpu_mem(cpu * 1000, cpu << 31);
    a.set(ResourceName::PODS, 110);
    NodeSpec {
        name: name.into(),
        allocatable: a,
        labels: Default::default(),
        taints: vec![],
        unschedulable: false,
    }
}

pub(crate) fn job(id: &str, q: &str, submit: u64, reps: u32, min: u32, cpu: i64) -> TraceJob {
    TraceJob {
        id: id.into(),
        submit_ms: submit,
        duration_ms: 10_000,
        replicas: reps,
        min_member: min,
        requests: Resources::cpu_mem(cpu * 1000, cpu << 30),
        queue: q.into(),
        priority_class: None,
        priority: 0,
        class: "c".into(),
    }
}

pub(crate) fn input(jobs: Vec<TraceJob>, vcjob: bool) -> SimInput<'static> {
    SimInput {
        nodes: vec![node("n0", 4), node("n1", 4)],
        queues: vec![QueueSpec::new("q1", 1), QueueSpec::new("q2", 1)],
        priority_classes: vec![],
        conf: SchedulerConf::helm_default(),
        jobs: jobs.into(),
        params: EngineParams {
            vcjob_mode: vcjob,
            ..Default::default()
        },
        seed: 0,
        horizon_ms: None,
    }
}

fn waits(o: &Outcome) -> Vec<Option<u64>> {
    o.jobs.iter().map(|j| j.wait_ms()).collect()
}

#[test]
fn single_job_plain_vs_vcjob() {
    let o = simulate(&input(vec![job("a", "q1", 0, 2, 2, 2)], false));
    assert_eq!(waits(&o), [Some(100)]);
    assert_eq!(o.jobs[0].inqueue_ms.get(), Some(0));
    assert_eq!(o.jobs[0].finish_ms.get(), Some(10_100));
    let o = simulate(&input(vec![job("a", "q1", 0, 2, 2, 2)], true));
    // cycle 0 enqueues, pods exist at 100 ms, cycle 1 binds, Running 100 ms later.
    assert_eq!(waits(&o), [Some(1100)]);
    assert_eq!(o.jobs[0].first_bind_ms.get(), Some(1000));
    assert_eq!(o.jobs[0].finish_ms.get(), Some(11_100));
    assert_eq!(o.jobs[0].attempts, 2);
}

#[test]
fn arrival_between_cycles_waits_for_next_cycle() {
    let o = simulate(&input(vec![job("a", "q1", 1500, 1, 1, 1)], false));
    // next cycle at 2000, Running at 2100.
    assert_eq!(waits(&o), [Some(600)]);
}

#[test]
fn gang_that_cannot_fit_never_runs() {
    // 3 × 3 cpu on two 4-cpu nodes: only two pods fit, the gang never becomes ready.
    let o = simulate(&input(vec![job("big", "q1", 0, 3, 3, 3)], false));
    assert_eq!(o.jobs[0].gang_ready_ms.get(), None);
    assert_eq!(o.jobs[0].first_bind_ms.get(), None);
    assert_eq!(o.jobs[0].finish_ms.get(), None);
    assert!(!o.hit_horizon);
}

#[test]
fn second_job_waits_for_capacity() {
    let jobs = vec![job("a", "q1", 0, 2, 2, 4), job("b", "q1", 0, 1, 1, 4)];
    let o = simulate(&input(jobs, false));
    assert_eq!(o.jobs[0].wait_ms(), Some(100));
    // a runs 100..10_100; b binds in the first cycle after that (11 s), Running at 11.1 s.
    assert_eq!(o.jobs[1].first_bind_ms.get(), Some(11_000));
    assert_eq!(o.jobs[1].wait_ms(), Some(11_100));
    assert_eq!(o.jobs[1].finish_ms.get(), Some(21_100));
    // b is enqueued only once a's resources are free (overcommit 1.2 × 8 cpu < 8 + 4).
    assert_eq!(o.jobs[1].inqueue_ms.get(), Some(11_000));
    assert!(o.counters.cycles_skipped > 0);
}

#[test]
fn proportion_caps_a_gang_at_its_queue_share() {
    // Two queues with jobs, weight 1 each: q1 deserves 4 of 8 cpu, so a's 2 × 4 cpu gang is
    // never allocatable, and b (q2) is never enqueued (a's 8 cpu inqueue + 4 > 9.6 cpu).
    // Volcano deadlocks the same way; the run ends when nothing can change.
    let jobs = vec![job("a", "q1", 0, 2, 2, 4), job("b", "q2", 0, 1, 1, 4)];
    let o = simulate(&input(jobs, false));
    assert_eq!(o.jobs[0].inqueue_ms.get(), Some(0));
    assert_eq!(o.jobs[0].gang_ready_ms.get(), None);
    assert_eq!(o.jobs[1].inqueue_ms.get(), None);
    assert!(!o.hit_horizon);
    assert_eq!(o.counters.binds, 0);
    // Both queues stay starved below deserved from the first cycle: censored episodes.
    let open: Vec<(u32, u64, Option<u64>)> = o
        .starvation
        .iter()
        .map(|e| (e.queue, e.start_ms, e.end_ms))
        .collect();
    assert_eq!(open, [(0, 0, None), (1, 0, None)]);
}

#[test]
fn reclaim_closes_a_starvation_episode_after_the_grace() {
    // q1 fills both nodes at 0; q2's gang of 2 × 1 cpu arrives at 10 s. Its deserved (2 cpu) is
    // free only after reclaim's two victims leave (30 s grace): starved after the cycles
    // 10 s … 39 s, its pods bound by the cycle at 40 s.
    let mut big = job("big", "q1", 0, 8, 1, 1);
    big.duration_ms = 3_600_000;
    let mut inp = input(vec![big, job("s", "q2", 10_000, 2, 2, 1)], false);
    inp.conf = crate::policy::parse_scheduler_conf(
        "actions: \"enqueue, allocate, backfill, reclaim\"\ntiers:\n- plugins:\n  - name: priority\n  - name: gang\n- plugins:\n  - name: drf\n  - name: predicates\n  - name: proportion\n",
    )
    .unwrap();
    inp.horizon_ms = Some(120_000);
    let o = simulate(&inp);
    assert_eq!(o.counters.evictions, 2);
    assert_eq!(o.jobs[1].first_bind_ms.get(), Some(40_000));
    let eps: Vec<(u32, u64, Option<u64>)> = o
        .starvation
        .iter()
        .map(|e| (e.queue, e.start_ms, e.end_ms))
        .collect();
    assert_eq!(eps, [(1, 10_000, Some(40_000))]);
}

#[test]
fn horizon_stops_with_open_records() {
    let mut inp = input(
        vec![job("a", "q1", 0, 2, 2, 4), job("b", "q1", 0, 1, 1, 4)],
        false,
    );
    inp.horizon_ms = Some(5000);
    let o = simulate(&inp);
    assert!(o.hit_horizon);
    assert_eq!(o.end_ms, 5000);
    assert_eq!(o.jobs[0].finish_ms.get(), None);
    assert_eq!(o.jobs[1].gang_ready_ms.get(), None);
    // samples at 0 only (period 10 s)
    assert_eq!(o.samples.len(), 2);
}

#[test]
fn unknown_queue_job_is_recorded_not_lost() {
    let o = simulate(&input(vec![job("x", "nope", 0, 1, 1, 1)], false));
    assert_eq!(o.jobs.len(), 1);
    assert!(!o.jobs[0].known_queue);
    assert_eq!(o.jobs[0].gang_ready_ms.get(), None);
}

fn busy_input() -> SimInput<'static> {
    let mut jobs = Vec::new();
    for i in 0..40u64 {
        let q = if i % 2 == 0 { "q1" } else { "q2" };
        let reps = 1 + (i % 3) as u32;
        jobs.push(job(
            &format!("j{i}"),
            q,
            i * 700,
            reps,
            reps,
            1 + (i % 2) as i64,
        ));
    }
    input(jobs, true)
}

#[test]
fn same_seed_same_outcome() {
    let a = simulate(&busy_input());
    let b = simulate(&busy_input());
    assert_eq!(a, b);
    assert!(a.jobs.iter().all(|j| j.finish_ms.is_set()));
}

#[test]
fn skipping_is_exact() {
    // With `sla` configured nothing is skipped; adding an sla entry with a huge waiting time
    // does not change decisions, so the skip-free run must hash the same.
    let a = simulate(&busy_input());
    let mut inp = busy_input();
    use crate::policy::conf::{PluginArgs, PluginConf, SlaArgs};
    let sla = PluginConf::with_args(PluginArgs::Sla(SlaArgs {
        waiting_ms: Some(1000 * 3_600_000),
    }));
    inp.conf.tiers[1].push(sla);
    let b = simulate(&inp);
    assert_eq!(b.counters.cycles_skipped, 0);
    assert!(a.counters.cycles_skipped > 0);
    assert_eq!(a.decision_hash, b.decision_hash);
    assert_eq!(a.jobs, b.jobs);
}

#[test]
fn rayon_pools_do_not_change_results() {
    let base = simulate(&busy_input());
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let outs: Vec<Outcome> = pool.install(|| {
            use rayon::prelude::*;
            (0..4)
                .into_par_iter()
                .map(|_| simulate(&busy_input()))
                .collect()
        });
        for o in outs {
            assert_eq!(o, base);
        }
    }
}

/// A long stream of short jobs: the snapshot holds the slots of live jobs only (a finished
/// job's and its pods' are released), and the outcome still has every job's record.
#[test]
fn finished_jobs_release_their_snapshot_slots() {
    let jobs: Vec<TraceJob> = (0..3000u64)
        .map(|i| {
            let mut j = job(&format!("j{i}"), "q1", i * 4_000, 2, 2, 1);
            j.duration_ms = 3_000;
            j
        })
        .collect();
    let mut peak = (0, 0);
    let mut seen = 0;
    let o = simulate_with_hook(&input(jobs, true), &mut |snap, _| {
        peak.0 = peak.0.max(snap.jobs.held());
        peak.1 = peak.1.max(snap.tasks.held());
        seen = snap.jobs.len();
    });
    assert_eq!(seen, 3000);
    assert!(o.jobs.iter().all(|j| j.finish_ms.is_set()));
    assert!(peak.0 <= 8 && peak.1 <= 16, "held slots at most {peak:?}");
}
