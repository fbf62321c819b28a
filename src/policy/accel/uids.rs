//! The PodGroups in UID order, kept across cycles (`JobUids`): the gang eviction actions order
//! victim bundles by job UID, and comparing ranks instead of strings keeps that sort cheap.
//!
//! Exact: a job's UID never changes and jobs are only ever appended to a snapshot, so the
//! order of the jobs already ranked stays valid; new jobs are inserted at `sync`, and jobs
//! whose records were released once finished leave the order there (their ranks are stale
//! and never read: a released job is in no session). Jobs sharing
//! a UID (possible in hand-built snapshots) are flagged, and callers compare those by string.
//! Depends on policy types only.

use crate::policy::snapshot::{JobId, Snapshot};

/// Every job of one snapshot lineage in (UID, id) order.
#[derive(Debug, Default)]
pub struct JobUids {
    /// Job ids sorted by (UID, id).
    sorted: Vec<JobId>,
    /// Per job id: its position in `sorted`.
    rank: Vec<u32>,
    /// Per job id: another job has the same UID.
    shared: Vec<bool>,
}

impl JobUids {
    /// Ranks the jobs added to `snap` since the last call.
    pub fn sync(&mut self, snap: &Snapshot) {
        let known = self.rank.len();
        if snap.jobs.len() <= known {
            return;
        }
        let uid = |j: JobId| snap.job(j).uid.as_str();
        // Finished jobs' records are released (`Snapshot::release_finished`): drop them
        // first, so every job compared below is held; the live jobs' relative order stays.
        self.sorted.retain(|&x| snap.has_job(x));
        self.shared.resize(snap.jobs.len(), false);
        for j in known..snap.jobs.len() {
            let j = JobId(j as u32);
            if !snap.has_job(j) {
                continue; // added and released between two syncs
            }
            let at = self.sorted.partition_point(|&x| (uid(x), x) < (uid(j), j));
            for n in [at.checked_sub(1), Some(at)].into_iter().flatten() {
                if let Some(&x) = self.sorted.get(n) {
                    if uid(x) == uid(j) {
                        self.shared[x.ix()] = true;
                        self.shared[j.ix()] = true;
                    }
                }
            }
            self.sorted.insert(at, j);
        }
        self.rank.resize(snap.jobs.len(), 0);
        for (i, &j) in self.sorted.iter().enumerate() {
            self.rank[j.ix()] = i as u32;
        }
    }

    /// Job `j`'s rank: for jobs that share no UID, rank order is UID order.
    pub fn rank(&self, j: JobId) -> u32 {
        self.rank[j.ix()]
    }

    /// Whether another job has job `j`'s UID (ranks then do not tell their UID order).
    pub fn shared(&self, j: JobId) -> bool {
        self.shared[j.ix()]
    }

    /// `uid(a).cmp(uid(b))` for synced jobs, by rank unless both share their UID with others.
    pub fn cmp(&self, snap: &Snapshot, a: JobId, b: JobId) -> std::cmp::Ordering {
        if self.shared[a.ix()] && self.shared[b.ix()] {
            return snap.job(a).uid.cmp(&snap.job(b).uid);
        }
        self.rank[a.ix()].cmp(&self.rank[b.ix()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{PodGroupSpec, QueueSpec};
    use crate::policy::snapshot::PodGroupPhase;

    #[test]
    fn ranks_follow_uid_order_as_jobs_arrive() {
        let mut s = Snapshot::new();
        s.add_queue(&QueueSpec::new("q", 1));
        let mut u = JobUids::default();
        let names = ["m", "b", "z", "b", "a", "mm", "c", "b"];
        for (k, name) in names.iter().enumerate() {
            let pg = PodGroupSpec {
                namespace: "ns".into(),
                name: name.to_string(),
                queue: "q".into(),
                min_member: 1,
                ..Default::default()
            };
            s.add_job(&pg, PodGroupPhase::Pending, 0).unwrap();
            if k % 3 != 1 {
                u.sync(&s);
            }
        }
        u.sync(&s);
        let n = s.jobs.len() as u32;
        for a in 0..n {
            for b in 0..n {
                let (a, b) = (JobId(a), JobId(b));
                let want = s.job(a).uid.cmp(&s.job(b).uid);
                assert_eq!(u.cmp(&s, a, b), want, "{a:?} {b:?}");
            }
        }
    }
}
