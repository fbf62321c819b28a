//! overcommit: cluster-wide enqueue budget `total × overcommit-factor − used`
//! (plugins/overcommit/overcommit.go). Quirk #16: Inqueue jobs count their full minResources
//! even when some of their tasks already sit in `used`.

use crate::model::Resources;
use crate::policy::conf::Flag;
use crate::policy::conf::{OvercommitArgs, PluginKind};
use crate::policy::fres::FRes;
use crate::policy::plugin::{Plugin, Vote};
use crate::policy::session::State;
use crate::policy::snapshot::JobId;

pub struct Overcommit {
    factor: f64,
    idle: FRes,
    inqueue: Resources,
}

impl Overcommit {
    pub fn new(args: &OvercommitArgs) -> Overcommit {
        let f = args.factor;
        Overcommit {
            factor: if f < 1.0 { 1.2 } else { f },
            idle: FRes::empty(),
            inqueue: Resources::empty(),
        }
    }
}

impl Plugin for Overcommit {
    /// No event handlers.
    fn events_cancel(&self) -> bool {
        true
    }
    fn kind(&self) -> PluginKind {
        PluginKind::Overcommit
    }
    fn registers(&self, f: Flag) -> bool {
        matches!(f, Flag::JobEnqueued)
    }
    fn on_session_open(&mut self, s: &State) {
        let snap = &*s.snap;
        self.idle = FRes::from(&snap.total).scaled(self.factor);
        self.idle.sub(&FRes::from(&snap.idx.used));
        self.inqueue = snap.idx.overcommit_inqueue;
    }
    fn job_enqueueable(&self, s: &State, j: JobId) -> Option<Vote> {
        let Some(min) = &s.snap.job(j).min_resources else {
            return Some(Vote::Permit);
        };
        let future = self.inqueue.plus(min);
        Some(if FRes::int_fits_on_requested(&future, &self.idle, min) {
            Vote::Permit
        } else {
            Vote::Reject
        })
    }
    fn job_enqueued(&mut self, s: &State, j: JobId) {
        if let Some(min) = &s.snap.job(j).min_resources {
            self.inqueue.add(min);
        }
    }
}
