//! Unit cases of network-topology-aware's HyperNode gradients: `hyperNodeGradientFn`'s
//! pre-filtering for both purposes (`NetworkTopologyAware::gradient_within`),
//! `reverseAndCapEvictionGradients` (`topology::job::reverse_and_cap`) and the plugin's Evict
//! gradient of a hard sub-job through the session (`Tiers::hypernode_gradient`). Dispatched by
//! `unit_gradient`. Depends on `model`, `policy` and the case values.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::unit_gradient::{add_job, empty_scheduler, snapshot, snapshot_of};
use super::value::{int, list, s, scalar, CaseError};
use crate::model::{PodGroupSpec, PodSpec, Resources};
use crate::policy::conf::{Flag, FlagSet, PluginArgs, PluginConf, PluginKind};
use crate::policy::plugin::{Plugin, Purpose};
use crate::policy::plugins::network_topology_aware::NetworkTopologyAware;
use crate::policy::session::FirstTie;
use crate::policy::snapshot::{NodeId, TaskStatus};
use crate::policy::topology::{job, Entry, CLUSTER_TOP};
use crate::policy::{Scheduler, SchedulerConf};

/// `TestReverseAndCapEvictionGradients`: caps 3 and 0.
pub(super) fn reverse_and_cap(input: &Value) -> Result<Value, CaseError> {
    let rows: Vec<Vec<String>> = list(input, "gradients")
        .iter()
        .map(|r| r.as_array().into_iter().flatten().map(scalar).collect())
        .collect();
    Ok(json!({
        "with_max_3": {"result": job::reverse_and_cap(&rows, 3)},
        "with_max_0": {"result": job::reverse_and_cap(&rows, 0)},
    }))
}

/// `TestHyperNodeGradientPreFiltering` (the generator of nta-28…37): 1000 nodes, 100
/// tier-1 HyperNodes of 10 under one tier-2 HyperNode; hn-1-0's cached idle and future idle
/// replaced by the case's; the gradient from hn-2-0 without an allocated HyperNode.
pub(super) fn prefiltering(input: &Value) -> Result<Value, CaseError> {
    let res = |k: &str| match input.get(k) {
        Some(v) if !v.is_null() => super::value::resources(v, &format!("input.{k}")),
        _ => Ok(Resources::empty()),
    };
    let (min_res, idle, future) = (res("min_resource")?, res("idle")?, res("future_idle")?);
    let highest = int(input, "highest_allowed_tier")?
        .ok_or_else(|| CaseError::new("input.highest_allowed_tier: missing"))?;
    let highest = u32::try_from(highest).map_err(|_| {
        CaseError::new("input.highest_allowed_tier: expected a tier ≥ 0".to_string())
    })?;
    let purpose = match s(input, "purpose") {
        Some("PurposeEvict") => Purpose::Evict,
        Some("PurposeAllocate") | None => Purpose::Allocate,
        Some(other) => {
            return Err(CaseError::new(format!(
                "input.purpose: unknown {other:?} (expected PurposeAllocate or PurposeEvict)"
            )))
        }
    };
    let mut entries: Vec<Entry> = (0..100u32)
        .map(|i| Entry {
            name: format!("hn-1-{i}"),
            tier: 1,
            tier_name: String::new(),
            parent: Some("hn-2-0".into()),
            nodes: (10 * i..10 * i + 10).map(NodeId).collect(),
        })
        .collect();
    entries.push(Entry {
        name: "hn-2-0".into(),
        tier: 2,
        tier_name: String::new(),
        parent: None,
        nodes: (0..1000).map(NodeId).collect(),
    });
    let mut snap = snapshot(1000, entries, None);
    let mut sched = empty_scheduler();
    let mut tie = FirstTie;
    let ssn = sched.session(&mut snap, 0, &mut tie);
    let topo = ssn.snap().topology.clone();
    let (Some(hn10), Some(root)) = (topo.find("hn-1-0"), topo.find("hn-2-0")) else {
        return Err(CaseError::new("generator: HyperNodes not built"));
    };
    let PluginArgs::NetworkTopologyAware(args) =
        PluginArgs::defaults(PluginKind::NetworkTopologyAware)
    else {
        return Err(CaseError::new("not network-topology-aware arguments"));
    };
    let mut nta = NetworkTopologyAware::new(&args);
    nta.on_session_open(&ssn.st);
    nta.set_free_sums(hn10, idle, future);
    let g = nta
        .gradient_within(&ssn.st, root, highest, None, &min_res, purpose)
        .ok_or_else(|| CaseError::new("hyperNodeGradientFn: no search root"))?;
    let ascending = g
        .windows(2)
        .filter(|w| !w[0].is_empty() && !w[1].is_empty())
        .all(|w| topo.tier(w[0][0]) <= topo.tier(w[1][0]));
    Ok(json!({
        "error": false,
        "hn_1_0_selected": g.iter().flatten().any(|&h| h == hn10),
        "gradients_ascending_by_tier": ascending,
    }))
}

