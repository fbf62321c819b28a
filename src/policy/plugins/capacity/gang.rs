//! capacity's `UnifiedEvictableFn` for the v1.15 gang eviction actions: gangpreempt permits
//! every candidate; gangreclaim keeps, in the given (bundle) order, the candidates whose queue
//! stays at or above its guarantee and is an immediate victim or above deserved on a
//! dimension the candidate requests, charging each kept one to a running copy of the queue's
//! allocation.
//!
//! Mirrors volcano pkg/scheduler/plugins/capacity/capacity.go (v1.15.0) `AddUnifiedEvictableFn`.
//! Deviation from capacity's `ReclaimableFn` kept as Volcano has it (semantics §5.4): no
//! dimension-intersection skip, no `ancestorReclaimLevel`, no victim re-ordering.

use super::{immediate_victim, Capacity};
use crate::model::{DefaultValue, Resources};
use crate::policy::plugin::{EvictionContext, EvictionKind, Vote};
use crate::policy::session::State;
use crate::policy::snapshot::{QueueId, TaskId};

impl Capacity {
    pub(super) fn gang_evictable(
        &self,
        s: &State,
        ctx: &EvictionContext,
        cands: &[TaskId],
    ) -> (Vec<TaskId>, Vote) {
        if ctx.kind == EvictionKind::GangPreempt {
            return (cands.to_vec(), Vote::Permit);
        }
        if !self.ready {
            return (Vec::new(), Vote::Reject);
        }
        let mut running: Vec<(QueueId, Resources)> = Vec::new();
        let mut out = Vec::new();
        for &c in cands {
            let req = s.snap.task(c).resreq;
            let q = s.snap.queue_of_task(c);
            let Some(attr) = self.attr(q) else { continue };
            let pos = crate::policy::plugins::running_slot(&mut running, q, attr.allocated);
            let allocated = running[pos].1;
            if !attr
                .guarantee
                .less_equal(&allocated.minus(&req), DefaultValue::Zero)
            {
                continue;
            }
            if !immediate_victim(&req, &attr.deserved)
                && !allocated.greater_partly_relevant(&attr.deserved, &req)
            {
                continue;
            }
            running[pos].1.sub(&req);
            out.push(c);
        }
        (out, Vote::Permit)
    }
}
