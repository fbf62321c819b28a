//! Kubernetes manifests as scenario input. `cluster.objects` and `queues.files` (the same slot
//! under its old name) give Nodes, Queues, PriorityClasses, HyperNodes and the scheduler
//! ConfigMap;
//! `workload.objects` gives jobs: Volcano Jobs, PodGroups with their pods or a `batch/v1` Job,
//! plain Pods for Volcano. Every object a slot does not use is a warning naming the file and
//! document, never a silent drop. Paths may be globs (`*`, `?` in the file name) or folders
//! (their `*.yaml`, `*.yml`, `*.json`, gzip too), read in sorted order.
//!
//! Arrival of an object job: `metadata.creationTimestamp` (relative to the earliest one), else
//! annotation `volsim.dev/submit-at` (a Go duration), else 0. Run time: annotation
//! `volsim.dev/duration`, else the longest `sleep N` of its containers, else
//! `workload.default_duration`, else an error. A summary of the rule each job used is added to
//! the warnings.
//!
//! Depends on `kube`, `model`, `workload` and the scenario loader's context.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::file::ScenarioFile;
use super::load::{Ctx, ScenarioError};
use crate::kube::{parse_objects, KubeObjects};
use crate::model::{
    parse_duration, HyperNodeSpec, NetworkTopologySpec, NodeSpec, OnEvict, PriorityClassSpec,
    QueueSpec,
};
use crate::workload::temporal::parse_rfc3339_ns;
use crate::workload::TraceJob;

mod jobs;
use jobs::{convert, Pending};

/// Annotation: arrival time of an object job without `creationTimestamp` (Go duration).
pub(super) const SUBMIT_AT: &str = "volsim.dev/submit-at";
/// Annotation: run time of each pod of an object job (Go duration).
pub(super) const DURATION: &str = "volsim.dev/duration";
/// Annotation: workload class label of an object job.
pub(super) const CLASS: &str = "volsim.dev/class";

const WORKLOAD_KINDS: [&str; 4] = ["Job", "batch/v1 Job", "PodGroup", "Pod"];

/// What the cluster slots hold.
#[derive(Default)]
pub(super) struct Cluster {
    pub nodes: Vec<NodeSpec>,
    pub queues: Vec<QueueSpec>,
    pub priority_classes: Vec<PriorityClassSpec>,
    /// HyperNodes with where each was read (`Origin::describe`).
    pub hypernodes: Vec<(HyperNodeSpec, String)>,
    /// (where, conf text) of a scheduler ConfigMap or bare conf document.
    pub conf: Option<(String, String)>,
}

/// Reads `queues.files` then `cluster.objects`.
pub(super) fn load_cluster(
    cx: &mut Ctx,
    sf: &ScenarioFile,
    warnings: &mut Vec<String>,
) -> Result<Cluster, ScenarioError> {
    let mut out = Cluster::default();
    let slots = [
        ("queues.files", &sf.queues.files),
        ("cluster.objects", &sf.cluster.objects),
    ];
    for (slot, entries) in slots {
        for (field, path, objs) in read_slot(cx, slot, entries)? {
            warnings.extend(objs.warnings);
            for o in objs
                .origins
                .iter()
                .filter(|o| WORKLOAD_KINDS.contains(&o.kind.as_str()))
            {
                warnings.push(format!(
                    "{}: a workload object in {slot}, ignored (list it in workload.objects)",
                    o.describe()
                ));
            }
            if let Some(conf) = objs.scheduler_conf {
                if let Some((first, _)) = &out.conf {
                    let msg =
                        format!("a second scheduler conf in {path} (the first is in {first})");
                    return Err(cx.err(field, msg));
                }
                out.conf = Some((path.clone(), conf));
            }
            for h in objs.hypernodes {
                let at = objs
                    .origins
                    .iter()
                    .find(|o| o.kind == "HyperNode" && o.name == h.name)
                    .map_or_else(|| path.clone(), |o| o.describe());
                out.hypernodes.push((h, at));
            }
            out.nodes.extend(objs.nodes);
            out.queues.extend(objs.queues);
            out.priority_classes.extend(objs.priority_classes);
        }
    }
    Ok(out)
}

