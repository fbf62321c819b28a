//! Builds a policy `Snapshot` and a `SchedulerConf` from a case and its profile, following the
//! file's conventions (harness `uthelper`: nodes in list order, equal creation times, pod with a
//! node and phase Pending = Bound, unit-test tiers with unlisted flags off).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::value::{int, list, opt_resources, resources, s, scalar, str_map, CaseError};
use crate::model::{
    NodeSpec, PodGroupSpec, PodSpec, PriorityClassSpec, QueueSpec, QueueState, ResourceName,
};
use crate::policy::conf::{
    ArgValue, Arguments, FlagSet, PluginArgs, PluginConf, PluginKind, FLAG_NAMES,
    UNMODELLED_PLUGINS,
};
use crate::policy::snapshot::{PodGroupPhase, Snapshot, TaskStatus};
use crate::policy::{Action, SchedulerConf};

/// Tiers from a `[[{plugin, enable, disable, args}]]` list. `production` turns every flag on
/// except those in `disable`; otherwise only `enable` flags are on. Plugins not in
/// `registered` (when given) are dropped.
pub(super) fn tiers(
    v: &Value,
    production: bool,
    registered: Option<&BTreeSet<String>>,
) -> Result<Vec<Vec<PluginConf>>, CaseError> {
    let mut out = Vec::new();
    for (ti, tier) in v
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or(&[])
        .iter()
        .enumerate()
    {
        let mut plugins = Vec::new();
        for (pi, e) in tier
            .as_array()
            .map(|a| a.as_slice())
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            let name = s(e, "plugin")
                .or_else(|| s(e, "name"))
                .ok_or_else(|| CaseError::new(format!("tiers[{ti}][{pi}]: missing plugin name")))?;
            if let Some(reg) = registered {
                if !reg.contains(name) {
                    continue;
                }
            }
            let Some(kind) = PluginKind::parse(name) else {
                if UNMODELLED_PLUGINS.contains(&name) {
                    continue;
                }
                return Err(CaseError::new(format!(
                    "tiers[{ti}][{pi}]: unknown plugin {name:?}"
                )));
            };
            let empty = serde_json::Map::new();
            let args = e.get("args").and_then(|a| a.as_object()).unwrap_or(&empty);
            let args = PluginArgs::parse(
                kind,
                args,
                &format!("tiers[{ti}][{pi}].args"),
                &mut Vec::new(),
            )
            .map_err(|e| CaseError::new(e.to_string()))?;
            let mut pc = PluginConf::with_args(args);
            pc.flags = if production {
                FlagSet::ALL
            } else {
                FlagSet::default()
            };
            for (key, on) in [("enable", true), ("disable", false)] {
                for f in list(e, key) {
                    let fname = scalar(f);
                    if fname == "hierarchy" {
                        pc.hierarchy = on;
                        continue;
                    }
                    let flag = FLAG_NAMES
                        .iter()
                        .find(|(y, short, _)| *short == fname || *y == fname)
                        .map(|x| x.2)
                        .ok_or_else(|| {
                            CaseError::new(format!(
                                "tiers[{ti}][{pi}].{key}: unknown flag {fname:?}"
                            ))
                        })?;
                    pc.flags.set(flag, on);
                }
            }
            plugins.push(pc);
        }
        out.push(plugins);
    }
    Ok(out)
}

pub(super) fn priority_classes(
    v: Option<&Value>,
    into: &mut BTreeMap<String, PriorityClassSpec>,
) -> Result<(), CaseError> {
    let Some(m) = v.and_then(|x| x.as_object()) else {
        return Ok(());
    };
    for (name, val) in m {
        let (value, never) = match val {
            Value::Object(_) => (
                int(val, "value")?.unwrap_or(0),
                s(val, "preemption_policy") == Some("Never"),
            ),
            other => (
                scalar(other).parse().map_err(|_| {
                    CaseError::new(format!("priority_classes.{name}: expected an integer"))
                })?,
                false,
            ),
        };
        into.insert(
            name.clone(),
            PriorityClassSpec {
                name: name.clone(),
                value: value as i32,
                global_default: false,
                preemption_never: never,
            },
        );
    }
    Ok(())
}

/// Resolves `{same_as: other-case}` references.
pub(super) fn resolve<'a>(v: Option<&'a Value>, key: &str, all: &'a [Value]) -> Option<&'a Value> {
    let v = v?;
    if let Some(other) = v.get("same_as").and_then(|x| x.as_str()) {
        let c = all
            .iter()
            .find(|c| c.get("id").and_then(|i| i.as_str()) == Some(other))?;
        return resolve(c.get(key), key, all);
    }
    Some(v)
}

/// The largest `pod_sets[].count` a case may ask for (the field is untrusted input).
const MAX_POD_SET: i64 = 10_000;

