//! A live cluster's state as a scenario: reads `kubectl get nodes,queues,podgroups,vcjobs,pods,
//! priorityclasses,hypernodes -A -o yaml|json` dumps and writes a scenario directory —
//! `cluster.json` (Nodes, Queues with their hierarchy annotations, PriorityClasses, HyperNodes,
//! the scheduler ConfigMap), `jobs.csv` (canonical trace) and
//! `scenario.toml` whose header states the assumptions.
//!
//! Assumptions (also written into the scenario): the snapshot time is the latest
//! `creationTimestamp` / `startTime` in the dump. Running jobs arrive at 0 (class
//! `snapshot-running`, in start order) and hold their resources for their remaining run time;
//! volsim has no initial placement, so the first cycles place them again (anywhere they fit).
//! Pending / inqueue jobs arrive at `PENDING_AT_MS` (class `snapshot-pending`, in creation
//! order) for their full run time. A job's run time is its `volsim.dev/duration` annotation, else its
//! containers' `sleep N`, else `default_duration`; a running job's remaining time is that minus
//! the time since its first pod started (at least 1 s). Running pods outside any Volcano job
//! (other schedulers' pods included) hold their resources as one-pod running jobs in `default`.
//! Finished jobs and pods are skipped and counted. The canonical trace cannot carry node
//! selectors, tolerations or eviction policies.
//!
//! Depends on `kube`, `model` and `workload`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::kube::{parse_objects, KubeObjects, Origin, PodTemplate};
use crate::model::{parse_duration, HyperNodeSpec, MemberSelector, Resources};
use crate::workload::temporal::parse_rfc3339_ns;
use crate::workload::{self, Tally, TraceJob};

/// When pending jobs arrive: after the running ones have been placed (volsim has no initial
/// placement state, so running jobs are re-placed by the first scheduling cycles).
pub const PENDING_AT_MS: u64 = 10_000;

/// What the import wrote and skipped.
#[derive(Debug, Default)]
pub struct SnapshotReport {
    /// Workload objects (vcjobs, PodGroups, Pods) read, turned into jobs, skipped by reason.
    pub tally: Tally,
    pub running: usize,
    pub pending: usize,
    pub nodes: usize,
    pub queues: usize,
    pub warnings: Vec<String>,
}

