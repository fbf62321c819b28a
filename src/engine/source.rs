//! Arrivals: the `Source` trait through which jobs enter the engine — a static trace
//! (`TraceSource`), the Temporal workflow replay (`sim::workflows`), live submissions
//! (`live::model`) — and the static trace source itself.
//!
//! Depends on `cluster` (`Timer`, the state a source may inspect when a timer fired) and
//! `workload` (`TraceJob`).

use crate::cluster::{Cluster, Timer};
use crate::workload::TraceJob;

/// Something that submits jobs over model time.
pub trait Source {
    /// The time (ms) of the next arrival; `u64::MAX` when none is known now.
    fn next_time(&self) -> u64;
    /// Called at `t == next_time()`: submit every job due at `t`, in order, through `submit`
    /// (which returns the job's cluster index). Returns how many were submitted.
    fn deliver(&mut self, t: u64, submit: &mut dyn FnMut(&TraceJob) -> usize) -> usize;
    /// True when no arrival can come except as a reaction to `fired` (a recorded trace, a
    /// workflow replay); false for an open source (live submissions), which keeps the engine
    /// from treating "nothing queued now" as the end.
    fn closed(&self) -> bool {
        true
    }
    /// A live timer fired at `t` (after the cluster applied it).
    fn fired(&mut self, _cluster: &Cluster, _timer: Timer, _t: u64) {}
}

/// A static trace, streamed in `(submit_ms, input index)` order.
pub struct TraceSource<'a> {
    jobs: &'a [TraceJob],
    order: Vec<u32>,
    next: usize,
    /// Cluster index of each input job (`u32::MAX` until it arrived).
    pub cluster_ix: Vec<u32>,
}

impl<'a> TraceSource<'a> {
    pub fn new(jobs: &'a [TraceJob]) -> TraceSource<'a> {
        let mut order: Vec<u32> = (0..jobs.len() as u32).collect();
        order.sort_by_key(|&i| (jobs[i as usize].submit_ms, i));
        TraceSource {
            jobs,
            order,
            next: 0,
            cluster_ix: vec![u32::MAX; jobs.len()],
        }
    }

    /// The cluster index of input job `i`, once it arrived.
    pub fn cluster_index(&self, i: usize) -> Option<usize> {
        self.cluster_ix
            .get(i)
            .filter(|&&c| c != u32::MAX)
            .map(|&c| c as usize)
    }
}

impl Source for TraceSource<'_> {
    fn next_time(&self) -> u64 {
        self.order
            .get(self.next)
            .map(|&i| self.jobs[i as usize].submit_ms)
            .unwrap_or(u64::MAX)
    }

    fn deliver(&mut self, t: u64, submit: &mut dyn FnMut(&TraceJob) -> usize) -> usize {
        let mut n = 0;
        while let Some(&i) = self.order.get(self.next) {
            let job = &self.jobs[i as usize];
            if job.submit_ms != t {
                break;
            }
            self.cluster_ix[i as usize] = submit(job) as u32;
            self.next += 1;
            n += 1;
        }
        n
    }
}
