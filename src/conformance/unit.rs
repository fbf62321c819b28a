//! Cases of kind `unit`: one Volcano function pinned on small inputs — gang's releasing
//! check, the PodGroup phase rule, the victim walk with scripted plugins, overcommit's enqueue
//! vote, sla's order and vote, conformance's victim filter, binpack scores. A `call` this runner
//! does not know FAILs (never silently passes). `expect: {conf_error: TEXT}` checks instead that
//! the case's tiers are refused at load with an error naming TEXT.

use std::collections::BTreeMap;

use serde_json::Value;

use super::build;
use super::value::{int, list, s, scalar, CaseError};
use super::Verdict;
use crate::model::{PodGroupSpec, PodSpec, QueueSpec};
use crate::policy::plugin::Vote;
use crate::policy::session::FirstTie;
use crate::policy::snapshot::{
    phase_rule, JobId, NodeId, PodGroupPhase, Snapshot, TaskId, TaskStatus,
};
use crate::policy::tiers::combine_victims;
use crate::policy::{Scheduler, SchedulerConf};

pub(super) fn run(case: &Value, all: &[Value]) -> Result<Verdict, CaseError> {
    let call = s(case, "call").unwrap_or("");
    let input = case.get("input").cloned().unwrap_or(Value::Null);
    let expect = case.get("expect").cloned().unwrap_or(Value::Null);
    // `expect: {conf_error: TEXT}`: the tiers must be refused at load with an error naming TEXT
    // (documented deviations where Volcano silently ignores a bad argument).
    if let Some(want) = expect.get("conf_error") {
        let want = scalar(want);
        return Ok(
            match build::tiers(case.get("tiers").unwrap_or(&Value::Null), false, None) {
                Err(e) if e.0.contains(&want) => Verdict::Pass,
                Err(e) => Verdict::Fail(format!(
                    "conf_error: expected an error naming {want:?}, got {e}"
                )),
                Ok(_) => Verdict::Fail(format!(
                    "conf_error: the tiers loaded; expected an error naming {want:?}"
                )),
            },
        );
    }
    let got: BTreeMap<&str, Value> = if call.contains("shouldSkipUnschedulableForReleasing") {
        BTreeMap::from([("result", Value::Bool(skip_releasing(&input)?))])
    } else if call.contains("getPodGroupPhase") {
        BTreeMap::from([("phase", Value::String(pg_phase(&input)?.as_str().into()))])
    } else if call.contains("Evictable")
        || (call.contains("Preemptable") && input.get("tiers").is_some())
        || call.contains("Reclaimable") && input.get("tiers").is_some()
    {
        BTreeMap::from([(
            "victims",
            // Go's nil (no plugin decided) is `null`, an empty decision `[]`.
            match scripted_victims(&input)? {
                Some(v) => Value::Array(v.into_iter().map(Value::String).collect()),
                None => Value::Null,
            },
        )])
    } else if call.contains("JobEnqueueable") && call.contains("JobEnqueued") {
        BTreeMap::from([("enqueueable", Value::Bool(enqueue_votes(case, all)?))])
    } else if call.contains("JobOrderFn(job1, job2)") {
        let (before, enq) = job_pair(case)?;
        BTreeMap::from([
            ("job1_before_job2", Value::Bool(before)),
            ("job1_enqueueable", Value::Bool(enq)),
        ])
    } else if call.contains("Preemptable") || call.contains("Reclaimable") {
        BTreeMap::from([(
            "victims",
            Value::Array(
                plugin_victims(case, call.contains("Reclaimable"))?
                    .into_iter()
                    .map(Value::String)
                    .collect(),
            ),
        )])
    } else if call.contains("updateQueueAttrShare") {
        let r = |k: &str| -> Result<crate::model::Resources, CaseError> {
            match input.get(k) {
                Some(v) if !v.is_null() => super::value::resources(v, &format!("input.{k}")),
                _ => Ok(crate::model::Resources::empty()),
            }
        };
        let share = crate::policy::plugins::capacity::share_of(&r("deserved")?, &r("allocated")?);
        BTreeMap::from([("share", serde_json::json!(share))])
    } else if call.starts_with(NTA_NEW) {
        nta_new(&input)?
    } else if call.contains("NodeOrderFn") {
        return node_scores(case, all, &expect);
    } else {
        return Ok(Verdict::Fail(format!("unsupported unit call {call:?}")));
    };
    let exp = expect
        .as_object()
        .ok_or_else(|| CaseError::new("expect: expected a mapping"))?;
    for (k, want) in exp {
        let Some(g) = got.get(k.as_str()) else {
            return Ok(Verdict::Fail(format!(
                "unknown expectation key {k:?} for call {call:?}"
            )));
        };
        if !values_equal(want, g) {
            return Ok(Verdict::Fail(format!("{k}: expected {want} got {g}")));
        }
    }
    Ok(Verdict::Pass)
}