/// `TestHyperNodeGradientForSubJobFn_NoSubJobPolicyRespectsHardTopology`: the real plugin's
/// Evict gradient for a hard sub-job whose pending request no HyperNode within its tier can
/// hold. volsim's sub-job is the job's default one, so the sub-job's policy topology is
/// written on the job; its minimum is the pending tasks' request.
pub(super) fn subjob_gradient(input: &Value) -> Result<Value, CaseError> {
    let session = input.get("session").cloned().unwrap_or(Value::Null);
    let nodes = list(&session, "nodes");
    for (i, n) in nodes.iter().enumerate() {
        if s(n, "name").is_none() {
            return Err(CaseError::new(format!(
                "input.session.nodes[{i}].name: missing"
            )));
        }
    }
    let names: Vec<String> = nodes
        .iter()
        .map(|n| s(n, "name").unwrap_or("").into())
        .collect();
    let alloc = match nodes.first().and_then(|n| n.get("allocatable")) {
        Some(v) => super::value::resources(v, "input.session.nodes[0].allocatable")?,
        None => Resources::empty(),
    };
    let node_of = |n: &Value| {
        names
            .iter()
            .position(|x| *x == scalar(n))
            .map(|i| NodeId(i as u32))
    };
    let real = session.get("real_nodes").cloned().unwrap_or(Value::Null);
    let mut entries = Vec::new();
    for (name, h) in session
        .get("hypernodes")
        .and_then(|h| h.as_object())
        .into_iter()
        .flatten()
    {
        if name == CLUSTER_TOP {
            continue;
        }
        let tier = int(h, "tier")?.unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32;
        let parent = s(h, "parent")
            .filter(|p| *p != CLUSTER_TOP)
            .map(str::to_string);
        let members = list(&real, name).iter().filter_map(node_of).collect();
        entries.push(Entry {
            name: name.clone(),
            tier,
            tier_name: String::new(),
            parent,
            nodes: members,
        });
    }
    let mut snap = snapshot_of(names.len(), alloc, entries, None);
    let sub = input.get("sub_job").cloned().unwrap_or(Value::Null);
    let policy = sub.get("policy").cloned().unwrap_or(Value::Null);
    let topology = super::topology::network_topology(&policy, "input.sub_job.policy")?;
    let pg = PodGroupSpec {
        network_topology: topology,
        ..Default::default()
    };
    let j = add_job(&mut snap, "job", 0, pg);
    let mut min_res = Resources::empty();
    for (i, t) in list(&sub, "pending_tasks").iter().enumerate() {
        let f = format!("input.sub_job.pending_tasks[{i}]");
        let req = super::value::resources(t.get("req").unwrap_or(&Value::Null), &f)?;
        min_res.add(&req);
        let pod = PodSpec {
            namespace: "ns".into(),
            name: s(t, "uid").unwrap_or("task").into(),
            requests: req,
            ..Default::default()
        };
        snap.add_task(j, &pod, TaskStatus::Pending, None, 0);
    }
    let mut flags = FlagSet::default();
    flags.set(Flag::HyperNodeGradient, true);
    let kind = PluginKind::NetworkTopologyAware;
    let mut sched = Scheduler::new_unvalidated(&SchedulerConf {
        actions: Vec::new(),
        tiers: vec![vec![PluginConf {
            flags,
            hierarchy: false,
            args: PluginArgs::defaults(kind),
        }]],
        action_args: BTreeMap::new(),
        warnings: Vec::new(),
        compat: crate::policy::conf::Compat::V1_15,
    });
    let mut tie = FirstTie;
    let ssn = sched.session(&mut snap, 0, &mut tie);
    let topo = ssn.snap().topology.clone();
    let top = topo
        .top()
        .ok_or_else(|| CaseError::new("input.session.hypernodes: none"))?;
    let g = ssn
        .tiers
        .hypernode_gradient(&ssn.st, j, top, None, &min_res, Purpose::Evict);
    let flat: Vec<&str> = g.iter().flatten().map(|&h| topo.name(h)).collect();
    Ok(json!({ "gradients": if flat.is_empty() { json!("empty") } else { json!(flat) } }))
}
