//! preempt: within a queue, starving jobs evict lower-priority work (actions/preempt/preempt.go,
//! v1.15 normal mode). Per-node statements: evictions on a node that does not end up hosting
//! the preemptor are rolled back; the preemptor is pipelined, never bound; a task that already
//! holds a nomination does not preempt again (quirk #10).

use std::collections::BTreeMap;

use super::{FailMemo, JobHeap};
use crate::policy::accel::VictimBins;
use crate::policy::conf::{Action, Flag};
use crate::policy::heap::PriorityQueue;
use crate::policy::session::{Session, Statement};
use crate::policy::snapshot::{JobId, NodeId, QueueId, TaskId, TaskStatus};

/// Which running tasks may be victims of a preemptor.
#[derive(Clone, Copy)]
enum Scope {
    /// Other jobs of the same queue (phase A).
    SameQueue,
    /// Other tasks of the same job (phase B).
    SameJob,
}

pub fn run(ssn: &mut Session) {
    let mut queues = PriorityQueue::new();
    let mut per_queue: BTreeMap<QueueId, JobHeap> = BTreeMap::new();
    let mut under_request: BTreeMap<QueueId, Vec<JobId>> = BTreeMap::new();
    // Only admitted jobs with Pending tasks can do anything here (index kept by the snapshot).
    let live = ssn.snap().idx.admitted_pending_jobs();
    for j in live {
        if ssn.snap().job(j).is_pending() || !ssn.tiers.job_valid(&ssn.st, j) {
            continue;
        }
        if !ssn.tiers.job_starving(&ssn.st, j) {
            continue;
        }
        let q = ssn.snap().job(j).queue;
        if !per_queue.contains_key(&q) {
            ssn.push_queue(&mut queues, q);
        }
        let mut h = per_queue.remove(&q).unwrap_or_default();
        h.push(ssn, j);
        per_queue.insert(q, h);
        under_request.entry(q).or_default().push(j);
    }

    let mut memo = FailMemo::new(Flag::Preemptable);
    let mut bins = std::mem::take(&mut ssn.accel.victim_bins);
    let rule = ssn.tiers.victim_rule(Flag::Preemptable);
    bins.begin_reach(ssn, ssn.tiers.static_rule_id(&rule));
    while let Some(q) = ssn.pop_queue(&mut queues) {
        // Phase A: between jobs of the same queue.
        let mut h = per_queue.remove(&q).unwrap_or_default();
        while let Some(j) = h.pop(ssn) {
            let mut stmt = Statement::new();
            // A job's Pending tasks do not change before it is popped (victims go Releasing),
            // so its task heap is built here rather than up front.
            let mut th = ssn.task_heap(pending_tasks(ssn, j));
            while ssn.tiers.job_starving(&ssn.st, j) {
                let Some(t) = ssn.pop_task(&mut th) else {
                    break;
                };
                if memo.known_to_fail(ssn, t) {
                    continue;
                }
                let started = ssn.snap().node_epoch;
                if !preempt_task(ssn, &mut bins, &rule, &mut stmt, t, Scope::SameQueue) {
                    memo.record(ssn, t, started);
                }
            }
            if ssn.tiers.job_pipelined(&ssn.st, j) {
                ssn.commit(stmt);
            } else {
                ssn.discard(stmt);
            }
        }
        // Phase B: within each starving job of the queue.
        for &j in under_request.get(&q).map(|v| v.as_slice()).unwrap_or(&[]) {
            if !has_preemptable_task(ssn, j) {
                // Its first task would fail at once (see `preempt_task`), ending the loop.
                continue;
            }
            let pending = pending_tasks(ssn, j);
            let mut th = ssn.task_heap(pending);
            while let Some(t) = ssn.pop_task(&mut th) {
                let mut stmt = Statement::new();
                if preempt_task(ssn, &mut bins, &rule, &mut stmt, t, Scope::SameJob) {
                    ssn.commit(stmt);
                } else {
                    ssn.discard(stmt);
                    break;
                }
            }
        }
    }
    ssn.accel.victim_bins = bins;
}

fn pending_tasks(ssn: &Session, j: JobId) -> Vec<TaskId> {
    ssn.snap().tasks_in(j, TaskStatus::Pending).collect()
}

/// Whether any task of `j` could be a phase-B victim (Bound/Running with the preemptable flag).
fn has_preemptable_task(ssn: &Session, j: JobId) -> bool {
    let snap = ssn.snap();
    snap.job(j).tasks.iter().any(|&v| {
        let vt = snap.task(v);
        vt.preemptable && vt.status.is_preemptable()
    })
}

/// `taskEligibleToPreempt`.
fn eligible(ssn: &Session, t: TaskId) -> bool {
    let task = ssn.snap().task(t);
    if task.preemption_never {
        return false;
    }
    let Some(n) = task.nominated_node else {
        return true;
    };
    match ssn.tiers.predicate(&ssn.st, t, n) {
        Ok(()) => false,
        Err(e) if e.unresolvable => true,
        Err(_) => {
            // Not eligible while a lower-priority pod on that node is still terminating.
            let node = &ssn.snap().nodes[n.ix()];
            !node.tasks.iter().any(|&x| {
                let v = ssn.snap().task(x);
                v.status == TaskStatus::Releasing && v.priority < task.priority
            })
        }
    }
}