/// `networktopologyaware.New(arguments)`: the plugin's parsed arguments (a fresh plugin has
/// no tiers and an empty resource cache until a session opens).
pub(super) const NTA_NEW: &str = "networktopologyaware.New(";

fn nta_new(input: &Value) -> Result<BTreeMap<&'static str, Value>, CaseError> {
    let empty = serde_json::Map::new();
    let args = input
        .get("arguments")
        .and_then(|a| a.as_object())
        .unwrap_or(&empty);
    let kind = crate::policy::PluginKind::NetworkTopologyAware;
    let parsed = crate::policy::conf::PluginArgs::parse(kind, args, "arguments", &mut Vec::new())
        .map_err(|e| CaseError::new(e.to_string()))?;
    let crate::policy::conf::PluginArgs::NetworkTopologyAware(a) = parsed else {
        return Err(CaseError::new("not network-topology-aware arguments"));
    };
    let resources: serde_json::Map<String, Value> = a
        .resources
        .iter()
        .map(|(n, w)| (n.clone(), serde_json::json!(w)))
        .collect();
    Ok(BTreeMap::from([
        (
            "weight",
            serde_json::json!({"global": a.weight, "binpack_cpu": a.cpu,
                "binpack_memory": a.memory, "binpack_resources": resources}),
        ),
        (
            "normal_pod_config",
            serde_json::json!({"enable": a.normal_pod_enable, "fading": a.normal_pod_fading}),
        ),
        (
            "hypernodes_tier",
            serde_json::json!({"min_tier": 0, "max_tier": 0}),
        ),
        ("hypernode_resource_cache", serde_json::json!({})),
    ]))
}

/// `a` is the expectation. An expected `[]` also accepts Go's nil (`null`: the cases written
/// before nil was told apart say `[]`); an expected `null` demands nil.
fn values_equal(a: &Value, b: &Value) -> bool {
    if matches!((a, b), (Value::Array(x), Value::Null) if x.is_empty()) {
        return true;
    }
    if a.is_null() || b.is_null() {
        return a.is_null() && b.is_null();
    }
    if let (Some(x), Some(y)) = (a.as_f64(), b.as_f64()) {
        return (x - y).abs() <= 1e-9 * x.abs().max(1.0);
    }
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| values_equal(p, q))
        }
        _ => scalar(a) == scalar(b),
    }
}

fn status_of(t: &Value) -> Result<TaskStatus, CaseError> {
    let st = s(t, "status").unwrap_or("Pending");
    TaskStatus::parse(st).ok_or_else(|| CaseError::new(format!("unknown task status {st:?}")))
}

