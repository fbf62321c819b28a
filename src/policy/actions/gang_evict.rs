//! gangpreempt / gangreclaim (v1.15): a starving job evicts whole victim *bundles* (the
//! replicas above a victim gang's minimums first, then whole gangs) until a dry run places
//! **all** its pending tasks in one candidate domain; the placed tasks are pipelined, never
//! bound, and the job's statement is committed only when the job is then pipelined.
//!
//! Mirrors volcano pkg/scheduler/actions/gangpreempt/gangpreempt.go and
//! gangreclaim/gangreclaim.go (`Execute`, `preemptJobInDomains` / `reclaimJobInDomains`,
//! `selectDomainBundles`) at v1.15.0; bundles come from `gang_bundles`, the candidate
//! domains (HyperNodes) and a topology job's dry run from `gang_domains`, the dry run from
//! `gang_plan`. Evictions go through `Session::evict` like the legacy actions' (so the engine
//! and the recorder see them). Depends on policy types only.

use std::collections::BTreeMap;

use super::gang_bundles::{create_job_bundles, sort_bundles, Bundle, BundleKind, Candidate};
use super::gang_bundles::{GangState, GroupLess};
use super::gang_domains::{self, Domain};
use super::gang_plan::FailGate;
use super::gang_select::{self, BundleList};
use super::JobHeap;
use crate::model::Resources;
use crate::policy::accel::candidates::{preemptable_pod, status_ok};
use crate::policy::accel::CandidateIndex;
use crate::policy::conf::{Action, GangEvictArgs};
use crate::policy::heap::PriorityQueue;
use crate::policy::plugin::{EvictionContext, EvictionKind};
use crate::policy::session::{Session, Statement};
use crate::policy::snapshot::{JobId, NodeId, QueueId, Snapshot, TaskId, TaskStatus};
use crate::policy::topology::HnId;

/// A victim candidate as the bundles see it: (namespace, name, task). Sorting by it is
/// Volcano's "task UID ascending" tie-break (volsim's pods have no UID; within a namespace
/// this is the order of `<ns>-<name>`, the UID Volcano's tests give their pods).
type Key<'a> = (&'a str, &'a str, TaskId);

/// Runs `gangpreempt` (`kind` = `GangPreempt`) or `gangreclaim` over the session.
pub fn run(ssn: &mut Session, kind: EvictionKind) {
    let action = action_of(kind);
    // Checked when the conf was validated; the defaults are what Volcano falls back to.
    let args = ssn.st.conf.gang_evict_args(action).unwrap_or_default();
    let mut queues = PriorityQueue::new();
    let mut per_queue: BTreeMap<QueueId, JobHeap> = BTreeMap::new();
    // Only admitted jobs with Pending tasks can do anything here: a job without one has an
    // empty pending set (nothing to place) and an empty statement.
    for j in ssn.snap().idx.admitted_pending_jobs() {
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
        per_queue.entry(q).or_default().push(ssn, j);
    }
    // The candidates by queue, once per session with a preemptor, shared by both gang
    // actions (shortcut: `CandidateIndex`); taken out of the caches while the run evicts.
    let index = (ssn.shortcuts && !per_queue.is_empty()).then(|| {
        ssn.accel.job_uids.sync(ssn.st.snap);
        let session = ssn.accel.session();
        match ssn.accel.gang_candidates.take() {
            Some(ix) if ix.session() == session => ix,
            _ => CandidateIndex::with_nodes(ssn.st.snap, session, &mut ssn.accel.node_candidates),
        }
    });
    while let Some(q) = ssn.pop_queue(&mut queues) {
        // gangreclaim skips an overused queue; neither action pushes a queue back.
        if kind == EvictionKind::GangReclaim && ssn.tiers.overused(&ssn.st, q) {
            continue;
        }
        let Some(mut h) = per_queue.remove(&q) else {
            continue;
        };
        // Every starving job of the queue, once each, without re-checking starvation.
        while let Some(j) = h.pop(ssn) {
            let mut stmt = Statement::new();
            evict_for_job(ssn, &mut stmt, q, j, kind, &args, index.as_ref());
            if ssn.tiers.job_pipelined(&ssn.st, j) {
                ssn.commit(stmt);
            } else {
                ssn.discard(stmt);
            }
        }
    }
    if index.is_some() {
        ssn.accel.gang_candidates = index;
    }
}

fn action_of(kind: EvictionKind) -> Action {
    match kind {
        EvictionKind::GangPreempt => Action::GangPreempt,
        EvictionKind::GangReclaim => Action::GangReclaim,
    }
}

