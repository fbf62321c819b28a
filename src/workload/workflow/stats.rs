//! `volsim trace stats`: a plain-text summary of a workflow workload — counts, arrival rate,
//! durations and fan-out distributions per workflow / activity type. Pure function over the
//! model; output is deterministic (sorted keys, nearest-rank percentiles, integer ms).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::{NodeKind, Outcome, Workflow};

/// Nearest-rank percentile of a sorted slice (`p` in 0..=100).
fn pct(sorted: &[u64], p: u64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p * sorted.len() as u64).div_ceil(100).max(1) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// `n p50 p95 max` of a sample, or `-` when empty.
fn dist(mut v: Vec<u64>) -> String {
    if v.is_empty() {
        return format!("{:>5} {:>7} {:>7} {:>7}", 0, "-", "-", "-");
    }
    v.sort_unstable();
    format!(
        "{:>5} {:>7} {:>7} {:>7}",
        v.len(),
        pct(&v, 50),
        pct(&v, 95),
        v[v.len() - 1]
    )
}

#[derive(Default)]
struct ActAgg {
    queue: Vec<u64>,
    service: Vec<u64>,
    retried: usize,
    outcomes: BTreeMap<&'static str, usize>,
}

/// Summarises `workflows` (top-level, children nested) as a text report.
pub fn stats(workflows: &[Workflow]) -> String {
    let mut out = String::new();
    let all: Vec<&Workflow> = workflows.iter().flat_map(|w| w.walk()).collect();
    let children = all.len() - workflows.len();
    let _ = writeln!(
        out,
        "executions: {} ({} top-level, {} children)",
        all.len(),
        workflows.len(),
        children
    );

    // Arrivals of top-level workflows.
    let mut arrivals: Vec<i64> = workflows.iter().map(|w| w.arrival_unix_ms).collect();
    arrivals.sort_unstable();
    if let (Some(first), Some(last)) = (arrivals.first(), arrivals.last()) {
        let span = (last - first).max(0) as u64;
        let gaps: Vec<u64> = arrivals
            .windows(2)
            .map(|p| (p[1] - p[0]).max(0) as u64)
            .collect();
        let rate = if span > 0 {
            (arrivals.len() - 1) as f64 * 1000.0 / span as f64
        } else {
            0.0
        };
        let _ = writeln!(out, "arrivals: span {span} ms, rate {rate:.2}/s");
        let _ = writeln!(
            out,
            "  inter-arrival ms   {:>5} {:>7} {:>7} {:>7}",
            "n", "p50", "p95", "max"
        );
        let _ = writeln!(out, "                     {}", dist(gaps));
    }

    // Per workflow type.
    // type → (durations, status counts, activity fan-out sizes)
    type TypeAgg = (Vec<u64>, BTreeMap<String, usize>, Vec<u64>);
    let mut by_type: BTreeMap<&str, TypeAgg> = BTreeMap::new();
    for w in &all {
        let e = by_type.entry(w.workflow_type.as_str()).or_default();
        let status = match &w.close {
            Some(c) => {
                e.0.push(c.at_ms);
                serde_json::to_value(c.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            }
            None => "running".to_string(),
        };
        *e.1.entry(status).or_default() += 1;
        for g in w.fanout_groups().values() {
            let acts = g
                .iter()
                .filter(|id| matches!(w.node(**id).map(|n| &n.kind), Some(NodeKind::Activity(_))))
                .count();
            if acts > 0 {
                e.2.push(acts as u64);
            }
        }
    }
    let _ = writeln!(
        out,
        "\nworkflow types (duration ms; activity fan-out per workflow task)"
    );
    let _ = writeln!(
        out,
        "  {:<32} {:>5} {:>7} {:>7} {:>7} | fan {:>5} {:>7} {:>7} {:>7} | status",
        "type", "n", "p50", "p95", "max", "n", "p50", "p95", "max"
    );
    for (t, (durs, status, fan)) in by_type {
        let st: Vec<String> = status.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(
            out,
            "  {:<32} {} | fan {} | {}",
            t,
            dist(durs),
            dist(fan),
            st.join(" ")
        );
    }

    // Per activity type.
    let mut acts: BTreeMap<(&str, &str), ActAgg> = BTreeMap::new();
    for w in &all {
        for (_, a) in w.activities() {
            let e = acts
                .entry((a.activity_type.as_str(), a.task_queue.as_str()))
                .or_default();
            e.queue.extend(a.queue_ms);
            e.service.extend(a.service_ms);
            if a.attempts > 1 {
                e.retried += 1;
            }
            let o = match a.outcome {
                Outcome::Completed => "completed",
                Outcome::Failed => "failed",
                Outcome::TimedOut => "timed_out",
                Outcome::Canceled => "canceled",
                Outcome::Pending => "pending",
            };
            *e.outcomes.entry(o).or_default() += 1;
        }
    }
    let total: usize = acts
        .values()
        .map(|a| a.outcomes.values().sum::<usize>())
        .sum();
    let _ = writeln!(out, "\nactivity types: {total} activities (queue = sched→start of attempt 1; service = last attempt)");
    let _ = writeln!(
        out,
        "  {:<28} {:<20} | queue {:>5} {:>7} {:>7} {:>7} | service {:>5} {:>7} {:>7} {:>7} | retried | outcomes",
        "type", "task queue", "n", "p50", "p95", "max", "n", "p50", "p95", "max"
    );
    for ((t, q), a) in acts {
        let o: Vec<String> = a.outcomes.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(
            out,
            "  {:<28} {:<20} | queue {} | service {} | {:>7} | {}",
            t,
            q,
            dist(a.queue),
            dist(a.service),
            a.retried,
            o.join(" ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(pct(&v, 50), 50);
        assert_eq!(pct(&v, 95), 95);
        assert_eq!(pct(&[7], 95), 7);
        assert_eq!(pct(&[], 50), 0);
    }

    #[test]
    fn empty_workload() {
        assert!(stats(&[]).starts_with("executions: 0"));
    }
}
