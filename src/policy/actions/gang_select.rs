//! The victim bundles of the gang eviction actions, the fast way (a shortcut that never changes
//! a decision, `Session::shortcuts`): `selectDomainBundles` over the session's victim
//! candidates indexed by queue (`accel::CandidateIndex`) with borrowed data — bundles as
//! ranges of one task list, ordered through an index with the sort keys computed once per
//! bundle, and the second filter/sort skipped when `UnifiedEvictable` allowed every candidate
//! (the order is then the one already computed: the comparator is a total order over distinct
//! bundles). `gang_evict::select_domain_bundles` is the reference it is
//! tested against.
//!
//! Mirrors volcano pkg/scheduler/actions/utils/bundle.go and gangpreempt/gangreclaim
//! `selectDomainBundles` (v1.15.0) through the shared pieces of `gang_bundles` (`safe_split`,
//! `roi`). Depends on policy types only.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};

use super::gang_bundles::{roi_over, safe_split, BundleKind, GangCounts};
use super::gang_evict::{ordering, reclaim_queue_ranks, role_ready};
use crate::model::{ResourceName, Resources};
use crate::policy::accel::{CandidateIndex, JobUids};
use crate::policy::conf::GangEvictArgs;
use crate::policy::plugin::{EvictionContext, EvictionKind};
use crate::policy::session::Session;
use crate::policy::snapshot::{JobId, NodeId, Snapshot, TaskId};
use crate::policy::tiers::JobKey;
use crate::policy::topology::HnId;

/// The selected bundles in order, as ranges of one task list (no list per bundle).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct BundleList {
    tasks: Vec<TaskId>,
    /// End of each bundle in `tasks` (bundle `i` starts where `i - 1` ends).
    ends: Vec<usize>,
}

impl BundleList {
    pub(crate) fn push(&mut self, bundle: impl IntoIterator<Item = TaskId>) {
        self.tasks.extend(bundle);
        self.ends.push(self.tasks.len());
    }
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    /// The bundles' tasks, bundle by bundle.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &[TaskId]> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(a, &b)| &self.tasks[a..b])
    }
}

/// The selected bundles, handed out in order one at a time (`next_bundle`): ordered only as
/// far as the caller reads, through a heap of packed keys when they pack
/// (`gang_evict::evict_for_job` stops at the first bundle list whose dry run succeeds, on
/// average after a few bundles of hundreds).
#[derive(Debug)]
pub(crate) struct Selected {
    tasks: Vec<TaskId>,
    /// `tasks[start..end]` of each bundle.
    ranges: Vec<(usize, usize)>,
    order: Order,
}

#[derive(Debug)]
enum Order {
    /// Bundle positions in order, and how many were handed out.
    Sorted(Vec<usize>, usize),
    /// (packed key, bundle position), smallest key first.
    Heap(BinaryHeap<Reverse<(u128, usize)>>),
}

impl Selected {
    fn empty() -> Selected {
        Selected::from(BundleList::default())
    }
    pub(crate) fn is_empty(&self) -> bool {
        match &self.order {
            Order::Sorted(v, at) => *at >= v.len(),
            Order::Heap(h) => h.is_empty(),
        }
    }
    /// The next bundle's tasks, `None` after the last.
    pub(crate) fn next_bundle(&mut self) -> Option<&[TaskId]> {
        let i = match &mut self.order {
            Order::Sorted(v, at) => {
                let i = *v.get(*at)?;
                *at += 1;
                i
            }
            Order::Heap(h) => h.pop()?.0 .1,
        };
        let (a, b) = self.ranges[i];
        Some(&self.tasks[a..b])
    }
    /// The bundles not yet handed out, in order (compared with the reference in tests).
    #[cfg(test)]
    pub(crate) fn into_list(mut self) -> BundleList {
        let mut out = BundleList::default();
        while let Some(b) = self.next_bundle() {
            out.tasks.extend_from_slice(b);
            out.ends.push(out.tasks.len());
        }
        out
    }
}

