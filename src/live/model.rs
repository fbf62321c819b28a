//! The modelled cluster of live mode: the one `engine` fed by live submissions and advanced in
//! model time by the caller. The `twin` backend advances it to the wall clock; the admission
//! forecast clones it and runs forward (`forecast`). Because the engine's ordering contract
//! holds however it is advanced, a twin run makes exactly the decisions `volsim run` makes on
//! the submissions it observed (same times, same order).
//!
//! May depend on `model`, `policy`, `cluster`, `engine`, `workload`; never `sim`. Time: every
//! method takes or keeps model ms; nothing here reads a clock.

use std::collections::{BTreeMap, VecDeque};

use crate::cluster::{delete_task, Cluster, Kill, Timer};
use crate::engine::{write_decisions, Engine, NoRecorder, Recorder, Source};
use crate::model::{EngineParams, Fnv, NodeSpec, PriorityClassSpec, QueueSpec};
use crate::policy::{CycleOutput, Decision, PodGroupPhase, Scheduler, TaskStatus};
use crate::workload::TraceJob;

/// Forecasts never look further ahead than this (simulated), ms.
pub const FORECAST_HORIZON_MS: u64 = 24 * 3_600_000;

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

/// Live submissions not yet handed to the engine: an open source.
#[derive(Clone, Default)]
struct Inbox {
    /// (submit time, submission number, job), times non-decreasing.
    queue: VecDeque<(u64, usize, TraceJob)>,
    /// Cluster index by submission number, once delivered.
    delivered: Vec<Option<usize>>,
}

impl Source for Inbox {
    fn next_time(&self) -> u64 {
        self.queue.front().map_or(u64::MAX, |q| q.0)
    }

    fn deliver(&mut self, t: u64, submit: &mut dyn FnMut(&TraceJob) -> usize) -> usize {
        let mut n = 0;
        while self.queue.front().is_some_and(|q| q.0 == t) {
            let Some((_, k, job)) = self.queue.pop_front() else {
                break;
            };
            self.delivered[k] = Some(submit(&job));
            n += 1;
        }
        n
    }

    fn closed(&self) -> bool {
        false
    }
}

/// The twin's observations: the human-readable decision log, the canonical decision-log hash
/// (the simulator's), and the evictions.
#[derive(Clone)]
struct LiveRecorder {
    log: Vec<String>,
    hash: Fnv,
    evictions: Vec<EvictionSeen>,
}

