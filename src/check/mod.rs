//! Baselines and regression checks: a baseline pins a run's headline metrics with tolerances;
//! a check re-runs the scenario (through `run`) and compares. Depends on `report` (headline) and
//! `scenario`; no stdout.
//!
//! A metric regresses when it moves past its tolerance `tol = max(abs, rel × |baseline|)` in
//! its worse direction (`better = "lower"`: above `value + tol`; `"higher"`: below
//! `value − tol`; `"both"`: either). Defaults (see `default_tolerance`):
//! waits (`*_wait_s`) ±10 % or ±5 s, lower is better; `starved`, `evictions` ±10 % or ±2, lower;
//! `admitted`, `completed`, `gang_ready` ±5 % or ±2, higher; `share`, `deserved`, `cpu_util`
//! ±5 % or ±0.02, both; `jobs` and `hit_horizon` exact; `end_s` ±5 % or ±60 s, both;
//! `gang_evictions`, `gangs_broken` ±10 % or ±2, lower; `wasted_core_s` ±10 % or ±60, lower;
//! `time_to_reclaim_*_s` ±10 % or ±5 s, lower; `mean_tier` ±0.1, both.
//!
//! Machine-readable results: `check_json` (`volsim check -o json`, format `volsim-check/v1`)
//! and `junit::render` (`volsim check --junit FILE`).

pub mod junit;

use std::collections::BTreeMap;
use std::fmt::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::report::json::{pretty, SloJson};
use crate::report::{Headline, RunReport};

/// Which direction is worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Lower,
    Higher,
    Both,
}

/// One pinned metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pinned {
    pub value: f64,
    /// Relative tolerance (0.1 = ±10 %).
    pub rel: f64,
    /// Absolute tolerance, in the metric's unit.
    pub abs: f64,
    pub better: Better,
}

/// The baseline file (TOML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub format: String,
    pub scenario: String,
    pub scenario_digest: String,
    pub seed: u64,
    /// Informational: equal hashes mean identical scheduling decisions.
    pub decision_hash: String,
    pub metrics: BTreeMap<String, Pinned>,
}

/// A baseline that cannot be read.
#[derive(Debug)]
pub struct BaselineError(pub String);

impl fmt::Display for BaselineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BaselineError {}

/// The default tolerance of a metric column (`group.metric`).
pub fn default_tolerance(column: &str) -> (f64, f64, Better) {
    let m = column.rsplit('.').next().unwrap_or(column);
    match m {
        _ if m.ends_with("_wait_s") => (0.10, 5.0, Better::Lower),
        "starved" | "evictions" | "gang_evictions" | "gangs_broken" => (0.10, 2.0, Better::Lower),
        "wasted_core_s" => (0.10, 60.0, Better::Lower),
        _ if m.starts_with("time_to_reclaim_") => (0.10, 5.0, Better::Lower),
        "mean_tier" => (0.0, 0.1, Better::Both),
        "admitted" | "completed" | "gang_ready" => (0.05, 2.0, Better::Higher),
        "share" | "deserved" | "cpu_util" => (0.05, 0.02, Better::Both),
        "end_s" => (0.05, 60.0, Better::Both),
        _ => (0.0, 0.0, Better::Both),
    }
}

/// Pins every finite headline metric with its default tolerance.
pub fn make_baseline(h: &Headline, scenario: &str, digest: &str) -> Baseline {
    let metrics = h
        .named()
        .into_iter()
        .filter(|(_, v)| v.is_finite())
        .map(|(k, value)| {
            let (rel, abs, better) = default_tolerance(&k);
            (
                k,
                Pinned {
                    value,
                    rel,
                    abs,
                    better,
                },
            )
        })
        .collect();
    Baseline {
        format: "volsim-baseline/v1".into(),
        scenario: scenario.into(),
        scenario_digest: digest.into(),
        seed: h.seed,
        decision_hash: format!("{:016x}", h.decision_hash),
        metrics,
    }
}

