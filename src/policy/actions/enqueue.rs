//! enqueue: admit Pending PodGroups to Inqueue when the JobEnqueueable vote passes
//! (actions/enqueue/enqueue.go). One evaluation per pending job per cycle; a rejected job does
//! not block the next one (no head-of-line blocking, quirk #14); queues drain in queue order
//! (shares do not change during enqueue, so Volcano's queue heap returns the same queue until
//! its pending jobs are exhausted).
//!
//! Speed without changing the result: the pending jobs of each queue come in job order from the
//! cross-cycle `PendingOrder` cache, and when every voter is monotone in minResources
//! (proportion, capacity, overcommit: "does minResources still fit"), a job whose minResources
//! dominates one already rejected in this queue is rejected without asking again — the budgets
//! only shrink while enqueue runs.

use std::cmp::Ordering;

use crate::model::Resources;
use crate::policy::conf::{Flag, PluginKind};
use crate::policy::explain::{self, WaitReason};
use crate::policy::heap::PriorityQueue;
use crate::policy::session::Session;
use crate::policy::snapshot::{JobId, QueueId};

/// Enqueue voters whose answer does not depend on minResources alone (sla permits by deadline);
/// the other voters (proportion, capacity, overcommit) only turn from Permit to Reject as
/// minResources grows.
const NON_MONOTONE_VOTERS: &[PluginKind] = &[PluginKind::Sla];

/// At most this many rejected sizes are remembered per queue.
const MAX_REJECTED: usize = 32;

pub fn run(ssn: &mut Session) {
    let nq = ssn.snap().queues.len();
    let mut heap = PriorityQueue::new();
    for q in 0..nq {
        if ssn.snap().idx.queues[q].jobs > 0 {
            ssn.push_queue(&mut heap, QueueId(q as u32));
        }
    }
    let mut order = Vec::new();
    while let Some(q) = ssn.pop_queue(&mut heap) {
        order.push(q);
    }
    let monotone = ssn
        .tiers
        .tiers
        .iter()
        .flatten()
        .filter(|s| s.flags.has(Flag::JobEnqueued))
        .all(|s| !NON_MONOTONE_VOTERS.contains(&s.plugin.kind()));
    let fingerprint = fingerprint(ssn);
    let mut cache = std::mem::take(&mut ssn.accel.pending_order);
    for q in order {
        let cached = if ssn.shortcuts {
            cache.jobs_of(&mut ssn.st, ssn.tiers, fingerprint, q)
        } else {
            None
        };
        let jobs = match cached {
            Some(v) => v,
            None => sorted_by_comparator(ssn, q),
        };
        // Rejected sizes with the reason they were rejected for (`explain`).
        let mut rejected: Vec<(Resources, WaitReason)> = Vec::new();
        for j in jobs {
            let Some(min) = ssn.snap().job(j).min_resources else {
                admit(ssn, j);
                continue;
            };
            if monotone {
                if let Some(&(_, why)) = rejected.iter().find(|r| dominates(&min, &r.0)) {
                    ssn.note_wait(j, why);
                    continue;
                }
            }
            if ssn.tiers.job_enqueueable(&ssn.st, j) {
                admit(ssn, j);
            } else {
                let why = explain::enqueue_rejected(ssn, j);
                ssn.note_wait(j, why);
                if monotone && rejected.len() < MAX_REJECTED {
                    rejected.retain(|r| !dominates(&r.0, &min));
                    rejected.push((min, why));
                }
            }
        }
    }
    ssn.accel.pending_order = cache;
}

fn admit(ssn: &mut Session, j: JobId) {
    ssn.tiers.job_enqueued(&ssn.st, j);
    ssn.set_inqueue(j);
}

/// `m` asks at least as much as `r` on every dimension `r` requests (pods aside), so wherever
/// `r` failed to fit, `m` fails too.
fn dominates(m: &Resources, r: &Resources) -> bool {
    r.dims()
        .filter(|d| d.0 != 2 && r.get(*d) > 0)
        .all(|d| m.get(d) >= r.get(d))
}

/// The pending jobs of `q` in job order, by plugin comparators (confs without scalar keys).
fn sorted_by_comparator(ssn: &Session, q: QueueId) -> Vec<JobId> {
    let mut v: Vec<JobId> = ssn
        .snap()
        .idx
        .pending_phase
        .iter()
        .copied()
        .filter(|&j| ssn.snap().job(j).queue == q)
        .collect();
    v.sort_by(|&a, &b| {
        let o = ssn.tiers.job_order(&ssn.st, a, b);
        if o == Ordering::Equal {
            a.cmp(&b)
        } else {
            o
        }
    });
    v
}

/// What the cached keys depend on besides the jobs: the JobOrder plugins and the cluster total.
fn fingerprint(ssn: &Session) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    let mut eat = |x: u64| {
        h ^= x;
        h = h.wrapping_mul(0x100000001b3);
    };
    for slot in ssn.tiers.tiers.iter().flatten() {
        if slot.flags.has(Flag::JobOrder) {
            eat(slot.plugin.kind() as u64);
        }
    }
    for x in ssn.snap().total.raw() {
        eat(*x as u64);
    }
    h
}
