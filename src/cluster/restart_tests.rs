//! `RestartJob` in the cluster model: the kill, the restart once enough pods are gone, the
//! failure at maxRetry, Succeeded pods, and one restart per wave of evictions.

use super::tests::{cluster, tj};
use super::*;
use crate::model::OnEvict;
use crate::policy::{Action, NodeId};

fn restart_cluster(vcjob: bool, max_retry: u32) -> Cluster {
    let mut c = cluster(vcjob);
    c.params
        .on_evict
        .classes
        .insert("r".into(), OnEvict::RestartJob { max_retry });
    c
}

fn rtj(id: &str, replicas: u32, min: u32) -> TraceJob {
    TraceJob {
        class: "r".into(),
        ..tj(id, replicas, min)
    }
}

/// Binds every Pending pod of `j` to n0 at `now`; they run from `now + 100`.
fn run_all(c: &mut Cluster, j: JobId, now: u64) {
    let pending: Vec<TaskId> = c.snap.tasks_in(j, TaskStatus::Pending).collect();
    let mut timers = Vec::new();
    for &t in &pending {
        c.snap.set_status(t, TaskStatus::Binding, Some(NodeId(0)));
    }
    let binds: Vec<Decision> = pending
        .iter()
        .map(|&task| Decision::Bind {
            task,
            node: NodeId(0),
        })
        .collect();
    c.apply(&binds, now, &mut timers);
    for t in pending {
        assert!(c.fire(Timer::BindDone(t), now + 100, &mut timers));
    }
}

/// The session evicted `tasks` (already Releasing in the snapshot); the cluster applies it.
fn evict(c: &mut Cluster, tasks: &[TaskId], now: u64) -> Vec<(u64, Timer)> {
    let mut timers = Vec::new();
    let ds: Vec<Decision> = tasks
        .iter()
        .map(|&t| {
            c.snap.update_status(t, TaskStatus::Releasing);
            Decision::Evict {
                task: t,
                action: Action::Reclaim,
                preemptor: t,
            }
        })
        .collect();
    c.apply(&ds, now, &mut timers);
    timers
}

fn evict_done_all(c: &mut Cluster, timers: &[(u64, Timer)]) {
    let mut scratch = Vec::new();
    for &(at, timer) in timers {
        if let Timer::EvictDone(_) = timer {
            assert!(c.fire(timer, at, &mut scratch));
        }
    }
}

#[test]
fn restart_kills_every_pod_and_recreates_the_job_whole() {
    let mut c = restart_cluster(true, 3);
    let i = c.submit(&rtj("a", 3, 3), 0);
    assert_eq!(c.jobs[i].on_evict, OnEvict::RestartJob { max_retry: 3 });
    let j = c.jobs[i].job.unwrap();
    let mut timers = Vec::new();
    c.snap.set_phase(j, PodGroupPhase::Inqueue);
    c.apply(&[Decision::Enqueue { job: j }], 0, &mut timers);
    assert!(c.fire(Timer::CreatePods(i), 100, &mut timers));
    run_all(&mut c, j, 1000);
    let tasks = c.snap.job(j).tasks.clone();
    let timers = evict(&mut c, &tasks[..1], 11_100);

    // Every pod terminates; the siblings' lost work is reported; the PodGroup is gone.
    assert!(tasks
        .iter()
        .all(|&t| c.snap.task(t).status == TaskStatus::Releasing));
    assert_eq!(
        c.snap.nodes[0].used.cpu(),
        3000,
        "terminating pods hold the node"
    );
    let kills: Vec<_> = c
        .kills
        .iter()
        .map(|k| (k.task, k.ran_ms, k.evicted))
        .collect();
    assert_eq!(
        kills,
        [(tasks[1], 10_000, tasks[0]), (tasks[2], 10_000, tasks[0])]
    );
    let st = &c.jobs[i];
    assert_eq!((st.evictions, st.restarts, st.restart_kills), (1, 1, 2));
    assert_eq!(st.ctl, Ctl::Restarting);
    assert!(!c.snap.job(j).live);
    let grace: Vec<_> = timers.iter().filter(|(at, _)| *at == 41_100).collect();
    assert_eq!(grace.len(), 3);
    assert!(timers.contains(&(11_200, Timer::JobSync(i))));

    // The controller waits for the pods to be gone (minAvailable = replicas).
    let mut scratch = Vec::new();
    assert!(!c.fire(Timer::JobSync(i), 11_200, &mut scratch));
    evict_done_all(&mut c, &timers);
    let job = c.snap.job(j);
    assert!(job.live && job.phase == PodGroupPhase::Pending && job.creation == 41_100);
    assert!(job.tasks.is_empty() && !c.jobs[i].pods_created);
    assert_eq!(c.jobs[i].ctl, Ctl::Normal);
    assert_eq!(c.snap.nodes[0].used.cpu(), 0);

    // It must pass enqueue again; then the controller creates all pods anew.
    c.snap.set_phase(j, PodGroupPhase::Inqueue);
    let mut timers = Vec::new();
    c.apply(&[Decision::Enqueue { job: j }], 42_000, &mut timers);
    assert_eq!(timers, [(42_100, Timer::CreatePods(i))]);
    assert!(c.fire(Timer::CreatePods(i), 42_100, &mut timers));
    let names: Vec<_> = c
        .snap
        .job(j)
        .tasks
        .iter()
        .map(|&t| c.snap.task(t).name.clone())
        .collect();
    assert_eq!(names, ["a-main-0", "a-main-1", "a-main-2"]);
    assert_eq!(c.jobs[i].inqueue_ms(), Some(0), "first admission is kept");
}

