//! The scheduler's view of the cluster for one or more cycles: nodes, queues, jobs (PodGroups)
//! and tasks (pods) in dense `Vec`s indexed by `u32` ids, with Volcano's node accounting
//! (`api/node_info.go`) and job counters (`api/job_info.go`).
//!
//! Depends only on `model`. The simulator keeps one `Snapshot` alive across cycles and mutates
//! it through the methods here, so every invariant (node Idle/Used/Releasing/Pipelined, job
//! allocated vectors, per-status counts) is maintained in one place. A snapshot is data plus
//! its index; the scheduler's speed caches live in `policy::accel`.

use std::collections::BTreeMap;
use std::sync::Arc;

pub use super::status::{
    phase_rule, podgroup_phase, podgroup_phase_with, PodGroupPhase, TaskStatus, N_STATUS,
};

use super::index::{Index, NodeChanges};
use super::slots::Slots;
use super::topology::HyperNodes;
use crate::model::{
    NodeSpec, PodGroupSpec, PodSpec, PriorityClassSpec, QueueSpec, ResourceName, Resources,
};

pub use crate::model::{JobId, NodeId, QueueId, TaskId};

pub use super::records::{JobInfo, NodeInfo, QueueInfo, TaskInfo};

/// Everything one scheduling cycle reads and mutates.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub nodes: Vec<NodeInfo>,
    pub queues: Vec<QueueInfo>,
    /// By `JobId`; a finished PodGroup's slot (and its pods') is released once nothing reads
    /// it any more (`release_finished`).
    pub jobs: Slots<JobInfo>,
    /// By `TaskId`.
    pub tasks: Slots<TaskInfo>,
    /// Priority classes by name (value, preemption Never).
    pub priority_classes: BTreeMap<String, PriorityClassSpec>,
    /// Σ node allocatable.
    pub total: Resources,
    /// Incrementally maintained indexes and sums (see `policy::index`).
    pub idx: Index,
    /// The cluster's HyperNodes (empty: none), shared by clones.
    pub topology: Arc<HyperNodes>,
    /// Bumped on every change of any node's accounting.
    pub node_epoch: u64,
    /// Written by the `Scheduler` that last opened a session on this snapshot, so it can tell
    /// whether its cross-cycle caches describe it (`policy::accel`). Not data: no decision
    /// reads it.
    pub accel_stamp: u64,
    /// Nodes added or re-accounted since the scheduler's node classes last caught up
    /// (`policy::accel::classes`). Not data: no decision reads it.
    pub node_changes: NodeChanges,
    /// Jobs retired (finished) whose slots are not released yet (`release_finished`). Not
    /// data: no decision reads it.
    pub retired: Vec<JobId>,
}

/// The index after the last `-` of a pod name of at least three `-`-separated parts.
fn name_index(name: &str) -> Option<i64> {
    if name.bytes().filter(|&b| b == b'-').count() < 2 {
        return None;
    }
    name.rsplit('-').next()?.parse().ok()
}

impl Snapshot {
    pub fn new() -> Snapshot {
        Snapshot {
            total: Resources::empty(),
            ..Default::default()
        }
    }

    pub fn add_priority_class(&mut self, pc: PriorityClassSpec) {
        self.priority_classes.insert(pc.name.clone(), pc);
    }

    /// Job priority for a PodGroup's class: the class value, else the global default, else 0.
    pub fn class_priority(&self, class: Option<&str>) -> i32 {
        if let Some(pc) = class.and_then(|c| self.priority_classes.get(c)) {
            return pc.value;
        }
        self.priority_classes
            .values()
            .find(|p| p.global_default)
            .map(|p| p.value)
            .unwrap_or(0)
    }

    pub fn add_node(&mut self, spec: &NodeSpec) -> NodeId {
        let id = NodeId(self.nodes.len() as u32);
        self.total.add(&spec.allocatable);
        self.nodes.push(NodeInfo {
            name: spec.name.clone(),
            allocatable: spec.allocatable,
            idle: spec.allocatable,
            used: Resources::empty(),
            releasing: Resources::empty(),
            pipelined: Resources::empty(),
            labels: spec.labels.clone(),
            taints: spec.taints.clone(),
            unschedulable: spec.unschedulable,
            tasks: Vec::new(),
            version: 0,
            future: spec.allocatable,
        });
        self.node_changes.note(id);
        id
    }