impl Baseline {
    /// Renders the baseline as TOML, one inline table per metric.
    pub fn to_toml(&self) -> String {
        let mut s = String::from("# volsim baseline: headline metrics of one run with tolerances.\n# A metric regresses when it moves past max(abs, rel × |value|) in its worse direction.\n# Regenerate: volsim baseline SCENARIO --out FILE; edit rel/abs/better per metric as needed.\n");
        let q = |x: &str| toml::Value::String(x.to_string()).to_string();
        let _ = writeln!(s, "format = {}\nscenario = {}\nscenario_digest = {}\nseed = {}\ndecision_hash = {}\n\n[metrics]", q(&self.format), q(&self.scenario), q(&self.scenario_digest), self.seed, q(&self.decision_hash));
        for (k, p) in &self.metrics {
            let better = match p.better {
                Better::Lower => "lower",
                Better::Higher => "higher",
                Better::Both => "both",
            };
            let _ = writeln!(
                s,
                "{} = {{ value = {:?}, rel = {:?}, abs = {:?}, better = \"{better}\" }}",
                q(k),
                p.value,
                p.rel,
                p.abs
            );
        }
        s
    }
    pub fn read(path: &Path) -> Result<Baseline, BaselineError> {
        let t = std::fs::read_to_string(path)
            .map_err(|e| BaselineError(format!("{}: cannot read baseline: {e}", path.display())))?;
        Baseline::parse_str(&t, path)
    }

    /// Parses and checks baseline `text` as if read from `path` (which only labels errors).
    pub fn parse_str(text: &str, path: &Path) -> Result<Baseline, BaselineError> {
        let b: Baseline =
            toml::from_str(text).map_err(|e| BaselineError(format!("{}: {e}", path.display())))?;
        if b.format != "volsim-baseline/v1" {
            return Err(BaselineError(format!(
                "{}: field format: {:?}, expected \"volsim-baseline/v1\"",
                path.display(),
                b.format
            )));
        }
        for (k, p) in &b.metrics {
            if !(p.rel >= 0.0 && p.abs >= 0.0 && p.value.is_finite()) {
                return Err(BaselineError(format!(
                    "{}: field metrics.{k:?}: value must be finite, rel and abs ≥ 0",
                    path.display()
                )));
            }
        }
        Ok(b)
    }
}

/// Status of one compared metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Improved,
    Regressed,
    Missing,
}

/// One row of the diff.
#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    pub metric: String,
    pub baseline: f64,
    pub actual: Option<f64>,
    pub tolerance: f64,
    pub status: Status,
}

/// Compares a run against a baseline, in metric-name order.
pub fn compare(b: &Baseline, h: &Headline) -> Vec<Diff> {
    let actual: BTreeMap<String, f64> = h.named().into_iter().collect();
    b.metrics
        .iter()
        .map(|(k, p)| {
            let tol = p.abs.max(p.rel * p.value.abs());
            let a = actual.get(k).copied().filter(|v| v.is_finite());
            let status = match a {
                None => Status::Missing,
                Some(a) => {
                    let (up, down) = (a > p.value + tol + 1e-9, a < p.value - tol - 1e-9);
                    match p.better {
                        Better::Lower if up => Status::Regressed,
                        Better::Higher if down => Status::Regressed,
                        Better::Both if up || down => Status::Regressed,
                        Better::Lower if down => Status::Improved,
                        Better::Higher if up => Status::Improved,
                        _ => Status::Ok,
                    }
                }
            };
            Diff {
                metric: k.clone(),
                baseline: p.value,
                actual: a,
                tolerance: tol,
                status,
            }
        })
        .collect()
}

/// Renders the diff table; `all` includes unchanged metrics.
pub fn render(diffs: &[Diff], all: bool) -> String {
    let mut s = String::new();
    let w = diffs
        .iter()
        .map(|d| d.metric.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let _ = writeln!(
        s,
        "{:<w$}  {:>12}  {:>12}  {:>10}  {:>10}  status",
        "metric", "baseline", "actual", "delta", "tolerance"
    );
    for d in diffs.iter().filter(|d| all || d.status != Status::Ok) {
        let (act, delta) = match d.actual {
            Some(a) => (format!("{a:.3}"), format!("{:+.3}", a - d.baseline)),
            None => ("missing".into(), "".into()),
        };
        let st = match d.status {
            Status::Ok => "ok",
            Status::Improved => "improved",
            Status::Regressed => "REGRESSED",
            Status::Missing => "MISSING",
        };
        let _ = writeln!(
            s,
            "{:<w$}  {:>12.3}  {:>12}  {:>10}  {:>10}  {st}",
            d.metric,
            d.baseline,
            act,
            delta,
            format!("±{:.3}", d.tolerance)
        );
    }
    let bad: Vec<&str> = diffs
        .iter()
        .filter(|d| matches!(d.status, Status::Regressed | Status::Missing))
        .map(|d| d.metric.as_str())
        .collect();
    let ok = diffs.iter().filter(|d| d.status == Status::Ok).count();
    let _ = writeln!(
        s,
        "{} metrics: {ok} within tolerance, {} improved, {} regressed",
        diffs.len(),
        diffs
            .iter()
            .filter(|d| d.status == Status::Improved)
            .count(),
        bad.len()
    );
    if !bad.is_empty() {
        let _ = writeln!(s, "regression: {}", bad.join(", "));
    }
    s
}

impl Status {
    /// The status word of the text table and of the JSON (`ok`, `improved`, `regressed`,
    /// `missing`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Improved => "improved",
            Status::Regressed => "regressed",
            Status::Missing => "missing",
        }
    }
}

