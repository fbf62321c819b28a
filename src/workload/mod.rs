//! The workload model: what arrives at the cluster and when. Every importer (canonical CSV,
//! SWF, Alibaba openb, Temporal histories) and the synthetic generator produce `TraceJob`s;
//! the simulator turns each into a PodGroup with `replicas` pods.
//!
//! Depends only on `model`. Jobs are kept sorted by `(submit_ms, input order)` so arrivals can
//! be streamed.

pub mod mapping;
pub mod temporal;
pub mod workflow;

use crate::model::Resources;

/// One batch job as the simulator replays it: a PodGroup with `replicas` identical pods.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceJob {
    /// Stable identifier from the source (unique within a workload).
    pub id: String,
    /// Submission time, ms from the workload's origin.
    pub submit_ms: u64,
    /// Run time of each pod once Running, ms.
    pub duration_ms: u64,
    /// Number of pods.
    pub replicas: u32,
    /// Gang size (`minMember`); `1 ≤ min_member ≤ replicas`.
    pub min_member: u32,
    /// Requests of one pod (cpu, memory, gpu, other scalars); `pods: 1` is added later.
    pub requests: Resources,
    /// Volcano queue name.
    pub queue: String,
    /// PriorityClass name, if any (its value becomes the job priority).
    pub priority_class: Option<String>,
    /// Explicit job priority when no class is named (canonical CSV `priority`).
    pub priority: i32,
    /// Workload class label for reports ("" when the source has none).
    pub class: String,
}

impl TraceJob {
    /// Checks the invariants every importer must guarantee.
    pub fn validate(&self) -> Result<(), String> {
        if self.replicas == 0 {
            return Err(format!("job {}: replicas must be ≥ 1", self.id));
        }
        if self.min_member == 0 || self.min_member > self.replicas {
            return Err(format!(
                "job {}: min_member {} must be between 1 and replicas {}",
                self.id, self.min_member, self.replicas
            ));
        }
        if self.queue.is_empty() {
            return Err(format!("job {}: empty queue name", self.id));
        }
        Ok(())
    }
}

/// Sorts jobs by submission time, keeping input order among equal times (stable).
pub fn sort_by_submit(jobs: &mut [TraceJob]) {
    jobs.sort_by_key(|j| j.submit_ms);
}
