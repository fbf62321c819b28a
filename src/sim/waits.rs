//! Wait time by reason: per job, how long it waited for each reason the scheduler gave
//! (`policy::explain::WaitReason`). Time between two cycles is charged to the reason of the
//! cycle that started it; the time before the job's first cycle to `AwaitingCycle`. A job stops
//! waiting when its gang first becomes ready (else when it fails or finishes, else at the end
//! of the run), so per job the reasons' times sum exactly to its wait (gang ready − submit) or
//! to the time it was still waiting at the end.
//!
//! Per cycle, a job's reason is, by precedence: it got bind requests (`Binding`) > victims were
//! evicted for it (`Evicting`) > it had tasks pipelined at session close (`Pipelined`) > the
//! last note an action made for it > what the cluster shows (no pods yet: `AwaitingPods`; tasks
//! already placed: `Binding`; else `NotReached`).
//!
//! May depend on `policy`, `cluster` (via the parent `sim`). Deterministic: jobs are kept by
//! cluster index, each job's reasons in first-seen order.

use crate::cluster::{Cluster, JobState};
use crate::policy::{CycleOutput, Decision, WaitReason};
use smallvec::SmallVec;

/// Reasons a job's wait is kept in without a heap allocation: most jobs wait for one or two
/// (awaiting pods, then binding), and a run keeps every job's `JobWaits` to its end.
pub const INLINE_REASONS: usize = 2;

/// One job's wait, split by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobWaits {
    /// (reason, ms) in first-seen order; gang counts are those of the latest cycle.
    pub reasons: SmallVec<[(WaitReason, u64); INLINE_REASONS]>,
    /// Still waiting when the run ended.
    pub open: bool,
}

impl JobWaits {
    /// Total ms over every reason.
    pub fn total_ms(&self) -> u64 {
        self.reasons.iter().map(|r| r.1).sum()
    }

    /// The reason with the most time (first seen on ties).
    pub fn dominant(&self) -> Option<WaitReason> {
        let mut best: Option<(WaitReason, u64)> = None;
        for &(r, ms) in &self.reasons {
            if best.is_none_or(|(_, b)| ms > b) {
                best = Some((r, ms));
            }
        }
        best.map(|b| b.0)
    }

    fn add(&mut self, why: WaitReason, ms: u64) {
        if ms == 0 {
            return;
        }
        let same = |r: &WaitReason| match (r, &why) {
            (WaitReason::GangNotReady { .. }, WaitReason::GangNotReady { .. }) => true,
            _ => *r == why,
        };
        match self.reasons.iter_mut().find(|r| same(&r.0)) {
            Some(r) => {
                r.0 = why;
                r.1 += ms;
            }
            None => self.reasons.push((why, ms)),
        }
    }
}

/// Where a waiting job stands: its current run of one reason. The run is charged when the
/// reason changes or the wait ends (not every cycle): the sum, and so `JobWaits`, is the same
/// as charging each interval between cycles as it ends, since consecutive charges to one
/// reason land in one entry and a zero charge adds nothing. Held only while the job waits.
struct Run {
    /// The job's cluster index.
    ix: usize,
    reason: WaitReason,
    /// When the current run of `reason` started.
    since: u64,
    /// The latest cycle that kept `reason` (`since` until then).
    last: u64,
}

impl Run {
    /// Charges the run to `waits` up to `end` (a stop time, which may precede `last` if it was
    /// recorded late: as per-interval charging, the run then counts up to `last`).
    fn close(&self, waits: &mut JobWaits, end: u64) {
        let ms = (self.last - self.since) + end.saturating_sub(self.last);
        waits.add(self.reason, ms);
    }
}

/// Accumulates `JobWaits` for every job of the cluster, cycle by cycle.
#[derive(Default)]
pub(crate) struct WaitTracker {
    /// By cluster job index: the waits charged so far (final once the job stopped waiting).
    jobs: Vec<JobWaits>,
    /// The jobs still waiting, by ascending cluster index, with their current runs (a job
    /// that stopped waiting keeps only its `JobWaits`).
    waiting: Vec<Run>,
    /// By snapshot job index from `notes_base`: (cycle stamp, reason) of the latest note.
    /// Ids below the base belong to jobs arrived before the oldest one still waiting, whose
    /// notes are never read again (snapshot ids ascend with arrival): the window follows the
    /// waiting jobs, not the whole run.
    notes: Vec<(u64, WaitReason)>,
    notes_base: usize,
    stamp: u64,
}

/// Fewest unread leading notes worth dropping at once (tiny under test, so trims happen).
#[cfg(not(test))]
const NOTES_TRIM: usize = 1024;
#[cfg(test)]
const NOTES_TRIM: usize = 2;

