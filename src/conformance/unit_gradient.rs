//! Unit cases of the HyperNode gradients and the gang eviction domains: the
//! `HyperNodeGradientForJobFn` combinator with its purpose (`Tiers::hypernode_gradient`), the
//! HyperNode of the `UnifiedEvictable` context and `GetCandidateDomains`
//! (`gang_domains::candidate_domains`); network-topology-aware's own gradient cases are run
//! by `unit_nta_gradient`.
//!
//! The Go tests' stub plugins ("p1 returns [[hn1]] and records the purpose", "a spy records the
//! context", "test-empty-gradient returns nil") are scripted plugins put into the session's
//! real tiers, so the combinators under test are volsim's own. Depends on `model`, `policy`
//! and the case values.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::value::{list, s, scalar, CaseError};
use super::Verdict;
use crate::model::{NodeSpec, PodGroupSpec, PodSpec, PriorityClassSpec, QueueSpec, Resources};
use crate::policy::actions::gang_domains;
use crate::policy::conf::{Flag, FlagSet, PluginKind};
use crate::policy::plugin::{EvictionContext, EvictionKind, Plugin, Purpose, Vote};
use crate::policy::session::{FirstTie, State};
use crate::policy::snapshot::{JobId, NodeId, PodGroupPhase, Snapshot, TaskId, TaskStatus};
use crate::policy::tiers::Slot;
use crate::policy::topology::{Entry, HnId, HyperNodes, CLUSTER_TOP};
use crate::policy::{Scheduler, SchedulerConf};

/// The calls this module answers (and `ssn.UnifiedEvictable` cases that check the context).
const CALLS: &[&str] = &[
    "ssn.HyperNodeGradientForJobFn(",
    "utils.GetCandidateDomains(",
    "plugin{maxHyperNodesForEviction: N}.reverseAndCapEvictionGradients(",
    "plugin.hyperNodeGradientFn(",
    "plugin = New({}); plugin.OnSessionOpen(ssn); ssn.HyperNodeGradientForSubJobFn(",
];

/// Whether this module runs `case`.
pub(super) fn handles(case: &Value) -> bool {
    let call = s(case, "call").unwrap_or("");
    CALLS.iter().any(|c| call.starts_with(c))
        || (call.starts_with("ssn.UnifiedEvictable(")
            && case.pointer("/expect/ctx_seen_by_plugin").is_some())
}

pub(super) fn run(case: &Value) -> Result<Verdict, CaseError> {
    let call = s(case, "call").unwrap_or("");
    let input = case.get("input").cloned().unwrap_or(Value::Null);
    let expect = case.get("expect").cloned().unwrap_or(Value::Null);
    let got = if call.starts_with("ssn.UnifiedEvictable(") {
        context_seen(call, &input)?
    } else if call.starts_with("ssn.HyperNodeGradientForJobFn(") {
        job_gradient(call, &input)?
    } else if call.starts_with("utils.GetCandidateDomains(") {
        candidate_domains(call, &input)?
    } else if call.starts_with("plugin{") {
        super::unit_nta_gradient::reverse_and_cap(&input)?
    } else if call.starts_with("plugin = New(") {
        super::unit_nta_gradient::subjob_gradient(&input)?
    } else {
        super::unit_nta_gradient::prefiltering(&input)?
    };
    for (k, want) in expect.as_object().into_iter().flatten() {
        match got.get(k) {
            None => return Ok(Verdict::Fail(format!("unknown expectation key {k:?}"))),
            Some(g) if g != want => {
                return Ok(Verdict::Fail(format!("{k}: expected {want} got {g}")))
            }
            _ => {}
        }
    }
    Ok(Verdict::Pass)
}

/// What a scripted plugin was handed.
#[derive(Default)]
struct Seen {
    purpose: Option<Purpose>,
    ctx: Option<EvictionContext>,
}

/// A Go test's stub plugin: a fixed gradient answer (`None`: not registered) and/or a
/// `UnifiedEvictableFn` permitting every candidate; it records what it was called with.
struct Scripted {
    gradient: Option<Vec<Vec<HnId>>>,
    permits_all: bool,
    seen: Arc<Mutex<Seen>>,
}

