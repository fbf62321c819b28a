//! Cases of kind `session` (one session, listed actions in order) and `multi_session`
//! (several sessions on carried-over state: bind requests become Bound pods, evicted pods are
//! deleted, PodGroup phases and nominations persist), checked against their expectations.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::build;
use super::value::{s, scalar, CaseError};
use super::Verdict;
use crate::policy::session::{CycleOutput, Decision, FirstTie};
use crate::policy::snapshot::{Snapshot, TaskStatus};
use crate::policy::{Scheduler, SchedulerConf};

const KNOWN: &[&str] = &[
    "binds",
    "bind_count",
    "evictions",
    "pipelined",
    "podgroup_phase",
    "binds_per_job",
    "evictions_per_job",
    "pipelined_per_job",
];

/// What happened over the case's sessions.
#[derive(Default)]
struct Seen {
    binds: BTreeMap<String, String>,
    bind_jobs: BTreeMap<String, usize>,
    evictions: Vec<String>,
    evict_jobs: BTreeMap<String, usize>,
    /// job key -> nodes of its Pipelined tasks at the last session close.
    pipelined: BTreeMap<String, Vec<String>>,
}

fn record(snap: &Snapshot, out: &CycleOutput, seen: &mut Seen) {
    for d in &out.decisions {
        match d {
            Decision::Bind { task, node } => {
                let t = snap.task(*task);
                seen.binds
                    .insert(t.key(), snap.nodes[node.ix()].name.clone());
                *seen
                    .bind_jobs
                    .entry(snap.job(t.job).uid.clone())
                    .or_default() += 1;
            }
            Decision::Evict { task, .. } => {
                let t = snap.task(*task);
                seen.evictions.push(t.key());
                *seen
                    .evict_jobs
                    .entry(snap.job(t.job).uid.clone())
                    .or_default() += 1;
            }
            _ => {}
        }
    }
    seen.pipelined.clear();
    for (t, n) in &out.pipelined {
        let job = snap.job(snap.task(*t).job).uid.clone();
        seen.pipelined
            .entry(job)
            .or_default()
            .push(snap.nodes[n.ix()].name.clone());
    }
}

/// Between sessions: binding pods are observed Bound, evicted pods disappear.
fn carry_over(snap: &mut Snapshot) {
    for i in 0..snap.tasks.len() {
        let t = crate::policy::TaskId(i as u32);
        match snap.task(t).status {
            TaskStatus::Binding => snap.update_status(t, TaskStatus::Bound),
            TaskStatus::Releasing if snap.job(snap.task(t).job).tasks.contains(&t) => {
                snap.remove_task(t)
            }
            _ => {}
        }
    }
}

/// Most `cycles` one case may repeat (the field is untrusted input; each is a session).
const MAX_CYCLES: u64 = 1_000;

pub(super) fn run(
    case: &Value,
    profiles: &serde_json::Map<String, Value>,
) -> Result<Verdict, CaseError> {
    let profile = match s(case, "profile") {
        Some(p) => Some(
            profiles
                .get(p)
                .ok_or_else(|| CaseError::new(format!("unknown profile {p:?}")))?,
        ),
        None => None,
    };
    let mut pcs = BTreeMap::new();
    build::priority_classes(profile.and_then(|p| p.get("priority_classes")), &mut pcs)?;
    build::priority_classes(case.get("priority_classes"), &mut pcs)?;
    let mut snap = build::snapshot(case, pcs, &[])?;

    // Sessions: `sessions: [{actions, expect?}]` or `cycles: N` repeating `actions`.
    let mut plan: Vec<Value> = Vec::new();
    if let Some(ss) = case.get("sessions").and_then(|v| v.as_array()) {
        plan.extend(ss.iter().cloned());
    } else {
        let n = match case.get("cycles") {
            None => 1,
            Some(v) => v
                .as_u64()
                .filter(|n| (1..=MAX_CYCLES).contains(n))
                .ok_or_else(|| CaseError::new(format!("cycles: {v}: expected 1..={MAX_CYCLES}")))?,
        };
        for _ in 0..n {
            plan.push(serde_json::json!({ "actions": case.get("actions").cloned().unwrap_or(Value::Null) }));
        }
    }
    let mut seen = Seen::default();
    // One scheduler while the conf stays the same (its caches live across the sessions).
    let mut sched: Option<Scheduler> = None;
    for (i, step) in plan.iter().enumerate() {
        if i > 0 {
            carry_over(&mut snap);
        }
        let merged = merge_actions(case, step);
        let conf: SchedulerConf = build::conf(&merged, profile)?;
        let mut rng = FirstTie;
        let now = case.get("now_ms").and_then(|v| v.as_u64()).unwrap_or(0);
        let sc = match sched.take() {
            Some(sc) if *sc.conf() == conf => sc,
            // The uthelper harness builds tiers directly (no conf validation).
            _ => Scheduler::new_unvalidated(&conf),
        };
        let out = sched.insert(sc).cycle(&mut snap, now, &mut rng);
        record(&snap, &out, &mut seen);
        if let Some(exp) = step.get("expect") {
            if let Err(m) = check(exp, &snap, &seen, true) {
                return Ok(Verdict::Fail(format!("session {}: {m}", i + 1)));
            }
        }
    }
    let empty = Value::Object(Default::default());
    let exp = case.get("expect").unwrap_or(&empty);
    // `checks: none`: the upstream test never verifies binds/evictions, so only listed keys count.
    let strict = s(case, "checks") != Some("none");
    match check(exp, &snap, &seen, strict) {
        Ok(()) => Ok(Verdict::Pass),
        Err(m) => Ok(Verdict::Fail(m)),
    }
}

