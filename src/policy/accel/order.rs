//! The Pending PodGroups of each queue in job order, kept sorted across cycles so `enqueue`
//! never re-sorts a backlog that did not change. A Pending job's order key (drf share 0, gang
//! not ready, priority, sla deadline, creation, UID) only changes when the job itself changes,
//! and every such change is reported through `Index::order_changed`; the cache re-files just
//! those jobs. A change of the plugin set or of the cluster total invalidates everything.
//!
//! Equivalence: job order with its UID tie-break is a strict total order, so popping Volcano's
//! heap yields exactly the sorted sequence this cache holds.
//!
//! Each filed job also carries its minResources (`MinRequest`, fixed when the PodGroup is
//! added), packed next to the order so that enqueue's scan of the backlog reads one contiguous
//! array instead of every pending job's record.

use std::cmp::Ordering;

use crate::model::{ResourceName, Resources};
use crate::policy::session::State;
use crate::policy::slots::IdWindow;
use crate::policy::snapshot::{JobId, QueueId, Snapshot};
use crate::policy::tiers::{JobKey, Tiers};

#[derive(Debug, Clone, Default)]
pub struct PendingOrder {
    /// Identity of what the keys were computed with (plugin names/flags and cluster total).
    fingerprint: Option<u64>,
    /// Per queue: (key, job) ascending.
    per_queue: Vec<Vec<JobKey>>,
    /// Per queue, position by position with `per_queue`: the job's minResources.
    mins: Vec<Vec<MinRequest>>,
    /// Current key of each filed job, by job id (the span of the Pending jobs only).
    filed: IdWindow<JobKey>,
}

impl PendingOrder {
    /// Brings the order up to date and returns the Pending jobs of `q` in job order with their
    /// minResources, or `None` when the conf's job order has no scalar keys (the caller then
    /// sorts with comparators).
    pub fn pending_of(
        &mut self,
        s: &mut State,
        tiers: &Tiers,
        fingerprint: u64,
        q: QueueId,
    ) -> Option<impl Iterator<Item = (JobId, MinRequest)> + '_> {
        self.catch_up(s, tiers, fingerprint)?;
        let keys = self.per_queue.get(q.ix()).map_or(&[][..], |v| &v[..]);
        let mins = self.mins.get(q.ix()).map_or(&[][..], |v| &v[..]);
        Some(keys.iter().map(|k| k.job).zip(mins.iter().copied()))
    }

    fn catch_up(&mut self, s: &mut State, tiers: &Tiers, fingerprint: u64) -> Option<()> {
        if self.fingerprint != Some(fingerprint) {
            // Rebuild from scratch.
            self.fingerprint = None;
            self.per_queue = vec![Vec::new(); s.snap.queues.len()];
            self.mins = vec![Vec::new(); s.snap.queues.len()];
            self.filed = IdWindow::default();
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
            if let Some(old) = self.filed.get(j.ix()) {
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
        if self.mins.len() <= q {
            self.mins.resize(q + 1, Vec::new());
        }
        let v = &mut self.per_queue[q];
        let pos = v.partition_point(|e| tiers.key_cmp(s, e, &k) == Ordering::Less);
        v.insert(pos, k);
        let min = MinRequest::of(s.snap.job(k.job).min_resources.as_ref());
        self.mins[q].insert(pos, min);
        self.filed.set(k.job.ix(), k);
    }

    fn unfile(&mut self, s: &State, tiers: &Tiers, k: &JobKey) {
        let q = s.snap.job(k.job).queue.ix();
        let v = &mut self.per_queue[q];
        let pos = v.partition_point(|e| tiers.key_cmp(s, e, k) == Ordering::Less);
        let at = if pos < v.len() && v[pos].job == k.job {
            Some(pos)
        } else {
            v.iter().position(|e| e.job == k.job)
        };
        if let Some(p) = at {
            v.remove(p);
            self.mins[q].remove(p);
        }
        self.filed.clear(k.job.ix());
    }
}

/// A filed job's minResources: packed when it names no dimension besides cpu, memory and pods
/// (the common case), else looked up in the job's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MinRequest {
    /// The PodGroup has no minResources.
    Unset,
    /// cpu, memory, pods (internal units); `pods_present`: pods is a present dimension.
    Packed { v: [i64; 3], pods_present: bool },
    /// Other dimensions: read `JobInfo::min_resources`.
    InRecord,
}

impl MinRequest {
    /// Packs `r` when it is exactly `Resources::cpu_mem(cpu, mem)`, possibly with pods set.
    pub fn of(r: Option<&Resources>) -> MinRequest {
        let Some(r) = r else {
            return MinRequest::Unset;
        };
        let mask = r.present_mask();
        let raw = r.raw();
        let pods_present = mask & 0b100 != 0;
        let simple = mask & !0b111 == 0 && raw[3..].iter().all(|&x| x == 0);
        let packed = MinRequest::Packed {
            v: [raw[0], raw[1], raw[2]],
            pods_present,
        };
        if simple && packed.unpack() == Some(*r) {
            packed
        } else {
            MinRequest::InRecord
        }
    }

    /// The packed vector, if packed.
    fn unpack(&self) -> Option<Resources> {
        let MinRequest::Packed { v, pods_present } = *self else {
            return None;
        };
        let mut r = Resources::cpu_mem(v[0], v[1]);
        if pods_present {
            r.set(ResourceName::PODS, v[2]);
        }
        Some(r)
    }

    /// Job `j`'s minResources (this being what was filed for it).
    pub fn resolve(&self, snap: &Snapshot, j: JobId) -> Option<Resources> {
        match self {
            MinRequest::Unset => None,
            MinRequest::Packed { .. } => self.unpack(),
            MinRequest::InRecord => snap.job(j).min_resources,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packing gives back the same vector, or defers to the record.
    #[test]
    fn min_request_round_trips() {
        let gpu = ResourceName::intern("nvidia.com/gpu").unwrap();
        let mut with_pods = Resources::cpu_mem(2000, 4 << 30);
        with_pods.set(ResourceName::PODS, 3);
        let mut with_gpu = Resources::cpu_mem(2000, 4 << 30);
        with_gpu.set(gpu, 1);
        let cases = [
            Resources::cpu_mem(1000, 1 << 30),
            Resources::cpu_mem(0, 0),
            Resources::empty(),
            Resources::default(),
            with_pods,
            with_gpu,
        ];
        let mut packed = 0;
        for r in cases {
            let m = MinRequest::of(Some(&r));
            match m.unpack() {
                Some(u) => {
                    assert_eq!(u, r);
                    packed += 1;
                }
                None => assert_eq!(m, MinRequest::InRecord, "{r:?}"),
            }
        }
        assert_eq!(packed, 4);
        assert_eq!(MinRequest::of(Some(&with_gpu)), MinRequest::InRecord);
        assert_eq!(MinRequest::of(None), MinRequest::Unset);
    }
}