/// Imports `files` into the scenario directory `out` (created if missing). Errors name the
/// file (and document) at fault.
pub fn import_snapshot(
    files: &[PathBuf],
    out: &Path,
    default_duration: Option<&str>,
) -> Result<SnapshotReport, String> {
    let default_ms = default_duration
        .map(|d| parse_duration(d).map_err(|e| format!("--default-duration: {e}")))
        .transpose()?;
    let mut all = KubeObjects::default();
    for f in files {
        let text = workload::input::read_input_string(f)
            .map_err(|e| format!("{}: cannot read: {e}", f.display()))?;
        let o = parse_objects(&text, &f.display().to_string()).map_err(|e| e.to_string())?;
        merge(&mut all, o)?;
    }
    if all.nodes.is_empty() {
        return Err("no Node objects in the input (add `kubectl get nodes -o yaml`)".into());
    }
    let mut rep = SnapshotReport {
        nodes: all.nodes.len(),
        queues: all.queues.len(),
        warnings: std::mem::take(&mut all.warnings),
        ..SnapshotReport::default()
    };
    let origin = |kind: &str, ns: &str, name: &str| {
        all.origins
            .iter()
            .find(|o| o.kind == kind && o.namespace == ns && o.name == name)
            .expect("parsed objects have origins")
    };
    let ts = |s: &Option<String>| s.as_deref().and_then(|t| parse_rfc3339_ns(t).ok());
    let now = all
        .origins
        .iter()
        .flat_map(|o| [ts(&o.creation_timestamp), ts(&o.start_time)])
        .flatten()
        .max()
        .unwrap_or(0);
    // (is running, order key, job)
    let mut jobs: Vec<(bool, i64, TraceJob)> = Vec::new();
    let mut claimed = vec![false; all.pods.len()];
    let mut units: Vec<Unit> = Vec::new();
    for j in &all.vcjobs {
        let o = origin("Job", &j.namespace, &j.name);
        let shapes: Vec<Resources> = j.tasks.iter().map(|t| t.template.requests).collect();
        let pods = members(&all, &mut claimed, &j.namespace, |p| {
            p.template.labels.get("volcano.sh/job-name") == Some(&j.name)
                || p.group.as_deref() == Some(j.name.as_str())
                || p.group
                    .as_ref()
                    .is_some_and(|g| g.starts_with(&format!("{}-", j.name)))
        });
        units.push(Unit {
            origin: o.clone(),
            replicas: j.tasks.iter().map(|t| t.replicas).sum(),
            min: j.min_available,
            requests: shapes.iter().fold(Resources::empty(), |a, s| a.max_with(s)),
            queue: j.queue.clone(),
            pc: j.priority_class_name.clone(),
            templates: j.tasks.iter().map(|t| t.template.clone()).collect(),
            pod_starts: pods,
            foreign: false,
        });
    }
    // The canonical trace has no networkTopology column: say which jobs lose theirs.
    let with_topology = all
        .vcjobs
        .iter()
        .filter(|j| j.network_topology.is_some())
        .map(|j| origin("Job", &j.namespace, &j.name).describe())
        .chain(
            all.podgroups
                .iter()
                .filter(|p| p.network_topology.is_some())
                .map(|p| origin("PodGroup", &p.namespace, &p.name).describe()),
        );
    for what in with_topology {
        rep.warnings.push(format!(
            "{what}: spec.networkTopology is not carried by the canonical trace; the job is \
             imported without it"
        ));
    }
    for pg in &all.podgroups {
        let o = origin("PodGroup", &pg.namespace, &pg.name);
        let owned = all.vcjobs.iter().any(|j| {
            j.namespace == pg.namespace
                && (pg.name == j.name || pg.name.starts_with(&format!("{}-", j.name)))
        });
        if owned {
            rep.tally.read += 1;
            rep.tally.skip("PodGroup of a vcjob", || o.describe());
            continue;
        }
        let idx: Vec<usize> = (0..all.pods.len())
            .filter(|&i| {
                let p = &all.pods[i];
                !claimed[i] && p.namespace == pg.namespace && p.group.as_ref() == Some(&pg.name)
            })
            .collect();
        let templates: Vec<PodTemplate> =
            idx.iter().map(|&i| all.pods[i].template.clone()).collect();
        let pods = members(&all, &mut claimed, &pg.namespace, |p| {
            p.group.as_ref() == Some(&pg.name)
        });
        units.push(Unit {
            origin: o.clone(),
            replicas: templates.len() as u32,
            min: pg.min_member,
            requests: templates
                .iter()
                .fold(Resources::empty(), |a, t| a.max_with(&t.requests)),
            queue: pg.queue.clone(),
            pc: pg.priority_class.clone(),
            templates,
            pod_starts: pods,
            foreign: false,
        });
    }
    for (p, _) in all.pods.iter().zip(&claimed).filter(|(_, c)| !**c) {
        let o = origin("Pod", &p.namespace, &p.name);
        units.push(Unit {
            origin: o.clone(),
            replicas: 1,
            min: 1,
            requests: p.template.requests,
            queue: "default".into(),
            pc: p.template.priority_class_name.clone(),
            templates: vec![p.template.clone()],
            pod_starts: vec![(o.phase.clone(), ts(&o.start_time))],
            foreign: p.template.scheduler_name.as_deref() != Some("volcano"),
        });
    }
    let pcs: Vec<&str> = all
        .priority_classes
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    for u in units {
        rep.tally.read += 1;
        let what = u.origin.describe();
        let phase = u.origin.phase.clone().unwrap_or_else(|| "Pending".into());
        let running = match phase.as_str() {
            "Running" | "Restarting" | "Completing" | "Aborting" | "Terminating" => true,
            "Pending" | "Inqueue" | "Unknown" => false,
            done => {
                rep.tally
                    .skip(&format!("finished ({done})"), || what.clone());
                continue;
            }
        };
        if u.foreign && !running {
            rep.tally
                .skip("pending pod of another scheduler", || what.clone());
            continue;
        }
        if u.replicas == 0 {
            rep.tally.skip("no pods", || what.clone());
            continue;
        }
        let ann = u.origin.annotations.get(super::objects::DURATION);
        let full_ms = match (
            ann.map(|d| parse_duration(d)),
            u.templates.iter().filter_map(|t| t.sleep_ms).max(),
            default_ms,
        ) {
            (Some(Ok(ms)), _, _) => ms,
            (Some(Err(e)), _, _) => {
                return Err(format!("{what}: annotation volsim.dev/duration: {e}"))
            }
            (None, Some(ms), _) | (None, None, Some(ms)) => ms,
            (None, None, None) => {
                rep.tally
                    .skip("no run time (give --default-duration)", || what.clone());
                continue;
            }
        };
        let started = u
            .pod_starts
            .iter()
            .filter(|(ph, _)| ph.as_deref() == Some("Running"))
            .filter_map(|(_, t)| *t)
            .min()
            .or_else(|| ts(&u.origin.creation_timestamp));
        let (duration_ms, key) = if running {
            let elapsed = started.map_or(0, |s| ((now - s) / 1_000_000).max(0) as u64);
            (
                full_ms.saturating_sub(elapsed).max(1000),
                started.unwrap_or(0),
            )
        } else {
            (full_ms, ts(&u.origin.creation_timestamp).unwrap_or(now))
        };
        let id = if u.origin.namespace == "default" {
            u.origin.name.clone()
        } else {
            format!("{}/{}", u.origin.namespace, u.origin.name)
        };
        let mut pc = u.pc.clone();
        if let Some(name) = pc.as_deref().filter(|n| !pcs.contains(n)) {
            rep.warnings.push(format!(
                "{what}: PriorityClass {name:?} is not in the dump; the job keeps priority 0"
            ));
            pc = None;
        }
        if jobs.iter().any(|j| j.2.id == id) {
            rep.tally.skip("listed twice in the input", || what.clone());
            continue;
        }
        rep.tally.imported += 1;
        *if running {
            &mut rep.running
        } else {
            &mut rep.pending
        } += 1;
        jobs.push((
            running,
            key,
            TraceJob {
                id,
                submit_ms: if running { 0 } else { PENDING_AT_MS },
                duration_ms,
                replicas: u.replicas,
                min_member: u.min.clamp(1, u.replicas),
                requests: u.requests,
                queue: u.queue,
                priority_class: pc,
                priority: 0,
                class: if running {
                    "snapshot-running"
                } else {
                    "snapshot-pending"
                }
                .into(),
            },
        ));
    }
    jobs.sort_by(|a, b| (!a.0, a.1, &a.2.id).cmp(&(!b.0, b.1, &b.2.id)));
    let jobs: Vec<TraceJob> = jobs.into_iter().map(|j| j.2).collect();
    write_out(out, &all, &jobs, &rep, now)?;
    Ok(rep)
}

