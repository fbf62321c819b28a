//! The modelled cluster advanced on demand: a `cluster::Cluster` plus its timer heap and the
//! scheduling-cycle cadence. The `twin` backend advances it to the wall clock; the admission
//! forecast clones it and runs forward in simulated time (`forecast`).
//!
//! May depend on `model`, `policy`, `cluster`, `workload`; never `sim` (the small event loop
//! here mirrors its ordering rules: at one instant timers fire before the cycle; cycle k runs at
//! k × period with tie-break RNG seeded from `(seed, k)`; idle cycles are skipped only when
//! nothing changed, the last cycle decided nothing and no time-based plugin (`sla`) is on).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::sync::Arc;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::ModelParams;
use crate::cluster::{delete_task, Cluster, ClusterParams, Timer};
use crate::model::{NodeSpec, PriorityClassSpec, QueueSpec};
use crate::policy::{Decision, PluginKind, Scheduler, SchedulerConf, Snapshot, TieBreak};
use crate::workload::TraceJob;

/// Forecasts never look further ahead than this (simulated), ms.
pub const FORECAST_HORIZON_MS: u64 = 24 * 3_600_000;

struct CycleRng(ChaCha8Rng);

impl TieBreak for CycleRng {
    fn pick(&mut self, n: usize) -> usize {
        if n <= 1 {
            0
        } else {
            self.0.random_range(0..n as u64) as usize
        }
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Observed lifecycle of one job in the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobView {
    pub name: String,
    pub phase: &'static str,
    pub submit_ms: u64,
    pub inqueue_ms: Option<u64>,
    pub gang_ready_ms: Option<u64>,
    pub finish_ms: Option<u64>,
    pub evictions: u32,
}

/// One eviction seen in the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvictionSeen {
    pub time_ms: u64,
    pub pod: String,
    pub job: String,
    pub action: String,
}

/// The cluster model with its clock state.
#[derive(Clone)]
pub struct Model {
    pub cluster: Cluster,
    conf: Arc<SchedulerConf>,
    /// Built once from `conf`; a clone (forecast) gets a fresh scheduler with empty caches.
    scheduler: Scheduler,
    params: ModelParams,
    heap: BinaryHeap<Reverse<(u64, u64, Timer)>>,
    seq: u64,
    timers: Vec<(u64, Timer)>,
    cycle: u64,
    now: u64,
    dirty: bool,
    productive: bool,
    time_based: bool,
    by_name: BTreeMap<String, usize>,
    deleted: Vec<bool>,
    /// Record decision-log lines and evictions (off in forecast clones).
    record: bool,
    pub log: Vec<String>,
    pub evictions: Vec<EvictionSeen>,
}

impl Model {
    pub fn new(
        nodes: &[NodeSpec],
        queues: &[QueueSpec],
        pcs: &[PriorityClassSpec],
        conf: Arc<SchedulerConf>,
        params: ModelParams,
    ) -> Model {
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
        let cp = ClusterParams {
            bind_latency_ms: params.bind_latency_ms,
            controller_delay_ms: params.controller_delay_ms,
            eviction_grace_ms: params.eviction_grace_ms,
            vcjob_mode: params.vcjob_mode,
        };
        let time_based = conf.has_plugin(PluginKind::Sla);
        let scheduler =
            Scheduler::new(&conf).expect("the live conf is a parsed (validated) scheduler conf");
        Model {
            cluster: Cluster::new(snap, cp),
            conf,
            scheduler,
            params,
            heap: BinaryHeap::new(),
            seq: 0,
            timers: Vec::new(),
            cycle: 0,
            now: 0,
            dirty: false,
            productive: false,
            time_based,
            by_name: BTreeMap::new(),
            deleted: Vec::new(),
            record: true,
            log: Vec::new(),
            evictions: Vec::new(),
        }
    }

    pub fn now(&self) -> u64 {
        self.now
    }

    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    fn arm(&mut self) {
        for (t, timer) in self.timers.drain(..) {
            self.heap.push(Reverse((t, self.seq, timer)));
            self.seq += 1;
        }
    }