/// `CollectPendingTasksForGangEviction` without sub-groups: the job has one (default)
/// sub-job, so the pending set is every Pending, non-best-effort task in task order, whether
/// or not the job is ready (semantics §2.3; all replicas, not only up to minAvailable, §7 #4).
pub(crate) fn pending_set(ssn: &Session, j: JobId) -> Vec<TaskId> {
    let tasks = ssn
        .snap()
        .tasks_in(j, TaskStatus::Pending)
        .filter(|&t| !ssn.snap().task(t).best_effort);
    let mut h = ssn.task_heap(tasks);
    let mut out = Vec::new();
    while let Some(t) = ssn.pop_task(&mut h) {
        out.push(t);
    }
    out
}

/// The candidate domains of job `j`, tried in order (`GetCandidateDomains`): HyperNodes from
/// the job's Evict gradient (`gang_domains`); the whole cluster without HyperNodes.
fn candidate_domains(ssn: &Session, j: JobId, max_domains: usize) -> Vec<Domain> {
    gang_domains::candidate_domains(ssn, j, max_domains)
}

/// `preemptJobInDomains` / `reclaimJobInDomains`: in each domain, bundles are added to the
/// victim list one by one; once the job's need fits the domain's Idle + Releasing plus what
/// the victims hold, the dry run is tried with the whole list so far. The first success is
/// applied to `stmt`.
fn evict_for_job(
    ssn: &mut Session,
    stmt: &mut Statement,
    q: QueueId,
    j: JobId,
    kind: EvictionKind,
    args: &GangEvictArgs,
    index: Option<&CandidateIndex>,
) {
    // Shortcut: no candidate anywhere, so no domain gives a bundle.
    if index.is_some_and(|ix| ix.none_for(ssn.snap(), j, kind)) {
        return;
    }
    let pending = pending_set(ssn, j);
    let Some(&first) = pending.first() else {
        return;
    };
    let mut need = Resources::empty();
    for &t in &pending {
        need.add(&ssn.snap().task(t).resreq);
    }
    // Mirrors gangreclaim: the queue must be allowed to reclaim for the whole pending set.
    if kind == EvictionKind::GangReclaim && !ssn.tiers.preemptive_req(&ssn.st, q, &need) {
        return;
    }
    for dom in candidate_domains(ssn, j, args.max_domains) {
        let domain = &dom.nodes;
        if domain.is_empty() {
            continue;
        }
        let hn = dom.hypernode;
        let mut bundles = match index {
            Some(ix) => gang_select::select(ssn, ix, j, &need, domain, hn, kind, args),
            None => select_domain_bundles(ssn, j, &need, domain, hn, kind, args).into(),
        };
        if bundles.is_empty() {
            continue;
        }
        // `SumIdleAndReleasing` (Pipelined not subtracted, semantics §7 #6).
        let mut available = Resources::empty();
        for &n in domain {
            let node = &ssn.snap().nodes[n.ix()];
            available.add(&node.idle);
            available.add(&node.releasing);
        }
        let mut victims: Vec<TaskId> = Vec::new();
        // Shortcut: dry runs that must fail are skipped, their lasting effects replayed
        // before the next one that runs (`gang_plan::FailGate`).
        let mut gate = gang_domains::plain_path(ssn, j, &dom)
            .then(|| FailGate::new(ssn, j, domain, first))
            .flatten();
        let mut skipped: Vec<usize> = Vec::new();
        while let Some(bundle) = bundles.next_bundle() {
            for &t in bundle {
                available.add(&ssn.snap().task(t).resreq);
                victims.push(t);
            }
            if let Some(g) = &mut gate {
                g.extend(ssn.snap(), &victims);
            }
            if !need.fits_in(&available) {
                continue;
            }
            if gate.as_ref().is_some_and(|g| g.must_fail(ssn)) {
                skipped.push(victims.len());
                continue;
            }
            ssn.replay_failed_dry_runs(&victims, &std::mem::take(&mut skipped));
            let action = action_of(kind);
            if let Some(plan) = gang_domains::plan(ssn, q, j, &dom, &victims, action, first) {
                stmt.merge(plan);
                return;
            }
        }
        ssn.replay_failed_dry_runs(&victims, &skipped);
    }
}

