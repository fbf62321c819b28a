//! The discrete-event engine: streams arrivals from the submit-sorted workload, keeps cluster
//! timers in a `(time, seq)` heap with lazy cancellation, runs a scheduling cycle every
//! `schedule_period_ms` (cycle k at time k × period), fast-forwards over cycles that cannot
//! change anything, samples queues, tracks starvation-below-deserved episodes after every
//! cycle (`starvation`) and records the `Outcome`.
//!
//! May depend on `model`, `policy`, `cluster`, `workload`. Determinism: no hash-map iteration;
//! cycle k draws its ties from `ChaCha8Rng::seed_from_u64(mix(seed, k))`, so skipping an idle
//! cycle cannot shift the random stream of later cycles.
//!
//! Same-millisecond order: arrivals (input order among equal submit times), then timers (in the
//! order they were armed), then the cycle, then the queue sample. A cycle is skipped only when
//! nothing happened since the previous cycle, that cycle made no decisions, and no time-based
//! plugin (`sla`) is configured — then the previous cycle's output would repeat exactly.

pub mod deserved;
pub mod outcome;
pub mod records;
pub mod source;
pub mod starvation;
pub mod workflows;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Write;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::cluster::{Cluster, ClusterParams, Timer};
use crate::model::{NodeSpec, OnEvictPolicy, PriorityClassSpec, QueueSpec};
use crate::policy::{Decision, PluginKind, Scheduler, SchedulerConf, Snapshot, TieBreak};
use crate::workload::TraceJob;
pub use outcome::{
    Counters, EvictionRecord, Fnv, JobRecord, Outcome, QueueSample, StarvationEpisode,
};
pub use source::ArrivalSource;

/// Engine parameters. Times in ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimParams {
    /// Cycle cadence (Volcano `schedule-period`, default 1 s; cycle duration is not modelled).
    pub schedule_period_ms: u64,
    /// Bind request → Running (default 100 ms).
    pub bind_latency_ms: u64,
    /// vcjob mode: PodGroup Inqueue → pods exist (default 100 ms).
    pub controller_delay_ms: u64,
    /// Eviction → pod gone and recreated (default 30 s).
    pub eviction_grace_ms: u64,
    /// Stop here even with work left (`None`: run until all jobs are done or nothing can change).
    pub horizon_ms: Option<u64>,
    pub seed: u64,
    /// Pods created by the vcjob controller after enqueue (default true).
    pub vcjob_mode: bool,
    /// Queue time-series period (default 10 s; 0 disables sampling).
    pub sample_period_ms: u64,
    /// The job controller's reaction to an evicted pod, by workload class (default: recreate
    /// the pod).
    pub on_evict: OnEvictPolicy,
}

impl Default for SimParams {
    fn default() -> Self {
        SimParams {
            schedule_period_ms: 1000,
            bind_latency_ms: 100,
            controller_delay_ms: 100,
            eviction_grace_ms: 30_000,
            horizon_ms: None,
            seed: 0,
            vcjob_mode: true,
            sample_period_ms: 10_000,
            on_evict: OnEvictPolicy::default(),
        }
    }
}

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct SimInput {
    pub nodes: Vec<NodeSpec>,
    pub queues: Vec<QueueSpec>,
    pub priority_classes: Vec<PriorityClassSpec>,
    pub conf: SchedulerConf,
    /// Any order; arrivals are streamed sorted by `(submit_ms, input index)`.
    pub jobs: Vec<TraceJob>,
    pub params: SimParams,
}

/// With time-based plugins the engine never skips cycles; when no event is left it stops after
/// this many consecutive decision-free cycles (one day at the default period).
pub const IDLE_CYCLE_LIMIT: u64 = 86_400;

/// splitmix64 finaliser.
pub fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of cycle `cycle`'s RNG.
pub fn mix(seed: u64, cycle: u64) -> u64 {
    splitmix(seed ^ splitmix(cycle))
}

/// The per-cycle tie-breaking RNG.
pub struct CycleRng(ChaCha8Rng);

impl CycleRng {
    pub fn new(seed: u64, cycle: u64) -> CycleRng {
        CycleRng(ChaCha8Rng::seed_from_u64(mix(seed, cycle)))
    }
}

impl TieBreak for CycleRng {
    fn pick(&mut self, n: usize) -> usize {
        if n <= 1 {
            0
        } else {
            self.0.random_range(0..n as u64) as usize
        }
    }
}

/// Runs the simulation.
pub fn simulate(input: &SimInput) -> Outcome {
    simulate_with_hook(input, &mut |_, _| {})
}

/// Runs the simulation, calling `hook(snapshot, time)` after every cycle that ran (for
/// invariant checks in tests).
pub fn simulate_with_hook(input: &SimInput, hook: &mut dyn FnMut(&Snapshot, u64)) -> Outcome {
    Engine::new(input).run(hook)
}

/// Runs the simulation with a dynamic arrival source (e.g. `workflows::WorkflowDriver`) next to
/// the static `input.jobs`; the source's jobs are recorded after the input jobs.
pub fn simulate_with_source(input: &SimInput, source: &mut dyn ArrivalSource) -> Outcome {
    let mut engine = Engine::new(input);
    engine.src = Some(source::SourceState::new(source));
    engine.run(&mut |_, _| {})
}