/// Fills `snap` with the case's queues, nodes, podgroups and pods (in that order).
pub(super) fn snapshot(
    case: &Value,
    pcs: BTreeMap<String, PriorityClassSpec>,
    all: &[Value],
) -> Result<Snapshot, CaseError> {
    let mut snap = Snapshot::new();
    for pc in pcs.into_values() {
        snap.add_priority_class(pc);
    }
    for (i, q) in list(case, "queues").iter().enumerate() {
        let name =
            s(q, "name").ok_or_else(|| CaseError::new(format!("queues[{i}]: missing name")))?;
        let mut spec = QueueSpec::new(name, int(q, "weight")?.unwrap_or(1).max(1) as u32);
        spec.capability = opt_resources(q, "capability")?;
        spec.deserved = opt_resources(q, "deserved")?;
        spec.guarantee = opt_resources(q, "guarantee")?;
        spec.priority = int(q, "priority")?.unwrap_or(0) as i32;
        if let Some(st) = s(q, "state") {
            spec.state = QueueState::parse(st).ok_or_else(|| {
                CaseError::new(format!("queues[{i}].state: unknown state {st:?}"))
            })?;
        }
        if let Some(r) = q.get("reclaimable").and_then(|x| x.as_bool()) {
            spec.reclaimable = r;
        }
        spec.parent = s(q, "parent").map(str::to_string);
        let id = snap.add_queue(&spec);
        let ann = str_map(q, "annotations");
        if let Some(path) = ann.get("volcano.sh/hierarchy") {
            let weights = ann
                .get("volcano.sh/hierarchy-weights")
                .map(String::as_str)
                .unwrap_or("");
            snap.set_queue_hierarchy(id, path, weights);
        }
    }
    let nodes = resolve(case.get("nodes"), "nodes", all)
        .and_then(|v| v.as_array())
        .map(|a| a.as_slice())
        .unwrap_or(&[]);
    for (i, n) in nodes.iter().enumerate() {
        let name =
            s(n, "name").ok_or_else(|| CaseError::new(format!("nodes[{i}]: missing name")))?;
        let alloc = match n.get("alloc") {
            Some(a) => resources(a, &format!("nodes[{i}].alloc"))?,
            None => crate::model::Resources::empty(),
        };
        snap.add_node(&NodeSpec {
            name: name.to_string(),
            allocatable: alloc,
            labels: str_map(n, "labels"),
            taints: Vec::new(),
            unschedulable: n
                .get("unschedulable")
                .and_then(|x| x.as_bool())
                .unwrap_or(false),
        });
    }
    snap.topology = std::sync::Arc::new(super::topology::hypernodes(case, &snap)?);
    for (i, pg) in list(case, "podgroups").iter().enumerate() {
        let f = |k: &str| format!("podgroups[{i}].{k}");
        let ns = s(pg, "ns").unwrap_or("default");
        let name = s(pg, "name").ok_or_else(|| CaseError::new(f("name") + ": missing"))?;
        let mut spec = PodGroupSpec {
            namespace: ns.to_string(),
            name: name.to_string(),
            queue: s(pg, "queue").unwrap_or("default").to_string(),
            min_member: int(pg, "min_member")?.unwrap_or(0).max(0) as u32,
            priority_class: s(pg, "priority_class").map(str::to_string),
            min_resources: opt_resources(pg, "min_resources")?,
            network_topology: super::topology::network_topology(pg, &f("network_topology"))?,
            ..Default::default()
        };
        if let Some(m) = pg.get("min_task_member").and_then(|x| x.as_object()) {
            for (role, v) in m {
                let n: u32 = scalar(v)
                    .parse()
                    .map_err(|_| CaseError::new(f("min_task_member") + ": expected integers"))?;
                spec.min_task_member.insert(role.clone(), n);
            }
        }
        let ann = str_map(pg, "annotations");
        // Mirrors volcano IsJobPreemptableForGangEviction: annotation, else label.
        let labels = str_map(pg, "labels");
        spec.preemptable = ann
            .get("volcano.sh/preemptable")
            .or_else(|| labels.get("volcano.sh/preemptable"))
            .map(|v| matches!(v.as_str(), "1" | "t" | "T" | "true" | "TRUE" | "True"));
        if let Some(w) = ann
            .get("volcano.sh/sla-waiting-time")
            .or_else(|| ann.get("sla-waiting-time"))
        {
            spec.sla_waiting_ms = crate::model::parse_duration(w).ok();
        }
        let phase_s = s(pg, "phase").unwrap_or("");
        let phase = PodGroupPhase::parse(phase_s)
            .ok_or_else(|| CaseError::new(f("phase") + &format!(": unknown phase {phase_s:?}")))?;
        snap.add_job(&spec, phase, 0);
    }
    for (i, p) in list(case, "pods").iter().enumerate() {
        add_pod(&mut snap, p, &format!("pods[{i}]"))?;
    }
    // `pod_sets`: generated pods "<name_prefix><i>", appended after `pods` (hdrf_test makePods).
    for (i, set) in list(case, "pod_sets").iter().enumerate() {
        let field = format!("pod_sets[{i}]");
        let prefix = s(set, "name_prefix")
            .ok_or_else(|| CaseError::new(format!("{field}.name_prefix: missing")))?;
        let count = int(set, "count")?
            .filter(|c| (0..=MAX_POD_SET).contains(c))
            .ok_or_else(|| CaseError::new(format!("{field}.count: expected 0..={MAX_POD_SET}")))?;
        for k in 0..count {
            let mut pod = set.clone();
            if let Some(o) = pod.as_object_mut() {
                o.insert("name".into(), Value::String(format!("{prefix}{k}")));
            }
            add_pod(&mut snap, &pod, &format!("{field}#{k}"))?;
        }
    }
    Ok(snap)
}