/// A one-job snapshot with tasks in the listed statuses.
fn job_with_tasks(
    min: u32,
    tasks: &[Value],
    phase: PodGroupPhase,
) -> Result<(Snapshot, JobId), CaseError> {
    let mut snap = Snapshot::new();
    snap.add_queue(&QueueSpec::new("q", 1));
    let mut nodes: BTreeMap<String, NodeId> = BTreeMap::new();
    let pg = PodGroupSpec {
        namespace: "ns".into(),
        name: "job".into(),
        queue: "q".into(),
        min_member: min,
        ..Default::default()
    };
    let j = snap.add_job(&pg, phase, 0).expect("queue exists");
    for (i, t) in tasks.iter().enumerate() {
        let status = status_of(t)?;
        let node = match s(t, "node") {
            Some(n) if !n.is_empty() => {
                let next = NodeId(nodes.len() as u32);
                let id = *nodes.entry(n.to_string()).or_insert(next);
                if id.ix() == snap.nodes.len() {
                    let mut alloc = crate::model::Resources::empty();
                    alloc.set(crate::model::ResourceName::PODS, 1000);
                    snap.add_node(&crate::model::NodeSpec {
                        name: n.to_string(),
                        allocatable: alloc,
                        labels: Default::default(),
                        taints: vec![],
                        unschedulable: false,
                    });
                }
                Some(id)
            }
            _ => None,
        };
        let name = s(t, "uid")
            .map(str::to_string)
            .unwrap_or_else(|| format!("t{i}"));
        let pod = PodSpec {
            namespace: "ns".into(),
            name,
            ..Default::default()
        };
        snap.add_task(j, &pod, status, node, 0);
    }
    Ok((snap, j))
}

fn skip_releasing(input: &Value) -> Result<bool, CaseError> {
    let min = int(input, "min_available")?.unwrap_or(0) as u32;
    let (snap, j) = job_with_tasks(min, list(input, "tasks"), PodGroupPhase::Running)?;
    Ok(crate::policy::plugins::gang::skip_unschedulable_for_releasing(&snap, j))
}

fn pg_phase(input: &Value) -> Result<PodGroupPhase, CaseError> {
    let min = int(input, "min_member")?.unwrap_or(0) as u32;
    let cur_s = s(input, "current_phase").unwrap_or("");
    let current = PodGroupPhase::parse(cur_s)
        .ok_or_else(|| CaseError::new(format!("unknown phase {cur_s:?}")))?;
    let (snap, j) = job_with_tasks(min, list(input, "tasks"), current)?;
    let unsched = input
        .get("unschedulable")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let job = snap.job(j);
    let mut scheduled = 0;
    let mut completed = 0;
    for &t in &job.tasks {
        let task = snap.task(t);
        if task.status.is_scheduled()
            || (task.status == TaskStatus::Releasing && task.node.is_some())
        {
            scheduled += 1;
        }
        if task.status.is_completed() {
            completed += 1;
        }
    }
    Ok(phase_rule(
        min,
        current,
        job.count(TaskStatus::Running),
        unsched,
        scheduled,
        completed,
    ))
}

/// `None` when no plugin decided (Volcano returns nil). A stub with
/// `registered_unified_evictable: false` registered no function and is not asked.
fn scripted_victims(input: &Value) -> Result<Option<Vec<String>>, CaseError> {
    let registered = |p: &Value| {
        p.get("registered_unified_evictable")
            .and_then(|r| r.as_bool())
            .unwrap_or(true)
    };
    let tiers: Vec<Vec<Value>> = list(input, "tiers")
        .iter()
        .map(|t| {
            let all = t.as_array().cloned().unwrap_or_default();
            all.into_iter().filter(registered).collect()
        })
        .collect();
    let answer = |i: usize, j: usize| -> Option<(Vec<String>, Vote)> {
        let p = &tiers[i][j];
        let vote = match s(p, "vote").unwrap_or("permit") {
            "abstain" => Vote::Abstain,
            "reject" => Vote::Reject,
            _ => Vote::Permit,
        };
        let cands = p
            .get("returns")
            .and_then(|r| r.as_array())
            .map(|a| a.iter().map(scalar).collect())
            .unwrap_or_default();
        Some((cands, vote))
    };
    Ok(combine_victims(tiers.len(), |i| tiers[i].len(), answer))
}

