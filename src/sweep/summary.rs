//! The ranked terminal summary of a sweep: combinations ordered by SLOs met (worst replication),
//! then by the `rank_by` metric, lower is better (worst replication; default: the first SLO's
//! column), then point index.
//!
//! Under the ranking, the sweep file's `show` columns as a comparison block: one line per
//! column, one cell per ranked combination (same order, headed by its point).
//!
//! Depends on `sweep::{run, table}` only.

use std::fmt::Write;

use super::run::SweepRun;
use super::table::Values;

/// The metric a sweep is ranked by.
pub fn rank_metric(run: &SweepRun) -> Option<String> {
    if let Some(r) = &run.meta.rank_by {
        return Some(r.clone());
    }
    let slo = run.meta.slos.first()?;
    let s = crate::scenario::parse_slo(slo).ok()?;
    Some(crate::report::slo::slo_column(&s))
}

/// One ranked combination.
#[derive(Debug, Clone)]
pub struct Ranked {
    /// Row of the combination's first replication.
    pub row: usize,
    pub slo_met: u64,
    pub slo_total: u64,
    pub metric: Option<f64>,
    /// The cluster's cpu capacity (cores, `cluster.capacity_cpu`), the configuration's cost.
    pub cost: Option<f64>,
}

/// Ranks combinations (rows grouped by `point / replications`): most SLOs met (worst
/// replication) first; among those meeting every SLO the cheapest (`cluster.capacity_cpu`)
/// first; then the ranking metric (worst replication), then the row.
pub fn rank(run: &SweepRun) -> Vec<Ranked> {
    let t = &run.table;
    let reps = run.meta.replications.max(1) as u64;
    let col = |n: &str| t.column(n).map(|c| &c.values);
    let metric = rank_metric(run);
    let mcol = metric.as_deref().and_then(col);
    let mut out: Vec<(u64, Ranked)> = Vec::new();
    for i in 0..t.rows() {
        let p = col("point").and_then(|v| v.num(i)).unwrap_or(0.0) as u64;
        let met = col("slo_met").and_then(|v| v.num(i)).unwrap_or(0.0) as u64;
        let total = col("slo_total").and_then(|v| v.num(i)).unwrap_or(0.0) as u64;
        let m = mcol.and_then(|v| v.num(i));
        let cost = col("cluster.capacity_cpu").and_then(|v| v.num(i));
        let combo = p / reps;
        match out.last_mut() {
            Some((c, r)) if *c == combo => {
                r.slo_met = r.slo_met.min(met);
                r.metric = match (r.metric, m) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
            _ => out.push((
                combo,
                Ranked {
                    row: i,
                    slo_met: met,
                    slo_total: total,
                    metric: m,
                    cost,
                },
            )),
        }
    }
    let mut v: Vec<Ranked> = out.into_iter().map(|(_, r)| r).collect();
    // Combinations meeting every SLO come first, cheapest (least cluster cpu) first; then the
    // rest by SLOs met. Within equal cost or SLO count, the ranking metric decides.
    let all_met = |r: &Ranked| r.slo_total > 0 && r.slo_met == r.slo_total;
    let cost = |r: &Ranked| {
        if all_met(r) {
            r.cost.unwrap_or(f64::INFINITY)
        } else {
            f64::INFINITY
        }
    };
    v.sort_by(|a, b| {
        b.slo_met
            .cmp(&a.slo_met)
            .then(cost(a).total_cmp(&cost(b)))
            .then(
                a.metric
                    .unwrap_or(f64::INFINITY)
                    .total_cmp(&b.metric.unwrap_or(f64::INFINITY)),
            )
            .then(a.row.cmp(&b.row))
    });
    v
}

/// Renders the top `n` combinations as an aligned text table.
pub fn render(run: &SweepRun, n: usize) -> String {
    let t = &run.table;
    let metric = rank_metric(run);
    let ranked = rank(run);
    let mut head = vec!["rank".to_string(), "point".into()];
    head.extend(run.meta.axes.iter().map(|(a, _)| a.clone()));
    head.push("SLOs met".into());
    if let Some(m) = &metric {
        head.push(if run.meta.replications > 1 {
            format!("{m} (worst rep)")
        } else {
            m.clone()
        });
    }
    let mut rows = vec![head];
    for (k, r) in ranked.iter().take(n).enumerate() {
        let mut row = vec![
            (k + 1).to_string(),
            t.column("point")
                .map(|c| c.values.cell(r.row))
                .unwrap_or_default(),
        ];
        for (a, _) in &run.meta.axes {
            row.push(
                t.column(a)
                    .map(|c| c.values.cell(r.row))
                    .unwrap_or_default(),
            );
        }
        row.push(format!("{}/{}", r.slo_met, r.slo_total));
        if metric.is_some() {
            row.push(
                r.metric
                    .map(|x| format!("{x:.1}"))
                    .unwrap_or_else(|| "n/a".into()),
            );
        }
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut s = String::new();
    let reps = if run.meta.replications > 1 {
        format!(", {} replications each", run.meta.replications)
    } else {
        String::new()
    };
    let _ = writeln!(
        s,
        "sweep {} — {} points{reps}; best {} of {} combinations:",
        run.meta.sweep_file,
        t.rows(),
        n.min(ranked.len()),
        ranked.len()
    );
    for r in &rows {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:>w$}"))
            .collect();
        let _ = writeln!(s, "  {}", cells.join("  "));
    }
    s += &render_show(run, &ranked[..n.min(ranked.len())]);
    if let (Some(best), Some(Values::Str(cmds))) =
        (ranked.first(), t.column("command").map(|c| &c.values))
    {
        let _ = writeln!(s, "re-run the best point: {}", cmds[best.row]);
    }
    s
}

/// A `show` cell: integers as they are, other numbers with 2 decimals below 100, else none;
/// "n/a" for a missing column or an empty cell.
pub fn show_cell(v: Option<f64>) -> String {
    match v {
        Some(x) if x.fract() == 0.0 => format!("{x:.0}"),
        Some(x) if x.abs() < 100.0 => format!("{x:.2}"),
        Some(x) => format!("{x:.0}"),
        None => "n/a".into(),
    }
}

/// The comparison block of the `show` columns over the ranked combinations `ranked` (empty
/// without `show`). Columns missing from the results are listed in a note.
fn render_show(run: &SweepRun, ranked: &[Ranked]) -> String {
    if run.meta.show.is_empty() || ranked.is_empty() {
        return String::new();
    }
    let t = &run.table;
    let point = |r: &Ranked| {
        t.column("point")
            .map(|c| c.values.cell(r.row))
            .unwrap_or_default()
    };
    let mut rows = vec![std::iter::once("per point".to_string())
        .chain(ranked.iter().map(|r| format!("point {}", point(r))))
        .collect::<Vec<_>>()];
    let mut missing = Vec::new();
    for c in &run.meta.show {
        let col = t.column(c);
        if col.is_none() {
            missing.push(c.as_str());
        }
        let mut row = vec![c.clone()];
        row.extend(
            ranked
                .iter()
                .map(|r| show_cell(col.and_then(|v| v.values.num(r.row)))),
        );
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut s = String::new();
    for r in &rows {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if i == 0 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        let _ = writeln!(s, "  {}", cells.join("  "));
    }
    if !missing.is_empty() {
        let _ = writeln!(
            s,
            "  (not in these results: {}; e.g. mean_tier needs HyperNodes, time_to_reclaim_* is per queue)",
            missing.join(", ")
        );
    }
    s
}
