//! enqueue: admit Pending PodGroups to Inqueue when the JobEnqueueable vote passes
//! (actions/enqueue/enqueue.go). One evaluation per pending job per cycle; a rejected job does
//! not block the next one (no head-of-line blocking, quirk #14); queues drain in queue order.

use crate::policy::heap::PriorityQueue;
use crate::policy::session::Session;
use crate::policy::snapshot::JobId;

pub fn run(ssn: &mut Session) {
    let mut queues = PriorityQueue::new();
    let mut seen = vec![false; ssn.snap().queues.len()];
    // Per-queue job heaps by queue id (`None` = no heap, as a missing map entry).
    let mut jobs: Vec<Option<PriorityQueue<JobId>>> = vec![None; seen.len()];
    let live: Vec<JobId> = ssn.snap().live_jobs().collect();
    for j in live {
        let q = ssn.snap().job(j).queue;
        if !seen[q.ix()] {
            seen[q.ix()] = true;
            ssn.push_queue(&mut queues, q);
        }
        if ssn.snap().job(j).is_pending() {
            let h = jobs[q.ix()].get_or_insert_with(PriorityQueue::new);
            ssn.push_job(h, j);
        }
    }
    while let Some(q) = ssn.pop_queue(&mut queues) {
        let Some(mut h) = jobs[q.ix()].take() else {
            continue;
        };
        let Some(j) = ssn.pop_job(&mut h) else {
            continue;
        };
        jobs[q.ix()] = Some(h);
        let admit =
            ssn.snap().job(j).min_resources.is_none() || ssn.tiers.job_enqueueable(&ssn.st, j);
        if admit {
            ssn.tiers.job_enqueued(&ssn.st, j);
            ssn.set_inqueue(j);
        }
        ssn.push_queue(&mut queues, q);
    }
}