    pub fn add_queue(&mut self, spec: &QueueSpec) -> QueueId {
        let id = QueueId(self.queues.len() as u32);
        self.queues.push(QueueInfo {
            name: spec.name.clone(),
            weight: spec.weight.max(1),
            capability: spec.capability,
            deserved: spec.deserved,
            guarantee: spec.guarantee,
            reclaimable: spec.reclaimable,
            priority: spec.priority,
            parent: spec.parent.clone(),
            state: spec.state,
            creation: 0,
            hierarchy: spec.hierarchy.clone(),
            hierarchy_weights: spec.hierarchy_weights.clone(),
        });
        self.idx.queues.push(Default::default());
        id
    }

    /// Sets the queue's hierarchical-drf path and weights (the `volcano.sh/hierarchy` and
    /// `volcano.sh/hierarchy-weights` annotations, as the webhook normalised them).
    pub fn set_queue_hierarchy(&mut self, q: QueueId, path: &str, weights: &str) {
        let qi = &mut self.queues[q.ix()];
        qi.hierarchy = path.to_string();
        qi.hierarchy_weights = weights.to_string();
    }

    pub fn queue_by_name(&self, name: &str) -> Option<QueueId> {
        self.queues
            .iter()
            .position(|q| q.name == name)
            .map(|i| QueueId(i as u32))
    }

    /// Adds a PodGroup in `phase`. Returns `None` if its queue does not exist (Volcano drops
    /// such jobs from the snapshot).
    pub fn add_job(
        &mut self,
        pg: &PodGroupSpec,
        phase: PodGroupPhase,
        creation: u64,
    ) -> Option<JobId> {
        let names = (pg.namespace.clone(), pg.name.clone());
        self.add_job_named(pg, names, phase, creation)
    }

    /// `add_job` with the PodGroup's namespace and name given by value (a caller that built
    /// them for this PodGroup hands them over instead of having them copied); `pg`'s own
    /// namespace and name are not read.
    pub fn add_job_named(
        &mut self,
        pg: &PodGroupSpec,
        (namespace, name): (String, String),
        phase: PodGroupPhase,
        creation: u64,
    ) -> Option<JobId> {
        let queue = self.queue_by_name(&pg.queue)?;
        let task_min_total = pg.min_task_member.values().sum();
        let uid = format!("{namespace}/{name}");
        let id = JobId(self.jobs.push(JobInfo {
            namespace,
            name,
            uid,
            queue,
            min_available: pg.min_member,
            task_min_available: pg.min_task_member.clone(),
            task_min_total,
            priority: self.class_priority(pg.priority_class.as_deref()),
            creation,
            waiting_time: pg.sla_waiting_ms,
            min_resources: pg.min_resources,
            phase,
            preemptable: pg.preemptable,
            tasks: Vec::new(),
            allocated: Resources::empty(),
            counts: [0; N_STATUS],
            pending_best_effort: 0,
            unschedulable: false,
            live: true,
            dirty: false,
            order_dirty: false,
            contrib: None,
            counted_phase: None,
            index_member: 0,
            network_topology: pg.network_topology.clone(),
            allocated_hypernode: None,
            subjob_hypernode: None,
        }) as u32);
        self.idx.live.insert(id);
        self.idx.queues[queue.ix()].jobs += 1;
        self.job_changed(id);
        Some(id)
    }

    /// Adds a pod of `job` with `status` (on `node` if given). Bound/Running/… tasks are placed
    /// on the node with Volcano's accounting.
    pub fn add_task(
        &mut self,
        job: JobId,
        pod: &PodSpec,
        status: TaskStatus,
        node: Option<NodeId>,
        creation: u64,
    ) -> TaskId {
        let names = (pod.namespace.clone(), pod.name.clone(), pod.role.clone());
        self.add_task_named(job, pod, names, status, node, creation)
    }

    /// `add_task` with the pod's namespace, name and role given by value (a caller that built
    /// them for this pod hands them over instead of having them copied); `pod`'s own
    /// namespace, name and role are not read.
    pub fn add_task_named(
        &mut self,
        job: JobId,
        pod: &PodSpec,
        (namespace, name, role): (String, String, String),
        status: TaskStatus,
        node: Option<NodeId>,
        creation: u64,
    ) -> TaskId {
        let mut resreq = pod.requests;
        let best_effort = resreq.is_empty();
        resreq.set(ResourceName::PODS, 1);
        let priority = match pod.priority {
            Some(p) => p,
            None => match pod
                .priority_class_name
                .as_deref()
                .and_then(|c| self.priority_classes.get(c))
            {
                Some(pc) => pc.value,
                None => 1,
            },
        };
        let critical = matches!(
            pod.priority_class_name.as_deref(),
            Some("system-cluster-critical") | Some("system-node-critical")
        ) || namespace == "kube-system";
        let class_never = pod
            .priority_class_name
            .as_deref()
            .and_then(|c| self.priority_classes.get(c))
            .map(|pc| pc.preemption_never)
            .unwrap_or(false);
        let name_index = name_index(&name);
        let id = TaskId(self.tasks.push(TaskInfo {
            namespace,
            name,
            job,
            role,
            resreq,
            best_effort,
            status: TaskStatus::Pending,
            node: None,
            priority,
            preemptable: pod.preemptable.unwrap_or(true),
            critical,
            preemption_never: pod.preemption_never || class_never,
            nominated_node: None,
            node_selector: pod.node_selector.clone(),
            tolerations: pod.tolerations.clone(),
            creation,
            name_index,
        }) as u32);
        self.jobs[job.ix()].tasks.push(id);
        self.count_in(id);
        self.job_changed(job);
        if status != TaskStatus::Pending || node.is_some() {
            self.set_status(id, status, node);
        }
        id
    }

