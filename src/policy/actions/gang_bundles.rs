//! Victim bundles of the v1.15 gang eviction actions (`gangpreempt` / `gangreclaim`): per
//! victim job, the replicas above the gang minimums form a *safe* bundle and the rest of the
//! job's local candidates one *whole* bundle (evicting it breaks the gang); bundle ordering by
//! type, group order, return on investment and stable ids; the candidate-domain pick.
//!
//! Mirrors volcano pkg/scheduler/actions/utils/bundle.go (`CreateJobBundles`,
//! `SortBundlesForPreempt`, `SortBundlesForReclaim`, `bundleROI`) and util.go
//! (`PickDomainsFromGradients`) at v1.15.0. Pure functions over ids and resources: no
//! session, no I/O. The actions (`gang_evict`) build on them; pinned by the v1.15 conformance
//! cases.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::model::{ResourceName, Resources};

/// Safe bundles sort before whole ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BundleKind {
    Safe,
    Whole,
}

impl BundleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BundleKind::Safe => "safe",
            BundleKind::Whole => "whole",
        }
    }
}

/// A set of victim tasks of one job, evicted together.
#[derive(Debug, Clone)]
pub struct Bundle<T> {
    pub kind: BundleKind,
    /// The caller's index of the victim job (`GangState::id`).
    pub id: u32,
    /// Victim job UID (tie-break) and queue (reclaim's group order).
    pub job: String,
    pub queue: String,
    pub tasks: Vec<T>,
    /// Σ request of the bundle's tasks.
    pub local: Resources,
    /// Whole bundles: Σ request of every task of the job (what breaking the gang costs);
    /// `None` for safe bundles (Volcano leaves it empty).
    pub global: Option<Resources>,
}

/// One local victim candidate of a job.
#[derive(Debug, Clone)]
pub struct Candidate<T> {
    pub id: T,
    pub priority: i32,
    pub role: String,
    /// The task's sub-job (sub-group) UID, when the job has sub-group minimums.
    pub sub_job: Option<String>,
    pub request: Resources,
}

/// What `CreateJobBundles` reads of the victim job.
#[derive(Debug, Clone, Default)]
pub struct GangState {
    /// The caller's index of the job, copied into its bundles.
    pub id: u32,
    pub uid: String,
    pub queue: String,
    pub min_available: u32,
    /// Tasks in Bound, Binding, Running, Allocated or Succeeded.
    pub ready: u32,
    /// `TaskMinAvailable` per role and the ready count per role (allocated statuses or
    /// Succeeded, plus Pending tasks with an empty InitResreq).
    pub role_min: BTreeMap<String, u32>,
    pub role_ready: BTreeMap<String, u32>,
    /// `MinSubJobs` per sub-group, and each sub-job: (uid, group, ready).
    pub min_sub_jobs: BTreeMap<String, u32>,
    pub sub_jobs: Vec<(String, String, bool)>,
    /// Σ request of every task of the job, any status.
    pub total_request: Resources,
}

/// What the safe/whole walk of `CreateJobBundles` reads of the victim job, borrowed (the
/// owned [`GangState`] gives one with [`GangState::counts`]).
#[derive(Debug, Clone, Copy)]
pub struct GangCounts<'a> {
    pub min_available: u32,
    pub ready: u32,
    pub role_min: &'a BTreeMap<String, u32>,
    pub role_ready: &'a BTreeMap<String, u32>,
    pub min_sub_jobs: &'a BTreeMap<String, u32>,
    pub sub_jobs: &'a [(String, String, bool)],
}

impl GangState {
    /// The counts the safe/whole walk reads.
    pub fn counts(&self) -> GangCounts<'_> {
        GangCounts {
            min_available: self.min_available,
            ready: self.ready,
            role_min: &self.role_min,
            role_ready: &self.role_ready,
            min_sub_jobs: &self.min_sub_jobs,
            sub_jobs: &self.sub_jobs,
        }
    }
}

