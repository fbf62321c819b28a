//! The one SLO evaluator: every SLO metric (`p50/p95/p99/max/mean_wait` and `starved` of a queue
//! or workload class, `p50/p95/p99_e2e` of a replayed workflow type) evaluated on a run's
//! metrics. `run`, `sweep`, `capacity`, `baseline` and `check` all use it, through `RunReport`.
//!
//! Depends on `report` metrics and `scenario::Slo` (the parsed expression). Rules: a target is
//! looked up as a queue, then a class (wait metrics), or a workflow type (e2e metrics); a metric
//! that does not exist (unknown target, or no job of the target became gang-ready / no
//! execution closed) fails; a value passes when it is ≤ the limit.

use super::workflows::WorkflowMetrics;
use super::{GroupMetrics, Metrics};
use crate::model::format_duration;
use crate::scenario::{Slo, SloMetric};

/// Where an SLO's target was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SloScope {
    Queue,
    Class,
    Workflow,
    /// Nothing of that name: the SLO fails.
    Unknown,
}

impl SloScope {
    pub fn as_str(self) -> &'static str {
        match self {
            SloScope::Queue => "queue",
            SloScope::Class => "class",
            SloScope::Workflow => "workflow",
            SloScope::Unknown => "unknown",
        }
    }
}

/// One SLO evaluated on a run.
#[derive(Debug, Clone, PartialEq)]
pub struct SloVerdict {
    pub slo: Slo,
    /// The measured value (ms for durations, a count for `starved`); `None` when the metric
    /// does not exist.
    pub value: Option<f64>,
    pub pass: bool,
    pub scope: SloScope,
}

impl SloVerdict {
    /// The value in the headline's unit (seconds for durations, a count for `starved`).
    pub fn column_value(&self) -> Option<f64> {
        self.value.map(|v| to_column_unit(self.slo.metric, v))
    }
}

fn to_column_unit(m: SloMetric, v: f64) -> f64 {
    if m.is_duration() {
        v / 1000.0
    } else {
        v
    }
}

/// The headline column an SLO reads (`<target>.<metric>_s`, or `<target>.starved`).
pub fn slo_column(slo: &Slo) -> String {
    match slo.metric {
        SloMetric::Starved => format!("{}.starved", slo.target),
        m => format!("{}.{}_s", slo.target, m.as_str()),
    }
}

/// An SLO's limit in the headline's unit (seconds for waits, a count for `starved`).
pub fn slo_limit(slo: &Slo) -> f64 {
    to_column_unit(slo.metric, slo.limit as f64)
}

/// The group an SLO target names: a queue first, then a workload class.
pub fn find_group<'a>(m: &'a Metrics, name: &str) -> Option<(SloScope, &'a GroupMetrics)> {
    if let Some(g) = m.queues.iter().find(|g| g.name == name) {
        return Some((SloScope::Queue, g));
    }
    m.classes
        .iter()
        .find(|g| g.name == name)
        .map(|g| (SloScope::Class, g))
}

fn group_value(g: &GroupMetrics, metric: SloMetric) -> Option<f64> {
    let ms = |x: Option<u64>| x.map(|v| v as f64);
    match metric {
        SloMetric::P50Wait => ms(g.waits.p50),
        SloMetric::P95Wait => ms(g.waits.p95),
        SloMetric::P99Wait => ms(g.waits.p99),
        SloMetric::MaxWait => ms(g.waits.max),
        SloMetric::MeanWait => g.waits.mean,
        SloMetric::Starved => Some(g.starved as f64),
        SloMetric::P50E2e | SloMetric::P95E2e | SloMetric::P99E2e => None,
    }
}

/// Evaluates `slos` on a run's metrics.
pub fn evaluate(slos: &[Slo], m: &Metrics, w: &WorkflowMetrics) -> Vec<SloVerdict> {
    slos.iter()
        .map(|slo| {
            let (scope, value) = if slo.metric.is_e2e() {
                match w.workflow_type(&slo.target) {
                    None => (SloScope::Unknown, None),
                    Some(t) => {
                        let v = match slo.metric {
                            SloMetric::P50E2e => t.simulated.p50,
                            SloMetric::P95E2e => t.simulated.p95,
                            _ => t.simulated.p99,
                        };
                        (SloScope::Workflow, v.map(|x| x as f64))
                    }
                }
            } else {
                match find_group(m, &slo.target) {
                    None => (SloScope::Unknown, None),
                    Some((scope, g)) => (scope, group_value(g, slo.metric)),
                }
            };
            SloVerdict {
                slo: slo.clone(),
                value,
                pass: value.is_some_and(|v| v <= slo.limit as f64),
                scope,
            }
        })
        .collect()
}

/// The SLO column of the table for one row: each SLO on `scope` `name` as `<metric> ok|FAIL`,
/// joined by ", " (empty when none targets the row).
pub fn slo_marks(v: &[SloVerdict], scope: &str, name: &str) -> String {
    v.iter()
        .filter(|s| s.scope.as_str() == scope && s.slo.target == name)
        .map(|s| {
            format!(
                "{} {}",
                s.slo.metric.as_str(),
                if s.pass { "ok" } else { "FAIL" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The SLO section printed under the table (empty without SLOs).
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
            s.scope.as_str().to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Waits;
    use crate::scenario::parse_slo;

    fn metrics() -> Metrics {
        let g = |name: &str| GroupMetrics {
            name: name.into(),
            jobs: 3,
            gang_ready: 3,
            waits: Waits {
                p50: Some(1_000),
                p95: Some(90_000),
                p99: Some(90_000),
                max: Some(90_000),
                mean: Some(30_500.0),
            },
            starved: 1,
            ..Default::default()
        };
        Metrics {
            queues: vec![g("q")],
            classes: vec![g("c")],
            ..Default::default()
        }
    }

    #[test]
    fn every_metric_is_known() {
        let m = metrics();
        let w = WorkflowMetrics::default();
        let slos: Vec<Slo> = [
            "q.p95_wait <= 2m",
            "c.mean_wait <= 31s",
            "c.mean_wait <= 30s",
            "q.starved <= 0",
            "nobody.p50_wait <= 1h",
            "flow.p95_e2e <= 1h",
        ]
        .iter()
        .map(|s| parse_slo(s).unwrap())
        .collect();
        let v = evaluate(&slos, &m, &w);
        let got: Vec<(bool, &str)> = v.iter().map(|v| (v.pass, v.scope.as_str())).collect();
        assert_eq!(
            got,
            [
                (true, "queue"),
                (true, "class"),
                (false, "class"),
                (false, "queue"),
                (false, "unknown"),
                (false, "unknown"),
            ]
        );
        assert_eq!(v[1].column_value(), Some(30.5));
        assert_eq!(slo_column(&slos[1]), "c.mean_wait_s");
        assert_eq!(slo_marks(&v, "class", "c"), "mean_wait ok, mean_wait FAIL");
    }
}
