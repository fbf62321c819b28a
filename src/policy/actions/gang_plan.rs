//! The placement dry run of the gang eviction actions: evict the chosen victims, then try to
//! pipeline **every** pending task of the job (all-or-nothing) on the domain's nodes; keep the
//! result only if the job is then pipelined.
//!
//! Mirrors volcano pkg/scheduler/actions/utils/simulate.go (v1.15.0)
//! `BuildNominationPlanInDomain`, `runSimulateTrialAtHyperNode`, `simulatePredicate` and
//! `prioritizeNodesForSimulate`, for jobs without sub-groups (one default sub-job, whose
//! ready/pipelined tests are the job's): Volcano saves the operations, discards them and
//! replays them into the job's statement; volsim keeps them applied and hands the statement
//! over, which leaves the same state. Not modelled: PrePredicate (no modelled plugin fails
//! it), the predicate-error cache (it only skips nodes that would fail again), soft sharding.
//! A pod's `nominatedNodeName` is not a shortcut here (simulate_test.go pins it). Depends on
//! policy types only.

use std::collections::BTreeMap;

use super::num_nodes_to_find;
use crate::model::Resources;
use crate::policy::conf::Action;
use crate::policy::session::{Session, Statement};
use crate::policy::snapshot::{JobId, NodeId, QueueId, Snapshot, TaskId, TaskStatus};

/// Evicts `victims` (on behalf of `preemptor`, for the eviction log) and pipelines the job's
/// pending set on `domain`; `Some(statement)` (still applied) when the job is then
/// pipelined, else everything is undone and `None` returned.
pub(crate) fn build(
    ssn: &mut Session,
    q: QueueId,
    j: JobId,
    domain: &[NodeId],
    victims: &[TaskId],
    action: Action,
    preemptor: TaskId,
) -> Option<Statement> {
    if domain.is_empty() {
        return None;
    }
    let present = !victims.is_empty();
    framed(ssn, j, victims, action, preemptor, |ssn, tasks| {
        trial(ssn, q, j, domain, tasks, present)
    })
}

/// A shortcut that never changes a decision, for the dry runs of one job on one domain with
/// victims that grow by bundles: tells when a dry run must fail at its first task,
/// `preemptor` (the first of the job's pending set, which evicting other jobs' tasks does
/// not change), because that task fits no node of the domain even with every victim so far
/// Releasing: `feasible` then finds nothing, and when `allocatable` refuses first the run
/// fails too. Only while such a failed `feasible` leaves the rotating scan start as it is (up
/// to 100 nodes it is not used; beyond, a full scan from a start below the domain's size
/// comes back to it). The caller replays the skipped runs' lasting effects
/// (`Session::replay_failed_dry_runs`) before anything else reads the session. Saves a dry
/// run repeated with one more bundle each time while no node can take the task: quadratic
/// in the victims.
#[derive(Debug)]
pub(crate) struct FailGate {
    req: Resources,
    /// Each node with victims: its Releasing once they are evicted, summed in eviction order.
    freed: BTreeMap<NodeId, Resources>,
    /// Victims accounted for in `freed`.
    seen: usize,
    /// The task fits a node now or will (FutureIdle only grows with more victims), or a victim
    /// is not one a dry run evicts as assumed: no run is skipped any more.
    open: bool,
    domain_len: usize,
}

impl FailGate {
    /// The gate for `j`'s dry runs on `domain`, `None` when no run of it could be skipped.
    pub(crate) fn new(
        ssn: &Session,
        j: JobId,
        domain: &[NodeId],
        preemptor: TaskId,
    ) -> Option<FailGate> {
        let snap = ssn.snap();
        let first = snap.task(preemptor);
        if !ssn.shortcuts || first.job != j || first.status != TaskStatus::Pending {
            return None;
        }
        let req = first.resreq;
        let fits = domain
            .iter()
            .any(|n| req.fits_in(&snap.nodes[n.ix()].future_idle()));
        (!fits).then(|| FailGate {
            req,
            freed: BTreeMap::new(),
            seen: 0,
            open: false,
            domain_len: domain.len(),
        })
    }

    /// Accounts for the victims appended since the last call (`victims` extends the list it
    /// was given before; all of them are on the domain's nodes).
    pub(crate) fn extend(&mut self, snap: &Snapshot, victims: &[TaskId]) {
        for &v in &victims[self.seen..] {
            let task = snap.task(v);
            let node = match task.node {
                Some(n) if matches!(task.status, TaskStatus::Bound | TaskStatus::Running) => n,
                _ => {
                    self.open = true;
                    continue;
                }
            };
            let info = &snap.nodes[node.ix()];
            let sum = self.freed.entry(node).or_insert(info.releasing);
            sum.add(&task.resreq);
            // FutureIdle once evicted, as `NodeInfo::touch` computes it.
            let future = info.idle.plus(sum).minus(&info.pipelined);
            self.open |= self.req.fits_in(&future);
        }
        self.seen = victims.len();
    }

    /// Whether the dry run with the victims so far must fail (see the type).
    pub(crate) fn must_fail(&self, ssn: &Session) -> bool {
        !self.open && (self.domain_len <= 100 || ssn.scan_start < self.domain_len)
    }
}

