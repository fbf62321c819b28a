//! Dynamic arrivals: the `ArrivalSource` hook through which something other than the static,
//! submit-sorted `SimInput::jobs` feeds jobs into the engine (the Temporal workflow driver,
//! `sim::workflows`), and the engine-side glue: polling the source, submitting what it emits,
//! telling it when one of its jobs finished, and recording its jobs in the `Outcome`.
//!
//! May depend on `model`, `cluster` and `workload` (via the parent `sim`). Determinism: the
//! engine polls the source only at `next_time()`, after static arrivals of the same millisecond
//! and before timers and the cycle; jobs are submitted in the order the source emits them, and
//! completions are reported in timer order. A run without a source never touches this code.

use std::collections::BTreeMap;

use crate::cluster::Timer;
use crate::workload::TraceJob;

use super::{Engine, JobRecord};

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

impl Engine<'_> {
    /// Next time the source wants to act (`u64::MAX` without a source).
    pub(crate) fn source_time(&self) -> u64 {
        self.src
            .as_ref()
            .map(|s| s.source.next_time())
            .unwrap_or(u64::MAX)
    }

    /// Polls the source at `t` and submits what it emits. Returns whether any job arrived.
    pub(crate) fn poll_source(&mut self, t: u64) -> bool {
        let Some(src) = self.src.as_mut() else {
            return false;
        };
        let mut buf = std::mem::take(&mut src.buf);
        src.source.poll(t, &mut buf);
        let any = !buf.is_empty();
        for (key, job) in buf.drain(..) {
            let idx = self.cluster.submit(&job, t);
            src.by_cluster.insert(idx, src.jobs.len());
            src.jobs.push((job, idx, key));
            self.counters.events += 1;
        }
        src.buf = buf;
        any
    }

    /// After a live timer fired at `t`: reports a source job that just finished.
    pub(crate) fn source_after_fire(&mut self, timer: Timer, t: u64) {
        let Timer::TaskDone(task) = timer else {
            return;
        };
        let Some(src) = self.src.as_mut() else {
            return;
        };
        let idx = self.cluster.index_of(self.cluster.snap.task(task).job);
        let st = &self.cluster.jobs[idx];
        if st.finish_ms != Some(t) {
            return;
        }
        if let Some(&pos) = src.by_cluster.get(&idx) {
            let wait = st.gang_ready_ms.map(|g| g.saturating_sub(st.submit_ms));
            src.source.job_finished(src.jobs[pos].2, t, wait);
        }
    }

    /// Records of the source's jobs, in submission order (appended after the input jobs).
    pub(crate) fn source_records(&self) -> Vec<JobRecord> {
        let Some(src) = self.src.as_ref() else {
            return Vec::new();
        };
        let snap = &self.cluster.snap;
        src.jobs
            .iter()
            .map(|(tj, idx, _)| {
                let st = &self.cluster.jobs[*idx];
                let known = snap.queue_by_name(&tj.queue).is_some();
                super::records::job_record(tj, st.submit_ms, Some(st), known)
            })
            .collect()
    }
}
