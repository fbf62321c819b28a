//! One scenario run end to end: a validated `Scenario` → the simulator's input → `Outcome` →
//! metrics, SLO verdicts and the output files. Shared by `volsim run`, sweeps, capacity search
//! and baseline checks so that every one of them means the same thing by "a run".
//!
//! Depends on `scenario`, `sim` and `report`.

use std::path::Path;

use crate::model::format_duration;
use crate::report::{self, GroupMetrics, Meta, Metrics, ReportParams, WorkflowMetrics};
use crate::scenario::{Scenario, Slo, SloMetric};
use crate::sim::workflows::{WorkflowDriver, WorkflowRecord};
use crate::sim::{simulate, simulate_with_source, Outcome, SimInput, SimParams};

/// The simulator input for `scenario`, with `seed` overriding the scenario's.
pub fn sim_input(scenario: &Scenario, seed: u64) -> SimInput {
    let p = &scenario.params;
    SimInput {
        nodes: scenario.nodes.clone(),
        queues: scenario.queues.clone(),
        priority_classes: scenario.priority_classes.clone(),
        conf: scenario.conf.clone(),
        jobs: scenario.jobs.clone(),
        params: SimParams {
            schedule_period_ms: p.schedule_period_ms,
            bind_latency_ms: p.bind_latency_ms,
            controller_delay_ms: p.controller_delay_ms,
            eviction_grace_ms: p.eviction_grace_ms,
            horizon_ms: scenario.horizon_ms,
            seed,
            vcjob_mode: p.vcjob_mode,
            sample_period_ms: p.sample_period_ms,
            on_evict: p.on_evict.clone(),
        },
    }
}

/// One SLO evaluated on a run.
#[derive(Debug, Clone, PartialEq)]
pub struct SloVerdict {
    pub slo: Slo,
    /// The measured value (ms for waits, a count for `starved`); `None` when the metric does not
    /// exist (no job of the target became gang-ready) or the target is unknown.
    pub value: Option<f64>,
    pub pass: bool,
    /// "queue", "class", "workflow" (or "unknown").
    pub scope: &'static str,
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub outcome: Outcome,
    pub metrics: Metrics,
    pub slos: Vec<SloVerdict>,
    pub meta: Meta,
    pub report_params: ReportParams,
    /// One record per replayed workflow execution (empty without `workload.workflows`).
    pub workflows: Vec<WorkflowRecord>,
    pub workflow_metrics: WorkflowMetrics,
}

/// Runs `scenario` with `seed` (None: the scenario's own seed).
pub fn run(scenario: &Scenario, seed: Option<u64>) -> RunResult {
    let seed = seed.unwrap_or(scenario.seed);
    let input = sim_input(scenario, seed);
    let (outcome, workflows) = if scenario.workflows.is_empty() {
        (simulate(&input), Vec::new())
    } else {
        let mut driver = WorkflowDriver::new(&scenario.workflows, &scenario.mapping);
        let o = simulate_with_source(&input, &mut driver);
        (o, driver.records())
    };
    let workflow_metrics = report::workflow_metrics(&workflows);
    let report_params = ReportParams {
        starve_threshold_ms: scenario.starvation_ms,
    };
    let metrics = report::metrics(&outcome, &report_params);
    let slos = scenario
        .slos
        .iter()
        .map(|s| {
            if s.metric.is_e2e() {
                evaluate_e2e(s, &workflow_metrics)
            } else {
                evaluate(s, &metrics, &outcome)
            }
        })
        .collect();
    let meta = Meta {
        scenario_name: scenario.name.clone(),
        scenario_digest: scenario.digest.clone(),
    };
    RunResult {
        outcome,
        metrics,
        slos,
        meta,
        report_params,
        workflows,
        workflow_metrics,
    }
}

/// An end-to-end SLO on a workflow type (simulated latency; a type with no closed execution
/// fails).
fn evaluate_e2e(slo: &Slo, m: &WorkflowMetrics) -> SloVerdict {
    let Some(t) = m.workflow_type(&slo.target) else {
        return SloVerdict {
            slo: slo.clone(),
            value: None,
            pass: false,
            scope: "unknown",
        };
    };
    let v = match slo.metric {
        SloMetric::P50E2e => t.simulated.p50,
        SloMetric::P95E2e => t.simulated.p95,
        _ => t.simulated.p99,
    };
    let value = v.map(|x| x as f64);
    SloVerdict {
        slo: slo.clone(),
        value,
        pass: value.is_some_and(|v| v <= slo.limit as f64),
        scope: "workflow",
    }
}

/// The group an SLO target names: a queue first, then a workload class.
pub fn find_group<'a>(m: &'a Metrics, name: &str) -> Option<(&'static str, &'a GroupMetrics)> {
    if let Some(g) = m.queues.iter().find(|g| g.name == name) {
        return Some(("queue", g));
    }
    m.classes
        .iter()
        .find(|g| g.name == name)
        .map(|g| ("class", g))
}

