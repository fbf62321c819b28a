//! Why a job waits: the `WaitReason` vocabulary and the read-only helpers the actions call to
//! name the reason the scheduler gave a pending job in one cycle. The actions note a reason
//! through the one hook `Session::note_wait`; the notes travel out in
//! `CycleOutput::wait_reasons` for recorders (the simulator's outcome recorder accumulates the
//! wait time by reason).
//!
//! Contract: nothing here changes the session (plugins are only asked, never told), so noting
//! reasons cannot change a decision; the decision-log hashes are the same with or without it.
//! No I/O, no clock, no global state. Depends on policy types and `model` only.
//!
//! Mirrors the reasons Volcano writes into PodGroup conditions and events
//! (pkg/scheduler/api/unschedule_info.go, actions/enqueue, actions/allocate, the
//! proportion/capacity/overcommit `JobEnqueueable` and `Allocatable`/`Overused` functions).

use super::conf::{Action, Flag, PluginKind};
use super::plugin::Vote;
use super::session::Session;
use super::snapshot::{JobId, NodeId, QueueId, TaskId};
use crate::model::resources::MAX_DIMS;
use crate::model::{ResourceName, Resources};

/// Why a submitted job is not (yet) running as a gang, as of one scheduling cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WaitReason {
    /// Submitted after the latest cycle: no cycle has looked at it yet.
    AwaitingCycle,
    /// `enqueue`: the `JobEnqueueable` vote rejected it; the plugin that voted reject
    /// (proportion, capacity, overcommit, sla).
    EnqueueRejected(PluginKind),
    /// Enqueued, but the job controller has not created its pods yet (vcjob mode).
    AwaitingPods,
    /// `allocate` skipped its queue: `Overused` (allocated ≥ deserved) by this plugin.
    QueueOverused(PluginKind),
    /// `allocate`: `Allocatable` refused a task (the queue would exceed its capability / real
    /// capability) by this plugin.
    AtCapability(PluginKind),
    /// `allocate`: no node passes the predicates for a task. `Some(dim)`: the resource most
    /// nodes lack (`ResourceName`); `None`: resources fit somewhere, other predicates
    /// (selectors, taints, pod count) refused.
    NoNodeFits(Option<u8>),
    /// `allocate`: fewer than minMember tasks could be placed (`placed` of `min`), so the
    /// job's statement was discarded (gang).
    GangNotReady { placed: u32, min: u32 },
    /// Pipelined onto resources still being released: waits for them.
    Pipelined,
    /// Victims are being evicted on its behalf by `preempt` or `reclaim`.
    Evicting(Action),
    /// Allocated: bind requests sent, pods starting.
    Binding,
    /// Eligible, but the cycle did not get to it (lower in queue or job order).
    NotReached,
    /// Its queue does not exist: Volcano never schedules it.
    UnknownQueue,
    /// `allocate` (topology path): no HyperNode at or below the job's highest allowed tier
    /// can hold its gang now, though the job's network topology is what confines it.
    NoDomain { highest_tier: u32 },
}

impl WaitReason {
    /// A stable key for tables and files (`enqueue-rejected:overcommit`, `no-node-fits:cpu`,
    /// `gang-not-ready`, …). Gang counts are left out so that reasons aggregate.
    pub fn key(&self) -> String {
        match *self {
            WaitReason::AwaitingCycle => "awaiting-cycle".into(),
            WaitReason::EnqueueRejected(p) => format!("enqueue-rejected:{}", p.as_str()),
            WaitReason::AwaitingPods => "awaiting-pods".into(),
            WaitReason::QueueOverused(p) => format!("queue-overused:{}", p.as_str()),
            WaitReason::AtCapability(p) => format!("queue-at-capability:{}", p.as_str()),
            WaitReason::NoNodeFits(Some(d)) => {
                format!("no-node-fits:{}", ResourceName(d).name())
            }
            WaitReason::NoNodeFits(None) => "no-node-fits:predicates".into(),
            WaitReason::GangNotReady { .. } => "gang-not-ready".into(),
            WaitReason::Pipelined => "pipelined".into(),
            WaitReason::Evicting(a) => format!("evicting-victims:{}", a.as_str()),
            WaitReason::Binding => "binding".into(),
            WaitReason::NotReached => "not-reached".into(),
            WaitReason::UnknownQueue => "unknown-queue".into(),
            WaitReason::NoDomain { .. } => "no-domain".into(),
        }
    }

