//! Headline metrics of one run: the flat `group.metric → f64` row that sweeps tabulate,
//! capacity searches bisect on and baselines pin. Plain-Rust group-by + sort (the faster of the
//! two aggregations measured in `benches/aggregation.rs`, see BENCHMARKS.md "Aggregation").
//!
//! Depends on `sim` output types and `scenario` (SLOs). Definitions:
//! - wait = gang ready − submit; a job that never became ready counts with end − submit
//!   (censored, so an SLO cannot pass because jobs never started);
//! - quantiles are nearest-rank over the sorted waits (`⌈q·n⌉`-th smallest), in seconds;
//! - starved = wait > the scenario's starvation threshold;
//! - `cpu_util` = time-mean of allocated cpu / cluster cpu over the queue samples;
//!   `cpu_vs_deserved` = time-mean allocated / time-mean deserved (proportion's water-fill).
//!
//! Groups: `cluster`, then every queue with jobs, then every workload class (a class named like
//! a queue is written `<name>[class]`). Column order is canonical (see `MetricKey`), so rows
//! from different runs, shards or thread counts line up.

use std::cmp::Ordering;
use std::collections::HashMap;

use crate::scenario::{Slo, SloMetric};
use crate::sim::Outcome;

/// Per-group metric names, in column order.
pub const GROUP_METRICS: [&str; 12] = [
    "jobs",
    "completed",
    "unstarted",
    "starved",
    "evictions",
    "p50_wait_s",
    "p95_wait_s",
    "p99_wait_s",
    "max_wait_s",
    "mean_wait_s",
    "cpu_util",
    "cpu_vs_deserved",
];

/// Cluster-wide metric names, in column order.
pub const CLUSTER_METRICS: [&str; 8] = [
    "jobs",
    "completed",
    "unstarted",
    "starved",
    "evictions",
    "cpu_util",
    "mem_util",
    "end_s",
];

/// Orders columns: cluster first, then queues, then classes, each by name, then metric order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MetricKey {
    /// 0 cluster, 1 queue, 2 class.
    pub kind: u8,
    pub group: String,
    /// Index into `CLUSTER_METRICS` or `GROUP_METRICS`.
    pub metric: u8,
}

impl MetricKey {
    pub fn name(&self) -> String {
        let m = if self.kind == 0 {
            CLUSTER_METRICS[self.metric as usize]
        } else {
            GROUP_METRICS[self.metric as usize]
        };
        format!("{}.{m}", self.group)
    }
}

/// One run's headline metrics, sorted by key.
#[derive(Debug, Clone, PartialEq)]
pub struct Headline {
    pub values: Vec<(MetricKey, f64)>,
    pub decision_hash: u64,
    pub seed: u64,
}

impl Headline {
    /// Looks a metric up by column name (`interactive.p95_wait_s`).
    pub fn get(&self, name: &str) -> Option<f64> {
        self.values
            .iter()
            .find(|(k, _)| k.name() == name)
            .map(|(_, v)| *v)
    }
    /// `(name, value)` pairs in column order.
    pub fn named(&self) -> Vec<(String, f64)> {
        self.values.iter().map(|(k, v)| (k.name(), *v)).collect()
    }
}

#[derive(Default)]
struct Acc {
    waits: Vec<u64>,
    jobs: u64,
    completed: u64,
    unstarted: u64,
    starved: u64,
    evictions: u64,
}

impl Acc {
    fn push(&mut self, wait: u64, started: bool, done: bool, starved: bool, ev: u32) {
        self.waits.push(wait);
        self.jobs += 1;
        self.completed += done as u64;
        self.unstarted += (!started) as u64;
        self.starved += starved as u64;
        self.evictions += ev as u64;
    }
}

