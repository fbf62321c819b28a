//! The HyperNode model the scheduler works on: every HyperNode's tier, tier name, parent,
//! children and real nodes (the transitive union of its Node members, as dense `NodeId`s), the
//! virtual `<cluster-top-hypernode>` above every parentless HyperNode, the sorted tiers, the
//! tierName → tier map, and the queries Volcano's session makes (ancestors, LCA, the lowest-tier
//! HyperNode of a node). Built once per run (`build`) and shared by every snapshot clone.
//!
//! Mirrors volcano pkg/scheduler/api/hyper_node_info.go (`HyperNodesInfo`, `GetAncestors`,
//! `GetLCAHyperNode`) and framework/session.go (`addClusterTopHyperNode`,
//! `parseHyperNodesTiers`). No I/O, no global state; depends on `model` and the policy's ids.

mod build;
pub mod job;

pub use build::{build, TopologyError};

use std::collections::BTreeMap;

use crate::model::NodeId;

/// Name of the virtual HyperNode over the whole cluster (`framework.ClusterTopHyperNode`).
pub const CLUSTER_TOP: &str = "<cluster-top-hypernode>";

/// A dense HyperNode id (index into `HyperNodes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HnId(pub u32);

impl HnId {
    #[inline]
    pub fn ix(self) -> usize {
        self.0 as usize
    }
}

/// One resolved HyperNode, as the builders hand it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub tier: u32,
    pub tier_name: String,
    /// Parent HyperNode by name (None: a child of the cluster top).
    pub parent: Option<String>,
    /// Real nodes (any order; duplicates allowed).
    pub nodes: Vec<NodeId>,
}

/// The resolved topology. Empty (`is_empty`) when the cluster has no HyperNodes: then no job
/// takes the topology path and the plugin scores nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HyperNodes {
    names: Vec<String>,
    tier: Vec<u32>,
    tier_name: Vec<String>,
    parent: Vec<Option<HnId>>,
    /// Children by name order.
    children: Vec<Vec<HnId>>,
    /// Sorted, deduplicated.
    real: Vec<Vec<NodeId>>,
    /// `HyperNodesTiers`: every tier present, ascending, the top tier last.
    tiers: Vec<u32>,
    /// Per node: the HyperNode of the lowest tier (`tiers[0]`) holding it (`FindHyperNodeForNode`).
    leaf: Vec<Option<HnId>>,
    /// Per node: every HyperNode holding it, in id order.
    held: Vec<Vec<HnId>>,
    tier_names: BTreeMap<String, u32>,
    top: Option<HnId>,
    /// Per HyperNode: its real nodes are exactly the disjoint union of its children's, all of
    /// lower tier (so sums over its nodes can be taken from its children's).
    union_of_children: Vec<bool>,
}

