//! The workflow model: one recorded Temporal execution as a DAG of nodes (activities, timers,
//! signals, child workflows) with recorded timings, plus its canonical JSON-lines file
//! (`jsonl`) and summary statistics (`stats`).
//!
//! Depends only on `crate::model` (nothing here does I/O except `jsonl`). Invariants: node ids
//! are the history `eventId` of the node's first event and are unique within one execution;
//! event 1 (WorkflowExecutionStarted) is the root every dependency chain starts from; nodes are
//! sorted by id; all times are integer milliseconds (absolute times are Unix epoch ms, node times
//! are offsets from the execution's start event).

mod activity;
mod hints;
mod jsonl;
mod stats;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use activity::{Activity, Outcome, RetryPolicy, SynthAttempt, Timeouts};
pub use hints::{Hints, Priority};
pub use jsonl::{read_jsonl, read_jsonl_from, write_jsonl, write_jsonl_to, JsonlError, SCHEMA};
pub use stats::stats;

/// Node id of the workflow start (the `WorkflowExecutionStarted` event is always event 1).
pub const START: u64 = 1;

/// One workflow execution (one run). Top-level workflows are independent arrivals; a child
/// execution is nested inside its parent's [`ChildWorkflow`] node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workflow {
    pub workflow_id: String,
    /// Run id; empty when neither the history nor the file name carries it.
    pub run_id: String,
    pub workflow_type: String,
    /// The workflow task queue (sticky queues are ignored).
    pub task_queue: String,
    /// Arrival: `WorkflowExecutionStarted.eventTime` plus `firstWorkflowTaskBackoff`, Unix ms.
    pub arrival_unix_ms: i64,
    /// `firstWorkflowTaskBackoff` (cron / delayed start), ms; already included in the arrival.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_delay_ms: u64,
    /// Recorded close, `None` while the execution was still running when exported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close: Option<Close>,
    /// Set on child executions (B.4 rule 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<ParentRef>,
    /// Continue-as-new: the run this one continues.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continued_from_run_id: Option<String>,
    /// Decoded memo fields (payloads decoded when `json/plain`, otherwise `null`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub memo: BTreeMap<String, serde_json::Value>,
    /// Decoded search attributes (`indexedFields`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub search_attributes: BTreeMap<String, serde_json::Value>,
    /// Workflow-level resource hints: memo (`resources`, `volcanoQueue`, …) over search
    /// attributes (`VolcanoQueue`, `GangSize`, `CpuMillis`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hints: Option<Hints>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// Local activities (`MarkerRecorded`): they run inside workflow tasks, not as nodes.
    #[serde(default, skip_serializing_if = "is_zero32")]
    pub local_activities: u32,
    /// Number of events in the history.
    pub history_length: u32,
    /// The file the execution was imported from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// The DAG, sorted by node id.
    pub nodes: Vec<Node>,
}

impl Workflow {
    /// Checks the DAG: every dependency names another node of this execution (or [`START`]),
    /// and the dependencies have no cycle (a cycle would keep the execution from ever closing).
    /// Returns what is wrong, naming the node ids.
    pub fn check_dag(&self) -> Result<(), String> {
        let index: BTreeMap<u64, usize> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id, i))
            .collect();
        let mut indegree = vec![0usize; self.nodes.len()];
        let mut users: Vec<Vec<usize>> = vec![Vec::new(); self.nodes.len()];
        for (i, n) in self.nodes.iter().enumerate() {
            for d in n.deps.iter().filter(|d| d.node != START) {
                if d.node == n.id {
                    return Err(format!("node {} depends on itself", n.id));
                }
                let Some(&j) = index.get(&d.node) else {
                    return Err(format!(
                        "node {} depends on node {}, which the execution does not have",
                        n.id, d.node
                    ));
                };
                indegree[i] += 1;
                users[j].push(i);
            }
        }
        // Kahn's algorithm: whatever is left with dependencies lies on a cycle.
        let mut ready: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| indegree[i] == 0)
            .collect();
        let mut done = 0;
        while let Some(i) = ready.pop() {
            done += 1;
            for &u in &users[i] {
                indegree[u] -= 1;
                if indegree[u] == 0 {
                    ready.push(u);
                }
            }
        }
        if done < self.nodes.len() {
            let on_cycle: Vec<String> = (0..self.nodes.len())
                .filter(|&i| indegree[i] > 0)
                .take(8)
                .map(|i| self.nodes[i].id.to_string())
                .collect();
            return Err(format!(
                "the dependencies form a cycle (nodes {})",
                on_cycle.join(", ")
            ));
        }
        Ok(())
    }
}

/// How and when the execution closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Close {
    pub status: CloseStatus,
    /// Offset from the start event, ms.
    pub at_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseStatus {
    Completed,
    Failed,
    TimedOut,
    Canceled,
    Terminated,
    ContinuedAsNew,
}

/// Link from a child execution to the parent's `StartChildWorkflowExecutionInitiated`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParentRef {
    pub workflow_id: String,
    #[serde(default)]
    pub run_id: String,
    pub initiated_event_id: u64,
}