/// A Volcano job (vcjob, PodGroup or lone Pod) found in the dump.
struct Unit {
    origin: Origin,
    replicas: u32,
    min: u32,
    requests: Resources,
    queue: String,
    pc: Option<String>,
    templates: Vec<PodTemplate>,
    /// (phase, start ns) of its pods in the dump.
    pod_starts: Vec<(Option<String>, Option<i64>)>,
    /// A lone pod of another scheduler (kept only while it runs: it holds resources).
    foreign: bool,
}

/// Claims the unclaimed pods of `ns` matching `f`, returning their (phase, start time).
fn members(
    all: &KubeObjects,
    claimed: &mut [bool],
    ns: &str,
    f: impl Fn(&crate::kube::PlainPod) -> bool,
) -> Vec<(Option<String>, Option<i64>)> {
    let mut out = Vec::new();
    for (i, p) in all.pods.iter().enumerate() {
        if !claimed[i] && p.namespace == ns && f(p) {
            claimed[i] = true;
            let o = all
                .origins
                .iter()
                .find(|o| o.kind == "Pod" && o.namespace == ns && o.name == p.name);
            let start = o
                .and_then(|o| o.start_time.as_deref())
                .and_then(|t| parse_rfc3339_ns(t).ok());
            out.push((o.and_then(|o| o.phase.clone()), start));
        }
    }
    out
}

