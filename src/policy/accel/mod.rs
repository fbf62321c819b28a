//! The scheduler's cross-cycle speed caches: node scores (`ScoreCache`), the Pending PodGroups
//! of each queue in job order (`PendingOrder`) and the per-node victim bins (`VictimBins`).
//! Owned by a `policy::Scheduler`, never by the `Snapshot` (which is data plus its index).
//!
//! Invariant: every cache is an exact shortcut — dropping all of them at any cycle boundary
//! (`Accel::default()`) never changes a decision; each has a test comparing both ways. The
//! caches describe one snapshot lineage: `Accel::attach` keeps them only for the snapshot this
//! scheduler's last cycle ran on, recognised by a stamp written into it (a snapshot cloned or
//! run by another scheduler starts the caches afresh). Depends on policy types only.

pub mod bins;
pub mod order;
pub mod scores;

pub use bins::{QueueBin, VictimBins};
pub use order::PendingOrder;
pub use scores::{request_key, ScoreCache};

use super::snapshot::Snapshot;

/// Everything a `Scheduler` keeps across cycles only to go faster.
#[derive(Debug, Default)]
pub struct Accel {
    /// Node scores by (node version, request); the scoring conf is fixed per scheduler.
    pub scores: ScoreCache,
    /// Pending PodGroups per queue in job order (read by `enqueue`).
    pub pending_order: PendingOrder,
    /// Possible preempt/reclaim victims per node and queue.
    pub victim_bins: VictimBins,
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
            self.scores = ScoreCache::default();
            self.pending_order = PendingOrder::default();
            self.victim_bins = VictimBins::default();
        }
        self.sessions += 1;
        self.stamp = splitmix(salt ^ splitmix(self.sessions)).max(1);
        snap.accel_stamp = self.stamp;
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

    #[test]
    fn caches_survive_only_on_the_stamped_snapshot() {
        let mut a = Accel::default();
        let mut snap = Snapshot::new();
        a.attach(&mut snap, 7);
        a.scores.prepare(42, 3);
        a.scores.put(0, 1, 9, 1.5);
        // Same snapshot, next session: kept.
        a.attach(&mut snap, 7);
        assert_eq!(a.scores.get(0, 1, 9), Some(1.5));
        // A clone runs once, then the original comes back: its stamp is stale, caches drop.
        let mut clone = snap.clone();
        a.attach(&mut clone, 7);
        a.scores.prepare(42, 3);
        a.scores.put(0, 1, 9, 2.5);
        a.attach(&mut snap, 7);
        a.scores.prepare(42, 3);
        assert_eq!(a.scores.get(0, 1, 9), None);
    }
}
