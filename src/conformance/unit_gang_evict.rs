//! Unit cases of the gang eviction actions that the v1.15 tests call on hand-built sessions:
//! `parseArguments`, `selectDomainBundles` (flattened), `BuildNominationPlanInDomain`,
//! `collectPendingTasksForJobStartup` and `prioritizeNodesForSimulate`, run against
//! `policy::actions::{gang_evict, gang_plan}` on a snapshot built from the case's struct
//! fields. Depends on `model` and `policy`.
//!
//! How the Go structs map: a node's `idle`/`releasing` become its allocatable (a Releasing
//! filler task holds `releasing`); tasks listed on a node are added after it (`then:
//! node.AddTask(…)`), or, on a node given without `idle`, make up its whole allocatable. A
//! task without `req` gets `makeTask`'s 1 cpu (simulate_test.go). The tests' stub
//! `UnifiedEvictableFn` that "returns all candidates" is gang's (it permits every candidate);
//! a session without tiers has no plugin at all, as `&framework.Session{}`.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::value::{int, list, s, scalar, str_map, CaseError};
use super::Verdict;
use crate::model::{NodeSpec, ResourceName};
use crate::model::{PodGroupSpec, PodSpec, PriorityClassSpec, QueueSpec, Resources};
use crate::policy::actions::{gang_evict, gang_plan};
use crate::policy::conf::{Action, ArgValue, FlagSet, PluginArgs, PluginConf, PluginKind};
use crate::policy::plugin::EvictionKind;
use crate::policy::session::FirstTie;
use crate::policy::snapshot::{NodeId, PodGroupPhase, Snapshot, TaskId, TaskStatus};
use crate::policy::{Scheduler, SchedulerConf};

/// The calls this module answers.
pub(super) const CALLS: &[&str] = &[
    "gangpreempt.New().parseArguments",
    "gangreclaim.New().parseArguments",
    "utils.FlattenBundles(action.selectDomainBundles(",
    "utils.BuildNominationPlanInDomain(",
    "plan = BuildNominationPlanInDomain(",
    "utils.collectPendingTasksForJobStartup(",
    "utils.prioritizeNodesForSimulate(",
];

