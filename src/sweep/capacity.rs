//! Capacity search: the smallest (or largest) value of one field for which every SLO holds on
//! every seed replication, by bisection over `[lo, hi]`, with a monotonicity check.
//!
//! A value passes when all SLOs are met in all replications (seeds: `point_seed(Common, base,
//! 0, r)`, so each probe sees the same workloads — common random numbers). Bisection assumes
//! "pass" is monotone in the value; afterwards every probe is re-read in value order and any
//! pass→fail flip, or an SLO metric that gets worse by > 5 % (and > 1 s) as capacity grows, is
//! reported as a monotonicity warning. Each probe is one `run::run`; SLOs are evaluated by the
//! report's one evaluator. Depends on `run`, `report`, `sweep::spec`, `scenario`.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::spec::{point_seed, SeedMode};
use crate::report::reasons::binding_constraint;
use crate::report::slo::{slo_column, slo_limit};
use crate::report::SloVerdict;
use crate::run::{run_taking_jobs, RunSpec};
use crate::scenario::{LoadError, Override, Slo};

/// Which end of the range is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Find {
    /// Smallest passing value (more of the field helps: nodes, capability, weight).
    Min,
    /// Largest passing value (more of the field hurts: `workload.rate_multiplier`).
    Max,
}

/// A capacity question.
#[derive(Debug, Clone)]
pub struct Query {
    pub scenario: PathBuf,
    pub field: String,
    pub lo: f64,
    pub hi: f64,
    /// Integer field (bisect to 1) or real (bisect to `step`).
    pub integer: bool,
    pub step: f64,
    pub slos: Vec<Slo>,
    pub replications: u32,
    pub find: Find,
    pub base_seed: u64,
    /// Overrides applied to every probe before the varied field (`--set`).
    pub base: Vec<Override>,
}

/// One replication of a probe.
#[derive(Debug, Clone)]
pub struct Rep {
    pub seed: u64,
    pub slos: Vec<SloVerdict>,
    pub decision_hash: u64,
    /// Jobs the run recorded.
    pub jobs: usize,
    /// Per SLO (as `slos`), the binding constraint when it fails (`report::reasons`).
    pub binding: Vec<Option<String>>,
}

/// One probed value.
#[derive(Debug, Clone)]
pub struct Probe {
    pub value: f64,
    /// Per replication, in replication order.
    pub reps: Vec<Rep>,
    pub pass: bool,
}

impl Probe {
    /// The worst value of SLO `i` over the replications (None when a metric is missing).
    pub fn worst(&self, i: usize) -> Option<f64> {
        self.reps
            .iter()
            .map(|r| r.slos[i].column_value())
            .try_fold(f64::NEG_INFINITY, |a, v| v.map(|v| a.max(v)))
    }
}

/// The search's result.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Probes in the order they ran.
    pub probes: Vec<Probe>,
    /// The answer's index in `probes`, or None when no value in range passes.
    pub answer: Option<usize>,
    pub warnings: Vec<String>,
}

/// Parses `LO..HI`; integer mode when neither bound has a `.`.
pub fn parse_range(s: &str) -> Result<(f64, f64, bool), String> {
    let bad = || format!("invalid range {s:?}: expected LO..HI, e.g. 2..20 or 0.5..3.0");
    let (a, b) = s.split_once("..").ok_or_else(bad)?;
    let (lo, hi): (f64, f64) = (
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    );
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(bad());
    }
    Ok((lo, hi, !a.contains('.') && !b.contains('.')))
}

fn value_of(q: &Query, v: f64) -> toml::Value {
    if q.integer {
        toml::Value::Integer(v as i64)
    } else {
        toml::Value::Float(v)
    }
}

