//! proportion: weighted fair share between queues (plugins/proportion/proportion.go).
//! Water-filling `deserved` over the queues that have jobs, share = max allocated/deserved,
//! QueueOrder, Overused (every dimension of deserved reached, #3695), Allocatable and
//! Preemptive (fit deserved on requested dims), Reclaimable, JobEnqueueable against the
//! real capability, JobEnqueued adding minResources to the in-session inqueue total.
//! With the compatibility switch `no-pods-dimension` (`conf::Compat`, DRIFT D) the `pods`
//! dimension is left out of the water-filling, so deserved, share and overused ignore it.

use std::cmp::Ordering;

use super::cmp_f64;
use crate::model::{DefaultValue, QueueState, Resources};
use crate::policy::conf::Flag;
use crate::policy::conf::PluginKind;
use crate::policy::fres::FRes;
use crate::policy::plugin::{Plugin, Vote};
use crate::policy::session::State;
use crate::policy::snapshot::{JobId, QueueId, Snapshot, TaskId};
use crate::policy::tiers::Tiers;

/// Per-queue attributes computed at session open.
#[derive(Debug, Clone)]
pub struct QueueAttr {
    pub weight: f64,
    pub deserved: FRes,
    pub allocated: Resources,
    pub request: Resources,
    pub inqueue: Resources,
    pub elastic: Resources,
    pub guarantee: Resources,
    pub real_capability: FRes,
    pub share: f64,
}

#[derive(Default)]
pub struct Proportion {
    /// Indexed by QueueId; `None` for queues without jobs in the session.
    pub attrs: Vec<Option<QueueAttr>>,
}

/// Queue aggregates shared by proportion and capacity, for queues with ≥ 1 live job:
/// (allocated, request = allocated + pending, inqueue, elastic). Read from the snapshot's
/// incrementally maintained index (`policy::index`).
pub fn queue_totals(snap: &Snapshot) -> Vec<Option<(Resources, Resources, Resources, Resources)>> {
    snap.idx
        .queues
        .iter()
        .map(|q| {
            (q.jobs > 0).then(|| {
                (
                    q.allocated,
                    q.allocated.plus(&q.pending),
                    q.inqueue,
                    q.elastic,
                )
            })
        })
        .collect()
}

pub use crate::policy::index::{elastic_part, inqueue_part};

/// Σ `spec.guarantee.resource` over all queues (`totalGuarantee`).
pub fn total_guarantee(snap: &Snapshot) -> Resources {
    let mut g = Resources::empty();
    for q in &snap.queues {
        if let Some(x) = &q.guarantee {
            g.add(x);
        }
    }
    g
}

/// `realCapability = min(ExceededPart(total, totalGuarantee) + guarantee, capability)`,
/// capability missing scalars or non-positive cpu/memory = unlimited.
pub fn real_capability(
    total: &Resources,
    total_guarantee: &Resources,
    guarantee: &Resources,
    capability: Option<&Resources>,
) -> Resources {
    let mut rc = total.exceeded_part(total_guarantee).plus(guarantee);
    if let Some(cap) = capability {
        let mut cap = *cap;
        if cap.cpu() <= 0 {
            cap.set(crate::model::ResourceName::CPU, i64::MAX / 4);
        }
        if cap.memory() <= 0 {
            cap.set(crate::model::ResourceName::MEMORY, i64::MAX / 4);
        }
        rc = rc.min_dimension(&cap, DefaultValue::Infinity);
    }
    rc
}

fn share(attr: &QueueAttr) -> f64 {
    let mut s: f64 = 0.0;
    for i in attr.deserved.names() {
        let d = attr.deserved.v[i];
        let a = attr.allocated.raw()[i] as f64;
        let x = if d == 0.0 {
            if a == 0.0 {
                0.0
            } else {
                1.0
            }
        } else {
            a / d
        };
        if x > s {
            s = x;
        }
    }
    s
}

impl Proportion {
    /// Proportion's per-queue attributes for the snapshot as it is (what `OnSessionOpen`
    /// computes): the deserved water-filling over queues with jobs.
    pub fn attrs_of(snap: &Snapshot) -> Vec<Option<QueueAttr>> {
        let mut p = Proportion::default();
        p.compute(snap, false);
        p.attrs
    }

