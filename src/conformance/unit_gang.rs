//! Unit cases of the gang eviction helpers (`utils.CreateJobBundles`,
//! `utils.SortBundlesForPreempt` / `SortBundlesForReclaim`, `utils.PickDomainsFromGradients`)
//! run against `policy::actions::gang_bundles`. Depends on `model` and `policy`.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::value::{int, list, s, scalar, CaseError};
use super::Verdict;
use crate::model::Resources;
use crate::policy::actions::gang_bundles::{
    create_job_bundles, pick_domains, sort_bundles, Bundle, BundleKind, Candidate, GangState,
};
use crate::policy::snapshot::TaskStatus;

/// The calls this module answers.
pub(super) const CALLS: &[&str] = &[
    "utils.CreateJobBundles",
    "utils.SortBundlesForPreempt",
    "utils.SortBundlesForReclaim",
    "utils.PickDomainsFromGradients",
];

pub(super) fn run(case: &Value) -> Result<Verdict, CaseError> {
    let call = s(case, "call").unwrap_or("");
    let input = case.get("input").cloned().unwrap_or(Value::Null);
    let expect = case.get("expect").cloned().unwrap_or(Value::Null);
    let got = if call.starts_with("utils.PickDomainsFromGradients") {
        domains(&input)?
    } else if call.starts_with("utils.CreateJobBundles") {
        bundles_of_job(&input)?
    } else if call.starts_with("utils.SortBundlesForPreempt") {
        sorted(&input, call, false)?
    } else if call.starts_with("utils.SortBundlesForReclaim") {
        if input.get("step1").is_some() {
            let mut out = serde_json::Map::new();
            for step in ["step1", "step2"] {
                let v = input.get(step).cloned().unwrap_or(Value::Null);
                let mut merged = v.clone();
                if let (Some(o), Some(q)) = (merged.as_object_mut(), input.get("queues")) {
                    o.insert("queues".into(), q.clone());
                }
                out.insert(step.into(), sorted(&merged, call, true)?);
            }
            Value::Object(out)
        } else {
            sorted(&input, call, true)?
        }
    } else {
        return Ok(Verdict::Fail(format!("unsupported unit call {call:?}")));
    };
    compare(&expect, &got, "expect")
}

/// Every expected key must be present in `got` and equal (recursively for mappings).
fn compare(want: &Value, got: &Value, at: &str) -> Result<Verdict, CaseError> {
    let Some(w) = want.as_object() else {
        return Ok(
            if scalar(want) == scalar(got) && want.is_array() == got.is_array() {
                Verdict::Pass
            } else {
                Verdict::Fail(format!("{at}: expected {want} got {got}"))
            },
        );
    };
    for (k, wv) in w {
        let Some(gv) = got.get(k) else {
            return Ok(Verdict::Fail(format!("unknown expectation key {at}.{k}")));
        };
        let ok = match (wv, gv) {
            (Value::Object(_), _) => compare(wv, gv, &format!("{at}.{k}"))?,
            (Value::Array(a), Value::Array(b)) if a.iter().all(|x| x.is_object()) => {
                if a.len() != b.len() {
                    Verdict::Fail(format!("{at}.{k}: expected {wv} got {gv}"))
                } else {
                    let mut v = Verdict::Pass;
                    for (i, (x, y)) in a.iter().zip(b).enumerate() {
                        v = compare(x, y, &format!("{at}.{k}[{i}]"))?;
                        if v != Verdict::Pass {
                            break;
                        }
                    }
                    v
                }
            }
            _ if wv == gv => Verdict::Pass,
            _ => Verdict::Fail(format!("{at}.{k}: expected {wv} got {gv}")),
        };
        if ok != Verdict::Pass {
            return Ok(ok);
        }
    }
    Ok(Verdict::Pass)
}

fn res(v: Option<&Value>, field: &str) -> Result<Resources, CaseError> {
    match v {
        Some(x) if !x.is_null() => super::value::resources(x, field),
        _ => Ok(Resources::empty()),
    }
}

