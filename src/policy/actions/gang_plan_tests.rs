//! Tests of `gang_plan::FailGate`: dry runs it skips leave, once replayed, what the failed
//! runs themselves leave (node task order and versions, the epoch, the job flags, the plugins'
//! answers), with events that cancel and with the 7a5d24ecc double count that does not.

use super::*;
use crate::model::{NodeSpec, PodGroupSpec, PodSpec, QueueSpec};
use crate::policy::conf::{Compat, HELM_DEFAULT_CONF};
use crate::policy::session::FirstTie;
use crate::policy::snapshot::PodGroupPhase;
use crate::policy::{parse_scheduler_conf, Scheduler};

/// Three 8-cpu nodes, each with two Running one-pod jobs of `q1` (3 cpus each, so 2 idle), and
/// two Inqueue jobs of `q0` with one Pending pod: 9 cpus (fits no node whatever is evicted)
/// and 6 cpus (fits a node once both its pods are evicted). Returns the jobs' first tasks
/// and the victims in node order n0, n1, n2, n0, n1, n2; a third job of `q0` asks 100 mcpu
/// (a probe of the node scores).
fn snapshot() -> (Snapshot, [TaskId; 3], Vec<TaskId>) {
    let mut s = Snapshot::new();
    s.add_queue(&QueueSpec::new("q0", 1));
    s.add_queue(&QueueSpec::new("q1", 1));
    let mut alloc = Resources::cpu_mem(8000, 32 << 30);
    alloc.set(crate::model::ResourceName::PODS, 110);
    for i in 0..3 {
        s.add_node(&NodeSpec {
            name: format!("n{i}"),
            allocatable: alloc,
            labels: Default::default(),
            taints: vec![],
            unschedulable: false,
        });
    }
    let job = |s: &mut Snapshot, name: &str, queue: &str, cpu: i64, node: Option<u32>| {
        let pg = PodGroupSpec {
            namespace: "ns".into(),
            name: name.into(),
            queue: queue.into(),
            min_member: 1,
            ..Default::default()
        };
        let phase = if node.is_some() {
            PodGroupPhase::Running
        } else {
            PodGroupPhase::Inqueue
        };
        let j = s.add_job(&pg, phase, 0).unwrap();
        let pod = PodSpec {
            namespace: "ns".into(),
            name: format!("{name}-0"),
            requests: Resources::cpu_mem(cpu, 1 << 30),
            ..Default::default()
        };
        let status = if node.is_some() {
            TaskStatus::Running
        } else {
            TaskStatus::Pending
        };
        s.add_task(j, &pod, status, node.map(NodeId), 0)
    };
    let victims: Vec<TaskId> = (0..6)
        .map(|k| job(&mut s, &format!("v{k}"), "q1", 3000, Some(k % 3)))
        .collect();
    let big = job(&mut s, "big", "q0", 9000, None);
    let mid = job(&mut s, "mid", "q0", 6000, None);
    let tiny = job(&mut s, "tiny", "q0", 100, None);
    (s, [big, mid, tiny], victims)
}

/// What a session leaves that a later decision could read.
fn state(ssn: &Session, probe: TaskId) -> Vec<String> {
    let snap = ssn.snap();
    let mut out = vec![format!("epoch {}", snap.node_epoch)];
    for (i, n) in snap.nodes.iter().enumerate() {
        let score = ssn.tiers.node_score(&ssn.st, probe, NodeId(i as u32));
        out.push(format!(
            "{} {:?} v{} {:?} score {score}",
            n.name,
            n.tasks,
            n.version,
            n.future_idle()
        ));
    }
    for j in 0..snap.jobs.len() as u32 {
        let job = snap.job(JobId(j));
        out.push(format!("{} {} {}", job.name, job.dirty, job.order_dirty));
    }
    out
}

const CAPACITY: &str = "actions: \"enqueue, allocate, gangreclaim\"\ntiers:\n- plugins:\n  - name: priority\n  - name: gang\n  - name: conformance\n- plugins:\n  - name: predicates\n  - name: capacity\n  - name: nodeorder\n";