    /// The reason as a sentence fragment for people (`overcommit rejected enqueue`).
    pub fn describe(&self) -> String {
        match *self {
            WaitReason::AwaitingCycle => "waiting for the next scheduling cycle".into(),
            WaitReason::EnqueueRejected(p) => format!("{} rejected enqueue", p.as_str()),
            WaitReason::AwaitingPods => "enqueued, pods not created yet".into(),
            WaitReason::QueueOverused(p) => format!("queue overused ({})", p.as_str()),
            WaitReason::AtCapability(p) => format!("queue at capability ({})", p.as_str()),
            WaitReason::NoNodeFits(Some(d)) => {
                format!("no node fits ({})", ResourceName(d).name())
            }
            WaitReason::NoNodeFits(None) => "no node passes the predicates".into(),
            WaitReason::GangNotReady { placed, min } => {
                format!("gang not ready ({placed} of minMember {min} placed)")
            }
            WaitReason::Pipelined => "pipelined, waiting for released resources".into(),
            WaitReason::Evicting(a) => format!("waiting for {} victims to leave", a.as_str()),
            WaitReason::Binding => "binding, pods starting".into(),
            WaitReason::NotReached => "not reached in the cycle".into(),
            WaitReason::UnknownQueue => "queue does not exist".into(),
            WaitReason::NoDomain { highest_tier } => {
                format!("no HyperNode of tier ≤ {highest_tier} can hold the gang now")
            }
        }
    }
}

/// The reason `enqueue` gives a job whose `JobEnqueueable` vote failed: the first plugin (in
/// tier order) that votes reject.
pub fn enqueue_rejected(ssn: &Session, j: JobId) -> WaitReason {
    for slot in ssn.tiers.tiers.iter().flatten() {
        if slot.flags.has(Flag::JobEnqueued)
            && slot.plugin.job_enqueueable(&ssn.st, j) == Some(Vote::Reject)
        {
            return WaitReason::EnqueueRejected(slot.plugin.kind());
        }
    }
    WaitReason::NotReached
}

/// The plugin that finds queue `q` overused (`Overused` votes true).
pub fn overused(ssn: &Session, q: QueueId) -> WaitReason {
    let kind = ssn
        .tiers
        .tiers
        .iter()
        .flatten()
        .find(|s| s.flags.has(Flag::Overused) && s.plugin.overused(&ssn.st, q) == Some(true))
        .map_or(PluginKind::Proportion, |s| s.plugin.kind());
    WaitReason::QueueOverused(kind)
}

/// The plugin whose `Allocatable` refuses task `t` in queue `q`.
pub fn not_allocatable(ssn: &Session, q: QueueId, t: TaskId) -> WaitReason {
    let kind = ssn
        .tiers
        .tiers
        .iter()
        .flatten()
        .find(|s| {
            s.flags.has(Flag::Allocatable) && s.plugin.allocatable(&ssn.st, q, t) == Some(false)
        })
        .map_or(PluginKind::Capacity, |s| s.plugin.kind());
    WaitReason::AtCapability(kind)
}

/// Why no node fits task `t`: the resource dimension of its request that the most nodes lack
/// in `FutureIdle` (lowest dimension on ties), or `None` when some node has room for the whole
/// request (then another predicate refused).
pub fn no_fit(ssn: &Session, t: TaskId) -> WaitReason {
    let snap = ssn.snap();
    let req = snap.task(t).resreq;
    shortfall(snap.nodes.iter().map(|n| lacking(&req, &n.future)))
}

