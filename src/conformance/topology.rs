//! The v1.15 cases' `hypernodes:` block (TestCommonStruct's HyperNodes fields) and PodGroup
//! `network_topology`, read as the file's conventions say: `specs` give the HyperNode objects
//! (tier, tier name, Node / HyperNode members → parents), `real_nodes` are the membership truth
//! verbatim, the cluster top's tier is `max(set_by_tier) + 1`, and `{fixture: NAME}` names a
//! `fixtures.hypernode_topologies` entry (expanded by [`expand_fixtures`]).
//!
//! Deviation: names listed in `set_by_tier` / `real_nodes` without a spec are not HyperNodes
//! of the session (as in Volcano's `ssn.HyperNodes`) and are left out entirely, so they take no
//! part in `FindHyperNodeForNode` either. Depends on `model`, `policy` and the case values.

use serde_json::Value;

use super::value::{s, scalar, CaseError};
use crate::model::{NetworkTopologySpec, NodeId, TopologyMode};
use crate::policy::snapshot::Snapshot;
use crate::policy::topology::{Entry, HyperNodes};

/// Replaces `hypernodes: {fixture: NAME}` by the file's `fixtures.hypernode_topologies.NAME`
/// and `nodes: {fixture: NAME}` by `fixtures.node_lists.NAME`.
pub(super) fn expand_fixtures(case: &Value, doc: &Value) -> Value {
    let mut c = case.clone();
    let nodes = case
        .get("nodes")
        .and_then(|h| h.get("fixture"))
        .and_then(|f| f.as_str());
    if let Some(name) = nodes {
        let fixture = doc
            .get("fixtures")
            .and_then(|f| f.get("node_lists"))
            .and_then(|t| t.get(name))
            .cloned();
        if let (Some(obj), Some(f)) = (c.as_object_mut(), fixture) {
            obj.insert("nodes".into(), f);
        }
    }
    let name = case
        .get("hypernodes")
        .and_then(|h| h.get("fixture"))
        .and_then(|f| f.as_str());
    if let Some(name) = name {
        let fixture = doc
            .get("fixtures")
            .and_then(|f| f.get("hypernode_topologies"))
            .and_then(|t| t.get(name))
            .cloned();
        if let (Some(obj), Some(f)) = (c.as_object_mut(), fixture) {
            obj.insert("hypernodes".into(), f);
        }
    }
    c
}

/// The case's HyperNodes over the snapshot's nodes (empty without a `hypernodes` block).
pub(super) fn hypernodes(case: &Value, snap: &Snapshot) -> Result<HyperNodes, CaseError> {
    let Some(h) = case.get("hypernodes") else {
        return Ok(HyperNodes::default());
    };
    if h.get("fixture").is_some() {
        return Err(CaseError::new("hypernodes.fixture: unknown fixture"));
    }
    let tier_of = |k: &str, v: &Value| -> Result<u32, CaseError> {
        scalar(v)
            .parse()
            .ok()
            .filter(|&t: &u32| t <= crate::model::MAX_TIER)
            .ok_or_else(|| CaseError::new(format!("hypernodes.{k}: expected a tier number")))
    };
    let mut top_tier: Option<u32> = None;
    if let Some(m) = h.get("set_by_tier").and_then(|v| v.as_object()) {
        for k in m.keys() {
            let t = tier_of("set_by_tier", &Value::String(k.clone()))?;
            top_tier = Some(top_tier.map_or(t + 1, |x| x.max(t + 1)));
        }
    }
    let names = |v: Option<&Value>| -> Vec<String> {
        v.and_then(|x| x.as_array())
            .map(|a| a.iter().map(scalar).collect())
            .unwrap_or_default()
    };
    let node_ids = |list: Vec<String>, at: &str| -> Result<Vec<NodeId>, CaseError> {
        list.iter()
            .map(|n| {
                snap.find_node(n)
                    .ok_or_else(|| CaseError::new(format!("hypernodes.{at}: unknown node {n:?}")))
            })
            .collect()
    };
    let empty = serde_json::Map::new();
    let specs = h.get("specs").and_then(|v| v.as_object()).unwrap_or(&empty);
    let real = h.get("real_nodes").and_then(|v| v.as_object());
    let mut entries = Vec::new();
    for (name, spec) in specs {
        let tier = tier_of(
            &format!("specs.{name}.tier"),
            spec.get("tier").unwrap_or(&Value::Null),
        )?;
        let parent = specs
            .iter()
            .find(|(_, p)| names(p.get("hypernodes")).contains(name))
            .map(|(p, _)| p.clone());
        let listed = match real.and_then(|r| r.get(name)) {
            Some(r) => names(Some(r)),
            None => names(spec.get("nodes")),
        };
        entries.push(Entry {
            name: name.clone(),
            tier,
            tier_name: s(spec, "tier_name").unwrap_or("").to_string(),
            parent,
            nodes: node_ids(listed, &format!("real_nodes.{name}"))?,
        });
    }
    if entries.is_empty() && top_tier.is_none() {
        return Ok(HyperNodes::default());
    }
    Ok(HyperNodes::from_entries(
        entries,
        snap.nodes.len(),
        top_tier,
    ))
}

/// A PodGroup's `network_topology: {mode, highest_tier_allowed, highest_tier_name}`.
pub(super) fn network_topology(
    pg: &Value,
    field: &str,
) -> Result<Option<NetworkTopologySpec>, CaseError> {
    let Some(t) = pg.get("network_topology") else {
        return Ok(None);
    };
    let mode = match s(t, "mode") {
        None | Some("") => TopologyMode::Hard,
        Some(m) => TopologyMode::parse(m)
            .ok_or_else(|| CaseError::new(format!("{field}.mode: unknown mode {m:?}")))?,
    };
    let highest_tier_allowed = match t.get("highest_tier_allowed") {
        None | Some(Value::Null) => None,
        Some(v) => Some(scalar(v).parse().map_err(|_| {
            CaseError::new(format!(
                "{field}.highest_tier_allowed: expected a tier number"
            ))
        })?),
    };
    Ok(Some(NetworkTopologySpec {
        mode,
        highest_tier_allowed,
        highest_tier_name: s(t, "highest_tier_name").map(str::to_string),
    }))
}
