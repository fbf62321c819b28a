//! The modelled cluster around one persistent `policy::Snapshot`: PodGroup creation at job
//! arrival, pod creation (immediately, or after the PodGroup leaves Pending plus a controller
//! delay in vcjob mode), applying a cycle's `Decision`s, the timed pod lifecycle
//! (Binding → Running → Succeeded; Releasing → deleted → recreated Pending), and the job
//! controller's per-job eviction policy (`OnEvict`: recreate the pod, or restart the whole job
//! — see `restart.rs`). Each job's lifecycle facts are a `JobState` (`job_state.rs`).
//!
//! May depend on `model`, `policy` (snapshot and decision types) and `workload` (`TraceJob`).
//! Invariant: every task-state change goes through `Snapshot::set_status`/`update_status`, so
//! node accounting and job counters stay consistent; a timer is valid only while its task is
//! still in the status that armed it (task ids are never reused), or its job still in the
//! restart state that armed it, which is how timers are cancelled lazily. The cluster never
//! reads a clock: every method takes `now` (ms) and pushes the timers it arms into a
//! caller-owned `Vec`.

mod job_state;
mod restart;

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::model::Stamp;
use crate::model::{EngineParams, NodeSpec, OnEvict, PodGroupSpec, PodSpec};
use crate::policy::{Decision, JobId, PodGroupPhase, Snapshot, TaskId, TaskStatus};
use crate::workload::TraceJob;
pub use job_state::JobState;
pub use restart::{Ctl, Kill};

/// Namespace every modelled object lives in.
pub const NAMESPACE: &str = "default";
/// Role (`volcano.sh/task-spec`) of every pod; pods are named `<job>-main-<index>`.
pub const ROLE: &str = "main";

/// A timed cluster event. Ordered so it can sit in the simulator's heap (ties are broken by
/// sequence number before this order is ever consulted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Timer {
    /// The job controller creates the pods of cluster job `usize`.
    CreatePods(usize),
    /// The bind of a task completed: Binding → Running.
    BindDone(TaskId),
    /// A Running task finished its work: Running → Succeeded.
    TaskDone(TaskId),
    /// An evicted task's grace period ended: deleted, then recreated Pending (or, for a job
    /// restarted by `RestartJob`, left to the restart).
    EvictDone(TaskId),
    /// The job controller syncs a restarting or failed job (cluster job `usize`).
    JobSync(usize),
}

/// The cluster model.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub snap: Snapshot,
    /// Timing and controller behaviour outside the scheduler (`volcano/notes.md` §4); the
    /// eviction policy by workload class (`params.on_evict`) is read at job arrival.
    pub params: EngineParams,
    /// Indexed by cluster job index (the caller's job order).
    pub jobs: Vec<JobState>,
    /// Snapshot job id → cluster job index.
    by_snap: Vec<u32>,
    /// Arrived, in the snapshot, not yet finished (cluster indices).
    pub active: BTreeSet<usize>,
    /// When each task last became Running (by task id; 0 when it never ran).
    pub running_since: Vec<u64>,
    /// Pods killed by `RestartJob` since the caller last drained this, in kill order.
    pub kills: Vec<Kill>,
}

/// The tier of the lowest HyperNode holding every node `j`'s placed pods are on (None without
/// HyperNodes or placed pods).
fn domain_tier(snap: &Snapshot, j: JobId) -> Option<u32> {
    let placed = snap.job(j).tasks.iter().filter_map(|&t| {
        let task = snap.task(t);
        task.node.filter(|_| task.status.is_allocated())
    });
    let h = snap.topology.lowest_holding(placed)?;
    Some(snap.topology.tier(h))
}

