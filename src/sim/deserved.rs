//! Queue sampling for the time series: job counts by PodGroup phase, allocated cpu/memory and
//! the deserved share proportion would compute.
//!
//! Depends on `cluster` and `policy`. Deserved is what the scheduler itself computes: proportion's
//! water-filling (with capability and guarantee) or capacity's deserved, called from the policy
//! core on the current snapshot.

use crate::cluster::Cluster;
use crate::policy::PodGroupPhase;

use super::outcome::QueueSample;

/// Which plugin's `deserved` the time series shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeservedMode {
    /// proportion's water-filling (weights, capability, guarantee, request).
    Proportion,
    /// capacity's fixed deserved (flat or hierarchical).
    Capacity { hierarchy: bool },
}

impl DeservedMode {
    /// The mode for a conf: capacity when its tiers use capacity, else proportion.
    pub fn of(conf: &crate::policy::SchedulerConf) -> DeservedMode {
        match conf.plugin(crate::policy::PluginKind::Capacity) {
            Some(p) => DeservedMode::Capacity {
                hierarchy: p.hierarchy,
            },
            None => DeservedMode::Proportion,
        }
    }
}

/// Appends one sample per queue at `t`, from the snapshot's maintained index (O(queues)) and
/// the plugin's own deserved computation.
pub fn sample(c: &Cluster, t: u64, mode: DeservedMode, out: &mut Vec<QueueSample>) {
    let snap = &c.snap;
    let deserved: Vec<Option<(f64, f64)>> = match mode {
        DeservedMode::Proportion => crate::policy::plugins::proportion::Proportion::attrs_of(snap)
            .into_iter()
            .map(|a| a.map(|a| (a.deserved.v[0], a.deserved.v[1])))
            .collect(),
        DeservedMode::Capacity { hierarchy } => {
            crate::policy::plugins::capacity::deserved_of(snap, hierarchy)
                .into_iter()
                .map(|d| d.map(|d| (d.cpu() as f64, d.memory() as f64)))
                .collect()
        }
    };
    for (q, agg) in snap.idx.queues.iter().enumerate() {
        let (dc, dm) = deserved.get(q).copied().flatten().unwrap_or((0.0, 0.0));
        out.push(QueueSample {
            time_ms: t,
            points: 1,
            queue: q as u32,
            pending_jobs: agg.phases[PodGroupPhase::Pending as usize],
            inqueue_jobs: agg.phases[PodGroupPhase::Inqueue as usize],
            running_jobs: agg.phases[PodGroupPhase::Running as usize]
                + agg.phases[PodGroupPhase::Unknown as usize],
            allocated_cpu_milli: agg.allocated.cpu(),
            allocated_mem_bytes: agg.allocated.memory(),
            deserved_cpu_milli: dc,
            deserved_mem_bytes: dm,
        });
    }
}
