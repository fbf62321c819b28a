//! allocate: place Pending tasks of Inqueue jobs, queue by queue and job by job, committing a
//! job's statement only when it is gang-ready (actions/allocate/allocate.go, non-topology path).
//! A pipelined-but-not-ready statement is neither committed nor discarded: its tasks hold their
//! reservation until the session closes (quirk #13). One attempt per job per cycle unless it
//! became ready with tasks left, in which case it gets one more task per pop.

use std::collections::{BTreeMap, BTreeSet};

use super::num_nodes_to_find;
use crate::model::Resources;
use crate::policy::conf::Action;
use crate::policy::heap::PriorityQueue;
use crate::policy::session::{Session, Statement};
use crate::policy::snapshot::{JobId, NodeId, TaskId, TaskStatus};

pub fn run(ssn: &mut Session) {
    let has_enqueue = ssn.st.conf.has_action(Action::Enqueue);
    let mut queues = PriorityQueue::new();
    let mut queued = BTreeSet::new();
    // Per-queue job heaps by queue id (`None` = no heap, as a missing map entry).
    let mut jobs: Vec<Option<PriorityQueue<JobId>>> = vec![None; ssn.snap().queues.len()];
    let mut worksheets: BTreeMap<JobId, PriorityQueue<TaskId>> = BTreeMap::new();
    let live: Vec<JobId> = ssn.snap().live_jobs().collect();
    for j in live {
        if ssn.snap().job(j).is_pending() {
            if has_enqueue {
                continue;
            }
            ssn.set_inqueue(j);
        }
        if ssn.snap().job(j).count(TaskStatus::Pending) == 0 || !ssn.tiers.job_valid(&ssn.st, j) {
            continue;
        }
        let pending: Vec<TaskId> = ssn
            .snap()
            .job(j)
            .tasks
            .iter()
            .copied()
            .filter(|&t| {
                let task = ssn.snap().task(t);
                task.status == TaskStatus::Pending && !task.best_effort
            })
            .collect();
        if pending.is_empty() {
            continue;
        }
        worksheets.insert(j, ssn.task_heap(pending));
        let q = ssn.snap().job(j).queue;
        let h = jobs[q.ix()].get_or_insert_with(PriorityQueue::new);
        ssn.push_job(h, j);
        if queued.insert(q) {
            ssn.push_queue(&mut queues, q);
        }
    }

    while let Some(q) = ssn.pop_queue(&mut queues) {
        if ssn.tiers.overused(&ssn.st, q) {
            continue;
        }
        let Some(mut h) = jobs[q.ix()].take() else {
            continue;
        };
        let Some(j) = ssn.pop_job(&mut h) else {
            continue;
        };
        let mut ws = worksheets.remove(&j).unwrap_or_default();
        let stmt = allocate_for_tasks(ssn, j, &mut ws);
        if let Some(stmt) = stmt {
            if ssn.tiers.job_ready(&ssn.st, j) {
                ssn.commit(stmt);
                if !ws.is_empty() {
                    ssn.push_job(&mut h, j);
                }
            }
            // else: pipelined, kept as an in-session reservation.
        }
        worksheets.insert(j, ws);
        jobs[q.ix()] = Some(h);
        ssn.push_queue(&mut queues, q);
    }
}

/// `NeedContinueAllocating` (api/job_info.go) after a task of `failed_role` found no node.
fn need_continue(ssn: &Session, j: JobId, failed_roles: &BTreeSet<String>) -> bool {
    let snap = ssn.snap();
    let job = snap.job(j);
    if job.min_available as usize == job.tasks.len() {
        return false;
    }
    if job.min_available < job.task_min_total {
        let mut n = job.ready_num();
        for &t in &job.tasks {
            let task = snap.task(t);
            if task.status == TaskStatus::Pending && !failed_roles.contains(&task.role) {
                n += 1;
            }
        }
        return n >= job.min_available;
    }
    for role in failed_roles {
        let min = job.task_min_available.get(role).copied().unwrap_or(0);
        if min == 0 {
            continue;
        }
        let allocated = job
            .tasks
            .iter()
            .filter(|&&t| {
                let task = snap.task(t);
                task.role == *role
                    && (task.status.is_allocated()
                        || task.status == TaskStatus::Succeeded
                        || (task.status == TaskStatus::Pending && task.best_effort))
            })
            .count() as u32;
        if allocated < min {
            return false;
        }
    }
    true
}