/// Expands and parses every entry of one slot: `(field, file, objects)` in reading order.
fn read_slot(
    cx: &mut Ctx,
    slot: &str,
    entries: &[String],
) -> Result<Vec<(String, String, KubeObjects)>, ScenarioError> {
    let mut out = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let field = format!("{slot}[{i}]");
        for path in expand(cx, &field, entry)? {
            let bytes = crate::workload::input::read_input(&path)
                .map_err(|e| cx.err(&field, format!("cannot read {}: {e}", path.display())))?;
            cx.absorb(&bytes);
            let name = path.display().to_string();
            let text = String::from_utf8(bytes)
                .map_err(|_| cx.err(&field, format!("{name}: not UTF-8 text")))?;
            let objs = parse_objects(&text, &name).map_err(|e| cx.err(&field, e.to_string()))?;
            out.push((field.clone(), name, objs));
        }
    }
    Ok(out)
}

/// A path, a folder (its manifests) or a glob in the file name → sorted existing files.
fn expand(cx: &Ctx, field: &str, entry: &str) -> Result<Vec<PathBuf>, ScenarioError> {
    let path = cx.resolve(entry);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let is_glob = name.contains(['*', '?']);
    if !is_glob && !path.is_dir() {
        return Ok(vec![path]);
    }
    let dir = if is_glob {
        path.parent().map(PathBuf::from).unwrap_or_default()
    } else {
        path.clone()
    };
    let list = std::fs::read_dir(&dir)
        .map_err(|e| cx.err(field, format!("cannot list {}: {e}", dir.display())))?;
    let mut files = Vec::new();
    for e in list {
        let p = e
            .map_err(|e| cx.err(field, format!("cannot list {}: {e}", dir.display())))?
            .path();
        let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let keep = if is_glob {
            glob_match(name.as_bytes(), n.as_bytes())
        } else {
            let n = crate::workload::input::strip_gz(n);
            [".yaml", ".yml", ".json"].iter().any(|s| n.ends_with(s))
        };
        if keep && p.is_file() {
            files.push(p);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(cx.err(field, format!("{entry:?} matches no file")));
    }
    Ok(files)
}

/// `*` (any run) and `?` (one byte) matching of a whole file name.
fn glob_match(pat: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i, mut star, mut mark) = (0, 0, None, 0);
    while i < s.len() {
        if p < pat.len() && (pat[p] == b'?' || pat[p] == s[i]) {
            p += 1;
            i += 1;
        } else if p < pat.len() && pat[p] == b'*' {
            star = Some(p);
            mark = i;
            p += 1;
        } else if let Some(sp) = star {
            p = sp + 1;
            mark += 1;
            i = mark;
        } else {
            return false;
        }
    }
    pat[p..].iter().all(|&c| c == b'*')
}

/// Object jobs plus the class policies their vcjobs ask for (`PodEvicted → RestartJob`) and
/// the networkTopology their PodGroups carry.
pub(super) struct ObjectJobs {
    pub jobs: Vec<TraceJob>,
    pub on_evict: BTreeMap<String, OnEvict>,
    pub topology: BTreeMap<String, NetworkTopologySpec>,
}

/// Reads `workload.objects` into jobs (unsorted; in reading order).
pub(super) fn load_workload(
    cx: &mut Ctx,
    sf: &ScenarioFile,
    warnings: &mut Vec<String>,
) -> Result<ObjectJobs, ScenarioError> {
    let mut out = ObjectJobs {
        jobs: Vec::new(),
        on_evict: BTreeMap::new(),
        topology: BTreeMap::new(),
    };
    if sf.workload.objects.is_empty() {
        if sf.workload.default_duration.is_some() {
            return Err(cx.err(
                "workload.default_duration",
                "only used with workload.objects",
            ));
        }
        return Ok(out);
    }
    let strict = sf.workload.strict.unwrap_or(false);
    let default_ms = match &sf.workload.default_duration {
        None => None,
        Some(d) => Some(parse_duration(d).map_err(|e| cx.err("workload.default_duration", e))?),
    };
    let mut pending: Vec<Pending> = Vec::new();
    let mut skips: Vec<String> = Vec::new();
    for (_, _, objs) in read_slot(cx, "workload.objects", &sf.workload.objects)? {
        warnings.extend(objs.warnings.iter().cloned());
        for o in objs
            .origins
            .iter()
            .filter(|o| !WORKLOAD_KINDS.contains(&o.kind.as_str()))
        {
            warnings.push(format!(
                "{}: not a workload object, ignored (list it in cluster.objects)",
                o.describe()
            ));
        }
        convert(
            &objs,
            &mut pending,
            &mut skips,
            &mut out.on_evict,
            &mut out.topology,
            warnings,
        );
    }
    if strict {
        if let Some(first) = skips.first() {
            return Err(cx.err("workload.objects", format!("{first} (workload.strict)")));
        }
    }
    warnings.extend(skips.into_iter().map(|s| format!("skipped: {s}")));
    resolve_times(cx, pending, default_ms, &mut out.jobs, warnings)?;
    Ok(out)
}

