//! capacity: fixed `deserved` per queue, elastic up to capability (plugins/capacity/capacity.go,
//! flat mode). No Overused; Allocatable against the real capability; Preemptive and
//! Reclaimable against deserved; enqueue against the real capability.
//! Deviation: hierarchical mode (`enableHierarchy`) is treated as flat (not modelled yet).

use std::cmp::Ordering;

use super::cmp_f64;
use super::proportion::{queue_totals, real_capability};
use crate::model::{DefaultValue, QueueState, Resources};
use crate::policy::conf::PluginConf;
use crate::policy::plugin::{Plugin, Vote};
use crate::policy::session::State;
use crate::policy::snapshot::{JobId, QueueId, TaskId};
use crate::policy::tiers::Tiers;

#[derive(Debug, Clone)]
struct Attr {
    deserved: Resources,
    allocated: Resources,
    inqueue: Resources,
    elastic: Resources,
    guarantee: Resources,
    real_capability: Resources,
    share: f64,
}

pub struct Capacity {
    attrs: Vec<Option<Attr>>,
}

impl Capacity {
    pub fn new(_pc: &PluginConf) -> Capacity {
        Capacity { attrs: Vec::new() }
    }
    fn attr(&self, q: QueueId) -> Option<&Attr> {
        self.attrs.get(q.ix()).and_then(|a| a.as_ref())
    }
}

fn share(a: &Attr) -> f64 {
    if a.deserved.is_empty() {
        return 1.0;
    }
    let mut s: f64 = 0.0;
    for d in a.deserved.names() {
        let x = crate::model::resources::share(a.allocated.get(d), a.deserved.get(d));
        if x > s {
            s = x;
        }
    }
    s
}

/// Requested dims of `r` (value > 0), pods excluded.
fn req_dims(r: &Resources) -> impl Iterator<Item = crate::model::ResourceName> + '_ {
    r.dims().filter(move |d| d.0 != 2 && r.get(*d) > 0)
}

impl Plugin for Capacity {
    fn name(&self) -> &'static str {
        "capacity"
    }

    fn on_session_open(&mut self, s: &State) {
        let snap = &*s.snap;
        let mut total_guarantee = Resources::empty();
        for q in &snap.queues {
            if let Some(g) = &q.guarantee {
                total_guarantee.add(g);
            }
        }
        self.attrs = queue_totals(snap)
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                let (allocated, _request, inqueue, elastic) = t?;
                let q = &snap.queues[i];
                let guarantee = q.guarantee.unwrap_or_else(Resources::empty);
                let rc = real_capability(
                    &snap.total,
                    &total_guarantee,
                    &guarantee,
                    q.capability.as_ref(),
                );
                let deserved = q
                    .deserved
                    .unwrap_or_else(Resources::empty)
                    .min_dimension(&rc, DefaultValue::Infinity)
                    .max_with(&guarantee);
                let mut a = Attr {
                    deserved,
                    allocated,
                    inqueue,
                    elastic,
                    guarantee,
                    real_capability: rc,
                    share: 0.0,
                };
                a.share = share(&a);
                Some(a)
            })
            .collect();
    }

    fn queue_order(&self, s: &State, l: QueueId, r: QueueId) -> Option<Ordering> {
        let (ql, qr) = (&s.snap.queues[l.ix()], &s.snap.queues[r.ix()]);
        if ql.priority != qr.priority {
            return Some(qr.priority.cmp(&ql.priority));
        }
        let (a, b) = (self.attr(l)?, self.attr(r)?);
        let o = cmp_f64(a.share, b.share);
        if o != Ordering::Equal {
            return Some(o);
        }
        Some(a.deserved.is_empty().cmp(&b.deserved.is_empty()))
    }

    fn allocatable(&self, s: &State, q: QueueId, t: TaskId) -> Option<bool> {
        if s.snap.queues[q.ix()].state != QueueState::Open {
            return Some(false);
        }
        let Some(a) = self.attr(q) else {
            return Some(false);
        };
        let req = &s.snap.task(t).resreq;
        Some(
            a.allocated
                .plus(req)
                .less_equal_on_requested(&a.real_capability, req),
        )
    }

    fn preemptive(&self, s: &State, q: QueueId, t: TaskId) -> Option<bool> {
        if s.snap.queues[q.ix()].state != QueueState::Open {
            return Some(false);
        }
        let Some(a) = self.attr(q) else {
            return Some(false);
        };
        let req = &s.snap.task(t).resreq;
        let future = a.allocated.plus(req);
        Some(
            future.less_equal_on_requested(&a.real_capability, req)
                && future.less_equal_partly(&a.deserved, req, true),
        )
    }

    fn reclaimable(
        &self,
        s: &State,
        tiers: &Tiers,
        reclaimer: TaskId,
        cands: &[TaskId],
    ) -> Option<(Vec<TaskId>, Vote)> {
        let req = s.snap.task(reclaimer).resreq;
        let ordered = tiers.victim_order(s, cands, reclaimer);
        let mut running: Vec<(QueueId, Resources)> = Vec::new();
        let mut out = Vec::new();
        for c in ordered {
            let ct = s.snap.task(c);
            let q = s.snap.queue_of_task(c);
            let Some(attr) = self.attr(q) else { continue };
            // 1. The reclaimee must free something the reclaimer asks for.
            if !req_dims(&ct.resreq).any(|d| req.get(d) > 0) {
                continue;
            }
            let pos = match running.iter().position(|(x, _)| *x == q) {
                Some(p) => p,
                None => {
                    running.push((q, attr.allocated));
                    running.len() - 1
                }
            };
            let allocated = running[pos].1;
            // 2. Never reclaim below guarantee.
            if !attr
                .guarantee
                .less_equal(&allocated.minus(&ct.resreq), DefaultValue::Zero)
            {
                continue;
            }
            // 3. Immediate victim when it uses nothing the queue is entitled to; otherwise the
            //    queue must exceed deserved on a dimension the reclaimee requests.
            let common = req_dims(&ct.resreq).any(|d| attr.deserved.get(d) > 0);
            if !common || allocated.greater_partly_relevant(&attr.deserved, &ct.resreq) {
                running[pos].1.sub(&ct.resreq);
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
        Some(if future.less_equal_on_requested(&a.real_capability, min) {
            Vote::Permit
        } else {
            Vote::Reject
        })
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
}
