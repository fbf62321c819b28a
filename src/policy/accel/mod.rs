//! The scheduler's cross-cycle speed caches: the equivalence classes of identical nodes with
//! their node scores (`NodeClasses`), the Pending PodGroups of each queue in job order
//! (`PendingOrder`), the per-node victim bins (`VictimBins`) and the jobs in UID order
//! (`JobUids`), the gang eviction victims per node (`NodeCandidates`), plus the allocate
//! scan's reusable buffer and the gang eviction actions' candidates of the current session
//! (`CandidateIndex`).
//! Owned by a `policy::Scheduler`, never by the `Snapshot` (which is data plus its index).
//!
//! Invariant: every cache is an exact shortcut — dropping all of them at any cycle boundary
//! (`Accel::default()`) never changes a decision; each has a test comparing both ways. The
//! caches describe one snapshot lineage: `Accel::attach` keeps them only for the snapshot this
//! scheduler's last cycle ran on, recognised by a stamp written into it (a snapshot cloned or
//! run by another scheduler starts the caches afresh). Depends on policy types only.

pub mod bins;
pub mod candidates;
pub mod classes;
pub mod order;
pub mod scan;
pub mod scores;
pub mod uids;

pub use bins::{QueueBin, VictimBins};
pub use candidates::{CandidateIndex, NodeCandidates};
pub use classes::NodeClasses;
pub use order::PendingOrder;
pub use scores::request_key;
pub use uids::JobUids;

use super::snapshot::{NodeId, Snapshot};

/// Everything a `Scheduler` keeps across cycles only to go faster.
#[derive(Debug, Default)]
pub struct Accel {
    /// Equivalence classes of identical nodes, with their scores by request; the scoring conf
    /// is fixed per scheduler.
    pub classes: NodeClasses,
    /// Pending PodGroups per queue in job order (read by `enqueue`).
    pub pending_order: PendingOrder,
    /// Possible preempt/reclaim victims per node and queue.
    pub victim_bins: VictimBins,
    /// The jobs in UID order (the gang eviction actions' bundle order).
    pub job_uids: JobUids,
    /// The gang eviction actions' victim candidates of the session they were indexed in
    /// (valid only while `CandidateIndex::session` is `Accel::session`).
    pub gang_candidates: Option<CandidateIndex>,
    /// Per node, its possible gang eviction victims as of the node's version.
    pub node_candidates: NodeCandidates,
    /// The allocate scan's feasible-node buffer, reused so a placement allocates nothing.
    pub feasible: Vec<NodeId>,
    /// The stamp written into the snapshot at the last session open (0 = none yet).
    stamp: u64,
    /// Sessions opened so far (makes every stamp of one scheduler distinct).
    sessions: u64,
}

impl Accel {
    /// At session open: keeps the caches only if `snap` carries the stamp of this scheduler's
    /// previous session (so it is the very snapshot they describe, changed since only through
    /// its own bookkeeping), else starts them afresh; then stamps `snap` for the next session.
    /// `salt` distinguishes schedulers alive at the same time; stamps only ever decide between
    /// reusing and dropping caches, never a decision.
    pub fn attach(&mut self, snap: &mut Snapshot, salt: u64) {
        if self.stamp == 0 || snap.accel_stamp != self.stamp {
            self.classes = NodeClasses::default();
            self.pending_order = PendingOrder::default();
            self.victim_bins = VictimBins::default();
            self.job_uids = JobUids::default();
            self.gang_candidates = None;
            self.node_candidates = NodeCandidates::default();
        }
        self.sessions += 1;
        self.stamp = splitmix(salt ^ splitmix(self.sessions)).max(1);
        snap.accel_stamp = self.stamp;
    }

    /// The number of the current session (sessions opened since these caches were created):
    /// distinct for every session whose caches include `gang_candidates`.
    pub fn session(&self) -> u64 {
        self.sessions
    }
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Resources;

    #[test]
    fn caches_survive_only_on_the_stamped_snapshot() {
        let mut a = Accel::default();
        let mut snap = Snapshot::new();
        snap.add_node(&crate::model::NodeSpec {
            name: "n".into(),
            allocatable: Resources::cpu_mem(4000, 1 << 30),
            labels: Default::default(),
            taints: vec![],
            unschedulable: false,
        });
        let req = Resources::cpu_mem(1000, 1 << 20);
        let score = |a: &mut Accel, snap: &mut Snapshot| {
            a.classes.prepare(42);
            a.classes.sync(snap);
            let c = a.classes.class_of(NodeId(0));
            let s = a.classes.begin();
            a.classes.cached_score(c, &req, s)
        };
        a.attach(&mut snap, 7);
        score(&mut a, &mut snap);
        let c = a.classes.class_of(NodeId(0));
        let s = a.classes.begin();
        a.classes.put_score(c, &req, s, 1.5);
        // Same snapshot, next session: kept.
        a.attach(&mut snap, 7);
        assert_eq!(score(&mut a, &mut snap), Some(1.5));
        // A clone runs once (it carries the same stamp, so the caches describe it), then the
        // original comes back: its stamp is stale, caches drop.
        let mut clone = snap.clone();
        a.attach(&mut clone, 7);
        assert_eq!(score(&mut a, &mut clone), Some(1.5));
        a.attach(&mut snap, 7);
        assert_eq!(score(&mut a, &mut snap), None);
    }
}
