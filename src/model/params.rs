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
    /// Bind request → pod Running (default 100 ms): the middle of the spread below.
    pub bind_latency_ms: u64,
    /// Width of the spread of bind → Running over pods (default 0: every pod takes exactly
    /// `bind_latency_ms`). With `w > 0` each bind takes `bind_latency_ms - w/2 + u` (at least
    /// 0), `u` uniform in `[0, w]`, drawn from the task and its job's bind count — so a gang's pods
    /// go Running, and finish, at different times, as on a real cluster (the realvolcano
    /// harness: 45–197 ms wall, p10–p90, after the binding cycle starts). While a gang's last
    /// pods still run, its queue still requests them: proportion's `deserved` and which
    /// queue's gang takes the freed nodes depend on it.
    pub bind_spread_ms: u64,
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

impl EngineParams {
    /// Bind → Running of the `binds`-th bind of task `task` (see `bind_spread_ms`).
    pub fn bind_latency_of(&self, task: u64, binds: u32) -> u64 {
        let w = self.bind_spread_ms;
        if w == 0 {
            return self.bind_latency_ms;
        }
        let u = super::splitmix(task ^ ((binds as u64) << 40) ^ BIND_SPREAD_SALT) % (w + 1);
        (self.bind_latency_ms + u).saturating_sub(w / 2)
    }
}

/// Salt of the bind-spread draws (keeps them apart from other uses of `splitmix` on task ids).
const BIND_SPREAD_SALT: u64 = 0x6269_6e64_5f73_7072;

impl Default for EngineParams {
    fn default() -> Self {
        EngineParams {
            schedule_period_ms: 1000,
            bind_latency_ms: 100,
            bind_spread_ms: 0,
            controller_delay_ms: 500,
            eviction_grace_ms: 30_000,
            sample_period_ms: 10_000,
            vcjob_mode: true,
            on_evict: OnEvictPolicy::default(),
            topology: ClusterTopology::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_spread_every_bind_takes_the_latency() {
        let p = EngineParams::default();
        assert!((0..50).all(|t| p.bind_latency_of(t, 1) == p.bind_latency_ms));
    }

    #[test]
    fn a_spread_is_centred_on_the_latency_bounded_and_repeatable() {
        let p = EngineParams {
            bind_latency_ms: 900,
            bind_spread_ms: 800,
            ..Default::default()
        };
        let draws: Vec<u64> = (0..400).map(|t| p.bind_latency_of(t, 1)).collect();
        assert!(
            draws.iter().all(|&d| (500..=1300).contains(&d)),
            "{draws:?}"
        );
        let mean = draws.iter().sum::<u64>() as f64 / draws.len() as f64;
        assert!((850.0..950.0).contains(&mean), "mean {mean}");
        let distinct: std::collections::BTreeSet<u64> = draws.iter().copied().collect();
        assert!(distinct.len() > 200);
        assert_eq!(draws[7], p.bind_latency_of(7, 1));
        // A rebind of the same task draws again.
        assert!((0..50).any(|t| p.bind_latency_of(t, 1) != p.bind_latency_of(t, 2)));
        // Never below zero when the spread is wider than twice the latency.
        let wide = EngineParams {
            bind_latency_ms: 10,
            bind_spread_ms: 1000,
            ..Default::default()
        };
        assert!((0..100).all(|t| wide.bind_latency_of(t, 1) <= 510));
    }
}
