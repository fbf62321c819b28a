//! `Session::discard_rewinding`: the node epoch goes back only when the statement's own
//! placements were the only node changes, and the no-fit memos taken since are dropped.

use crate::model::{NodeSpec, PodGroupSpec, PodSpec, QueueSpec, ResourceName, Resources};
use crate::policy::session::{FirstTie, Statement};
use crate::policy::snapshot::{NodeId, PodGroupPhase, Snapshot, TaskId, TaskStatus};
use crate::policy::{Action, Scheduler, SchedulerConf};

/// Two 4-cpu nodes, one Inqueue job with three Pending 1-cpu tasks.
fn snapshot() -> (Snapshot, Vec<TaskId>) {
    let mut snap = Snapshot::new();
    for name in ["n0", "n1"] {
        let mut a = Resources::cpu_mem(4000, 8 << 30);
        a.set(ResourceName::PODS, 110);
        snap.add_node(&NodeSpec {
            name: name.into(),
            allocatable: a,
            labels: Default::default(),
            taints: vec![],
            unschedulable: false,
        });
    }
    snap.add_queue(&QueueSpec::new("q", 1));
    let pg = PodGroupSpec {
        namespace: "ns".into(),
        name: "j".into(),
        queue: "q".into(),
        min_member: 3,
        ..Default::default()
    };
    let j = snap.add_job(&pg, PodGroupPhase::Inqueue, 0).unwrap();
    let tasks = (0..3)
        .map(|i| {
            let pod = PodSpec {
                namespace: "ns".into(),
                name: format!("j-main-{i}"),
                requests: Resources::cpu_mem(1000, 1 << 30),
                ..Default::default()
            };
            snap.add_task(j, &pod, TaskStatus::Pending, None, 0)
        })
        .collect();
    (snap, tasks)
}

#[test]
fn a_discarded_placement_only_statement_rewinds_the_node_epoch() {
    let (mut snap, t) = snapshot();
    let mut sched = Scheduler::new(&SchedulerConf::helm_default()).unwrap();
    let mut rng = FirstTie;
    let mut ssn = sched.session(&mut snap, 0, &mut rng);
    let start = ssn.snap().node_epoch;
    let mut stmt = Statement::new();
    ssn.allocate(&mut stmt, t[0], NodeId(0));
    ssn.pipeline(&mut stmt, t[1], NodeId(1), false);
    // A memo taken before the statement, and one taken in its middle.
    ssn.no_fit.push((1, start));
    ssn.no_fit.push((2, start + 1));
    ssn.discard_rewinding(stmt);
    assert_eq!(ssn.snap().node_epoch, start);
    assert_eq!(ssn.no_fit, vec![(1, start)]);
    for n in &ssn.snap().nodes {
        assert_eq!(n.used.cpu(), 0);
        assert_eq!(n.pipelined.cpu(), 0);
        assert!(n.tasks.is_empty());
    }
}

#[test]
fn interleaved_changes_and_evictions_keep_the_epoch_moving() {
    let (mut snap, t) = snapshot();
    let mut sched = Scheduler::new(&SchedulerConf::helm_default()).unwrap();
    let mut rng = FirstTie;
    let mut ssn = sched.session(&mut snap, 0, &mut rng);
    // Another statement placed a task between this one's placement and its discard.
    let start = ssn.snap().node_epoch;
    let mut a = Statement::new();
    ssn.allocate(&mut a, t[0], NodeId(0));
    let mut b = Statement::new();
    ssn.allocate(&mut b, t[1], NodeId(1));
    ssn.discard_rewinding(a);
    assert!(ssn.snap().node_epoch > start);
    ssn.discard_rewinding(b);
    assert!(ssn.snap().node_epoch > start);
    // A statement with an eviction is not rewound either.
    let mut c = Statement::new();
    ssn.allocate(&mut c, t[0], NodeId(0));
    ssn.dispatch(t[0]);
    let before = ssn.snap().node_epoch;
    let mut d = Statement::new();
    ssn.evict(&mut d, t[0], Action::Preempt, t[1]);
    ssn.discard_rewinding(d);
    assert!(ssn.snap().node_epoch > before);
    assert_eq!(ssn.snap().task(t[0]).status, TaskStatus::Binding);
}
