//! allocate: place Pending tasks of Inqueue jobs, queue by queue and job by job, committing a
//! job's statement only when it is gang-ready (actions/allocate/allocate.go, non-topology path).
//! A pipelined-but-not-ready statement is neither committed nor discarded: its tasks hold their
//! reservation until the session closes (quirk #13). One attempt per job per cycle unless it
//! became ready with tasks left, in which case it gets one more task per pop. Jobs with a
//! network topology on a cluster with HyperNodes go through `allocate_topology`.

use std::collections::{BTreeMap, BTreeSet};

use smallvec::SmallVec;

use super::job_line::JobLine;
use super::{allocate_topology, num_nodes_to_find, Among};
use crate::model::Resources;
use crate::policy::accel::classes::FITS_IDLE;
use crate::policy::conf::Action;
use crate::policy::explain::{self, WaitReason};
use crate::policy::heap::PriorityQueue;
use crate::policy::session::{Session, Statement};
use crate::policy::snapshot::{JobId, NodeId, QueueId, Snapshot, TaskId, TaskStatus};
use crate::policy::tiers::JobKey;
use crate::policy::topology;

pub fn run(ssn: &mut Session) {
    let has_enqueue = ssn.st.conf.has_action(Action::Enqueue);
    let mut queues = PriorityQueue::new();
    let mut queued = BTreeSet::new();
    // Per-queue job keys by queue id, filed in job-id order; then per-queue job lines (`None`
    // = no line, as a missing map entry), ordered by the precomputed keys: only the job being
    // allocated changes while the others wait, and its key is recomputed before it goes back.
    let mut filed: Vec<Vec<JobKey>> = vec![Vec::new(); ssn.snap().queues.len()];
    // Worksheets are built when a job is first popped (its pending tasks cannot change before)
    // and kept only for a job pushed back to its queue's heap: no other job is popped again.
    let mut worksheets: BTreeMap<JobId, PriorityQueue<TaskId>> = BTreeMap::new();
    // Emptied worksheet buffers, reused for the next job's (no allocation per job and cycle).
    let mut spare: Vec<Vec<TaskId>> = Vec::new();
    if !has_enqueue {
        // Without enqueue, allocate admits every Pending PodGroup itself.
        let pending: Vec<JobId> = ssn.snap().idx.pending_phase.iter().copied().collect();
        for j in pending {
            ssn.set_inqueue(j);
        }
    }
    // Only admitted jobs with Pending tasks can have a worksheet (index kept by the snapshot).
    let live = ssn.snap().idx.admitted_pending_jobs();
    for j in live {
        let job = ssn.snap().job(j);
        // The worksheet holds Pending tasks that are not best-effort (left for backfill).
        if job.is_pending() || job.count(TaskStatus::Pending) <= job.pending_best_effort {
            continue;
        }
        if !ssn.tiers.job_valid(&ssn.st, j) {
            let why = explain::gang_not_ready(ssn, j);
            ssn.note_wait(j, why);
            continue;
        }
        let q = job.queue;
        filed[q.ix()].push(ssn.tiers.job_key_or_slow(&ssn.st, j));
        if queued.insert(q) {
            ssn.push_queue(&mut queues, q);
        }
    }
    let mut jobs: Vec<Option<JobLine>> = filed
        .into_iter()
        .map(|keys| {
            (!keys.is_empty()).then(|| JobLine::new(ssn.tiers, &ssn.st, keys, ssn.shortcuts))
        })
        .collect();

    while let Some(q) = ssn.pop_queue(&mut queues) {
        if ssn.tiers.overused(&ssn.st, q) {
            note_overused(ssn, q, jobs[q.ix()].as_ref());
            continue;
        }
        let Some(mut h) = jobs[q.ix()].take() else {
            continue;
        };
        let Some(key) = h.pop(ssn.tiers, &ssn.st) else {
            continue;
        };
        let j = key.job;
        let mut ws = match worksheets.remove(&j) {
            Some(ws) => ws,
            None => {
                let mut pending = spare.pop().unwrap_or_default();
                pending.extend(
                    ssn.snap()
                        .tasks_in(j, TaskStatus::Pending)
                        .filter(|&t| !ssn.snap().task(t).best_effort),
                );
                ssn.task_heap(pending)
            }
        };
        // Mirrors volcano 7a5d24ecc actions/allocate/allocate.go `Execute`: "Added Queue back
        // until no job in Namespace" — `queues.Push(queue)` before the job's allocation, so the
        // queue's heap slot keeps its pre-allocation share (DRIFT A; v1.15 pushes after it,
        // a684cd848). Only with the compatibility switch `queue-pushed-early`.
        let pushed_early = ssn.st.conf.compat.queue_pushed_early;
        if pushed_early {
            ssn.push_queue(&mut queues, q);
        }
        // Jobs with a network topology on a cluster with HyperNodes take the topology path.
        let (stmt, decision) = if topology::job::uses_topology_path(ssn.snap(), j) {
            allocate_topology::allocate_for_job(ssn, j, &mut ws)
        } else {
            (allocate_for_tasks(ssn, j, &mut ws), None)
        };
        let mut pushed_back = false;
        if let Some(stmt) = stmt {
            if ssn.tiers.job_ready(&ssn.st, j) {
                ssn.commit(stmt);
                if let Some(d) = decision {
                    allocate_topology::record(ssn, j, d);
                }
                if !ws.is_empty() {
                    let key = ssn.tiers.job_key_or_slow(&ssn.st, j);
                    h.push(ssn.tiers, &ssn.st, key);
                    pushed_back = true;
                }
            }
            // else: pipelined, kept as an in-session reservation.
        }
        if pushed_back {
            worksheets.insert(j, ws);
        } else {
            spare.push(ws.into_emptied());
        }
        jobs[q.ix()] = Some(h);
        if !pushed_early {
            ssn.push_queue(&mut queues, q);
        }
    }
}