/// `selectDomainBundles`: the victim candidates on the domain's nodes, grouped into bundles
/// per victim job, ordered, filtered once through `UnifiedEvictable` (told the domain's
/// HyperNode `hn`), re-ordered; whole bundles dropped unless `allowWholeBundle`. Returns each
/// bundle's tasks in order. The reference walk (shortcuts off); `gang_select::select` is the
/// fast path over the session's candidate index.
pub(crate) fn select_domain_bundles(
    ssn: &Session,
    j: JobId,
    need: &Resources,
    domain: &[NodeId],
    hn: Option<HnId>,
    kind: EvictionKind,
    args: &GangEvictArgs,
) -> BundleList {
    let snap = ssn.snap();
    let by_job = candidates(snap, j, domain, kind);
    let mut bundles: Vec<Bundle<Key>> = Vec::new();
    let mut victim_jobs: Vec<JobId> = Vec::with_capacity(by_job.len());
    for (vj, tasks) in by_job {
        let state = gang_state(snap, vj);
        victim_jobs.push(vj);
        let local = tasks
            .into_iter()
            .map(|t| {
                let task = snap.task(t);
                Candidate {
                    id: (task.namespace.as_str(), task.name.as_str(), t),
                    priority: task.priority,
                    role: task.role.clone(),
                    sub_job: None,
                    request: task.resreq,
                }
            })
            .collect();
        bundles.extend(create_job_bundles(&state, local));
    }
    if bundles.is_empty() {
        return BundleList::default();
    }
    let pq = snap.job(j).queue;
    // Preempt: the victim job that would be scheduled last gives up first (`!JobOrderFn`);
    // reclaim: `VictimQueueOrderFn` between different queues. Both are strict orders over
    // distinct jobs / queues, ranked once here (rank order = the comparator's order).
    let rank: Vec<u32> = match kind {
        EvictionKind::GangPreempt => {
            let mut jobs = victim_jobs.clone();
            jobs.sort_by(|&a, &b| ordering(!ssn.jless(a, b), a == b));
            ranks(snap.jobs.len(), jobs.iter().map(|x| x.ix()))
        }
        EvictionKind::GangReclaim => reclaim_queue_ranks(ssn, &victim_jobs, pq),
    };
    let group = |b: &Bundle<Key>| match kind {
        EvictionKind::GangPreempt => b.id as usize,
        EvictionKind::GangReclaim => snap.job(JobId(b.id)).queue.ix(),
    };
    let less: Box<GroupLess<Key>> = Box::new(|l, r| {
        let (a, b) = (group(l), group(r));
        (a != b).then(|| rank[a] < rank[b])
    });
    sort_bundles(&mut bundles, need, &*less);
    let flat: Vec<TaskId> = bundles
        .iter()
        .flat_map(|b| b.tasks.iter().map(|k| k.2))
        .collect();
    let ctx = EvictionContext {
        kind,
        job: j,
        hypernode: hn,
    };
    let mut allowed: Vec<TaskId> = match ssn.tiers.unified_evictable(&ssn.st, &ctx, &flat) {
        Some(v) if !v.is_empty() => v,
        _ => return BundleList::default(),
    };
    allowed.sort_unstable();
    // `ApplyAllowedTasks`: a whole bundle stays only if all of it is allowed; a safe bundle
    // shrinks to its allowed tasks.
    let mut valid: Vec<Bundle<Key>> = Vec::new();
    for mut b in bundles {
        let n = b.tasks.len();
        b.tasks.retain(|k| allowed.binary_search(&k.2).is_ok());
        match b.kind {
            BundleKind::Whole if b.tasks.len() == n => valid.push(b),
            BundleKind::Safe if !b.tasks.is_empty() => {
                let mut local = Resources::empty();
                for k in &b.tasks {
                    local.add(&snap.task(k.2).resreq);
                }
                b.local = local;
                valid.push(b);
            }
            _ => {}
        }
    }
    sort_bundles(&mut valid, need, &*less);
    let mut out = BundleList::default();
    for b in valid {
        if b.kind == BundleKind::Safe || args.allow_whole_bundle {
            out.push(b.tasks.into_iter().map(|k| k.2));
        }
    }
    out
}

/// The victim candidates on `domain`, by victim job (semantics §2.5): preempt takes Bound or
/// Running tasks of strictly lower-priority jobs of the same queue; reclaim takes Running
/// tasks of other, reclaimable queues. Both need the pod's and the victim job's
/// `volcano.sh/preemptable` (unset = true).
fn candidates(
    snap: &Snapshot,
    j: JobId,
    domain: &[NodeId],
    kind: EvictionKind,
) -> BTreeMap<JobId, Vec<TaskId>> {
    let pjob = snap.job(j);
    let mut by_job: BTreeMap<JobId, Vec<TaskId>> = BTreeMap::new();
    for &n in domain {
        for &t in &snap.nodes[n.ix()].tasks {
            if may_be_candidate(snap, t, kind) && for_preemptor(snap, t, j, pjob.queue, kind) {
                by_job.entry(snap.task(t).job).or_default().push(t);
            }
        }
    }
    by_job
}

