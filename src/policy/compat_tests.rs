//! Unit tests of the compatibility profile (`conf::Compat`): for each implemented DRIFT.md
//! item a snapshot where the item changes what the Helm default conf decides, run once with
//! v1.15 (every switch off) and once with the item on.

use crate::model::{NodeSpec, PodGroupSpec, PodSpec, QueueSpec, Resources};
use crate::policy::conf::{Compat, SchedulerConf};
use crate::policy::session::{Decision, FirstTie};
use crate::policy::snapshot::{NodeId, PodGroupPhase, Snapshot, TaskStatus};
use crate::policy::Scheduler;

const GI: i64 = 1 << 30;

fn node(name: &str, cpu: i64, mem: i64, pods: i64) -> NodeSpec {
    let mut allocatable = Resources::cpu_mem(cpu, mem);
    allocatable.set(crate::model::ResourceName::PODS, pods);
    NodeSpec {
        name: name.into(),
        allocatable,
        labels: Default::default(),
        taints: vec![],
        unschedulable: false,
    }
}

/// A job of `pods` × (`cpu` milli, `mem`) in `queue`: Running on `on` when given, else an
/// Inqueue gang of all its pods.
fn job(
    snap: &mut Snapshot,
    name: &str,
    queue: &str,
    pods: u32,
    cpu: i64,
    mem: i64,
    on: Option<NodeId>,
) {
    let pg = PodGroupSpec {
        namespace: "ns".into(),
        name: name.into(),
        queue: queue.into(),
        min_member: pods,
        ..Default::default()
    };
    let phase = if on.is_some() {
        PodGroupPhase::Running
    } else {
        PodGroupPhase::Inqueue
    };
    let j = snap.add_job(&pg, phase, 0).unwrap();
    for i in 0..pods {
        let pod = PodSpec {
            namespace: "ns".into(),
            name: format!("{name}-{i}"),
            requests: Resources::cpu_mem(cpu, mem),
            ..Default::default()
        };
        let status = if on.is_some() {
            TaskStatus::Running
        } else {
            TaskStatus::Pending
        };
        snap.add_task(j, &pod, status, on, 0);
    }
}

/// The (pod name, node name) of every bind of one Helm-default cycle on `snap`.
fn binds(snap: &Snapshot, compat: Compat) -> Vec<(String, String)> {
    let mut conf = SchedulerConf::helm_default();
    conf.compat = compat;
    let mut sched = Scheduler::new(&conf).unwrap();
    let mut snap = snap.clone();
    let out = sched.cycle(&mut snap, 0, &mut FirstTie);
    out.decisions
        .iter()
        .filter_map(|d| match *d {
            Decision::Bind { task, node } => Some((
                snap.task(task).name.clone(),
                snap.nodes[node.ix()].name.clone(),
            )),
            _ => None,
        })
        .collect()
}

fn only(f: impl FnOnce(&mut Compat)) -> Compat {
    let mut c = Compat::V1_15;
    f(&mut c);
    c
}

/// DRIFT F: two empty 8-cpu nodes, a gang of two 1-cpu/4Gi pods. v1.15 scores the first pod's
/// node higher for the second (binpack and balanced allocation outweigh least requested);
/// with the pod counted twice by nodeorder, least requested and balanced allocation push the
/// second pod to the other node.
#[test]
fn nodeorder_double_count_spreads_a_gang_v1_15_packs() {
    let mut snap = Snapshot::new();
    snap.add_node(&node("n0", 8000, 32 * GI, 110));
    snap.add_node(&node("n1", 8000, 32 * GI, 110));
    snap.add_queue(&QueueSpec::new("q", 1));
    job(&mut snap, "g", "q", 2, 1000, 4 * GI, None);
    let v115 = binds(&snap, Compat::V1_15);
    assert_eq!(v115.len(), 2, "{v115:?}");
    assert_eq!(v115[0].1, v115[1].1, "v1.15 packs the gang: {v115:?}");
    let f = binds(&snap, only(|c| c.nodeorder_double_count = true));
    assert_eq!(f.len(), 2, "{f:?}");
    assert_ne!(f[0].1, f[1].1, "7a5d24ecc spreads it: {f:?}");
}