#[test]
fn restart_fails_the_job_when_retry_count_reaches_max_retry() {
    let mut c = restart_cluster(false, 2);
    let i = c.submit(&rtj("a", 2, 2), 0);
    let j = c.jobs[i].job.unwrap();
    run_all(&mut c, j, 0);
    let t = c.snap.job(j).tasks[0];
    let timers = evict(&mut c, &[t], 5000);
    assert_eq!((c.jobs[i].restarts, c.jobs[i].ctl), (1, Ctl::Restarting));
    evict_done_all(&mut c, &timers);
    // Plain PodGroup mode: the pods come back with the PodGroup.
    assert_eq!(c.snap.job(j).count(TaskStatus::Pending), 2);
    assert!(c.snap.job(j).live);

    run_all(&mut c, j, 40_000);
    let t = c.snap.job(j).tasks[1];
    let timers = evict(&mut c, &[t], 45_000);
    let st = &c.jobs[i];
    assert_eq!(
        (st.restarts, st.ctl, st.failed_ms()),
        (2, Ctl::Failed, Some(45_000))
    );
    assert_eq!((st.evictions, st.restart_kills), (2, 2));
    assert!(!c.snap.job(j).live);
    assert!(!c.all_done(), "its pods are still terminating");
    evict_done_all(&mut c, &timers);
    assert!(c.all_done());
    assert!(c.snap.job(j).tasks.is_empty());
    assert_eq!(c.jobs[i].finish_ms(), None);
    assert_eq!(c.snap.nodes[0].used.cpu(), 0);
}

#[test]
fn restart_kills_succeeded_pods_except_on_the_last_retry() {
    for max_retry in [3, 1] {
        let mut c = restart_cluster(false, max_retry);
        let i = c.submit(&rtj("a", 2, 1), 0);
        let j = c.jobs[i].job.unwrap();
        let tasks = c.snap.job(j).tasks.clone();
        let mut timers = Vec::new();
        for (k, &t) in tasks.iter().enumerate() {
            let at = k as u64 * 1000;
            c.snap.set_status(t, TaskStatus::Binding, Some(NodeId(0)));
            c.apply(
                &[Decision::Bind {
                    task: t,
                    node: NodeId(0),
                }],
                at,
                &mut timers,
            );
            assert!(c.fire(Timer::BindDone(t), at + 100, &mut timers));
        }
        assert!(c.fire(Timer::TaskDone(tasks[0]), 1100, &mut timers));
        let timers = evict(&mut c, &tasks[1..], 1500);
        let succeeded = c.snap.job(j).count(TaskStatus::Succeeded);
        if max_retry == 1 {
            // killJob keeps Succeeded pods on the last retry; the job fails.
            assert_eq!(succeeded, 1);
            assert!(c.kills.is_empty());
            assert_eq!(c.jobs[i].failed_ms(), Some(1500));
            continue;
        }
        assert_eq!(succeeded, 0);
        let k: Vec<_> = c.kills.iter().map(|k| (k.task, k.ran_ms)).collect();
        assert_eq!(k, [(tasks[0], 1000)], "its whole run is lost");
        // minAvailable 1 of 2: the job comes back while pod 1 still terminates, and only the
        // missing pod is created; pod 1 is recreated once it is gone.
        let mut scratch = Vec::new();
        assert!(c.fire(Timer::JobSync(i), 1600, &mut scratch));
        assert!(c.snap.job(j).live);
        let names = |c: &Cluster| -> Vec<(String, TaskStatus)> {
            c.snap
                .job(j)
                .tasks
                .iter()
                .map(|&t| (c.snap.task(t).name.clone(), c.snap.task(t).status))
                .collect()
        };
        assert_eq!(
            names(&c),
            [
                ("a-main-1".to_string(), TaskStatus::Releasing),
                ("a-main-0".to_string(), TaskStatus::Pending)
            ]
        );
        evict_done_all(&mut c, &timers);
        assert_eq!(
            names(&c),
            [
                ("a-main-0".to_string(), TaskStatus::Pending),
                ("a-main-1".to_string(), TaskStatus::Pending)
            ]
        );
    }
}

#[test]
fn one_wave_of_evictions_restarts_the_job_once() {
    let mut c = restart_cluster(false, 3);
    let i = c.submit(&rtj("a", 4, 4), 0);
    let j = c.jobs[i].job.unwrap();
    run_all(&mut c, j, 0);
    let tasks = c.snap.job(j).tasks.clone();
    evict(&mut c, &tasks[1..3], 2000);
    let st = &c.jobs[i];
    assert_eq!((st.evictions, st.restarts, st.restart_kills), (2, 1, 2));
    let killed: Vec<_> = c.kills.iter().map(|k| k.task).collect();
    assert_eq!(killed, [tasks[0], tasks[3]]);
}
