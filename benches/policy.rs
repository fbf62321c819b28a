//! Policy and engine benches (BENCHMARKS.md "Criterion benches"):
//! - `allocate_cycle/P×N`: one scheduling cycle (Volcano's Helm default conf: enqueue, allocate,
//!   backfill) over P pending single-pod jobs (PodGroups with their pods, just arrived) on N
//!   idle nodes of 32 cores — the admission and per-placement cost (predicates, scoring, node
//!   sampling);
//! - `event_loop/backlog-10k`, `event_loop/steady-100k`, `event_loop/gang-100k`: the whole
//!   engine on the shared peers-synth-v1 traces (10 000 jobs on 100 nodes; 100 000 jobs on
//!   1 000 nodes, where Volcano's node sampling and the node classes of the placement scan
//!   matter), generated in-process (`workload::peers_synth`, the same bytes as
//!   `volsim trace gen`).
//!
//! Run: `cargo bench --bench policy` (add `-- --quick` for a short run).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;
use volsim::cluster::Cluster;
use volsim::engine::{Engine, NoRecorder, Recorder, TraceSource};
use volsim::model::{EngineParams, NodeSpec, QueueSpec, ResourceName, Resources};
use volsim::policy::{CycleOutput, Decision, Scheduler, SchedulerConf};
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

/// An engine whose cluster holds `p` single-pod jobs, just arrived with their pods (plain
/// PodGroup mode), on `n` idle nodes: the state right before the next cycle.
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
            submit_ms: 1,
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
    // Arrive at 1 ms and stop before the first cycle (at 1 s).
    e.advance(
        2,
        &mut TraceSource::new(&jobs),
        &mut NoRecorder,
        &mut |_| false,
    );
    assert_eq!(e.cluster.snap.live_jobs().count(), p);
    e
}

/// Counts the binds the engine reports.
struct Binds(usize);

impl Recorder for Binds {
    fn decided(&mut self, _c: &Cluster, out: &CycleOutput, _t: u64) {
        self.0 += out
            .decisions
            .iter()
            .filter(|d| matches!(d, Decision::Bind { .. }))
            .count();
    }
}

/// Runs exactly the next cycle (at 1 s) of a copy of `base` (the copy is part of what is timed:
/// it is small next to the cycle); returns the binds it made.
fn one_cycle(base: &Engine) -> usize {
    let mut e = base.clone();
    let mut binds = Binds(0);
    let none: [TraceJob; 0] = [];
    e.advance(1001, &mut TraceSource::new(&none), &mut binds, &mut |_| {
        false
    });
    binds.0
}

fn allocate_cycle(c: &mut Criterion) {
    let mut g = c.benchmark_group("allocate_cycle");
    g.sample_size(20);
    for (p, n) in [(100, 100), (1000, 100), (1000, 1000)] {
        let base = pending(p, n);
        let binds = one_cycle(&base);
        assert!(binds > 0, "the cycle places pods");
        eprintln!("allocate_cycle/{p}x{n}: {binds} of {p} pods placed in the measured cycle");
        g.bench_with_input(
            BenchmarkId::from_parameter(format!("{p}x{n}")),
            &base,
            |b, e| b.iter(|| black_box(one_cycle(e))),
        );
    }
    g.finish();
}

fn event_loop(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_loop");
    g.sample_size(10);
    for (name, scenario, jobs, n) in [
        ("backlog-10k", PeersScenario::Backlog, 10_000, 100),
        ("steady-100k", PeersScenario::Steady, 100_000, 1000),
        ("gang-100k", PeersScenario::Gang, 100_000, 1000),
    ] {
        let input = SimInput {
            nodes: nodes(n),
            queues: queues(),
            priority_classes: vec![],
            conf: SchedulerConf::helm_default(),
            jobs: generate(scenario, jobs, n as u32, 42).into(),
            params: EngineParams::default(),
            seed: 42,
            horizon_ms: None,
        };
        let o = simulate(&input);
        assert_eq!(
            o.jobs.iter().filter(|j| j.finish_ms.is_set()).count(),
            jobs,
            "{name}: every job finishes"
        );
        g.bench_function(name, |b| b.iter(|| black_box(simulate(&input))));
    }
    g.finish();
}

criterion_group!(benches, allocate_cycle, event_loop);
criterion_main!(benches);
