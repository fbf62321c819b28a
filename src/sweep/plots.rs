//! Sweep plots: for each axis, every queue's p95 wait (and the cluster's cpu utilisation)
//! against that axis, averaged over the other axes' points with equal value; with two or more
//! axes, a heatmap of the ranking metric over the first two. SVG text, written under `plots/`.
//!
//! Depends on `sweep::{run, summary}` and `report::svg`.

use std::collections::BTreeMap;
use std::path::Path;

use super::run::{SweepError, SweepRun};
use crate::report::svg::{heatmap, line_chart, Series};

/// A named SVG chart.
pub struct Chart {
    pub name: String,
    pub title: String,
    pub svg: String,
}

fn mean_by(run: &SweepRun, axis: &str, metric: &str) -> Vec<(f64, f64)> {
    let t = &run.table;
    let (Some(a), Some(m)) = (t.column(axis), t.column(metric)) else {
        return Vec::new();
    };
    let mut acc: BTreeMap<u64, (f64, f64, f64)> = BTreeMap::new();
    for i in 0..t.rows() {
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

/// Builds the sweep's charts (numeric axes only).
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
    let mut out = Vec::new();
    for (ai, (axis, _)) in run.meta.axes.iter().enumerate() {
        let series: Vec<Series> = queues
            .iter()
            .map(|q| (q.clone(), mean_by(run, axis, &format!("{q}.p95_wait_s"))))
            .filter(|s| !s.1.is_empty())
            .collect();
        if series.is_empty() {
            continue;
        }
        out.push(Chart {
            name: format!("p95_wait_vs_axis{ai}"),
            title: format!("p95 wait per queue vs {axis}"),
            svg: line_chart(
                &format!("p95 wait per queue vs {axis}"),
                axis,
                "p95 wait (s)",
                &series,
                false,
            ),
        });
        let util = vec![(
            "cluster".to_string(),
            mean_by(run, axis, "cluster.cpu_util"),
        )];
        out.push(Chart {
            name: format!("cpu_util_vs_axis{ai}"),
            title: format!("cluster cpu utilisation vs {axis}"),
            svg: line_chart(
                &format!("cluster cpu utilisation vs {axis}"),
                axis,
                "cpu util",
                &util,
                false,
            ),
        });
    }
    if run.meta.axes.len() >= 2 {
        if let Some(metric) = super::summary::rank_metric(run) {
            let t = &run.table;
            let (ax, ay) = (&run.meta.axes[0].0, &run.meta.axes[1].0);
            let (Some(cx), Some(cy), Some(cm)) = (t.column(ax), t.column(ay), t.column(&metric))
            else {
                return out;
            };
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
            out.push(Chart {
                name: "heatmap".into(),
                title: format!("{metric} over {ax} × {ay}"),
                svg: heatmap(
                    &format!("{metric} (mean over replications)"),
                    ax,
                    ay,
                    &xs,
                    &ys,
                    &z,
                ),
            });
        }
    }
    out
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