pub(super) fn run(case: &Value) -> Result<Verdict, CaseError> {
    let call = s(case, "call").unwrap_or("");
    let input = case.get("input").cloned().unwrap_or(Value::Null);
    let expect = case.get("expect").cloned().unwrap_or(Value::Null);
    let got = if call.contains("parseArguments") {
        parse_arguments(&input, call)?
    } else if call.contains("selectDomainBundles") {
        domain_bundles(&input, call)?
    } else if call.contains("BuildNominationPlanInDomain") {
        if input.get("attempt1").is_some() {
            // Guards: no session / no domain → no plan (every attempt here lacks a domain).
            json!({"attempt1": {"ok": false, "plan": null}, "attempt2": {"ok": false, "plan": null}})
        } else {
            plan(&input)?
        }
    } else if call.contains("collectPendingTasksForJobStartup") {
        pending(&input)?
    } else {
        best_node(&input)?
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

fn parse_arguments(input: &Value, call: &str) -> Result<Value, CaseError> {
    let action = if call.starts_with("gangpreempt") {
        Action::GangPreempt
    } else {
        Action::GangReclaim
    };
    let mut conf = SchedulerConf {
        actions: vec![action],
        tiers: Vec::new(),
        action_args: BTreeMap::new(),
        warnings: Vec::new(),
        compat: crate::policy::conf::Compat::V1_15,
    };
    let session = input.get("session").cloned().unwrap_or(Value::Null);
    for c in list(&session, "configurations") {
        let args = c
            .get("arguments")
            .and_then(|a| a.as_object())
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| ArgValue::from_json(v).map(|x| (k.clone(), x)))
            .collect();
        conf.action_args
            .insert(s(c, "name").unwrap_or("").to_string(), args);
    }
    let a = conf
        .gang_evict_args(action)
        .map_err(|e| CaseError::new(format!("input.session.configurations: {e}")))?;
    Ok(json!({"max_domains": a.max_domains, "allow_whole_bundle": a.allow_whole_bundle}))
}

/// The snapshot of a hand-built session, with the task and node ids by case name.
struct Built {
    snap: Snapshot,
    tasks: BTreeMap<String, TaskId>,
    nodes: BTreeMap<String, NodeId>,
}

/// Builds queues, nodes (from `session.nodes` and the `real_nodes_list` entries), jobs and
/// tasks. `session.queues` absent → one queue `q1` every job falls into.
fn build(input: &Value) -> Result<Built, CaseError> {
    let session = input.get("session").cloned().unwrap_or(Value::Null);
    let mut snap = Snapshot::new();
    let queues = list(&session, "queues");
    if queues.is_empty() {
        snap.add_queue(&QueueSpec::new("q1", 1));
    }
    for q in queues {
        let mut spec = QueueSpec::new(s(q, "name").unwrap_or("q1"), 1);
        let reclaimable = q.get("spec").and_then(|x| x.get("reclaimable"));
        spec.reclaimable = reclaimable.and_then(|r| r.as_bool()).unwrap_or(true);
        snap.add_queue(&spec);
    }
    // Node specs in order: session.nodes, then the domain lists' inline entries.
    let mut node_specs: Vec<Value> = list(&session, "nodes").to_vec();
    if let Some(m) = session.get("real_nodes_list").and_then(|v| v.as_object()) {
        for n in m.values().flat_map(|v| v.as_array().into_iter().flatten()) {
            if n.is_object() && !node_specs.iter().any(|x| s(x, "name") == s(n, "name")) {
                node_specs.push(n.clone());
            }
        }
    }
    let tasks_v = list(input, "tasks");
    let req_of = |t: &Value, f: &str| -> Result<Resources, CaseError> {
        match t.get("req") {
            Some(r) => super::value::resources(r, f),
            None => Ok(cpu(1000)),
        }
    };
    let mut nodes = BTreeMap::new();
    let mut fillers = Vec::new();
    for (i, n) in node_specs.iter().enumerate() {
        let f = format!("input.session.nodes[{i}]");
        let name = s(n, "name").unwrap_or("").to_string();
        let res = |k: &str| match n.get(k) {
            Some(v) if !v.is_null() => super::value::resources(v, &format!("{f}.{k}")),
            _ => Ok(Resources::empty()),
        };
        let (idle, releasing) = (res("idle")?, res("releasing")?);
        let mut alloc = idle.plus(&releasing);
        if n.get("idle").is_none() && n.get("then").is_none() {
            for t in tasks_v
                .iter()
                .filter(|t| s(t, "node") == Some(name.as_str()))
            {
                alloc.add(&req_of(t, &f)?);
            }
        }
        alloc.set(ResourceName::PODS, 110);
        let id = snap.add_node(&NodeSpec {
            name: name.clone(),
            allocatable: alloc,
            labels: BTreeMap::new(),
            taints: Vec::new(),
            unschedulable: false,
        });
        if !releasing.is_empty() {
            fillers.push((id, releasing));
        }
        nodes.insert(name, id);
    }
    let jobs = list(input, "jobs").to_vec();
    let jobs: Vec<Value> = if jobs.is_empty() {
        input.get("job").cloned().into_iter().collect()
    } else {
        jobs
    };
    for (i, j) in jobs.iter().enumerate() {
        let uid = s(j, "uid").unwrap_or("ns/job");
        let (ns, name) = uid.split_once('/').unwrap_or(("ns", uid));
        let prio = int(j, "priority")?.unwrap_or(0) as i32;
        let class = format!("p{prio}");
        snap.add_priority_class(PriorityClassSpec {
            name: class.clone(),
            value: prio,
            global_default: false,
            preemption_never: false,
        });
        let ann = str_map(j.get("podgroup").unwrap_or(&Value::Null), "annotations");
        let preemptable = ann
            .get("volcano.sh/preemptable")
            .map(|v| v == "true")
            .or_else(|| j.get("preemptable").and_then(|p| p.as_bool()));
        let queue = s(j, "queue").unwrap_or("q1");
        let pg = PodGroupSpec {
            namespace: ns.into(),
            name: name.into(),
            queue: queue.into(),
            min_member: int(j, "min_available")?.unwrap_or(0).max(0) as u32,
            priority_class: Some(class),
            preemptable,
            ..Default::default()
        };
        snap.add_job(&pg, PodGroupPhase::Running, 0)
            .ok_or_else(|| CaseError::new(format!("input.jobs[{i}].queue: unknown {queue:?}")))?;
    }
    let mut tasks = BTreeMap::new();
    for (i, t) in tasks_v.iter().enumerate() {
        let f = format!("input.tasks[{i}]");
        let uid = s(t, "uid").unwrap_or("").to_string();
        let job_uid = s(t, "job").unwrap_or("");
        let job = snap
            .find_job(job_uid)
            .ok_or_else(|| CaseError::new(format!("{f}.job: unknown {job_uid:?}")))?;
        let st = s(t, "status").unwrap_or("Pending");
        let status = TaskStatus::parse(st)
            .ok_or_else(|| CaseError::new(format!("{f}.status: unknown {st:?}")))?;
        let node = s(t, "node").and_then(|n| nodes.get(n).copied());
        let pod = PodSpec {
            namespace: s(t, "ns").unwrap_or("ns").into(),
            name: s(t, "name").unwrap_or(&uid).into(),
            requests: req_of(t, &f)?,
            priority: int(t, "priority")?.map(|p| p as i32),
            preemptable: t.get("preemptable").and_then(|p| p.as_bool()),
            ..Default::default()
        };
        let placed = if status == TaskStatus::Pending {
            None
        } else {
            node
        };
        let id = snap.add_task(job, &pod, status, placed, 0);
        if let Some(nom) = s(t, "pod_status_nominated_node_name") {
            snap.tasks[id.ix()].nominated_node = nodes.get(nom).copied();
        }
        tasks.insert(uid, id);
    }
    if !fillers.is_empty() {
        snap.add_queue(&QueueSpec::new("fillers", 1));
        let pg = PodGroupSpec {
            namespace: "fillers".into(),
            name: "fillers".into(),
            queue: "fillers".into(),
            ..Default::default()
        };
        let fj = snap
            .add_job(&pg, PodGroupPhase::Running, 0)
            .expect("queue added");
        for (k, (n, r)) in fillers.into_iter().enumerate() {
            let pod = PodSpec {
                namespace: "fillers".into(),
                name: format!("releasing-{k}"),
                requests: r,
                ..Default::default()
            };
            snap.add_task(fj, &pod, TaskStatus::Releasing, Some(n), 0);
        }
    }
    Ok(Built { snap, tasks, nodes })
}

fn cpu(milli: i64) -> Resources {
    let mut r = Resources::empty();
    r.set(ResourceName::CPU, milli);
    r
}

/// A scheduler with the given plugins (test tiers: no enable flag set).
fn scheduler(plugins: &[PluginKind]) -> Scheduler {
    let tier: Vec<PluginConf> = plugins
        .iter()
        .map(|&k| PluginConf {
            flags: FlagSet::default(),
            hierarchy: false,
            args: PluginArgs::defaults(k),
        })
        .collect();
    let conf = SchedulerConf {
        actions: Vec::new(),
        tiers: if tier.is_empty() {
            Vec::new()
        } else {
            vec![tier]
        },
        action_args: BTreeMap::new(),
        warnings: Vec::new(),
        compat: crate::policy::conf::Compat::V1_15,
    };
    Scheduler::new_unvalidated(&conf)
}

fn domain_bundles(input: &Value, call: &str) -> Result<Value, CaseError> {
    let mut b = build(input)?;
    let kind = if call.contains("preemptorJob") {
        EvictionKind::GangPreempt
    } else {
        EvictionKind::GangReclaim
    };
    let session = input.get("session").cloned().unwrap_or(Value::Null);
    let domain: Vec<NodeId> = session
        .get("real_nodes_list")
        .and_then(|m| m.get("d1"))
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|n| {
            b.nodes
                .get(&s(n, "name").map_or_else(|| scalar(n), str::to_string))
        })
        .copied()
        .collect();
    let preemptor = list(input, "jobs")
        .first()
        .and_then(|j| s(j, "uid"))
        .unwrap_or("");
    let j = b
        .snap
        .find_job(preemptor)
        .ok_or_else(|| CaseError::new("input.jobs[0]: no preemptor job"))?;
    let mut sched = scheduler(&[PluginKind::Gang]);
    let mut tie = FirstTie;
    let ssn = sched.session(&mut b.snap, 0, &mut tie);
    let pending = gang_evict::pending_set(&ssn, j);
    let mut need = Resources::empty();
    for &t in &pending {
        need.add(&ssn.snap().task(t).resreq);
    }
    let args = crate::policy::conf::GangEvictArgs::default();
    let bundles = gang_evict::select_domain_bundles(&ssn, j, &need, &domain, None, kind, &args);
    let names: Vec<String> = bundles
        .iter()
        .flatten()
        .map(|&t| ssn.snap().task(t).name.clone())
        .collect();
    Ok(json!({ "victims": names }))
}