impl HyperNodes {
    /// Builds the view from resolved entries over `n_nodes` session nodes. The cluster top
    /// gets tier `top_tier` if given (Volcano's test harness derives it from
    /// `HyperNodesSetByTier`), else max tier + 1; it holds every node. Entries must be acyclic
    /// with known parents (`build` checks that; unknown parents are treated as none).
    pub fn from_entries(entries: Vec<Entry>, n_nodes: usize, top_tier: Option<u32>) -> HyperNodes {
        if entries.is_empty() && top_tier.is_none() {
            return HyperNodes::default();
        }
        let mut entries = entries;
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        let index: BTreeMap<String, u32> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.clone(), i as u32))
            .collect();
        let max_tier = entries.iter().map(|e| e.tier).max().unwrap_or(0);
        let top_tier = top_tier.unwrap_or(max_tier + 1);
        let top = HnId(entries.len() as u32);
        let mut h = HyperNodes::default();
        for e in &entries {
            h.names.push(e.name.clone());
            h.tier.push(e.tier);
            h.tier_name.push(e.tier_name.clone());
            let p = e
                .parent
                .as_ref()
                .and_then(|p| index.get(p))
                .map(|&i| HnId(i));
            h.parent.push(Some(p.unwrap_or(top)));
            let mut nodes: Vec<NodeId> = e
                .nodes
                .iter()
                .copied()
                .filter(|n| n.ix() < n_nodes)
                .collect();
            nodes.sort_unstable();
            nodes.dedup();
            h.real.push(nodes);
            if !e.tier_name.is_empty() {
                // Mirrors HyperNodeTierNameMap: last writer wins (name order here).
                h.tier_names.insert(e.tier_name.clone(), e.tier);
            }
        }
        h.names.push(CLUSTER_TOP.to_string());
        h.tier.push(top_tier);
        h.tier_name.push(String::new());
        h.parent.push(None);
        h.real.push((0..n_nodes as u32).map(NodeId).collect());
        h.top = Some(top);
        h.children = vec![Vec::new(); h.names.len()];
        for i in 0..top.ix() {
            if let Some(p) = h.parent[i] {
                h.children[p.ix()].push(HnId(i as u32));
            }
        }
        let mut tiers: Vec<u32> = h.tier.clone();
        tiers.sort_unstable();
        tiers.dedup();
        h.tiers = tiers;
        h.union_of_children = (0..h.names.len())
            .map(|i| {
                let kids = &h.children[i];
                let covered: usize = kids.iter().map(|c| h.real[c.ix()].len()).sum();
                let mut all: Vec<NodeId> = kids
                    .iter()
                    .flat_map(|c| h.real[c.ix()].iter().copied())
                    .collect();
                all.sort_unstable();
                all.dedup();
                !kids.is_empty()
                    && kids.iter().all(|c| h.tier[c.ix()] < h.tier[i])
                    && covered == all.len()
                    && all == h.real[i]
            })
            .collect();
        h.held = vec![Vec::new(); n_nodes];
        for i in 0..h.names.len() {
            for &n in &h.real[i] {
                h.held[n.ix()].push(HnId(i as u32));
            }
        }
        h.leaf = vec![None; n_nodes];
        if let Some(&lowest) = h.tiers.first() {
            for i in 0..h.names.len() {
                if h.tier[i] != lowest {
                    continue;
                }
                for &n in &h.real[i] {
                    h.leaf[n.ix()].get_or_insert(HnId(i as u32));
                }
            }
        }
        h
    }

    /// No HyperNodes configured.
    pub fn is_empty(&self) -> bool {
        self.top.is_none()
    }
    /// Number of HyperNodes, the cluster top included.
    pub fn len(&self) -> usize {
        self.names.len()
    }
    /// The cluster top (None when empty).
    pub fn top(&self) -> Option<HnId> {
        self.top
    }
    pub fn ids(&self) -> impl Iterator<Item = HnId> {
        (0..self.names.len() as u32).map(HnId)
    }
    pub fn name(&self, h: HnId) -> &str {
        &self.names[h.ix()]
    }
    pub fn find(&self, name: &str) -> Option<HnId> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| HnId(i as u32))
    }
    pub fn tier(&self, h: HnId) -> u32 {
        self.tier[h.ix()]
    }
    pub fn tier_name(&self, h: HnId) -> &str {
        &self.tier_name[h.ix()]
    }
    pub fn parent(&self, h: HnId) -> Option<HnId> {
        self.parent[h.ix()]
    }
    pub fn children(&self, h: HnId) -> &[HnId] {
        &self.children[h.ix()]
    }
    /// Whether `h`'s real nodes are exactly the disjoint union of its children's, each of a
    /// lower tier: a sum over its nodes is then the sum of its children's sums.
    pub fn is_union_of_children(&self, h: HnId) -> bool {
        self.union_of_children[h.ix()]
    }

    /// HyperNode ids by ascending tier (then id): children before their parents.
    pub fn by_tier(&self) -> Vec<HnId> {
        let mut v: Vec<HnId> = self.ids().collect();
        v.sort_by_key(|&h| (self.tier(h), h));
        v
    }

    /// The HyperNode's real nodes, ascending.
    pub fn nodes(&self, h: HnId) -> &[NodeId] {
        &self.real[h.ix()]
    }
    pub fn contains(&self, h: HnId, n: NodeId) -> bool {
        self.real[h.ix()].binary_search(&n).is_ok()
    }
    /// `HyperNodesTiers` (ascending, the top tier included).
    pub fn tiers(&self) -> &[u32] {
        &self.tiers
    }
    /// `HyperNodeTierNameMap`: the tier of a tier name.
    pub fn tier_of_name(&self, name: &str) -> Option<u32> {
        self.tier_names.get(name).copied()
    }
    /// Tier names in name order (for error messages).
    pub fn tier_names(&self) -> impl Iterator<Item = (&str, u32)> {
        self.tier_names.iter().map(|(k, &v)| (k.as_str(), v))
    }
    /// `FindHyperNodeForNode`: the lowest-tier HyperNode holding `n`.
    pub fn leaf_of(&self, n: NodeId) -> Option<HnId> {
        self.leaf.get(n.ix()).copied().flatten()
    }

    /// `GetAncestors`: `[h, parent, grandparent, …]`.
    pub fn ancestors(&self, h: HnId) -> Vec<HnId> {
        let mut out = vec![h];
        let mut cur = h;
        while let Some(p) = self.parent[cur.ix()] {
            if out.contains(&p) || out.len() > self.names.len() {
                break;
            }
            out.push(p);
            cur = p;
        }
        out
    }

    /// `GetLCAHyperNode`: None on either side returns the other; otherwise the first ancestor
    /// of `b` that is also an ancestor of `a`.
    pub fn lca(&self, a: Option<HnId>, b: Option<HnId>) -> Option<HnId> {
        match (a, b) {
            (None, x) | (x, None) => x,
            (Some(a), Some(b)) => {
                let up = self.ancestors(a);
                self.ancestors(b).into_iter().find(|x| up.contains(x))
            }
        }
    }

    /// The lowest-tier HyperNode holding every node of `nodes` (`getLowestTierHyperNode` of
    /// the intersection; ties to the lower id). None for no nodes or without HyperNodes.
    pub fn lowest_holding(&self, nodes: impl IntoIterator<Item = NodeId>) -> Option<HnId> {
        let mut common: Option<Vec<HnId>> = None;
        for n in nodes {
            let holding = self.holding(n);
            common = Some(match common {
                None => holding.to_vec(),
                Some(c) => c.into_iter().filter(|h| holding.contains(h)).collect(),
            });
        }
        common?.into_iter().min_by_key(|&h| (self.tier(h), h))
    }

    /// Every HyperNode holding node `n`, in id order (empty for an unknown node).
    pub fn holding(&self, n: NodeId) -> &[HnId] {
        self.held.get(n.ix()).map_or(&[], |v| v.as_slice())
    }
}

#[cfg(test)]
mod tests;
