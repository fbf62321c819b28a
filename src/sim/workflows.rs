//! Temporal workflow replay: the `WorkflowDriver`, an `ArrivalSource` that walks each recorded
//! workflow's DAG in simulated time and submits its mapped activities as Volcano jobs.
//!
//! Semantics (notes B.4): a top-level workflow starts at its recorded arrival (ms from the
//! earliest arrival). A node becomes ready when its dependencies have closed (or started, for
//! a `DepOn::Start` edge on a child) plus its recorded trigger → command latency (the workflow
//! task, B.4 rule 7); nodes without dependencies are released at their recorded offset from the
//! start (signals, first commands). Then:
//! * a mapped activity (`map_activity` gives a template and it has a recorded service time) is
//!   submitted as a job running for the recorded service time of the last attempt; when the
//!   history shows retries, each re-synthesised earlier attempt is replayed first as its own
//!   job (its estimated run time), followed by its retry-policy backoff — failed attempts hold
//!   cluster resources, as they would on Volcano;
//! * an unmapped activity runs inline for its recorded schedule → close time (no resources);
//! * a timer is a pure delay of its recorded elapsed time; a signal closes when released;
//! * a child workflow starts after its recorded start latency and, when its history was
//!   imported, replays as a sub-DAG whose close (plus the recorded gap) closes the node;
//!   otherwise it is a pure delay of its recorded duration.
//!
//! The execution closes after the nodes it recorded closing before its close, plus the recorded
//! final workflow-task latency. With nothing mapped, the replay reproduces the recorded close
//! (up to per-event ms rounding). Pending nodes (still running when exported) never close.
//!
//! Depends on `workload` (workflow model, mapping) and `sim::source`. Deterministic: events are
//! ordered by `(time, sequence)`, instances are numbered in creation order.

mod plan;

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

use plan::Plan;
pub use plan::{ActivityRecord, WorkflowRecord};

use super::source::ArrivalSource;
use crate::workload::mapping::MappingTable;
use crate::workload::workflow::{origin_unix_ms, NodeKind, Workflow};
use crate::workload::TraceJob;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    /// Top-level workflow `usize` arrives.
    Arrive(usize),
    /// Node (instance, node) is issued.
    Ready(usize, usize),
    /// Submit the current attempt of a mapped node (after a retry backoff).
    Submit(usize, usize),
    /// The parent sees its child started (releases `DepOn::Start` dependents).
    ChildStart(usize, usize),
    /// The child's own execution starts (slightly before the parent sees it).
    ChildRun(usize, usize),
    Close(usize, usize),
    /// Execution `usize` closes.
    End(usize),
}

struct Inst<'w> {
    wf: &'w Workflow,
    name: String,
    plan: Plan,
    parent: Option<(usize, usize)>,
    start: u64,
    remaining: Vec<u32>,
    ready_at: Vec<Option<u64>>,
    closed_at: Vec<Option<u64>>,
    attempt: Vec<u32>,
    wait: Vec<Option<u64>>,
    end_left: usize,
    end: Option<u64>,
}

/// Replays workflows against the simulated cluster (see the module docs).
pub struct WorkflowDriver<'w> {
    workflows: &'w [Workflow],
    table: &'w MappingTable,
    insts: Vec<Inst<'w>>,
    names: BTreeSet<String>,
    heap: BinaryHeap<Reverse<(u64, u64, Ev)>>,
    seq: u64,
    /// Job key → (instance, node).
    jobs: Vec<(usize, usize)>,
}