/// Mirrors `CreateJobBundles`: local candidates, lowest priority (then id) first; safe while
/// the job, its role and its sub-group keep a surplus over their minimums.
pub fn create_job_bundles<T: Clone + Ord>(
    job: &GangState,
    mut local: Vec<Candidate<T>>,
) -> Vec<Bundle<T>> {
    local.sort_by(|a, b| a.priority.cmp(&b.priority).then_with(|| a.id.cmp(&b.id)));
    let bundle = |kind, tasks: Vec<&Candidate<T>>| {
        let mut res = Resources::empty();
        for t in &tasks {
            res.add(&t.request);
        }
        Bundle {
            kind,
            id: job.id,
            job: job.uid.clone(),
            queue: job.queue.clone(),
            tasks: tasks.iter().map(|t| t.id.clone()).collect(),
            local: res,
            global: (kind == BundleKind::Whole).then_some(job.total_request),
        }
    };
    let mut safe_flags = Vec::with_capacity(local.len());
    safe_split(
        &job.counts(),
        local
            .iter()
            .map(|c| (c.role.as_str(), c.sub_job.as_deref())),
        &mut safe_flags,
    );
    let (mut safe, mut whole) = (Vec::new(), Vec::new());
    for (c, &is_safe) in local.iter().zip(&safe_flags) {
        if is_safe {
            safe.push(c);
        } else {
            whole.push(c);
        }
    }
    let mut out = Vec::new();
    if !safe.is_empty() {
        out.push(bundle(BundleKind::Safe, safe));
    }
    if !whole.is_empty() {
        out.push(bundle(BundleKind::Whole, whole));
    }
    out
}

/// The walk of `CreateJobBundles` over candidates already in bundle order, given as (role,
/// sub-job UID): pushes onto `out`, per candidate, whether it goes to the safe bundle (else the
/// whole one). A broken gang (ready < minAvailable) gives every candidate to the safe bundle.
pub fn safe_split<'a>(
    job: &GangCounts<'_>,
    cands: impl Iterator<Item = (&'a str, Option<&'a str>)>,
    out: &mut Vec<bool>,
) {
    let mut job_surplus = job.ready as i64 - job.min_available as i64;
    if job_surplus < 0 {
        // The gang is already broken: everything is safe to take.
        out.extend(cands.map(|_| true));
        return;
    }
    if job.role_min.is_empty() && job.min_sub_jobs.is_empty() {
        // No role or sub-group gate: the first `job_surplus` candidates are safe.
        out.extend(cands.map(|_| {
            job_surplus -= 1;
            job_surplus >= 0
        }));
        return;
    }
    let role_total: u32 = job.role_min.values().sum();
    let mut role_surplus: BTreeMap<&str, i64> = BTreeMap::new();
    if job.min_available >= role_total {
        for (r, &min) in job.role_min {
            let ready = job.role_ready.get(r).copied().unwrap_or(0);
            role_surplus.insert(r, ready as i64 - min as i64);
        }
    }
    let gated = !job.min_sub_jobs.is_empty();
    let mut group_surplus: BTreeMap<&str, i64> = BTreeMap::new();
    let mut broken: BTreeMap<&str, bool> = BTreeMap::new();
    if gated {
        for (g, &min) in job.min_sub_jobs {
            let ready = job.sub_jobs.iter().filter(|s| s.1 == *g && s.2).count();
            group_surplus.insert(g, ready as i64 - min as i64);
        }
        for (uid, _, ready) in job.sub_jobs {
            broken.insert(uid, !ready);
        }
    }
    for (role, sub_job) in cands {
        let role_ok = role_surplus.get(role).is_none_or(|&s| s > 0);
        let sub = sub_job.and_then(|u| job.sub_jobs.iter().find(|s| s.0 == u));
        let group_ok = !gated
            || sub.is_some_and(|s| {
                broken.get(s.0.as_str()) == Some(&true)
                    || group_surplus.get(s.1.as_str()).is_some_and(|&g| g > 0)
            });
        if job_surplus > 0 && role_ok && group_ok {
            job_surplus -= 1;
            if let Some(s) = role_surplus.get_mut(role) {
                *s -= 1;
            }
            if let Some(s) = sub.filter(|_| gated) {
                if broken.get(s.0.as_str()) != Some(&true) {
                    broken.insert(&s.0, true);
                    if let Some(g) = group_surplus.get_mut(s.1.as_str()) {
                        *g -= 1;
                    }
                }
            }
            out.push(true);
        } else {
            out.push(false);
        }
    }
}