fn merge(all: &mut KubeObjects, o: KubeObjects) -> Result<(), String> {
    if let (Some(_), Some(_)) = (&all.scheduler_conf, &o.scheduler_conf) {
        return Err("two scheduler confs in the input".into());
    }
    all.queues.extend(o.queues);
    all.podgroups.extend(o.podgroups);
    all.vcjobs.extend(o.vcjobs);
    all.batch_jobs.extend(o.batch_jobs);
    all.pods.extend(o.pods);
    all.priority_classes.extend(o.priority_classes);
    all.nodes.extend(o.nodes);
    all.hypernodes.extend(o.hypernodes);
    all.scheduler_conf = all.scheduler_conf.take().or(o.scheduler_conf);
    all.origins.extend(o.origins);
    all.warnings.extend(o.warnings);
    Ok(())
}

/// `{name: quantity}` of a resource list (cpu and scalars in milli-units, memory/pods whole).
fn quantities(r: &Resources) -> Value {
    let mut m = Map::new();
    for d in r.dims() {
        let v = r.get(d);
        let q = if d.scale() == 1 || v % d.scale() == 0 {
            (v / d.scale()).to_string()
        } else {
            format!("{v}m")
        };
        m.insert(d.name(), Value::String(q));
    }
    Value::Object(m)
}

/// A HyperNode as `topology.volcano.sh/v1alpha1` JSON (what the reader reads back).
fn hypernode_json(h: &HyperNodeSpec) -> Value {
    let members: Vec<Value> = h
        .members
        .iter()
        .map(|m| {
            let selector = match &m.selector {
                MemberSelector::Exact(n) => json!({"exactMatch": {"name": n}}),
                MemberSelector::Regex(p) => json!({"regexMatch": {"pattern": p}}),
                MemberSelector::Labels {
                    match_labels,
                    match_expressions,
                } => {
                    let exprs: Vec<Value> = match_expressions
                        .iter()
                        .map(|r| {
                            json!({"key": r.key, "operator": format!("{:?}", r.op),
                                "values": r.values})
                        })
                        .collect();
                    json!({"labelMatch": {"matchLabels": match_labels,
                        "matchExpressions": exprs}})
                }
            };
            json!({"type": m.kind.as_str(), "selector": selector})
        })
        .collect();
    let mut spec = json!({"tier": h.tier, "members": members});
    if !h.tier_name.is_empty() {
        spec["tierName"] = json!(h.tier_name);
    }
    json!({"apiVersion": "topology.volcano.sh/v1alpha1", "kind": "HyperNode",
        "metadata": {"name": h.name}, "spec": spec})
}