impl Recorder for LiveRecorder {
    fn decided(&mut self, c: &Cluster, out: &CycleOutput, t: u64) {
        let snap = &c.snap;
        let _ = write_decisions(&mut self.hash, snap, &out.decisions, t);
        for d in &out.decisions {
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

    fn applied(&mut self, c: &Cluster, kills: &[Kill], _d: &[Option<(f64, f64)>], _t: u64) {
        for k in kills {
            let v = c.snap.task(k.task);
            self.evictions.push(EvictionSeen {
                time_ms: k.time_ms,
                pod: v.name.clone(),
                job: c.snap.job(v.job).name.clone(),
                action: "restart-job".into(),
            });
        }
    }
}

/// The cluster model with its clock state.
#[derive(Clone)]
pub struct Model {
    engine: Engine,
    inbox: Inbox,
    rec: LiveRecorder,
    /// Model time the caller has advanced to: everything strictly before it is processed;
    /// submissions are stamped with it.
    clock: u64,
    /// Job name → submission number.
    by_name: BTreeMap<String, usize>,
    /// Submission number → (name, submit time, deleted).
    subs: Vec<(String, u64, bool)>,
    /// Longest the caller stamped a submission after the time it asked for (`submit_at`), ms.
    pub max_lag_ms: u64,
}

impl Model {
    pub fn new(
        nodes: &[NodeSpec],
        queues: &[QueueSpec],
        pcs: &[PriorityClassSpec],
        scheduler: Scheduler,
        params: EngineParams,
        seed: u64,
    ) -> Model {
        Model {
            engine: Engine::new(nodes, queues, pcs, scheduler, params, seed),
            inbox: Inbox::default(),
            rec: LiveRecorder {
                log: Vec::new(),
                hash: Fnv::new(),
                evictions: Vec::new(),
            },
            clock: 0,
            by_name: BTreeMap::new(),
            subs: Vec::new(),
            max_lag_ms: 0,
        }
    }

    /// The model's time: submissions made now are stamped with it.
    pub fn now(&self) -> u64 {
        self.clock
    }

    /// The modelled cluster.
    pub fn cluster(&self) -> &Cluster {
        &self.engine.cluster
    }

    /// The human-readable decision log (`<t> enqueue|bind|evict …` with object names).
    pub fn log(&self) -> &[String] {
        &self.rec.log
    }

    /// The canonical decision-log hash (the simulator's) of every decision so far.
    pub fn decision_hash(&self) -> u64 {
        self.rec.hash.0
    }

    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Submits `job` (its `id` is the object name) at the model's current time. Returns false
    /// (and changes nothing) when the name exists already.
    pub fn submit(&mut self, job: &TraceJob) -> bool {
        self.submit_at(job, self.clock)
    }

    /// Submits `job` at model time `at`, or at the model's time when that has passed already
    /// (then the difference counts as lag). Returns false when the name exists already.
    pub fn submit_at(&mut self, job: &TraceJob, at: u64) -> bool {
        if self.by_name.contains_key(&job.id) {
            return false;
        }
        let t = at.max(self.clock);
        self.max_lag_ms = self.max_lag_ms.max(t - at);
        let k = self.subs.len();
        self.by_name.insert(job.id.clone(), k);
        self.subs.push((job.id.clone(), t, false));
        self.inbox.delivered.push(None);
        self.inbox.queue.push_back((t, k, job.clone()));
        true
    }

    /// A model with the same conf, timing and priority classes over other nodes and queues
    /// (the forecast base rebuilt from a real cluster's state).
    pub fn empty_like(&self, nodes: &[NodeSpec], queues: &[QueueSpec]) -> Model {
        let c = &self.engine.cluster;
        let pcs: Vec<PriorityClassSpec> = c.snap.priority_classes.values().cloned().collect();
        let mut m = Model::new(
            nodes,
            queues,
            &pcs,
            self.engine.scheduler().clone(),
            c.params.clone(),
            self.engine.seed(),
        );
        m.clock = self.clock;
        m
    }

    /// Adds a job that is already running: its pods Running on `nodes` (one name per pod, in
    /// pod order) since `started_ms`, finishing at `started_ms + duration` (or now if past).
    pub fn submit_running(&mut self, job: &TraceJob, nodes: &[String], started_ms: u64) -> bool {
        if self.by_name.contains_key(&job.id) {
            return false;
        }
        let now = self.clock;
        let idx = self.engine.mutate(|c, timers| {
            let idx = c.submit(job, now);
            let Some(j) = c.jobs[idx].job else {
                return idx;
            };
            c.snap.set_phase(j, PodGroupPhase::Running);
            c.fire(Timer::CreatePods(idx), now, timers);
            let end = started_ms.saturating_add(job.duration_ms).max(now);
            let tasks = c.snap.job(j).tasks.clone();
            for (t, node) in tasks.iter().zip(nodes) {
                if let Some(n) = c.snap.find_node(node) {
                    c.snap.set_status(*t, TaskStatus::Running, Some(n));
                    timers.push((end, Timer::TaskDone(*t)));
                }
            }
            c.jobs[idx].mark_running_since(started_ms);
            idx
        });
        let k = self.subs.len();
        self.by_name.insert(job.id.clone(), k);
        self.subs.push((job.id.clone(), now, false));
        self.inbox.delivered.push(Some(idx));
        true
    }

    /// Deletes a job: its pods leave their nodes at once (a job not yet delivered never
    /// arrives). Returns false for an unknown name.
    pub fn delete(&mut self, name: &str) -> bool {
        let Some(&k) = self.by_name.get(name) else {
            return false;
        };
        if self.subs[k].2 {
            return true;
        }
        self.subs[k].2 = true;
        match self.inbox.delivered[k] {
            None => self.inbox.queue.retain(|q| q.1 != k),
            Some(idx) => self.engine.mutate(|c, _| {
                // A finished job's slots may be released already: nothing to take down.
                if let Some(j) = c.jobs[idx].job.filter(|&j| c.snap.has_job(j)) {
                    for t in c.snap.job(j).tasks.clone() {
                        delete_task(&mut c.snap, t);
                    }
                    // The PodGroup is gone: out of the scheduler's view, index included.
                    c.snap.suspend_job(j);
                }
                c.active.remove(&idx);
            }),
        }
        true
    }

    /// The job's lifecycle as the model saw it.
    pub fn view(&self, name: &str) -> Option<JobView> {
        let &k = self.by_name.get(name)?;
        let (_, submit_ms, deleted) = &self.subs[k];
        let st = self.inbox.delivered[k].map(|i| &self.engine.cluster.jobs[i]);
        let phase = match st {
            _ if *deleted => "Deleted",
            None => "Pending",
            Some(st) if st.job.is_none() => "Rejected",
            Some(st) if st.finish_ms().is_some() => "Completed",
            Some(st) if st.gang_ready_ms().is_some() => "Running",
            Some(st) if st.inqueue_ms().is_some() => "Inqueue",
            Some(_) => "Pending",
        };
        Some(JobView {
            name: name.to_string(),
            phase,
            submit_ms: st.map_or(*submit_ms, |s| s.submit_ms),
            inqueue_ms: st.and_then(|s| s.inqueue_ms()),
            gang_ready_ms: st.and_then(|s| s.gang_ready_ms()),
            finish_ms: st.and_then(|s| s.finish_ms()),
            evictions: st.map_or(0, |s| s.evictions),
        })
    }

    /// Every job name in submission order.
    pub fn names(&self) -> Vec<String> {
        self.subs.iter().map(|s| s.0.clone()).collect()
    }

    /// Evictions seen so far (scheduler evictions and `RestartJob` kills).
    pub fn evictions(&self) -> &[EvictionSeen] {
        &self.rec.evictions
    }

    /// Advances the model to `t` (ms): processes everything strictly before `t`, so a
    /// submission made afterwards at `t` is ordered exactly as in a simulation.
    pub fn advance_to(&mut self, t: u64) {
        if t <= self.clock {
            return;
        }
        self.engine
            .advance(t, &mut self.inbox, &mut self.rec, &mut |_| false);
        self.clock = t;
    }

    /// Forecast: on a clone, submits `job` now and runs forward until its gang is ready.
    /// Returns the predicted wait (gang ready − submit), or `None` when it is not admitted
    /// within `FORECAST_HORIZON_MS` or can never be (nothing left that could change).
    pub fn forecast(&self, job: &TraceJob) -> Option<u64> {
        self.snapshot().into_forecast(job)
    }

    /// A copy to forecast on: the cluster, the scheduler, the queued submissions and the names,
    /// without the decision log and evictions seen so far (a forecast records nothing).
    pub fn snapshot(&self) -> Model {
        Model {
            engine: self.engine.clone(),
            inbox: self.inbox.clone(),
            rec: LiveRecorder {
                log: Vec::new(),
                hash: Fnv::new(),
                evictions: Vec::new(),
            },
            clock: self.clock,
            by_name: self.by_name.clone(),
            subs: self.subs.clone(),
            max_lag_ms: self.max_lag_ms,
        }
    }

    /// `forecast` on this model itself, which it uses up (no copy: for a snapshot taken to
    /// forecast on).
    pub fn into_forecast(mut self, job: &TraceJob) -> Option<u64> {
        if self.by_name.contains_key(&job.id) {
            return None;
        }
        // Every queued submission is delivered before this one, in order.
        let idx = self.engine.cluster.jobs.len() + self.inbox.queue.len();
        let start = self.clock;
        self.inbox.delivered.push(None);
        let k = self.inbox.delivered.len() - 1;
        self.inbox.queue.push_back((start, k, job.clone()));
        let until = start.saturating_add(FORECAST_HORIZON_MS);
        self.engine
            .advance(until, &mut self.inbox, &mut NoRecorder, &mut |c| {
                c.jobs
                    .get(idx)
                    .is_some_and(|s| s.job.is_none() || s.gang_ready_ms().is_some())
            });
        let st = self.engine.cluster.jobs.get(idx)?;
        st.job?;
        st.gang_ready_ms().map(|g| g - start)
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