/// Feasible nodes for `t` in scan order: `InitResreq ⊑ FutureIdle` and the plugin predicates,
/// stopping after `numNodesToFind` (node sampling on clusters above 100 nodes).
pub(crate) fn predicate_nodes(
    ssn: &mut Session,
    t: TaskId,
    candidates: Option<&[NodeId]>,
) -> Vec<NodeId> {
    let n = ssn.snap().nodes.len();
    let req: Resources = ssn.snap().task(t).resreq;
    let mut out = Vec::new();
    let check = |ssn: &mut Session, node: NodeId, out: &mut Vec<NodeId>| {
        let info = &ssn.snap().nodes[node.ix()];
        if !req.fits_in(&info.future_idle()) {
            return;
        }
        match ssn.tiers.predicate(&ssn.st, t, node) {
            Ok(()) => out.push(node),
            Err(e) => ssn.record_unresolvable(t, node, &e),
        }
    };
    match candidates {
        Some(list) => {
            for &node in list {
                check(ssn, node, &mut out);
            }
        }
        None => {
            let want = num_nodes_to_find(n);
            if n > 100 && ssn.scan_start == usize::MAX {
                ssn.scan_start = ssn.rng.pick(n);
            }
            let start = if n > 100 { ssn.scan_start } else { 0 };
            let mut processed = 0;
            for k in 0..n {
                if out.len() >= want {
                    break;
                }
                check(ssn, NodeId(((start + k) % n) as u32), &mut out);
                processed += 1;
            }
            if n > 100 {
                ssn.scan_start = (start + processed) % n;
            }
        }
    }
    out
}

/// `prioritize`: nodes where the task fits Idle first, else those where it fits FutureIdle;
/// then the best score.
fn prioritize(ssn: &mut Session, t: TaskId, feasible: &[NodeId]) -> NodeId {
    let req = ssn.snap().task(t).resreq;
    let idle: Vec<NodeId> = feasible
        .iter()
        .copied()
        .filter(|n| req.fits_in(&ssn.snap().nodes[n.ix()].idle))
        .collect();
    if !idle.is_empty() {
        ssn.best_node(t, &idle)
    } else {
        ssn.best_node(t, feasible)
    }
}

/// `allocateResourcesForTasks`: returns the job's statement if the job is ready or pipelined,
/// after discarding it otherwise.
fn allocate_for_tasks(
    ssn: &mut Session,
    j: JobId,
    ws: &mut PriorityQueue<TaskId>,
) -> Option<Statement> {
    let mut stmt = Statement::new();
    let q = ssn.snap().job(j).queue;
    let mut failed_roles: BTreeSet<String> = BTreeSet::new();
    while let Some(t) = ssn.pop_task(ws) {
        if ssn.snap().task(t).status != TaskStatus::Pending {
            continue;
        }
        if !ssn.tiers.allocatable(&ssn.st, q, t) {
            continue;
        }
        let role = ssn.snap().task(t).role.clone();
        if !role.is_empty() && failed_roles.contains(&role) {
            continue;
        }
        let mut feasible = Vec::new();
        if let Some(nom) = ssn.snap().task(t).nominated_node {
            let req = ssn.snap().task(t).resreq;
            if req.fits_in(&ssn.snap().nodes[nom.ix()].future_idle()) {
                feasible = predicate_nodes(ssn, t, Some(&[nom]));
            }
        }
        if feasible.is_empty() {
            feasible = predicate_nodes(ssn, t, None);
        }
        if feasible.is_empty() {
            failed_roles.insert(role);
            if need_continue(ssn, j, &failed_roles) {
                continue;
            }
            break;
        }
        let node = prioritize(ssn, t, &feasible);
        let req = ssn.snap().task(t).resreq;
        let info = &ssn.snap().nodes[node.ix()];
        if req.fits_in(&info.idle) {
            ssn.allocate(&mut stmt, t, node);
        } else if req.fits_in(&info.future_idle()) {
            ssn.pipeline(&mut stmt, t, node, false);
        }
        if ssn.tiers.job_ready(&ssn.st, j) {
            break;
        }
    }
    if ssn.tiers.job_ready(&ssn.st, j) || ssn.tiers.job_pipelined(&ssn.st, j) {
        Some(stmt)
    } else {
        ssn.discard(stmt);
        None
    }
}
