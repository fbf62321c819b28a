//! enqueue: admit Pending PodGroups to Inqueue when the JobEnqueueable vote passes
//! (actions/enqueue/enqueue.go). One evaluation per pending job per cycle; a rejected job does
//! not block the next one (no head-of-line blocking, quirk #14); queues drain in queue order.

use std::collections::BTreeMap;

use crate::policy::heap::PriorityQueue;
use crate::policy::session::Session;
use crate::policy::snapshot::{JobId, QueueId};

pub fn run(ssn: &mut Session) {
    let mut queues = PriorityQueue::new();
    let mut seen = vec![false; ssn.snap().queues.len()];
    let mut jobs: BTreeMap<QueueId, PriorityQueue<JobId>> = BTreeMap::new();
    let live: Vec<JobId> = ssn.snap().live_jobs().collect();
    for j in live {
        let q = ssn.snap().job(j).queue;
        if !seen[q.ix()] {
            seen[q.ix()] = true;
            ssn.push_queue(&mut queues, q);
        }
        if ssn.snap().job(j).is_pending() {
            let mut h = jobs.remove(&q).unwrap_or_default();
            ssn.push_job(&mut h, j);
            jobs.insert(q, h);
        }
    }
    while let Some(q) = ssn.pop_queue(&mut queues) {
        let Some(mut h) = jobs.remove(&q) else {
            continue;
        };
        let Some(j) = ssn.pop_job(&mut h) else {
            continue;
        };
        jobs.insert(q, h);
        let admit =
            ssn.snap().job(j).min_resources.is_none() || ssn.tiers.job_enqueueable(&ssn.st, j);
        if admit {
            ssn.tiers.job_enqueued(&ssn.st, j);
            ssn.set_inqueue(j);
        }
        ssn.push_queue(&mut queues, q);
    }
}