/// Nearest-rank quantile of sorted `v` (ms → s); NaN when empty.
pub fn quantile_s(v: &[u64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = (q * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1] as f64 / 1000.0
}

/// Computes the headline metrics of `o`.
pub fn headline(o: &Outcome, starvation_ms: u64) -> Headline {
    let nq = o.queues.len();
    let mut queues: Vec<Acc> = (0..nq).map(|_| Acc::default()).collect();
    let qix: HashMap<&str, usize> = o
        .queues
        .iter()
        .enumerate()
        .map(|(i, q)| (q.as_str(), i))
        .collect();
    let mut class_ix: HashMap<&str, usize> = HashMap::new();
    let mut classes: Vec<(&str, Acc)> = Vec::new();
    let mut all = Acc::default();
    for j in &o.jobs {
        let started = j.gang_ready_ms.is_some();
        let wait = j
            .wait_ms()
            .unwrap_or_else(|| o.end_ms.saturating_sub(j.submit_ms));
        let starved = wait > starvation_ms;
        let done = j.finish_ms.is_some();
        all.push(wait, started, done, starved, j.evictions);
        if let Some(&q) = qix.get(j.queue.as_str()) {
            queues[q].push(wait, started, done, starved, j.evictions);
        }
        if !j.class.is_empty() {
            let n = classes.len();
            let c = *class_ix.entry(j.class.as_str()).or_insert(n);
            if c == n {
                classes.push((j.class.as_str(), Acc::default()));
            }
            classes[c].1.push(wait, started, done, starved, j.evictions);
        }
    }
    // Time means over samples, per queue.
    let mut alloc = vec![0f64; nq];
    let mut deserved = vec![0f64; nq];
    let mut mem = 0f64;
    let mut times = std::collections::BTreeSet::new();
    for s in &o.samples {
        let q = s.queue as usize;
        alloc[q] += s.allocated_cpu_milli as f64;
        deserved[q] += s.deserved_cpu_milli;
        mem += s.allocated_mem_bytes as f64;
        times.insert(s.time_ms);
    }
    let ns = times.len().max(1) as f64;
    let total_cpu = o.total_cpu_milli.max(1) as f64;
    let mut values = Vec::new();
    let mut group = |kind: u8, name: &str, acc: &mut Acc, util: f64, vs: f64| {
        acc.waits.sort_unstable();
        let w = &acc.waits;
        let mean = if w.is_empty() {
            f64::NAN
        } else {
            w.iter().sum::<u64>() as f64 / w.len() as f64 / 1000.0
        };
        let vals = [
            acc.jobs as f64,
            acc.completed as f64,
            acc.unstarted as f64,
            acc.starved as f64,
            acc.evictions as f64,
            quantile_s(w, 0.50),
            quantile_s(w, 0.95),
            quantile_s(w, 0.99),
            quantile_s(w, 1.0),
            mean,
            util,
            vs,
        ];
        for (m, v) in vals.into_iter().enumerate() {
            values.push((
                MetricKey {
                    kind,
                    group: name.to_string(),
                    metric: m as u8,
                },
                v,
            ));
        }
    };
    for (q, acc) in queues.iter_mut().enumerate() {
        if acc.jobs == 0 {
            continue;
        }
        let vs = if deserved[q] > 0.0 {
            alloc[q] / deserved[q]
        } else {
            f64::NAN
        };
        group(1, &o.queues[q], acc, alloc[q] / ns / total_cpu, vs);
    }
    for (name, acc) in classes.iter_mut() {
        let label = if qix.contains_key(name) {
            format!("{name}[class]")
        } else {
            name.to_string()
        };
        group(2, &label, acc, f64::NAN, f64::NAN);
    }
    let cl = [
        all.jobs as f64,
        all.completed as f64,
        all.unstarted as f64,
        all.starved as f64,
        o.evictions.len() as f64,
        alloc.iter().sum::<f64>() / ns / total_cpu,
        mem / ns / o.total_mem_bytes.max(1) as f64,
        o.end_ms as f64 / 1000.0,
    ];
    for (m, v) in cl.into_iter().enumerate() {
        values.push((
            MetricKey {
                kind: 0,
                group: "cluster".into(),
                metric: m as u8,
            },
            v,
        ));
    }
    values.sort_by(|a, b| a.0.cmp(&b.0));
    Headline {
        values,
        decision_hash: o.decision_hash,
        seed: o.seed,
    }
}

/// The column an SLO reads.
pub fn slo_column(slo: &Slo) -> String {
    match slo.metric {
        SloMetric::Starved => format!("{}.starved", slo.target),
        m => format!("{}.{}_s", slo.target, m.as_str()),
    }
}

/// An SLO's limit in the column's unit (seconds for waits, a count for `starved`).
pub fn slo_limit(slo: &Slo) -> f64 {
    if slo.metric.is_duration() {
        slo.limit as f64 / 1000.0
    } else {
        slo.limit as f64
    }
}

/// One SLO evaluated on one run.
#[derive(Debug, Clone, PartialEq)]
pub struct SloResult {
    pub text: String,
    /// `None` when the run has no such metric (unknown queue/class).
    pub value: Option<f64>,
    pub limit: f64,
    pub met: bool,
}

/// Evaluates every SLO; a missing metric or NaN never meets its SLO.
pub fn eval_slos(h: &Headline, slos: &[Slo]) -> Vec<SloResult> {
    slos.iter()
        .map(|s| {
            let value = h.get(&slo_column(s)).filter(|v| !v.is_nan());
            let limit = slo_limit(s);
            let met = value.is_some_and(|v| v.partial_cmp(&limit) != Some(Ordering::Greater));
            SloResult {
                text: s.text.clone(),
                value,
                limit,
                met,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<u64> = (1..=100).map(|x| x * 1000).collect();
        assert_eq!(quantile_s(&v, 0.95), 95.0);
        assert_eq!(quantile_s(&v, 0.5), 50.0);
        assert_eq!(quantile_s(&v, 1.0), 100.0);
        assert_eq!(quantile_s(&[7000], 0.99), 7.0);
        assert!(quantile_s(&[], 0.5).is_nan());
    }
}