    /// The session's attributes; `no_pods` drops the `pods` dimension (DRIFT D).
    fn compute(&mut self, snap: &Snapshot, no_pods: bool) {
        let total_guarantee = total_guarantee(snap);
        let mut totals = queue_totals(snap);
        let mut total = snap.total;
        if no_pods {
            // Mirrors volcano 7a5d24ecc api/job_info.go `NewTaskInfo` / api/resource_info.go:
            // a task's Resreq has no `pods` entry (added in 11b7c70bb, v1.9), so neither have
            // the queue sums proportion water-fills; the cluster total's `pods` then meets no
            // request and deserves nothing.
            let strip = |r: &mut Resources| r.set(crate::model::ResourceName::PODS, 0);
            for (a, r, i, e) in totals.iter_mut().flatten() {
                strip(a);
                strip(r);
                strip(i);
                strip(e);
            }
            strip(&mut total);
        }
        self.attrs = totals
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                let (allocated, request, inqueue, elastic) = t?;
                let q = &snap.queues[i];
                let guarantee = q.guarantee.unwrap_or_else(Resources::empty);
                let rc =
                    real_capability(&total, &total_guarantee, &guarantee, q.capability.as_ref());
                Some(QueueAttr {
                    weight: q.weight as f64,
                    deserved: FRes::empty(),
                    allocated,
                    request,
                    inqueue,
                    elastic,
                    guarantee,
                    real_capability: FRes::from(&rc),
                    share: 0.0,
                })
            })
            .collect();
        // Water-filling (proportion.go OnSessionOpen).
        let mut remaining = FRes::from(&total);
        let mut met = vec![false; self.attrs.len()];
        loop {
            let total_weight: f64 = self
                .attrs
                .iter()
                .enumerate()
                .filter(|(i, a)| a.is_some() && !met[*i])
                .map(|(_, a)| a.as_ref().map(|a| a.weight).unwrap_or(0.0))
                .sum();
            if total_weight == 0.0 {
                break;
            }
            let old_remaining = remaining;
            let mut increased = FRes::empty();
            let mut decreased = FRes::empty();
            for (i, slot) in self.attrs.iter_mut().enumerate() {
                let Some(attr) = slot.as_mut() else { continue };
                if met[i] {
                    continue;
                }
                let old = attr.deserved;
                attr.deserved
                    .add(&remaining.scaled(attr.weight / total_weight));
                attr.deserved = attr
                    .deserved
                    .min_dimension(&attr.real_capability, DefaultValue::Infinity);
                attr.deserved = attr
                    .deserved
                    .min_dimension(&FRes::from(&attr.request), DefaultValue::Zero);
                attr.deserved = attr.deserved.max_with(&FRes::from(&attr.guarantee));
                attr.share = share(attr);
                if FRes::from(&attr.request).less_equal(&attr.deserved, DefaultValue::Zero)
                    || attr.deserved == old
                {
                    met[i] = true;
                }
                let (inc, dec) = attr.deserved.diff(&old);
                increased.add(&inc);
                decreased.add(&dec);
            }
            remaining.sub(&increased);
            remaining.add(&decreased);
            if remaining.is_empty() || remaining == old_remaining {
                break;
            }
        }
    }

    fn attr(&self, q: QueueId) -> Option<&QueueAttr> {
        self.attrs.get(q.ix()).and_then(|a| a.as_ref())
    }
}

impl Plugin for Proportion {
    /// Integer sums move by the same request both ways; shares are recomputed from them.
    fn events_cancel(&self) -> bool {
        true
    }
    fn kind(&self) -> PluginKind {
        PluginKind::Proportion
    }
    fn registers(&self, f: Flag) -> bool {
        matches!(
            f,
            Flag::QueueOrder
                | Flag::Overused
                | Flag::Allocatable
                | Flag::Preemptive
                | Flag::Reclaimable
                | Flag::JobEnqueued
        )
    }

    fn on_session_open(&mut self, s: &State) {
        self.compute(s.snap, s.conf.compat.no_pods_dimension);
    }

    fn queue_order(&self, s: &State, l: QueueId, r: QueueId) -> Option<Ordering> {
        let (ql, qr) = (&s.snap.queues[l.ix()], &s.snap.queues[r.ix()]);
        if ql.priority != qr.priority {
            return Some(qr.priority.cmp(&ql.priority));
        }
        let (a, b) = (self.attr(l)?, self.attr(r)?);
        Some(cmp_f64(a.share, b.share))
    }

