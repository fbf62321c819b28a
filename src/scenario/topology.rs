//! The scenario's network topology: `[[cluster.topology]]` tiers over the node pools (a
//! shorthand that generates HyperNodes), HyperNode objects from `cluster.objects`, and the
//! PodGroup `networkTopology` of each workload class (`network_topology` on a class, or
//! `spec.networkTopology` of an object job). Everything is resolved once against the nodes
//! (`policy::topology::build`), so a member matching nothing, a cycle, a node in two
//! HyperNodes of one tier, an unknown tier name or a bad mode fail the load naming the file
//! and field.
//!
//! Depends on `model`, `policy::topology` and the scenario loader's context.

use std::collections::{BTreeMap, BTreeSet};

use super::file::ScenarioFile;
use super::load::{Ctx, ScenarioError};
use crate::model::{
    ClusterTopology, HyperNodeMember, HyperNodeSpec, MemberSelector, MemberType,
    NetworkTopologySpec, NodeSpec, TopologyMode, MAX_TIER,
};
use crate::policy::topology::{self, HyperNodes};

/// Where a HyperNode came from, for errors.
enum Source {
    /// `cluster.topology[i]`.
    Tier(usize),
    /// `Origin::describe` of a HyperNode object.
    Object(String),
}

/// Builds and checks the scenario's topology. `objects` are HyperNodes from `cluster.objects`;
/// `object_jobs` the networkTopology of object jobs by class; `nta_configured` whether the
/// scheduler conf has the network-topology-aware plugin (a warning otherwise).
pub(super) fn load(
    cx: &Ctx,
    sf: &ScenarioFile,
    nta_configured: bool,
    nodes: &[NodeSpec],
    objects: Vec<(HyperNodeSpec, String)>,
    object_jobs: BTreeMap<String, NetworkTopologySpec>,
    warnings: &mut Vec<String>,
) -> Result<ClusterTopology, ScenarioError> {
    let mut specs: Vec<(HyperNodeSpec, Source)> = shorthand(cx, sf)?
        .into_iter()
        .map(|(s, i)| (s, Source::Tier(i)))
        .collect();
    specs.extend(objects.into_iter().map(|(s, at)| (s, Source::Object(at))));
    let plain: Vec<HyperNodeSpec> = specs.iter().map(|(s, _)| s.clone()).collect();
    let built = topology::build(&plain, nodes).map_err(|e| {
        let src = specs
            .iter()
            .find(|(s, _)| s.name == e.hypernode)
            .map(|x| &x.1);
        match src {
            Some(Source::Object(at)) => ScenarioError {
                file: at.clone(),
                field: e.field.clone(),
                message: e.message.clone(),
            },
            Some(Source::Tier(i)) => cx.err(
                format!("cluster.topology[{i}]"),
                format!("HyperNode {:?}: {}", e.hypernode, e.message),
            ),
            None => cx.err("cluster.topology", e.to_string()),
        }
    })?;
    let mut job_topology = BTreeMap::new();
    for (i, c) in sf.workload.classes.iter().enumerate() {
        let Some(t) = &c.network_topology else {
            continue;
        };
        let at = format!("workload.classes[{i}].network_topology");
        let spec = class_spec(cx, &at, t)?;
        check_tier_name(&built, &spec).map_err(|m| cx.err(format!("{at}.highest_tier_name"), m))?;
        job_topology.insert(c.name.clone(), spec);
    }
    for (class, spec) in object_jobs {
        check_tier_name(&built, &spec).map_err(|m| {
            cx.err(
                "workload.objects",
                format!("class {class:?}: spec.networkTopology.highestTierName: {m}"),
            )
        })?;
        job_topology.entry(class).or_insert(spec);
    }
    if built.is_empty() && !job_topology.is_empty() {
        warnings.push(
            "network topology: jobs carry a networkTopology but the cluster has no HyperNodes \
             ([[cluster.topology]] or HyperNode objects); they are placed as plain jobs"
                .into(),
        );
    }
    if !built.is_empty() && !nta_configured {
        warnings.push(format!(
            "network topology: {} HyperNodes; without the network-topology-aware plugin in the \
             scheduler conf, jobs with a networkTopology are placed on the whole cluster",
            built.len() - 1
        ));
    }
    Ok(ClusterTopology {
        hypernodes: plain,
        job_topology,
    })
}