impl Cluster {
    /// A cluster over `snap` (nodes, queues and priority classes already added). The
    /// HyperNodes of `params.topology` are resolved over the snapshot's nodes once here.
    ///
    /// Panics if they do not resolve; the scenario loader resolves the same specs over the
    /// same nodes first and refuses a topology that does not.
    pub fn new(mut snap: Snapshot, params: EngineParams) -> Cluster {
        if !params.topology.hypernodes.is_empty() {
            let nodes: Vec<NodeSpec> = snap
                .nodes
                .iter()
                .map(|n| NodeSpec {
                    name: n.name.clone(),
                    allocatable: n.allocatable,
                    labels: n.labels.clone(),
                    taints: Vec::new(),
                    unschedulable: n.unschedulable,
                })
                .collect();
            let topo = crate::policy::topology::build(&params.topology.hypernodes, &nodes)
                .unwrap_or_else(|e| panic!("a topology the scenario loader accepted: {e}"));
            snap.topology = std::sync::Arc::new(topo);
        }
        Cluster {
            snap,
            params,
            jobs: Vec::new(),
            by_snap: Vec::new(),
            running_since: Vec::new(),
            active: BTreeSet::new(),
            kills: Vec::new(),
        }
    }

    /// Reserves room for `jobs` arriving jobs (a hint: the vectors indexed by cluster job then
    /// never double past what the workload needs, which halves their peak over a long trace).
    /// The snapshot's job and task slots are not reserved: they follow the live jobs (a
    /// finished job's are released).
    pub fn reserve(&mut self, jobs: usize) {
        self.jobs.reserve_exact(jobs);
        self.by_snap.reserve_exact(jobs);
    }

    /// Cluster job index of a snapshot job.
    pub fn index_of(&self, j: JobId) -> usize {
        self.by_snap[j.ix()] as usize
    }

    /// A job arrives: creates its PodGroup (phase Pending, minResources = per-pod requests ×
    /// minMember) and, in plain mode, its pods. Returns the cluster job index (jobs must be
    /// submitted in the order their indices are wanted; the index is `jobs.len()` before).
    pub fn submit(&mut self, tj: &TraceJob, now: u64) -> usize {
        let idx = self.jobs.len();
        // The snapshot takes the namespace and name by value (`add_job_named`).
        let pg = PodGroupSpec {
            namespace: String::new(),
            name: String::new(),
            queue: tj.queue.clone(),
            min_member: tj.min_member,
            min_task_member: Default::default(),
            priority_class: tj.priority_class.clone(),
            min_resources: Some(tj.requests.times(tj.min_member as i64)),
            sla_waiting_ms: None,
            preemptable: None,
            network_topology: self.params.topology.of_class(&tj.class).cloned(),
        };
        let names = (NAMESPACE.to_string(), tj.id.clone());
        let job = self
            .snap
            .add_job_named(&pg, names, PodGroupPhase::Pending, now);
        if let Some(j) = job {
            if tj.priority_class.is_none() {
                self.snap.jobs[j.ix()].priority = tj.priority;
            }
            debug_assert_eq!(j.ix(), self.by_snap.len());
            // Cluster indices fit in 32 bits: a job costs far more than 4 bytes, so no trace
            // that fits in memory has 2^32 of them.
            self.by_snap.push(idx as u32);
            self.active.insert(idx);
        }
        // Namespace, name and role are given per pod (`pod_names`): the template holds no
        // string every job would allocate and free alike.
        let template = PodSpec {
            namespace: String::new(),
            name: String::new(),
            role: String::new(),
            requests: tj.requests,
            priority: match (&tj.priority_class, tj.priority) {
                (None, p) if p != 0 => Some(p),
                _ => None,
            },
            priority_class_name: tj.priority_class.clone(),
            ..Default::default()
        };
        self.jobs.push(JobState {
            job,
            submit_ms: now,
            duration_ms: tj.duration_ms,
            replicas: tj.replicas,
            min_member: tj.min_member,
            pods_created: false,
            inqueue: Stamp::NOT_YET,
            first_bind: Stamp::NOT_YET,
            gang_ready: Stamp::NOT_YET,
            finish: Stamp::NOT_YET,
            evictions: 0,
            binds: 0,
            on_evict: self.params.on_evict.of_class(&tj.class),
            restarts: 0,
            ctl: Ctl::Normal,
            failed: Stamp::NOT_YET,
            restart_kills: 0,
            domain_tier: None,
            template: Some(Box::new(template)),
        });
        if job.is_some() && !self.params.vcjob_mode {
            self.create_pods(idx, now);
        }
        idx
    }

