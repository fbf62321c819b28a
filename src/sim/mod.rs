//! The simulator: the one `engine` run to the horizon over a static trace (and, with Temporal
//! workflows, the workflow replay source), with the outcome recorder that turns what the engine
//! reports into an `Outcome`: the decision-log hash, the eviction log, queue samples and
//! starvation-below-deserved episodes (`starvation`), and one record per job.
//!
//! May depend on `model`, `policy`, `cluster`, `engine`, `workload`. Ordering and determinism
//! are the engine's contract (`engine`); samples are taken at multiples of the sample period,
//! each before anything at a later time is processed, and stored as a row per queue only when
//! the queue changed (`QueueSample::points` counts the repeats), so the series is proportional
//! to events, not to simulated time.

pub mod deserved;
pub mod outcome;
pub mod records;
pub mod source;
pub mod starvation;
mod stream;
pub mod waits;
pub mod workflows;

use crate::cluster::{Cluster, Kill};
use crate::engine::{write_decisions, Engine, Halt, Recorder, Source, TraceSource};
pub use crate::engine::{CycleRng, IDLE_CYCLE_LIMIT};
use crate::model::{EngineParams, Fnv, NodeSpec, PriorityClassSpec, QueueSpec};
use crate::policy::{CycleOutput, Decision, Scheduler, SchedulerConf, Snapshot};
use std::borrow::Cow;

use crate::workload::TraceJob;
pub use outcome::{Counters, EvictionRecord, JobRecord, Outcome, QueueSample, StarvationEpisode};
pub use source::ArrivalSource;
pub use waits::JobWaits;

/// Everything a simulation needs.
#[derive(Debug, Clone)]
pub struct SimInput<'a> {
    pub nodes: Vec<NodeSpec>,
    pub queues: Vec<QueueSpec>,
    pub priority_classes: Vec<PriorityClassSpec>,
    pub conf: SchedulerConf,
    /// Any order; arrivals are streamed sorted by `(submit_ms, input index)`. Borrowed from
    /// the scenario by `RunSpec::sim_input`, so a run holds the workload once.
    pub jobs: Cow<'a, [TraceJob]>,
    pub params: EngineParams,
    /// Seeds the per-cycle tie-breaking RNG.
    pub seed: u64,
    /// Stop here even with work left (`None`: run until all jobs are done or nothing can
    /// change).
    pub horizon_ms: Option<u64>,
}

/// Runs the simulation.
pub fn simulate(input: &SimInput<'_>) -> Outcome {
    simulate_with_hook(input, &mut |_, _| {})
}

/// Runs the simulation, calling `hook(snapshot, time)` after every cycle that ran (for
/// invariant checks in tests).
pub fn simulate_with_hook(input: &SimInput<'_>, hook: &mut dyn FnMut(&Snapshot, u64)) -> Outcome {
    run(input, None, None, hook)
}

/// Runs the simulation with a dynamic arrival source (e.g. `workflows::WorkflowDriver`) next to
/// the static `input.jobs`; the source's jobs are recorded after the input jobs.
pub fn simulate_with_source(input: &SimInput<'_>, source: &mut dyn ArrivalSource) -> Outcome {
    run(input, None, Some(source), &mut |_, _| {})
}

/// [`simulate`] (with `source` when given) taking the workload: `input.jobs` is moved out
/// (cloned first if it was borrowed), so the trace is released while the per-job records are
/// built from it — the records take its strings instead of copying them, and the trace and
/// the records never sit whole in memory at once. Same `Outcome` as [`simulate`].
pub fn simulate_taking_jobs(
    mut input: SimInput<'_>,
    source: Option<&mut dyn ArrivalSource>,
) -> Outcome {
    let jobs = std::mem::take(&mut input.jobs).into_owned();
    run(&input, Some(jobs), source, &mut |_, _| {})
}

