//! `EngineParams`: the timing of the modelled control plane — every knob the engine, the
//! cluster model, the simulator, the live twin and the forecast share, with its one default.
//!
//! Depends on `model::on_evict`. The defaults below are the only defaults: the scenario file,
//! the live setup and tests start from `EngineParams::default()`.

use super::on_evict::OnEvictPolicy;
use super::topology::ClusterTopology;

/// How the modelled control plane behaves in time. All times in ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineParams {
    /// Cycle cadence: cycle k runs at k × period (Volcano `--schedule-period`, default 1 s;
    /// the cycle's own duration is not modelled). At least 1.
    pub schedule_period_ms: u64,
    /// Bind request → pod Running (default 100 ms).
    pub bind_latency_ms: u64,
    /// vcjob mode: PodGroup Inqueue → the job controller has created the pods; also the delay
    /// of a restarted job's PodGroup re-creation (default 500 ms).
    pub controller_delay_ms: u64,
    /// Eviction → the pod is gone (and recreated by its controller) (default 30 s, Kubernetes'
    /// default `terminationGracePeriodSeconds`).
    pub eviction_grace_ms: u64,
    /// Queue time-series period of the simulator's samples (default 10 s; 0 disables them).
    pub sample_period_ms: u64,
    /// Pods are created by the vcjob controller after enqueue (true, default) or exist from
    /// submission (false: a PodGroup with its pods, `job_object = "podgroup"`).
    pub vcjob_mode: bool,
    /// The job controller's reaction to an evicted pod, by workload class (default: recreate
    /// the pod).
    pub on_evict: OnEvictPolicy,
    /// The cluster's HyperNodes and the PodGroup `networkTopology` of each workload class
    /// (default: none — every job takes the plain allocate path).
    pub topology: ClusterTopology,
}

impl Default for EngineParams {
    fn default() -> Self {
        EngineParams {
            schedule_period_ms: 1000,
            bind_latency_ms: 100,
            controller_delay_ms: 500,
            eviction_grace_ms: 30_000,
            sample_period_ms: 10_000,
            vcjob_mode: true,
            on_evict: OnEvictPolicy::default(),
            topology: ClusterTopology::default(),
        }
    }
}