    /// The controller creates the job's missing pods (every index not held by a pod that is
    /// still terminating after a restart).
    fn create_pods(&mut self, idx: usize, now: u64) {
        let st = &mut self.jobs[idx];
        let Some(j) = st.job else { return };
        if st.pods_created {
            return;
        }
        st.pods_created = true;
        let held: BTreeSet<i64> = self.snap.jobs[j.ix()]
            .tasks
            .iter()
            .filter_map(|&t| self.snap.task(t).name_index)
            .collect();
        let Some(tpl) = st.template.as_deref() else {
            return;
        };
        let job_name = &self.snap.jobs[j.ix()].name;
        let base = job_name.len() + ROLE.len() + 2;
        let mut name = String::with_capacity(base + 4);
        name.push_str(job_name);
        name.push('-');
        name.push_str(ROLE);
        name.push('-');
        for i in 0..st.replicas {
            if held.contains(&i64::from(i)) {
                continue;
            }
            name.truncate(base);
            let _ = write!(name, "{i}");
            let names = pod_names(name.clone());
            self.snap
                .add_task_named(j, tpl, names, TaskStatus::Pending, None, now);
        }
    }

    fn left_pending(&mut self, idx: usize, now: u64, timers: &mut Vec<(u64, Timer)>) {
        let st = &mut self.jobs[idx];
        st.inqueue.set_once(now);
        if self.params.vcjob_mode && !st.pods_created {
            timers.push((
                now + self.params.controller_delay_ms,
                Timer::CreatePods(idx),
            ));
        }
    }

    /// Applies one cycle's decisions at `now`. The session already moved the snapshot
    /// (Binding, Releasing, phases); this records facts and arms the follow-up timers.
    pub fn apply(&mut self, decisions: &[Decision], now: u64, timers: &mut Vec<(u64, Timer)>) {
        // The session that decided these has caught the index up: finished jobs' slots can go.
        self.snap.release_finished();
        for d in decisions {
            match *d {
                Decision::Enqueue { job } => {
                    let idx = self.index_of(job);
                    self.left_pending(idx, now, timers);
                }
                Decision::Phase { job, phase } => {
                    if phase != PodGroupPhase::Pending {
                        let idx = self.index_of(job);
                        self.left_pending(idx, now, timers);
                    }
                }
                Decision::Bind { task, .. } => {
                    let idx = self.index_of(self.snap.task(task).job);
                    let st = &mut self.jobs[idx];
                    st.binds += 1;
                    st.first_bind.set_once(now);
                    let latency = self.params.bind_latency_of(task.0 as u64, st.binds);
                    timers.push((now + latency, Timer::BindDone(task)));
                }
                Decision::Evict {
                    task,
                    action,
                    preemptor,
                } => {
                    let idx = self.index_of(self.snap.task(task).job);
                    self.jobs[idx].evictions += 1;
                    timers.push((now + self.params.eviction_grace_ms, Timer::EvictDone(task)));
                    if let OnEvict::RestartJob { max_retry } = self.jobs[idx].on_evict {
                        let cause = restart::Cause {
                            evicted: task,
                            action,
                            preemptor,
                        };
                        self.restart_job(idx, max_retry, cause, now, timers);
                    }
                }
            }
        }
    }