fn unit_scheduler(case: &Value) -> Result<Scheduler, CaseError> {
    let tiers = build::tiers(case.get("tiers").unwrap_or(&Value::Null), false, None)?;
    let conf = SchedulerConf {
        actions: vec![],
        tiers,
        action_args: Default::default(),
        warnings: vec![],
        compat: crate::policy::conf::Compat::V1_15,
    };
    Scheduler::new(&conf).map_err(|e| CaseError::new(e.to_string()))
}

fn enqueue_votes(case: &Value, all: &[Value]) -> Result<bool, CaseError> {
    let mut sched = unit_scheduler(case)?;
    let mut snap = build::snapshot(case, BTreeMap::new(), all)?;
    let mut rng = FirstTie;
    let ssn = sched.session(&mut snap, 0, &mut rng);
    let jobs: Vec<JobId> = ssn.snap().live_jobs().collect();
    let mut ok = true;
    for j in jobs {
        ssn.tiers.job_enqueued(&ssn.st, j);
        ok &= ssn.tiers.job_enqueueable(&ssn.st, j);
    }
    Ok(ok)
}

fn job_pair(case: &Value) -> Result<(bool, bool), CaseError> {
    let mut sched = unit_scheduler(case)?;
    let input = case.get("input").cloned().unwrap_or(Value::Null);
    let mut snap = Snapshot::new();
    snap.add_queue(&QueueSpec::new("q", 1));
    let mut ids = vec![];
    for name in ["job1", "job2"] {
        let j = input.get(name).cloned().unwrap_or(Value::Null);
        let wt = match j.get("waiting_time") {
            Some(Value::String(w)) => {
                Some(crate::model::parse_duration(w).map_err(CaseError::new)?)
            }
            _ => None,
        };
        let pg = PodGroupSpec {
            namespace: "ns".into(),
            name: name.into(),
            queue: "q".into(),
            sla_waiting_ms: wt,
            ..Default::default()
        };
        let id = snap
            .add_job(&pg, PodGroupPhase::Pending, 0)
            .expect("queue exists");
        for k in 0..int(&j, "tasks")?.unwrap_or(0) {
            let pod = PodSpec {
                namespace: "ns".into(),
                name: format!("{name}-t-{k}"),
                ..Default::default()
            };
            snap.add_task(id, &pod, TaskStatus::Pending, None, 0);
        }
        ids.push(id);
    }
    let mut rng = FirstTie;
    // Creation time zero and a "now" far later: every deadline has passed.
    let ssn = sched.session(&mut snap, 1 << 50, &mut rng);
    let before = ssn.tiers.job_order(&ssn.st, ids[0], ids[1]) == std::cmp::Ordering::Less;
    let enq = ssn.tiers.job_enqueueable(&ssn.st, ids[0]);
    Ok((before, enq))
}