#[derive(Serialize)]
struct DiffJson<'a> {
    metric: &'a str,
    baseline: f64,
    /// null when the run lacks the metric (status `missing`).
    actual: Option<f64>,
    tolerance: f64,
    status: &'static str,
}

#[derive(Serialize)]
struct CheckJson<'a> {
    format: &'static str,
    scenario: &'a str,
    baseline: &'a str,
    seed: u64,
    scenario_digest: &'a str,
    baseline_digest: &'a str,
    decision_hash: String,
    baseline_decision_hash: &'a str,
    passed: bool,
    regressed: Vec<&'a str>,
    metrics: Vec<DiffJson<'a>>,
    slos: Vec<SloJson<'a>>,
}

/// What one check compared, for `check_json` and `junit::render`.
pub struct CheckRun<'a> {
    /// The scenario path as given.
    pub scenario: &'a str,
    /// The baseline path as given.
    pub baseline_path: &'a str,
    pub baseline: &'a Baseline,
    /// Digest of the scenario as run now.
    pub digest: &'a str,
    pub report: &'a RunReport,
    pub diffs: &'a [Diff],
}

/// `volsim check -o json` (format `volsim-check/v1`, see `docs/cli.md`): every pinned metric
/// with its status, and the scenario's SLO verdicts (informational: SLOs do not fail a check).
pub fn check_json(c: &CheckRun) -> String {
    let doc = CheckJson {
        format: "volsim-check/v1",
        scenario: c.scenario,
        baseline: c.baseline_path,
        seed: c.report.outcome.seed,
        scenario_digest: c.digest,
        baseline_digest: &c.baseline.scenario_digest,
        decision_hash: format!("{:016x}", c.report.outcome.decision_hash),
        baseline_decision_hash: &c.baseline.decision_hash,
        passed: !failed(c.diffs),
        regressed: c
            .diffs
            .iter()
            .filter(|d| matches!(d.status, Status::Regressed | Status::Missing))
            .map(|d| d.metric.as_str())
            .collect(),
        metrics: c
            .diffs
            .iter()
            .map(|d| DiffJson {
                metric: &d.metric,
                baseline: d.baseline,
                actual: d.actual,
                tolerance: d.tolerance,
                status: d.status.as_str(),
            })
            .collect(),
        slos: c.report.slos.iter().map(SloJson::from).collect(),
    };
    pretty(&doc)
}

/// True when any metric regressed or went missing.
pub fn failed(diffs: &[Diff]) -> bool {
    diffs
        .iter()
        .any(|d| matches!(d.status, Status::Regressed | Status::Missing))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin(value: f64, better: Better) -> Pinned {
        Pinned {
            value,
            rel: 0.1,
            abs: 5.0,
            better,
        }
    }

    #[test]
    fn tolerance_and_direction() {
        let mut m = BTreeMap::new();
        m.insert("cluster.p95_wait_s".to_string(), pin(100.0, Better::Lower));
        let b = Baseline {
            format: "volsim-baseline/v1".into(),
            scenario: "s".into(),
            scenario_digest: "d".into(),
            seed: 1,
            decision_hash: "h".into(),
            metrics: m,
        };
        let h = |v: f64| Headline {
            values: vec![(
                crate::report::MetricKey {
                    kind: 0,
                    group: "cluster".into(),
                    metric: 7,
                },
                v,
            )],
            decision_hash: 0,
            seed: 1,
        };
        assert_eq!(compare(&b, &h(110.0))[0].status, Status::Ok);
        assert_eq!(compare(&b, &h(111.0))[0].status, Status::Regressed);
        assert_eq!(compare(&b, &h(80.0))[0].status, Status::Improved);
        assert!(render(&compare(&b, &h(111.0)), false).contains("regression: cluster.p95_wait_s"));
        let t = b.to_toml();
        assert!(t.contains("\"cluster.p95_wait_s\" = { value = 100.0, rel = 0.1, abs = 5.0, better = \"lower\" }"), "{t}");
        assert_eq!(toml::from_str::<Baseline>(&t).unwrap(), b);
    }
}
