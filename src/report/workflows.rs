//! Workflow replay metrics: per workflow type and per activity type, the simulated end-to-end
//! (schedule → close for activities) latency percentiles next to the recorded ones, the queue
//! wait of mapped activities; the "workflows" terminal table and `workflows.csv` (one row per
//! replayed execution).
//!
//! Depends on `model::format_duration`, `report::nearest_rank` and the `sim::workflows` record
//! types. Groups are ordered by name; rows of the CSV follow the records' creation order, so
//! the same records give the same bytes.

use std::collections::BTreeMap;
use std::io;

use super::nearest_rank;
use crate::model::format_duration;
use crate::sim::workflows::WorkflowRecord;

/// Nearest-rank percentiles (ms) of a set of latencies; `None` when the set is empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pcts {
    pub n: u64,
    pub p50: Option<u64>,
    pub p95: Option<u64>,
    pub p99: Option<u64>,
}

impl Pcts {
    pub fn of(mut v: Vec<u64>) -> Pcts {
        v.sort_unstable();
        Pcts {
            n: v.len() as u64,
            p50: nearest_rank(&v, 50),
            p95: nearest_rank(&v, 95),
            p99: nearest_rank(&v, 99),
        }
    }
}

/// One workflow or activity type.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TypeMetrics {
    pub name: String,
    /// Executions (workflows) or activities.
    pub count: u64,
    /// Closed in the simulation.
    pub closed: u64,
    /// Mapped activities (of the type, or inside the workflows of the type).
    pub mapped: u64,
    pub recorded: Pcts,
    pub simulated: Pcts,
    /// Queue wait of mapped activities (per activity; per workflow: Σ over its activities).
    pub wait: Pcts,
}

/// Workflow-replay metrics of a run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkflowMetrics {
    pub workflow_types: Vec<TypeMetrics>,
    pub activity_types: Vec<TypeMetrics>,
}

impl WorkflowMetrics {
    pub fn workflow_type(&self, name: &str) -> Option<&TypeMetrics> {
        self.workflow_types.iter().find(|t| t.name == name)
    }
}

/// Computes the metrics of replayed `records`.
pub fn workflow_metrics(records: &[WorkflowRecord]) -> WorkflowMetrics {
    let mut wt: BTreeMap<&str, Vec<&WorkflowRecord>> = BTreeMap::new();
    for r in records {
        wt.entry(r.workflow_type.as_str()).or_default().push(r);
    }
    let workflow_types = wt
        .into_iter()
        .map(|(name, rs)| TypeMetrics {
            name: name.to_string(),
            count: rs.len() as u64,
            closed: rs.iter().filter(|r| r.simulated_e2e_ms.is_some()).count() as u64,
            mapped: rs.iter().map(|r| r.mapped_activities() as u64).sum(),
            recorded: Pcts::of(rs.iter().filter_map(|r| r.recorded_e2e_ms).collect()),
            simulated: Pcts::of(rs.iter().filter_map(|r| r.simulated_e2e_ms).collect()),
            wait: Pcts::of(
                rs.iter()
                    .filter(|r| r.mapped_activities() > 0)
                    .map(|r| r.activity_wait_ms())
                    .collect(),
            ),
        })
        .collect();
    let mut at: BTreeMap<&str, Vec<_>> = BTreeMap::new();
    for a in records.iter().flat_map(|r| &r.activities) {
        at.entry(a.activity_type.as_str()).or_default().push(a);
    }
    let activity_types = at
        .into_iter()
        .map(|(name, xs)| TypeMetrics {
            name: name.to_string(),
            count: xs.len() as u64,
            closed: xs.iter().filter(|a| a.simulated_ms.is_some()).count() as u64,
            mapped: xs.iter().filter(|a| a.queue.is_some()).count() as u64,
            recorded: Pcts::of(xs.iter().filter_map(|a| a.recorded_ms).collect()),
            simulated: Pcts::of(xs.iter().filter_map(|a| a.simulated_ms).collect()),
            wait: Pcts::of(xs.iter().filter_map(|a| a.wait_ms).collect()),
        })
        .collect();
    WorkflowMetrics {
        workflow_types,
        activity_types,
    }
}

fn dur(x: Option<u64>) -> String {
    x.map(format_duration).unwrap_or_else(|| "-".into())
}

fn rows(title: &str, ts: &[TypeMetrics], out: &mut String) {
    let header = [
        title, "n", "closed", "mapped", "rec p50", "p95", "p99", "sim p50", "p95", "p99",
        "wait p50", "p95",
    ];
    let mut all: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for t in ts {
        all.push(vec![
            t.name.clone(),
            t.count.to_string(),
            t.closed.to_string(),
            t.mapped.to_string(),
            dur(t.recorded.p50),
            dur(t.recorded.p95),
            dur(t.recorded.p99),
            dur(t.simulated.p50),
            dur(t.simulated.p95),
            dur(t.simulated.p99),
            dur(t.wait.p50),
            dur(t.wait.p95),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| all.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for r in &all {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            let pad = " ".repeat(widths[i] - c.chars().count());
            if i == 0 {
                line.push_str(c);
                line.push_str(&pad);
            } else {
                line.push_str(&pad);
                line.push_str(c);
            }
            line.push_str("  ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// The "workflows" table (end-to-end, recorded vs simulated) and the activity-type table
/// (schedule → close; wait = queue wait of mapped activities).
pub fn render_workflows(m: &WorkflowMetrics) -> String {
    let mut out = String::new();
    rows("workflow", &m.workflow_types, &mut out);
    out.push('\n');
    rows("activity", &m.activity_types, &mut out);
    out
}

/// `workflows.csv`: one row per replayed execution, times in ms (empty: did not happen).
pub fn workflows_csv(records: &[WorkflowRecord]) -> io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "workflow_id",
        "run_id",
        "workflow_type",
        "parent",
        "arrival",
        "recorded_e2e",
        "simulated_e2e",
        "activities",
        "mapped_activities",
        "activity_wait",
    ])?;
    let opt = |x: Option<u64>| x.map(|v| v.to_string()).unwrap_or_default();
    for r in records {
        w.write_record([
            r.workflow_id.as_str(),
            r.run_id.as_str(),
            r.workflow_type.as_str(),
            r.parent.as_deref().unwrap_or(""),
            &r.start_ms.to_string(),
            &opt(r.recorded_e2e_ms),
            &opt(r.simulated_e2e_ms),
            &r.activities.len().to_string(),
            &r.mapped_activities().to_string(),
            &r.activity_wait_ms().to_string(),
        ])?;
    }
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}