    fn count_in(&mut self, t: TaskId) {
        let task = &self.tasks[t.ix()];
        let job = &mut self.jobs[task.job.ix()];
        job.counts[task.status as usize] += 1;
        let q = &mut self.idx.queues[job.queue.ix()];
        if task.status == TaskStatus::Pending {
            q.pending.add(&task.resreq);
            if task.best_effort {
                job.pending_best_effort += 1;
            }
        }
        if task.status.is_allocated() {
            job.allocated.add(&task.resreq);
            q.allocated.add(&task.resreq);
        }
    }

    fn count_out(&mut self, t: TaskId) {
        let task = &self.tasks[t.ix()];
        let job = &mut self.jobs[task.job.ix()];
        job.counts[task.status as usize] -= 1;
        let q = &mut self.idx.queues[job.queue.ix()];
        if task.status == TaskStatus::Pending {
            q.pending.sub(&task.resreq);
            if task.best_effort {
                job.pending_best_effort -= 1;
            }
        }
        if task.status.is_allocated() {
            job.allocated.sub(&task.resreq);
            q.allocated.sub(&task.resreq);
        }
    }

    fn node_remove(&mut self, t: TaskId) {
        let task = &self.tasks[t.ix()];
        let Some(n) = task.node else { return };
        let (status, req) = (task.status, task.resreq);
        let node = &mut self.nodes[n.ix()];
        match status {
            TaskStatus::Pipelined => node.pipelined.sub(&req),
            TaskStatus::Releasing => {
                node.idle.add(&req);
                node.used.sub(&req);
                node.releasing.sub(&req);
                self.idx.used.sub(&req);
            }
            s if s.occupies_node() => {
                node.idle.add(&req);
                node.used.sub(&req);
                self.idx.used.sub(&req);
            }
            _ => return,
        }
        if let Some(pos) = node.tasks.iter().rposition(|&x| x == t) {
            node.tasks.remove(pos);
        }
        node.touch();
        self.node_epoch += 1;
        self.node_changes.note(n);
    }

    fn node_add(&mut self, t: TaskId) {
        let task = &self.tasks[t.ix()];
        let Some(n) = task.node else { return };
        let (status, req) = (task.status, task.resreq);
        let node = &mut self.nodes[n.ix()];
        match status {
            TaskStatus::Pipelined => node.pipelined.add(&req),
            TaskStatus::Releasing => {
                node.idle.sub(&req);
                node.used.add(&req);
                node.releasing.add(&req);
                self.idx.used.add(&req);
            }
            s if s.occupies_node() => {
                node.idle.sub(&req);
                node.used.add(&req);
                self.idx.used.add(&req);
            }
            _ => return,
        }
        node.tasks.push(t);
        node.touch();
        self.node_epoch += 1;
        self.node_changes.note(n);
    }

    /// Moves a task to `status` on `node` (None = no node), keeping node accounting and job
    /// counters consistent. The single mutation point for task state.
    pub fn set_status(&mut self, t: TaskId, status: TaskStatus, node: Option<NodeId>) {
        self.node_remove(t);
        self.count_out(t);
        let task = &mut self.tasks[t.ix()];
        task.status = status;
        task.node = node;
        self.count_in(t);
        self.node_add(t);
        self.job_changed(self.tasks[t.ix()].job);
    }