/// DRIFT A: a 16-cpu node with 2 cpu free (queue `c` runs 13, `b` runs 1). Queue `a` (share
/// 0) has two 1-cpu jobs, `b` (share 1/3) two. v1.15 pushes `a` back after its first job (share
/// now 1/2, above `b`'s): `b` goes next and takes the last cpu. With the push before the
/// allocation, `a` sits at the heap's root with its old share and is popped again: both cpus
/// go to `a`.
#[test]
fn queue_pushed_early_lets_a_queue_allocate_twice_in_a_row() {
    let mut snap = Snapshot::new();
    let n = snap.add_node(&node("n0", 16000, 64 * GI, 110));
    snap.add_queue(&QueueSpec::new("a", 1));
    snap.add_queue(&QueueSpec::new("b", 1));
    snap.add_queue(&QueueSpec::new("c", 1));
    job(&mut snap, "c-run", "c", 1, 13000, 13 * GI, Some(n));
    job(&mut snap, "b-run", "b", 1, 1000, GI, Some(n));
    job(&mut snap, "a1", "a", 1, 1000, GI, None);
    job(&mut snap, "a2", "a", 1, 1000, GI, None);
    job(&mut snap, "b1", "b", 1, 1000, GI, None);
    job(&mut snap, "b2", "b", 1, 1000, GI, None);
    let names = |b: Vec<(String, String)>| b.into_iter().map(|x| x.0).collect::<Vec<_>>();
    let v115 = names(binds(&snap, Compat::V1_15));
    assert_eq!(v115, ["a1-0", "b1-0"], "v1.15 alternates the queues");
    let a = names(binds(&snap, only(|c| c.queue_pushed_early = true)));
    assert_eq!(a, ["a1-0", "a2-0"], "7a5d24ecc serves the stale root twice");
}

/// DRIFT D: one free pod slot. Queue `a` runs four 1-cpu pods and waits for one 6-cpu pod
/// (cpu share 4/10, pods share 4/4 of its water-filled pods); `b` runs three 1-cpu pods and
/// waits for two (cpu and pods share 3/5 and 3/4). v1.15's share counts pods, so `b` (0.75)
/// goes before `a` (1.0) and takes the slot; without the pods dimension `a` (0.4) goes first.
#[test]
fn no_pods_dimension_changes_the_queue_order() {
    let mut snap = Snapshot::new();
    let n = snap.add_node(&node("n0", 32000, 128 * GI, 8));
    snap.add_queue(&QueueSpec::new("a", 1));
    snap.add_queue(&QueueSpec::new("b", 1));
    job(&mut snap, "a-run", "a", 4, 1000, GI, Some(n));
    job(&mut snap, "b-run", "b", 3, 1000, GI, Some(n));
    job(&mut snap, "a1", "a", 1, 6000, 6 * GI, None);
    job(&mut snap, "b1", "b", 1, 1000, GI, None);
    job(&mut snap, "b2", "b", 1, 1000, GI, None);
    let names = |b: Vec<(String, String)>| b.into_iter().map(|x| x.0).collect::<Vec<_>>();
    let v115 = names(binds(&snap, Compat::V1_15));
    assert_eq!(v115, ["b1-0"], "v1.15: the pods share puts b first");
    let d = names(binds(&snap, only(|c| c.no_pods_dimension = true)));
    assert_eq!(d, ["a1-0"], "7a5d24ecc: a's cpu share is the lower");
}

/// DRIFT G: a one-pod job bound this cycle. v1.15 leaves its PodGroup Inqueue until the pod is
/// Bound or Running; 7a5d24ecc counts the Binding pod and writes Running at this close.
#[test]
fn phase_counts_allocated_turns_a_bound_gang_running_at_close() {
    let mut snap = Snapshot::new();
    snap.add_node(&node("n0", 8000, 32 * GI, 110));
    snap.add_queue(&QueueSpec::new("q", 1));
    job(&mut snap, "g", "q", 1, 1000, GI, None);
    let phases = |compat: Compat| {
        let mut conf = SchedulerConf::helm_default();
        conf.compat = compat;
        let mut sched = Scheduler::new(&conf).unwrap();
        let mut snap = snap.clone();
        let out = sched.cycle(&mut snap, 0, &mut FirstTie);
        assert!(out
            .decisions
            .iter()
            .any(|d| matches!(d, Decision::Bind { .. })));
        out.decisions
            .iter()
            .filter_map(|d| match *d {
                Decision::Phase { phase, .. } => Some(phase),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(phases(Compat::V1_15), []);
    assert_eq!(
        phases(only(|c| c.phase_counts_allocated = true)),
        [PodGroupPhase::Running]
    );
}
