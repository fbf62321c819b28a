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
mod finish;
use finish::Trace;
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
pub use outcome::{
    Counters, EvictionRecord, JobRecord, Outcome, QueueSample, Stamp, StarvationEpisode,
};
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
    finish::finish(
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

#[cfg(test)]
mod restart_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod waits_tests;