/// The value of `metric` for a group (`mean` precomputed for mean_wait).
fn metric_value(g: &GroupMetrics, metric: SloMetric, mean: Option<f64>) -> Option<f64> {
    match metric {
        SloMetric::P50Wait => g.waits.p50.map(|x| x as f64),
        SloMetric::P95Wait => g.waits.p95.map(|x| x as f64),
        SloMetric::P99Wait => g.waits.p99.map(|x| x as f64),
        SloMetric::MaxWait => g.waits.max.map(|x| x as f64),
        SloMetric::MeanWait => mean,
        SloMetric::Starved => Some(g.starved as f64),
        SloMetric::P50E2e | SloMetric::P95E2e | SloMetric::P99E2e => None,
    }
}

/// Mean wait (ms) over the jobs of a queue or class that became gang-ready.
fn mean_wait(o: &Outcome, scope: &str, name: &str) -> Option<f64> {
    let waits: Vec<u64> = o
        .jobs
        .iter()
        .filter(|j| {
            if scope == "queue" {
                j.queue == name
            } else {
                j.class == name
            }
        })
        .filter_map(|j| j.wait_ms())
        .collect();
    if waits.is_empty() {
        None
    } else {
        Some(waits.iter().sum::<u64>() as f64 / waits.len() as f64)
    }
}

fn evaluate(slo: &Slo, m: &Metrics, o: &Outcome) -> SloVerdict {
    match find_group(m, &slo.target) {
        None => SloVerdict {
            slo: slo.clone(),
            value: None,
            pass: false,
            scope: "unknown",
        },
        Some((scope, g)) => {
            let mean = if slo.metric == SloMetric::MeanWait {
                mean_wait(o, scope, &slo.target)
            } else {
                None
            };
            let value = metric_value(g, slo.metric, mean);
            // A wait that does not exist means nobody of the target ever started: a failure.
            let pass = value.is_some_and(|v| v <= slo.limit as f64);
            SloVerdict {
                slo: slo.clone(),
                value,
                pass,
                scope,
            }
        }
    }
}

