//! Timing jitter for the prediction bands of `volsim reality --seeds N --jitter WALL`: each
//! replay moves every job's run time by an independent offset, uniform in `[-J, +J]` model
//! ms, drawn from the replay's seed and the job's id.
//!
//! Why: a real control plane does not start and finish pods on a fixed grid. On the
//! realvolcano harness a pod goes Running 14–108 ms (wall, p10–p90) after its binding cycle
//! starts, and a gang's pods finish that far apart; which of two completions lands in a cycle
//! first decides which queue's gang takes the freed nodes (proportion re-divides `deserved`
//! each cycle), and the histories diverge from there. Tie-break seeds alone do not cover that
//! spread; replays with jittered run times do (`reports/reality/README.md`).
//!
//! Depends on `model::hash` and `workload::TraceJob` only. Deterministic: the offset of a job
//! is a pure function of (seed, job id, J).

use crate::model::{fnv1a, splitmix};
use crate::workload::TraceJob;

/// Moves each job's `duration_ms` by an offset uniform in `[-half_width_ms, +half_width_ms]`
/// (never below 1 ms), drawn from `seed` and the job's id. `half_width_ms == 0` changes
/// nothing.
pub fn jitter_durations(jobs: &mut [TraceJob], seed: u64, half_width_ms: u64) {
    if half_width_ms == 0 {
        return;
    }
    let span = 2 * half_width_ms + 1;
    for job in jobs {
        let draw = splitmix(seed ^ splitmix(fnv1a(job.id.as_bytes()))) % span;
        let shifted = job.duration_ms as i128 + draw as i128 - half_width_ms as i128;
        job.duration_ms = shifted.max(1) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jobs() -> Vec<TraceJob> {
        (0..200)
            .map(|i| TraceJob {
                id: format!("job-{i}"),
                submit_ms: 0,
                duration_ms: 10_000,
                replicas: 1,
                min_member: 1,
                requests: Default::default(),
                queue: "q".into(),
                priority_class: None,
                priority: 0,
                class: String::new(),
            })
            .collect()
    }

    #[test]
    fn offsets_stay_in_the_band_vary_by_job_and_seed_and_repeat() {
        let mut a = jobs();
        jitter_durations(&mut a, 7, 500);
        assert!(a.iter().all(|j| (9_500..=10_500).contains(&j.duration_ms)));
        let distinct: std::collections::BTreeSet<u64> = a.iter().map(|j| j.duration_ms).collect();
        assert!(
            distinct.len() > 100,
            "offsets barely vary: {}",
            distinct.len()
        );
        let below = a.iter().filter(|j| j.duration_ms < 10_000).count();
        assert!(
            (60..140).contains(&below),
            "not centred: {below} of 200 below"
        );
        let mut again = jobs();
        jitter_durations(&mut again, 7, 500);
        assert_eq!(a, again);
        let mut other = jobs();
        jitter_durations(&mut other, 8, 500);
        assert_ne!(a, other);
    }

    #[test]
    fn zero_width_changes_nothing_and_run_times_stay_positive() {
        let mut a = jobs();
        jitter_durations(&mut a, 7, 0);
        assert_eq!(a, jobs());
        let mut short = jobs();
        short.iter_mut().for_each(|j| j.duration_ms = 3);
        jitter_durations(&mut short, 7, 1_000);
        assert!(short.iter().all(|j| j.duration_ms >= 1));
    }
}
