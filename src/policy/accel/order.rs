//! The Pending PodGroups of each queue in job order, kept sorted across cycles so `enqueue`
//! never re-sorts a backlog that did not change. A Pending job's order key (drf share 0, gang
//! not ready, priority, sla deadline, creation, UID) only changes when the job itself changes,
//! and every such change is reported through `Index::order_changed`; the cache re-files just
//! those jobs. A change of the plugin set or of the cluster total invalidates everything.
//!
//! Equivalence: job order with its UID tie-break is a strict total order, so popping Volcano's
//! heap yields exactly the sorted sequence this cache holds.

use std::cmp::Ordering;

use crate::policy::session::State;
use crate::policy::snapshot::{JobId, QueueId};
use crate::policy::tiers::{JobKey, Tiers};

#[derive(Debug, Clone, Default)]
pub struct PendingOrder {
    /// Identity of what the keys were computed with (plugin names/flags and cluster total).
    fingerprint: Option<u64>,
    /// Per queue: (key, job) ascending.
    per_queue: Vec<Vec<JobKey>>,
    /// Current key of each filed job, by job id.
    filed: Vec<Option<JobKey>>,
}

impl PendingOrder {
    /// Brings the order up to date and returns the Pending jobs of `q` in job order, or `None`
    /// when the conf's job order has no scalar keys (the caller then sorts with comparators).
    pub fn jobs_of(
        &mut self,
        s: &mut State,
        tiers: &Tiers,
        fingerprint: u64,
        q: QueueId,
    ) -> Option<Vec<JobId>> {
        self.catch_up(s, tiers, fingerprint)?;
        Some(
            self.per_queue
                .get(q.ix())
                .map(|v| v.iter().map(|k| k.job).collect())
                .unwrap_or_default(),
        )
    }

    fn catch_up(&mut self, s: &mut State, tiers: &Tiers, fingerprint: u64) -> Option<()> {
        if self.fingerprint != Some(fingerprint) {
            // Rebuild from scratch.
            self.fingerprint = None;
            self.per_queue = vec![Vec::new(); s.snap.queues.len()];
            self.filed = Vec::new();
            let changed = std::mem::take(&mut s.snap.idx.order_changed);
            for j in changed {
                s.snap.jobs[j.ix()].order_dirty = false;
            }
            let pending: Vec<JobId> = s.snap.idx.pending_phase.iter().copied().collect();
            for j in pending {
                let k = tiers.job_key(s, j)?;
                self.file(s, tiers, k);
            }
            self.fingerprint = Some(fingerprint);
            return Some(());
        }
        let changed = std::mem::take(&mut s.snap.idx.order_changed);
        for &j in &changed {
            s.snap.jobs[j.ix()].order_dirty = false;
        }
        for j in changed {
            if let Some(old) = self.filed.get(j.ix()).copied().flatten() {
                self.unfile(s, tiers, &old);
            }
            let job = s.snap.job(j);
            if job.live && job.is_pending() {
                let Some(k) = tiers.job_key(s, j) else {
                    self.fingerprint = None;
                    return None;
                };
                self.file(s, tiers, k);
            }
        }
        Some(())
    }

    fn file(&mut self, s: &State, tiers: &Tiers, k: JobKey) {
        let q = s.snap.job(k.job).queue.ix();
        if self.per_queue.len() <= q {
            self.per_queue.resize(q + 1, Vec::new());
        }
        let v = &mut self.per_queue[q];
        let pos = v.partition_point(|e| tiers.key_cmp(s, e, &k) == Ordering::Less);
        v.insert(pos, k);
        if self.filed.len() <= k.job.ix() {
            self.filed.resize(k.job.ix() + 1, None);
        }
        self.filed[k.job.ix()] = Some(k);
    }

    fn unfile(&mut self, s: &State, tiers: &Tiers, k: &JobKey) {
        let q = s.snap.job(k.job).queue.ix();
        let v = &mut self.per_queue[q];
        let pos = v.partition_point(|e| tiers.key_cmp(s, e, k) == Ordering::Less);
        if pos < v.len() && v[pos].job == k.job {
            v.remove(pos);
        } else if let Some(p) = v.iter().position(|e| e.job == k.job) {
            v.remove(p);
        }
        self.filed[k.job.ix()] = None;
    }
}