/// The candidate tests that do not depend on the preemptor: status (Bound/Running for
/// preempt, Running for reclaim), the pod's and the job's `volcano.sh/preemptable`, the job
/// in the session.
fn may_be_candidate(snap: &Snapshot, t: TaskId, kind: EvictionKind) -> bool {
    status_ok(snap.task(t).status, kind) && preemptable_pod(snap, t)
}

/// The preemptor-dependent tests: preempt takes strictly lower-priority other jobs of the
/// same queue, reclaim other queues that are reclaimable.
fn for_preemptor(snap: &Snapshot, t: TaskId, j: JobId, pq: QueueId, kind: EvictionKind) -> bool {
    let vjob = snap.task(t).job;
    let vj = snap.job(vjob);
    match kind {
        EvictionKind::GangPreempt => {
            vj.queue == pq && vjob != j && vj.priority < snap.job(j).priority
        }
        EvictionKind::GangReclaim => vj.queue != pq && snap.queues[vj.queue.ix()].reclaimable,
    }
}

/// `Less` when `first`, `Equal` for the same element, else `Greater`.
pub(super) fn ordering(first: bool, same: bool) -> std::cmp::Ordering {
    match (same, first) {
        (true, _) => std::cmp::Ordering::Equal,
        (false, true) => std::cmp::Ordering::Less,
        (false, false) => std::cmp::Ordering::Greater,
    }
}

/// gangreclaim's group ranks: the victim jobs' queues ordered by `VictimQueueOrderFn` as a
/// preemptor of queue `pq` sees them, each queue's position by queue index (others
/// `u32::MAX`). A strict order over distinct queues, so the input order does not matter.
pub(super) fn reclaim_queue_ranks(ssn: &Session, victim_jobs: &[JobId], pq: QueueId) -> Vec<u32> {
    let snap = ssn.snap();
    let mut qs: Vec<QueueId> = victim_jobs.iter().map(|&x| snap.job(x).queue).collect();
    qs.sort_unstable();
    qs.dedup();
    let first = |a, b| ssn.tiers.victim_queue_first(&ssn.st, a, b, pq);
    qs.sort_by(|&a, &b| ordering(first(a, b), a == b));
    ranks(snap.queues.len(), qs.iter().map(|x| x.ix()))
}

/// Position of each listed index in `order` (others `u32::MAX`), over `n` slots.
pub(super) fn ranks(n: usize, order: impl Iterator<Item = usize>) -> Vec<u32> {
    let mut r = vec![u32::MAX; n];
    for (i, x) in order.enumerate() {
        r[x] = i as u32;
    }
    r
}

/// What `CreateJobBundles` reads of a victim job.
fn gang_state(snap: &Snapshot, vj: JobId) -> GangState {
    let job = snap.job(vj);
    let mut total = Resources::empty();
    for &t in &job.tasks {
        total.add(&snap.task(t).resreq);
    }
    GangState {
        id: vj.0,
        uid: job.uid.clone(),
        queue: snap.queues[job.queue.ix()].name.clone(),
        min_available: job.min_available,
        ready: job.ready_num(),
        role_min: job.task_min_available.clone(),
        role_ready: role_ready(snap, vj),
        min_sub_jobs: BTreeMap::new(),
        sub_jobs: Vec::new(),
        total_request: total,
    }
}

