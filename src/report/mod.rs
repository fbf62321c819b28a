//! Metrics from a simulation `Outcome`: per queue and per workload class — jobs, admitted,
//! completed, wait percentiles and mean, starved, mean allocated and deserved share of the
//! cluster, evictions, job restarts and failures (`RestartJob`) — plus the `RunReport` built
//! once per run (`run_report.rs`), the one SLO evaluator (`slo.rs`), headline columns
//! (`headline.rs`), time-to-reclaim (`reclaim.rs`), evictions (`evictions.rs`), the writers
//! (`write.rs`) and the terminal table (`table.rs`).
//!
//! May depend on `model`, the `sim` output types and `scenario::Slo`. Invariants: percentiles are
//! nearest-rank on integer ms (p-th percentile = the ⌈p/100 · n⌉-th smallest wait, n ≥ 1);
//! groups are ordered by queue index (queues) or class name (classes), so the same outcome
//! always gives the same metrics and bytes.

pub mod evictions;
mod groups;
pub mod headline;
pub mod heatmap;
pub mod html;
pub mod json;
pub mod reasons;
pub mod reclaim;
pub mod run_html;
pub mod run_html_gangs;
pub mod run_report;
pub mod run_verdict;
pub mod slo;
pub mod svg;
pub mod table;
pub mod workflows;
pub mod write;

use std::collections::{BTreeMap, HashMap};

use crate::sim::Outcome;
pub use evictions::{
    gang_evictions, queue_evictions, render_evictions, GangEvictions, GangEvictionsByGroup,
    QueueEvictions, PING_PONG,
};
pub use headline::{headline, Headline, MetricKey};
pub use reasons::{render_wait_reasons, wait_reasons, ReasonRow};
pub use reclaim::{render_time_to_reclaim, time_to_reclaim, QueueReclaim};
pub use run_report::RunReport;
pub use slo::{SloScope, SloVerdict};
pub use table::{render_table, render_table_marked};
pub use workflows::{render_workflows, workflow_metrics, workflows_csv, WorkflowMetrics};
pub use write::{write_outputs, Meta};

/// Report parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportParams {
    /// A job is starved when it waited longer than this (ms) for its gang, or never became
    /// gang-ready before the end of the run. Default 1 hour.
    pub starve_threshold_ms: u64,
}

impl Default for ReportParams {
    fn default() -> Self {
        ReportParams {
            starve_threshold_ms: 3_600_000,
        }
    }
}

/// Wait-time percentiles (ms), `None` when no job of the group became gang-ready.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Waits {
    pub p50: Option<u64>,
    pub p95: Option<u64>,
    pub p99: Option<u64>,
    pub max: Option<u64>,
    /// Arithmetic mean (ms).
    pub mean: Option<f64>,
}

/// Metrics of one group of jobs (a queue or a class).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupMetrics {
    pub name: String,
    pub jobs: u64,
    /// Left Pending (enqueued).
    pub admitted: u64,
    pub completed: u64,
    /// Became gang-ready.
    pub gang_ready: u64,
    pub waits: Waits,
    pub starved: u64,
    pub evictions: u64,
    /// Failed: a `RestartJob` restart reached `maxRetry`.
    pub failed: u64,
    /// `RestartJob` restarts (Σ the jobs' `retryCount`).
    pub restarts: u64,
    /// Pods killed by those restarts (the evicted pods not counted).
    pub restart_kills: u64,
    /// Jobs of the group whose submit time lay after the horizon (never arrived; not counted
    /// in `jobs` or `starved`).
    pub after_horizon: u64,
    /// Queues only: mean over sample points of allocated cpu / cluster cpu.
    pub mean_share: Option<f64>,
    /// Queues only: mean over sample points of deserved cpu / cluster cpu.
    pub mean_deserved: Option<f64>,
    /// With HyperNodes: jobs by the tier of the HyperNode their gang landed in.
    pub domain_tiers: BTreeMap<u32, u64>,
}

/// All metrics of a run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Metrics {
    pub queues: Vec<GroupMetrics>,
    pub classes: Vec<GroupMetrics>,
    pub total: GroupMetrics,
    pub params: ReportParams,
}

/// Nearest-rank percentile of sorted values (`p` in 1..=100).
pub fn nearest_rank(sorted: &[u64], p: u32) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len() as u64;
    let rank = (p as u64 * n).div_ceil(100).clamp(1, n);
    Some(sorted[(rank - 1) as usize])
}