struct Engine<'a> {
    input: &'a SimInput,
    cluster: Cluster,
    order: Vec<usize>,
    next_arrival: usize,
    /// Cluster index of each input job (`usize::MAX` until it arrived).
    cluster_ix: Vec<usize>,
    heap: BinaryHeap<Reverse<(u64, u64, Timer)>>,
    seq: u64,
    timers: Vec<(u64, Timer)>,
    counters: Counters,
    hash: Fnv,
    evictions: Vec<EvictionRecord>,
    samples: Vec<QueueSample>,
    next_sample: u64,
    now: u64,
    /// Dynamic arrivals (`simulate_with_source`); `None` for plain runs.
    src: Option<source::SourceState<'a>>,
    /// Whose `deserved` the queue samples show.
    deserved_mode: deserved::DeservedMode,
    /// The deserved the last cycle computed, by queue (buffer reused across cycles).
    cycle_deserved: Vec<Option<(f64, f64)>>,
    starvation: starvation::Tracker,
    /// The scheduler of this run (plugins and caches built once).
    scheduler: Scheduler,
}

impl<'a> Engine<'a> {
    fn new(input: &'a SimInput) -> Engine<'a> {
        let mut snap = Snapshot::new();
        for pc in &input.priority_classes {
            snap.add_priority_class(pc.clone());
        }
        for n in &input.nodes {
            snap.add_node(n);
        }
        for q in &input.queues {
            snap.add_queue(q);
        }
        let p = &input.params;
        let cp = ClusterParams {
            bind_latency_ms: p.bind_latency_ms,
            controller_delay_ms: p.controller_delay_ms,
            eviction_grace_ms: p.eviction_grace_ms,
            vcjob_mode: p.vcjob_mode,
        };
        let mut order: Vec<usize> = (0..input.jobs.len()).collect();
        order.sort_by_key(|&i| (input.jobs[i].submit_ms, i));
        let deserved_mode = deserved::DeservedMode::of(&input.conf);
        let starvation = starvation::Tracker::new(snap.queues.len(), deserved_mode);
        let mut cluster = Cluster::new(snap, cp);
        cluster.on_evict = p.on_evict.clone();
        Engine {
            input,
            cluster,
            order,
            next_arrival: 0,
            cluster_ix: vec![usize::MAX; input.jobs.len()],
            heap: BinaryHeap::new(),
            seq: 0,
            timers: Vec::new(),
            counters: Counters::default(),
            hash: Fnv::new(),
            evictions: Vec::new(),
            samples: Vec::new(),
            next_sample: 0,
            now: 0,
            src: None,
            deserved_mode,
            cycle_deserved: Vec::new(),
            starvation,
            scheduler: Scheduler::new(&input.conf)
                .expect("SimInput.conf is a parsed (validated) scheduler conf"),
        }
    }

    fn arm(&mut self) {
        for (t, timer) in self.timers.drain(..) {
            self.heap.push(Reverse((t, self.seq, timer)));
            self.seq += 1;
        }
    }

    fn arrival_time(&self) -> u64 {
        self.order
            .get(self.next_arrival)
            .map(|&i| self.input.jobs[i].submit_ms)
            .unwrap_or(u64::MAX)
    }

    fn heap_time(&self) -> u64 {
        self.heap.peek().map(|r| r.0 .0).unwrap_or(u64::MAX)
    }

    fn sample_until(&mut self, t: u64) {
        let sp = self.input.params.sample_period_ms;
        if sp == 0 {
            return;
        }
        while self.next_sample <= t {
            deserved::sample(
                &self.cluster,
                self.next_sample,
                self.deserved_mode,
                &mut self.samples,
            );
            self.next_sample += sp;
        }
    }

    fn run(mut self, hook: &mut dyn FnMut(&Snapshot, u64)) -> Outcome {
        let p = &self.input.params;
        let period = p.schedule_period_ms.max(1);
        let time_based = self.input.conf.has_plugin(PluginKind::Sla);
        let mut cycle: u64 = 0;
        let mut dirty = false;
        let mut productive = false;
        let mut idle_cycles = 0u64;
        let mut hit_horizon = false;
        loop {
            let t_arr = self.arrival_time();
            let t_ev = self.heap_time();
            let t_src = self.source_time();
            let t_event = t_arr.min(t_ev).min(t_src);
            if self.next_arrival == self.order.len() && self.cluster.all_done() && t_src == u64::MAX
            {
                break;
            }
            if !dirty && !productive {
                if time_based {
                    if t_event == u64::MAX && idle_cycles >= IDLE_CYCLE_LIMIT {
                        break;
                    }
                } else {
                    if t_event == u64::MAX {
                        break;
                    }
                    let k = t_event.div_ceil(period).max(cycle);
                    self.counters.cycles_skipped += k - cycle;
                    cycle = k;
                }
            }
            let t_cycle = cycle.saturating_mul(period);
            let t = t_event.min(t_cycle);
            if let Some(h) = p.horizon_ms {
                if t > h {
                    hit_horizon = true;
                    self.sample_until(h);
                    self.now = self.now.max(h);
                    break;
                }
            }
            if self.next_sample < t {
                self.sample_until(t - 1);
            }
            self.now = t;
            if t_arr <= t_ev && t_arr <= t_cycle && t_arr <= t_src {
                let i = self.order[self.next_arrival];
                self.next_arrival += 1;
                self.cluster_ix[i] = self.cluster.submit(&self.input.jobs[i], t);
                self.arm();
                self.counters.events += 1;
                dirty = true;
            } else if t_src <= t_ev && t_src <= t_cycle {
                dirty |= self.poll_source(t);
                self.arm();
            } else if t_ev <= t_cycle {
                let Some(Reverse((_, _, timer))) = self.heap.pop() else {
                    continue;
                };
                if self.cluster.fire(timer, t, &mut self.timers) {
                    self.counters.events += 1;
                    dirty = true;
                    self.source_after_fire(timer, t);
                } else {
                    self.counters.stale_timers += 1;
                }
                self.arm();
            } else {
                let mut rng = CycleRng::new(p.seed, cycle);
                let out = self.scheduler.cycle_observed(
                    &mut self.cluster.snap,
                    t,
                    &mut rng,
                    &mut self.cycle_deserved,
                );
                self.counters.cycles_run += 1;
                self.record(&out.decisions, t);
                self.cluster.apply(&out.decisions, t, &mut self.timers);
                self.record_kills();
                self.starvation
                    .observe(t, &self.cluster.snap.idx.queues, &self.cycle_deserved);
                self.arm();
                productive = !out.decisions.is_empty();
                idle_cycles = if productive || dirty {
                    0
                } else {
                    idle_cycles + 1
                };
                dirty = false;
                cycle += 1;
                hook(&self.cluster.snap, t);
            }
        }
        if !hit_horizon {
            let end = self.now;
            self.sample_until(end);
        }
        self.finish(hit_horizon)
    }

    /// Hashes decisions and logs evictions (before the cluster applies them).
    fn record(&mut self, decisions: &[Decision], t: u64) {
        let snap = &self.cluster.snap;
        for d in decisions {
            self.counters.decisions += 1;
            let _ = match *d {
                Decision::Enqueue { job } => {
                    self.counters.enqueues += 1;
                    writeln!(self.hash, "{t} enqueue {}", snap.job(job).uid)
                }
                Decision::Bind { task, node } => {
                    self.counters.binds += 1;
                    let tk = snap.task(task);
                    writeln!(
                        self.hash,
                        "{t} bind {}/{}#{} {}",
                        tk.namespace,
                        tk.name,
                        task.0,
                        snap.nodes[node.ix()].name
                    )
                }
                Decision::Evict {
                    task,
                    action,
                    preemptor,
                } => {
                    self.counters.evictions += 1;
                    let v = snap.task(task);
                    let ran_ms = match self.cluster.running_since.get(task.ix()) {
                        Some(&since)
                            if v.status == crate::policy::TaskStatus::Releasing && since > 0 =>
                        {
                            t.saturating_sub(since)
                        }
                        _ => 0,
                    };
                    let pr = snap.task(preemptor);
                    self.evictions.push(records::eviction_record(
                        snap,
                        t,
                        task,
                        preemptor,
                        action.as_str(),
                        ran_ms,
                        String::new(),
                    ));
                    writeln!(
                        self.hash,
                        "{t} evict {}/{}#{} {} {}/{}#{}",
                        v.namespace,
                        v.name,
                        task.0,
                        action.as_str(),
                        pr.namespace,
                        pr.name,
                        preemptor.0
                    )
                }
                Decision::Phase { job, phase } => {
                    writeln!(
                        self.hash,
                        "{t} phase {} {}",
                        snap.job(job).uid,
                        phase.as_str()
                    )
                }
            };
        }
    }

    fn finish(self, hit_horizon: bool) -> Outcome {
        let snap = &self.cluster.snap;
        let mut jobs: Vec<JobRecord> = self
            .input
            .jobs
            .iter()
            .enumerate()
            .map(|(i, tj)| {
                let st = self
                    .cluster_ix
                    .get(i)
                    .and_then(|&c| self.cluster.jobs.get(c));
                let known = snap.queue_by_name(&tj.queue).is_some();
                records::job_record(tj, tj.submit_ms, st, known)
            })
            .collect();
        jobs.extend(self.source_records());
        Outcome {
            seed: self.input.params.seed,
            end_ms: self.now,
            hit_horizon,
            queues: snap.queues.iter().map(|q| q.name.clone()).collect(),
            queue_weights: snap.queues.iter().map(|q| q.weight).collect(),
            total_cpu_milli: snap.total.cpu(),
            total_mem_bytes: snap.total.memory(),
            jobs,
            samples: self.samples,
            evictions: self.evictions,
            starvation: self.starvation.finish(),
            counters: self.counters,
            decision_hash: self.hash.0,
        }
    }
}

#[cfg(test)]
mod restart_tests;
#[cfg(test)]
mod tests;