/// The SLO column of the table for one row: each SLO on `scope` `name` as `<metric> ok|FAIL`,
/// joined by ", " (empty when none targets the row).
pub fn slo_marks(v: &[SloVerdict], scope: &str, name: &str) -> String {
    v.iter()
        .filter(|s| s.scope == scope && s.slo.target == name)
        .map(|s| {
            let metric = s
                .slo
                .text
                .split_once('.')
                .map(|(_, r)| r.split("<=").next().unwrap_or(r).trim())
                .unwrap_or("");
            format!("{metric} {}", if s.pass { "ok" } else { "FAIL" })
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The SLO section printed under the table.
pub fn render_slos(v: &[SloVerdict]) -> String {
    if v.is_empty() {
        return String::new();
    }
    let mut rows = vec![[
        "SLO".to_string(),
        "scope".into(),
        "value".into(),
        "verdict".into(),
    ]];
    for s in v {
        let value = match s.value {
            None => "-".to_string(),
            Some(x) if s.slo.metric.is_duration() => format_duration(x.round() as u64),
            Some(x) => format!("{x}"),
        };
        rows.push([
            s.slo.text.clone(),
            s.scope.to_string(),
            value,
            if s.pass { "ok".into() } else { "FAIL".into() },
        ]);
    }
    let w: Vec<usize> = (0..4)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let line = format!(
            "{:<w0$}  {:<w1$}  {:>w2$}  {}",
            r[0],
            r[1],
            r[2],
            r[3],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2]
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Evictions per queue, as victim and as beneficiary, split by action; pods killed by their
/// job's `RestartJob` count apart (`restart_killed`), and their lost work counts as waste.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueEvictions {
    pub queue: String,
    pub preempted: u64,
    pub reclaimed: u64,
    pub preempted_for: u64,
    pub reclaimed_for: u64,
    /// Jobs of the queue evicted more than `PING_PONG` times.
    pub ping_pong_jobs: u64,
    /// Work lost by the queue's evicted (and restart-killed) pods: core-seconds and
    /// GPU-seconds they had run.
    pub wasted_core_s: f64,
    pub wasted_gpu_s: f64,
    /// The queue's pods killed because their job restarted (`on_evict = "restart-job"`).
    pub restart_killed: u64,
}

/// A job evicted more often than this counts as ping-pong (Volcano #4947/#4949).
pub const PING_PONG: u32 = 2;

/// Per-queue eviction counts of a run (queues in outcome order).
pub fn queue_evictions(o: &Outcome) -> Vec<QueueEvictions> {
    let mut v: Vec<QueueEvictions> = o
        .queues
        .iter()
        .map(|q| QueueEvictions {
            queue: q.clone(),
            ..Default::default()
        })
        .collect();
    let ix = |name: &str| o.queues.iter().position(|q| q == name);
    for e in &o.evictions {
        let reclaim = e.action == "reclaim";
        let killed = e.action == crate::sim::records::RESTART_KILL;
        if let Some(i) = ix(&e.queue) {
            v[i].wasted_core_s += e.ran_ms as f64 * e.cpu_milli as f64 / 1e6;
            v[i].wasted_gpu_s += e.ran_ms as f64 * e.gpu_milli as f64 / 1e6;
            if killed {
                v[i].restart_killed += 1;
            } else if reclaim {
                v[i].reclaimed += 1;
            } else {
                v[i].preempted += 1;
            }
        }
        if let Some(i) = ix(&e.preemptor_queue).filter(|_| !killed) {
            if reclaim {
                v[i].reclaimed_for += 1;
            } else {
                v[i].preempted_for += 1;
            }
        }
    }
    for j in o.jobs.iter().filter(|j| j.evictions > PING_PONG) {
        if let Some(i) = ix(&j.queue) {
            v[i].ping_pong_jobs += 1;
        }
    }
    v
}

/// The eviction section printed under the table (empty when nothing was evicted).
pub fn render_evictions(o: &Outcome) -> String {
    if o.evictions.is_empty() {
        return String::new();
    }
    // The restart columns appear only when some job restarts on eviction.
    let restarts = o.counters.restart_kills > 0 || o.jobs.iter().any(|j| j.restarts > 0);
    let mut out = format!(
        "{:<14} {:>10} {:>10} {:>14} {:>14} {:>10} {:>14}",
        "evictions",
        "preempted",
        "reclaimed",
        "preempted for",
        "reclaimed for",
        "ping-pong",
        "wasted core-s"
    );
    if restarts {
        out += &format!(" {:>9} {:>14} {:>7}", "restarts", "restart kills", "failed");
    }
    out.push('\n');
    for q in queue_evictions(o) {
        out += &format!(
            "{:<14} {:>10} {:>10} {:>14} {:>14} {:>10} {:>14.1}",
            q.queue,
            q.preempted,
            q.reclaimed,
            q.preempted_for,
            q.reclaimed_for,
            q.ping_pong_jobs,
            q.wasted_core_s
        );
        if restarts {
            let jobs = o.jobs.iter().filter(|j| j.queue == q.queue);
            let (r, f) = jobs.fold((0u64, 0u64), |(r, f), j| {
                (r + j.restarts as u64, f + j.failed_ms.is_some() as u64)
            });
            out += &format!(" {:>9} {:>14} {:>7}", r, q.restart_killed, f);
        }
        out.push('\n');
    }
    out
}

/// Writes `summary.json`, `jobs.csv`, `queues.csv`, `evictions.csv`, `time_to_reclaim.csv`,
/// `queue_evictions.csv`, `slo.csv` (and, with
/// replayed workflows, `workflows.csv`) into `dir`.
pub fn write(result: &RunResult, dir: &Path) -> std::io::Result<()> {
    report::write_outputs(&result.outcome, dir, &result.meta, &result.report_params)?;
    if !result.workflows.is_empty() {
        std::fs::write(
            dir.join("workflows.csv"),
            report::workflows_csv(&result.workflows)?,
        )?;
    }
    let mut w = csv::Writer::from_path(dir.join("slo.csv"))?;
    w.write_record(["slo", "target", "metric", "limit", "scope", "value", "pass"])?;
    for s in &result.slos {
        w.write_record([
            s.slo.text.as_str(),
            s.slo.target.as_str(),
            s.slo.metric.as_str(),
            &s.slo.limit.to_string(),
            s.scope,
            &s.value.map(|v| v.to_string()).unwrap_or_default(),
            if s.pass { "true" } else { "false" },
        ])?;
    }
    w.flush()?;
    let mut w = csv::Writer::from_path(dir.join("queue_evictions.csv"))?;
    w.write_record([
        "queue",
        "preempted",
        "reclaimed",
        "preempted_for",
        "reclaimed_for",
        "ping_pong_jobs",
        "wasted_core_s",
        "wasted_gpu_s",
        "restart_killed",
    ])?;
    for q in queue_evictions(&result.outcome) {
        w.write_record([
            q.queue,
            q.preempted.to_string(),
            q.reclaimed.to_string(),
            q.preempted_for.to_string(),
            q.reclaimed_for.to_string(),
            q.ping_pong_jobs.to_string(),
            format!("{:.3}", q.wasted_core_s),
            format!("{:.3}", q.wasted_gpu_s),
            q.restart_killed.to_string(),
        ])?;
    }
    w.flush()
}