/// Notes every job still waiting in overused queue `q`'s heap (`explain`; reads only).
fn note_overused(ssn: &mut Session, q: QueueId, h: Option<&JobLine>) {
    let Some(h) = h else {
        return;
    };
    let why = explain::overused(ssn, q);
    let mut waiting: Vec<JobId> = h.jobs().collect();
    // Noted in job-id order, whatever the line's arrangement (the notes of distinct jobs
    // commute; a fixed order keeps the cycle's output independent of the line's form).
    waiting.sort_unstable();
    for j in waiting {
        ssn.note_wait(j, why);
    }
}

/// The roles of a job whose task found no node in this attempt, each held by one of its
/// tasks, so noting a role copies no string (most attempts note one role or none).
#[derive(Debug, Default)]
pub(super) struct FailedRoles(SmallVec<[TaskId; 2]>);

impl FailedRoles {
    /// Is `role` among the failed roles.
    pub(super) fn contains(&self, snap: &Snapshot, role: &str) -> bool {
        self.0.iter().any(|&t| snap.task(t).role == role)
    }
    /// Notes the role of task `t` (once per role).
    pub(super) fn insert(&mut self, snap: &Snapshot, t: TaskId) {
        if !self.contains(snap, &snap.task(t).role) {
            self.0.push(t);
        }
    }
    /// The failed roles, each once.
    fn roles<'a>(&'a self, snap: &'a Snapshot) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().map(move |&t| snap.task(t).role.as_str())
    }
}