fn run(
    input: &SimInput<'_>,
    owned: Option<Vec<TraceJob>>,
    flow: Option<&mut dyn ArrivalSource>,
    hook: &mut dyn FnMut(&Snapshot, u64),
) -> Outcome {
    let n = owned.as_ref().map_or(input.jobs.len(), Vec::len);
    // A taken trace sorted by submit time (every scenario's) is streamed; else it is held.
    let (streamed, owned) = match owned.map(stream::Streamed::new) {
        Some(Ok(s)) => (Some(s), None),
        Some(Err(v)) => (None, Some(v)),
        None => (None, None),
    };
    let jobs: &[TraceJob] = match (&streamed, &owned) {
        (Some(_), _) => &[],
        (None, Some(v)) => v,
        (None, None) => &input.jobs,
    };
    // `SimInput.conf` comes from `parse_scheduler_conf` (or a constructor that validates), so
    // building its scheduler cannot fail.
    let scheduler = Scheduler::new(&input.conf).expect("a parsed scheduler conf builds");
    let mut engine = Engine::new(
        &input.nodes,
        &input.queues,
        &input.priority_classes,
        scheduler,
        input.params.clone(),
        input.seed,
    );
    engine.cluster.reserve(n);
    let mode = deserved::DeservedMode::of(&input.conf);
    let mut rec = OutcomeRecorder {
        hash: Fnv::new(),
        evictions: Vec::new(),
        samples: Vec::new(),
        sample_period: input.params.sample_period_ms,
        next_sample: 0,
        fresh: true,
        last_row: Vec::new(),
        scratch: Vec::new(),
        deserved_mode: mode,
        starvation: starvation::Tracker::new(engine.cluster.snap.queues.len(), mode),
        waits: waits::WaitTracker::with_capacity(n),
        hook,
    };
    let mut src = Arrivals {
        trace: match streamed {
            Some(s) => Static::Streamed(s),
            None => Static::Slice(TraceSource::new(jobs)),
        },
        flow: flow.map(source::SourceState::new),
    };
    let until = input.horizon_ms.map_or(u64::MAX, |h| h.saturating_add(1));
    let halt = engine.advance(until, &mut src, &mut rec, &mut |_| false);
    let hit_horizon = matches!(halt, Halt::Until { .. }) && until != u64::MAX;
    let end = if let Halt::Until { skipped } = halt {
        engine.counters.cycles_skipped += skipped;
        let h = input.horizon_ms.unwrap_or(u64::MAX);
        rec.sample_until(&engine.cluster, h);
        engine.now().max(h)
    } else {
        let end = engine.now();
        rec.sample_until(&engine.cluster, end);
        end
    };
    let Arrivals { trace, flow } = src;
    let (streamed, cluster_ix) = match trace {
        Static::Streamed(s) => (Some(s), Vec::new()),
        Static::Slice(t) => (None, t.cluster_ix),
    };
    let trace = match (streamed, owned) {
        (Some(s), _) => Trace::Streamed(s),
        (None, Some(v)) => Trace::Owned(v),
        (None, None) => Trace::Borrowed(&input.jobs),
    };
    finish(
        input,
        trace,
        n,
        cluster_ix,
        engine,
        flow,
        rec,
        end,
        hit_horizon,
    )
}

/// The input jobs as `finish` gets them: borrowed (records copy their strings) or owned
/// (records take them, and the trace shrinks as they are made).
enum Trace<'a> {
    Borrowed(&'a [TraceJob]),
    Owned(Vec<TraceJob>),
    /// Streamed: the seeds of the arrived jobs and the jobs that never arrived.
    Streamed(stream::Streamed),
}

/// The static trace as the engine reads it: a slice in `(submit_ms, input index)` order, or a
/// taken trace streamed chunk by chunk.
enum Static<'a> {
    Slice(TraceSource<'a>),
    Streamed(stream::Streamed),
}

impl Static<'_> {
    fn next_time(&self) -> u64 {
        match self {
            Static::Slice(t) => t.next_time(),
            Static::Streamed(s) => s.next_time(),
        }
    }

    fn deliver(&mut self, t: u64, submit: &mut dyn FnMut(&TraceJob) -> usize) -> usize {
        match self {
            Static::Slice(s) => s.deliver(t, submit),
            Static::Streamed(s) => s.deliver(t, submit),
        }
    }
}

/// The simulator's arrivals: the static trace first, then the dynamic source, at each
/// millisecond.
struct Arrivals<'a, 'b> {
    trace: Static<'a>,
    flow: Option<source::SourceState<'b>>,
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

impl Source for Arrivals<'_, '_> {
    fn next_time(&self) -> u64 {
        let f = self.flow.as_ref().map_or(u64::MAX, |f| f.next_time());
        self.trace.next_time().min(f)
    }

    fn deliver(&mut self, t: u64, submit: &mut dyn FnMut(&TraceJob) -> usize) -> usize {
        let mut n = 0;
        if self.trace.next_time() == t {
            n += self.trace.deliver(t, submit);
        }
        if let Some(f) = self.flow.as_mut().filter(|f| f.next_time() == t) {
            n += f.deliver(t, submit);
        }
        n
    }

    fn fired(&mut self, cluster: &Cluster, timer: crate::cluster::Timer, t: u64) {
        if let Some(f) = self.flow.as_mut() {
            f.fired(cluster, timer, t);
        }
    }
}

/// Turns what the engine reports into the `Outcome`'s logs.
struct OutcomeRecorder<'h> {
    hash: Fnv,
    evictions: Vec<EvictionRecord>,
    samples: Vec<QueueSample>,
    sample_period: u64,
    next_sample: u64,
    /// The cluster may have changed since the last sample point was taken.
    fresh: bool,
    /// Index in `samples` of each queue's latest row.
    last_row: Vec<usize>,
    scratch: Vec<QueueSample>,
    deserved_mode: deserved::DeservedMode,
    starvation: starvation::Tracker,
    waits: waits::WaitTracker,
    hook: &'h mut dyn FnMut(&Snapshot, u64),
}

