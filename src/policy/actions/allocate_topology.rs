//! allocate's topology path: a job with a network topology (hard, or soft converted to hard at
//! the top tier) is placed within one HyperNode. For each gradient of candidate HyperNodes
//! (lowest tier first) every candidate is dry-run — its (default) sub-job placed through the
//! sub-job gradient below it, the best sub-job HyperNode chosen by HyperNodeOrder — and the
//! first gradient with a ready or pipelined result keeps its best-scoring candidate, whose
//! operations are re-applied. Reached from `allocate::run` only for such jobs on a cluster
//! with HyperNodes.
//!
//! Mirrors volcano pkg/scheduler/actions/allocate/allocate.go at v1.15.0 (`allocateForJob`,
//! `allocateForSubJob`, `allocateResourcesForTasks`, `prioritizeNodes`,
//! `getNewAllocatedHyperNode`; semantics §3.5). Deviations: sub-group policies are not
//! modelled (each job has its default sub-job only); the feasible-node scan inside a HyperNode
//! checks every node (no `numNodesToFind` sampling); equal best scores are broken by the
//! session's tie-break RNG where Volcano uses map order. Depends on policy types only.

use super::allocate::{need_continue, predicate_nodes, FailedRoles};
use crate::model::Resources;
use crate::policy::conf::Flag;
use crate::policy::explain::{self, WaitReason};
use crate::policy::heap::PriorityQueue;
use crate::policy::plugin::Purpose;
use crate::policy::session::{Session, Statement};
use crate::policy::snapshot::{JobId, NodeId, TaskId, TaskStatus};
use crate::policy::topology::HnId;

/// What a committed placement records for the job (`recorder.UpdateDecisionToJob`).
#[derive(Debug, Clone, Copy)]
pub(super) struct HyperNodeDecision {
    job: HnId,
    subjob: Option<HnId>,
}

/// A dry-run result kept for one candidate HyperNode.
struct Candidate {
    hn: HnId,
    ops: Vec<(TaskId, NodeId, bool)>,
    rest: PriorityQueue<TaskId>,
    score: f64,
    subjob: Option<HnId>,
}

/// `allocateForJob` on the cluster top. Returns the statement of the chosen HyperNode (ready
/// or pipelined, operations applied) and the decision to record if the caller commits it.
pub(super) fn allocate_for_job(
    ssn: &mut Session,
    j: JobId,
    ws: &mut PriorityQueue<TaskId>,
) -> (Option<Statement>, Option<HyperNodeDecision>) {
    let Some(top) = ssn.snap().topology.top() else {
        return (None, None);
    };
    if ws.is_empty() {
        return (None, None);
    }
    let job = ssn.snap().job(j);
    let (allocated, min_res) = (
        job.allocated_hypernode,
        job.min_resources.unwrap_or_else(Resources::empty),
    );
    let gradients = gradient(ssn, j, top, allocated, &min_res);
    for hyper_nodes in gradients {
        let mut found: Vec<Candidate> = Vec::new();
        for hn in hyper_nodes {
            let saved = ssn.snap().job(j).subjob_hypernode;
            let mut rest = ws.clone();
            let mut merged = Statement::new();
            let mut score = 0.0;
            // The sub-job loop: the default sub-job is placed again while it keeps tasks and
            // returns operations, until the job is ready.
            while !rest.is_empty() {
                match allocate_for_subjob(ssn, j, &mut rest, hn) {
                    (Some(stmt), s) if !stmt.is_empty() => {
                        merged.merge(stmt);
                        score += s;
                        if ssn.tiers.job_ready(&ssn.st, j) {
                            break;
                        }
                    }
                    _ => break,
                }
            }
            let subjob = ssn.snap().job(j).subjob_hypernode;
            ssn.st.snap.jobs[j.ix()].subjob_hypernode = saved;
            if merged.is_empty() {
                continue;
            }
            if ssn.tiers.job_ready(&ssn.st, j) || ssn.tiers.job_pipelined(&ssn.st, j) {
                found.push(Candidate {
                    hn,
                    ops: operations(ssn, &merged),
                    rest,
                    score,
                    subjob,
                });
            }
            ssn.discard(merged);
        }
        if found.is_empty() {
            continue;
        }
        let best = pick_best(ssn, found.iter().map(|c| c.score).collect());
        let c = found.swap_remove(best);
        let stmt = recover(ssn, &c.ops);
        *ws = c.rest;
        return (
            Some(stmt),
            Some(HyperNodeDecision {
                job: c.hn,
                subjob: c.subjob,
            }),
        );
    }
    // The job found no domain. When its topology confines it below the cluster top, that is
    // the reason it waits; otherwise the last task-level note stands.
    let topo = ssn.snap().topology.clone();
    let eff =
        crate::policy::topology::job::effective(&topo, ssn.snap().job(j).network_topology.as_ref());
    if let Some(e) = eff.filter(|e| e.highest_tier < topo.tier(top)) {
        ssn.note_wait(
            j,
            WaitReason::NoDomain {
                highest_tier: e.highest_tier,
            },
        );
    }
    (None, None)
}