impl From<BundleList> for Selected {
    fn from(list: BundleList) -> Selected {
        let ranges: Vec<(usize, usize)> = std::iter::once(0)
            .chain(list.ends.iter().copied())
            .zip(list.ends.iter().copied())
            .collect();
        let order = Order::Sorted((0..ranges.len()).collect(), 0);
        Selected {
            tasks: list.tasks,
            ranges,
            order,
        }
    }
}

/// A bundle as a range of the task list, with its sort keys.
struct Fast {
    kind: BundleKind,
    job: JobId,
    /// `tasks[start..end]`, in bundle order.
    start: usize,
    end: usize,
    /// Rank of the bundle's group (victim job for preempt, victim queue for reclaim).
    group: u32,
    roi: f64,
}

/// `selectDomainBundles` from the index: the same bundles in the same order as
/// `gang_evict::select_domain_bundles` (the reference walk), handed out lazily.
#[allow(clippy::too_many_arguments)] // the arguments of `select_domain_bundles`, which it replaces
pub(crate) fn select(
    ssn: &Session,
    ix: &CandidateIndex,
    j: JobId,
    need: &Resources,
    domain: &[NodeId],
    hn: Option<HnId>,
    kind: EvictionKind,
    args: &GangEvictArgs,
) -> Selected {
    let snap = ssn.snap();
    let pairs = ix.pairs(snap, j, domain, kind);
    if pairs.is_empty() {
        return Selected::empty();
    }
    // Per victim job (JobId order): its candidates lowest priority (then task UID) first,
    // split into a safe and a whole bundle.
    let mut tasks: Vec<TaskId> = Vec::with_capacity(pairs.len());
    let mut bundles: Vec<Fast> = Vec::new();
    let mut victim_jobs: Vec<JobId> = Vec::new();
    let mut flags: Vec<bool> = Vec::new();
    let mut local: Vec<TaskId> = Vec::new();
    let dims: Vec<ResourceName> = need.names().collect();
    let no_roles = BTreeMap::new();
    let no_sub_jobs = BTreeMap::new();
    for group in pairs.chunk_by(|a, b| a.0 == b.0) {
        let vj = group[0].0;
        victim_jobs.push(vj);
        local.clear();
        local.extend(group.iter().map(|p| p.1));
        if local.len() > 1 {
            local.sort_by(|&a, &b| {
                let (x, y) = (snap.task(a), snap.task(b));
                x.priority.cmp(&y.priority).then_with(|| {
                    (x.namespace.as_str(), x.name.as_str(), a).cmp(&(
                        y.namespace.as_str(),
                        y.name.as_str(),
                        b,
                    ))
                })
            });
        }
        let job = snap.job(vj);
        let ready_by_role = if job.task_min_available.is_empty() {
            None
        } else {
            Some(role_ready(snap, vj))
        };
        let counts = GangCounts {
            min_available: job.min_available,
            ready: job.ready_num(),
            role_min: &job.task_min_available,
            role_ready: ready_by_role.as_ref().unwrap_or(&no_roles),
            min_sub_jobs: &no_sub_jobs,
            sub_jobs: &[],
        };
        flags.clear();
        safe_split(
            &counts,
            local.iter().map(|&t| (snap.task(t).role.as_str(), None)),
            &mut flags,
        );
        for (kind, want) in [(BundleKind::Safe, true), (BundleKind::Whole, false)] {
            let start = tasks.len();
            let mut sum = Resources::empty();
            for (&t, &f) in local.iter().zip(&flags) {
                if f == want {
                    tasks.push(t);
                    sum.add(&snap.task(t).resreq);
                }
            }
            if tasks.len() == start {
                continue;
            }
            // A whole bundle holding every task of its job costs what it holds.
            let global = (kind == BundleKind::Whole).then(|| {
                if tasks.len() - start == job.tasks.len() {
                    return sum;
                }
                let mut total = Resources::empty();
                for &t in &job.tasks {
                    total.add(&snap.task(t).resreq);
                }
                total
            });
            bundles.push(Fast {
                kind,
                job: vj,
                start,
                end: tasks.len(),
                roi: roi_over(&sum, global.as_ref(), need, &dims),
                group: 0,
            });
        }
    }
    // Group ranks as the reference computes them: the same input list, the same comparator
    // (for preempt through job-order keys, which answer as `jless` does).
    let pq = snap.job(j).queue;
    match kind {
        EvictionKind::GangPreempt => {
            // `jless` through fresh job-order keys (`Tiers::key_less`, exact by contract).
            let keys: Vec<JobKey> = victim_jobs
                .iter()
                .map(|&x| ssn.tiers.job_key_or_slow(&ssn.st, x))
                .collect();
            let less = |a: usize, b: usize| ssn.tiers.key_less(&ssn.st, &keys[a], &keys[b]);
            let mut pos: Vec<usize> = (0..victim_jobs.len()).collect();
            pos.sort_by(|&a, &b| ordering(!less(a, b), a == b));
            // Ranks looked up by job among the victim jobs only: a vector indexed by job id
            // would be sized by every job the run has seen, once per selection.
            let mut rank: Vec<(JobId, u32)> = pos
                .iter()
                .enumerate()
                .map(|(i, &p)| (victim_jobs[p], i as u32))
                .collect();
            rank.sort_unstable();
            for b in &mut bundles {
                b.group = rank
                    .binary_search_by_key(&b.job, |e| e.0)
                    .map_or(u32::MAX, |i| rank[i].1);
            }
        }
        EvictionKind::GangReclaim => {
            let rank = reclaim_queue_ranks(ssn, &victim_jobs, pq);
            for b in &mut bundles {
                b.group = rank[snap.job(b.job).queue.ix()];
            }
        }
    }
    let uids = &ssn.accel.job_uids;
    let ctx = EvictionContext {
        kind,
        job: j,
        hypernode: hn,
    };
    if ssn.tiers.unified_evictable_per_task(&ssn.st, &ctx) {
        return lazily(ssn, &ctx, tasks, bundles, args);
    }
    let mut order = sorted(snap, uids, &tasks, &bundles);
    let flat: Vec<TaskId> = order
        .iter()
        .flat_map(|&i| tasks[bundles[i].start..bundles[i].end].iter().copied())
        .collect();
    let allowed: Vec<TaskId> = match ssn.tiers.unified_evictable(&ssn.st, &ctx, &flat) {
        Some(v) if !v.is_empty() => v,
        _ => return Selected::empty(),
    };
    if allowed != flat {
        apply_allowed(allowed, &mut tasks, &mut bundles, &mut order);
        order.sort_unstable_by(|&a, &b| compare(snap, uids, &tasks, &bundles[a], &bundles[b]));
    }
    order.retain(|&i| bundles[i].kind == BundleKind::Safe || args.allow_whole_bundle);
    Selected {
        ranges: bundles.iter().map(|b| (b.start, b.end)).collect(),
        tasks,
        order: Order::Sorted(order, 0),
    }
}

