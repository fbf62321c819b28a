//! enqueue: admit Pending PodGroups to Inqueue when the JobEnqueueable vote passes
//! (actions/enqueue/enqueue.go). One evaluation per pending job per cycle; a rejected job does
//! not block the next one (no head-of-line blocking, quirk #14); queues drain in queue order
//! (shares do not change during enqueue, so Volcano's queue heap returns the same queue until
//! its pending jobs are exhausted).
//!
//! Speed without changing the result: the pending jobs of each queue come in job order, with
//! their minResources, from the cross-cycle `PendingOrder` cache, and when every voter is monotone in minResources
//! (proportion, capacity, overcommit: "does minResources still fit"), a job whose minResources
//! dominates one already rejected in this queue is rejected without asking again — the budgets
//! only shrink while enqueue runs.

use std::cmp::Ordering;

use crate::model::resources::MAX_DIMS;
use crate::model::{ResourceName, Resources};
use crate::policy::accel::order::MinRequest;
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
            cache.pending_of(&mut ssn.st, ssn.tiers, fingerprint, q)
        } else {
            None
        };
        match cached {
            Some(jobs) => scan_queue(ssn, jobs, monotone),
            None => {
                let sorted = sorted_by_comparator(ssn, q);
                scan_queue(
                    ssn,
                    sorted.into_iter().map(|j| (j, MinRequest::InRecord)),
                    monotone,
                );
            }
        }
    }
    ssn.accel.pending_order = cache;
}

/// Asks the `JobEnqueueable` vote for each pending job of one queue, in job order (`jobs`, each
/// with what its minResources was filed as).
fn scan_queue(ssn: &mut Session, jobs: impl Iterator<Item = (JobId, MinRequest)>, monotone: bool) {
    // Rejected sizes with the reason they were rejected for (`explain`), oldest first.
    let mut rejected: Vec<Rejected> = Vec::new();
    for (j, filed) in jobs {
        let Some(min) = filed.resolve(ssn.snap(), j) else {
            admit(ssn, j);
            continue;
        };
        if monotone {
            if let Some(r) = rejected.iter().find(|r| r.dominated_by(&min)) {
                ssn.note_wait(j, r.why);
                continue;
            }
        }
        if ssn.tiers.job_enqueueable(&ssn.st, j) {
            admit(ssn, j);
        } else {
            let why = explain::enqueue_rejected(ssn, j);
            ssn.note_wait(j, why);
            if monotone && rejected.len() < MAX_REJECTED {
                rejected.retain(|r| !dominates(&r.size, &min));
                rejected.push(Rejected::new(min, why));
            }
        }
    }
}

fn admit(ssn: &mut Session, j: JobId) {
    ssn.tiers.job_enqueued(&ssn.st, j);
    ssn.set_inqueue(j);
}

/// A rejected minResources with the dimensions `dominates` compares (present, requested, not
/// pods) as a bit mask, so that the check per pending job is one branch-free pass.
struct Rejected {
    size: Resources,
    mask: u16,
    why: WaitReason,
}

impl Rejected {
    fn new(size: Resources, why: WaitReason) -> Rejected {
        let mut mask = 0u16;
        for d in size.dims() {
            if d != ResourceName::PODS && size.get(d) > 0 {
                mask |= 1 << d.0;
            }
        }
        Rejected { size, mask, why }
    }

    /// `dominates(m, &self.size)`.
    fn dominated_by(&self, m: &Resources) -> bool {
        let (a, b) = (m.raw(), self.size.raw());
        let mut short = 0u16;
        for i in 0..MAX_DIMS {
            short |= u16::from(a[i] < b[i]) << i;
        }
        short & self.mask == 0
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The masked check answers as `dominates` over sizes with and without scalars, pods,
    /// zero and negative values.
    #[test]
    fn masked_check_equals_dominates() {
        let gpu = ResourceName::intern("nvidia.com/gpu").unwrap();
        let vals = [-1i64, 0, 1, 2, 5];
        let mut sizes = Vec::new();
        for &c in &vals {
            for &m in &vals {
                for &p in &[None, Some(0), Some(3)] {
                    for &g in &[None, Some(0), Some(1), Some(4)] {
                        let mut r = Resources::cpu_mem(c, m);
                        if let Some(p) = p {
                            r.set(ResourceName::PODS, p);
                        }
                        if let Some(g) = g {
                            r.set(gpu, g);
                        }
                        sizes.push(r);
                    }
                }
            }
        }
        let (mut yes, mut no) = (0, 0);
        for r in &sizes {
            let rej = Rejected::new(*r, WaitReason::NotReached);
            for m in &sizes {
                let want = dominates(m, r);
                assert_eq!(rej.dominated_by(m), want, "{m:?} over {r:?}");
                if want {
                    yes += 1;
                } else {
                    no += 1;
                }
            }
        }
        assert!(yes > 1000 && no > 1000, "{yes} {no}");
    }
}
