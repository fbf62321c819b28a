//! `POST /v1/jobs` bodies: parsing with errors that name the field, and mapping to the job the
//! simulator would submit — an activity type through `workload::mapping::map_activity`, or a
//! workload class through the scenario's class template — then the request's overrides.
//!
//! Depends on `model`, `workload`. Invariant: no panic on any input; a request is accepted only
//! when the resulting `TraceJob` passes `TraceJob::validate`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::names::{fnv1a, is_dns1123_subdomain, object_name};
use super::LiveError;
use crate::model::{parse_duration, PriorityClassSpec, ResourceName, Resources};
use crate::workload::mapping::{map_activity, MappingTable};
use crate::workload::workflow::{Activity, Workflow};
use crate::workload::TraceJob;

/// Longest accepted idempotency key / workflow id.
pub const MAX_KEY_LEN: usize = 256;
/// Run time of an activity job when neither the class nor the request gives one.
pub const DEFAULT_DURATION_MS: u64 = 60_000;
/// Largest accepted request per pod: 1024 CPUs, 16 TiB of memory, 64 GPUs (`docs/limits.md`).
pub const MAX_CPU_MILLI: i64 = 1024 * 1000;
pub const MAX_MEMORY_BYTES: i64 = 16 << 40;
pub const MAX_GPU_MILLI: i64 = 64 * 1000;
/// Longest accepted `overrides.duration`: 365 days.
pub const MAX_DURATION_MS: u64 = 365 * 24 * 3600 * 1000;
/// PriorityClasses every Kubernetes cluster has.
pub const BUILTIN_PRIORITY_CLASSES: &[&str] = &["system-cluster-critical", "system-node-critical"];

/// A validated submission: the mapped job (its `id` is the object name; `submit_ms` is set by
/// the service) and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    pub key: String,
    pub workflow_id: String,
    /// `activity:<type>` or `class:<name>`.
    pub source: String,
    /// FNV-1a of the canonical request JSON (detects a key reused with another body).
    pub fingerprint: u64,
    pub job: TraceJob,
}

/// Where templates come from.
pub struct Catalog<'a> {
    pub classes: &'a BTreeMap<String, TraceJob>,
    pub mapping: &'a MappingTable,
    /// The scenario's PriorityClasses (an override must name one of them or a built-in one).
    pub priority_classes: &'a [PriorityClassSpec],
}

const TOP_FIELDS: &[&str] = &[
    "idempotency_key",
    "workflow_id",
    "activity_type",
    "task_queue",
    "workflow_type",
    "class",
    "overrides",
];
const OVERRIDE_FIELDS: &[&str] = &[
    "queue",
    "cpu",
    "memory",
    "gpu",
    "replicas",
    "min_member",
    "priority_class",
    "priority",
    "duration",
];

fn string(obj: &Map<String, Value>, field: &str, path: &str) -> Result<Option<String>, LiveError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            if s.is_empty() || s.len() > MAX_KEY_LEN || s.chars().any(char::is_control) {
                return Err(LiveError::bad(
                    path,
                    format!("must be 1..={MAX_KEY_LEN} characters without control characters"),
                ));
            }
            Ok(Some(s.clone()))
        }
        Some(_) => Err(LiveError::bad(path, "must be a string")),
    }
}

fn uint(
    obj: &Map<String, Value>,
    field: &str,
    path: &str,
    max: u64,
) -> Result<Option<u64>, LiveError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n) if (1..=max).contains(&n) => Ok(Some(n)),
            _ => Err(LiveError::bad(
                path,
                format!("must be an integer in 1..={max}"),
            )),
        },
    }
}

fn quantity(
    obj: &Map<String, Value>,
    field: &str,
    path: &str,
) -> Result<Option<String>, LiveError> {
    let q = match obj.get(field) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => {
            return Err(LiveError::bad(
                path,
                "must be a quantity (\"500m\", \"2Gi\", 2)",
            ))
        }
    };
    let name = if field == "gpu" {
        "nvidia.com/gpu"
    } else {
        field
    };
    Resources::from_quantities([(name, q.as_str())]).map_err(|e| LiveError::bad(path, e))?;
    Ok(Some(q))
}