impl Plugin for Scripted {
    /// Never read by the combinators under test; the gradient hook is network-topology-aware's.
    fn kind(&self) -> PluginKind {
        PluginKind::NetworkTopologyAware
    }
    fn name(&self) -> &'static str {
        "scripted"
    }
    fn registers(&self, f: Flag) -> bool {
        f == Flag::HyperNodeGradient && self.gradient.is_some()
    }
    fn hypernode_gradient(
        &self,
        _s: &State,
        _j: JobId,
        _input: HnId,
        _allocated: Option<HnId>,
        _min_res: &Resources,
        purpose: Purpose,
    ) -> Option<Vec<Vec<HnId>>> {
        if let Ok(mut seen) = self.seen.lock() {
            seen.purpose = Some(purpose);
        }
        self.gradient.clone()
    }
    fn unified_evictable(
        &self,
        _s: &State,
        ctx: &EvictionContext,
        candidates: &[TaskId],
    ) -> Option<(Vec<TaskId>, Vote)> {
        if !self.permits_all {
            return None;
        }
        if let Ok(mut seen) = self.seen.lock() {
            seen.ctx = Some(*ctx);
        }
        Some((candidates.to_vec(), Vote::Permit))
    }
}

/// The scripted tiers of `tiers` (plugins with `enable`, `returns`, and the behaviour text of
/// `behaviour.<plugin>`), with each plugin's record by name.
type Records = Vec<(String, Arc<Mutex<Seen>>)>;
fn scripted_tiers(
    tiers: &Value,
    behaviour: &Value,
    topo: &HyperNodes,
) -> Result<(Vec<Vec<Slot>>, Records), CaseError> {
    let mut out = Vec::new();
    let mut records = Vec::new();
    for (i, tier) in tiers.as_array().into_iter().flatten().enumerate() {
        let mut slots = Vec::new();
        for (k, p) in tier.as_array().into_iter().flatten().enumerate() {
            let field = format!("tiers[{i}][{k}]");
            let name = s(p, "plugin").unwrap_or("").to_string();
            let mut flags = FlagSet::default();
            for e in list(p, "enable") {
                match scalar(e).as_str() {
                    "hyperNodeGradient" => flags.set(Flag::HyperNodeGradient, true),
                    other => {
                        return Err(CaseError::new(format!(
                            "{field}.enable: unknown flag {other:?} (expected hyperNodeGradient)"
                        )))
                    }
                }
            }
            let says = behaviour.get(&name).map(scalar).unwrap_or_default();
            let gradient = match p.get("returns") {
                Some(Value::Array(rows)) if rows.iter().all(|r| r.is_array()) => {
                    let mut g = Vec::new();
                    for r in rows {
                        let mut row = Vec::new();
                        for n in r.as_array().into_iter().flatten() {
                            let n = scalar(n);
                            row.push(topo.find(&n).ok_or_else(|| {
                                CaseError::new(format!("{field}.returns: unknown HyperNode {n:?}"))
                            })?);
                        }
                        g.push(row);
                    }
                    Some(g)
                }
                _ if says.contains("GradientForJobFn returns nil") => Some(Vec::new()),
                _ => None,
            };
            let permits_all = p.get("returns").map(scalar).as_deref() == Some("all candidates");
            let seen = Arc::new(Mutex::new(Seen::default()));
            records.push((name, seen.clone()));
            slots.push(Slot {
                flags,
                plugin: Box::new(Scripted {
                    gradient,
                    permits_all,
                    seen,
                }),
            });
        }
        out.push(slots);
    }
    Ok((out, records))
}

/// A snapshot with queue `q1`, `nodes` 4-cpu/8Gi nodes `node-0…`, and the HyperNodes
/// `entries`.
pub(super) fn snapshot(nodes: usize, entries: Vec<Entry>, top_tier: Option<u32>) -> Snapshot {
    snapshot_of(nodes, Resources::cpu_mem(4000, 8 << 30), entries, top_tier)
}

pub(super) fn snapshot_of(
    nodes: usize,
    each: Resources,
    entries: Vec<Entry>,
    top: Option<u32>,
) -> Snapshot {
    let mut snap = Snapshot::new();
    snap.add_queue(&QueueSpec::new("q1", 1));
    for i in 0..nodes {
        let mut alloc = each;
        alloc.set(crate::model::ResourceName::PODS, 110);
        snap.add_node(&NodeSpec {
            name: format!("node-{i}"),
            allocatable: alloc,
            labels: BTreeMap::new(),
            taints: Vec::new(),
            unschedulable: false,
        });
    }
    snap.topology = Arc::new(HyperNodes::from_entries(entries, nodes, top));
    snap
}

