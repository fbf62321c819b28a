//! The records a `Snapshot` holds: `NodeInfo` (Volcano's node accounting, `api/node_info.go`),
//! `QueueInfo`, `JobInfo` (a PodGroup with its per-status counters, `api/job_info.go`) and
//! `TaskInfo` (a pod). Their invariants are kept by `Snapshot`'s methods, the only writers.
//!
//! Depends on `model`, `policy::status`, `policy::index` (a job's contribution) and
//! `policy::topology` (HyperNode ids).

use std::collections::BTreeMap;

use super::index::Contribution;
use super::status::{PodGroupPhase, TaskStatus, N_STATUS};
use super::topology::HnId;
use crate::model::{
    JobId, NetworkTopologySpec, NodeId, QueueId, QueueState, Resources, Taint, TaskId, Toleration,
};

/// Per-node accounting (`api/node_info.go`). `FutureIdle = Idle + Releasing − Pipelined`.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub name: String,
    pub allocatable: Resources,
    pub idle: Resources,
    pub used: Resources,
    pub releasing: Resources,
    pub pipelined: Resources,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<Taint>,
    pub unschedulable: bool,
    /// Tasks placed on the node (any occupying status), in placement order.
    pub tasks: Vec<TaskId>,
    /// Bumped on every change of the node's accounting (keys the score cache).
    pub version: u64,
    /// `Idle + Releasing − Pipelined`, kept up to date.
    pub future: Resources,
}

impl NodeInfo {
    #[inline]
    pub fn future_idle(&self) -> Resources {
        self.future
    }
    pub(super) fn touch(&mut self) {
        self.version += 1;
        self.future = self.idle.plus(&self.releasing).minus(&self.pipelined);
    }
    /// Number of pods on the node (for the pods-count predicate).
    #[inline]
    pub fn pod_count(&self) -> usize {
        self.tasks.len()
    }
}

/// A queue as the session sees it.
#[derive(Debug, Clone)]
pub struct QueueInfo {
    pub name: String,
    pub weight: u32,
    pub capability: Option<Resources>,
    pub deserved: Option<Resources>,
    pub guarantee: Option<Resources>,
    pub reclaimable: bool,
    pub priority: i32,
    pub parent: Option<String>,
    pub state: QueueState,
    /// Creation order (stands for CreationTimestamp); ties fall back to the name.
    pub creation: u64,
    /// Annotation `volcano.sh/hierarchy` (`root/a/b`; empty = directly under root), read by
    /// hierarchical drf only. Set with [`Snapshot::set_queue_hierarchy`].
    pub hierarchy: String,
    /// Annotation `volcano.sh/hierarchy-weights` (`1/w_a/w_b`).
    pub hierarchy_weights: String,
}

/// A PodGroup (`JobInfo`).
///
/// Laid out in declaration order (`repr(C)`), the fields every scheduling cycle reads of a
/// waiting job first (phase, flags, counts, queue, order keys, tasks, allocation), so a pass
/// over a backlog touches few cache lines per job; the strings and the rarely read
/// fields last.
#[derive(Debug, Clone)]
#[repr(C)]
pub struct JobInfo {
    pub phase: PodGroupPhase,
    /// False once the job left the session (completed and removed).
    pub live: bool,
    /// Changed since the last session close (see `Index::dirty`).
    pub dirty: bool,
    /// Changed since the pending order last caught up (see `Index::order_changed`).
    pub order_dirty: bool,
    /// Set by gang at session close when the job is not ready.
    pub unschedulable: bool,
    /// The index sets the job is in (`index::IN_*` bits), kept by `Index::job_changed`.
    pub index_member: u8,
    /// The phase the index counts the job under (None once retired).
    pub counted_phase: Option<PodGroupPhase>,
    /// The PodGroup's `volcano.sh/preemptable`, `None` when absent (gang eviction only).
    pub preemptable: Option<bool>,
    pub queue: QueueId,
    pub min_available: u32,
    pub priority: i32,
    /// Pending tasks that are best-effort.
    pub pending_best_effort: u32,
    pub task_min_total: u32,
    /// Task counts per status (index = `TaskStatus as usize`).
    pub counts: [u32; N_STATUS],
    /// PodGroup creation time, ms.
    pub creation: u64,
    pub tasks: Vec<TaskId>,
    /// What the job currently adds to the index's sums; `None` when nothing (every finished
    /// job): boxed so the slot a finished job keeps stays small.
    pub contrib: Option<Box<Contribution>>,
    /// Σ Resreq of tasks in AllocatedStatus.
    pub allocated: Resources,
    /// `<ns>/<name>`.
    pub uid: String,
    pub waiting_time: Option<u64>,
    pub min_resources: Option<Resources>,
    pub task_min_available: BTreeMap<String, u32>,
    /// PodGroup `spec.networkTopology` (see `policy::topology::job`).
    pub network_topology: Option<NetworkTopologySpec>,
    /// `JobInfo.AllocatedHyperNode` (in memory, kept across sessions).
    pub allocated_hypernode: Option<HnId>,
    /// The default sub-job's `AllocatedHyperNode`.
    pub subjob_hypernode: Option<HnId>,
    pub namespace: String,
    pub name: String,
}

