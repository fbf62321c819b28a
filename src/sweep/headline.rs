//! Headline metrics of one run: the flat `group.metric → f64` row that sweeps tabulate,
//! capacity searches bisect on and baselines pin. A flattening of `report::metrics` (so `volsim
//! run`'s summary and a sweep row agree), plus cluster-wide columns.
//!
//! Depends on `report` and `sim` output types, `scenario` (SLOs). Definitions are report's:
//! waits are gang ready − submit over the jobs that became ready, nearest-rank percentiles, in
//! seconds; starved = waited longer than the scenario's starvation threshold or never ready;
//! `share` / `deserved` = time-mean allocated / deserved cpu as a fraction of the cluster.
//!
//! Groups: `cluster` (all jobs), then every queue with jobs, then every workload class (a class
//! named like a queue is written `<name>[class]`). Column order is canonical (see `MetricKey`),
//! so rows from different runs, shards or thread counts line up.

use std::cmp::Ordering;

use crate::report::{metrics, GroupMetrics, ReportParams};
use crate::scenario::{Slo, SloMetric};
use crate::sim::Outcome;

/// Per-group metric names, in column order.
pub const GROUP_METRICS: [&str; 12] = [
    "jobs",
    "admitted",
    "completed",
    "gang_ready",
    "starved",
    "evictions",
    "p50_wait_s",
    "p95_wait_s",
    "p99_wait_s",
    "max_wait_s",
    "share",
    "deserved",
];

/// Cluster-only metric names, after the group metrics.
pub const CLUSTER_EXTRA: [&str; 3] = ["cpu_util", "end_s", "hit_horizon"];

/// Orders columns: cluster first, then queues, then classes, each by name, then metric order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MetricKey {
    /// 0 cluster, 1 queue, 2 class.
    pub kind: u8,
    pub group: String,
    /// Index into `GROUP_METRICS`, then `CLUSTER_EXTRA`.
    pub metric: u8,
}

impl MetricKey {
    pub fn name(&self) -> String {
        let i = self.metric as usize;
        let m = GROUP_METRICS
            .get(i)
            .copied()
            .unwrap_or_else(|| CLUSTER_EXTRA[i - GROUP_METRICS.len()]);
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

fn secs(x: Option<u64>) -> f64 {
    x.map_or(f64::NAN, |v| v as f64 / 1000.0)
}

fn push_group(values: &mut Vec<(MetricKey, f64)>, kind: u8, name: &str, g: &GroupMetrics) {
    let vals = [
        g.jobs as f64,
        g.admitted as f64,
        g.completed as f64,
        g.gang_ready as f64,
        g.starved as f64,
        g.evictions as f64,
        secs(g.waits.p50),
        secs(g.waits.p95),
        secs(g.waits.p99),
        secs(g.waits.max),
        g.mean_share.unwrap_or(f64::NAN),
        g.mean_deserved.unwrap_or(f64::NAN),
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
}

/// Computes the headline metrics of `o` (starvation threshold in ms).
pub fn headline(o: &Outcome, starvation_ms: u64) -> Headline {
    let m = metrics(
        o,
        &ReportParams {
            starve_threshold_ms: starvation_ms,
        },
    );
    let mut values = Vec::new();
    push_group(&mut values, 0, "cluster", &m.total);
    let util: f64 = m.queues.iter().filter_map(|q| q.mean_share).sum();
    let n = GROUP_METRICS.len() as u8;
    for (k, v) in [util, o.end_ms as f64 / 1000.0, o.hit_horizon as u8 as f64]
        .into_iter()
        .enumerate()
    {
        values.push((
            MetricKey {
                kind: 0,
                group: "cluster".into(),
                metric: n + k as u8,
            },
            v,
        ));
    }
    for q in m.queues.iter().filter(|q| q.jobs > 0) {
        push_group(&mut values, 1, &q.name, q);
    }
    for c in m
        .classes
        .iter()
        .filter(|c| c.jobs > 0 && !c.name.is_empty())
    {
        let label = if m.queues.iter().any(|q| q.name == c.name) {
            format!("{}[class]", c.name)
        } else {
            c.name.clone()
        };
        push_group(&mut values, 2, &label, c);
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
