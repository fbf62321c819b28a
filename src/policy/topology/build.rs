//! Resolving HyperNode specs against the cluster's nodes: each member selector to the nodes or
//! HyperNodes it names, parents from HyperNode members, real nodes as the transitive union of
//! Node members. Refused (with the HyperNode and member named): a member matching nothing, an
//! unknown HyperNode member, a HyperNode with two parents, a cycle, two HyperNodes of one tier
//! sharing a node, two HyperNodes with one name.
//!
//! Mirrors volcano pkg/scheduler/api/hyper_node_info.go `BuildHyperNodeCache` (which logs and
//! skips what it cannot use). Deviation: every such case is an error here, because a topology
//! that silently loses a member changes the answer of a what-if run. Depends on `model`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::{Entry, HyperNodes};
use crate::model::{HyperNodeSpec, MemberSelector, MemberType, NodeId, NodeSpec};

/// A topology that cannot be used: `hypernode` and `field` (e.g. `spec.members[2]`) locate it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopologyError {
    pub hypernode: String,
    pub field: String,
    pub message: String,
}

impl fmt::Display for TopologyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HyperNode {:?}", self.hypernode)?;
        if !self.field.is_empty() {
            write!(f, " {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

fn err(h: &str, field: impl Into<String>, message: impl Into<String>) -> TopologyError {
    TopologyError {
        hypernode: h.to_string(),
        field: field.into(),
        message: message.into(),
    }
}

/// Resolves `specs` over `nodes` (a node's `NodeId` is its index in `nodes`, the order the
/// snapshot adds them). An empty `specs` gives the empty topology.
pub fn build(specs: &[HyperNodeSpec], nodes: &[NodeSpec]) -> Result<HyperNodes, TopologyError> {
    if specs.is_empty() {
        return Ok(HyperNodes::default());
    }
    let mut by_name: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, s) in specs.iter().enumerate() {
        if by_name.insert(s.name.as_str(), i).is_some() {
            return Err(err(&s.name, "metadata.name", "defined twice"));
        }
    }
    let mut parent: Vec<Option<usize>> = vec![None; specs.len()];
    let mut direct: Vec<Vec<NodeId>> = vec![Vec::new(); specs.len()];
    for (i, s) in specs.iter().enumerate() {
        for (k, m) in s.members.iter().enumerate() {
            let field = format!("spec.members[{k}]");
            match m.kind {
                MemberType::HyperNode => {
                    let MemberSelector::Exact(child) = &m.selector else {
                        return Err(err(
                            &s.name,
                            field,
                            "a HyperNode member must use exactMatch",
                        ));
                    };
                    let Some(&c) = by_name.get(child.as_str()) else {
                        return Err(err(
                            &s.name,
                            field,
                            format!("member HyperNode {child:?} is not defined"),
                        ));
                    };
                    if let Some(p) = parent[c] {
                        if p != i {
                            return Err(err(
                                &s.name,
                                field,
                                format!(
                                    "HyperNode {child:?} already has parent {:?}; a HyperNode \
                                     has one parent",
                                    specs[p].name
                                ),
                            ));
                        }
                    }
                    parent[c] = Some(i);
                }
                MemberType::Node => {
                    let matched = match_nodes(&m.selector, nodes)
                        .map_err(|e| err(&s.name, format!("{field}.selector"), e))?;
                    if matched.is_empty() {
                        return Err(err(
                            &s.name,
                            format!("{field}.selector"),
                            format!("{} matches no node", describe(&m.selector)),
                        ));
                    }
                    direct[i].extend(matched);
                }
            }
        }
    }
    // Cycles: walking up from any HyperNode must end within `specs.len()` steps.
    for (i, s) in specs.iter().enumerate() {
        let mut seen = BTreeSet::from([i]);
        let mut cur = i;
        while let Some(p) = parent[cur] {
            if !seen.insert(p) {
                return Err(err(
                    &s.name,
                    "spec.members",
                    format!(
                        "HyperNode membership forms a cycle through {:?}",
                        specs[p].name
                    ),
                ));
            }
            cur = p;
        }
    }
    // Real nodes: own Node members plus every descendant's.
    let mut real = direct.clone();
    for (i, own) in direct.iter().enumerate() {
        let mut cur = i;
        while let Some(p) = parent[cur] {
            real[p].extend(own.iter().copied());
            cur = p;
        }
    }
    for r in &mut real {
        r.sort_unstable();
        r.dedup();
    }
    // One HyperNode per tier per node.
    let mut owner: BTreeMap<(u32, NodeId), usize> = BTreeMap::new();
    for (i, s) in specs.iter().enumerate() {
        for &n in &real[i] {
            if let Some(&o) = owner.get(&(s.tier, n)) {
                return Err(err(
                    &s.name,
                    "spec.members",
                    format!(
                        "node {:?} is also in HyperNode {:?} of the same tier {}: a node has one \
                         HyperNode per tier",
                        nodes[n.ix()].name,
                        specs[o].name,
                        s.tier
                    ),
                ));
            }
            owner.insert((s.tier, n), i);
        }
    }
    for (i, s) in specs.iter().enumerate() {
        if let Some(p) = parent[i] {
            if specs[p].tier <= s.tier {
                return Err(err(
                    &specs[p].name,
                    "spec.tier",
                    format!(
                        "tier {} is not above the tier {} of its member {:?}",
                        specs[p].tier, s.tier, s.name
                    ),
                ));
            }
        }
    }
    let entries = specs
        .iter()
        .enumerate()
        .map(|(i, s)| Entry {
            name: s.name.clone(),
            tier: s.tier,
            tier_name: s.tier_name.clone(),
            parent: parent[i].map(|p| specs[p].name.clone()),
            nodes: real[i].clone(),
        })
        .collect();
    Ok(HyperNodes::from_entries(entries, nodes.len(), None))
}

fn describe(sel: &MemberSelector) -> String {
    match sel {
        MemberSelector::Exact(n) => format!("exactMatch {n:?}"),
        MemberSelector::Regex(p) => format!("regexMatch {p:?}"),
        MemberSelector::Labels { .. } => "labelMatch".to_string(),
    }
}

/// The nodes a Node-member selector names, in node order.
fn match_nodes(sel: &MemberSelector, nodes: &[NodeSpec]) -> Result<Vec<NodeId>, String> {
    let ids = |f: &dyn Fn(&NodeSpec) -> bool| -> Vec<NodeId> {
        nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| f(n))
            .map(|(i, _)| NodeId(i as u32))
            .collect()
    };
    Ok(match sel {
        MemberSelector::Exact(name) => ids(&|n| &n.name == name),
        MemberSelector::Regex(p) => {
            let re = regex::Regex::new(p)
                .map_err(|e| format!("regexMatch {p:?} is not a valid pattern: {e}"))?;
            ids(&|n| re.is_match(&n.name))
        }
        MemberSelector::Labels {
            match_labels,
            match_expressions,
        } => ids(&|n| {
            match_labels.iter().all(|(k, v)| n.labels.get(k) == Some(v))
                && match_expressions.iter().all(|r| r.matches(&n.labels))
        }),
    })
}
