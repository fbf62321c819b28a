//! The HTML report of a sweep results directory: the ranked combinations, each point's SLO
//! columns and the sweep file's `show` columns, metric-vs-axis charts per queue and a heatmap
//! over the first two axes.
//!
//! Depends on `sweep::{run, summary, plots}` and `report::html`.

use std::path::Path;

use super::run::{read_results, SweepError};
use super::{plots, summary};
use crate::report::html::{Block, Page, Section};
use crate::report::slo::slo_column;

/// Builds the report of the sweep results in `dir`; with `png_dir`, also writes PNG charts.
pub fn sweep_report(dir: &Path) -> Result<Page, SweepError> {
    let run = read_results(dir)?;
    let t = &run.table;
    let metric = summary::rank_metric(&run);
    let mut cols: Vec<String> = vec!["point".into(), "seed".into()];
    cols.extend(run.meta.axes.iter().map(|a| a.0.clone()));
    cols.push("slo_met".into());
    for s in &run.meta.slos {
        if let Ok(slo) = crate::scenario::parse_slo(s) {
            let c = slo_column(&slo);
            if !cols.contains(&c) {
                cols.push(c);
            }
        }
    }
    if let Some(m) = &metric {
        if !cols.contains(m) {
            cols.push(m.clone());
        }
    }
    for c in &run.meta.show {
        if !cols.contains(c) {
            cols.push(c.clone());
        }
    }
    for c in ["cluster.share", "cluster.starved"] {
        if !cols.iter().any(|x| x == c) {
            cols.push(c.into());
        }
    }
    let cols: Vec<String> = cols.into_iter().filter(|c| t.column(c).is_some()).collect();
    let ranked = summary::rank(&run);
    let rows: Vec<Vec<String>> = ranked
        .iter()
        .enumerate()
        .take(30)
        .map(|(k, r)| {
            let mut row = vec![(k + 1).to_string()];
            for c in &cols {
                let v = &t.column(c).expect("filtered").values;
                row.push(match v.num(r.row) {
                    Some(x) if c.contains('.') && x.fract() != 0.0 => format!("{x:.2}"),
                    _ => v.cell(r.row),
                });
            }
            row
        })
        .collect();
    let mut head = vec!["rank".to_string()];
    head.extend(cols.iter().cloned());
    let charts: Vec<Block> = plots::charts(&run)
        .into_iter()
        .map(|c| Block::Chart(c.title, c.svg))
        .collect();
    let intro = format!(
        "{} points over {} (base seed {}, seeds {}, {} replication(s)). Ranked by SLOs met (worst replication); among configurations meeting every SLO, the cheapest (least cluster cpu) first; then {}. SLOs: {}.{}",
        t.rows(),
        run.meta.scenario,
        run.meta.base_seed,
        run.meta.seeds,
        run.meta.replications,
        metric.as_deref().unwrap_or("point"),
        if run.meta.slos.is_empty() { "none".into() } else { run.meta.slos.join("; ") },
        if run.meta.show.is_empty() {
            String::new()
        } else {
            format!(" Compared per point (the sweep's `show`): {}.", run.meta.show.join(", "))
        }
    );
    Ok(Page {
        title: format!("volsim sweep report — {}", run.meta.sweep_file),
        subtitle: format!("{} · sweep digest {}", dir.display(), run.meta.sweep_digest),
        sections: vec![
            Section {
                heading: "Ranking".into(),
                blocks: vec![Block::Text(intro), Block::Table(head, rows)],
            },
            Section {
                heading: "Metrics vs axes".into(),
                blocks: charts,
            },
        ],
    })
}