/// Records a committed decision: the job's AllocatedHyperNode becomes the LCA of the old one
/// and the chosen HyperNode, the sub-job's the value its placement computed.
pub(super) fn record(ssn: &mut Session, j: JobId, d: HyperNodeDecision) {
    let topo = ssn.snap().topology.clone();
    let job = &mut ssn.st.snap.jobs[j.ix()];
    job.allocated_hypernode = topo.lca(job.allocated_hypernode, Some(d.job));
    job.subjob_hypernode = d.subjob;
}

/// `allocateForSubJob` for the default sub-job below `job_hn`.
fn allocate_for_subjob(
    ssn: &mut Session,
    j: JobId,
    ws: &mut PriorityQueue<TaskId>,
    job_hn: HnId,
) -> (Option<Statement>, f64) {
    let allocated = ssn.snap().job(j).subjob_hypernode;
    let mut min_res = Resources::empty();
    for t in ssn.snap().tasks_in(j, TaskStatus::Pending) {
        min_res.add(&ssn.snap().task(t).resreq);
    }
    for hyper_nodes in gradient(ssn, j, job_hn, allocated, &min_res) {
        let mut found: Vec<Candidate> = Vec::new();
        for hn in hyper_nodes {
            let mut rest = ws.clone();
            if let Some(stmt) = allocate_for_tasks(ssn, j, &mut rest, hn) {
                if !stmt.is_empty() {
                    found.push(Candidate {
                        hn,
                        ops: operations(ssn, &stmt),
                        rest,
                        score: 0.0,
                        subjob: None,
                    });
                }
                ssn.discard(stmt);
            }
        }
        if found.is_empty() {
            continue;
        }
        let candidates: Vec<HnId> = found.iter().map(|c| c.hn).collect();
        let scores = hypernode_scores(ssn, j, &candidates);
        let best = pick_best(ssn, scores.clone());
        let c = found.swap_remove(best);
        let stmt = recover(ssn, &c.ops);
        let topo = ssn.snap().topology.clone();
        ssn.st.snap.jobs[j.ix()].subjob_hypernode = topo.lca(allocated, Some(c.hn));
        *ws = c.rest;
        return (Some(stmt), scores[best]);
    }
    (None, 0.0)
}

/// `allocateResourcesForTasks` within HyperNode `hn`: the statement if the job became ready or
/// pipelined, else `None` (discarded).
fn allocate_for_tasks(
    ssn: &mut Session,
    j: JobId,
    ws: &mut PriorityQueue<TaskId>,
    hn: HnId,
) -> Option<Statement> {
    let topo = ssn.snap().topology.clone();
    let nodes = topo.nodes(hn);
    if nodes.is_empty() {
        return None;
    }
    let q = ssn.snap().job(j).queue;
    let mut allocated = ssn.snap().job(j).subjob_hypernode;
    let mut stmt = Statement::new();
    let mut failed_roles = FailedRoles::default();
    let mut blocked: Option<WaitReason> = None;
    while let Some(t) = super::allocate::next_allocatable_task(ssn, ws, q, &mut blocked) {
        let role = &ssn.snap().task(t).role;
        if !role.is_empty() && failed_roles.contains(ssn.snap(), role) {
            continue;
        }
        let mut feasible = Vec::new();
        if let Some(nom) = ssn.snap().task(t).nominated_node {
            let fits = ssn
                .snap()
                .task(t)
                .resreq
                .fits_in(&ssn.snap().nodes[nom.ix()].future);
            if fits && topo.contains(hn, nom) {
                predicate_nodes(ssn, t, Some(&[nom]), &mut feasible);
            }
        }
        if feasible.is_empty() {
            predicate_nodes(ssn, t, Some(nodes), &mut feasible);
        }
        if feasible.is_empty() {
            if blocked.is_none() {
                blocked = Some(explain::no_fit(ssn, t));
            }
            failed_roles.insert(ssn.snap(), t);
            if need_continue(ssn, j, &failed_roles) {
                continue;
            }
            break;
        }
        let Some(node) = prioritize(ssn, t, &feasible, allocated) else {
            continue;
        };
        let req = ssn.snap().task(t).resreq;
        let info = &ssn.snap().nodes[node.ix()];
        if req.fits_in(&info.idle) {
            ssn.allocate(&mut stmt, t, node);
        } else if req.fits_in(&info.future_idle()) {
            ssn.pipeline(&mut stmt, t, node, false);
        }
        // getNewAllocatedHyperNode: the running LCA of the chosen nodes' lowest HyperNodes.
        if let Some(leaf) = topo.leaf_of(node) {
            allocated = topo.lca(allocated, Some(leaf));
        }
        if ssn.tiers.job_ready(&ssn.st, j) {
            break;
        }
    }
    super::allocate::close_statement(ssn, j, stmt, blocked)
}

