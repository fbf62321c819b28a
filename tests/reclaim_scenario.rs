//! The bundled preemption/reclaim scenario: analytics borrows the idle cluster, interactive
//! sessions take it back through `reclaim`. Its outcome must show reclaims, every eviction must
//! have a victim and a beneficiary queue, and no critical or non-reclaimable queue is touched.

use std::path::Path;

use volsim::{runner, scenario};

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
}
