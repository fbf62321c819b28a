//! Releasing a finished job's snapshot slots: only once the index caught up and every pod
//! Succeeded; timers that still name a released pod are stale; a job that is not finished for
//! good keeps its slots.

use super::tests::{cluster, tj};
use super::*;
use crate::policy::NodeId;

/// Runs cluster job `i`'s single pod to completion at 1000 ms.
fn finish_one(c: &mut Cluster, i: usize, timers: &mut Vec<(u64, Timer)>) -> TaskId {
    let j = c.jobs[i].job.unwrap();
    let t = c.snap.job(j).tasks[0];
    c.snap.set_status(t, TaskStatus::Running, Some(NodeId(0)));
    assert!(c.fire(Timer::TaskDone(t), 1000, timers));
    t
}

/// What a session close and the pending order's catch-up do to the flags.
fn catch_up_index(c: &mut Cluster) {
    let _ = c.snap.idx.take_dirty(&mut c.snap.jobs);
    for j in std::mem::take(&mut c.snap.idx.order_changed) {
        c.snap.jobs[j.ix()].order_dirty = false;
    }
}

#[test]
fn finished_job_slots_go_once_the_index_caught_up() {
    let mut c = cluster(false);
    let mut timers = Vec::new();
    let a = c.submit(&tj("a", 1, 1), 0);
    let b = c.submit(&tj("b", 1, 1), 0);
    let ta = finish_one(&mut c, a, &mut timers);
    let (ja, jb) = (c.jobs[a].job.unwrap(), c.jobs[b].job.unwrap());
    // Still dirty: the next session has not seen it leave.
    c.apply(&[], 1000, &mut timers);
    assert!(c.snap.has_job(ja) && c.snap.has_task(ta));
    catch_up_index(&mut c);
    c.apply(&[], 2000, &mut timers);
    assert!(!c.snap.has_job(ja) && !c.snap.has_task(ta));
    assert!(c.snap.has_job(jb), "a live job keeps its slot");
    assert_eq!(
        c.jobs[a].finish_ms(),
        Some(1000),
        "the cluster record stays"
    );
    // A timer still naming the released pod is stale, not a panic.
    assert!(!c.fire(Timer::TaskDone(ta), 3000, &mut timers));
    assert!(!c.fire(Timer::EvictDone(ta), 3000, &mut timers));
    assert_eq!(c.snap.live_jobs().collect::<Vec<_>>(), [jb]);
    assert_eq!(c.snap.find_job("default/b"), Some(jb));
    assert_eq!(c.snap.find_job("default/a"), None);
}

/// The gang actions' UID ranks (`accel::JobUids`) survive released jobs: a job released
/// between two syncs, and one released after it was ranked, are skipped, and the held jobs
/// keep their UID order.
#[test]
fn uid_ranks_skip_released_jobs() {
    let mut c = cluster(false);
    let mut timers = Vec::new();
    let mut uids = crate::policy::accel::JobUids::default();
    let a = c.submit(&tj("a", 1, 1), 0);
    let b = c.submit(&tj("b", 1, 1), 0);
    uids.sync(&c.snap);
    let d = c.submit(&tj("d", 1, 1), 0);
    finish_one(&mut c, a, &mut timers);
    finish_one(&mut c, d, &mut timers);
    catch_up_index(&mut c);
    c.apply(&[], 2000, &mut timers);
    let (ja, jb, jd) = (
        c.jobs[a].job.unwrap(),
        c.jobs[b].job.unwrap(),
        c.jobs[d].job.unwrap(),
    );
    assert!(!c.snap.has_job(ja) && !c.snap.has_job(jd));
    let e = c.submit(&tj("c", 1, 1), 2000);
    let je = c.jobs[e].job.unwrap();
    uids.sync(&c.snap);
    assert_eq!(
        uids.cmp(&c.snap, jb, je),
        c.snap.job(jb).uid.cmp(&c.snap.job(je).uid)
    );
    assert_eq!(
        uids.cmp(&c.snap, je, jb),
        c.snap.job(je).uid.cmp(&c.snap.job(jb).uid)
    );
}