/// Computes the metrics of `o`. A job counts in the group of its queue's name and in the
/// group of its class (`groups::grouped`: no list of jobs per group is built).
pub fn metrics(o: &Outcome, p: &ReportParams) -> Metrics {
    let cpu = o.total_cpu_milli.max(1) as f64;
    let listed = o.queues.iter().map(String::as_str);
    let mut by_queue = groups::grouped(&o.jobs, listed, |j| &*j.queue, p);
    let position: HashMap<&str, usize> = by_queue
        .iter()
        .enumerate()
        .map(|(i, g)| (g.name.as_str(), i))
        .collect();
    // The queues in their index order (each queue's group, with its shares)...
    let mut queues: Vec<GroupMetrics> = Vec::with_capacity(by_queue.len());
    for (qi, qname) in o.queues.iter().enumerate() {
        let mut g = by_queue[position[qname.as_str()]].clone();
        let (mut n, mut a, mut d) = (0u64, 0.0f64, 0.0f64);
        // Each row stands for `points` equal samples; adding them one by one keeps the sums
        // exactly those of a series with a row per sample point.
        for s in o.samples.iter().filter(|s| s.queue as usize == qi) {
            for _ in 0..s.points {
                n += 1;
                a += s.allocated_cpu_milli as f64 / cpu;
                d += s.deserved_cpu_milli / cpu;
            }
        }
        if n > 0 {
            g.mean_share = Some(a / n as f64);
            g.mean_deserved = Some(d / n as f64);
        }
        queues.push(g);
    }
    // ...then the jobs naming unknown queues, grouped after the real ones by name.
    // The listed names hold the first group ids: their groups are the ones before `listed`.
    let listed = o
        .queues
        .iter()
        .map(|q| position[q.as_str()] + 1)
        .max()
        .unwrap_or(0);
    let mut unknown = by_queue.split_off(listed);
    unknown.sort_by(|a, b| a.name.cmp(&b.name));
    queues.extend(unknown);
    let mut classes = groups::grouped(&o.jobs, [], |j| &*j.class, p);
    classes.sort_by(|a, b| a.name.cmp(&b.name));
    let mut total = groups::grouped(&o.jobs, ["total"], |_| "total", p)
        .pop()
        .expect("the total group");
    total.after_horizon = o.after_horizon.len() as u64;
    for j in &o.after_horizon {
        if let Some(g) = queues.iter_mut().find(|g| *g.name == *j.queue) {
            g.after_horizon += 1;
        }
        if let Some(g) = classes.iter_mut().find(|g| *g.name == *j.class) {
            g.after_horizon += 1;
        }
    }
    Metrics {
        queues,
        classes,
        total,
        params: p.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_matches_definition() {
        let v: Vec<u64> = (1..=10).collect();
        assert_eq!(nearest_rank(&v, 50), Some(5));
        assert_eq!(nearest_rank(&v, 95), Some(10));
        assert_eq!(nearest_rank(&v, 1), Some(1));
        assert_eq!(nearest_rank(&[7], 99), Some(7));
        assert_eq!(nearest_rank(&[], 50), None);
    }
}

#[cfg(test)]
mod output_tests {
    use super::*;
    use crate::model::EngineParams;
    use crate::model::{NodeSpec, QueueSpec, ResourceName, Resources};
    use crate::policy::SchedulerConf;
    use crate::sim::{simulate, SimInput};
    use crate::workload::TraceJob;

    fn outcome() -> Outcome {
        let mut a = Resources::cpu_mem(4000, 8 << 30);
        a.set(ResourceName::PODS, 110);
        let nodes = vec![NodeSpec {
            name: "n0".into(),
            allocatable: a,
            labels: Default::default(),
            taints: vec![],
            unschedulable: false,
        }];
        let jobs: Vec<TraceJob> = (0..4)
            .map(|i| TraceJob {
                id: format!("j{i}"),
                submit_ms: 0,
                duration_ms: 10_000,
                replicas: 1,
                min_member: 1,
                requests: Resources::cpu_mem(4000, 1 << 30),
                queue: "q".into(),
                priority_class: None,
                priority: 0,
                class: "c".into(),
            })
            .collect();
        simulate(&SimInput {
            nodes,
            queues: vec![QueueSpec::new("q", 1)],
            priority_classes: vec![],
            conf: SchedulerConf::helm_default(),
            jobs: jobs.into(),
            params: EngineParams {
                vcjob_mode: false,
                ..Default::default()
            },
            seed: 0,
            horizon_ms: None,
        })
    }

    #[test]
    fn serial_jobs_have_exact_waits_and_stable_outputs() {
        let o = outcome();
        let m = metrics(&o, &ReportParams::default());
        let q = &m.queues[0];
        // one 4-cpu node, 10 s jobs: ready at 0.1, 11.1, 22.1, 33.1 s.
        assert_eq!(q.waits.p50, Some(11_100));
        assert_eq!(q.waits.max, Some(33_100));
        assert_eq!(q.completed, 4);
        assert_eq!(q.starved, 0);
        let dir = std::env::temp_dir().join(format!("volsim-report-{}", std::process::id()));
        let meta = Meta::default();
        write_outputs(&o, &dir, &meta, &ReportParams::default()).unwrap();
        let first = std::fs::read(dir.join("summary.json")).unwrap();
        write_outputs(&o, &dir, &meta, &ReportParams::default()).unwrap();
        assert_eq!(first, std::fs::read(dir.join("summary.json")).unwrap());
        let jobs = std::fs::read_to_string(dir.join("jobs.csv")).unwrap();
        assert!(jobs.starts_with("id,queue,class,submit,inqueue,first_bind,gang_ready,finish,wait,evictions,restarts,failed,restart_kills,domain_tier\nj0,q,c,0,0,0,100,10100,100,0,0,,0,\n"), "{jobs}");
        let _ = std::fs::remove_dir_all(&dir);
        let slos = [crate::scenario::parse_slo("q.p95_wait <= 1m").unwrap()];
        let t = render_table(&m, &slo::evaluate(&slos, &m, &Default::default()));
        assert!(t.contains("p95_wait ok"), "{t}");
        assert!(t.contains("11.1s"), "{t}");
    }
}