pub(super) fn add_job(snap: &mut Snapshot, name: &str, priority: i32, pg: PodGroupSpec) -> JobId {
    let class = format!("p{priority}");
    snap.add_priority_class(PriorityClassSpec {
        name: class.clone(),
        value: priority,
        global_default: false,
        preemption_never: false,
    });
    let spec = PodGroupSpec {
        namespace: "ns".into(),
        name: name.into(),
        queue: "q1".into(),
        priority_class: Some(class),
        ..pg
    };
    snap.add_job(&spec, PodGroupPhase::Running, 0)
        .expect("queue q1 exists")
}

pub(super) fn empty_scheduler() -> Scheduler {
    Scheduler::new_unvalidated(&SchedulerConf {
        actions: Vec::new(),
        tiers: Vec::new(),
        action_args: BTreeMap::new(),
        warnings: Vec::new(),
        compat: crate::policy::conf::Compat::V1_15,
    })
}

/// The text after `key` in `call`, up to the next `,`, `}`, `)` or space.
fn token<'a>(call: &'a str, key: &str) -> Option<&'a str> {
    let rest = call[call.find(key)? + key.len()..].trim_start();
    let end = rest.find([',', '}', ')', ' ']).unwrap_or(rest.len());
    Some(&rest[..end])
}

/// `TestUnifiedEvictable_ContextPassedThrough`: the context reaches the plugin unchanged.
fn context_seen(call: &str, input: &Value) -> Result<Value, CaseError> {
    let kind = match token(call, "Kind:") {
        Some("GangPreempt") => EvictionKind::GangPreempt,
        Some("GangReclaim") => EvictionKind::GangReclaim,
        other => return Err(CaseError::new(format!("call: unknown Kind {other:?}"))),
    };
    let uid = token(call, "uid:").unwrap_or("job");
    let priority = token(call, "priority:")
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let hn_name = token(call, "HyperNode:").unwrap_or(CLUSTER_TOP);
    let cands: Vec<&str> = call
        .rfind('[')
        .and_then(|a| call[a + 1..].split(']').next())
        .map(|l| {
            l.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let entry = Entry {
        name: hn_name.to_string(),
        tier: 1,
        tier_name: String::new(),
        parent: None,
        nodes: vec![NodeId(0)],
    };
    let mut snap = snapshot(1, vec![entry], None);
    let j = add_job(&mut snap, uid, priority, PodGroupSpec::default());
    let victims = add_job(&mut snap, "victims", 0, PodGroupSpec::default());
    let mut tasks = Vec::new();
    for c in &cands {
        let pod = PodSpec {
            namespace: "ns".into(),
            name: (*c).into(),
            requests: Resources::cpu_mem(100, 1 << 20),
            ..Default::default()
        };
        tasks.push(snap.add_task(victims, &pod, TaskStatus::Running, Some(NodeId(0)), 0));
    }
    let hn = snap.topology.find(hn_name);
    let mut sched = empty_scheduler();
    let mut tie = FirstTie;
    let ssn = sched.session(&mut snap, 0, &mut tie);
    let (slots, records) = scripted_tiers(
        input.get("tiers").unwrap_or(&Value::Null),
        &Value::Null,
        &ssn.snap().topology,
    )?;
    ssn.tiers.tiers = slots;
    ssn.tiers.index_flags();
    let ctx = EvictionContext {
        kind,
        job: j,
        hypernode: hn,
    };
    ssn.tiers.unified_evictable(&ssn.st, &ctx, &tasks);
    let mut seen = Value::Null;
    for (_, r) in &records {
        if let Some(c) = r.lock().ok().and_then(|x| x.ctx) {
            let topo = &ssn.snap().topology;
            seen = json!({
                "kind": match c.kind {
                    EvictionKind::GangPreempt => "GangPreempt",
                    EvictionKind::GangReclaim => "GangReclaim",
                },
                "job_uid": ssn.snap().job(c.job).name,
                "hypernode": c.hypernode.map(|h| topo.name(h).to_string()),
            });
        }
    }
    Ok(json!({ "ctx_seen_by_plugin": seen }))
}

fn purpose_of(call: &str) -> Purpose {
    if call.contains("PurposeEvict") {
        Purpose::Evict
    } else {
        Purpose::Allocate
    }
}

fn purpose_name(p: Purpose) -> &'static str {
    match p {
        Purpose::Allocate => "PurposeAllocate",
        Purpose::Evict => "PurposeEvict",
    }
}

/// HyperNodes named in the tiers' `returns` (tier 1, no nodes), for the scripted answers.
fn returned_hypernodes(tiers: &Value) -> Vec<Entry> {
    let mut names: Vec<String> = tiers
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| t.as_array().into_iter().flatten())
        .flat_map(|p| {
            p.get("returns")
                .and_then(|r| r.as_array())
                .into_iter()
                .flatten()
        })
        .flat_map(|r| r.as_array().into_iter().flatten())
        .map(scalar)
        .collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|name| Entry {
            name,
            tier: 1,
            tier_name: String::new(),
            parent: None,
            nodes: Vec::new(),
        })
        .collect()
}