fn probe(q: &Query, v: f64, on_probe: &(dyn Fn(&Probe) + Sync)) -> Result<Probe, LoadError> {
    let mut o = q.base.clone();
    o.push(Override::new(&q.field, value_of(q, v)));
    let reps: Vec<Result<Rep, LoadError>> = (0..q.replications.max(1) as u64)
        .into_par_iter()
        .map(|r| {
            let seed = point_seed(SeedMode::Common, q.base_seed, 0, r);
            let report = run_taking_jobs(&mut RunSpec::load(&q.scenario, Some(seed), &o)?);
            let slos = report.evaluate(&q.slos);
            let binding = slos
                .iter()
                .map(|v| binding_constraint(&report.wait_reasons, v))
                .collect();
            Ok(Rep {
                seed,
                binding,
                slos,
                decision_hash: report.outcome.decision_hash,
                jobs: report.outcome.jobs.len(),
            })
        })
        .collect();
    let reps = reps.into_iter().collect::<Result<Vec<_>, _>>()?;
    let pass = reps.iter().all(|r| r.slos.iter().all(|x| x.pass));
    let p = Probe {
        value: v,
        reps,
        pass,
    };
    on_probe(&p);
    Ok(p)
}

/// The limits of `docs/limits.md`: replications as in a sweep file, the range within ±2^31−1
/// (every integer scenario field fits an i32) and finite.
fn check_bounds(q: &Query) -> Result<(), LoadError> {
    use super::spec::{MAX_AXIS_INT, MAX_REPLICATIONS};
    let bad = |path: &str, message: String| {
        Err(LoadError::Override {
            file: q.scenario.display().to_string(),
            err: crate::scenario::OverrideError {
                path: path.to_string(),
                message,
            },
        })
    };
    if q.replications > MAX_REPLICATIONS {
        return bad(
            "--replications",
            format!("{}: expected 1..={MAX_REPLICATIONS}", q.replications),
        );
    }
    let lim = MAX_AXIS_INT as f64;
    if ![q.lo, q.hi].iter().all(|v| v.is_finite() && v.abs() <= lim) {
        return bad(
            "--range",
            format!(
                "{}..{}: both ends must be finite and within ±{MAX_AXIS_INT}",
                q.lo, q.hi
            ),
        );
    }
    Ok(())
}

/// Runs the search; `on_probe` sees each probe as it finishes (for a live trace).
pub fn search(q: &Query, on_probe: &(dyn Fn(&Probe) + Sync)) -> Result<Answer, LoadError> {
    check_bounds(q)?;
    let step = if q.integer { 1.0 } else { q.step };
    // Work in "goodness" order: for Min, higher is better; for Max, lower is better.
    let (mut good, mut bad) = match q.find {
        Find::Min => (q.hi, q.lo),
        Find::Max => (q.lo, q.hi),
    };
    let mut probes = vec![probe(q, good, on_probe)?];
    if !probes[0].pass {
        return Ok(finish(q, probes, None));
    }
    probes.push(probe(q, bad, on_probe)?);
    if probes[1].pass {
        return Ok(finish(q, probes, Some(1)));
    }
    let mut good_ix = 0;
    while (good - bad).abs() > step + 1e-9 {
        let mut mid = (good + bad) / 2.0;
        if q.integer {
            mid = mid.floor();
        }
        let p = probe(q, mid, on_probe)?;
        let pass = p.pass;
        probes.push(p);
        if pass {
            good = mid;
            good_ix = probes.len() - 1;
        } else {
            bad = mid;
        }
    }
    Ok(finish(q, probes, Some(good_ix)))
}