/// Mirrors `bundleROI`: Σ_d min(local_d, need_d)/need_d ÷ Σ_d global_d/need_d over the
/// dimensions the preemptor needs; no global cost → +∞.
pub fn bundle_roi<T>(b: &Bundle<T>, need: &Resources) -> f64 {
    roi(&b.local, b.global.as_ref(), need)
}

/// `bundleROI` of a bundle holding `local` whose eviction costs `global` (`None`: no cost).
pub fn roi(local: &Resources, global: Option<&Resources>, need: &Resources) -> f64 {
    let dims: Vec<ResourceName> = need.names().collect();
    roi_over(local, global, need, &dims)
}

/// [`roi`] with the dimensions of `need` listed once (`need.names()`).
pub fn roi_over(
    local: &Resources,
    global: Option<&Resources>,
    need: &Resources,
    dims: &[ResourceName],
) -> f64 {
    let (mut gain, mut cost) = (0.0, 0.0);
    for &d in dims {
        let n = need.get(d) as f64;
        gain += (local.get(d) as f64).min(n) / n;
        cost += global.map(|g| g.get(d) as f64).unwrap_or(0.0) / n;
    }
    if cost == 0.0 {
        f64::INFINITY
    } else {
        gain / cost
    }
}

/// Victim job order (preempt) or victim queue order (reclaim) between two bundles: `Some(l
/// before r)` when it applies.
pub type GroupLess<'a, T> = dyn Fn(&Bundle<T>, &Bundle<T>) -> Option<bool> + 'a;

/// The comparator shared by `SortBundlesForPreempt` / `SortBundlesForReclaim` (stable): safe
/// first; then `group_less(l, r)` when it answers (`Some`) and is asymmetric (victim job order
/// for preempt, victim queue order for reclaim); higher ROI; job UID; first task id; fewer
/// tasks.
pub fn sort_bundles<T: Ord>(
    bundles: &mut Vec<Bundle<T>>,
    need: &Resources,
    group_less: &GroupLess<T>,
) {
    // Each bundle's ROI once (a stable sort of the positions, then the bundles moved).
    let rois: Vec<f64> = bundles.iter().map(|b| bundle_roi(b, need)).collect();
    let mut order: Vec<usize> = (0..bundles.len()).collect();
    order.sort_by(|&i, &j| {
        let (l, r) = (&bundles[i], &bundles[j]);
        l.kind
            .cmp(&r.kind)
            .then_with(|| match (group_less(l, r), group_less(r, l)) {
                (Some(a), Some(b)) if a != b => {
                    if a {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    }
                }
                _ => Ordering::Equal,
            })
            .then_with(|| rois[j].partial_cmp(&rois[i]).unwrap_or(Ordering::Equal))
            .then_with(|| l.job.cmp(&r.job))
            .then_with(|| l.tasks.first().cmp(&r.tasks.first()))
            .then_with(|| l.tasks.len().cmp(&r.tasks.len()))
    });
    let mut slots: Vec<Option<Bundle<T>>> = bundles.drain(..).map(Some).collect();
    bundles.extend(order.into_iter().filter_map(|i| slots[i].take()));
}

/// Mirrors `PickDomainsFromGradients`: the gradient rows flattened in order, nil entries
/// (`None`) and duplicates skipped, stopping once `max_domains` are taken (0 = no cap);
/// nothing found → `[fallback]` if there is one.
pub fn pick_domains<T: Clone + PartialEq>(
    gradients: &[Vec<Option<T>>],
    max_domains: usize,
    fallback: Option<T>,
) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for d in gradients.iter().flatten().flatten() {
        if out.contains(d) {
            continue;
        }
        out.push(d.clone());
        if max_domains > 0 && out.len() >= max_domains {
            return out;
        }
    }
    if out.is_empty() {
        out.extend(fallback);
    }
    out
}
