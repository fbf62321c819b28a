//! The bundled preemption/reclaim scenario: analytics borrows the idle cluster, interactive
//! sessions take it back through `reclaim`. Its outcome must show reclaims, every eviction must
//! have a victim and a beneficiary queue, and no critical or non-reclaimable queue is touched;
//! interactive's time-to-reclaim (starved below deserved → its pods bound) is finite.

use std::path::Path;

use volsim::report::RunReport;
use volsim::run::{run, RunSpec};
use volsim::{report, scenario};

#[test]
fn somaagenthub_reclaim_shows_reclaims() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/somaagenthub-reclaim/scenario.toml");
    let sc = scenario::load(&path).unwrap();
    let result = run(&RunSpec { scenario: sc });
    let q = report::queue_evictions(&result.outcome);
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

/// The same scenario with `on_evict = "restart-job"` for the analytics gangs: a reclaimed pod
/// makes the job controller kill the whole gang, so each eviction wastes the work of all eight
/// pods, and the restarted gang must pass enqueue again.
#[test]
fn somaagenthub_reclaim_with_restart_job_analytics() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/somaagenthub-reclaim/scenario.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let restart_text = text.replace(
        "replicas = 8\nmin_member = 8\n",
        "replicas = 8\nmin_member = 8\non_evict = \"restart-job\"\n",
    );
    assert_ne!(text, restart_text, "the analytics class was not found");
    let recreate = run(&RunSpec {
        scenario: scenario::load(&path).unwrap(),
    });
    let restart = run(&RunSpec {
        scenario: scenario::load_str(&restart_text, &path).unwrap(),
    });

    let wasted = |r: &RunReport| -> f64 {
        report::queue_evictions(&r.outcome)
            .iter()
            .map(|q| q.wasted_core_s)
            .sum()
    };
    let (o, base) = (&restart.outcome, &recreate.outcome);
    let per_eviction = |r: &RunReport| wasted(r) / r.outcome.counters.evictions as f64;
    eprintln!(
        "recreate-pod: {} evictions, {:.1} wasted core-s ({:.1} per eviction); \
         restart-job: {} evictions, {} restarts, {} restart kills, {} failed, {:.1} wasted \
         core-s ({:.1} per eviction)",
        base.counters.evictions,
        wasted(&recreate),
        per_eviction(&recreate),
        o.counters.evictions,
        restart.metrics.total.restarts,
        o.counters.restart_kills,
        restart.metrics.total.failed,
        wasted(&restart),
        per_eviction(&restart),
    );

    // Recreate-pod (the default) never restarts anything.
    assert_eq!(recreate.metrics.total.restarts, 0);
    assert_eq!(base.counters.restart_kills, 0);
    // Restart-job: every analytics eviction wave restarts its gang and kills its siblings.
    let analytics = restart
        .metrics
        .classes
        .iter()
        .find(|c| c.name == "analytics-training")
        .unwrap();
    assert!(analytics.restarts > 0);
    assert!(analytics.restart_kills > 0);
    assert!(analytics.restarts <= analytics.evictions);
    for e in o.evictions.iter().filter(|e| e.action == "restart-job") {
        assert_eq!(e.queue, "analytics");
        assert_eq!(
            e.preemptor_queue, "interactive",
            "charged to the reclaimer: {e:?}"
        );
        assert!(e.restart_trigger.starts_with("default/analytics-training-"));
    }
    let q = report::queue_evictions(o);
    let aq = q.iter().find(|x| x.queue == "analytics").unwrap();
    assert_eq!(aq.restart_killed, o.counters.restart_kills);
    assert_eq!(
        (aq.reclaimed + aq.preempted + aq.restart_killed) as usize,
        o.evictions
            .iter()
            .filter(|e| e.queue == "analytics")
            .count()
    );
    // A whole gang's work is lost per eviction, not one pod's.
    assert!(per_eviction(&restart) > 4.0 * per_eviction(&recreate));
    // Every job is accounted for: completed, failed, or still pending/running at the horizon.
    assert_eq!(o.jobs.len(), base.jobs.len());
    assert!(o
        .jobs
        .iter()
        .all(|j| !(j.finish_ms.is_set() && j.failed_ms.is_set())));
}