/// Applies the arrival and run-time rules, appending the jobs and a summary of the rules used.
fn resolve_times(
    cx: &Ctx,
    pending: Vec<Pending>,
    default_ms: Option<u64>,
    jobs: &mut Vec<TraceJob>,
    warnings: &mut Vec<String>,
) -> Result<(), ScenarioError> {
    let field = "workload.objects";
    let mut stamps = Vec::with_capacity(pending.len());
    for p in &pending {
        let ns = match &p.origin.creation_timestamp {
            Some(t) => Some(parse_rfc3339_ns(t).map_err(|e| {
                let msg = format!(
                    "{}: metadata.creationTimestamp {t:?}: {e}",
                    p.origin.describe()
                );
                cx.err(field, msg)
            })?),
            None => None,
        };
        stamps.push(ns);
    }
    let t0 = stamps.iter().flatten().min().copied().unwrap_or(0);
    let mut ids: BTreeMap<&str, String> = BTreeMap::new();
    for p in &pending {
        if let Some(first) = ids.insert(&p.job.id, p.origin.describe()) {
            let msg = format!(
                "{}: job {:?} is defined twice (first: {first})",
                p.origin.describe(),
                p.job.id
            );
            return Err(cx.err(field, msg));
        }
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut lines = Vec::new();
    for (p, stamp) in pending.into_iter().zip(stamps) {
        let what = p.origin.describe();
        let ann = |k: &str| -> Result<Option<u64>, ScenarioError> {
            match p.origin.annotations.get(k) {
                None => Ok(None),
                Some(v) => parse_duration(v)
                    .map(Some)
                    .map_err(|e| cx.err(field, format!("{what}: annotation {k}: {e}"))),
            }
        };
        let (submit_ms, arrival) = match (stamp, ann(SUBMIT_AT)?) {
            (Some(ns), _) => (((ns - t0) / 1_000_000) as u64, "creationTimestamp"),
            (None, Some(ms)) => (ms, SUBMIT_AT),
            (None, None) => (0, "none (0)"),
        };
        let (duration_ms, run) = match (ann(DURATION)?, p.sleep_ms, default_ms) {
            (Some(ms), _, _) => (ms, DURATION),
            (None, Some(ms), _) => (ms, "sleep in its container"),
            (None, None, Some(ms)) => (ms, "workload.default_duration"),
            (None, None, None) => {
                let msg = format!(
                    "{what}: no run time: add annotation {DURATION}, a `sleep N` to its \
                     container, or workload.default_duration"
                );
                return Err(cx.err(field, msg));
            }
        };
        *counts.entry(arrival).or_default() += 1;
        *counts.entry(run).or_default() += 1;
        lines.push(format!(
            "  {}: arrives {} ms ({arrival}), runs {} ms ({run})",
            p.job.id, submit_ms, duration_ms
        ));
        jobs.push(TraceJob {
            submit_ms,
            duration_ms,
            ..p.job
        });
    }
    let by: Vec<String> = counts.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    warnings.push(format!(
        "workload.objects: {} jobs; rules used — {}",
        jobs.len(),
        by.join(", ")
    ));
    const SHOWN: usize = 20;
    let more = lines.len().saturating_sub(SHOWN);
    warnings.extend(lines.into_iter().take(SHOWN));
    if more > 0 {
        warnings.push(format!("  … and {more} more"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs_match_whole_names() {
        assert!(glob_match(b"*.yaml", b"job-1.yaml"));
        assert!(glob_match(b"job-?.y*ml", b"job-1.yaml"));
        assert!(!glob_match(b"*.yaml", b"job.yaml.bak"));
        assert!(glob_match(b"*", b""));
        assert!(!glob_match(b"a?", b"a"));
    }
}