    /// Submits `job` (its `id` is the object name) at the model's current time. Returns false
    /// (and changes nothing) when the name exists already.
    pub fn submit(&mut self, job: &TraceJob) -> bool {
        if self.by_name.contains_key(&job.id) {
            return false;
        }
        let idx = self.cluster.submit(job, self.now);
        self.by_name.insert(job.id.clone(), idx);
        self.deleted.push(false);
        self.arm();
        self.dirty = true;
        true
    }

    /// A model with the same conf, timing and priority classes over other nodes and queues
    /// (the forecast base rebuilt from a real cluster's state).
    pub fn empty_like(&self, nodes: &[NodeSpec], queues: &[QueueSpec]) -> Model {
        let pcs: Vec<PriorityClassSpec> = self
            .cluster
            .snap
            .priority_classes
            .values()
            .cloned()
            .collect();
        Model::new(nodes, queues, &pcs, Arc::clone(&self.conf), self.params)
    }

    /// Adds a job that is already running: its pods Running on `nodes` (one name per pod, in
    /// pod order) since `started_ms`, finishing at `started_ms + duration` (or now if past).
    pub fn submit_running(&mut self, job: &TraceJob, nodes: &[String], started_ms: u64) -> bool {
        if !self.submit(job) {
            return false;
        }
        let idx = self.by_name[&job.id];
        let Some(j) = self.cluster.jobs[idx].job else {
            return true;
        };
        self.cluster
            .snap
            .set_phase(j, crate::policy::PodGroupPhase::Running);
        let mut scratch = Vec::new();
        self.cluster
            .fire(Timer::CreatePods(idx), self.now, &mut scratch);
        let end = started_ms.saturating_add(job.duration_ms).max(self.now);
        let tasks = self.cluster.snap.job(j).tasks.clone();
        for (t, node) in tasks.iter().zip(nodes) {
            if let Some(n) = self.cluster.snap.find_node(node) {
                self.cluster
                    .snap
                    .set_status(*t, crate::policy::TaskStatus::Running, Some(n));
                self.timers.push((end, Timer::TaskDone(*t)));
            }
        }
        let st = &mut self.cluster.jobs[idx];
        st.inqueue_ms = Some(started_ms);
        st.gang_ready_ms = Some(started_ms);
        self.arm();
        true
    }

    /// Deletes a job: its pods leave their nodes at once. Returns false for an unknown name.
    pub fn delete(&mut self, name: &str) -> bool {
        let Some(&idx) = self.by_name.get(name) else {
            return false;
        };
        if self.deleted[idx] {
            return true;
        }
        self.deleted[idx] = true;
        if let Some(j) = self.cluster.jobs[idx].job {
            let tasks = self.cluster.snap.job(j).tasks.clone();
            for t in tasks {
                delete_task(&mut self.cluster.snap, t);
            }
            self.cluster.snap.jobs[j.ix()].live = false;
        }
        self.cluster.active.remove(&idx);
        self.dirty = true;
        true
    }

    /// The job's lifecycle as the model saw it.
    pub fn view(&self, name: &str) -> Option<JobView> {
        let &idx = self.by_name.get(name)?;
        let st = &self.cluster.jobs[idx];
        let phase = if self.deleted[idx] {
            "Deleted"
        } else if st.job.is_none() {
            "Rejected"
        } else if st.finish_ms.is_some() {
            "Completed"
        } else if st.gang_ready_ms.is_some() {
            "Running"
        } else if st.inqueue_ms.is_some() {
            "Inqueue"
        } else {
            "Pending"
        };
        Some(JobView {
            name: name.to_string(),
            phase,
            submit_ms: st.submit_ms,
            inqueue_ms: st.inqueue_ms,
            gang_ready_ms: st.gang_ready_ms,
            finish_ms: st.finish_ms,
            evictions: st.evictions,
        })
    }