/// `prioritizeNodes`: nodes where the task fits Idle first, else FutureIdle; one candidate is
/// taken as is, several are scored (plugins' NodeOrder plus the topology batch score) and
/// the best taken, equal best at random.
fn prioritize(
    ssn: &mut Session,
    t: TaskId,
    feasible: &[NodeId],
    allocated: Option<HnId>,
) -> Option<NodeId> {
    let req = ssn.snap().task(t).resreq;
    let (idle, future): (Vec<NodeId>, Vec<NodeId>) = feasible
        .iter()
        .partition(|n| req.fits_in(&ssn.snap().nodes[n.ix()].idle));
    for group in [idle, future] {
        match group.len() {
            0 => continue,
            1 => return Some(group[0]),
            _ => {
                let mut scores: Vec<f64> = group
                    .iter()
                    .map(|&n| ssn.tiers.node_score(&ssn.st, t, n))
                    .collect();
                for slot in ssn.tiers.tiers.iter().flatten() {
                    if !slot.flags.has(Flag::NodeOrder) {
                        continue;
                    }
                    if let Some(batch) = slot
                        .plugin
                        .topology_node_order(&ssn.st, t, allocated, &group)
                    {
                        for (s, b) in scores.iter_mut().zip(batch) {
                            *s += b;
                        }
                    }
                }
                let best = pick_best(ssn, scores);
                return Some(group[best]);
            }
        }
    }
    None
}

/// `HyperNodeGradientForJobFn` / `ForSubJobFn` with `PurposeAllocate`.
fn gradient(
    ssn: &Session,
    j: JobId,
    input: HnId,
    allocated: Option<HnId>,
    min_res: &Resources,
) -> Vec<Vec<HnId>> {
    ssn.tiers
        .hypernode_gradient(&ssn.st, j, input, allocated, min_res, Purpose::Allocate)
}

/// `HyperNodeOrderMapFn` summed over the enabled plugins (0 without any).
fn hypernode_scores(ssn: &Session, j: JobId, candidates: &[HnId]) -> Vec<f64> {
    let mut total = vec![0.0; candidates.len()];
    for slot in ssn.tiers.tiers.iter().flatten() {
        if !slot.flags.has(Flag::HyperNodeOrder) {
            continue;
        }
        if let Some(s) = slot.plugin.hypernode_order(&ssn.st, j, candidates) {
            for (x, y) in total.iter_mut().zip(s) {
                *x += y;
            }
        }
    }
    total
}

/// Index of the highest score; equal best scores broken by the session RNG.
fn pick_best(ssn: &mut Session, scores: Vec<f64>) -> usize {
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let ties: Vec<usize> = (0..scores.len()).filter(|&i| scores[i] == max).collect();
    match ties.len() {
        0 => 0,
        1 => ties[0],
        n => ties[ssn.rng.pick(n)],
    }
}

/// The placements of an applied statement, with their nodes (read before it is discarded).
fn operations(ssn: &Session, stmt: &Statement) -> Vec<(TaskId, NodeId, bool)> {
    stmt.placements()
        .into_iter()
        .filter_map(|(t, pipelined)| Some((t, ssn.snap().task(t).node?, pipelined)))
        .collect()
}

/// `RecoverOperations`: re-applies saved placements in a new statement.
fn recover(ssn: &mut Session, ops: &[(TaskId, NodeId, bool)]) -> Statement {
    let mut stmt = Statement::new();
    for &(t, n, pipelined) in ops {
        if pipelined {
            ssn.pipeline(&mut stmt, t, n, false);
        } else {
            ssn.allocate(&mut stmt, t, n);
        }
    }
    stmt
}