    fn overused(&self, _s: &State, q: QueueId) -> Option<bool> {
        let a = self.attr(q)?;
        Some(
            a.deserved
                .less_equal(&FRes::from(&a.allocated), DefaultValue::Zero),
        )
    }

    fn allocatable(&self, s: &State, q: QueueId, t: TaskId) -> Option<bool> {
        self.preemptive(s, q, &s.snap.task(t).resreq)
    }

    /// The same test as `allocatable`, for a request (one task's, or gangreclaim's sum).
    fn preemptive(&self, s: &State, q: QueueId, req: &Resources) -> Option<bool> {
        if s.snap.queues[q.ix()].state != QueueState::Open {
            return Some(false);
        }
        let Some(a) = self.attr(q) else {
            return Some(false);
        };
        Some(FRes::int_fits_on_requested(
            &a.allocated.plus(req),
            &a.deserved,
            req,
        ))
    }

    /// Victims come only from queues above deserved (their running copy only shrinks).
    fn may_be_victim(&self, s: &State, _f: Flag, _p: TaskId, c: TaskId) -> bool {
        let q = s.snap.queue_of_task(c);
        self.attr(q)
            .is_some_and(|a| !FRes::from(&a.allocated).less_equal(&a.deserved, DefaultValue::Zero))
    }
    /// Answers read only the candidates (and the preemptor's queue and request).
    fn victim_vote_key(&self, _s: &State, _p: TaskId) -> Option<i64> {
        Some(0)
    }
    fn reclaimable(
        &self,
        s: &State,
        _tiers: &Tiers,
        _reclaimer: TaskId,
        cands: &[TaskId],
    ) -> Option<(Vec<TaskId>, Vote)> {
        let mut running: Vec<(QueueId, Resources)> = Vec::new();
        let mut out = Vec::new();
        for &c in cands {
            let q = s.snap.queue_of_task(c);
            let Some(attr) = self.attr(q) else { continue };
            let pos = super::running_slot(&mut running, q, attr.allocated);
            let allocated = running[pos].1;
            // Deviation from older Volcano: no `allocated.LessPartly(reclaimer.Resreq)` skip —
            // Mirrors volcano PR #4160 (fixes #4151), which removed it from proportion and capacity.
            if !FRes::from(&allocated).less_equal(&attr.deserved, DefaultValue::Zero) {
                running[pos].1.sub(&s.snap.task(c).resreq);
                out.push(c);
            }
        }
        Some((out, Vote::Permit))
    }

    fn job_enqueueable(&self, s: &State, j: JobId) -> Option<Vote> {
        let job = s.snap.job(j);
        if s.snap.queues[job.queue.ix()].state != QueueState::Open {
            return Some(Vote::Reject);
        }
        let Some(min) = &job.min_resources else {
            return Some(Vote::Permit);
        };
        let Some(a) = self.attr(job.queue) else {
            return Some(Vote::Permit);
        };
        let future = min.plus(&a.allocated).plus(&a.inqueue).minus(&a.elastic);
        Some(
            if FRes::int_fits_on_requested(&future, &a.real_capability, min) {
                Vote::Permit
            } else {
                Vote::Reject
            },
        )
    }

    fn job_enqueued(&mut self, s: &State, j: JobId) {
        let job = s.snap.job(j);
        if let (Some(min), Some(Some(a))) = (&job.min_resources, self.attrs.get_mut(job.queue.ix()))
        {
            a.inqueue.add(min);
        }
    }

    fn on_allocate(&mut self, s: &State, t: TaskId) {
        let q = s.snap.queue_of_task(t);
        if let Some(Some(a)) = self.attrs.get_mut(q.ix()) {
            a.allocated.add(&s.snap.task(t).resreq);
            a.share = share(a);
        }
    }

    fn on_deallocate(&mut self, s: &State, t: TaskId) {
        let q = s.snap.queue_of_task(t);
        if let Some(Some(a)) = self.attrs.get_mut(q.ix()) {
            a.allocated.sub(&s.snap.task(t).resreq);
            a.share = share(a);
        }
    }

    fn deserved(&self, q: QueueId) -> Option<(f64, f64)> {
        self.attr(q).map(|a| (a.deserved.v[0], a.deserved.v[1]))
    }
}
