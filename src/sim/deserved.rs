//! Queue sampling for the time series: job counts by PodGroup phase, allocated cpu/memory and
//! the deserved share proportion would compute.
//!
//! Depends on `cluster` and `policy`. Deserved is what the scheduler itself computes: proportion's
//! water-filling (with capability and guarantee) or capacity's deserved, called from the policy
//! core on the current snapshot. `water_fill` is a small (cpu, memory) version kept for tests.

use crate::cluster::Cluster;
use crate::policy::PodGroupPhase;

use super::outcome::QueueSample;

/// Water-filling of `total` (per dimension) by `weights`, each queue capped at `request`.
/// Queues with `active[q] == false` get nothing. Mirrors proportion's loop: every round gives
/// each unmet queue `remaining × w / Σw` (clamped to its request); a queue is met once its
/// request fits on every dimension; stop when nothing remains or nothing changed.
pub fn water_fill(
    total: [f64; 2],
    weights: &[u32],
    request: &[[f64; 2]],
    active: &[bool],
) -> Vec<[f64; 2]> {
    let n = weights.len();
    let mut deserved = vec![[0.0f64; 2]; n];
    let mut met: Vec<bool> = (0..n).map(|q| !active[q]).collect();
    let mut remaining = total;
    for _ in 0..64 {
        let wsum: f64 = (0..n).filter(|&q| !met[q]).map(|q| weights[q] as f64).sum();
        if wsum == 0.0 || (remaining[0] <= 0.0 && remaining[1] <= 0.0) {
            break;
        }
        let mut changed = false;
        for q in 0..n {
            if met[q] {
                continue;
            }
            let w = weights[q] as f64 / wsum;
            for d in 0..2 {
                let old = deserved[q][d];
                let new = (old + remaining[d] * w).min(request[q][d]);
                if new > old {
                    changed = true;
                }
                deserved[q][d] = new;
            }
            if request[q][0] <= deserved[q][0] && request[q][1] <= deserved[q][1] {
                met[q] = true;
            }
        }
        for (d, r) in remaining.iter_mut().enumerate() {
            *r = total[d] - deserved.iter().map(|x| x[d]).sum::<f64>();
        }
        if !changed {
            break;
        }
    }
    deserved
}

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
        match conf.tiers.iter().flatten().find(|p| p.name == "capacity") {
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
