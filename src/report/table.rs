//! The terminal table: one row per queue, then one per workload class, with human durations
//! and an SLO verdict column (`<metric> ok|FAIL` from the run's `SloVerdict`s).
//!
//! Depends on `report` metrics and `model::format_duration`. Pure: the same metrics and checks
//! give the same string.

use super::slo::{slo_marks, SloVerdict};
use super::{GroupMetrics, Metrics};
use crate::model::format_duration;

fn dur(x: Option<u64>) -> String {
    x.map(format_duration).unwrap_or_else(|| "-".into())
}

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.1}%", v * 100.0))
        .unwrap_or_else(|| "-".into())
}

fn row(g: &GroupMetrics, slo: String) -> Vec<String> {
    vec![
        g.name.clone(),
        g.jobs.to_string(),
        g.admitted.to_string(),
        g.completed.to_string(),
        dur(g.waits.p50),
        dur(g.waits.p95),
        dur(g.waits.p99),
        dur(g.waits.max),
        g.starved.to_string(),
        g.evictions.to_string(),
        format!("{} / {}", pct(g.mean_share), pct(g.mean_deserved)),
        slo,
    ]
}

fn render(title: &str, rows: &[Vec<String>], out: &mut String) {
    let header: Vec<String> = [
        title,
        "jobs",
        "admitted",
        "completed",
        "wait p50",
        "p95",
        "p99",
        "max",
        "starved",
        "evict",
        "share / deserved",
        "SLO",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    for r in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            let pad = widths[i] - c.chars().count();
            if i == 0 || i == r.len() - 1 {
                line.push_str(c);
                line.push_str(&" ".repeat(pad));
            } else {
                line.push_str(&" ".repeat(pad));
                line.push_str(c);
            }
            line.push_str("  ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// The table for queues and classes with the SLO column filled from `slos`.
pub fn render_table(m: &Metrics, slos: &[SloVerdict]) -> String {
    render_table_marked(m, |scope, name| slo_marks(slos, scope, name))
}

/// The table with the SLO column filled by `mark(scope, name)` (`scope`: "queue" or "class").
pub fn render_table_marked(m: &Metrics, mark: impl Fn(&str, &str) -> String) -> String {
    let qrows: Vec<Vec<String>> = m
        .queues
        .iter()
        .map(|g| row(g, mark("queue", &g.name)))
        .collect();
    let crows: Vec<Vec<String>> = m
        .classes
        .iter()
        .map(|g| row(g, mark("class", &g.name)))
        .collect();
    let mut out = String::new();
    render("queue", &qrows, &mut out);
    out.push('\n');
    render("class", &crows, &mut out);
    out
}