/// Tries to make room for `t` on one node; on success `t` is pipelined there and the node's
/// evictions are merged into `stmt`.
fn preempt_task(
    ssn: &mut Session,
    bins: &mut VictimBins,
    rule: &[Vec<(u16, u16)>],
    stmt: &mut Statement,
    t: TaskId,
    scope: Scope,
) -> bool {
    if !eligible(ssn, t) {
        return false;
    }
    let (pjob, pqueue, pbe, req) = {
        let task = ssn.snap().task(t);
        let q = ssn.snap().job(task.job).queue;
        (task.job, q, task.best_effort, task.resreq)
    };
    if let Scope::SameJob = scope {
        // Victims come from the job itself: none can be preemptable if none of its tasks is.
        if !has_preemptable_task(ssn, pjob) {
            return false;
        }
    }
    // The queue's preemptable tasks on a node that `t` may take in this scope.
    let in_scope = |ssn: &Session, v: TaskId| {
        let vt = ssn.snap().task(v);
        if pbe && !vt.best_effort {
            return false;
        }
        match scope {
            Scope::SameQueue => vt.job != pjob,
            Scope::SameJob => vt.job == pjob,
        }
    };
    // Nodes where evicting every possible victim would make room (first bound: everything the
    // queue's preemptable tasks hold; then only the candidates the plugins may answer, see
    // `could_fit`). Victims are a subset of these candidates, so the others cannot pass
    // `ValidateVictims`; and the loop below changes no other node than the one it is on, so
    // leaving them out up front changes nothing.
    // Phase A's answer for a node depends only on the node's version (see
    // `VictimBins::out_of_reach`); phase B's is not kept.
    let mut record = match scope {
        Scope::SameQueue => bins.take_reach(ssn, t),
        Scope::SameJob => None,
    };
    let in_reach: Vec<NodeId> = (0..ssn.snap().nodes.len() as u32)
        .map(NodeId)
        .filter(|&n| {
            let version = ssn.snap().nodes[n.ix()].version;
            if record.as_ref().is_some_and(|r| r[n.ix()] == version) {
                return false;
            }
            let future = ssn.snap().nodes[n.ix()].future;
            let reach = bins
                .of(ssn, n)
                .iter()
                .find(|b| b.queue == pqueue)
                .is_some_and(|b| {
                    (!ssn.shortcuts || req.fits_in(&future.plus(&b.preemptable_sum)))
                        && could_fit(
                            ssn,
                            rule,
                            Flag::Preemptable,
                            t,
                            n,
                            b.preemptable.iter().copied().filter(|&v| in_scope(ssn, v)),
                        )
                });
            if !reach {
                if let Some(r) = record.as_mut() {
                    r[n.ix()] = version;
                }
            }
            reach
        })
        .collect();
    bins.put_reach(t, record);
    if in_reach.is_empty() {
        return false;
    }
    let candidates = ssn.preempt_candidates(t, &in_reach);
    let nodes = ssn.nodes_by_score(t, &candidates);
    let mut preemptees: Vec<TaskId> = Vec::new();
    for n in nodes {
        preemptees.clear();
        {
            let Some(bin) = bins.of(ssn, n).iter().find(|b| b.queue == pqueue) else {
                continue;
            };
            preemptees.extend(
                bin.preemptable
                    .iter()
                    .copied()
                    .filter(|&v| in_scope(ssn, v)),
            );
        }
        let victims = ssn.tiers.preemptable(&ssn.st, t, &preemptees);
        if !validate_victims(ssn, t, n, &victims) {
            continue;
        }
        let order = ssn.tiers.victim_order(&ssn.st, &victims, t);
        let mut node_stmt = Statement::new();
        let mut evicted = false;
        for v in order {
            if preemptor_fits(ssn, t, n, pqueue) {
                break;
            }
            ssn.evict(&mut node_stmt, v, Action::Preempt, t);
            evicted = true;
        }
        if preemptor_fits(ssn, t, n, pqueue) {
            ssn.pipeline(&mut node_stmt, t, n, evicted);
            stmt.merge(node_stmt);
            return true;
        }
        ssn.discard(node_stmt);
    }
    false
}

/// Whether `t` fits FutureIdle plus everything the candidates that may be victims hold (an
/// upper bound of any victim set the plugins can answer; see `Tiers::may_be_victim`).
/// Without shortcuts every candidate counts.
pub(crate) fn could_fit(
    ssn: &Session,
    rule: &[Vec<(u16, u16)>],
    f: Flag,
    t: TaskId,
    n: NodeId,
    cands: impl IntoIterator<Item = TaskId>,
) -> bool {
    let mut avail = ssn.snap().nodes[n.ix()].future;
    let mut any = false;
    for v in cands {
        if !ssn.shortcuts || ssn.tiers.may_be_victim(rule, f, &ssn.st, t, v) {
            avail.add(&ssn.snap().task(v).resreq);
            any = true;
        }
    }
    any && ssn.snap().task(t).resreq.fits_in(&avail)
}

/// `ValidateVictims`: there are victims, and the request fits FutureIdle plus everything they
/// would free.
pub(crate) fn validate_victims(ssn: &Session, t: TaskId, n: NodeId, victims: &[TaskId]) -> bool {
    if victims.is_empty() {
        return false;
    }
    let mut avail = ssn.snap().nodes[n.ix()].future_idle();
    for &v in victims {
        avail.add(&ssn.snap().task(v).resreq);
    }
    ssn.snap().task(t).resreq.fits_in(&avail)
}

fn preemptor_fits(ssn: &Session, t: TaskId, n: NodeId, q: QueueId) -> bool {
    ssn.tiers.allocatable(&ssn.st, q, t)
        && ssn
            .snap()
            .task(t)
            .resreq
            .fits_in(&ssn.snap().nodes[n.ix()].future_idle())
        && ssn.tiers.predicate(&ssn.st, t, n).is_ok()
}
