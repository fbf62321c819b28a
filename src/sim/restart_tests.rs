//! `on_evict = restart-job` end to end: a high-priority pod preempts one pod of a low-priority
//! job; the job controller kills the rest, the job runs again in full (or fails at maxRetry).

use super::tests::{input, job};
use super::*;
use crate::model::OnEvict;
use crate::policy::parse_scheduler_conf;

const PREEMPT_CONF: &str = "actions: \"enqueue, allocate, backfill, preempt\"\ntiers:\n- plugins:\n  - name: priority\n  - name: gang\n  - name: conformance\n- plugins:\n  - name: drf\n  - name: predicates\n  - name: proportion\n  - name: nodeorder\n";

/// `victim` (4 × 2 cpu, low priority, class "r") fills both 4-cpu nodes at 0; `urgent`
/// (1 × 2 cpu, high priority) arrives at 5 s and preempts one victim pod.
fn preemption(on_evict: OnEvict) -> SimInput<'static> {
    let mut victim = job("victim", "q1", 0, 4, 1, 2);
    victim.class = "r".into();
    victim.priority_class = Some("low".into());
    victim.duration_ms = 60_000;
    let mut urgent = job("urgent", "q1", 5000, 1, 1, 2);
    urgent.priority_class = Some("high".into());
    let mut inp = input(vec![victim, urgent], true);
    inp.conf = parse_scheduler_conf(PREEMPT_CONF).unwrap();
    inp.priority_classes = [("low", 10), ("high", 1000)]
        .into_iter()
        .map(|(n, v)| PriorityClassSpec {
            name: n.into(),
            value: v,
            global_default: false,
            preemption_never: false,
        })
        .collect();
    inp.params.on_evict.classes.insert("r".into(), on_evict);
    inp
}

#[test]
fn recreate_pod_reruns_only_the_evicted_pod() {
    let o = simulate(&preemption(OnEvict::RecreatePod));
    let v = &o.jobs[0];
    assert_eq!((v.evictions, v.restarts, v.restart_kills), (1, 0, 0));
    assert!(v.finish_ms.is_set() && v.failed_ms.get().is_none());
    assert_eq!(o.evictions.len(), 1);
    assert_eq!(o.counters.restart_kills, 0);
}

#[test]
fn restart_job_reruns_the_whole_job() {
    let recreate = simulate(&preemption(OnEvict::RecreatePod));
    let o = simulate(&preemption(OnEvict::RestartJob { max_retry: 3 }));
    let v = &o.jobs[0];
    assert_eq!((v.evictions, v.restarts, v.restart_kills), (1, 1, 3));
    assert!(v.failed_ms.get().is_none());
    // All four pods run again in full (only the evicted one does under recreate-pod).
    assert_eq!(recreate.jobs[0].attempts, 5);
    assert_eq!(v.attempts, 8, "four binds, four again after the restart");
    assert!(v.finish_ms.is_set());
    assert!(o.jobs[1].finish_ms.is_set());
    // The eviction plus three restart kills, charged to the preemptor; all lost the same work.
    let rows: Vec<_> = o
        .evictions
        .iter()
        .map(|e| (e.action.as_str(), e.preemptor_job.as_str(), e.ran_ms))
        .collect();
    let ran = rows[0].2;
    assert!(ran > 0);
    assert_eq!(rows[0].0, "preempt");
    assert_eq!(rows[1..], [("restart-job", "urgent", ran); 3]);
    assert!(o.evictions[1..]
        .iter()
        .all(|e| e.restart_trigger == o.evictions[0].task));
    assert_eq!(o.counters.restart_kills, 3);
    assert_eq!(o.counters.evictions, 1);
    let wasted = |o: &Outcome| -> i64 {
        o.evictions
            .iter()
            .map(|e| e.ran_ms as i64 * e.cpu_milli)
            .sum()
    };
    assert_eq!(wasted(&o), 4 * wasted(&recreate));
    // Same seed, same bytes.
    assert_eq!(
        o,
        simulate(&preemption(OnEvict::RestartJob { max_retry: 3 }))
    );
}

#[test]
fn restart_job_fails_at_max_retry() {
    let o = simulate(&preemption(OnEvict::RestartJob { max_retry: 1 }));
    let v = &o.jobs[0];
    assert_eq!((v.restarts, v.finish_ms.get()), (1, None));
    let failed = v.failed_ms.get().expect("the job failed");
    assert_eq!(failed, o.evictions[0].time_ms);
    assert!(o.jobs[1].finish_ms.is_set());
    assert!(!o.hit_horizon, "a failed job does not keep the run going");
    let failed = o.jobs.iter().filter(|j| j.failed_ms.is_set()).count();
    let completed = o.jobs.iter().filter(|j| j.finish_ms.is_set()).count();
    assert_eq!((failed, completed), (1, 1));
}