    /// Fires a timer at `now`. Returns false when it was stale (lazily cancelled) and changed
    /// nothing — also when its task's slot was released with its finished job.
    pub fn fire(&mut self, timer: Timer, now: u64, timers: &mut Vec<(u64, Timer)>) -> bool {
        if let Timer::BindDone(t) | Timer::TaskDone(t) | Timer::EvictDone(t) = timer {
            if !self.snap.has_task(t) {
                return false;
            }
        }
        match timer {
            Timer::CreatePods(idx) => {
                if self.jobs[idx].pods_created {
                    return false;
                }
                self.create_pods(idx, now);
                true
            }
            Timer::BindDone(t) => {
                if self.snap.task(t).status != TaskStatus::Binding {
                    return false;
                }
                self.snap.update_status(t, TaskStatus::Running);
                if self.running_since.len() <= t.ix() {
                    self.running_since.resize(t.ix() + 1, 0);
                }
                self.running_since[t.ix()] = now;
                let j = self.snap.task(t).job;
                let idx = self.index_of(j);
                let job = self.snap.job(j);
                let up = job.count(TaskStatus::Running) + job.count(TaskStatus::Succeeded);
                let st = &mut self.jobs[idx];
                if st.gang_ready.get().is_none() && up >= st.min_member {
                    st.gang_ready = Stamp::at(now);
                    st.domain_tier = domain_tier(&self.snap, j);
                }
                timers.push((now + st.duration_ms, Timer::TaskDone(t)));
                true
            }
            Timer::TaskDone(t) => {
                if self.snap.task(t).status != TaskStatus::Running {
                    return false;
                }
                self.snap.set_status(t, TaskStatus::Succeeded, None);
                let j = self.snap.task(t).job;
                let idx = self.index_of(j);
                if self.snap.job(j).count(TaskStatus::Succeeded) >= self.jobs[idx].replicas {
                    self.snap.retire_job(j);
                    self.jobs[idx].finish = Stamp::at(now);
                    self.jobs[idx].template = None;
                    self.active.remove(&idx);
                }
                true
            }
            Timer::EvictDone(t) => {
                if self.snap.task(t).status != TaskStatus::Releasing {
                    return false;
                }
                let j = self.snap.task(t).job;
                let idx = self.index_of(j);
                let st = &self.jobs[idx];
                // Under RestartJob the controller recreates a pod only while the job is
                // neither restarting nor failed and its pods exist (PodGroup past Pending).
                let restart = st.on_evict != OnEvict::RecreatePod;
                let recreate = !restart || (st.ctl == Ctl::Normal && st.pods_created);
                let name = self.snap.task(t).name.clone();
                delete_task(&mut self.snap, t);
                let st = &self.jobs[idx];
                if let Some(tpl) = st.template.as_deref().filter(|_| recreate) {
                    self.snap.add_task_named(
                        j,
                        tpl,
                        pod_names(name),
                        TaskStatus::Pending,
                        None,
                        now,
                    );
                }
                if restart {
                    self.restart_progress(idx, now);
                }
                true
            }
            Timer::JobSync(idx) => self.restart_progress(idx, now),
        }
    }

    /// All arrived jobs finished (jobs whose queue is missing never finish and are not active).
    pub fn all_done(&self) -> bool {
        self.active.is_empty()
    }
}

/// Namespace, name and role of pod `name` (the rest of the pod is its job's template).
fn pod_names(name: String) -> (String, String, String) {
    (NAMESPACE.to_string(), name, ROLE.to_string())
}

/// Removes a pod from the snapshot: frees its node share, drops it from its job's task list
/// and from the job's counters. The `TaskInfo` stays in `snap.tasks` (ids are dense) with
/// status Unknown and no job membership.
pub fn delete_task(snap: &mut Snapshot, t: TaskId) {
    snap.remove_task(t);
}

