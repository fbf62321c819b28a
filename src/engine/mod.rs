//! The one event loop: the modelled cluster, the scheduler, the `(time, seq)` timer heap with
//! lazy cancellation and the scheduling-cycle cadence, advanced in model time. Arrivals come in
//! through a `Source`; everything observable goes out through a `Recorder`. The simulator runs
//! it to the horizon (`sim`); the live twin and the admission forecast advance it to the wall
//! clock (`live::model`). The engine never reads a clock: time is what the caller passes.
//!
//! May depend on `model`, `policy`, `cluster`, `workload` (`TraceJob`).
//!
//! Ordering contract (the same for every caller, so a twin and a simulation of the same
//! arrivals make the same decisions): events are processed by `(time, class, seq)` where at one
//! millisecond arrivals come first (in the order the source emits them), then timers (in the
//! order they were armed), then the cycle. Cycle k runs at k × period and draws its ties from
//! `CycleRng(seed, k)`, so skipping an idle cycle cannot shift later cycles' random streams. A
//! cycle is skipped only when nothing happened since the previous cycle, that cycle decided
//! nothing and no time-based plugin (`sla`) is configured — then it would repeat exactly.
//! `advance(until)` processes everything strictly before `until` and commits no state for
//! times at or after it, so an arrival stamped `until` later is ordered exactly as if the
//! source had announced it from the start.

mod log;
mod rng;
mod source;

use crate::cluster::{Cluster, Kill, Timer};
use crate::model::{EngineParams, NodeSpec, PriorityClassSpec, QueueSpec};
use crate::policy::{CycleOutput, Decision, PluginKind, Scheduler, Snapshot};
pub use log::write_decisions;
pub use rng::CycleRng;
pub use source::{Source, TraceSource};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// With time-based plugins the engine never skips cycles; when no event is left and the source
/// is closed it stops after this many consecutive decision-free cycles (one day at 1 s).
pub const IDLE_CYCLE_LIMIT: u64 = 86_400;

/// Engine counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    pub cycles_run: u64,
    pub cycles_skipped: u64,
    pub decisions: u64,
    pub binds: u64,
    pub evictions: u64,
    pub enqueues: u64,
    /// Pods killed by `RestartJob` (the evicted pods not counted).
    pub restart_kills: u64,
    /// Events that changed the cluster (arrivals and live timers).
    pub events: u64,
    /// Timers found stale when popped (lazily cancelled).
    pub stale_timers: u64,
}

/// What the engine reports to whoever observes a run. Every hook has a do-nothing default.
pub trait Recorder {
    /// Model time is about to move to `t`: nothing at `t` has been processed yet.
    fn at(&mut self, _cluster: &Cluster, _t: u64) {}
    /// The cycle at `t` decided `out`; called before the cluster applies it.
    fn decided(&mut self, _cluster: &Cluster, _out: &CycleOutput, _t: u64) {}
    /// The cluster applied the cycle at `t`. `kills`: pods killed by their job's `RestartJob`
    /// since the last cycle, in kill order; `deserved`: per queue, the deserved (cpu milli,
    /// memory bytes) the cycle's capacity — else proportion — computed.
    fn applied(
        &mut self,
        _cluster: &Cluster,
        _kills: &[Kill],
        _deserved: &[Option<(f64, f64)>],
        _t: u64,
    ) {
    }
}

/// A recorder that observes nothing.
pub struct NoRecorder;

impl Recorder for NoRecorder {}

/// Why `advance` returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Halt {
    /// The next thing to process is at or after `until`. `skipped`: idle cycles that would be
    /// skipped before it (not yet committed: an arrival before then may still run them).
    Until { skipped: u64 },
    /// Nothing is left to process: no arrival, no timer, no cycle that could change anything.
    /// With a closed source this is the end of the run.
    Idle,
    /// Every job finished and the source is closed and empty.
    Done,
    /// The caller's `watch` predicate held.
    Watched,
}

/// The engine: cluster + scheduler + timers + cadence.
#[derive(Clone)]
pub struct Engine {
    pub cluster: Cluster,
    /// Built once per run from the conf; owns the plugins and the cross-cycle caches.
    scheduler: Scheduler,
    seed: u64,
    period: u64,
    heap: BinaryHeap<Reverse<(u64, u64, Timer)>>,
    seq: u64,
    timers: Vec<(u64, Timer)>,
    cycle: u64,
    now: u64,
    dirty: bool,
    productive: bool,
    idle_cycles: u64,
    time_based: bool,
    pub counters: Counters,
    deserved: Vec<Option<(f64, f64)>>,
    kills: Vec<Kill>,
}

impl Engine {
    /// An engine over an empty cluster of `nodes`, `queues` and priority classes `pcs`.
    pub fn new(
        nodes: &[NodeSpec],
        queues: &[QueueSpec],
        pcs: &[PriorityClassSpec],
        scheduler: Scheduler,
        params: EngineParams,
        seed: u64,
    ) -> Engine {
        let mut snap = Snapshot::new();
        for pc in pcs {
            snap.add_priority_class(pc.clone());
        }
        for n in nodes {
            snap.add_node(n);
        }
        for q in queues {
            snap.add_queue(q);
        }
        let time_based = scheduler.conf().has_plugin(PluginKind::Sla);
        Engine {
            period: params.schedule_period_ms.max(1),
            cluster: Cluster::new(snap, params),
            scheduler,
            seed,
            heap: BinaryHeap::new(),
            seq: 0,
            timers: Vec::new(),
            cycle: 0,
            now: 0,
            dirty: false,
            productive: false,
            idle_cycles: 0,
            time_based,
            counters: Counters::default(),
            deserved: Vec::new(),
            kills: Vec::new(),
        }
    }

