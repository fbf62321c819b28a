//! The terminal table: one row per queue, then one per workload class, with human durations
//! and an SLO verdict column.
//!
//! Depends on `report` metrics and `model::format_duration`. Pure: the same metrics and checks
//! give the same string.

use super::{GroupMetrics, Metrics};
use crate::model::format_duration;

/// Which wait statistic an SLO bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitStat {
    P50,
    P95,
    P99,
    Max,
}

impl WaitStat {
    pub fn as_str(self) -> &'static str {
        match self {
            WaitStat::P50 => "p50",
            WaitStat::P95 => "p95",
            WaitStat::P99 => "p99",
            WaitStat::Max => "max",
        }
    }
}

/// "The `stat` wait of queue `queue` must be ≤ `max_wait_ms`" (and, when `max_starved` is
/// set, at most that many starved jobs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SloCheck {
    pub queue: String,
    pub stat: WaitStat,
    pub max_wait_ms: u64,
    pub max_starved: Option<u64>,
}

impl SloCheck {
    /// `Some(true)` pass, `Some(false)` fail; a stat that does not exist (no job became
    /// gang-ready) fails.
    pub fn verdict(&self, g: &GroupMetrics) -> (bool, String) {
        let w = match self.stat {
            WaitStat::P50 => g.waits.p50,
            WaitStat::P95 => g.waits.p95,
            WaitStat::P99 => g.waits.p99,
            WaitStat::Max => g.waits.max,
        };
        let limit = format_duration(self.max_wait_ms);
        let wait_ok = w.is_some_and(|w| w <= self.max_wait_ms);
        let starved_ok = self.max_starved.is_none_or(|m| g.starved <= m);
        let ok = wait_ok && starved_ok;
        let text = if ok {
            format!("ok {}≤{}", self.stat.as_str(), limit)
        } else if !wait_ok {
            format!(
                "FAIL {} {}>{}",
                self.stat.as_str(),
                w.map(format_duration).unwrap_or_else(|| "-".into()),
                limit
            )
        } else {
            format!("FAIL starved {}", g.starved)
        };
        (ok, text)
    }
}

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

/// The table for queues (with SLO verdicts from `slos`, all checks of a queue joined) and
/// classes.
pub fn render_table(m: &Metrics, slos: &[SloCheck]) -> String {
    render_table_marked(m, |scope, name| {
        let g = m.queues.iter().find(|g| g.name == name);
        let v: Vec<String> = slos
            .iter()
            .filter(|s| scope == "queue" && s.queue == name)
            .filter_map(|s| g.map(|g| s.verdict(g).1))
            .collect();
        v.join("; ")
    })
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
