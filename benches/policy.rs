//! Policy and engine benches (BENCHMARKS.md "Criterion benches"):
//! - `allocate_cycle/P×N`: one scheduling cycle (Volcano's Helm default conf) that places P
//!   pending single-pod jobs, already Inqueue, on N idle nodes of 32 cores — the per-placement
//!   cost (predicates, scoring, node sampling);
//! - `event_loop/backlog-10k`: the whole engine on the shared peers-synth-v1 backlog trace (10 000
//!   jobs, 100 nodes), generated in-process (`workload::peers_synth`, the same bytes as
//!   `volsim trace gen`).
//!
//! Run: `cargo bench --bench policy` (add `-- --quick` for a short run).

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use std::hint::black_box;
use volsim::engine::{CycleRng, Engine, NoRecorder, TraceSource};
use volsim::model::{EngineParams, NodeSpec, QueueSpec, ResourceName, Resources};
use volsim::policy::{Scheduler, SchedulerConf};
use volsim::sim::{simulate, SimInput};
use volsim::workload::peers_synth::{generate, PeersScenario};
use volsim::workload::TraceJob;

fn nodes(n: usize) -> Vec<NodeSpec> {
    (0..n)
        .map(|i| {
            let mut a = Resources::cpu_mem(32_000, 128 << 30);
            a.set(ResourceName::PODS, 110);
            NodeSpec {
                name: format!("node-{i}"),
                allocatable: a,
                labels: Default::default(),
                taints: vec![],
                unschedulable: false,
            }
        })
        .collect()
}

fn queues() -> Vec<QueueSpec> {
    (0..4)
        .map(|i| QueueSpec::new(&format!("q{i}"), i + 1))
        .collect()
}

/// An engine whose cluster holds `p` single-pod jobs, Inqueue with their pods created, on `n`
/// idle nodes: the state right before the allocate action of the next cycle.
fn pending(p: usize, n: usize) -> Engine {
    let conf = Scheduler::new(&SchedulerConf::helm_default()).unwrap();
    let params = EngineParams {
        vcjob_mode: false,
        ..Default::default()
    };
    let mut e = Engine::new(&nodes(n), &queues(), &[], conf, params, 1);
    let jobs: Vec<TraceJob> = (0..p)
        .map(|i| TraceJob {
            id: format!("j{i}"),
            submit_ms: 0,
            duration_ms: 600_000,
            replicas: 1,
            min_member: 1,
            requests: Resources::cpu_mem(1000 + (i as i64 % 4) * 1000, 2 << 30),
            queue: format!("q{}", i % 4),
            priority_class: None,
            priority: 0,
            class: String::new(),
        })
        .collect();
    // Arrive at 0 and stop before the first cycle.
    e.advance(
        1,
        &mut TraceSource::new(&jobs),
        &mut NoRecorder,
        &mut |_| false,
    );
    e
}

fn allocate_cycle(c: &mut Criterion) {
    let mut g = c.benchmark_group("allocate_cycle");
    g.sample_size(20);
    // Built once, as in a run; each iteration schedules a fresh copy of the same snapshot (the
    // scheduler's caches see a snapshot they did not stamp and start empty: a cold cycle).
    let mut sched = Scheduler::new(&SchedulerConf::helm_default()).unwrap();
    for (p, n) in [(100, 100), (1000, 100), (1000, 1000)] {
        let base = pending(p, n);
        let mut check = base.cluster.snap.clone();
        let out = sched.cycle(&mut check, 1000, &mut CycleRng::new(1, 1));
        let binds = out
            .decisions
            .iter()
            .filter(|d| matches!(d, volsim::policy::Decision::Bind { .. }))
            .count();
        assert_eq!(binds, p, "every pending pod is placed in one cycle");
        g.bench_with_input(
            BenchmarkId::from_parameter(format!("{p}x{n}")),
            &base,
            |b, e| {
                b.iter_batched(
                    || e.cluster.snap.clone(),
                    |mut snap| black_box(sched.cycle(&mut snap, 1000, &mut CycleRng::new(1, 1))),
                    BatchSize::LargeInput,
                )
            },
        );
    }
    g.finish();
}

fn event_loop(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_loop");
    g.sample_size(10);
    let jobs = generate(PeersScenario::Backlog, 10_000, 100, 42);
    let input = SimInput {
        nodes: nodes(100),
        queues: queues(),
        priority_classes: vec![],
        conf: SchedulerConf::helm_default(),
        jobs,
        params: EngineParams::default(),
        seed: 42,
        horizon_ms: None,
    };
    let o = simulate(&input);
    assert_eq!(
        o.jobs.iter().filter(|j| j.finish_ms.is_some()).count(),
        10_000
    );
    g.bench_function("backlog-10k", |b| b.iter(|| black_box(simulate(&input))));
    g.finish();
}

criterion_group!(benches, allocate_cycle, event_loop);
criterion_main!(benches);
