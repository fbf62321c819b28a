//! Headline metrics of one run: the flat `group.metric → f64` row that sweeps tabulate,
//! capacity searches bisect on and baselines pin. A flattening of the run's `Metrics` (so
//! `volsim run`'s summary and a sweep row agree), plus cluster-wide columns.
//!
//! Depends on `report` metrics and `sim` output types. Definitions are report's: waits are gang
//! ready − submit over the jobs that became ready, nearest-rank percentiles (and the mean), in
//! seconds; starved = waited longer than the scenario's starvation threshold or never ready;
//! `share` / `deserved` = time-mean allocated / deserved cpu as a fraction of the cluster;
//! `<workflow type>.p50/p95/p99_e2e_s` = simulated end-to-end latency of replayed workflows;
//! `wasted_core_s`, `gang_evictions`, `gangs_broken` = `evictions::GangEvictions`;
//! `mean_tier` = mean tier of the HyperNode the group's gangs landed in (only with HyperNodes);
//! `time_to_reclaim_p95_s` / `time_to_reclaim_max_s` (queues) = `reclaim::QueueReclaim`'s p95
//! over closed episodes / the longest episode, the one still open at the end counted at its age.
//!
//! Groups: `cluster` (all jobs), then every queue with jobs, then every workload class (a class
//! named like a queue is written `<name>[class]`), then every replayed workflow type. Column
//! order is canonical (see `MetricKey`), so rows from different runs, shards or thread counts
//! line up.

use super::evictions::{gang_evictions, GangEvictions};
use super::reclaim::{time_to_reclaim, QueueReclaim};
use super::workflows::WorkflowMetrics;
use super::{GroupMetrics, Metrics};
use crate::sim::Outcome;

/// Per-group metric names, in column order.
pub const GROUP_METRICS: [&str; 13] = [
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
    "mean_wait_s",
];

/// Per-workflow-type metric names (group kind 3).
pub const WORKFLOW_METRICS: [&str; 4] = ["executions", "p50_e2e_s", "p95_e2e_s", "p99_e2e_s"];

/// Cluster-only metric names, after the group metrics.
/// `capacity_cpu`: the cluster's allocatable cpu in cores (what a sweep calls the cost).
pub const CLUSTER_EXTRA: [&str; 4] = ["cpu_util", "end_s", "hit_horizon", "capacity_cpu"];

/// Metric names of every group after those (index `GROUP_METRICS.len() + CLUSTER_EXTRA.len()`
/// on): gang evictions and the work lost, the mean landed tier (pushed only when some job of the
/// run landed in a HyperNode), and the queue-only time-to-reclaim columns.
pub const GROUP_EXTRA: [&str; 6] = [
    "wasted_core_s",
    "gang_evictions",
    "gangs_broken",
    "mean_tier",
    "time_to_reclaim_p95_s",
    "time_to_reclaim_max_s",
];

/// Orders columns: cluster first, then queues, then classes, each by name, then metric order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MetricKey {
    /// 0 cluster, 1 queue, 2 class, 3 workflow type.
    pub kind: u8,
    pub group: String,
    /// Index into `GROUP_METRICS`, then `CLUSTER_EXTRA`, then `GROUP_EXTRA` (kinds 0–2), or
    /// into `WORKFLOW_METRICS` (kind 3). Indices are stable (`sweep.json` stores them): new
    /// names are only ever appended.
    pub metric: u8,
}

impl MetricKey {
    pub fn name(&self) -> String {
        let i = self.metric as usize;
        let (g, c) = (GROUP_METRICS.len(), CLUSTER_EXTRA.len());
        let m = if self.kind == 3 {
            WORKFLOW_METRICS.get(i)
        } else if i < g {
            GROUP_METRICS.get(i)
        } else if i < g + c {
            CLUSTER_EXTRA.get(i - g)
        } else {
            GROUP_EXTRA.get(i - g - c)
        };
        let m = m.copied().unwrap_or("unknown");
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
        g.waits.mean.map_or(f64::NAN, |v| v / 1000.0),
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

/// Mean landed tier of a group (NaN when none of its jobs landed in a HyperNode).
fn mean_tier(g: &GroupMetrics) -> f64 {
    let n: u64 = g.domain_tiers.values().sum();
    let s: u64 = g.domain_tiers.iter().map(|(t, c)| *t as u64 * c).sum();
    if n == 0 {
        f64::NAN
    } else {
        s as f64 / n as f64
    }
}

/// Pushes the `GROUP_EXTRA` columns of one group: `tiers` says whether the run has landed
/// tiers at all, `reclaim` is the queue's time to reclaim (queues only).
fn push_extra(
    values: &mut Vec<(MetricKey, f64)>,
    (kind, name): (u8, &str),
    g: &GroupMetrics,
    ge: GangEvictions,
    tiers: bool,
    reclaim: Option<&QueueReclaim>,
) {
    let base = (GROUP_METRICS.len() + CLUSTER_EXTRA.len()) as u8;
    let mut push = |k: u8, v: f64| {
        values.push((
            MetricKey {
                kind,
                group: name.to_string(),
                metric: base + k,
            },
            v,
        ))
    };
    push(0, ge.wasted_core_s());
    push(1, ge.gang_evictions as f64);
    push(2, ge.gangs_broken as f64);
    if tiers {
        push(3, mean_tier(g));
    }
    if let Some(r) = reclaim {
        let max = r.max_ms.max(r.censored_age_ms);
        push(4, secs(r.p95_ms));
        push(5, secs(max));
    }
}

/// The headline metrics of a run: its outcome, its metrics and its workflow metrics.
pub fn headline(o: &Outcome, m: &Metrics, w: &WorkflowMetrics) -> Headline {
    let mut values = Vec::new();
    let ge = gang_evictions(o);
    let reclaim = time_to_reclaim(o);
    let tiers = !m.total.domain_tiers.is_empty();
    push_group(&mut values, 0, "cluster", &m.total);
    push_extra(
        &mut values,
        (0, "cluster"),
        &m.total,
        ge.cluster,
        tiers,
        None,
    );
    let util: f64 = m.queues.iter().filter_map(|q| q.mean_share).sum();
    let n = GROUP_METRICS.len() as u8;
    for (k, v) in [
        util,
        o.end_ms as f64 / 1000.0,
        o.hit_horizon as u8 as f64,
        o.total_cpu_milli as f64 / 1000.0,
    ]
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
        let qe = ge.queues.get(&q.name).copied().unwrap_or_default();
        let r = reclaim.iter().find(|r| r.queue == q.name);
        push_extra(&mut values, (1, &q.name), q, qe, tiers, r);
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
        let ce = ge.classes.get(&c.name).copied().unwrap_or_default();
        push_extra(&mut values, (2, &label), c, ce, tiers, None);
    }
    for t in w.workflow_types.iter().filter(|t| t.count > 0) {
        let vals = [
            t.count as f64,
            secs(t.simulated.p50),
            secs(t.simulated.p95),
            secs(t.simulated.p99),
        ];
        for (k, v) in vals.into_iter().enumerate() {
            values.push((
                MetricKey {
                    kind: 3,
                    group: t.name.clone(),
                    metric: k as u8,
                },
                v,
            ));
        }
    }
    values.sort_by(|a, b| a.0.cmp(&b.0));
    Headline {
        values,
        decision_hash: o.decision_hash,
        seed: o.seed,
    }
}