    /// Every job name in submission order.
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<(usize, String)> =
            self.by_name.iter().map(|(n, &i)| (i, n.clone())).collect();
        v.sort();
        v.into_iter().map(|(_, n)| n).collect()
    }

    /// Advances the model to `t` (ms), firing timers and running cycles due at or before it.
    pub fn advance_to(&mut self, t: u64) {
        self.run(t, None);
        self.now = self.now.max(t);
    }

    /// Forecast: on a clone, submits `job` now and runs forward until its gang is ready.
    /// Returns the predicted wait (gang ready − submit), or `None` when it is not admitted
    /// within `FORECAST_HORIZON_MS` or can never be (nothing left that could change).
    pub fn forecast(&self, job: &TraceJob) -> Option<u64> {
        let mut m = self.clone();
        m.record = false;
        m.log.clear();
        m.evictions.clear();
        if !m.submit(job) {
            return None;
        }
        let idx = m.by_name[&job.id];
        m.cluster.jobs[idx].job?;
        let start = m.now;
        m.run(start.saturating_add(FORECAST_HORIZON_MS), Some(idx));
        m.cluster.jobs[idx].gang_ready_ms.map(|g| g - start)
    }

    /// The event loop. With `watch`, stops as soon as that job's gang is ready or when nothing
    /// can change any more.
    fn run(&mut self, t_end: u64, watch: Option<usize>) {
        let period = self.params.schedule_period_ms.max(1);
        loop {
            if let Some(w) = watch {
                if self.cluster.jobs[w].gang_ready_ms.is_some() {
                    return;
                }
            }
            let t_ev = self.heap.peek().map(|r| r.0 .0).unwrap_or(u64::MAX);
            if !self.dirty && !self.productive && !self.time_based {
                if t_ev == u64::MAX && watch.is_some() {
                    return;
                }
                let k = t_ev.min(t_end).div_ceil(period);
                self.cycle = self.cycle.max(k);
            }
            let t_cycle = self.cycle.saturating_mul(period);
            let t = t_ev.min(t_cycle);
            if t > t_end {
                return;
            }
            self.now = self.now.max(t);
            if t_ev <= t_cycle {
                let Some(Reverse((_, _, timer))) = self.heap.pop() else {
                    continue;
                };
                if self.cluster.fire(timer, t, &mut self.timers) {
                    self.dirty = true;
                }
                self.arm();
            } else {
                let seed = splitmix(self.params.seed ^ splitmix(self.cycle));
                let mut rng = CycleRng(ChaCha8Rng::seed_from_u64(seed));
                let out = self.scheduler.cycle(&mut self.cluster.snap, t, &mut rng);
                if self.record {
                    self.record_decisions(&out.decisions, t);
                }
                self.cluster.apply(&out.decisions, t, &mut self.timers);
                self.arm();
                self.productive = !out.decisions.is_empty();
                self.dirty = false;
                self.cycle += 1;
            }
        }
    }

    fn record_decisions(&mut self, decisions: &[Decision], t: u64) {
        let snap = &self.cluster.snap;
        for d in decisions {
            match *d {
                Decision::Enqueue { job } => {
                    self.log.push(format!("{t} enqueue {}", snap.job(job).name));
                }
                Decision::Bind { task, node } => {
                    let name = &snap.task(task).name;
                    let node = &snap.nodes[node.ix()].name;
                    self.log.push(format!("{t} bind {name} {node}"));
                }
                Decision::Evict {
                    task,
                    action,
                    preemptor,
                } => {
                    let v = snap.task(task);
                    let by = &snap.task(preemptor).name;
                    self.log
                        .push(format!("{t} evict {} {} by {by}", v.name, action.as_str()));
                    self.evictions.push(EvictionSeen {
                        time_ms: t,
                        pod: v.name.clone(),
                        job: snap.job(v.job).name.clone(),
                        action: action.as_str().to_string(),
                    });
                }
                Decision::Phase { .. } => {}
            }
        }
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