fn plan(input: &Value) -> Result<Value, CaseError> {
    let mut b = build(input)?;
    let session = input.get("session").cloned().unwrap_or(Value::Null);
    let dname = input.get("domain").and_then(|d| s(d, "name")).unwrap_or("");
    let domain: Vec<NodeId> = session
        .get("real_nodes_list")
        .and_then(|m| m.get(dname))
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|n| b.nodes.get(&scalar(n)).copied())
        .collect();
    let job_uid = list(input, "jobs")
        .first()
        .and_then(|j| s(j, "uid"))
        .unwrap_or("");
    let j = b
        .snap
        .find_job(job_uid)
        .ok_or_else(|| CaseError::new("input.jobs[0]: no job"))?;
    let victims: Vec<TaskId> = b
        .tasks
        .iter()
        .filter(|(_, &t)| b.snap.task(t).job != j)
        .map(|(_, &t)| t)
        .filter(|&t| b.snap.task(t).status == TaskStatus::Running)
        .collect();
    let q = b.snap.job(j).queue;
    let first = b.snap.job(j).tasks[0];
    let mut sched = scheduler(&[]);
    let mut tie = FirstTie;
    let mut ssn = sched.session(&mut b.snap, 0, &mut tie);
    let plan = gang_plan::build(
        &mut ssn,
        q,
        j,
        &domain,
        &victims,
        Action::GangPreempt,
        first,
    );
    let Some(stmt) = plan else {
        return Ok(json!({"ok": false, "plan": null}));
    };
    let on = ssn
        .snap()
        .task(first)
        .node
        .map(|n| ssn.snap().nodes[n.ix()].name.clone());
    let others: Vec<String> = b
        .nodes
        .keys()
        .filter(|n| Some(n.as_str()) != on.as_deref())
        .cloned()
        .collect();
    // The plan's operations: the victims' evictions and the job's pipelines.
    let pipelined = ssn.snap().tasks_in(j, TaskStatus::Pipelined).count();
    let ops = victims.len() + pipelined;
    ssn.discard(stmt);
    Ok(json!({
        "ok": true,
        "plan_operation_count": ops,
        "task_on": on,
        "task_not_on": others,
    }))
}

