//! The end of a run: building the `Outcome` from the stopped engine — queue facts, counters,
//! waits and one `JobRecord` per job, in input order. A taken trace (owned or streamed) is
//! consumed from its end while the records grow, giving back the trace, the cluster states and
//! the waits behind it, so they never sit whole next to the records.
//!
//! Part of `sim` (uses its recorder and sources); same dependencies.

use super::{
    records, source, stream, Engine, JobRecord, JobWaits, Outcome, OutcomeRecorder, SimInput,
};
use crate::workload::TraceJob;

/// The input jobs as `finish` gets them: borrowed (records copy their strings) or owned
/// (records take them, and the trace shrinks as they are made).
pub(super) enum Trace<'a> {
    Borrowed(&'a [TraceJob]),
    Owned(Vec<TraceJob>),
    /// Streamed: the seeds of the arrived jobs and the jobs that never arrived.
    Streamed(stream::Streamed),
}

/// How many rows `finish` consumes between two give-backs of memory (tiny under test, so the
/// give-backs happen).
#[cfg(not(test))]
const STEP: usize = 1 << 16;
#[cfg(test)]
const STEP: usize = 4;

/// Truncates `v` to `len` and gives its spare room back once it is large.
fn shrink<T>(v: &mut Vec<T>, len: usize) {
    v.truncate(len);
    if v.capacity() - v.len() >= STEP {
        v.shrink_to_fit();
    }
}