fn names(v: Option<&Value>) -> Vec<String> {
    v.and_then(|x| x.as_array())
        .map(|a| a.iter().filter(|x| !x.is_null()).map(scalar).collect())
        .unwrap_or_default()
}

fn domains(input: &Value) -> Result<Value, CaseError> {
    // An empty name stands for a nil HyperNode.
    let rows: Vec<Vec<Option<String>>> = list(input, "gradients")
        .iter()
        .map(|r| {
            let row = names(Some(r)).into_iter();
            row.map(|n| (!n.is_empty()).then_some(n)).collect()
        })
        .collect();
    let max = int(input, "max_domains")?.unwrap_or(0).max(0) as usize;
    let fallback = s(input, "fallback").filter(|f| !f.is_empty());
    Ok(json!({ "domains": pick_domains(&rows, max, fallback.map(str::to_string)) }))
}

fn bundles_of_job(input: &Value) -> Result<Value, CaseError> {
    let job_v = input.get("job").cloned().unwrap_or(Value::Null);
    let tasks = list(input, "tasks");
    let members: Vec<String> = match job_v.get("tasks") {
        Some(t) => names(Some(t)),
        None => tasks
            .iter()
            .filter_map(|t| s(t, "uid"))
            .map(String::from)
            .collect(),
    };
    let mut job = GangState {
        uid: s(&job_v, "uid").unwrap_or("").to_string(),
        min_available: int(&job_v, "min_available")?.unwrap_or(0).max(0) as u32,
        ..Default::default()
    };
    let mut sub_ready: BTreeMap<String, u32> = BTreeMap::new();
    for (i, t) in tasks.iter().enumerate() {
        let uid = s(t, "uid").unwrap_or("");
        if !members.iter().any(|m| m == uid) {
            continue;
        }
        let st = s(t, "status").unwrap_or("Pending");
        let status = TaskStatus::parse(st)
            .ok_or_else(|| CaseError::new(format!("input.tasks[{i}].status: unknown {st:?}")))?;
        let req = res(t.get("req"), &format!("input.tasks[{i}].req"))?;
        job.total_request.add(&req);
        let ready = matches!(
            status,
            TaskStatus::Bound
                | TaskStatus::Binding
                | TaskStatus::Running
                | TaskStatus::Allocated
                | TaskStatus::Succeeded
        );
        if ready {
            job.ready += 1;
            *job.role_ready
                .entry(s(t, "role").unwrap_or("").into())
                .or_default() += 1;
            if let Some(sj) = s(t, "sub_job") {
                *sub_ready.entry(sj.into()).or_default() += 1;
            }
        }
    }
    if let Some(m) = job_v.get("task_min_available").and_then(|v| v.as_object()) {
        for (r, n) in m {
            job.role_min
                .insert(r.clone(), scalar(n).parse().unwrap_or(0));
        }
    }
    if let Some(m) = job_v.get("min_sub_jobs").and_then(|v| v.as_object()) {
        for (g, n) in m {
            job.min_sub_jobs
                .insert(g.clone(), scalar(n).parse().unwrap_or(0));
        }
    }
    for sj in list(&job_v, "sub_jobs") {
        let uid = s(sj, "uid").unwrap_or("").to_string();
        let min = int(sj, "min_available")?.unwrap_or(0).max(0) as u32;
        let ready = sub_ready.get(&uid).copied().unwrap_or(0) >= min;
        job.sub_jobs
            .push((uid, s(sj, "gid").unwrap_or("").to_string(), ready));
    }
    let local_ids = names(input.get("local"));
    let mut local = Vec::new();
    for (i, t) in tasks.iter().enumerate() {
        let uid = s(t, "uid").unwrap_or("").to_string();
        if !local_ids.contains(&uid) {
            continue;
        }
        local.push(Candidate {
            id: uid,
            priority: int(t, "priority")?.unwrap_or(0) as i32,
            role: s(t, "role").unwrap_or("").to_string(),
            sub_job: s(t, "sub_job").map(String::from),
            request: res(t.get("req"), &format!("input.tasks[{i}].req"))?,
        });
    }
    let out: Vec<Value> = create_job_bundles(&job, local)
        .into_iter()
        .map(|b| json!({"type": b.kind.as_str(), "tasks": b.tasks, "task_count": b.tasks.len()}))
        .collect();
    Ok(json!({ "bundles": out }))
}