    /// The lasting effects of failed dry runs, the k-th evicting `victims[..lens[k]]` in
    /// order (each Bound or Running task → Releasing) and undoing those evictions in reverse
    /// order (`lens` ascending), without the statuses in between. Each eviction and each undo
    /// re-files the task last on its node, moving the node's version and `node_epoch` twice
    /// as `set_status` does, and re-files the task's job in the index; every sum returns to
    /// where it was (exact unless one saturates at the `i64` range). Since every run's victims
    /// extend the one before, the last run alone decides the nodes' task order: the others'
    /// victims are among its own, re-filed again after them.
    pub fn refile_evicted(&mut self, victims: &[TaskId], lens: &[usize]) {
        let Some(&last) = lens.last() else {
            return;
        };
        // Victim `i` is in every run longer than `i`: 4 moves per run (two re-files).
        let mut shorter = 0;
        for (i, &t) in victims[..last].iter().enumerate() {
            while lens[shorter] <= i {
                shorter += 1;
            }
            let runs = (lens.len() - shorter) as u64;
            if let Some(n) = self.tasks[t.ix()].node {
                self.nodes[n.ix()].version += 4 * runs;
                self.node_epoch += 4 * runs;
            }
        }
        let all = &victims[..last];
        for &t in all.iter().chain(all.iter().rev()) {
            let Some(n) = self.tasks[t.ix()].node else {
                continue;
            };
            let node = &mut self.nodes[n.ix()];
            if let Some(pos) = node.tasks.iter().rposition(|&x| x == t) {
                node.tasks.remove(pos);
            }
            node.tasks.push(t);
            self.node_changes.note(n);
        }
        for &t in all {
            let j = self.tasks[t.ix()].job;
            // With the job as the index last filed it, a re-file only sets these flags.
            let job = &self.jobs[j.ix()];
            if !(job.dirty && job.order_dirty) {
                self.job_changed(j);
            }
        }
    }

    /// Re-files a job in the index after any change of its tasks or phase.
    pub fn job_changed(&mut self, j: JobId) {
        let (idx, jobs) = (&mut self.idx, &mut self.jobs);
        idx.job_changed(j, &mut jobs[j.ix()]);
    }

    /// Sets a PodGroup's phase.
    pub fn set_phase(&mut self, j: JobId, phase: PodGroupPhase) {
        self.jobs[j.ix()].phase = phase;
        self.job_changed(j);
    }

    /// Deletes a pod: it leaves its node and its job (the task slot stays, detached).
    pub fn remove_task(&mut self, t: TaskId) {
        self.node_remove(t);
        self.count_out(t);
        let task = &mut self.tasks[t.ix()];
        task.status = TaskStatus::Unknown;
        task.node = None;
        let j = task.job;
        self.jobs[j.ix()].tasks.retain(|&x| x != t);
        self.job_changed(j);
    }

    /// Changes only the status, keeping the node (e.g. Binding → Running, Running → Releasing).
    pub fn update_status(&mut self, t: TaskId, status: TaskStatus) {
        let node = self.tasks[t.ix()].node;
        self.set_status(t, status, node);
    }

    pub fn task(&self, t: TaskId) -> &TaskInfo {
        &self.tasks[t.ix()]
    }
    pub fn job(&self, j: JobId) -> &JobInfo {
        &self.jobs[j.ix()]
    }
    pub fn job_of(&self, t: TaskId) -> &JobInfo {
        &self.jobs[self.tasks[t.ix()].job.ix()]
    }
    pub fn queue_of_task(&self, t: TaskId) -> QueueId {
        self.job_of(t).queue
    }

    /// The job's tasks in `status`, in the job's task order.
    pub fn tasks_in(&self, j: JobId, status: TaskStatus) -> impl Iterator<Item = TaskId> + '_ {
        self.jobs[j.ix()]
            .tasks
            .iter()
            .copied()
            .filter(move |&t| self.tasks[t.ix()].status == status)
    }

    /// Live job ids in id order.
    pub fn live_jobs(&self) -> impl Iterator<Item = JobId> + '_ {
        self.jobs
            .iter()
            .filter(|(_, j)| j.live)
            .map(|(i, _)| JobId(i as u32))
    }

    /// Is a live job of this queue present (proportion/capacity only consider such queues).
    pub fn find_task(&self, key: &str) -> Option<TaskId> {
        self.tasks
            .iter()
            .find(|(_, t)| t.key() == key)
            .map(|(i, _)| TaskId(i as u32))
    }
    pub fn find_job(&self, uid: &str) -> Option<JobId> {
        self.jobs
            .iter()
            .find(|(_, j)| j.uid == uid)
            .map(|(i, _)| JobId(i as u32))
    }
    pub fn find_node(&self, name: &str) -> Option<NodeId> {
        self.nodes
            .iter()
            .position(|n| n.name == name)
            .map(|i| NodeId(i as u32))
    }
}
