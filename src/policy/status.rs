//! Task (pod) statuses and PodGroup phases with Volcano's status groups (`api/types.go`,
//! `api/helpers.go`), and the PodGroup phase rule computed at session close
//! (`framework/session.go: getPodGroupPhase`). Depends only on the snapshot types.

use super::snapshot::{JobInfo, Snapshot};

/// Task (pod) status, `api/types.go`. `Allocated` and `Pipelined` exist only inside a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TaskStatus {
    Pending,
    Allocated,
    Pipelined,
    Binding,
    Bound,
    Running,
    Releasing,
    Succeeded,
    Failed,
    Unknown,
}

pub const N_STATUS: usize = 10;

impl TaskStatus {
    /// AllocatedStatus = {Bound, Binding, Running, Allocated}.
    #[inline]
    pub fn is_allocated(self) -> bool {
        matches!(
            self,
            TaskStatus::Bound | TaskStatus::Binding | TaskStatus::Running | TaskStatus::Allocated
        )
    }
    /// ScheduledStatus = {Running, Bound, Failed, Succeeded}.
    #[inline]
    pub fn is_scheduled(self) -> bool {
        matches!(
            self,
            TaskStatus::Running | TaskStatus::Bound | TaskStatus::Failed | TaskStatus::Succeeded
        )
    }
    /// PreemptableStatus = {Bound, Running}.
    #[inline]
    pub fn is_preemptable(self) -> bool {
        matches!(self, TaskStatus::Bound | TaskStatus::Running)
    }
    #[inline]
    pub fn is_completed(self) -> bool {
        matches!(self, TaskStatus::Succeeded | TaskStatus::Failed)
    }
    /// Statuses that occupy a node (everything with a node except completed ones).
    #[inline]
    pub(crate) fn occupies_node(self) -> bool {
        !matches!(
            self,
            TaskStatus::Pending | TaskStatus::Succeeded | TaskStatus::Failed | TaskStatus::Unknown
        )
    }
    pub fn parse(s: &str) -> Option<TaskStatus> {
        Some(match s {
            "Pending" => TaskStatus::Pending,
            "Allocated" => TaskStatus::Allocated,
            "Pipelined" => TaskStatus::Pipelined,
            "Binding" => TaskStatus::Binding,
            "Bound" => TaskStatus::Bound,
            "Running" => TaskStatus::Running,
            "Releasing" => TaskStatus::Releasing,
            "Succeeded" => TaskStatus::Succeeded,
            "Failed" => TaskStatus::Failed,
            "Unknown" => TaskStatus::Unknown,
            _ => return None,
        })
    }
}

/// PodGroup phase (`scheduling.volcano.sh/v1beta1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PodGroupPhase {
    Pending,
    Inqueue,
    Running,
    Unknown,
    Completed,
}

impl PodGroupPhase {
    pub fn parse(s: &str) -> Option<PodGroupPhase> {
        Some(match s {
            "" | "Pending" => PodGroupPhase::Pending,
            "Inqueue" => PodGroupPhase::Inqueue,
            "Running" => PodGroupPhase::Running,
            "Unknown" => PodGroupPhase::Unknown,
            "Completed" => PodGroupPhase::Completed,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            PodGroupPhase::Pending => "Pending",
            PodGroupPhase::Inqueue => "Inqueue",
            PodGroupPhase::Running => "Running",
            PodGroupPhase::Unknown => "Unknown",
            PodGroupPhase::Completed => "Completed",
        }
    }
}

/// `getPodGroupPhase` (framework/session.go), computed at session close.
pub fn podgroup_phase(job: &JobInfo, snap: &Snapshot) -> PodGroupPhase {
    podgroup_phase_with(job, snap, false)
}

/// [`podgroup_phase`]; with `allocated_scheduled` (the compatibility switch
/// `phase-counts-allocated`, DRIFT G) Allocated and Binding tasks count as scheduled too.
pub fn podgroup_phase_with(
    job: &JobInfo,
    snap: &Snapshot,
    allocated_scheduled: bool,
) -> PodGroupPhase {
    let mut scheduled = 0u32;
    let mut completed = 0u32;
    for &t in &job.tasks {
        let task = &snap.tasks[t.ix()];
        // Mirrors volcano 7a5d24ecc framework/job_updater.go / session.go `jobStatus`: tasks
        // in `AllocatedStatus` (Allocated, Binding, Bound, Running) count toward Running, so a
        // gang bound this session turns its PodGroup Running at this close (v1.15 waits for
        // Bound/Running pods, 15a6a5a65).
        let early = allocated_scheduled
            && matches!(task.status, TaskStatus::Allocated | TaskStatus::Binding);
        if early
            || task.status.is_scheduled()
            || (task.status == TaskStatus::Releasing && task.node.is_some())
        {
            scheduled += 1;
        }
        if task.status.is_completed() {
            completed += 1;
        }
    }
    phase_rule(
        job.min_available,
        job.phase,
        job.count(TaskStatus::Running),
        job.unschedulable,
        scheduled,
        completed,
    )
}

/// The phase rule itself, on counts (shared with the unit-case runner).
pub fn phase_rule(
    min_member: u32,
    current: PodGroupPhase,
    running: u32,
    unschedulable: bool,
    scheduled: u32,
    completed: u32,
) -> PodGroupPhase {
    if running > 0 && unschedulable {
        PodGroupPhase::Unknown
    } else if scheduled >= min_member {
        if scheduled == completed {
            PodGroupPhase::Completed
        } else {
            PodGroupPhase::Running
        }
    } else if current == PodGroupPhase::Inqueue {
        PodGroupPhase::Inqueue
    } else {
        PodGroupPhase::Pending
    }
}