    /// Time of the last processed event or cycle, ms.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// The seed of the per-cycle tie-breaking RNG.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The scheduler (its conf: `scheduler().conf()`).
    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }

    /// The engine's timing.
    pub fn params(&self) -> &EngineParams {
        &self.cluster.params
    }

    /// Arms timers the cluster pushed, in push order.
    fn arm(&mut self) {
        for (t, timer) in self.timers.drain(..) {
            self.heap.push(Reverse((t, self.seq, timer)));
            self.seq += 1;
        }
    }

    /// Changes the cluster outside the event loop (e.g. adopting a job that already runs, or
    /// deleting one): `f` gets the cluster and the timer sink; the change counts as an event
    /// (the next cycle runs).
    pub fn mutate<R>(&mut self, f: impl FnOnce(&mut Cluster, &mut Vec<(u64, Timer)>) -> R) -> R {
        let r = f(&mut self.cluster, &mut self.timers);
        self.arm();
        self.dirty = true;
        r
    }

    /// Processes, in the ordering contract's order, everything strictly before `until`: arrivals
    /// from `src`, timers and cycles. Stops early when `watch(cluster)` holds (checked before
    /// each step), when nothing is left (`Idle`), or when every job is done and `src` is closed
    /// and empty (`Done`).
    pub fn advance(
        &mut self,
        until: u64,
        src: &mut dyn Source,
        rec: &mut dyn Recorder,
        watch: &mut dyn FnMut(&Cluster) -> bool,
    ) -> Halt {
        loop {
            if watch(&self.cluster) {
                return Halt::Watched;
            }
            let t_arr = src.next_time();
            let t_ev = self.heap.peek().map(|r| r.0 .0).unwrap_or(u64::MAX);
            let t_event = t_arr.min(t_ev);
            if src.closed() && t_arr == u64::MAX && self.cluster.all_done() {
                return Halt::Done;
            }
            let mut cycle = self.cycle;
            if !self.dirty && !self.productive {
                if self.time_based {
                    if t_event == u64::MAX && src.closed() && self.idle_cycles >= IDLE_CYCLE_LIMIT {
                        return Halt::Idle;
                    }
                } else {
                    if t_event == u64::MAX {
                        return Halt::Idle;
                    }
                    cycle = t_event.div_ceil(self.period).max(cycle);
                }
            }
            let t_cycle = cycle.saturating_mul(self.period);
            let t = t_event.min(t_cycle);
            if t >= until {
                return Halt::Until {
                    skipped: cycle - self.cycle,
                };
            }
            self.counters.cycles_skipped += cycle - self.cycle;
            self.cycle = cycle;
            rec.at(&self.cluster, t);
            self.now = t;
            if t_arr <= t_ev && t_arr <= t_cycle {
                let cluster = &mut self.cluster;
                let n = src.deliver(t, &mut |job| cluster.submit(job, t));
                self.counters.events += n as u64;
                self.dirty |= n > 0;
                self.arm();
            } else if t_ev <= t_cycle {
                let Some(Reverse((_, _, timer))) = self.heap.pop() else {
                    continue;
                };
                if self.cluster.fire(timer, t, &mut self.timers) {
                    self.counters.events += 1;
                    self.dirty = true;
                    src.fired(&self.cluster, timer, t);
                } else {
                    self.counters.stale_timers += 1;
                }
                self.arm();
            } else {
                self.run_cycle(t, rec);
            }
        }
    }

    /// Runs cycle `self.cycle` at `t` and applies its decisions.
    fn run_cycle(&mut self, t: u64, rec: &mut dyn Recorder) {
        let mut rng = CycleRng::new(self.seed, self.cycle);
        let out =
            self.scheduler
                .cycle_observed(&mut self.cluster.snap, t, &mut rng, &mut self.deserved);
        self.counters.cycles_run += 1;
        for d in &out.decisions {
            self.counters.decisions += 1;
            match d {
                Decision::Enqueue { .. } => self.counters.enqueues += 1,
                Decision::Bind { .. } => self.counters.binds += 1,
                Decision::Evict { .. } => self.counters.evictions += 1,
                Decision::Phase { .. } => {}
            }
        }
        rec.decided(&self.cluster, &out, t);
        self.cluster.apply(&out.decisions, t, &mut self.timers);
        self.kills.clear();
        self.kills.append(&mut self.cluster.kills);
        self.counters.restart_kills += self.kills.len() as u64;
        rec.applied(&self.cluster, &self.kills, &self.deserved, t);
        self.arm();
        self.productive = !out.decisions.is_empty();
        self.idle_cycles = if self.productive || self.dirty {
            0
        } else {
            self.idle_cycles + 1
        };
        self.dirty = false;
        self.cycle += 1;
    }
}

#[cfg(test)]
mod tests;