fn pending(input: &Value) -> Result<Value, CaseError> {
    let mut b = build(input)?;
    let job_uid = input.get("job").and_then(|j| s(j, "uid")).unwrap_or("");
    let j = b
        .snap
        .find_job(job_uid)
        .ok_or_else(|| CaseError::new("input.job.uid: unknown job"))?;
    let mut sched = scheduler(&[]);
    let mut tie = FirstTie;
    let ssn = sched.session(&mut b.snap, 0, &mut tie);
    let out = gang_evict::pending_set(&ssn, j);
    Ok(if out.is_empty() {
        json!({"result": null})
    } else {
        let names: Vec<String> = out
            .iter()
            .map(|&t| ssn.snap().task(t).name.clone())
            .collect();
        json!({"result": names, "tasks_in_order": names})
    })
}

fn best_node(input: &Value) -> Result<Value, CaseError> {
    let task = input.get("task").cloned().unwrap_or(Value::Null);
    let mut with_tasks = input.clone();
    if let Some(o) = with_tasks.as_object_mut() {
        o.insert("tasks".into(), json!([task.clone()]));
        o.insert(
            "jobs".into(),
            json!([{"uid": s(&task, "job").unwrap_or("ns/job")}]),
        );
        o.insert("session".into(), json!({"nodes": input.get("nodes")}));
    }
    let mut b = build(&with_tasks)?;
    let t = *b
        .tasks
        .values()
        .next()
        .ok_or_else(|| CaseError::new("input.task: missing"))?;
    let order: Vec<NodeId> = list(input, "nodes")
        .iter()
        .filter_map(|n| s(n, "name").and_then(|x| b.nodes.get(x)).copied())
        .collect();
    let mut sched = scheduler(&[]);
    let mut tie = FirstTie;
    let mut ssn = sched.session(&mut b.snap, 0, &mut tie);
    let best = gang_plan::prioritize(&mut ssn, t, &order);
    Ok(json!({"best": ssn.snap().nodes[best.ix()].name}))
}