/// `NeedContinueAllocating` (api/job_info.go) after a task of a `failed_roles` role found no
/// node.
pub(super) fn need_continue(ssn: &Session, j: JobId, failed_roles: &FailedRoles) -> bool {
    let snap = ssn.snap();
    let job = snap.job(j);
    if job.min_available as usize == job.tasks.len() {
        return false;
    }
    if job.min_available < job.task_min_total {
        let mut n = job.ready_num();
        for &t in &job.tasks {
            let task = snap.task(t);
            if task.status == TaskStatus::Pending && !failed_roles.contains(snap, &task.role) {
                n += 1;
            }
        }
        return n >= job.min_available;
    }
    for role in failed_roles.roles(snap) {
        let min = job.task_min_available.get(role).copied().unwrap_or(0);
        if min == 0 {
            continue;
        }
        let allocated = job
            .tasks
            .iter()
            .filter(|&&t| {
                let task = snap.task(t);
                task.role == role
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

/// A plain task on plain nodes with `predicates` the only predicate plugin: it passes a node
/// iff its request fits FutureIdle and the node has a free pod slot.
fn plain_task(ssn: &Session, t: TaskId) -> bool {
    let task = ssn.snap().task(t);
    ssn.plain_nodes
        && task.node_selector.is_empty()
        && task.tolerations.is_empty()
        && ssn
            .tiers
            .only_predicate_plugin_is(crate::policy::conf::PluginKind::Predicates)
}

/// The node for `t` through the per-node scan: the nominated node if it still passes, else
/// `predicate_nodes` then `prioritize`; `None` when no node passes.
fn place(ssn: &mut Session, t: TaskId) -> Option<NodeId> {
    // The scan's buffer is the scheduler's, reused.
    let mut feasible = std::mem::take(&mut ssn.accel.feasible);
    feasible.clear();
    let stamp = if ssn.shortcuts {
        ssn.accel.classes.sync(ssn.st.snap);
        ssn.accel.classes.begin()
    } else {
        0
    };
    if let Some(nom) = ssn.snap().task(t).nominated_node {
        let req = ssn.snap().task(t).resreq;
        if req.fits_in(&ssn.snap().nodes[nom.ix()].future_idle()) {
            predicate_nodes(ssn, t, Some(&[nom]), &mut feasible);
        }
    }
    if feasible.is_empty() {
        predicate_nodes(ssn, t, None, &mut feasible);
    }
    let node = (!feasible.is_empty()).then(|| prioritize(ssn, t, &feasible, stamp));
    ssn.accel.feasible = feasible;
    node
}

/// Feasible nodes for `t` in scan order, written into `out`: `InitResreq ⊑ FutureIdle` and the
/// plugin predicates, stopping after `numNodesToFind` (node sampling on clusters above 100
/// nodes). The per-node reference of `accel::scan::place_plain`.
pub(crate) fn predicate_nodes(
    ssn: &mut Session,
    t: TaskId,
    candidates: Option<&[NodeId]>,
    out: &mut Vec<NodeId>,
) {
    out.clear();
    let n = ssn.snap().nodes.len();
    let req: Resources = ssn.snap().task(t).resreq;
    // A plain task (no selector, no tolerations) on untainted, uncordoned nodes, with
    // `predicates` the only predicate plugin, passes iff its request fits FutureIdle and the
    // node has a free pod slot — checked inline instead of through the tier walk.
    let fast = plain_task(ssn, t);
    let check = |ssn: &mut Session, node: NodeId, out: &mut Vec<NodeId>| {
        let info = &ssn.snap().nodes[node.ix()];
        if !req.fits_in(&info.future) {
            return;
        }
        if fast {
            let cap = info.allocatable.pods();
            if cap <= 0 || (info.tasks.len() as i64) < cap {
                out.push(node);
            }
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
                check(ssn, node, out);
            }
        }
        None => {
            let plain = {
                let task = ssn.snap().task(t);
                ssn.plain_nodes && task.node_selector.is_empty() && task.tolerations.is_empty()
            };
            let memo = (
                crate::policy::accel::request_key(&req),
                ssn.snap().node_epoch,
            );
            if plain && ssn.no_fit.contains(&memo) {
                // Same request, no node changed since a scan found nothing: a full scan would
                // again find nothing (and leave the rotating start where it is).
                return;
            }
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
                check(ssn, NodeId(((start + k) % n) as u32), out);
                processed += 1;
            }
            if n > 100 {
                ssn.scan_start = (start + processed) % n;
            }
            if plain && out.is_empty() {
                ssn.no_fit.push(memo);
            }
        }
    }
}

/// `prioritize`: nodes where the task fits Idle first, else those where it fits FutureIdle;
/// then the best score. With the shortcuts on, the Idle test is read from the class memo
/// written under `stamp` (or evaluated once per class).
fn prioritize(ssn: &mut Session, t: TaskId, feasible: &[NodeId], stamp: u32) -> NodeId {
    let req = ssn.snap().task(t).resreq;
    if !ssn.shortcuts || ssn.uncached_scores {
        let idle: Vec<NodeId> = feasible
            .iter()
            .copied()
            .filter(|n| req.fits_in(&ssn.snap().nodes[n.ix()].idle))
            .collect();
        return if !idle.is_empty() {
            ssn.best_node(t, &idle)
        } else {
            ssn.best_node(t, feasible)
        };
    }
    let (snap, classes) = (&*ssn.st.snap, &mut ssn.accel.classes);
    let any_idle = feasible
        .iter()
        .any(|&n| classes.fit_bits(snap, n, &req, stamp) & FITS_IDLE != 0);
    let among = if any_idle {
        Among::FitsIdle(stamp)
    } else {
        Among::All
    };
    ssn.best_node_among(t, feasible, among)
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
    let mut failed_roles = FailedRoles::default();
    // The first thing that stopped a task (`explain`), noted if the job is not placed.
    let mut blocked: Option<WaitReason> = None;
    while let Some(t) = next_allocatable_task(ssn, ws, q, &mut blocked) {
        {
            let role = &ssn.snap().task(t).role;
            if !role.is_empty() && failed_roles.contains(ssn.snap(), role) {
                continue;
            }
        }
        let placed = if ssn.shortcuts
            && !ssn.uncached_scores
            && ssn.snap().task(t).nominated_node.is_none()
            && plain_task(ssn, t)
        {
            crate::policy::accel::scan::place_plain(ssn, t)
        } else {
            place(ssn, t)
        };
        let Some(node) = placed else {
            if blocked.is_none() {
                blocked = Some(explain::no_fit_memo(ssn, t));
            }
            failed_roles.insert(ssn.snap(), t);
            if need_continue(ssn, j, &failed_roles) {
                continue;
            }
            break;
        };
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
    close_statement(ssn, j, stmt, blocked)
}

/// The next Pending task of the job's task heap that its queue may allocate (`Allocatable`);
/// a task the queue refuses is skipped, the first refusal kept in `blocked` (`explain`).
pub(super) fn next_allocatable_task(
    ssn: &mut Session,
    ws: &mut PriorityQueue<TaskId>,
    q: QueueId,
    blocked: &mut Option<WaitReason>,
) -> Option<TaskId> {
    while let Some(t) = ssn.pop_task(ws) {
        if ssn.snap().task(t).status != TaskStatus::Pending {
            continue;
        }
        if !ssn.tiers.allocatable(&ssn.st, q, t) {
            if blocked.is_none() {
                *blocked = Some(explain::not_allocatable(ssn, q, t));
            }
            continue;
        }
        return Some(t);
    }
    None
}

/// The end of a job's allocation attempt: its statement is kept if the job is ready or
/// pipelined (noting `Pipelined` when only pipelined), else discarded with the first thing
/// that `blocked` a task (or why the gang is not ready) noted as its wait reason.
pub(super) fn close_statement(
    ssn: &mut Session,
    j: JobId,
    stmt: Statement,
    blocked: Option<WaitReason>,
) -> Option<Statement> {
    let ready = ssn.tiers.job_ready(&ssn.st, j);
    if ready || ssn.tiers.job_pipelined(&ssn.st, j) {
        if !ready {
            ssn.note_wait(j, WaitReason::Pipelined);
        }
        Some(stmt)
    } else {
        let why = blocked.unwrap_or_else(|| explain::gang_not_ready(ssn, j));
        ssn.note_wait(j, why);
        ssn.discard_rewinding(stmt);
        None
    }
}