/// The ready tasks of job `vj` per role, as `CreateJobBundles`' role gate counts them
/// (allocated statuses or Succeeded, plus Pending best-effort tasks).
pub(super) fn role_ready(snap: &Snapshot, vj: JobId) -> BTreeMap<String, u32> {
    let mut out: BTreeMap<String, u32> = BTreeMap::new();
    for &t in &snap.job(vj).tasks {
        let task = snap.task(t);
        let ready = task.status.is_allocated()
            || task.status == TaskStatus::Succeeded
            || (task.status == TaskStatus::Pending && task.best_effort);
        if ready {
            *out.entry(task.role.clone()).or_default() += 1;
        }
    }
    out
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::model::{NodeSpec, PodGroupSpec, PodSpec, PriorityClassSpec, QueueSpec};
    use crate::model::{ResourceName, Resources};
    use crate::policy::snapshot::PodGroupPhase;

    /// A snapshot with PriorityClasses `p1`, `p5`, `p9` (values 1, 5, 9) and `nodes` nodes
    /// `n0…` of `cpu_milli` / `mem` bytes and 110 pods each (shared with `gang_select`'s tests).
    pub(in crate::policy::actions) fn classes_and_nodes(
        nodes: usize,
        cpu_milli: i64,
        mem: i64,
    ) -> Snapshot {
        let mut s = Snapshot::new();
        for (name, value) in [("p1", 1), ("p5", 5), ("p9", 9)] {
            s.add_priority_class(PriorityClassSpec {
                name: name.into(),
                value,
                global_default: false,
                preemption_never: false,
            });
        }
        for n in 0..nodes {
            let mut a = Resources::cpu_mem(cpu_milli, mem);
            a.set(ResourceName::PODS, 110);
            s.add_node(&NodeSpec {
                name: format!("n{n}"),
                allocatable: a,
                labels: Default::default(),
                taints: vec![],
                unschedulable: false,
            });
        }
        s
    }

    /// Two queues (the second not reclaimable), three nodes, jobs at three priorities with
    /// Bound, Running, Pending and unpreemptable tasks.
    fn snapshot() -> Snapshot {
        let mut s = classes_and_nodes(3, 16000, 64 << 30);
        let mut q1 = QueueSpec::new("q1", 1);
        q1.reclaimable = false;
        s.add_queue(&QueueSpec::new("q0", 1));
        s.add_queue(&q1);
        for k in 0..9u32 {
            let pg = PodGroupSpec {
                namespace: "ns".into(),
                name: format!("j{k}"),
                queue: format!("q{}", k % 2),
                min_member: 1 + k % 2,
                priority_class: Some(["p1", "p5", "p9"][(k % 3) as usize].into()),
                preemptable: (k == 4).then_some(false),
                ..Default::default()
            };
            let j = s.add_job(&pg, PodGroupPhase::Running, 0).unwrap();
            for i in 0..3u32 {
                let status = [TaskStatus::Running, TaskStatus::Bound, TaskStatus::Pending]
                    [((k + i) % 3) as usize];
                let pod = PodSpec {
                    namespace: "ns".into(),
                    name: format!("j{k}-{i}"),
                    requests: Resources::cpu_mem(1000, 1 << 30),
                    preemptable: (i == 1 && k == 2).then_some(false),
                    ..Default::default()
                };
                let node = (status != TaskStatus::Pending).then_some(NodeId((k + i) % 3));
                s.add_task(j, &pod, status, node, 0);
            }
        }
        s
    }

    /// The index gives the node walk's candidates (as sets per victim job) for every job and
    /// both kinds: one index built before either ran and kept while tasks are evicted, and
    /// one built afresh each round from node lists kept across rounds (as across cycles),
    /// also once a PodGroup is deleted with its pods still on their nodes.
    #[test]
    fn candidate_index_equals_the_node_walk() {
        let mut s = snapshot();
        let all: Vec<NodeId> = (0..3).map(NodeId).collect();
        let kept = CandidateIndex::new(&s, 1);
        let mut nodes = crate::policy::accel::NodeCandidates::default();
        for round in 0..3u64 {
            let fresh = CandidateIndex::with_nodes(&s, 10 + round, &mut nodes);
            for kind in [EvictionKind::GangPreempt, EvictionKind::GangReclaim] {
                let mut any = false;
                for j in 0..s.jobs.len() as u32 {
                    let j = JobId(j);
                    for domain in [&all[..], &all[1..]] {
                        // Task order within a job does not matter (bundles sort their tasks).
                        let mut walk = candidates(&s, j, domain, kind);
                        walk.values_mut().for_each(|v| v.sort_unstable());
                        any |= !walk.is_empty();
                        for ix in [&kept, &fresh] {
                            let mut from_index: BTreeMap<JobId, Vec<TaskId>> = BTreeMap::new();
                            for (vj, t) in ix.pairs(&s, j, domain, kind) {
                                from_index.entry(vj).or_default().push(t);
                            }
                            assert_eq!(from_index, walk, "{kind:?} {j:?} round {round}");
                            assert!(walk.is_empty() || !ix.none_for(&s, j, kind));
                        }
                    }
                }
                assert!(any, "{kind:?} round {round}: no candidate at all");
            }
            // Evict every third Running/Bound task, as a run would.
            let placed: Vec<TaskId> = (0..s.tasks.len() as u32)
                .map(TaskId)
                .filter(|&t| s.task(t).status.is_preemptable())
                .step_by(3)
                .collect();
            for t in placed {
                s.update_status(t, TaskStatus::Releasing);
            }
            if round == 1 {
                let with_victims = (0..s.jobs.len() as u32)
                    .map(JobId)
                    .find(|&j| s.tasks_in(j, TaskStatus::Running).next().is_some())
                    .unwrap();
                s.suspend_job(with_victims);
            }
        }
    }
}