impl<'w> WorkflowDriver<'w> {
    /// A driver over top-level `workflows` (children nested); arrivals are relative to the
    /// earliest one.
    pub fn new(workflows: &'w [Workflow], table: &'w MappingTable) -> WorkflowDriver<'w> {
        let origin = origin_unix_ms(workflows).unwrap_or(0);
        let mut d = WorkflowDriver {
            workflows,
            table,
            insts: Vec::new(),
            names: BTreeSet::new(),
            heap: BinaryHeap::new(),
            seq: 0,
            jobs: Vec::new(),
        };
        for (k, w) in workflows.iter().enumerate() {
            let t = w.arrival_unix_ms.saturating_sub(origin).max(0) as u64;
            d.push(t, Ev::Arrive(k));
        }
        d
    }

    fn push(&mut self, t: u64, ev: Ev) {
        self.heap.push(Reverse((t, self.seq, ev)));
        self.seq += 1;
    }

    /// The records of every execution started so far, in creation order.
    pub fn records(&self) -> Vec<WorkflowRecord> {
        self.insts.iter().map(|i| self.record(i)).collect()
    }

    fn record(&self, i: &Inst<'w>) -> WorkflowRecord {
        let activities =
            i.wf.nodes
                .iter()
                .enumerate()
                .filter_map(|(n, node)| match &node.kind {
                    NodeKind::Activity(a) => {
                        let m = i.plan.mapped[n].as_ref();
                        Some(ActivityRecord {
                            activity_type: a.activity_type.clone(),
                            queue: m.map(|m| m.template.queue.clone()),
                            recorded_ms: a.total_ms,
                            simulated_ms: match (i.ready_at[n], i.closed_at[n]) {
                                (Some(r), Some(c)) => Some(c - r),
                                _ => None,
                            },
                            wait_ms: m.and(i.wait[n]),
                            runs: if m.is_some() { i.attempt[n] } else { 0 },
                        })
                    }
                    _ => None,
                })
                .collect();
        WorkflowRecord {
            workflow_id: i.wf.workflow_id.clone(),
            run_id: i.wf.run_id.clone(),
            workflow_type: i.wf.workflow_type.clone(),
            parent: i.parent.map(|(p, _)| self.insts[p].wf.workflow_id.clone()),
            start_ms: i.start,
            recorded_e2e_ms: i.plan.recorded_e2e,
            simulated_e2e_ms: i.end.map(|e| e - i.start),
            activities,
        }
    }

    /// Creates an instance of `wf` started at `t` and releases its root nodes.
    fn start_instance(&mut self, wf: &'w Workflow, parent: Option<(usize, usize)>, t: u64) {
        let plan = Plan::new(wf, self.table);
        let n = wf.nodes.len();
        let mut name = wf.workflow_id.clone();
        if self.names.contains(&name) {
            name = format!("{name}@{}", self.insts.len());
        }
        self.names.insert(name.clone());
        let ix = self.insts.len();
        let end_left = plan.in_end.iter().filter(|&&b| b).count();
        let roots: Vec<usize> = (0..n).filter(|&i| plan.ndeps[i] == 0).collect();
        self.insts.push(Inst {
            wf,
            name,
            remaining: plan.ndeps.clone(),
            parent,
            start: t,
            ready_at: vec![None; n],
            closed_at: vec![None; n],
            attempt: vec![0; n],
            wait: vec![None; n],
            end_left,
            end: None,
            plan,
        });
        for r in roots {
            let lat = self.insts[ix].plan.lat[r];
            self.push(t + lat, Ev::Ready(ix, r));
        }
        if end_left == 0 && wf.close.is_some() {
            let lat = self.insts[ix].plan.close_lat;
            self.push(t + lat, Ev::End(ix));
        }
    }

    fn release(&mut self, deps: Vec<usize>, inst: usize, t: u64) {
        for d in deps {
            let left = &mut self.insts[inst].remaining[d];
            *left = left.saturating_sub(1);
            if *left == 0 {
                let lat = self.insts[inst].plan.lat[d];
                self.push(t + lat, Ev::Ready(inst, d));
            }
        }
    }

    fn submit(&mut self, i: usize, n: usize, t: u64, out: &mut Vec<(u64, TraceJob)>) {
        let inst = &mut self.insts[i];
        let Some(m) = inst.plan.mapped[n].as_ref() else {
            return;
        };
        let k = inst.attempt[n] as usize;
        let Some(&(run, _)) = m.runs.get(k) else {
            return;
        };
        inst.attempt[n] += 1;
        let NodeKind::Activity(a) = &inst.wf.nodes[n].kind else {
            return;
        };
        let tp = &m.template;
        let job = TraceJob {
            id: format!("{}/{}#{}", inst.name, a.activity_id, k + 1),
            submit_ms: t,
            duration_ms: run,
            replicas: tp.replicas,
            min_member: tp.min_member,
            requests: tp.requests,
            queue: tp.queue.clone(),
            priority_class: tp.priority_class.clone(),
            priority: 0,
            class: a.activity_type.clone(),
        };
        out.push((self.jobs.len() as u64, job));
        self.jobs.push((i, n));
    }

    fn handle(&mut self, t: u64, ev: Ev, out: &mut Vec<(u64, TraceJob)>) {
        match ev {
            Ev::Arrive(k) => {
                let wfs = self.workflows;
                self.start_instance(&wfs[k], None, t);
            }
            Ev::Ready(i, n) => {
                self.insts[i].ready_at[n] = Some(t);
                if self.insts[i].plan.mapped[n].is_some() {
                    self.submit(i, n, t, out);
                    return;
                }
                let wf: &'w Workflow = self.insts[i].wf;
                match &wf.nodes[n].kind {
                    NodeKind::Activity(a) => {
                        if let Some(d) = a.total_ms {
                            self.push(t + d, Ev::Close(i, n));
                        }
                    }
                    NodeKind::Timer(tm) => {
                        if let Some(d) = tm.elapsed_ms {
                            self.push(t + d, Ev::Close(i, n));
                        }
                    }
                    NodeKind::Signal(_) => self.push(t, Ev::Close(i, n)),
                    NodeKind::Child(c) => {
                        if let Some(s) = c.start_latency_ms {
                            self.push(t + s, Ev::ChildStart(i, n));
                        }
                        if c.execution.is_some() {
                            self.push(t + child_offsets(c).0, Ev::ChildRun(i, n));
                        } else {
                            if let Some(close) = plan_close(c) {
                                self.push(t + close, Ev::Close(i, n));
                            }
                        }
                    }
                }
            }
            Ev::Submit(i, n) => self.submit(i, n, t, out),
            Ev::ChildStart(i, n) => {
                let deps = self.insts[i].plan.on_start[n].clone();
                self.release(deps, i, t);
            }
            Ev::ChildRun(i, n) => {
                let wf = self.insts[i].wf;
                if let NodeKind::Child(c) = &wf.nodes[n].kind {
                    if let Some(child) = &c.execution {
                        self.start_instance(child, Some((i, n)), t);
                    }
                }
            }
            Ev::Close(i, n) => {
                if self.insts[i].closed_at[n].is_some() {
                    return;
                }
                self.insts[i].closed_at[n] = Some(t);
                let deps = self.insts[i].plan.on_close[n].clone();
                self.release(deps, i, t);
                let inst = &mut self.insts[i];
                if inst.plan.in_end[n] {
                    inst.end_left -= 1;
                    if inst.end_left == 0 && inst.wf.close.is_some() {
                        let lat = inst.plan.close_lat;
                        self.push(t + lat, Ev::End(i));
                    }
                }
            }
            Ev::End(i) => {
                if self.insts[i].end.is_some() {
                    return;
                }
                self.insts[i].end = Some(t);
                if let Some((p, n)) = self.insts[i].parent {
                    // The parent sees the close after the recorded child → parent gap.
                    let gap = match &self.insts[p].wf.nodes[n].kind {
                        NodeKind::Child(c) => child_offsets(c).1,
                        _ => 0,
                    };
                    self.push(t + gap, Ev::Close(p, n));
                }
            }
        }
    }
}