/// `[[cluster.topology]]` → HyperNode specs with the tier index each came from.
fn shorthand(cx: &Ctx, sf: &ScenarioFile) -> Result<Vec<(HyperNodeSpec, usize)>, ScenarioError> {
    let mut out = Vec::new();
    let mut names = BTreeSet::new();
    // Members of the tier being built: node names for the first tier, then HyperNode names.
    let mut below: Vec<String> = Vec::new();
    if sf.cluster.topology.len() > MAX_TIER as usize {
        return Err(cx.err(
            "cluster.topology",
            format!(
                "{} tiers exceed the limit of {MAX_TIER}",
                sf.cluster.topology.len()
            ),
        ));
    }
    for (i, tier) in sf.cluster.topology.iter().enumerate() {
        let f = |k: &str| format!("cluster.topology[{i}].{k}");
        if tier.name.is_empty() || tier.name.contains(['/', ' ']) {
            return Err(cx.err(
                f("name"),
                format!(
                    "{:?}: expected a non-empty name without '/' or spaces",
                    tier.name
                ),
            ));
        }
        if !names.insert(tier.name.clone()) {
            return Err(cx.err(f("name"), format!("tier {:?} is given twice", tier.name)));
        }
        if tier.size < 1 || tier.size > 100_000 {
            return Err(cx.err(f("size"), format!("{}: expected 1 to 100000", tier.size)));
        }
        if i == 0 {
            below = first_tier_nodes(cx, sf, tier.pools.as_deref())?;
            if below.is_empty() {
                return Err(cx.err(f("pools"), "the pools hold no node"));
            }
        } else if tier.pools.is_some() {
            return Err(cx.err(
                f("pools"),
                "only the first tier groups node pools; higher tiers group the tier below",
            ));
        }
        let kind = if i == 0 {
            MemberType::Node
        } else {
            MemberType::HyperNode
        };
        let mut made = Vec::new();
        for (k, chunk) in below.chunks(tier.size as usize).enumerate() {
            let name = format!("{}-{k}", tier.name);
            out.push((
                HyperNodeSpec {
                    name: name.clone(),
                    tier: i as u32 + 1,
                    tier_name: tier.name.clone(),
                    members: chunk
                        .iter()
                        .map(|m| HyperNodeMember {
                            kind,
                            selector: MemberSelector::Exact(m.clone()),
                        })
                        .collect(),
                },
                i,
            ));
            made.push(name);
        }
        below = made;
    }
    Ok(out)
}

/// The node names of `pools` (default: every pool), in pool then index order.
fn first_tier_nodes(
    cx: &Ctx,
    sf: &ScenarioFile,
    pools: Option<&[String]>,
) -> Result<Vec<String>, ScenarioError> {
    let all: Vec<String> = sf.node_pools.iter().map(|p| p.name.clone()).collect();
    let chosen = pools.map_or(all, |p| p.to_vec());
    let mut out = Vec::new();
    for (k, name) in chosen.iter().enumerate() {
        let Some(pool) = sf.node_pools.iter().find(|p| &p.name == name) else {
            let known: Vec<&str> = sf.node_pools.iter().map(|p| p.name.as_str()).collect();
            return Err(cx.err(
                format!("cluster.topology[0].pools[{k}]"),
                format!("no node pool {name:?} (pools: {})", known.join(", ")),
            ));
        };
        out.extend((0..pool.count).map(|i| format!("{}-{i}", pool.name)));
    }
    Ok(out)
}

/// A class's `network_topology` table → the PodGroup spec.
fn class_spec(
    cx: &Ctx,
    at: &str,
    t: &crate::workload::synth::ClassTopology,
) -> Result<NetworkTopologySpec, ScenarioError> {
    let mode = match t.mode.as_deref() {
        None => TopologyMode::Hard,
        Some(m) => TopologyMode::parse(m).ok_or_else(|| {
            cx.err(
                format!("{at}.mode"),
                format!("{m:?}: expected \"hard\" or \"soft\""),
            )
        })?,
    };
    let highest_tier_allowed = match t.highest_tier {
        None => None,
        Some(x) if (1..=i64::from(MAX_TIER)).contains(&x) => Some(x as u32),
        Some(x) => {
            return Err(cx.err(
                format!("{at}.highest_tier"),
                format!("{x}: expected a tier from 1 to {MAX_TIER}"),
            ))
        }
    };
    let highest_tier_name = t.highest_tier_name.clone().filter(|n| !n.is_empty());
    if mode == TopologyMode::Hard && highest_tier_allowed.is_none() && highest_tier_name.is_none() {
        return Err(cx.err(
            at,
            "hard mode needs highest_tier or highest_tier_name (the tier the gang must fit in)",
        ));
    }
    Ok(NetworkTopologySpec {
        mode,
        highest_tier_allowed,
        highest_tier_name,
    })
}

/// A `highestTierName` used without `highestTierAllowed` must name a tier of the topology.
fn check_tier_name(h: &HyperNodes, spec: &NetworkTopologySpec) -> Result<(), String> {
    let Some(name) = spec.highest_tier_name.as_deref() else {
        return Ok(());
    };
    if spec.highest_tier_allowed.is_some() || h.is_empty() || h.tier_of_name(name).is_some() {
        return Ok(());
    }
    let known: Vec<String> = h
        .tier_names()
        .map(|(n, t)| format!("{n} (tier {t})"))
        .collect();
    Err(format!(
        "unknown tier name {name:?} (the HyperNodes' tier names: {})",
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    ))
}