/// A node of the DAG.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// `eventId` of the node's first event (Scheduled / TimerStarted / Initiated / Signaled).
    pub id: u64,
    /// When the node was issued (command) or arrived (signal), offset from the start, ms.
    pub issued_ms: u64,
    /// Nodes whose results arrived since the previous command-issuing workflow task (B.4
    /// rule 6). Empty for external stimuli (signals).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deps: Vec<Dep>,
    /// Fan-out group: the `workflowTaskCompletedEventId` shared by every command issued by
    /// one workflow task (B.4 rule 5). `None` for signals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<u64>,
    /// Workflow-task latency between the triggering result and this command (B.4 rule 7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_task: Option<WorkflowTaskTiming>,
    pub kind: NodeKind,
}

/// A dependency edge: `node` is a node id (or [`START`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Dep {
    pub node: u64,
    /// What of `node` is awaited: its close (default) or only its start (a child workflow
    /// whose `ChildWorkflowExecutionStarted` was the only result seen).
    #[serde(default, skip_serializing_if = "DepOn::is_close")]
    pub on: DepOn,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DepOn {
    #[default]
    Close,
    Start,
}

impl DepOn {
    fn is_close(&self) -> bool {
        *self == DepOn::Close
    }
}

/// Timing of the workflow task that issued a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowTaskTiming {
    /// From the latest dependency's result event to the command event, ms.
    pub trigger_to_command_ms: u64,
    /// `WorkflowTaskScheduled → Started` of the issuing task (workflow-worker queueing), ms.
    pub queue_ms: u64,
    /// `WorkflowTaskStarted → Completed` (workflow code), ms.
    pub run_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NodeKind {
    Activity(Box<Activity>),
    Timer(Timer),
    Signal(Signal),
    Child(Box<ChildWorkflow>),
}

/// A pure delay (B.4 rule 8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timer {
    pub timer_id: String,
    /// Configured `startToFireTimeout`, ms.
    pub start_to_fire_ms: u64,
    /// Recorded Started → Fired/Canceled, ms; `None` while pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub canceled: bool,
}

/// An external stimulus: its release time is the node's `issued_ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    pub name: String,
    pub source: SignalSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalSource {
    /// `WorkflowExecutionSignaled`.
    Signal,
    /// `WorkflowExecutionUpdateAccepted`.
    Update,
    /// `WorkflowExecutionCancelRequested`.
    CancelRequest,
}

/// A child workflow started by this execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildWorkflow {
    pub workflow_id: String,
    pub workflow_type: String,
    pub task_queue: String,
    /// Run id from `ChildWorkflowExecutionStarted`, if it started.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub run_id: String,
    /// Initiated → ChildWorkflowExecutionStarted, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_latency_ms: Option<u64>,
    /// ChildWorkflowExecutionStarted → close, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// `None` while pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<ChildOutcome>,
    /// The child's own execution when its history was imported too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<Workflow>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChildOutcome {
    Completed,
    Failed,
    Canceled,
    TimedOut,
    Terminated,
    /// `StartChildWorkflowExecutionFailed`.
    StartFailed,
}

impl Workflow {
    /// Executions in this tree: itself plus every linked child, recursively.
    pub fn execution_count(&self) -> usize {
        1 + self
            .children()
            .filter_map(|c| c.execution.as_ref())
            .map(Workflow::execution_count)
            .sum::<usize>()
    }

    /// Activity nodes of this execution only (not of children).
    pub fn activities(&self) -> impl Iterator<Item = (&Node, &Activity)> {
        self.nodes.iter().filter_map(|n| match &n.kind {
            NodeKind::Activity(a) => Some((n, a.as_ref())),
            _ => None,
        })
    }

    /// Child-workflow nodes of this execution.
    pub fn children(&self) -> impl Iterator<Item = &ChildWorkflow> {
        self.nodes.iter().filter_map(|n| match &n.kind {
            NodeKind::Child(c) => Some(c.as_ref()),
            _ => None,
        })
    }

    /// Activities in this tree, children included.
    pub fn activity_count_deep(&self) -> usize {
        self.activities().count()
            + self
                .children()
                .filter_map(|c| c.execution.as_ref())
                .map(Workflow::activity_count_deep)
                .sum::<usize>()
    }

    /// This execution and all linked children, depth first, parent before children.
    pub fn walk(&self) -> Vec<&Workflow> {
        let mut out = vec![self];
        for c in self.children().filter_map(|c| c.execution.as_ref()) {
            out.extend(c.walk());
        }
        out
    }

    /// Fan-out groups: `workflowTaskCompletedEventId` → node ids issued by that task, ascending.
    pub fn fanout_groups(&self) -> BTreeMap<u64, Vec<u64>> {
        let mut g: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
        for n in &self.nodes {
            if let Some(k) = n.group {
                g.entry(k).or_default().push(n.id);
            }
        }
        g
    }

    pub fn node(&self, id: u64) -> Option<&Node> {
        self.nodes
            .binary_search_by_key(&id, |n| n.id)
            .ok()
            .map(|i| &self.nodes[i])
    }
}

/// The earliest arrival among `workflows` (the workload's t = 0, B.4 rule 1), Unix ms.
pub fn origin_unix_ms(workflows: &[Workflow]) -> Option<i64> {
    workflows.iter().map(|w| w.arrival_unix_ms).min()
}

fn is_zero(x: &u64) -> bool {
    *x == 0
}

fn is_zero32(x: &u32) -> bool {
    *x == 0
}