impl JobInfo {
    #[inline]
    pub fn count(&self, s: TaskStatus) -> u32 {
        self.counts[s as usize]
    }
    /// `ReadyTaskNum` = Bound + Binding + Running + Allocated + Succeeded.
    #[inline]
    pub fn ready_num(&self) -> u32 {
        use TaskStatus::*;
        self.count(Bound)
            + self.count(Binding)
            + self.count(Running)
            + self.count(Allocated)
            + self.count(Succeeded)
    }
    /// `WaitingTaskNum` = Pipelined.
    #[inline]
    pub fn waiting_num(&self) -> u32 {
        self.count(TaskStatus::Pipelined)
    }
    /// `ValidTaskNum` = AllocatedStatus + Succeeded + Pipelined + Pending.
    #[inline]
    pub fn valid_num(&self) -> u32 {
        use TaskStatus::*;
        self.ready_num() + self.count(Pipelined) + self.count(Pending)
    }
    #[inline]
    pub fn is_ready(&self) -> bool {
        self.ready_num() + self.pending_best_effort >= self.min_available
    }
    #[inline]
    pub fn is_pipelined(&self) -> bool {
        self.waiting_num() + self.ready_num() + self.pending_best_effort >= self.min_available
    }
    #[inline]
    pub fn is_starving(&self) -> bool {
        self.waiting_num() + self.ready_num() < self.min_available
    }
    /// `IsPending`: phase Pending (or unset).
    #[inline]
    pub fn is_pending(&self) -> bool {
        self.phase == PodGroupPhase::Pending
    }
}

/// A pod (`TaskInfo`).
///
/// Laid out in declaration order (`repr(C)`), what allocate reads of a waiting pod first
/// (status, flags, job, nominated node, request), the strings last.
#[derive(Debug, Clone)]
#[repr(C)]
pub struct TaskInfo {
    pub status: TaskStatus,
    pub best_effort: bool,
    pub preemptable: bool,
    /// `system-cluster-critical` / `system-node-critical` class or namespace `kube-system`.
    pub critical: bool,
    /// Task priority (pod.spec.priority, default 1).
    pub priority: i32,
    pub job: JobId,
    pub preemption_never: bool,
    pub node: Option<NodeId>,
    pub nominated_node: Option<NodeId>,
    /// Requests + `pods: 1` (`InitResreq` = `Resreq`).
    pub resreq: Resources,
    pub tolerations: Vec<Toleration>,
    pub role: String,
    pub node_selector: BTreeMap<String, String>,
    /// Pod creation time, ms.
    pub creation: u64,
    /// Integer after the last '-' of the name (if the name has ≥ 3 parts).
    pub name_index: Option<i64>,
    pub namespace: String,
    pub name: String,
}

impl TaskInfo {
    /// Task key `<ns>/<name>`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}
