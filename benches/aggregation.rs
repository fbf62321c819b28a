//! Aggregation bench (BENCHMARKS.md "Aggregation"): per-queue / per-class wait quantiles over
//! 2 M synthetic job records — the plain-Rust path (`report::metrics`, which the sweep headline
//! uses) against polars' group-by quantiles, with the frame build timed separately.
//! Run: `cargo bench --bench aggregation`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use polars::prelude::{Column, DataFrame, QuantileMethod};
use volsim::report::{metrics, ReportParams};
use volsim::sim::{JobRecord, Outcome, Stamp};

const N: usize = 2_000_000;

fn outcome() -> Outcome {
    let queues: Vec<std::sync::Arc<str>> = (0..8).map(|i| format!("q{i}").into()).collect();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let jobs = (0..N)
        .map(|i| {
            let r = next();
            let submit = i as u64 * 50;
            let wait = r % 3_600_000;
            let ready = (r % 50 != 0).then_some(submit + wait);
            JobRecord {
                id: format!("j{i}"),
                queue: queues[(r >> 20) as usize % 8].clone(),
                class: format!("c{}", (r >> 30) % 16).into(),
                submit_ms: submit,
                inqueue_ms: Stamp::at(submit),
                first_bind_ms: Stamp::from(ready),
                gang_ready_ms: Stamp::from(ready),
                finish_ms: Stamp::from(ready.map(|t| t + 60_000)),
                evictions: (r % 97 == 0) as u32,
                attempts: 1,
                replicas: 1,
                min_member: 1,
                known_queue: true,
                restarts: 0,
                failed_ms: Stamp::NOT_YET,
                restart_kills: 0,
                domain_tier: None,
            }
        })
        .collect();
    Outcome {
        seed: 1,
        end_ms: N as u64 * 50 + 3_600_000,
        hit_horizon: false,
        queues: queues.iter().map(|q| q.to_string()).collect(),
        queue_weights: vec![1; 8],
        queue_capability_cpu_milli: vec![None; 8],
        total_cpu_milli: 1,
        total_mem_bytes: 1,
        jobs,
        after_horizon: Vec::new(),
        samples: Vec::new(),
        evictions: Vec::new(),
        starvation: Vec::new(),
        waits: Vec::new(),
        counters: Default::default(),
        decision_hash: 0,
    }
}

fn frame(o: &Outcome) -> DataFrame {
    let q: Vec<&str> = o.jobs.iter().map(|j| &*j.queue).collect();
    let c: Vec<&str> = o.jobs.iter().map(|j| &*j.class).collect();
    let w: Vec<Option<u64>> = o.jobs.iter().map(|j| j.wait_ms()).collect();
    DataFrame::new(
        o.jobs.len(),
        vec![
            Column::new("queue".into(), q),
            Column::new("class".into(), c),
            Column::new("wait".into(), w),
        ],
    )
    .unwrap()
}

#[allow(deprecated)] // eager group-by aggregations: the `lazy` feature drags in an HTTP/cloud stack
fn polars_quantiles(df: &DataFrame) -> Vec<DataFrame> {
    let mut out = Vec::new();
    for key in ["queue", "class"] {
        let g = df.group_by([key]).unwrap();
        let sel = g.select(["wait"]);
        for q in [0.5, 0.95, 0.99] {
            out.push(sel.quantile(q, QuantileMethod::Nearest).unwrap());
        }
        out.push(sel.max().unwrap());
    }
    out
}

/// One pass over the records: dense group index per queue and class, then sort + nearest rank.
fn single_pass(o: &Outcome) -> Vec<[Option<u64>; 4]> {
    use std::collections::HashMap;
    let mut ix: HashMap<&str, usize> = HashMap::new();
    let mut groups: Vec<Vec<u64>> = Vec::new();
    for j in &o.jobs {
        let Some(w) = j.wait_ms() else { continue };
        for key in [&*j.queue, &*j.class] {
            let n = groups.len();
            let g = *ix.entry(key).or_insert(n);
            if g == n {
                groups.push(Vec::new());
            }
            groups[g].push(w);
        }
    }
    groups
        .iter_mut()
        .map(|v| {
            v.sort_unstable();
            let q = |p: u32| volsim::report::nearest_rank(v, p);
            [q(50), q(95), q(99), v.last().copied()]
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let o = outcome();
    let p = ReportParams::default();
    let mut g = c.benchmark_group("aggregation_2M");
    g.sample_size(10);
    g.bench_function("plain_rust_report_metrics", |b| {
        b.iter(|| black_box(metrics(black_box(&o), &p)))
    });
    g.bench_function("plain_rust_single_pass_quantiles", |b| {
        b.iter(|| black_box(single_pass(black_box(&o))))
    });
    g.bench_function("polars_build_frame", |b| {
        b.iter(|| black_box(frame(black_box(&o))))
    });
    let df = frame(&o);
    g.bench_function("polars_group_by_quantiles", |b| {
        b.iter(|| black_box(polars_quantiles(black_box(&df))))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