fn finish(q: &Query, probes: Vec<Probe>, answer: Option<usize>) -> Answer {
    let mut order: Vec<&Probe> = probes.iter().collect();
    // Order from "least capacity" to "most capacity".
    order.sort_by(|a, b| match q.find {
        Find::Min => a.value.total_cmp(&b.value),
        Find::Max => b.value.total_cmp(&a.value),
    });
    let mut warnings = Vec::new();
    for w in order.windows(2) {
        if w[0].pass && !w[1].pass {
            warnings.push(format!(
                "not monotone: {} = {} passes but {} fails",
                q.field, w[0].value, w[1].value
            ));
        }
        for (i, s) in q.slos.iter().enumerate() {
            for (r, (a, b)) in w[0].reps.iter().zip(&w[1].reps).enumerate() {
                if let (Some(x), Some(y)) = (a.slos[i].column_value(), b.slos[i].column_value()) {
                    if y > x * 1.05 && y - x > 1.0 {
                        warnings.push(format!(
                            "not monotone: {} got worse from {x:.1} to {y:.1} when {} went {} → {} (replication {r})",
                            s.text, q.field, w[0].value, w[1].value
                        ));
                    }
                }
            }
        }
    }
    Answer {
        probes,
        answer,
        warnings,
    }
}

/// Renders the trace and the answer with its margin.
pub fn render(q: &Query, a: &Answer) -> String {
    let mut s = format!(
        "capacity search: {} over {}..{} ({} replication(s)), SLOs:\n",
        q.field,
        q.lo,
        q.hi,
        q.replications.max(1)
    );
    for slo in &q.slos {
        s.push_str(&format!("  {}\n", slo.text));
    }
    s.push_str("trace:\n");
    for (k, p) in a.probes.iter().enumerate() {
        let worst: Vec<String> = q
            .slos
            .iter()
            .enumerate()
            .map(|(i, slo)| {
                format!(
                    "{}={}",
                    slo_column(slo),
                    p.worst(i)
                        .map(|v| format!("{v:.1}"))
                        .unwrap_or("n/a".into())
                )
            })
            .collect();
        s.push_str(&format!(
            "  #{:<2} {} = {:<8} {}  worst: {}\n",
            k + 1,
            q.field,
            p.value,
            if p.pass { "PASS" } else { "fail" },
            worst.join(" ")
        ));
    }
    for w in &a.warnings {
        s.push_str(&format!("warning: {w}\n"));
    }
    match a.answer {
        None => {
            s.push_str(&format!(
                "answer: no value of {} in {}..{} meets every SLO\n",
                q.field, q.lo, q.hi
            ));
            // The probe closest to passing: the most capacity tried.
            let best = a.probes.iter().max_by(|x, y| match q.find {
                Find::Min => x.value.total_cmp(&y.value),
                Find::Max => y.value.total_cmp(&x.value),
            });
            if let Some(p) = best {
                for (i, slo) in q.slos.iter().enumerate() {
                    let b = p
                        .reps
                        .iter()
                        .find_map(|r| r.binding.get(i).cloned().flatten());
                    if let Some(b) = b {
                        s.push_str(&format!(
                            "binding constraint at {} = {} for {}: {b}\n",
                            q.field, p.value, slo.text
                        ));
                    }
                }
            }
        }
        Some(i) => {
            let p = &a.probes[i];
            let which = if q.find == Find::Min {
                "smallest"
            } else {
                "largest"
            };
            s.push_str(&format!(
                "answer: {} = {} ({which} value meeting every SLO)\n",
                q.field, p.value
            ));
            for (j, slo) in q.slos.iter().enumerate() {
                let lim = slo_limit(slo);
                if let Some(v) = p.worst(j) {
                    let pct = if lim > 0.0 {
                        format!(" ({:.0} %)", (lim - v) / lim * 100.0)
                    } else {
                        String::new()
                    };
                    s.push_str(&format!(
                        "  margin {}: worst {v:.1} vs limit {lim} → {:.1}{pct}\n",
                        slo.text,
                        lim - v
                    ));
                }
            }
        }
    }
    s
}

/// The base seed of a scenario (for `Query::base_seed`).
pub fn base_seed(path: &Path) -> Result<u64, String> {
    crate::scenario::load(path)
        .map(|s| s.seed)
        .map_err(|e| e.to_string())
}
