//! The static replay plan of one recorded workflow execution: dependency edges by node index,
//! the recorded trigger → command latency of every node, the set of nodes the close waits for,
//! the Volcano job template of each mapped activity (with its attempts), and the per-execution
//! output records.
//!
//! Depends on `workload::{workflow, mapping}` only. Recorded times are offsets from the
//! execution's start event; every latency is derived from them so that a replay where nothing
//! queues in the cluster reproduces the recorded timeline (see `sim::workflows`).

use crate::workload::mapping::{map_activity, JobTemplate, MappingTable};
use crate::workload::workflow::{ChildOutcome, DepOn, NodeKind, Workflow, START};

/// One mapped activity: its Volcano job and the run time of each attempt with the backoff
/// that follows it (the last attempt has no backoff).
#[derive(Debug, Clone)]
pub(crate) struct Mapped {
    pub(crate) template: JobTemplate,
    pub(crate) runs: Vec<(u64, u64)>,
}

/// The replay plan of one execution (children have their own plans).
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Node index → nodes waiting on its close / on its start (child workflows).
    pub(crate) on_close: Vec<Vec<usize>>,
    pub(crate) on_start: Vec<Vec<usize>>,
    /// Dependencies each node waits for (edges to unknown ids are dropped).
    pub(crate) ndeps: Vec<u32>,
    /// Recorded latency from the node's last dependency (or the start) to its issue, ms.
    pub(crate) lat: Vec<u64>,
    /// Nodes whose recorded close precedes the execution's close: the close waits for them.
    pub(crate) in_end: Vec<bool>,
    /// Recorded latency from the last of those closes to the execution close, ms.
    pub(crate) close_lat: u64,
    /// Mapped activities (`None`: inline or not an activity).
    pub(crate) mapped: Vec<Option<Mapped>>,
    /// Recorded end-to-end (close − start, excluding a start delay), ms.
    pub(crate) recorded_e2e: Option<u64>,
}

/// Recorded close and start offsets of a node (`None`: never happened).
fn recorded(w: &Workflow, i: usize) -> (Option<u64>, Option<u64>) {
    let n = &w.nodes[i];
    let t = n.issued_ms;
    match &n.kind {
        NodeKind::Activity(a) => (a.total_ms.map(|d| t + d), Some(t)),
        NodeKind::Timer(tm) => (tm.elapsed_ms.map(|d| t + d), Some(t)),
        NodeKind::Signal(_) => (Some(t), Some(t)),
        NodeKind::Child(c) => {
            let start = c.start_latency_ms.map(|s| t + s);
            let close = match c.outcome {
                None => None,
                Some(ChildOutcome::StartFailed) => Some(t),
                Some(_) => Some(t + c.start_latency_ms.unwrap_or(0) + c.duration_ms.unwrap_or(0)),
            };
            (close, start)
        }
    }
}

impl Plan {
    pub(crate) fn new(w: &Workflow, table: &MappingTable) -> Plan {
        let n = w.nodes.len();
        let index = |id: u64| w.nodes.binary_search_by_key(&id, |x| x.id).ok();
        let rec: Vec<(Option<u64>, Option<u64>)> = (0..n).map(|i| recorded(w, i)).collect();
        let mut plan = Plan {
            on_close: vec![Vec::new(); n],
            on_start: vec![Vec::new(); n],
            ndeps: vec![0; n],
            lat: vec![0; n],
            in_end: vec![false; n],
            close_lat: 0,
            mapped: vec![None; n],
            recorded_e2e: w
                .close
                .as_ref()
                .map(|c| c.at_ms.saturating_sub(w.start_delay_ms)),
        };
        for (i, node) in w.nodes.iter().enumerate() {
            let mut deps = node.deps.clone();
            deps.sort();
            deps.dedup();
            let mut trigger = w.start_delay_ms;
            for d in deps {
                if d.node == START {
                    continue;
                }
                let Some(j) = index(d.node).filter(|&j| j != i) else {
                    continue;
                };
                let t = match d.on {
                    DepOn::Close => {
                        plan.on_close[j].push(i);
                        rec[j].0
                    }
                    DepOn::Start => {
                        plan.on_start[j].push(i);
                        rec[j].1
                    }
                };
                plan.ndeps[i] += 1;
                trigger = trigger.max(t.unwrap_or(0));
            }
            plan.lat[i] = node.issued_ms.saturating_sub(trigger);
            if let NodeKind::Activity(a) = &node.kind {
                if let (Some(service), Some(template)) = (a.service_ms, map_activity(table, w, a)) {
                    let mut runs: Vec<(u64, u64)> = a
                        .earlier_attempts
                        .iter()
                        .map(|e| (e.run_ms, e.backoff_ms))
                        .collect();
                    runs.push((service, 0));
                    plan.mapped[i] = Some(Mapped { template, runs });
                }
            }
        }
        if let Some(close) = &w.close {
            let mut last = w.start_delay_ms;
            for (i, r) in rec.iter().enumerate() {
                if let Some(c) = r.0.filter(|&c| c <= close.at_ms) {
                    plan.in_end[i] = true;
                    last = last.max(c);
                }
            }
            plan.close_lat = close.at_ms.saturating_sub(last);
        }
        plan
    }
}

/// One activity as replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityRecord {
    pub activity_type: String,
    /// The Volcano queue when mapped; `None` when it ran inline.
    pub queue: Option<String>,
    /// Recorded schedule → close, ms.
    pub recorded_ms: Option<u64>,
    /// Simulated issue → close, ms (`None`: never closed).
    pub simulated_ms: Option<u64>,
    /// Mapped only: Σ over its jobs of submit → gang ready, ms.
    pub wait_ms: Option<u64>,
    /// Jobs submitted (attempts replayed).
    pub runs: u32,
}

/// One workflow execution as replayed (top-level or child).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowRecord {
    pub workflow_id: String,
    pub run_id: String,
    pub workflow_type: String,
    /// The parent's workflow id for a child execution.
    pub parent: Option<String>,
    /// Simulated start, ms from the workload origin.
    pub start_ms: u64,
    pub recorded_e2e_ms: Option<u64>,
    /// `None` when the execution did not close in the simulated run.
    pub simulated_e2e_ms: Option<u64>,
    pub activities: Vec<ActivityRecord>,
}

impl WorkflowRecord {
    /// Activities that became Volcano jobs.
    pub fn mapped_activities(&self) -> usize {
        self.activities.iter().filter(|a| a.queue.is_some()).count()
    }
    /// Σ queue wait of the mapped activities, ms.
    pub fn activity_wait_ms(&self) -> u64 {
        self.activities.iter().filter_map(|a| a.wait_ms).sum()
    }
}