/// [`no_fit`] through the node classes (shortcuts on): nodes of one class have one
/// FutureIdle, so each class's shortfall is worked out once, at its first node, and counted
/// for every node of it. The same answer; the walk reads the dense class column. Catches the
/// classes up first, as every reader of them does (a cache: no decision changes).
fn no_fit_by_class(ssn: &mut Session, t: TaskId) -> WaitReason {
    let req = ssn.snap().task(t).resreq;
    ssn.accel.classes.sync(ssn.st.snap);
    let (snap, classes) = (&*ssn.st.snap, &ssn.accel.classes);
    // Per class id: its shortfall mask, `UNSEEN` until its first node.
    const UNSEEN: u16 = u16::MAX;
    let mut by_class: Vec<u16> = Vec::new();
    shortfall(snap.nodes.iter().enumerate().map(|(k, n)| {
        let c = classes.class_of(NodeId(k as u32)) as usize;
        if c >= by_class.len() {
            by_class.resize(c + 1, UNSEEN);
        }
        if by_class[c] == UNSEEN {
            by_class[c] = lacking(&req, &n.future);
        }
        by_class[c]
    }))
}

/// The reason from every node's shortfall mask, in node order: `None` at the first node with
/// room for the whole request, else the dimension the most nodes lack (lowest on ties).
fn shortfall(lacks: impl Iterator<Item = u16>) -> WaitReason {
    let mut short = [0u32; MAX_DIMS];
    for mut lack in lacks {
        if lack == 0 {
            return WaitReason::NoNodeFits(None);
        }
        while lack != 0 {
            short[lack.trailing_zeros() as usize] += 1;
            lack &= lack - 1;
        }
    }
    let mut best: Option<(u32, u8)> = None;
    for (d, &c) in short.iter().enumerate() {
        if c > 0 && best.is_none_or(|(b, _)| c > b) {
            best = Some((c, d as u8));
        }
    }
    WaitReason::NoNodeFits(best.map(|(_, d)| d))
}

/// The dimensions (bit `d`) of `req`, pods aside, that `future` cannot hold.
fn lacking(req: &Resources, future: &Resources) -> u16 {
    let mut lack = 0u16;
    for d in req.dims().filter(|d| d.0 != ResourceName::PODS.0) {
        if req.get(d) > future.get(d) {
            lack |= 1 << d.0;
        }
    }
    lack
}

/// Most distinct requests `no_fit_memo` keeps at one node epoch.
const NO_FIT_MEMO: usize = 32;

/// [`no_fit`], remembered per request at the current node epoch (`Session::no_fit_why`; with
/// the shortcuts on): the same answer, computed once while no node changes. A rewound epoch
/// drops the answers taken after it (`Session::discard_rewinding`).
pub fn no_fit_memo(ssn: &mut Session, t: TaskId) -> WaitReason {
    if !ssn.shortcuts {
        return no_fit(ssn, t);
    }
    let (req, epoch) = (ssn.snap().task(t).resreq, ssn.snap().node_epoch);
    ssn.no_fit_why.retain(|e| e.1 == epoch);
    if let Some(e) = ssn.no_fit_why.iter().find(|e| e.0 == req) {
        return e.2;
    }
    let why = no_fit_by_class(ssn, t);
    if ssn.no_fit_why.len() < NO_FIT_MEMO {
        ssn.no_fit_why.push((req, epoch, why));
    }
    why
}