/// For a child with an imported history: (parent issue → child start event, child close →
/// parent sees the close), ms. The child's own start event precedes the parent's
/// `ChildWorkflowExecutionStarted` by a few ms, so the child runs from `issue + first` and
/// its close reaches the parent `second` later, matching the recorded parent timeline.
fn child_offsets(c: &crate::workload::workflow::ChildWorkflow) -> (u64, u64) {
    let sl = c.start_latency_ms.unwrap_or(0);
    let seen = sl + c.duration_ms.unwrap_or(0);
    let e2e = c
        .execution
        .as_ref()
        .and_then(|e| {
            e.close
                .as_ref()
                .map(|x| x.at_ms.saturating_sub(e.start_delay_ms))
        })
        .unwrap_or(0);
    let first = seen.saturating_sub(e2e).min(sl);
    (first, seen.saturating_sub(first + e2e))
}

/// Ready → close of a child without an imported history, ms (`None`: never closes).
fn plan_close(c: &crate::workload::workflow::ChildWorkflow) -> Option<u64> {
    c.outcome?;
    Some(c.start_latency_ms.unwrap_or(0) + c.duration_ms.unwrap_or(0))
}

impl ArrivalSource for WorkflowDriver<'_> {
    fn next_time(&self) -> u64 {
        self.heap.peek().map(|r| r.0 .0).unwrap_or(u64::MAX)
    }

    fn poll(&mut self, now: u64, out: &mut Vec<(u64, TraceJob)>) {
        while let Some(&Reverse((t, _, ev))) = self.heap.peek() {
            if t > now {
                break;
            }
            self.heap.pop();
            self.handle(t, ev, out);
        }
    }

    fn job_finished(&mut self, key: u64, now: u64, wait_ms: Option<u64>) {
        let Some(&(i, n)) = self.jobs.get(key as usize) else {
            return;
        };
        let inst = &mut self.insts[i];
        if let Some(w) = wait_ms {
            *inst.wait[n].get_or_insert(0) += w;
        }
        let Some(m) = inst.plan.mapped[n].as_ref() else {
            return;
        };
        let k = inst.attempt[n] as usize;
        if k < m.runs.len() {
            let backoff = m.runs[k.saturating_sub(1)].1;
            self.push(now + backoff, Ev::Submit(i, n));
        } else {
            self.push(now, Ev::Close(i, n));
        }
    }
}

#[cfg(test)]
mod tests;