#[test]
fn skipped_dry_runs_leave_what_failed_ones_leave() {
    let q0 = QueueId(0);
    let domain: Vec<NodeId> = (0..3).map(NodeId).collect();
    for (text, compat) in [
        (HELM_DEFAULT_CONF, false),
        (HELM_DEFAULT_CONF, true),
        (CAPACITY, false),
    ] {
        let mut conf = parse_scheduler_conf(text).unwrap();
        if compat {
            conf.compat = Compat::VOLCANO_7A5D24ECC;
        }
        let lens = [2, 3, 5, 6];
        let (mut real, [big, _, tiny], victims) = snapshot();
        let (mut skipped, ..) = snapshot();
        let j = real.task(big).job;
        let mut sched = Scheduler::new(&conf).unwrap();
        let mut tie = FirstTie;
        let mut ssn = sched.session(&mut real, 0, &mut tie);
        for &l in &lens {
            let plan = build(
                &mut ssn,
                q0,
                j,
                &domain,
                &victims[..l],
                Action::GangReclaim,
                big,
            );
            assert!(plan.is_none(), "{text}: 9 cpus fit after {l} evictions");
        }
        let want = state(&ssn, tiny);
        drop(ssn);
        let mut sched = Scheduler::new(&conf).unwrap();
        let mut tie = FirstTie;
        let mut ssn = sched.session(&mut skipped, 0, &mut tie);
        let mut gate = FailGate::new(&ssn, j, &domain, big).expect("9 cpus fit no node");
        for &l in &lens {
            gate.extend(ssn.snap(), &victims[..l]);
            assert!(gate.must_fail(&ssn), "{text}: after {l} victims");
        }
        ssn.replay_failed_dry_runs(&victims, &lens);
        assert_eq!(state(&ssn, tiny), want, "{text} compat {compat}");
    }
}

/// The gate opens once the victims free a node enough for the task, and stays open; a task
/// that fits a node already gets no gate.
#[test]
fn the_gate_opens_when_a_node_could_take_the_task() {
    let conf = parse_scheduler_conf(HELM_DEFAULT_CONF).unwrap();
    let (mut snap, [_, mid, _], victims) = snapshot();
    let j = snap.task(mid).job;
    let domain: Vec<NodeId> = (0..3).map(NodeId).collect();
    let mut sched = Scheduler::new(&conf).unwrap();
    let mut tie = FirstTie;
    let ssn = sched.session(&mut snap, 0, &mut tie);
    let mut gate = FailGate::new(&ssn, j, &domain, mid).expect("6 cpus fit no node");
    // v0..v2 free 3 cpus on each node (5 idle): still no fit.
    gate.extend(ssn.snap(), &victims[..3]);
    assert!(gate.must_fail(&ssn));
    // v3 frees n0's second pod: 8 cpus.
    gate.extend(ssn.snap(), &victims[..4]);
    assert!(!gate.must_fail(&ssn));
    gate.extend(ssn.snap(), &victims[..6]);
    assert!(!gate.must_fail(&ssn));
    let fits_now = Resources::cpu_mem(1000, 1 << 30);
    assert!(fits_now.fits_in(&ssn.snap().nodes[0].future_idle()));
    let (mut snap2, ..) = snapshot();
    let small = {
        let pg = PodGroupSpec {
            namespace: "ns".into(),
            name: "small".into(),
            queue: "q0".into(),
            min_member: 1,
            ..Default::default()
        };
        let j = snap2.add_job(&pg, PodGroupPhase::Inqueue, 0).unwrap();
        let pod = PodSpec {
            namespace: "ns".into(),
            name: "small-0".into(),
            requests: fits_now,
            ..Default::default()
        };
        snap2.add_task(j, &pod, TaskStatus::Pending, None, 0)
    };
    let mut tie = FirstTie;
    let ssn = sched.session(&mut snap2, 0, &mut tie);
    let j = ssn.snap().task(small).job;
    assert!(FailGate::new(&ssn, j, &domain, small).is_none());
}