fn check_fields(obj: &Map<String, Value>, known: &[&str], prefix: &str) -> Result<(), LiveError> {
    for k in obj.keys() {
        if !known.contains(&k.as_str()) {
            return Err(LiveError::bad(
                &format!("{prefix}{k}"),
                format!("unknown field (known: {})", known.join(", ")),
            ));
        }
    }
    Ok(())
}

/// A minimal workflow/activity pair for rule matching (only the matched fields matter).
fn activity_pair(
    activity_type: &str,
    task_queue: &str,
    workflow_type: &str,
) -> Option<(Workflow, Activity)> {
    let wf = serde_json::json!({
        "workflow_id": "live", "run_id": "", "workflow_type": workflow_type,
        "task_queue": task_queue, "arrival_unix_ms": 0, "history_length": 0, "nodes": []
    });
    let act = serde_json::json!({
        "activity_type": activity_type, "activity_id": "live", "task_queue": task_queue,
        "attempts": 1, "outcome": "pending"
    });
    Some((
        serde_json::from_value(wf).ok()?,
        serde_json::from_value(act).ok()?,
    ))
}

/// Parses and maps a request body. `header_key` is the `Idempotency-Key` header, if any.
pub fn parse_submission(
    body: &[u8],
    header_key: Option<&str>,
    cat: &Catalog<'_>,
) -> Result<Submission, LiveError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| LiveError::bad("body", format!("not valid JSON: {e}")))?;
    let Value::Object(obj) = &v else {
        return Err(LiveError::bad("body", "must be a JSON object"));
    };
    check_fields(obj, TOP_FIELDS, "")?;
    let body_key = string(obj, "idempotency_key", "idempotency_key")?;
    let key = match (header_key, body_key) {
        (Some(h), Some(b)) if h != b => {
            return Err(LiveError::bad(
                "idempotency_key",
                "differs from the Idempotency-Key header",
            ))
        }
        (Some(h), _) => {
            if h.is_empty() || h.len() > MAX_KEY_LEN || h.chars().any(char::is_control) {
                return Err(LiveError::bad(
                    "idempotency_key",
                    "invalid Idempotency-Key header",
                ));
            }
            h.to_string()
        }
        (None, Some(b)) => b,
        (None, None) => return Err(LiveError::bad("idempotency_key", "is required")),
    };
    let workflow_id = string(obj, "workflow_id", "workflow_id")?
        .ok_or_else(|| LiveError::bad("workflow_id", "is required"))?;
    let activity = string(obj, "activity_type", "activity_type")?;
    let class = string(obj, "class", "class")?;
    let task_queue = string(obj, "task_queue", "task_queue")?.unwrap_or_default();
    let workflow_type = string(obj, "workflow_type", "workflow_type")?.unwrap_or_default();
    let name = object_name(&key);
    let (source, mut job) = match (activity, class) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(LiveError::bad(
                "activity_type",
                "give exactly one of activity_type or class",
            ))
        }
        (None, Some(c)) => {
            let t = cat.classes.get(&c).ok_or_else(|| {
                let known: Vec<&str> = cat.classes.keys().map(String::as_str).collect();
                LiveError::bad(
                    "class",
                    format!("unknown workload class {c:?} (known: {})", known.join(", ")),
                )
            })?;
            (
                format!("class:{c}"),
                TraceJob {
                    id: name.clone(),
                    submit_ms: 0,
                    ..t.clone()
                },
            )
        }
        (Some(a), None) => {
            let (wf, act) = activity_pair(&a, &task_queue, &workflow_type)
                .ok_or_else(|| LiveError::bad("activity_type", "cannot be matched"))?;
            let t = map_activity(cat.mapping, &wf, &act).ok_or_else(|| {
                LiveError::bad(
                    "activity_type",
                    format!("no mapping rule matches {a:?} (it would run inline)"),
                )
            })?;
            let job = TraceJob {
                id: name.clone(),
                submit_ms: 0,
                duration_ms: DEFAULT_DURATION_MS,
                replicas: t.replicas,
                min_member: t.min_member,
                requests: t.requests,
                queue: t.queue,
                priority_class: t.priority_class,
                priority: 0,
                class: a.clone(),
            };
            (format!("activity:{a}"), job)
        }
    };
    if let Some(ov) = obj.get("overrides") {
        let Value::Object(ov) = ov else {
            return Err(LiveError::bad("overrides", "must be a JSON object"));
        };
        apply_overrides(ov, &mut job, cat)?;
    }
    job.validate()
        .map_err(|e| LiveError::bad("overrides.min_member", e))?;
    Ok(Submission {
        key,
        workflow_id,
        source,
        fingerprint: fnv1a(v.to_string().as_bytes()),
        job,
    })
}

