//! Dynamic arrivals: the `ArrivalSource` hook through which something other than the static,
//! submit-sorted `SimInput::jobs` feeds jobs into the engine (the Temporal workflow driver,
//! `sim::workflows`), and the simulator-side glue: polling the source, submitting what it emits,
//! telling it when one of its jobs finished, and recording its jobs in the `Outcome`.
//!
//! May depend on `model`, `cluster` and `workload` (via the parent `sim`). Determinism: the
//! engine polls the source only at `next_time()`, after static arrivals of the same millisecond
//! and before timers and the cycle; jobs are submitted in the order the source emits them, and
//! completions are reported in timer order. A run without a source never touches this code.

use std::collections::BTreeMap;

use crate::cluster::{Cluster, Timer};
use crate::workload::TraceJob;

use super::JobRecord;

/// Something that submits jobs over simulated time and reacts to their completion.
pub trait ArrivalSource {
    /// The next time (ms) the source wants to be polled; `u64::MAX` when it waits on nothing
    /// but job completions (or is finished).
    fn next_time(&self) -> u64;
    /// Called at `now == next_time()`: advance to `now` and push the jobs to submit now, each
    /// with a key the source picks (reported back by `job_finished`).
    fn poll(&mut self, now: u64, out: &mut Vec<(u64, TraceJob)>);
    /// A job submitted under `key` finished (all pods Succeeded) at `now`; `wait_ms` is its
    /// submit → gang-ready time.
    fn job_finished(&mut self, key: u64, now: u64, wait_ms: Option<u64>);
}

/// Engine-side state of an attached source.
pub(crate) struct SourceState<'a> {
    pub(crate) source: &'a mut dyn ArrivalSource,
    /// Jobs submitted for the source: (job, cluster index, key), in submission order.
    jobs: Vec<(TraceJob, usize, u64)>,
    /// Cluster index → position in `jobs`.
    by_cluster: BTreeMap<usize, usize>,
    buf: Vec<(u64, TraceJob)>,
}

impl<'a> SourceState<'a> {
    pub(crate) fn new(source: &'a mut dyn ArrivalSource) -> SourceState<'a> {
        SourceState {
            source,
            jobs: Vec::new(),
            by_cluster: BTreeMap::new(),
            buf: Vec::new(),
        }
    }
}

impl SourceState<'_> {
    /// Next time the source wants to act.
    pub(crate) fn next_time(&self) -> u64 {
        self.source.next_time()
    }

    /// Polls the source at `t` and submits what it emits. Returns how many jobs arrived.
    pub(crate) fn deliver(&mut self, t: u64, submit: &mut dyn FnMut(&TraceJob) -> usize) -> usize {
        let mut buf = std::mem::take(&mut self.buf);
        self.source.poll(t, &mut buf);
        let n = buf.len();
        for (key, job) in buf.drain(..) {
            let idx = submit(&job);
            self.by_cluster.insert(idx, self.jobs.len());
            self.jobs.push((job, idx, key));
        }
        self.buf = buf;
        n
    }

    /// After a live timer fired at `t`: reports a source job that just finished.
    pub(crate) fn fired(&mut self, cluster: &Cluster, timer: Timer, t: u64) {
        let Timer::TaskDone(task) = timer else {
            return;
        };
        let idx = cluster.index_of(cluster.snap.task(task).job);
        let st = &cluster.jobs[idx];
        if st.finish_ms() != Some(t) {
            return;
        }
        if let Some(&pos) = self.by_cluster.get(&idx) {
            let wait = st.gang_ready_ms().map(|g| g.saturating_sub(st.submit_ms));
            self.source.job_finished(self.jobs[pos].2, t, wait);
        }
    }

    /// Cluster indices of the source's jobs, in submission order (as `records`).
    pub(crate) fn cluster_indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.jobs.iter().map(|(_, idx, _)| *idx)
    }

    /// Records of the source's jobs, in submission order (appended after the input jobs).
    pub(crate) fn records(&self, cluster: &Cluster) -> Vec<JobRecord> {
        let snap = &cluster.snap;
        let mut shared = super::records::Shared::default();
        self.jobs
            .iter()
            .map(|(tj, idx, _)| {
                let st = &cluster.jobs[*idx];
                let known = snap.queue_by_name(&tj.queue).is_some();
                super::records::job_record(tj, st.submit_ms, Some(st), known, &mut shared)
            })
            .collect()
    }
}
