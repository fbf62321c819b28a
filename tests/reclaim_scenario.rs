//! The bundled preemption/reclaim scenario: analytics borrows the idle cluster, interactive
//! sessions take it back through `reclaim`. Its outcome must show reclaims, every eviction must
//! have a victim and a beneficiary queue, and no critical or non-reclaimable queue is touched;
//! interactive's time-to-reclaim (starved below deserved → its pods bound) is finite.

use std::path::Path;

use volsim::{report, runner, scenario};

#[test]
fn somaagenthub_reclaim_shows_reclaims() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/somaagenthub-reclaim/scenario.toml");
    let sc = scenario::load(&path).unwrap();
    let result = runner::run(&sc, None);
    let q = runner::queue_evictions(&result.outcome);
    let victims: u64 = q.iter().map(|x| x.reclaimed).sum();
    let beneficiaries: u64 = q.iter().map(|x| x.reclaimed_for).sum();
    assert!(victims > 0, "no reclaim in {q:?}");
    assert_eq!(victims, beneficiaries);
    let analytics = q.iter().find(|x| x.queue == "analytics").unwrap();
    assert!(
        analytics.reclaimed > 0,
        "analytics should give resources back: {q:?}"
    );
    assert_eq!(
        analytics.reclaimed_for, 0,
        "analytics borrows, it never reclaims: {q:?}"
    );
    // Every eviction is accounted for once, as a victim of one queue.
    let per_queue: u64 = q.iter().map(|x| x.preempted + x.reclaimed).sum();
    assert_eq!(per_queue as usize, result.outcome.evictions.len());
    let per_job: u64 = result.outcome.jobs.iter().map(|j| j.evictions as u64).sum();
    assert_eq!(per_job as usize, result.outcome.evictions.len());
    // Sessions (from 10 min) are starved below interactive's deserved share until reclaim
    // frees analytics pods (30 s eviction grace): every episode closes, within minutes.
    let ttr = report::time_to_reclaim(&result.outcome);
    let inter = ttr.iter().find(|x| x.queue == "interactive").unwrap();
    assert!(inter.episodes > 0, "{inter:?}");
    assert_eq!(inter.censored, 0, "{inter:?}");
    let (p50, max) = (inter.p50_ms.unwrap(), inter.max_ms.unwrap());
    assert!(p50 > 0 && p50 <= 60_000, "{inter:?}");
    assert!(max <= 5 * 60_000, "{inter:?}");
    let first = result
        .outcome
        .starvation
        .iter()
        .find(|e| result.outcome.queues[e.queue as usize] == "interactive")
        .unwrap();
    assert!(
        first.start_ms >= 600_000,
        "no session before 10 min: {first:?}"
    );
}