fn merge_actions(case: &Value, step: &Value) -> Value {
    let mut c = case.clone();
    if let (Some(obj), Some(a)) = (c.as_object_mut(), step.get("actions")) {
        if !a.is_null() {
            obj.insert("actions".into(), a.clone());
        }
    }
    c
}

/// `strict`: an omitted `binds` / `evictions` means "none" (the uthelper harness's CheckAll).
fn check(exp: &Value, snap: &Snapshot, seen: &Seen, strict: bool) -> Result<(), String> {
    let obj = exp.as_object().ok_or("expect: expected a mapping")?;
    for k in obj.keys() {
        if !KNOWN.contains(&k.as_str()) {
            return Err(format!(
                "unknown expectation key {k:?} (known: {})",
                KNOWN.join(", ")
            ));
        }
    }
    let counts = |k: &str| -> Option<BTreeMap<String, usize>> {
        obj.get(k).and_then(|v| v.as_object()).map(|m| {
            m.iter()
                .map(|(a, b)| (a.clone(), b.as_u64().unwrap_or(0) as usize))
                .collect()
        })
    };
    // Binds: exact map unless binds_per_job speaks for them.
    if let Some(per_job) = counts("binds_per_job") {
        compare_counts("binds_per_job", &per_job, &seen.bind_jobs)?;
    } else {
        let want: BTreeMap<String, String> = obj
            .get("binds")
            .and_then(|v| v.as_object())
            .map(|m| m.iter().map(|(a, b)| (a.clone(), scalar(b))).collect())
            .unwrap_or_default();
        if (strict || obj.contains_key("binds")) && want != seen.binds {
            return Err(format!("binds: expected {want:?} got {:?}", seen.binds));
        }
    }
    if let Some(n) = obj.get("bind_count").and_then(|v| v.as_u64()) {
        if n as usize != seen.binds.len() {
            return Err(format!("bind_count: expected {n} got {}", seen.binds.len()));
        }
    }
    if let Some(per_job) = counts("evictions_per_job") {
        compare_counts("evictions_per_job", &per_job, &seen.evict_jobs)?;
    } else {
        let mut want: Vec<String> = obj.get("evictions").map(list_of).unwrap_or_default();
        let mut got = seen.evictions.clone();
        want.sort();
        got.sort();
        if (strict || obj.contains_key("evictions")) && want != got {
            return Err(format!("evictions: expected {want:?} got {got:?}"));
        }
    }
    if let Some(per_job) = counts("pipelined_per_job") {
        let got: BTreeMap<String, usize> = seen
            .pipelined
            .iter()
            .map(|(k, v)| (k.clone(), v.len()))
            .collect();
        compare_counts("pipelined_per_job", &per_job, &got)?;
    }
    if let Some(m) = obj.get("pipelined").and_then(|v| v.as_object()) {
        for (job, nodes) in m {
            let allowed: BTreeSet<String> = list_of(nodes).into_iter().collect();
            let got = seen.pipelined.get(job).cloned().unwrap_or_default();
            if got.is_empty() {
                return Err(format!(
                    "pipelined: expected {job} to have a Pipelined task on {allowed:?}, got none"
                ));
            }
            if let Some(bad) = got.iter().find(|n| !allowed.contains(*n)) {
                return Err(format!(
                    "pipelined: expected {job} on {allowed:?} got a task on {bad}"
                ));
            }
        }
    }
    if let Some(m) = obj.get("podgroup_phase").and_then(|v| v.as_object()) {
        for (job, phase) in m {
            let want = scalar(phase);
            let got = snap
                .find_job(job)
                .map(|j| snap.job(j).phase.as_str().to_string());
            match got {
                Some(g) if g == want => {}
                Some(g) => return Err(format!("podgroup_phase {job}: expected {want} got {g}")),
                None => {
                    return Err(format!(
                        "podgroup_phase {job}: expected {want} got no such job in the session"
                    ))
                }
            }
        }
    }
    Ok(())
}

fn list_of(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(scalar).collect())
        .unwrap_or_default()
}

fn compare_counts(
    what: &str,
    want: &BTreeMap<String, usize>,
    got: &BTreeMap<String, usize>,
) -> Result<(), String> {
    let keys: BTreeSet<&String> = want.keys().chain(got.keys()).collect();
    for k in keys {
        let (w, g) = (
            want.get(k).copied().unwrap_or(0),
            got.get(k).copied().unwrap_or(0),
        );
        if w != g {
            return Err(format!("{what} {k}: expected {w} got {g}"));
        }
    }
    Ok(())
}