/// The tail of `select` when every `UnifiedEvictableFn` answers per task: its answer as a set
/// is the same for the candidates as collected as for them in bundle order, so it is asked
/// once over `tasks` as they are; the bundles are then kept in a heap of packed keys (when
/// they pack) and ordered only as far as they are read.
fn lazily(
    ssn: &Session,
    ctx: &EvictionContext,
    mut tasks: Vec<TaskId>,
    mut bundles: Vec<Fast>,
    args: &GangEvictArgs,
) -> Selected {
    let (snap, uids) = (ssn.snap(), &ssn.accel.job_uids);
    let allowed: Vec<TaskId> = match ssn.tiers.unified_evictable(&ssn.st, ctx, &tasks) {
        Some(v) if !v.is_empty() => v,
        _ => return Selected::empty(),
    };
    let mut keep: Vec<usize> = (0..bundles.len()).collect();
    // A per-task answer is a subset of its input: as long as it, everything is allowed.
    if allowed.len() != tasks.len() {
        apply_allowed(allowed, &mut tasks, &mut bundles, &mut keep);
    }
    keep.retain(|&i| bundles[i].kind == BundleKind::Safe || args.allow_whole_bundle);
    let order = if packs(uids, &bundles) {
        Order::Heap(
            keep.into_iter()
                .map(|i| Reverse((packed(uids, &bundles[i]), i)))
                .collect(),
        )
    } else {
        keep.sort_unstable_by(|&a, &b| compare(snap, uids, &tasks, &bundles[a], &bundles[b]));
        Order::Sorted(keep, 0)
    };
    Selected {
        ranges: bundles.iter().map(|b| (b.start, b.end)).collect(),
        tasks,
        order,
    }
}