/// `TestHyperNodeGradientForJobFn_ForwardsPurposeAndKeepsWinnerTakesAll`.
fn job_gradient(call: &str, input: &Value) -> Result<Value, CaseError> {
    let tiers = input.get("tiers").unwrap_or(&Value::Null);
    let mut snap = snapshot(0, returned_hypernodes(tiers), None);
    let j = add_job(&mut snap, "job", 0, PodGroupSpec::default());
    let mut sched = empty_scheduler();
    let mut tie = FirstTie;
    let ssn = sched.session(&mut snap, 0, &mut tie);
    let topo = ssn.snap().topology.clone();
    let top = topo
        .top()
        .ok_or_else(|| CaseError::new("input.tiers: no HyperNode returned"))?;
    let (slots, records) = scripted_tiers(tiers, &Value::Null, &topo)?;
    ssn.tiers.tiers = slots;
    ssn.tiers.index_flags();
    let g =
        ssn.tiers
            .hypernode_gradient(&ssn.st, j, top, None, &Resources::empty(), purpose_of(call));
    let names: Vec<Vec<&str>> = g
        .iter()
        .map(|row| row.iter().map(|&h| topo.name(h)).collect())
        .collect();
    let mut out = serde_json::Map::new();
    out.insert("result".into(), json!(names));
    for (name, r) in &records {
        if let Some(p) = r.lock().ok().and_then(|x| x.purpose) {
            out.insert(format!("purpose_seen_by_{name}"), json!(purpose_name(p)));
        }
    }
    Ok(Value::Object(out))
}

/// `TestGetCandidateDomains_EmptyGradient_HardTopologyNoFallback`.
fn candidate_domains(call: &str, input: &Value) -> Result<Value, CaseError> {
    let session = input.get("session").cloned().unwrap_or(Value::Null);
    let max = token(call, "maxDomains=")
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(8);
    let job_v = input.get("job").cloned().unwrap_or(Value::Null);
    let topology = super::topology::network_topology(&job_v, "input.job.network_topology")?;
    // Only the cluster top (`hypernodes_overridden_to`), at tier 1.
    let mut snap = snapshot(0, Vec::new(), Some(1));
    let pg = PodGroupSpec {
        network_topology: topology,
        ..Default::default()
    };
    let j = add_job(&mut snap, "job", 0, pg);
    let mut sched = empty_scheduler();
    let mut tie = FirstTie;
    let ssn = sched.session(&mut snap, 0, &mut tie);
    let topo = ssn.snap().topology.clone();
    let (slots, _) = scripted_tiers(
        session.get("tiers").unwrap_or(&Value::Null),
        session.get("plugin_behaviour").unwrap_or(&Value::Null),
        &topo,
    )?;
    ssn.tiers.tiers = slots;
    ssn.tiers.index_flags();
    let domains: Vec<&str> = gang_domains::candidate_domains(&ssn, j, max)
        .iter()
        .map(|d| d.hypernode.map_or(CLUSTER_TOP, |h| topo.name(h)))
        .collect();
    Ok(json!({ "domains": domains }))
}