#[cfg(test)]
mod release_tests;
#[cfg(test)]
mod restart_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{NodeSpec, QueueSpec, Resources};
    use crate::policy::NodeId;

    pub(super) fn tj(id: &str, replicas: u32, min: u32) -> TraceJob {
        TraceJob {
            id: id.into(),
            submit_ms: 0,
            duration_ms: 1000,
            replicas,
            min_member: min,
            requests: Resources::cpu_mem(1000, 1 << 30),
            queue: "q".into(),
            priority_class: None,
            priority: 0,
            class: String::new(),
        }
    }

    pub(super) fn cluster(vcjob: bool) -> Cluster {
        let mut snap = Snapshot::new();
        let mut alloc = Resources::cpu_mem(4000, 8 << 30);
        alloc.set(crate::model::ResourceName::PODS, 110);
        snap.add_node(&NodeSpec {
            name: "n0".into(),
            allocatable: alloc,
            labels: Default::default(),
            taints: vec![],
            unschedulable: false,
        });
        snap.add_queue(&QueueSpec::new("q", 1));
        Cluster::new(
            snap,
            EngineParams {
                vcjob_mode: vcjob,
                controller_delay_ms: 100,
                ..Default::default()
            },
        )
    }

    #[test]
    fn plain_mode_creates_pods_named_by_index() {
        let mut c = cluster(false);
        let i = c.submit(&tj("job", 3, 2), 0);
        let j = c.jobs[i].job.unwrap();
        let names: Vec<_> = c
            .snap
            .job(j)
            .tasks
            .iter()
            .map(|&t| c.snap.task(t).name.clone())
            .collect();
        assert_eq!(names, ["job-main-0", "job-main-1", "job-main-2"]);
        assert_eq!(c.snap.task(TaskId(2)).name_index, Some(2));
        assert_eq!(c.snap.job(j).min_resources.unwrap().cpu(), 2000);
    }

    #[test]
    fn vcjob_mode_waits_for_enqueue_and_lifecycle_completes() {
        let mut c = cluster(true);
        let i = c.submit(&tj("a", 1, 1), 0);
        let j = c.jobs[i].job.unwrap();
        assert!(c.snap.job(j).tasks.is_empty());
        let mut timers = Vec::new();
        c.snap.set_phase(j, PodGroupPhase::Inqueue);
        c.apply(&[Decision::Enqueue { job: j }], 1000, &mut timers);
        assert_eq!(timers, vec![(1100, Timer::CreatePods(i))]);
        timers.clear();
        assert!(c.fire(Timer::CreatePods(i), 1100, &mut timers));
        let t = c.snap.job(j).tasks[0];
        c.snap.set_status(t, TaskStatus::Binding, Some(NodeId(0)));
        c.apply(
            &[Decision::Bind {
                task: t,
                node: NodeId(0),
            }],
            2000,
            &mut timers,
        );
        assert!(c.fire(Timer::BindDone(t), 2100, &mut timers));
        assert_eq!(c.jobs[i].gang_ready_ms(), Some(2100));
        assert!(c.fire(Timer::TaskDone(t), 3100, &mut timers));
        assert_eq!(c.jobs[i].finish_ms(), Some(3100));
        assert!(!c.snap.job(j).live);
        assert!(c.all_done());
        assert_eq!(c.snap.nodes[0].used.cpu(), 0);
        // stale timer is ignored
        assert!(!c.fire(Timer::TaskDone(t), 3200, &mut timers));
    }

    #[test]
    fn eviction_releases_then_recreates() {
        let mut c = cluster(false);
        let i = c.submit(&tj("a", 1, 1), 0);
        let j = c.jobs[i].job.unwrap();
        let t = c.snap.job(j).tasks[0];
        c.snap.set_status(t, TaskStatus::Running, Some(NodeId(0)));
        c.snap.update_status(t, TaskStatus::Releasing);
        let mut timers = Vec::new();
        let d = Decision::Evict {
            task: t,
            action: crate::policy::Action::Preempt,
            preemptor: t,
        };
        c.apply(&[d], 10, &mut timers);
        assert_eq!(timers, vec![(30_010, Timer::EvictDone(t))]);
        assert!(!c.fire(Timer::TaskDone(t), 20, &mut timers));
        assert!(c.fire(Timer::EvictDone(t), 30_010, &mut timers));
        let job = c.snap.job(j);
        assert_eq!(job.tasks.len(), 1);
        assert_ne!(job.tasks[0], t);
        assert_eq!(job.count(TaskStatus::Pending), 1);
        assert_eq!(job.count(TaskStatus::Unknown), 0);
        assert_eq!(c.snap.nodes[0].used.cpu(), 0);
        assert_eq!(c.jobs[i].evictions, 1);
    }
}