/// The bundles' positions in comparator order (`compare`): through one packed integer key
/// per bundle when every key part packs exactly (ROI ≥ +0 and not NaN, whose bits then order
/// as the values do; group ranks below 2³¹; no two victim jobs sharing a UID), else through
/// the comparator.
fn sorted(snap: &Snapshot, uids: &JobUids, tasks: &[TaskId], bundles: &[Fast]) -> Vec<usize> {
    if !packs(uids, bundles) {
        let mut order: Vec<usize> = (0..bundles.len()).collect();
        order.sort_unstable_by(|&a, &b| compare(snap, uids, tasks, &bundles[a], &bundles[b]));
        return order;
    }
    let mut keyed: Vec<(u128, usize)> = bundles.iter().map(|b| packed(uids, b)).zip(0..).collect();
    // Keys are distinct: a job has at most one bundle of each kind and UID ranks differ.
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// Whether every bundle's comparator key packs exactly into one integer (`packed`).
fn packs(uids: &JobUids, bundles: &[Fast]) -> bool {
    bundles.iter().all(|b| {
        b.roi.is_sign_positive() && !b.roi.is_nan() && b.group < 1 << 31 && !uids.shared(b.job)
    })
}

/// `compare`'s key as one integer (when `packs`): kind (1 bit) | group rank (31) | !ROI bits
/// (64: higher ROI first) | UID rank (32).
fn packed(uids: &JobUids, b: &Fast) -> u128 {
    let kind = u128::from(b.kind == BundleKind::Whole);
    (kind << 127)
        | (u128::from(b.group) << 96)
        | (u128::from(!b.roi.to_bits()) << 32)
        | u128::from(uids.rank(b.job))
}

/// `ApplyAllowedTasks`: a whole bundle stays only if all of it is allowed; a safe bundle
/// shrinks to its allowed tasks (its ROI stays +∞: it has no global cost). `order` keeps the
/// surviving bundles.
fn apply_allowed(
    mut allowed: Vec<TaskId>,
    tasks: &mut [TaskId],
    bundles: &mut [Fast],
    order: &mut Vec<usize>,
) {
    allowed.sort_unstable();
    order.retain(|&i| {
        let b = &mut bundles[i];
        let slice = &mut tasks[b.start..b.end];
        let n = slice.len();
        let mut kept = 0;
        for k in 0..n {
            if allowed.binary_search(&slice[k]).is_ok() {
                slice[kept] = slice[k];
                kept += 1;
            }
        }
        match b.kind {
            BundleKind::Whole => kept == n,
            BundleKind::Safe if kept > 0 => {
                b.end = b.start + kept;
                true
            }
            BundleKind::Safe => false,
        }
    });
}

/// The comparator of `gang_bundles::sort_bundles` over ranked groups: safe first; group rank
/// (different groups only); higher ROI; job UID (through `JobUids`); first task UID; fewer
/// tasks. A total order over the bundles of one selection (a job has at most one bundle of
/// each kind; different jobs with one UID differ in their first task), so an unstable sort
/// gives the reference's stable one.
fn compare(snap: &Snapshot, uids: &JobUids, tasks: &[TaskId], l: &Fast, r: &Fast) -> Ordering {
    l.kind
        .cmp(&r.kind)
        .then_with(|| l.group.cmp(&r.group))
        .then_with(|| r.roi.partial_cmp(&l.roi).unwrap_or(Ordering::Equal))
        .then_with(|| uids.cmp(snap, l.job, r.job))
        .then_with(|| {
            let key = |b: &Fast| {
                let t = tasks[b.start];
                let task = snap.task(t);
                (task.namespace.as_str(), task.name.as_str(), t)
            };
            key(l).cmp(&key(r))
        })
        .then_with(|| (l.end - l.start).cmp(&(r.end - r.start)))
}

#[cfg(test)]
#[path = "gang_select_tests.rs"]
mod tests;