/// Gang not ready: how many of the job's tasks hold a place this session (ready or pipelined)
/// against its minMember.
pub fn gang_not_ready(ssn: &Session, j: JobId) -> WaitReason {
    let job = ssn.snap().job(j);
    WaitReason::GangNotReady {
        placed: job.ready_num() + job.waiting_num(),
        min: job.min_available,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_aggregate_gang_counts_and_name_plugins_and_resources() {
        let a = WaitReason::GangNotReady { placed: 1, min: 4 };
        let b = WaitReason::GangNotReady { placed: 3, min: 4 };
        assert_eq!(a.key(), b.key());
        assert_eq!(a.describe(), "gang not ready (1 of minMember 4 placed)");
        assert_eq!(
            WaitReason::EnqueueRejected(PluginKind::Overcommit).key(),
            "enqueue-rejected:overcommit"
        );
        assert_eq!(
            WaitReason::NoNodeFits(Some(ResourceName::CPU.0)).key(),
            "no-node-fits:cpu"
        );
        assert_eq!(
            WaitReason::Evicting(Action::Reclaim).describe(),
            "waiting for reclaim victims to leave"
        );
    }

    /// The memo answers as `no_fit` does: within an epoch, after nodes change, and after a
    /// rewound epoch is reached again by a different change (the answers taken after the
    /// rewound epoch are dropped, not reused).
    #[test]
    fn remembered_no_fit_answers_as_no_fit() {
        use crate::model::{NodeSpec, PodGroupSpec, PodSpec, QueueSpec, Resources};
        use crate::policy::session::{FirstTie, Statement};
        use crate::policy::snapshot::{NodeId, PodGroupPhase, Snapshot, TaskStatus};
        use crate::policy::{parse_scheduler_conf, Scheduler};
        let mut s = Snapshot::new();
        s.add_queue(&QueueSpec::new("q", 1));
        for (i, mem) in [(0, 8i64), (1, 1)] {
            let mut a = Resources::cpu_mem(4000, mem << 30);
            a.set(ResourceName::PODS, 110);
            s.add_node(&NodeSpec {
                name: format!("n{i}"),
                allocatable: a,
                labels: Default::default(),
                taints: vec![],
                unschedulable: false,
            });
        }
        let mut task = |name: &str, cpu: i64, mem: i64| {
            let pg = PodGroupSpec {
                namespace: "ns".into(),
                name: name.into(),
                queue: "q".into(),
                min_member: 1,
                ..Default::default()
            };
            let j = s.add_job(&pg, PodGroupPhase::Inqueue, 0).unwrap();
            let pod = PodSpec {
                namespace: "ns".into(),
                name: format!("{name}-0"),
                requests: Resources::cpu_mem(cpu, mem << 30),
                ..Default::default()
            };
            s.add_task(j, &pod, TaskStatus::Pending, None, 0)
        };
        // A probe of 3 cpus / 2 GiB, and tasks that fill n0's cpu or n1's memory.
        let probe = task("probe", 3000, 2);
        let cpu_hog = task("cpu", 2000, 1);
        let mem_hog = task("mem", 100, 1);
        let conf = parse_scheduler_conf(crate::policy::conf::HELM_DEFAULT_CONF).unwrap();
        let mut sched = Scheduler::new(&conf).unwrap();
        let mut tie = FirstTie;
        let mut ssn = sched.session(&mut s, 0, &mut tie);
        let check = |ssn: &mut Session| {
            let want = no_fit(ssn, probe);
            assert_eq!(no_fit_memo(ssn, probe), want);
            assert_eq!(no_fit_memo(ssn, probe), want);
            want
        };
        assert_eq!(check(&mut ssn), WaitReason::NoNodeFits(None));
        // n0 keeps 2 cpus: the probe fits nowhere for lack of cpu... and of memory on n1.
        let mut stmt = Statement::new();
        ssn.allocate(&mut stmt, cpu_hog, NodeId(0));
        let short = check(&mut ssn);
        assert!(
            matches!(short, WaitReason::NoNodeFits(Some(_))),
            "{short:?}"
        );
        let after = ssn.snap().node_epoch;
        ssn.discard_rewinding(stmt);
        // The same epoch again (no answer asked in between), reached by a change to the other
        // node: n0 has room again.
        let mut stmt = Statement::new();
        ssn.allocate(&mut stmt, mem_hog, NodeId(1));
        assert_eq!(
            ssn.snap().node_epoch,
            after,
            "the epoch was rewound and reached again"
        );
        assert_eq!(check(&mut ssn), WaitReason::NoNodeFits(None));
        ssn.discard_rewinding(stmt);
    }
}