/// The frame of every dry run: evicts `victims`, reads the worksheet after the evictions, as
/// Volcano does (victims are other jobs' tasks, so it is the action's pending set), runs
/// `trials` on it, and keeps the evictions and the winning trial only if the job is then
/// pipelined — one (default) sub-job, so the loop over sub-jobs ends there. Everything is
/// undone and `None` returned otherwise.
pub(crate) fn framed(
    ssn: &mut Session,
    j: JobId,
    victims: &[TaskId],
    action: Action,
    preemptor: TaskId,
    trials: impl FnOnce(&mut Session, &[TaskId]) -> Option<Statement>,
) -> Option<Statement> {
    let mut chain = Statement::new();
    for &v in victims {
        ssn.evict(&mut chain, v, action, preemptor);
    }
    let tasks = super::gang_evict::pending_set(ssn, j);
    if tasks.is_empty() {
        ssn.discard(chain);
        return None;
    }
    let Some(won) = trials(ssn, &tasks) else {
        ssn.discard(chain);
        return None;
    };
    chain.merge(won);
    if !ssn.tiers.job_pipelined(&ssn.st, j) {
        ssn.discard(chain);
        return None;
    }
    Some(chain)
}

/// One trial on `domain` (`trial_in_domain`): the statement when it succeeds, else undone.
pub(crate) fn trial(
    ssn: &mut Session,
    q: QueueId,
    j: JobId,
    domain: &[NodeId],
    tasks: &[TaskId],
    victims_present: bool,
) -> Option<Statement> {
    let mut trial = Statement::new();
    if trial_in_domain(ssn, &mut trial, q, j, domain, tasks, victims_present) {
        Some(trial)
    } else {
        ssn.discard(trial);
        None
    }
}

/// `runSimulateTrialAtHyperNode`: every task in order must pass `Allocatable` and find a node;
/// the trial succeeds if it pipelined something and the job is then ready or pipelined.
pub(crate) fn trial_in_domain(
    ssn: &mut Session,
    trial: &mut Statement,
    q: QueueId,
    j: JobId,
    domain: &[NodeId],
    tasks: &[TaskId],
    victims_present: bool,
) -> bool {
    for &t in tasks {
        if !ssn.tiers.allocatable(&ssn.st, q, t) {
            return false;
        }
        let nodes = feasible(ssn, t, domain);
        if nodes.is_empty() {
            return false;
        }
        let best = prioritize(ssn, t, &nodes);
        let req = ssn.snap().task(t).resreq;
        if !req.fits_in(&ssn.snap().nodes[best.ix()].future_idle()) {
            return false;
        }
        ssn.pipeline(trial, t, best, victims_present);
    }
    !trial.is_empty() && (ssn.tiers.job_ready(&ssn.st, j) || ssn.tiers.job_pipelined(&ssn.st, j))
}

/// The domain's nodes (minus those recorded unresolvable for `t` during allocate) where `t`
/// fits FutureIdle and the preempt-mode predicate passes (only unresolvable failures count),
/// stopping after `numNodesToFind` from the rotating scan start, as `PredicateNodes` does.
fn feasible(ssn: &mut Session, t: TaskId, domain: &[NodeId]) -> Vec<NodeId> {
    let req = ssn.snap().task(t).resreq;
    let n = domain.len();
    let want = num_nodes_to_find(n);
    if n > 100 && ssn.scan_start == usize::MAX {
        ssn.scan_start = ssn.rng.pick(n);
    }
    let start = if n > 100 { ssn.scan_start % n } else { 0 };
    let skip = ssn.unresolvable.get(&t);
    let mut out = Vec::new();
    let mut processed = 0;
    for k in 0..n {
        if out.len() >= want {
            break;
        }
        processed += 1;
        let node = domain[(start + k) % n];
        if skip.is_some_and(|s| s.contains(&node)) {
            continue;
        }
        if !req.fits_in(&ssn.snap().nodes[node.ix()].future_idle()) {
            continue;
        }
        match ssn.tiers.predicate(&ssn.st, t, node) {
            Ok(()) => out.push(node),
            Err(e) if !e.unresolvable => out.push(node),
            Err(_) => {}
        }
    }
    if n > 100 {
        ssn.scan_start = (start + processed) % n;
    }
    out
}

/// `prioritizeNodesForSimulate`: nodes where `t` fits Idle first, else those where it fits
/// FutureIdle; one candidate is taken as is, several are scored (random among equal best).
pub(crate) fn prioritize(ssn: &mut Session, t: TaskId, feasible: &[NodeId]) -> NodeId {
    let req = ssn.snap().task(t).resreq;
    let idle: Vec<NodeId> = feasible
        .iter()
        .copied()
        .filter(|n| req.fits_in(&ssn.snap().nodes[n.ix()].idle))
        .collect();
    let group = if idle.is_empty() { feasible } else { &idle };
    ssn.best_node(t, group)
}

#[cfg(test)]
#[path = "gang_plan_tests.rs"]
mod tests;
