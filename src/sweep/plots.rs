//! Sweep plots: for each axis, every queue's p95 wait (and the cluster's cpu utilisation)
//! against that axis — faceted by the other axis when there are two, else averaged with the
//! averaging said in the title; with two or more axes, a heatmap of the ranking metric (and of
//! every `show` column) over the first two, coloured against its SLO threshold with a legend.
//! SVG text, under `plots/`.
//!
//! Depends on `sweep::{run, summary}` and `report::svg`.

use std::collections::BTreeMap;
use std::path::Path;

use super::run::{SweepError, SweepRun};
use crate::report::heatmap::{heatmap, Scale};
use crate::report::slo::{slo_column, slo_limit};
use crate::report::svg::{line_chart, Series};

/// A named SVG chart.
pub struct Chart {
    pub name: String,
    pub title: String,
    pub svg: String,
}

/// `metric` against `axis`: the mean over the rows with equal `axis` value (replications, and
/// the other axes unless `only` pins one of them to a value).
fn mean_by(
    run: &SweepRun,
    axis: &str,
    metric: &str,
    only: Option<(&str, &str)>,
) -> Vec<(f64, f64)> {
    let t = &run.table;
    let (Some(a), Some(m)) = (t.column(axis), t.column(metric)) else {
        return Vec::new();
    };
    let pin = only.and_then(|(c, v)| t.column(c).map(|c| (c, v)));
    let mut acc: BTreeMap<u64, (f64, f64, f64)> = BTreeMap::new();
    for i in 0..t.rows() {
        if pin.is_some_and(|(c, v)| c.values.cell(i) != v) {
            continue;
        }
        if let (Some(x), Some(y)) = (a.values.num(i), m.values.num(i)) {
            let e = acc.entry(x.to_bits()).or_insert((x, 0.0, 0.0));
            e.1 += y;
            e.2 += 1.0;
        }
    }
    let mut v: Vec<(f64, f64)> = acc.into_values().map(|(x, s, n)| (x, s / n)).collect();
    v.sort_by(|p, q| p.0.total_cmp(&q.0));
    v
}