/// Builds the `Outcome` once the engine stopped. The engine is consumed: the queue facts, the
/// counters, the waits and the workflow jobs' records are taken from it first, then the
/// scheduler's snapshot (every job and task slot of the run) is dropped before the per-job
/// records are built, so the records never sit in memory next to the snapshot. An owned trace
/// is consumed from its end while the records are made (freeing it as it goes), then the
/// reversed rows are put back in input order.
#[allow(clippy::too_many_arguments)]
pub(super) fn finish(
    input: &SimInput<'_>,
    trace: Trace<'_>,
    n: usize,
    cluster_ix: Vec<u32>,
    mut engine: Engine,
    flow: Option<source::SourceState<'_>>,
    rec: OutcomeRecorder<'_>,
    end_ms: u64,
    hit_horizon: bool,
) -> Outcome {
    let c = &engine.cluster;
    let snap = &c.snap;
    let queues: Vec<String> = snap.queues.iter().map(|q| q.name.clone()).collect();
    let queue_weights = snap.queues.iter().map(|q| q.weight).collect();
    let queue_capability_cpu_milli = snap
        .queues
        .iter()
        .map(|q| q.capability.map(|c| c.cpu()))
        .collect();
    let (total_cpu_milli, total_mem_bytes) = (snap.total.cpu(), snap.total.memory());
    let counters = engine.counters.clone();
    let mut by_cluster = rec.waits.finish(c, end_ms);
    let flow = flow
        .as_ref()
        .map(|f| (f.records(c), f.cluster_indices().collect::<Vec<_>>()));
    let mut states = std::mem::take(&mut engine.cluster.jobs);
    drop(engine);
    let take = |by_cluster: &mut Vec<JobWaits>, ix: usize| {
        by_cluster
            .get_mut(ix)
            .map(std::mem::take)
            .unwrap_or_default()
    };
    let arrived = |i: usize| {
        cluster_ix
            .get(i)
            .filter(|&&c| c != u32::MAX)
            .map(|&c| c as usize)
    };
    let (flow_records, flow_waits) = match flow {
        Some((records, ixs)) => {
            let w: Vec<JobWaits> = ixs
                .into_iter()
                .map(|ix| take(&mut by_cluster, ix))
                .collect();
            (records, w)
        }
        None => (Vec::new(), Vec::new()),
    };
    // Queue and class names shared by the records (the streamed trace's `Names` for its seeds).
    let mut shared = records::Shared::default();
    let mut jobs: Vec<JobRecord>;
    let mut waits: Vec<JobWaits>;
    let mut after_horizon = Vec::new();
    match trace {
        Trace::Borrowed(trace) => {
            jobs = Vec::with_capacity(n);
            waits = Vec::with_capacity(n);
            for (i, tj) in trace.iter().enumerate() {
                let known = queues.contains(&tj.queue);
                match arrived(i) {
                    Some(ix) => {
                        jobs.push(records::job_record(
                            tj,
                            tj.submit_ms,
                            states.get(ix),
                            known,
                            &mut shared,
                        ));
                        waits.push(take(&mut by_cluster, ix));
                    }
                    None => after_horizon.push(records::job_record(
                        tj,
                        tj.submit_ms,
                        None,
                        known,
                        &mut shared,
                    )),
                }
            }
        }
        Trace::Owned(mut trace) => {
            // Consumed from the end, giving memory back in steps: the trace as its tail is
            // taken, and — when the jobs arrived in input order, so every cluster index past
            // this job's belongs to a job already done (or to the dynamic source, whose waits
            // are taken) — the cluster states and waits past it. The records grow meanwhile
            // (no room reserved up front), so the three never sit whole next to the records.
            let in_order = cluster_ix.iter().filter(|&&c| c != u32::MAX).is_sorted();
            jobs = Vec::new();
            waits = Vec::new();
            while let Some(tj) = trace.pop() {
                let i = trace.len();
                let known = queues.contains(&tj.queue);
                match arrived(i) {
                    Some(ix) => {
                        jobs.push(records::take_job_record(
                            tj,
                            states.get(ix),
                            known,
                            &mut shared,
                        ));
                        waits.push(take(&mut by_cluster, ix));
                        if in_order && ix.is_multiple_of(STEP) {
                            shrink(&mut states, ix);
                            shrink(&mut by_cluster, ix);
                        }
                    }
                    None => {
                        after_horizon.push(records::take_job_record(tj, None, known, &mut shared))
                    }
                }
                if i.is_multiple_of(STEP) && trace.capacity() - i >= STEP {
                    trace.shrink_to_fit();
                }
            }
            jobs.reverse();
            waits.reverse();
            after_horizon.reverse();
        }
        Trace::Streamed(mut streamed) => {
            // As for an owned trace; the seeds are in input order, so their cluster indices
            // are ascending unless the dynamic source's jobs came in between (still ascending).
            let mut seeds = std::mem::take(&mut streamed.seeds);
            let names = std::mem::take(&mut streamed.names);
            let known: Vec<bool> = (0..names.len() as u32)
                .map(|i| queues.iter().any(|q| q == names.get(i)))
                .collect();
            let in_order = seeds.is_sorted_by_key(|s| s.cluster_ix);
            jobs = Vec::new();
            waits = Vec::new();
            while let Some(seed) = seeds.pop() {
                let ix = seed.cluster_ix as usize;
                let known = known[seed.queue() as usize];
                // A seed is made when its job arrives, so its cluster state exists; the states
                // past it are the only ones given back so far.
                let st = states.get(ix).expect("an arrived job has a cluster state");
                jobs.push(seed.record(st, known, &names));
                waits.push(take(&mut by_cluster, ix));
                if in_order && ix.is_multiple_of(STEP) {
                    shrink(&mut states, ix);
                    shrink(&mut by_cluster, ix);
                }
                if seeds.len().is_multiple_of(STEP) {
                    let len = seeds.len();
                    shrink(&mut seeds, len);
                }
            }
            jobs.reverse();
            waits.reverse();
            after_horizon = streamed
                .undelivered()
                .map(|tj| {
                    let known = queues.contains(&tj.queue);
                    records::take_job_record(tj, None, known, &mut shared)
                })
                .collect();
        }
    }
    drop(states);
    drop(by_cluster);
    jobs.extend(flow_records);
    waits.extend(flow_waits);
    Outcome {
        seed: input.seed,
        end_ms,
        hit_horizon,
        queues,
        queue_weights,
        queue_capability_cpu_milli,
        total_cpu_milli,
        total_mem_bytes,
        jobs,
        after_horizon,
        samples: rec.samples,
        evictions: rec.evictions,
        starvation: rec.starvation.finish(),
        waits,
        counters,
        decision_hash: rec.hash.0,
    }
}
