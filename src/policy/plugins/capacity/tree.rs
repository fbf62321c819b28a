//! Building capacity's per-queue attributes: flat (queues with jobs) and hierarchical (all
//! queues under `root`, with the structural checks of `checkHierarchicalQueue`).

use super::{share, Attr};
use crate::model::{DefaultValue, ResourceName, Resources};
use crate::policy::plugins::proportion::{queue_totals, real_capability, total_guarantee};
use crate::policy::snapshot::{QueueId, Snapshot};

/// Flat mode: `deserved = max(min(spec.deserved, realCapability), guarantee)`.
pub(super) fn build_flat(snap: &Snapshot) -> Vec<Option<Attr>> {
    let tg = total_guarantee(snap);
    queue_totals(snap)
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let (allocated, request, inqueue, elastic) = t?;
            let q = &snap.queues[i];
            let guarantee = q.guarantee.unwrap_or_else(Resources::empty);
            let rc = real_capability(&snap.total, &tg, &guarantee, q.capability.as_ref());
            let deserved = q
                .deserved
                .unwrap_or_else(Resources::empty)
                .min_dimension(&rc, DefaultValue::Infinity)
                .max_with(&guarantee);
            let mut a = Attr::new();
            a.deserved = deserved;
            a.allocated = allocated;
            a.request = request;
            a.inqueue = inqueue;
            a.elastic = elastic;
            a.guarantee = guarantee;
            a.capability = q.capability;
            a.real_capability = rc;
            a.share = share(&a);
            Some(a)
        })
        .collect()
}

/// Hierarchical mode; `None` when the tree is invalid for this session.
pub(super) fn build_hierarchical(snap: &Snapshot) -> Option<Vec<Option<Attr>>> {
    let n = snap.queues.len();
    let root = snap.queue_by_name("root")?;
    let mut attrs: Vec<Attr> = snap
        .queues
        .iter()
        .map(|q| {
            let mut a = Attr::new();
            a.deserved = q.deserved.unwrap_or_else(Resources::empty);
            a.guarantee = q.guarantee.unwrap_or_else(Resources::empty);
            a.capability = q.capability;
            a
        })
        .collect();
    // Parents and ancestor chains (root first); a missing parent or a cycle is invalid.
    let mut parent: Vec<Option<QueueId>> = vec![None; n];
    for (i, q) in snap.queues.iter().enumerate() {
        if QueueId(i as u32) == root {
            continue;
        }
        let p = q
            .parent
            .as_deref()
            .filter(|p| !p.is_empty())
            .unwrap_or("root");
        parent[i] = Some(snap.queue_by_name(p)?);
    }
    for i in 0..n {
        let mut chain = Vec::new();
        let mut cur = parent[i];
        while let Some(p) = cur {
            if chain.contains(&p) || chain.len() > n {
                return None;
            }
            chain.push(p);
            cur = parent[p.ix()];
        }
        if QueueId(i as u32) != root && chain.last() != Some(&root) {
            return None;
        }
        chain.reverse();
        attrs[i].ancestors = chain;
        if let Some(p) = parent[i] {
            attrs[p.ix()].children.push(QueueId(i as u32));
        }
    }
    // Leaf aggregates, propagated to every ancestor; jobs only in leaves.
    for (i, t) in queue_totals(snap).into_iter().enumerate() {
        let Some((allocated, request, inqueue, elastic)) = t else {
            continue;
        };
        if !attrs[i].children.is_empty() {
            return None;
        }
        let chain: Vec<QueueId> = attrs[i].ancestors.clone();
        for x in chain.into_iter().chain(std::iter::once(QueueId(i as u32))) {
            let a = &mut attrs[x.ix()];
            a.allocated.add(&allocated);
            a.request.add(&request);
            a.inqueue.add(&inqueue);
            a.elastic.add(&elastic);
        }
    }
    {
        let r = &mut attrs[root.ix()];
        let cap = r
            .capability
            .map(|c| c.min_dimension(&snap.total, DefaultValue::Infinity))
            .unwrap_or(snap.total);
        r.capability = Some(cap);
        r.real_capability = cap;
        r.deserved = snap.total;
    }
    check(&mut attrs, root, true)?;
    for a in attrs.iter_mut() {
        a.share = share(a);
    }
    Some(attrs.into_iter().map(Some).collect())
}

/// `checkHierarchicalQueue`: inherits capability, derives children's real capability and
/// deserved, and rejects children that exceed their parent.
fn check(attrs: &mut [Attr], q: QueueId, is_root: bool) -> Option<()> {
    let children = attrs[q.ix()].children.clone();
    let parent_cap = attrs[q.ix()].capability.unwrap_or_else(Resources::empty);
    let mut total_guarantee = Resources::empty();
    let mut total_deserved = Resources::empty();
    for &c in &children {
        let child = &mut attrs[c.ix()];
        total_deserved.add(&child.deserved);
        total_guarantee.add(&child.guarantee);
        let mut cap = child.capability.unwrap_or_else(Resources::empty);
        if cap.cpu() <= 0 {
            cap.set(ResourceName::CPU, parent_cap.cpu());
        }
        if cap.memory() <= 0 {
            cap.set(ResourceName::MEMORY, parent_cap.memory());
        }
        for d in parent_cap.dims().filter(|d| d.0 >= 2) {
            if !cap.has(d) {
                cap.set(d, parent_cap.get(d));
            }
        }
        child.capability = Some(cap);
        if cap.dims().any(|d| parent_cap.get(d) < cap.get(d)) {
            return None;
        }
    }
    if is_root {
        attrs[q.ix()].guarantee = total_guarantee;
    }
    let parent_rc = attrs[q.ix()].real_capability;
    for &c in &children {
        let child = &mut attrs[c.ix()];
        let mut rc = parent_rc.minus(&total_guarantee).plus(&child.guarantee);
        if let Some(cap) = &child.capability {
            rc = rc.min_dimension(cap, DefaultValue::Infinity);
        }
        child.real_capability = rc;
        let old = child.deserved;
        child.deserved = child
            .deserved
            .min_dimension(&rc, DefaultValue::Infinity)
            .min_dimension(&child.request, DefaultValue::Zero)
            .max_with(&child.guarantee);
        total_deserved = total_deserved.minus(&old).plus(&child.deserved);
    }
    let parent = &attrs[q.ix()];
    let less_partly = |l: &Resources, r: &Resources| r.dims().any(|d| l.get(d) < r.get(d));
    if less_partly(&parent.deserved, &total_deserved)
        || less_partly(&parent.guarantee, &total_guarantee)
    {
        return None;
    }
    for &c in &children {
        check(attrs, c, false)?;
    }
    Some(())
}
