//! reclaim: starving jobs take resources back from other, reclaimable queues
//! (actions/reclaim/reclaim.go, v1.15). Per-node statements; victims must be Running; the
//! reclaimer is pipelined even when nothing had to be evicted; only the resource arithmetic
//! decides when to stop evicting (quirk #8, no predicate re-run).

use std::collections::BTreeMap;

use crate::policy::conf::{Action, Flag};
use crate::policy::heap::PriorityQueue;
use crate::policy::session::{Session, Statement};
use crate::policy::snapshot::{NodeId, QueueId, TaskId, TaskStatus};

use super::preempt::{could_fit, validate_victims};
use super::{FailMemo, JobHeap};
use crate::policy::accel::VictimBins;

pub fn run(ssn: &mut Session) {
    let mut queues = PriorityQueue::new();
    let mut per_queue: BTreeMap<QueueId, JobHeap> = BTreeMap::new();
    let mut seen = vec![false; ssn.snap().queues.len()];
    // Only admitted jobs with Pending tasks can do anything here (index kept by the snapshot).
    let live = ssn.snap().idx.admitted_pending_jobs();
    for j in live {
        if ssn.snap().job(j).is_pending() || !ssn.tiers.job_valid(&ssn.st, j) {
            continue;
        }
        let q = ssn.snap().job(j).queue;
        if !seen[q.ix()] {
            seen[q.ix()] = true;
            ssn.push_queue(&mut queues, q);
        }
        if ssn.tiers.job_starving(&ssn.st, j) {
            let mut h = per_queue.remove(&q).unwrap_or_default();
            h.push(ssn, j);
            per_queue.insert(q, h);
        }
    }

    let mut memo = FailMemo::new(Flag::Reclaimable);
    let mut bins = std::mem::take(&mut ssn.accel.victim_bins);
    let rule = ssn.tiers.victim_rule(Flag::Reclaimable);
    while let Some(q) = ssn.pop_queue(&mut queues) {
        if ssn.tiers.overused(&ssn.st, q) {
            continue;
        }
        let Some(mut h) = per_queue.remove(&q) else {
            continue;
        };
        while let Some(j) = h.pop(ssn) {
            let pending: Vec<TaskId> = ssn.snap().tasks_in(j, TaskStatus::Pending).collect();
            let mut th = ssn.task_heap(pending);
            let mut stmt = Statement::new();
            while ssn.tiers.job_starving(&ssn.st, j) {
                let Some(t) = ssn.pop_task(&mut th) else {
                    break;
                };
                if ssn.snap().task(t).preemption_never || !ssn.tiers.preemptive(&ssn.st, q, t) {
                    continue;
                }
                if memo.known_to_fail(ssn, t) {
                    continue;
                }
                let started = ssn.snap().node_epoch;
                if !reclaim_for_task(ssn, &mut bins, &rule, &mut stmt, t) {
                    memo.record(ssn, t, started);
                }
            }
            if ssn.tiers.job_pipelined(&ssn.st, j) {
                ssn.commit(stmt);
            } else {
                ssn.discard(stmt);
            }
        }
        ssn.push_queue(&mut queues, q);
    }
    ssn.accel.victim_bins = bins;
}

fn reclaim_for_task(
    ssn: &mut Session,
    bins: &mut VictimBins,
    rule: &[Vec<(u16, u16)>],
    stmt: &mut Statement,
    t: TaskId,
) -> bool {
    let pqueue = ssn.snap().queue_of_task(t);
    let req = ssn.snap().task(t).resreq;
    // Nodes where evicting every possible victim would make room (first bound: everything
    // Running in other reclaimable queues; then only the candidates the plugins may answer).
    // See `preempt_task`: leaving the others out up front changes nothing.
    let in_reach: Vec<NodeId> = (0..ssn.snap().nodes.len() as u32)
        .map(NodeId)
        .filter(|&n| {
            let future = ssn.snap().nodes[n.ix()].future;
            let mut bound = future;
            let mut any = false;
            let other = |q: QueueId| q != pqueue && ssn.snap().queues[q.ix()].reclaimable;
            let node_bins = bins.of(ssn, n);
            let others = || node_bins.iter().filter(|b| other(b.queue));
            for b in others() {
                bound.add(&b.running_sum);
                any = true;
            }
            // The reclaimees: Running tasks of the other reclaimable queues.
            let running = others()
                .flat_map(|b| b.preemptable.iter().copied())
                .filter(|&v| ssn.snap().task(v).status == TaskStatus::Running);
            any && (!ssn.shortcuts || req.fits_in(&bound))
                && could_fit(ssn, rule, Flag::Reclaimable, t, n, running)
        })
        .collect();
    if in_reach.is_empty() {
        return false;
    }
    let nodes = ssn.preempt_candidates(t, &in_reach);
    for n in nodes {
        let reclaimees: Vec<TaskId> = ssn.snap().nodes[n.ix()]
            .tasks
            .iter()
            .copied()
            .filter(|&v| {
                let vt = ssn.snap().task(v);
                let vq = ssn.snap().job(vt.job).queue;
                vt.status == TaskStatus::Running
                    && vt.preemptable
                    && vq != pqueue
                    && ssn.snap().queues[vq.ix()].reclaimable
            })
            .collect();
        let victims = ssn.tiers.reclaimable(&ssn.st, t, &reclaimees);
        if !validate_victims(ssn, t, n, &victims) {
            continue;
        }
        let order = ssn.tiers.victim_order(&ssn.st, &victims, t);
        let mut node_stmt = Statement::new();
        let base = ssn.snap().nodes[n.ix()].future_idle();
        let mut reclaimed = crate::model::Resources::empty();
        let mut evicted = false;
        for v in order {
            if req.fits_in(&base.plus(&reclaimed)) {
                break;
            }
            reclaimed.add(&ssn.snap().task(v).resreq);
            ssn.evict(&mut node_stmt, v, Action::Reclaim, t);
            evicted = true;
        }
        if req.fits_in(&base.plus(&reclaimed)) {
            ssn.pipeline(&mut node_stmt, t, n, evicted);
            stmt.merge(node_stmt);
            return true;
        }
        ssn.discard(node_stmt);
    }
    false
}
