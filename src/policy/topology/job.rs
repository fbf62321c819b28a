//! A job's network topology as a session sees it: the spec after `adjustNetworkTopologySpec`
//! (tier name → tier, soft → hard at the top tier), the AllocatedHyperNode kept per job and
//! per (default) sub-job (removed when stale, recovered from the placed tasks at session open),
//! the search root and the BFS gradient of candidate HyperNodes.
//!
//! Mirrors volcano framework/session.go (`adjustNetworkTopologySpec`,
//! `removeInvalidAllocatedHyperNode`, `recoverAllocatedHyperNode`) and
//! plugins/network-topology-aware (`getSearchRoot`, `hyperNodeGradientFn`) at v1.15.0.
//! Deviation: sub-group policies are not modelled, so every job has only its default sub-job
//! (which inherits the job's topology). No I/O; depends on policy types.

use super::{HnId, HyperNodes};
use crate::model::{NetworkTopologySpec, TopologyMode};
use crate::policy::snapshot::{JobId, Snapshot};

/// The constraint a session applies: hard mode with `highest_tier`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effective {
    pub highest_tier: u32,
    /// Converted from soft mode (`IsSoftTopologyConverted`).
    pub soft_converted: bool,
}

/// `adjustNetworkTopologySpec` then `IsHardTopologyMode`: `None` when the job has no spec, or
/// a hard spec whose tier name is unknown (Volcano leaves it untranslated and the job is not in
/// hard mode), or the cluster has no HyperNodes.
pub fn effective(h: &HyperNodes, spec: Option<&NetworkTopologySpec>) -> Option<Effective> {
    let spec = spec?;
    let top = h.top()?;
    if spec.mode == TopologyMode::Soft {
        return Some(Effective {
            highest_tier: h.tier(top),
            soft_converted: true,
        });
    }
    let tier = spec
        .highest_tier_allowed
        .or_else(|| h.tier_of_name(spec.highest_tier_name.as_deref()?))?;
    Some(Effective {
        highest_tier: tier,
        soft_converted: false,
    })
}

/// Whether allocate places job `j` through the topology path (`ContainsHardTopology` after the
/// session's adjustments). False on a cluster without HyperNodes, so such clusters and jobs
/// without a network topology take the plain path.
pub fn uses_topology_path(snap: &Snapshot, j: JobId) -> bool {
    effective(&snap.topology, snap.job(j).network_topology.as_ref()).is_some()
}

/// Session open: for every live job with a network topology, drop an AllocatedHyperNode the
/// job no longer has placed tasks for, then recover an empty one from the placed tasks (the
/// lowest-tier HyperNode holding all of their nodes; the job value is the LCA of its sub-jobs').
pub fn open_session(snap: &mut Snapshot) {
    if snap.topology.is_empty() {
        return;
    }
    let topo = snap.topology.clone();
    let jobs: Vec<JobId> = snap
        .live_jobs()
        .filter(|&j| snap.job(j).network_topology.is_some())
        .collect();
    for j in jobs {
        let placed: Vec<_> = snap
            .job(j)
            .tasks
            .iter()
            .map(|&t| snap.task(t))
            .filter(|t| t.status.is_allocated())
            .filter_map(|t| t.node)
            .collect();
        let job = &mut snap.jobs[j.ix()];
        if placed.is_empty() {
            job.allocated_hypernode = None;
            job.subjob_hypernode = None;
            continue;
        }
        if job.subjob_hypernode.is_none() {
            job.subjob_hypernode = topo.lowest_holding(placed);
        }
        if job.allocated_hypernode.is_none() {
            job.allocated_hypernode = job.subjob_hypernode;
        }
    }
}

/// `getSearchRoot`: without an allocated HyperNode the input; else the highest ancestor `H`
/// of the allocated one within `highest_tier`, intersected with the input's subtree. `None`
/// (no candidates) when the allocated HyperNode is above the tier or the two subtrees are
/// disjoint.
pub fn search_root(
    h: &HyperNodes,
    input: HnId,
    highest_tier: u32,
    allocated: Option<HnId>,
) -> Option<HnId> {
    let Some(a) = allocated else {
        return Some(input);
    };
    if h.tier(a) > highest_tier {
        return None;
    }
    let top = h
        .ancestors(a)
        .into_iter()
        .take_while(|&x| h.tier(x) <= highest_tier)
        .last()?;
    let lca = h.lca(Some(input), Some(top));
    if lca == Some(top) {
        Some(input)
    } else if lca == Some(input) {
        Some(top)
    } else {
        None
    }
}

/// The BFS of `hyperNodeGradientFn` from `root` over children: HyperNodes within
/// `highest_tier` that `eligible` accepts, grouped by tier, tiers ascending, each group in BFS
/// order.
pub fn gradient(
    h: &HyperNodes,
    root: HnId,
    highest_tier: u32,
    mut eligible: impl FnMut(HnId) -> bool,
) -> Vec<Vec<HnId>> {
    let mut queue = std::collections::VecDeque::from([root]);
    let mut seen = vec![false; h.len()];
    seen[root.ix()] = true;
    let mut by_tier: std::collections::BTreeMap<u32, Vec<HnId>> = Default::default();
    while let Some(cur) = queue.pop_front() {
        if h.tier(cur) <= highest_tier && eligible(cur) {
            by_tier.entry(h.tier(cur)).or_default().push(cur);
        }
        for &c in h.children(cur) {
            if !seen[c.ix()] {
                seen[c.ix()] = true;
                queue.push_back(c);
            }
        }
    }
    by_tier.into_values().collect()
}

/// `reverseAndCapEvictionGradients`: the gradient's tiers reversed (widest first), at most
/// `cap` HyperNodes in all; when a tier must be cut, its **last** entries are kept. A cap
/// ≤ 0 returns the gradient unchanged (unreachable through the plugin's arguments, which map
/// ≤ 0 to 8).
pub fn reverse_and_cap<T: Clone>(gradients: &[Vec<T>], cap: i64) -> Vec<Vec<T>> {
    if cap <= 0 {
        return gradients.to_vec();
    }
    let mut remaining = usize::try_from(cap).unwrap_or(usize::MAX);
    let mut out = Vec::new();
    for row in gradients.iter().rev() {
        if remaining == 0 {
            break;
        }
        if row.len() <= remaining {
            out.push(row.clone());
            remaining -= row.len();
        } else {
            out.push(row[row.len() - remaining..].to_vec());
            remaining = 0;
        }
    }
    out
}