/// When the job stopped waiting, if it did: gang ready, else failed or finished.
fn stopped(st: &JobState) -> Option<u64> {
    st.gang_ready_ms()
        .or(match (st.failed_ms(), st.finish_ms()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
}

impl WaitTracker {
    /// A tracker with room for `jobs` arriving jobs (a hint, as `Cluster::reserve`: the per-job
    /// vector then does not double past the workload).
    pub(crate) fn with_capacity(jobs: usize) -> WaitTracker {
        WaitTracker {
            jobs: Vec::with_capacity(jobs),
            ..Default::default()
        }
    }

    /// Picks up jobs that arrived since the last call.
    fn sync(&mut self, c: &Cluster) {
        for ix in self.jobs.len()..c.jobs.len() {
            let st = &c.jobs[ix];
            let reason = if st.job.is_some() {
                WaitReason::AwaitingCycle
            } else {
                WaitReason::UnknownQueue
            };
            self.jobs.push(JobWaits::default());
            self.waiting.push(Run {
                ix,
                reason,
                since: st.submit_ms,
                last: st.submit_ms,
            });
        }
    }

    fn note(&mut self, j: usize, why: WaitReason) {
        let Some(k) = j.checked_sub(self.notes_base) else {
            return;
        };
        if k >= self.notes.len() {
            self.notes.resize(k + 1, (0, WaitReason::NotReached));
        }
        self.notes[k] = (self.stamp, why);
    }

    /// Drops the notes of snapshot ids below `oldest` (the oldest waiting job's), in steps of
    /// at least `NOTES_TRIM` (the rest, the waiting jobs' window, moves down).
    fn trim_notes(&mut self, oldest: usize) {
        let lead = oldest.saturating_sub(self.notes_base).min(self.notes.len());
        if lead >= NOTES_TRIM {
            self.notes.drain(..lead);
            self.notes_base += lead;
        }
    }

    /// The cycle at `t` decided `out` (called before the cluster applies it).
    pub(crate) fn cycle(&mut self, c: &Cluster, out: &CycleOutput, t: u64) {
        self.sync(c);
        self.stamp += 1;
        let snap = &c.snap;
        for &(j, why) in &out.wait_reasons {
            self.note(j.ix(), why);
        }
        for &(task, _) in &out.pipelined {
            self.note(snap.task(task).job.ix(), WaitReason::Pipelined);
        }
        for d in &out.decisions {
            if let Decision::Evict {
                action, preemptor, ..
            } = *d
            {
                self.note(snap.task(preemptor).job.ix(), WaitReason::Evicting(action));
            }
        }
        for d in &out.decisions {
            if let Decision::Bind { task, .. } = *d {
                self.note(snap.task(task).job.ix(), WaitReason::Binding);
            }
        }
        let stamp = self.stamp;
        let (notes, base) = (&self.notes, self.notes_base);
        let jobs = &mut self.jobs;
        // The lowest snapshot id still waiting (a restarted job's PodGroup has a new, higher
        // one: not the first waiting job's by arrival).
        let mut oldest = snap.jobs.len();
        self.waiting.retain_mut(|tr| {
            let st = &c.jobs[tr.ix];
            let waits = &mut jobs[tr.ix];
            if let Some(end) = stopped(st).filter(|&e| e <= t) {
                tr.close(waits, end);
                // Final: keep only the reasons it had, not the vector's growth room.
                waits.reasons.shrink_to_fit();
                return false;
            }
            let reason = match st.job {
                None => WaitReason::UnknownQueue,
                Some(j) => match j.ix().checked_sub(base).and_then(|k| notes.get(k)) {
                    Some(&(s, why)) if s == stamp => why,
                    _ if !st.pods_created => WaitReason::AwaitingPods,
                    _ if snap.job(j).ready_num() > 0 => WaitReason::Binding,
                    _ => WaitReason::NotReached,
                },
            };
            if reason != tr.reason {
                tr.close(waits, t);
                tr.since = t.max(tr.last);
                tr.reason = reason;
            }
            tr.last = t.max(tr.last);
            if let Some(j) = st.job {
                oldest = oldest.min(j.ix());
            }
            true
        });
        self.trim_notes(oldest);
    }

    /// Closes every job at the end of the run (`end`) and returns the waits by cluster index.
    pub(crate) fn finish(mut self, c: &Cluster, end: u64) -> Vec<JobWaits> {
        self.sync(c);
        for tr in std::mem::take(&mut self.waiting) {
            let waits = &mut self.jobs[tr.ix];
            match stopped(&c.jobs[tr.ix]).filter(|&e| e <= end) {
                Some(e) => tr.close(waits, e),
                None => {
                    tr.close(waits, end);
                    waits.open = true;
                }
            }
        }
        self.jobs
    }
}
