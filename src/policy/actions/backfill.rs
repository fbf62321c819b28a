//! backfill: place best-effort Pending tasks (no resource request) of admitted jobs on any node
//! passing the predicates, queue by queue (actions/backfill/backfill.go). No Allocatable or
//! Overused checks; allocations go straight to binding once the job is ready.

use std::collections::BTreeMap;

use crate::policy::heap::PriorityQueue;
use crate::policy::session::Session;
use crate::policy::snapshot::{JobId, NodeId, QueueId, TaskId, TaskStatus};

pub fn run(ssn: &mut Session) {
    let mut per_queue: BTreeMap<QueueId, Vec<JobId>> = BTreeMap::new();
    // Only admitted jobs with Pending tasks can do anything here (index kept by the snapshot).
    let live = ssn.snap().idx.admitted_pending_jobs();
    for j in live {
        let job = ssn.snap().job(j);
        if job.is_pending() || job.pending_best_effort == 0 || !ssn.tiers.job_valid(&ssn.st, j) {
            continue;
        }
        per_queue.entry(job.queue).or_default().push(j);
    }
    if per_queue.is_empty() {
        return;
    }
    let mut queues = PriorityQueue::new();
    for &q in per_queue.keys() {
        ssn.push_queue(&mut queues, q);
    }
    while let Some(q) = ssn.pop_queue(&mut queues) {
        let mut jh = PriorityQueue::new();
        for &j in &per_queue[&q] {
            ssn.push_job(&mut jh, j);
        }
        while let Some(j) = ssn.pop_job(&mut jh) {
            let be: Vec<TaskId> = ssn
                .snap()
                .tasks_in(j, TaskStatus::Pending)
                .filter(|&t| ssn.snap().task(t).best_effort)
                .collect();
            let mut th = ssn.task_heap(be);
            while let Some(t) = ssn.pop_task(&mut th) {
                let nodes: Vec<NodeId> = (0..ssn.snap().nodes.len() as u32)
                    .map(NodeId)
                    .filter(|&n| {
                        let info = &ssn.snap().nodes[n.ix()];
                        info.idle.pods() >= 1 && ssn.tiers.predicate(&ssn.st, t, n).is_ok()
                    })
                    .collect();
                if nodes.is_empty() {
                    continue;
                }
                let node = ssn.best_node(t, &nodes);
                ssn.allocate_direct(t, node);
            }
        }
    }
}
