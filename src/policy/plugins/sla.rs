//! sla: jobs with a waiting time (PodGroup annotation or `sla-waiting-time` argument) go first
//! by deadline, and once the deadline passes sla permits enqueue and pipelining
//! (plugins/sla/sla.go). Uses the session's `now`, never a clock.

use std::cmp::Ordering;

use crate::policy::conf::Flag;
use crate::policy::conf::{PluginKind, SlaArgs};
use crate::policy::plugin::{Plugin, Vote};
use crate::policy::session::State;
use crate::policy::snapshot::JobId;

pub struct Sla {
    global: Option<u64>,
}

impl Sla {
    pub fn new(args: &SlaArgs) -> Sla {
        Sla {
            global: args.waiting_ms,
        }
    }
    fn waiting(&self, s: &State, j: JobId) -> Option<u64> {
        s.snap.job(j).waiting_time.or(self.global)
    }
    fn vote(&self, s: &State, j: JobId) -> Vote {
        match self.waiting(s, j) {
            Some(w) if s.now >= s.snap.job(j).creation.saturating_add(w) => Vote::Permit,
            _ => Vote::Abstain,
        }
    }
}

impl Plugin for Sla {
    /// No event handlers.
    fn events_cancel(&self) -> bool {
        true
    }
    fn kind(&self) -> PluginKind {
        PluginKind::Sla
    }
    fn registers(&self, f: Flag) -> bool {
        matches!(f, Flag::JobOrder | Flag::JobEnqueued | Flag::JobPipelined)
    }
    fn registers_job_order(&self) -> bool {
        true
    }
    fn job_order_key(&self, s: &State, j: JobId) -> Option<f64> {
        Some(match self.waiting(s, j) {
            None => f64::INFINITY,
            Some(w) => (s.snap.job(j).creation + w) as f64,
        })
    }
    fn job_order(&self, s: &State, l: JobId, r: JobId) -> Option<Ordering> {
        match (self.waiting(s, l), self.waiting(s, r)) {
            (None, None) => Some(Ordering::Equal),
            (Some(_), None) => Some(Ordering::Less),
            (None, Some(_)) => Some(Ordering::Greater),
            (Some(a), Some(b)) => {
                Some((s.snap.job(l).creation + a).cmp(&(s.snap.job(r).creation + b)))
            }
        }
    }
    fn job_enqueueable(&self, s: &State, j: JobId) -> Option<Vote> {
        Some(self.vote(s, j))
    }
    fn job_pipelined(&self, s: &State, j: JobId) -> Option<Vote> {
        Some(self.vote(s, j))
    }
}