impl OutcomeRecorder<'_> {
    /// Takes every queue sample due at or before `t`. Between two engine steps the cluster
    /// does not change, so after the first sample point following a step every further point
    /// repeats it: it only extends the queues' latest rows (`QueueSample::points`).
    fn sample_until(&mut self, c: &Cluster, t: u64) {
        let period = self.sample_period;
        if period == 0 {
            return;
        }
        while self.next_sample <= t {
            if self.fresh {
                self.scratch.clear();
                deserved::sample(c, self.next_sample, self.deserved_mode, &mut self.scratch);
                for s in self.scratch.drain(..) {
                    let q = s.queue as usize;
                    match self.last_row.get(q).map(|&i| &mut self.samples[i]) {
                        Some(last) if same_values(last, &s) => last.points += 1,
                        _ => {
                            if q >= self.last_row.len() {
                                self.last_row.resize(q + 1, 0);
                            }
                            self.last_row[q] = self.samples.len();
                            self.samples.push(s);
                        }
                    }
                }
                self.fresh = false;
                self.next_sample += period;
            } else {
                let k = (t - self.next_sample) / period + 1;
                for &i in &self.last_row {
                    self.samples[i].points += k;
                }
                self.next_sample += k * period;
            }
        }
    }
}

/// Whether two samples of a queue show the same values (times aside).
fn same_values(a: &QueueSample, b: &QueueSample) -> bool {
    a.queue == b.queue
        && a.pending_jobs == b.pending_jobs
        && a.inqueue_jobs == b.inqueue_jobs
        && a.running_jobs == b.running_jobs
        && a.allocated_cpu_milli == b.allocated_cpu_milli
        && a.allocated_mem_bytes == b.allocated_mem_bytes
        && a.deserved_cpu_milli == b.deserved_cpu_milli
        && a.deserved_mem_bytes == b.deserved_mem_bytes
}

impl Recorder for OutcomeRecorder<'_> {
    fn at(&mut self, c: &Cluster, t: u64) {
        if self.next_sample < t {
            self.sample_until(c, t - 1);
        }
        // The step at `t` may change the cluster.
        self.fresh = true;
    }

    fn decided(&mut self, c: &Cluster, out: &CycleOutput, t: u64) {
        record_decisions(&mut self.hash, &mut self.evictions, c, &out.decisions, t);
        self.waits.cycle(c, out, t);
    }

    fn applied(&mut self, c: &Cluster, kills: &[Kill], deserved: &[Option<(f64, f64)>], t: u64) {
        records::record_kills(&mut self.evictions, &c.snap, kills);
        self.starvation.observe(t, &c.snap.idx.queues, deserved);
        (self.hook)(&c.snap, t);
    }
}

/// Hashes a cycle's decisions into the canonical decision log (`engine::write_decisions`) and
/// logs its evictions (before the cluster applies them).
fn record_decisions(
    hash: &mut Fnv,
    evictions: &mut Vec<EvictionRecord>,
    c: &Cluster,
    decisions: &[Decision],
    t: u64,
) {
    let snap = &c.snap;
    let _ = write_decisions(hash, snap, decisions, t);
    for d in decisions {
        if let Decision::Evict {
            task,
            action,
            preemptor,
        } = *d
        {
            let v = snap.task(task);
            let ran_ms = match c.running_since.get(task.ix()) {
                Some(&since) if v.status == crate::policy::TaskStatus::Releasing && since > 0 => {
                    t.saturating_sub(since)
                }
                _ => 0,
            };
            evictions.push(records::eviction_record(
                snap,
                t,
                task,
                preemptor,
                action.as_str(),
                ran_ms,
                String::new(),
            ));
        }
    }
}

/// Builds the `Outcome` once the engine stopped. The engine is consumed: the queue facts, the
/// counters, the waits and the workflow jobs' records are taken from it first, then the
/// scheduler's snapshot (every job and task slot of the run) is dropped before the per-job
/// records are built, so the records never sit in memory next to the snapshot. An owned trace
/// is consumed from its end while the records are made (freeing it as it goes), then the
/// reversed rows are put back in input order.
#[allow(clippy::too_many_arguments)]
fn finish(
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
                        jobs.push(records::job_record(tj, tj.submit_ms, states.get(ix), known));
                        waits.push(take(&mut by_cluster, ix));
                    }
                    None => after_horizon.push(records::job_record(tj, tj.submit_ms, None, known)),
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
                        jobs.push(records::take_job_record(tj, states.get(ix), known));
                        waits.push(take(&mut by_cluster, ix));
                        if in_order && ix.is_multiple_of(STEP) {
                            shrink(&mut states, ix);
                            shrink(&mut by_cluster, ix);
                        }
                    }
                    None => after_horizon.push(records::take_job_record(tj, None, known)),
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
            let in_order = seeds.is_sorted_by_key(|s| s.cluster_ix);
            jobs = Vec::new();
            waits = Vec::new();
            while let Some(seed) = seeds.pop() {
                let ix = seed.cluster_ix as usize;
                let known = queues.iter().any(|q| q == seed.queue());
                jobs.push(seed.record(states.get(ix), known));
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
                    records::take_job_record(tj, None, known)
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

#[cfg(test)]
mod restart_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod waits_tests;