/// Adds one pod as the conventions describe (status from phase + node).
pub(super) fn add_pod(snap: &mut Snapshot, p: &Value, field: &str) -> Result<(), CaseError> {
    let ns = s(p, "ns").unwrap_or("default");
    let name = s(p, "name").ok_or_else(|| CaseError::new(format!("{field}: missing name")))?;
    let Some(pg) = s(p, "pg") else { return Ok(()) };
    let Some(job) = snap.find_job(&format!("{ns}/{pg}")) else {
        return Ok(());
    };
    let labels = str_map(p, "labels");
    let ann = str_map(p, "annotations");
    let get = |k: &str| ann.get(k).or_else(|| labels.get(k)).cloned();
    let preemptable = get("volcano.sh/preemptable").map(|v| v.parse::<bool>().unwrap_or(false));
    let mut requests = match p.get("req") {
        Some(r) => super::value::resources(r, &format!("{field}.req"))?,
        None => crate::model::Resources::empty(),
    };
    // The scheduler adds pods: 1 itself; a case never lists it.
    requests.set(ResourceName::PODS, 0);
    let pod = PodSpec {
        namespace: ns.to_string(),
        name: name.to_string(),
        role: get("volcano.sh/task-spec").unwrap_or_default(),
        requests,
        priority: int(p, "priority")?.map(|x| x as i32),
        priority_class_name: s(p, "priority_class").map(str::to_string),
        node_selector: str_map(p, "selector"),
        tolerations: Vec::new(),
        preemptable,
        preemption_never: s(p, "preemption_policy") == Some("Never"),
    };
    let phase = s(p, "phase").unwrap_or("Pending");
    let node = match s(p, "node") {
        Some(n) if !n.is_empty() => Some(
            snap.find_node(n)
                .ok_or_else(|| CaseError::new(format!("{field}.node: unknown node {n:?}")))?,
        ),
        _ => None,
    };
    let status = match (phase, node.is_some()) {
        ("Pending", true) => TaskStatus::Bound,
        ("Pending", false) => TaskStatus::Pending,
        ("Running", _) => TaskStatus::Running,
        ("Succeeded", _) => TaskStatus::Succeeded,
        ("Failed", _) => TaskStatus::Failed,
        ("Releasing", _) => TaskStatus::Releasing,
        (other, _) => {
            return Err(CaseError::new(format!(
                "{field}.phase: unknown pod phase {other:?}"
            )))
        }
    };
    let t = snap.add_task(job, &pod, status, node, 0);
    if let Some(nom) = s(p, "nominated_node") {
        let n = snap.find_node(nom).ok_or_else(|| {
            CaseError::new(format!("{field}.nominated_node: unknown node {nom:?}"))
        })?;
        snap.tasks[t.ix()].nominated_node = Some(n);
    }
    Ok(())
}

/// The conf of a session case: actions, tiers and action arguments from the profile / case.
pub(super) fn conf(case: &Value, profile: Option<&Value>) -> Result<SchedulerConf, CaseError> {
    let pick = |k: &str| case.get(k).or_else(|| profile.and_then(|p| p.get(k)));
    let registered: Option<BTreeSet<String>> = pick("plugins_registered")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().map(scalar).collect());
    let production = profile
        .and_then(|p| s(p, "flag_defaults"))
        .or_else(|| s(case, "flag_defaults"))
        == Some("production");
    let tiers_v = pick("tiers")
        .ok_or_else(|| CaseError::new("no tiers (neither in the case nor its profile)"))?;
    let tiers = tiers(tiers_v, production, registered.as_ref())?;
    let mut actions = Vec::new();
    for a in list(case, "actions") {
        let name = scalar(a);
        actions.push(
            Action::parse(&name)
                .ok_or_else(|| CaseError::new(format!("actions: unknown action {name:?}")))?,
        );
    }
    let mut action_args = BTreeMap::new();
    if let Some(m) = pick("action_args").and_then(|v| v.as_object()) {
        for (a, args) in m {
            let parsed: Arguments = args
                .as_object()
                .map(|o| {
                    o.iter()
                        .filter_map(|(k, v)| ArgValue::from_json(v).map(|x| (k.clone(), x)))
                        .collect()
                })
                .unwrap_or_default();
            action_args.insert(a.clone(), parsed);
        }
    }
    Ok(SchedulerConf {
        actions,
        tiers,
        action_args,
        warnings: Vec::new(),
        compat: crate::policy::conf::Compat::V1_15,
    })
}