/// The distinct cells of column `c`, in first-seen order.
fn values_of(run: &SweepRun, c: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(col) = run.table.column(c) {
        for i in 0..run.table.rows() {
            let v = col.values.cell(i);
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}

/// The SLO threshold (in the column's unit) of the SLO whose column is `metric`, if any.
fn slo_threshold(run: &SweepRun, metric: &str) -> Option<(f64, String)> {
    run.meta.slos.iter().find_map(|text| {
        let slo = crate::scenario::parse_slo(text).ok()?;
        (slo_column(&slo) == metric).then(|| {
            let unit = if slo.metric.is_duration() {
                "s"
            } else {
                "jobs"
            };
            (slo_limit(&slo), unit.to_string())
        })
    })
}

/// Builds the sweep's charts (numeric axes only). With two axes, each metric-vs-axis chart is
/// faceted by the other axis (one line per value) instead of averaging over it; with three or
/// more, the title says which axes the mean is over. Replications are always averaged (said
/// in the title).
pub fn charts(run: &SweepRun) -> Vec<Chart> {
    let queues: Vec<String> = run
        .meta
        .metric_keys
        .iter()
        .filter(|k| k.0 == 1)
        .map(|k| k.1.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let axes: Vec<&str> = run.meta.axes.iter().map(|a| a.0.as_str()).collect();
    let reps = if run.meta.replications > 1 {
        format!(", mean of {} replications", run.meta.replications)
    } else {
        String::new()
    };
    let mut out = Vec::new();
    for (ai, axis) in axes.iter().enumerate() {
        let others: Vec<&str> = axes.iter().copied().filter(|a| a != axis).collect();
        // (title suffix, series builder input): facets when exactly one other axis.
        let facet = (others.len() == 1).then(|| (others[0], values_of(run, others[0])));
        let over = if others.len() >= 2 {
            format!(" (mean over {}{reps})", others.join(", "))
        } else if reps.is_empty() {
            String::new()
        } else {
            format!(" ({})", reps.trim_start_matches(", "))
        };
        let lines = |metric: &str, name: &str| -> Vec<Series> {
            match &facet {
                Some((o, vals)) => vals
                    .iter()
                    .map(|v| {
                        (
                            format!("{name} {o}={v}").trim().to_string(),
                            mean_by(run, axis, metric, Some((o, v))),
                        )
                    })
                    .filter(|s| !s.1.is_empty())
                    .collect(),
                None => vec![(name.to_string(), mean_by(run, axis, metric, None))]
                    .into_iter()
                    .filter(|s| !s.1.is_empty())
                    .collect(),
            }
        };
        for (qi, q) in queues.iter().enumerate() {
            let series = lines(&format!("{q}.p95_wait_s"), q);
            if series.is_empty() {
                continue;
            }
            let title = format!("{q}: p95 wait vs {axis}{over}");
            out.push(Chart {
                name: format!("p95_wait_q{qi}_vs_axis{ai}"),
                svg: line_chart(&title, axis, "p95 wait (s)", &series, false),
                title,
            });
        }
        let util = lines("cluster.cpu_util", "");
        if !util.is_empty() {
            let title = format!("cluster cpu utilisation vs {axis}{over}");
            out.push(Chart {
                name: format!("cpu_util_vs_axis{ai}"),
                svg: line_chart(&title, axis, "cpu utilisation (fraction)", &util, false),
                title,
            });
        }
    }
    if run.meta.axes.len() >= 2 {
        if let Some(metric) = super::summary::rank_metric(run) {
            out.extend(heatmap_of(run, &metric, "heatmap".into(), &reps));
        }
        // one heatmap per `show` column (the rank metric's is above)
        let rank = super::summary::rank_metric(run);
        for (i, c) in run.meta.show.iter().enumerate() {
            if rank.as_deref() != Some(c.as_str()) {
                out.extend(heatmap_of(run, c, format!("heatmap_show{i}"), &reps));
            }
        }
    }
    out
}

/// The heatmap of column `metric` over the first two axes (mean over the rest and over
/// replications), coloured against the SLO threshold on that column if there is one; `None`
/// when a column is missing.
fn heatmap_of(run: &SweepRun, metric: &str, name: String, reps: &str) -> Option<Chart> {
    let t = &run.table;
    let axes: Vec<&str> = run.meta.axes.iter().map(|a| a.0.as_str()).collect();
    let (ax, ay) = (axes[0], axes[1]);
    let (cx, cy, cm) = (t.column(ax)?, t.column(ay)?, t.column(metric)?);
    let mut xs: Vec<String> = Vec::new();
    let mut ys: Vec<String> = Vec::new();
    let mut cells: BTreeMap<(usize, usize), (f64, f64)> = BTreeMap::new();
    for i in 0..t.rows() {
        let (x, y) = (cx.values.cell(i), cy.values.cell(i));
        let xi = xs.iter().position(|v| *v == x).unwrap_or_else(|| {
            xs.push(x.clone());
            xs.len() - 1
        });
        let yi = ys.iter().position(|v| *v == y).unwrap_or_else(|| {
            ys.push(y.clone());
            ys.len() - 1
        });
        if let Some(v) = cm.values.num(i) {
            let e = cells.entry((yi, xi)).or_insert((0.0, 0.0));
            e.0 += v;
            e.1 += 1.0;
        }
    }
    let z: Vec<Vec<Option<f64>>> = (0..ys.len())
        .map(|yi| {
            (0..xs.len())
                .map(|xi| cells.get(&(yi, xi)).map(|(s, n)| s / n))
                .collect()
        })
        .collect();
    let (threshold, unit) = match slo_threshold(run, metric) {
        Some((th, unit)) => (Some(th), unit),
        None => (None, String::new()),
    };
    let rest = if axes.len() > 2 {
        format!(", mean over {}", axes[2..].join(", "))
    } else {
        String::new()
    };
    let title = format!("{metric} over {ax} × {ay}{rest}{reps}");
    Some(Chart {
        name,
        svg: heatmap(&title, ax, ay, &xs, &ys, &z, &Scale { threshold, unit }),
        title,
    })
}

/// Writes every chart as `dir/plots/<name>.svg`.
pub fn write_plots(run: &SweepRun, dir: &Path) -> Result<Vec<Chart>, SweepError> {
    let d = dir.join("plots");
    std::fs::create_dir_all(&d).map_err(|e| SweepError::Io(format!("{}: {e}", d.display())))?;
    let cs = charts(run);
    for c in &cs {
        let p = d.join(format!("{}.svg", c.name));
        std::fs::write(&p, &c.svg).map_err(|e| SweepError::Io(format!("{}: {e}", p.display())))?;
    }
    Ok(cs)
}