fn plugin_victims(case: &Value, reclaim: bool) -> Result<Vec<String>, CaseError> {
    let mut sched = unit_scheduler(case)?;
    let input = case.get("input").cloned().unwrap_or(Value::Null);
    let mut snap = Snapshot::new();
    snap.add_queue(&QueueSpec::new("q", 1));
    let mut cands: Vec<TaskId> = Vec::new();
    let mut node_ids: BTreeMap<String, NodeId> = BTreeMap::new();
    let preemptor_job = snap
        .add_job(
            &PodGroupSpec {
                namespace: "p".into(),
                name: "preemptor".into(),
                queue: "q".into(),
                ..Default::default()
            },
            PodGroupPhase::Inqueue,
            0,
        )
        .expect("queue");
    let preemptor = snap.add_task(
        preemptor_job,
        &PodSpec {
            namespace: "p".into(),
            name: "preemptor".into(),
            ..Default::default()
        },
        TaskStatus::Pending,
        None,
        0,
    );
    for (i, p) in list(&input, "preemptees").iter().enumerate() {
        if let Some(n) = s(p, "node") {
            if !node_ids.contains_key(n) {
                let mut alloc = crate::model::Resources::cpu_mem(1 << 40, 1 << 50);
                alloc.set(crate::model::ResourceName::PODS, 1000);
                let id = snap.add_node(&crate::model::NodeSpec {
                    name: n.into(),
                    allocatable: alloc,
                    labels: Default::default(),
                    taints: vec![],
                    unschedulable: false,
                });
                node_ids.insert(n.to_string(), id);
            }
        }
        let ns = s(p, "ns").unwrap_or("default");
        let pg = PodGroupSpec {
            namespace: ns.into(),
            name: format!("pg{i}"),
            queue: "q".into(),
            ..Default::default()
        };
        let j = snap.add_job(&pg, PodGroupPhase::Running, 0).expect("queue");
        let mut case_pod = p.clone();
        if let Some(o) = case_pod.as_object_mut() {
            o.insert("pg".into(), Value::String(format!("pg{i}")));
        }
        build::add_pod(&mut snap, &case_pod, &format!("input.preemptees[{i}]"))?;
        cands.push(*snap.job(j).tasks.last().expect("pod added"));
    }
    let mut rng = FirstTie;
    let ssn = sched.session(&mut snap, 0, &mut rng);
    let v = if reclaim {
        ssn.tiers.reclaimable(&ssn.st, preemptor, &cands)
    } else {
        ssn.tiers.preemptable(&ssn.st, preemptor, &cands)
    };
    Ok(v.into_iter().map(|t| ssn.snap().task(t).key()).collect())
}

fn node_scores(case: &Value, all: &[Value], expect: &Value) -> Result<Verdict, CaseError> {
    let mut sched = unit_scheduler(case)?;
    let mut c = case.clone();
    if let Some(o) = c.as_object_mut() {
        for key in ["nodes", "pods", "queues", "podgroups"] {
            let resolved = build::resolve(case.get(key), key, all).cloned();
            match resolved {
                Some(v) => {
                    o.insert(key.into(), v);
                }
                None => {
                    // Fall back to the referenced case's value when this case omits it.
                    if let Some(other) = case
                        .get("nodes")
                        .and_then(|n| n.get("same_as"))
                        .and_then(|x| x.as_str())
                    {
                        if let Some(src) = all
                            .iter()
                            .find(|x| s(x, "id") == Some(other))
                            .and_then(|x| x.get(key))
                        {
                            o.insert(key.into(), src.clone());
                        }
                    }
                }
            }
        }
    }
    let mut snap = build::snapshot(&c, BTreeMap::new(), all)?;
    let mut rng = FirstTie;
    let ssn = sched.session(&mut snap, 0, &mut rng);
    let tol = expect
        .get("tolerance")
        .map(scalar)
        .and_then(|t| t.parse::<f64>().ok())
        .unwrap_or(1e-6);
    let scores = expect
        .get("scores")
        .and_then(|v| v.as_object())
        .ok_or_else(|| CaseError::new("expect.scores: expected a mapping"))?;
    for (task_key, per_node) in scores {
        let t = ssn
            .snap()
            .find_task(task_key)
            .ok_or_else(|| CaseError::new(format!("expect.scores: unknown task {task_key}")))?;
        for (node, want) in per_node.as_object().into_iter().flatten() {
            let n = ssn
                .snap()
                .find_node(node)
                .ok_or_else(|| CaseError::new(format!("expect.scores: unknown node {node}")))?;
            let want: f64 = scalar(want)
                .parse()
                .map_err(|_| CaseError::new("expect.scores: expected numbers"))?;
            let got = ssn.tiers.node_score(&ssn.st, t, n);
            if (got - want).abs() > tol.max(want.abs() * 1e-9) {
                return Ok(Verdict::Fail(format!(
                    "score {task_key} on {node}: expected {want} got {got}"
                )));
            }
        }
    }
    Ok(Verdict::Pass)
}
