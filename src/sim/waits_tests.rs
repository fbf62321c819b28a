//! Wait time by reason: the per-job sums and the reasons named in hand-made scenarios.

use super::tests::{input, job};
use super::*;
use crate::model::ResourceName;
use crate::policy::{PluginKind, WaitReason};

/// When a job stopped waiting: gang ready, else failed or finished, else the end of the run.
fn stop(j: &JobRecord, end: u64) -> u64 {
    j.gang_ready_ms
        .get()
        .or(match (j.failed_ms.get(), j.finish_ms.get()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
        .unwrap_or(end)
}

/// Every job's reasons sum to its wait, or to the time it was still waiting at the end.
pub(crate) fn assert_sums(o: &Outcome) {
    assert_eq!(o.waits.len(), o.jobs.len());
    for (j, w) in o.jobs.iter().zip(&o.waits) {
        let want = stop(j, o.end_ms) - j.submit_ms;
        assert_eq!(w.total_ms(), want, "job {}: {:?}", j.id, w.reasons);
        assert_eq!(
            w.open,
            j.gang_ready_ms.get().is_none() && stop(j, o.end_ms) == o.end_ms
        );
        if let Some(wait) = j.wait_ms() {
            assert_eq!(w.total_ms(), wait, "job {}", j.id);
        }
    }
}

fn reason_of(o: &Outcome, id: &str) -> Vec<WaitReason> {
    let i = o.jobs.iter().position(|j| j.id == id).expect("job exists");
    o.waits[i].reasons.iter().map(|r| r.0).collect()
}

#[test]
fn reasons_sum_to_each_jobs_wait_under_contention() {
    let mut jobs = Vec::new();
    for i in 0..12 {
        let q = if i % 2 == 0 { "q1" } else { "q2" };
        jobs.push(job(&format!("j{i}"), q, i * 700, 2, 2, 3));
    }
    jobs.push(job("huge", "q1", 0, 1, 1, 20));
    jobs.push(job("ghost", "nope", 0, 1, 1, 1));
    for vcjob in [false, true] {
        let o = simulate(&input(jobs.clone(), vcjob));
        assert_sums(&o);
        assert!(o.waits.iter().any(|w| w.total_ms() > 10_000));
        assert_eq!(reason_of(&o, "ghost"), [WaitReason::UnknownQueue]);
    }
}

#[test]
fn horizon_leaves_waits_open_and_summed_to_the_end() {
    let jobs = (0..6)
        .map(|i| job(&format!("j{i}"), "q1", 0, 2, 2, 4))
        .collect();
    let mut inp = input(jobs, false);
    inp.horizon_ms = Some(15_000);
    let o = simulate(&inp);
    assert_sums(&o);
    assert!(o.waits.iter().any(|w| w.open));
}

#[test]
fn names_enqueue_rejection_and_no_fitting_node() {
    let o = simulate(&input(
        vec![
            job("huge", "q1", 0, 1, 1, 20),
            job("wide", "q1", 0, 1, 1, 5),
        ],
        false,
    ));
    assert_sums(&o);
    assert_eq!(
        reason_of(&o, "huge"),
        [WaitReason::EnqueueRejected(PluginKind::Overcommit)]
    );
    assert_eq!(
        reason_of(&o, "wide"),
        [WaitReason::NoNodeFits(Some(ResourceName::CPU.0))]
    );
}

#[test]
fn binding_time_is_charged_to_binding() {
    let o = simulate(&input(vec![job("a", "q1", 0, 2, 2, 2)], false));
    assert_sums(&o);
    assert_eq!(o.waits[0].reasons[..], [(WaitReason::Binding, 100)]);
}