fn apply_overrides(
    ov: &Map<String, Value>,
    job: &mut TraceJob,
    cat: &Catalog<'_>,
) -> Result<(), LiveError> {
    check_fields(ov, OVERRIDE_FIELDS, "overrides.")?;
    if let Some(q) = string(ov, "queue", "overrides.queue")? {
        if !is_dns1123_subdomain(&q) {
            return Err(LiveError::bad(
                "overrides.queue",
                "must be a DNS-1123 subdomain (lower-case alphanumerics, '-', '.')",
            ));
        }
        job.queue = q;
    }
    if let Some(pc) = string(ov, "priority_class", "overrides.priority_class")? {
        let known = cat.priority_classes.iter().any(|p| p.name == pc)
            || BUILTIN_PRIORITY_CLASSES.contains(&pc.as_str());
        if !is_dns1123_subdomain(&pc) || !known {
            let mut names: Vec<&str> = cat
                .priority_classes
                .iter()
                .map(|p| p.name.as_str())
                .collect();
            names.extend(BUILTIN_PRIORITY_CLASSES);
            return Err(LiveError::bad(
                "overrides.priority_class",
                format!("unknown PriorityClass (known: {})", names.join(", ")),
            ));
        }
        job.priority_class = Some(pc);
    }
    for (field, dim) in [
        ("cpu", "cpu"),
        ("memory", "memory"),
        ("gpu", "nvidia.com/gpu"),
    ] {
        if let Some(q) = quantity(ov, field, &format!("overrides.{field}"))? {
            let r = Resources::from_quantities([(dim, q.as_str())])
                .map_err(|e| LiveError::bad(&format!("overrides.{field}"), e))?;
            let d = crate::model::ResourceName::intern(dim)
                .map_err(|e| LiveError::bad(&format!("overrides.{field}"), e))?;
            job.requests.set(d, r.get(d));
        }
    }
    if let Some(r) = uint(ov, "replicas", "overrides.replicas", 1000)? {
        job.replicas = r as u32;
        job.min_member = job.min_member.min(job.replicas);
    }
    if let Some(m) = uint(ov, "min_member", "overrides.min_member", 1000)? {
        job.min_member = m as u32;
    }
    match ov.get("priority") {
        None | Some(Value::Null) => {}
        Some(v) => {
            job.priority = v
                .as_i64()
                .and_then(|p| i32::try_from(p).ok())
                .ok_or_else(|| LiveError::bad("overrides.priority", "must be a 32-bit integer"))?;
        }
    }
    if let Some(d) = string(ov, "duration", "overrides.duration")? {
        let ms = parse_duration(&d).map_err(|e| LiveError::bad("overrides.duration", e))?;
        if ms == 0 || ms > MAX_DURATION_MS {
            return Err(LiveError::bad(
                "overrides.duration",
                format!("must be > 0 and at most {MAX_DURATION_MS} ms (365 days)"),
            ));
        }
        job.duration_ms = ms;
    }
    for (field, dim, max) in [
        ("cpu", ResourceName::CPU, MAX_CPU_MILLI),
        ("memory", ResourceName::MEMORY, MAX_MEMORY_BYTES),
        ("gpu", ResourceName::GPU, MAX_GPU_MILLI),
    ] {
        let v = job.requests.get(dim);
        if !(0..=max).contains(&v) {
            return Err(LiveError::bad(
                &format!("overrides.{field}"),
                format!("must be between 0 and {max} (milli-units or bytes per pod)"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