/// Sorts `bundles_in_order` with the group order the call names and reports the order.
fn sorted(input: &Value, call: &str, reclaim: bool) -> Result<Value, CaseError> {
    let jobs = input.get("jobs").cloned().unwrap_or(Value::Null);
    let queues = input.get("queues").cloned().unwrap_or(Value::Null);
    let need = res(input.get("need"), "input.need")?;
    let mut bundles: Vec<Bundle<String>> = Vec::new();
    let mut prio: BTreeMap<String, i64> = BTreeMap::new();
    for (i, b) in list(input, "bundles_in_order").iter().enumerate() {
        let f = format!("input.bundles_in_order[{i}]");
        let kind = match s(b, "type") {
            Some("safe") => BundleKind::Safe,
            Some("whole") => BundleKind::Whole,
            other => return Err(CaseError::new(format!("{f}.type: unknown {other:?}"))),
        };
        // `job` is a name into `jobs` or an inline {uid, queue}.
        let (uid, queue, p) = match b.get("job") {
            Some(Value::String(name)) => {
                let j = jobs.get(name).cloned().unwrap_or(Value::Null);
                (
                    s(&j, "uid").unwrap_or("").to_string(),
                    s(&j, "queue").unwrap_or("").to_string(),
                    int(&j, "priority")?.unwrap_or(0),
                )
            }
            Some(j) => (
                s(j, "uid").unwrap_or("").to_string(),
                s(j, "queue").unwrap_or("").to_string(),
                0,
            ),
            None => (String::new(), String::new(), 0),
        };
        let tasks = names(b.get("tasks"));
        if let Some(t) = tasks.first() {
            prio.insert(t.clone(), p);
        }
        bundles.push(Bundle {
            kind,
            id: i as u32,
            job: uid,
            queue,
            tasks,
            local: res(b.get("local_res"), &format!("{f}.local_res"))?,
            global: match b.get("global_res") {
                Some(g) if !g.is_null() => Some(res(Some(g), &format!("{f}.global_res"))?),
                _ => None,
            },
        });
    }
    let job_prio = |b: &Bundle<String>| b.tasks.first().and_then(|t| prio.get(t)).copied();
    let by_name = s(input, "less_queue_fn").is_some_and(|f| f.contains("l.Name < r.Name"))
        || (input.get("less_queue_fn").is_none() && call.contains("lessQueueFn,"));
    let less = |l: &Bundle<String>, r: &Bundle<String>| -> Option<bool> {
        if reclaim {
            // The test's lessQueueFn over queues present in its map, for different queues.
            let known = |q: &str| queues.get(q).is_some();
            (by_name && l.queue != r.queue && known(&l.queue) && known(&r.queue))
                .then(|| l.queue < r.queue)
        } else if l.job == r.job {
            None
        } else if call.contains("l.UID > r.UID") {
            Some(l.job > r.job)
        } else if call.contains("l.Priority < r.Priority") {
            Some(job_prio(l) < job_prio(r))
        } else {
            None
        }
    };
    sort_bundles(&mut bundles, &need, &less);
    let firsts: Vec<String> = bundles
        .iter()
        .filter_map(|b| b.tasks.first().cloned())
        .collect();
    Ok(json!({
        "first_task_of_each_bundle_in_order": firsts,
        "first_bundle_first_task": firsts.first(),
    }))
}
