//! Queue sampling for the time series: job counts by PodGroup phase, allocated cpu/memory and
//! the deserved share proportion would compute.
//!
//! Depends on `cluster` and `policy` snapshot types. Deserved is a water-filling over (cpu,
//! memory) among queues with active jobs, capped at each queue's request (allocated + pending
//! pod requests), as `plugins/proportion` does at session open — without guarantee, capability
//! or the hierarchy (a simplification stated in the report). Pure function of the cluster.

use crate::cluster::Cluster;
use crate::policy::{PodGroupPhase, TaskStatus};

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

/// Appends one sample per queue at `t`.
pub fn sample(c: &Cluster, t: u64, out: &mut Vec<QueueSample>) {
    let snap = &c.snap;
    let nq = snap.queues.len();
    let mut s: Vec<QueueSample> = (0..nq)
        .map(|q| QueueSample {
            time_ms: t,
            queue: q as u32,
            pending_jobs: 0,
            inqueue_jobs: 0,
            running_jobs: 0,
            allocated_cpu_milli: 0,
            allocated_mem_bytes: 0,
            deserved_cpu_milli: 0.0,
            deserved_mem_bytes: 0.0,
        })
        .collect();
    let mut request = vec![[0.0f64; 2]; nq];
    let mut active = vec![false; nq];
    for &i in &c.active {
        let Some(j) = c.jobs[i].job else { continue };
        let job = snap.job(j);
        let q = job.queue.ix();
        active[q] = true;
        let e = &mut s[q];
        match job.phase {
            PodGroupPhase::Pending => e.pending_jobs += 1,
            PodGroupPhase::Inqueue => e.inqueue_jobs += 1,
            _ => e.running_jobs += 1,
        }
        e.allocated_cpu_milli += job.allocated.cpu();
        e.allocated_mem_bytes += job.allocated.memory();
        request[q][0] += job.allocated.cpu() as f64;
        request[q][1] += job.allocated.memory() as f64;
        let pending = job.count(TaskStatus::Pending) as f64;
        request[q][0] += pending * c.jobs[i].requests.cpu() as f64;
        request[q][1] += pending * c.jobs[i].requests.memory() as f64;
    }
    let weights: Vec<u32> = snap.queues.iter().map(|q| q.weight).collect();
    let total = [snap.total.cpu() as f64, snap.total.memory() as f64];
    let d = water_fill(total, &weights, &request, &active);
    for (q, e) in s.iter_mut().enumerate() {
        e.deserved_cpu_milli = d[q][0];
        e.deserved_mem_bytes = d[q][1];
    }
    out.extend(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn water_fill_redistributes_unused_share() {
        let d = water_fill(
            [100.0, 100.0],
            &[1, 3],
            &[[10.0, 10.0], [1000.0, 1000.0]],
            &[true, true],
        );
        assert_eq!(d[0], [10.0, 10.0]);
        assert!((d[1][0] - 90.0).abs() < 1e-9);
        let d = water_fill([100.0, 100.0], &[1, 1], &[[500.0; 2]; 2], &[true, false]);
        assert_eq!(d[1], [0.0, 0.0]);
        assert!((d[0][0] - 100.0).abs() < 1e-9);
    }
}