fn write_out(
    out: &Path,
    all: &KubeObjects,
    jobs: &[TraceJob],
    rep: &SnapshotReport,
    now: i64,
) -> Result<(), String> {
    let io = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
    let mut items = Vec::new();
    for n in &all.nodes {
        let taints: Vec<Value> = n
            .taints
            .iter()
            .map(|t| json!({"key": t.key, "value": t.value, "effect": format!("{:?}", t.effect)}))
            .collect();
        items.push(json!({"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": n.name, "labels": n.labels},
            "spec": {"taints": taints, "unschedulable": n.unschedulable},
            "status": {"allocatable": quantities(&n.allocatable)}}));
    }
    for q in &all.queues {
        let mut spec =
            json!({"weight": q.weight, "reclaimable": q.reclaimable, "priority": q.priority});
        for (k, r) in [("capability", q.capability), ("deserved", q.deserved)] {
            if let Some(r) = r {
                spec[k] = quantities(&r);
            }
        }
        if let Some(g) = q.guarantee {
            spec["guarantee"] = json!({"resource": quantities(&g)});
        }
        if let Some(p) = &q.parent {
            spec["parent"] = json!(p);
        }
        let mut meta = json!({"name": q.name});
        if !q.hierarchy.is_empty() {
            meta["annotations"] = json!({"volcano.sh/hierarchy": q.hierarchy,
                "volcano.sh/hierarchy-weights": q.hierarchy_weights});
        }
        items.push(
            json!({"apiVersion": "scheduling.volcano.sh/v1beta1", "kind": "Queue",
            "metadata": meta, "spec": spec,
            "status": {"state": format!("{:?}", q.state)}}),
        );
    }
    items.extend(all.hypernodes.iter().map(hypernode_json));
    for p in &all.priority_classes {
        let policy = if p.preemption_never {
            "Never"
        } else {
            "PreemptLowerPriority"
        };
        items.push(
            json!({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": {"name": p.name}, "value": p.value, "globalDefault": p.global_default,
            "preemptionPolicy": policy}),
        );
    }
    if let Some(conf) = &all.scheduler_conf {
        items.push(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "volcano-scheduler-configmap"},
            "data": {crate::kube::SCHEDULER_CONF_KEY: conf}}));
    }
    let cluster = json!({"apiVersion": "v1", "kind": "List", "items": items});
    let cpath = out.join("cluster.json");
    let text = serde_json::to_string_pretty(&cluster).map_err(|e| e.to_string())?;
    std::fs::write(&cpath, text + "\n").map_err(|e| io(&cpath, e))?;
    let jpath = out.join("jobs.csv");
    let f = std::fs::File::create(&jpath).map_err(|e| io(&jpath, e))?;
    workload::write_csv_trace(jobs, std::io::BufWriter::new(f)).map_err(|e| e.to_string())?;
    let mut toml = String::new();
    let _ = writeln!(
        toml,
        "# Imported by `volsim trace import --format kube` from a cluster dump."
    );
    let _ = writeln!(
        toml,
        "# Snapshot time: {} (the latest timestamp in the dump).",
        now / 1_000_000_000
    );
    let _ = writeln!(
        toml,
        "# {} nodes, {} queues; {} running and {} pending jobs; {}.",
        rep.nodes, rep.queues, rep.running, rep.pending, rep.tally
    );
    for line in ASSUMPTIONS {
        let _ = writeln!(toml, "# {line}");
    }
    let _ = writeln!(
        toml,
        "description = \"cluster snapshot: {} running, {} pending jobs\"",
        rep.running, rep.pending
    );
    let _ = writeln!(
        toml,
        "\n[cluster]\nobjects = [\"cluster.json\"]\n\n[workload]\ntrace = \"jobs.csv\""
    );
    let spath = out.join("scenario.toml");
    std::fs::write(&spath, toml).map_err(|e| io(&spath, e))
}

const ASSUMPTIONS: [&str; 8] = [
    "Assumptions:",
    "- running jobs arrive at 0 (class snapshot-running, in start order) and are placed again by",
    "  the first cycles (volsim has no initial placement); pending/inqueue ones arrive at 10 s",
    "  (class snapshot-pending, in creation order);",
    "- run time: annotation volsim.dev/duration, else the containers' `sleep N`, else",
    "  --default-duration; a running job runs for what is left of it (at least 1 s);",
    "- running pods outside any Volcano job hold their resources as one-pod jobs in `default`;",
    "- node selectors, tolerations, eviction policies and network topologies of the jobs are not \
     carried over.",
];
