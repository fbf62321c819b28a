//! Structural rules for the objects live mode submits, written from Volcano's CRD schemas
//! (`installer/helm/chart/volcano/crd/bases/`: `batch.volcano.sh_jobs.yaml`,
//! `scheduling.volcano.sh_podgroups.yaml`, `scheduling.volcano.sh_queues.yaml`), its admission
//! webhooks (job `minAvailable` ≤ total replicas, task names DNS-1123, queue weight 1..=65535)
//! and the core `batch/v1` Job rules we rely on. Checks the *serialised* JSON, i.e. what
//! would go on the wire, so a serde rename mistake is caught too.
//!
//! Depends on `model` (quantity parsing). Returns every violation, each naming a JSON path.

use serde_json::Value;

use super::manifest::Manifest;
use super::names::{is_dns1123_label, is_dns1123_subdomain};
use crate::model::parse_quantity;

const VCJOB_SPEC: &[&str] = &[
    "minAvailable",
    "minSuccess",
    "networkTopology",
    "plugins",
    "policies",
    "priorityClassName",
    "queue",
    "runningEstimate",
    "schedulerName",
    "tasks",
    "ttlSecondsAfterFinished",
    "volumes",
    "maxRetry",
];
const VCTASK: &[&str] = &[
    "name",
    "replicas",
    "minAvailable",
    "template",
    "policies",
    "topologyPolicy",
    "maxRetry",
    "dependsOn",
    "partitionPolicy",
];
const PG_SPEC: &[&str] = &[
    "minMember",
    "minResources",
    "minTaskMember",
    "priorityClassName",
    "queue",
    "networkTopology",
];
const QUEUE_SPEC: &[&str] = &[
    "affinity",
    "capability",
    "deserved",
    "extendCluster",
    "guarantee",
    "parent",
    "priority",
    "reclaimable",
    "type",
    "weight",
];
const BATCH_SPEC: &[&str] = &[
    "parallelism",
    "completions",
    "backoffLimit",
    "template",
    "activeDeadlineSeconds",
    "ttlSecondsAfterFinished",
    "completionMode",
    "suspend",
];

struct Ck {
    errs: Vec<String>,
}

impl Ck {
    fn err(&mut self, path: &str, msg: impl std::fmt::Display) {
        self.errs.push(format!("{path}: {msg}"));
    }
    fn known(&mut self, v: &Value, path: &str, fields: &[&str]) {
        match v.as_object() {
            Some(o) => {
                for k in o.keys() {
                    if !fields.contains(&k.as_str()) {
                        self.err(
                            &format!("{path}.{k}"),
                            "unknown field (pruned by the CRD schema)",
                        );
                    }
                }
            }
            None => self.err(path, "must be an object"),
        }
    }
    fn int32(&mut self, v: &Value, path: &str, min: i64, max: i64, required: bool) -> Option<i64> {
        match v.pointer_get(path) {
            None if required => {
                self.err(path, "is required");
                None
            }
            None => None,
            Some(x) => match x.as_i64() {
                Some(n) if (min..=max).contains(&n) => Some(n),
                _ => {
                    self.err(path, format!("must be an integer in {min}..={max}"));
                    None
                }
            },
        }
    }
    fn string(&mut self, v: &Value, path: &str, required: bool) -> Option<String> {
        match v.pointer_get(path) {
            None if required => {
                self.err(path, "is required");
                None
            }
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.err(path, "must be a string");
                None
            }
        }
    }
    fn resources(&mut self, v: &Value, path: &str) {
        let Some(x) = v.pointer_get(path) else { return };
        let Some(o) = x.as_object() else {
            return self.err(path, "must be a map of quantities");
        };
        for (k, q) in o {
            let p = format!("{path}.{k}");
            let Some(s) = q.as_str() else {
                self.err(&p, "must be a quantity string");
                continue;
            };
            if parse_quantity(s, 1000).is_err() {
                self.err(&p, format!("{s:?} is not a Kubernetes quantity"));
            }
            let extended = k.contains('/') && !k.starts_with("kubernetes.io/");
            if extended && (s.ends_with('m') || s.contains('.')) {
                self.err(&p, "extended resources must be whole numbers");
            }
        }
    }
    fn metadata(&mut self, v: &Value, namespaced: bool) {
        match self.string(v, "metadata.name", true) {
            Some(n) if !is_dns1123_label(&n) => {
                self.err("metadata.name", format!("{n:?} is not a DNS-1123 label"))
            }
            _ => {}
        }
        let ns = self.string(v, "metadata.namespace", false);
        match (namespaced, ns) {
            (true, None) => self.err("metadata.namespace", "is required for a namespaced object"),
            (true, Some(n)) if !is_dns1123_label(&n) => {
                self.err("metadata.namespace", "is not a DNS-1123 label")
            }
            (false, Some(_)) => self.err("metadata.namespace", "Queue is cluster-scoped"),
            _ => {}
        }
        self.labels(v, "metadata.labels");
    }
    fn labels(&mut self, v: &Value, path: &str) {
        let Some(o) = v.pointer_get(path).and_then(Value::as_object) else {
            return;
        };
        for (k, val) in o {
            let name = k.rsplit('/').next().unwrap_or(k);
            let prefix_ok = k
                .split_once('/')
                .is_none_or(|(p, _)| is_dns1123_subdomain(p));
            let s = val.as_str().unwrap_or("\u{0}");
            let ok_val = s.len() <= 63
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
                && (s.is_empty()
                    || (s.as_bytes()[0].is_ascii_alphanumeric()
                        && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric()));
            if !prefix_ok || name.is_empty() || name.len() > 63 || !ok_val {
                self.err(&format!("{path}.{k}"), "invalid label key or value");
            }
        }
    }
    fn pod_template(&mut self, v: &Value, path: &str, volcano: bool) {
        self.labels(v, &format!("{path}.metadata.labels"));
        let spec = format!("{path}.spec");
        let Some(cs) = v
            .pointer_get(&format!("{spec}.containers"))
            .and_then(Value::as_array)
        else {
            return self.err(
                &format!("{spec}.containers"),
                "is required and must be a list",
            );
        };
        if cs.is_empty() {
            self.err(&format!("{spec}.containers"), "must not be empty");
        }
        for i in 0..cs.len() {
            let c = format!("{spec}.containers.{i}");
            self.string(v, &format!("{c}.name"), true);
            self.string(v, &format!("{c}.image"), true);
            self.resources(v, &format!("{c}.resources.requests"));
            self.resources(v, &format!("{c}.resources.limits"));
        }
        match self
            .string(v, &format!("{spec}.restartPolicy"), false)
            .as_deref()
        {
            None | Some("Never") | Some("OnFailure") => {}
            Some(p) if volcano && p == "Always" => {}
            Some(p) => self.err(
                &format!("{spec}.restartPolicy"),
                format!("{p:?} is not allowed for a Job"),
            ),
        }
    }
}

/// Looks up a dotted path (`spec.tasks.0.name`).
trait PointerGet {
    fn pointer_get(&self, dotted: &str) -> Option<&Value>;
}

impl PointerGet for Value {
    fn pointer_get(&self, dotted: &str) -> Option<&Value> {
        let ptr = format!("/{}", dotted.replace('.', "/"));
        // label keys may contain '/' and '.', so fall back to a walk on the object keys
        self.pointer(&ptr).or_else(|| {
            let (head, tail) = dotted.split_once(".metadata.labels.")?;
            let labels = self.pointer_get(&format!("{head}.metadata.labels"))?;
            labels.get(tail)
        })
    }
}

/// Every rule violation of `m` (empty = valid).
pub fn check(m: &Manifest) -> Vec<String> {
    let v = match serde_json::to_value(m) {
        Ok(v) => v,
        Err(e) => return vec![format!("does not serialise: {e}")],
    };
    check_value(&v)
}

/// The same rules on a JSON object (`apiVersion`/`kind` decide which apply).
pub fn check_value(v: &Value) -> Vec<String> {
    let mut ck = Ck { errs: Vec::new() };
    let api = ck.string(v, "apiVersion", true).unwrap_or_default();
    let kind = ck.string(v, "kind", true).unwrap_or_default();
    let spec = v.get("spec").cloned().unwrap_or(Value::Null);
    match (api.as_str(), kind.as_str()) {
        ("batch.volcano.sh/v1alpha1", "Job") => {
            ck.metadata(v, true);
            ck.known(&spec, "spec", VCJOB_SPEC);
            let min = ck
                .int32(v, "spec.minAvailable", 0, i32::MAX as i64, false)
                .unwrap_or(0);
            ck.int32(v, "spec.maxRetry", 0, i32::MAX as i64, false);
            ck.string(v, "spec.queue", false);
            ck.string(v, "spec.schedulerName", false);
            let tasks = spec
                .get("tasks")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if tasks.is_empty() {
                ck.err("spec.tasks", "is required and must not be empty");
            }
            let mut total = 0;
            let mut names = Vec::new();
            for (i, t) in tasks.iter().enumerate() {
                let p = format!("spec.tasks.{i}");
                ck.known(t, &p, VCTASK);
                let r = ck
                    .int32(v, &format!("{p}.replicas"), 0, i32::MAX as i64, false)
                    .unwrap_or(0);
                total += r;
                if let Some(m) =
                    ck.int32(v, &format!("{p}.minAvailable"), 0, i32::MAX as i64, false)
                {
                    if m > r {
                        ck.err(
                            &format!("{p}.minAvailable"),
                            "must not exceed the task's replicas",
                        );
                    }
                }
                match ck.string(v, &format!("{p}.name"), true) {
                    Some(n) if !is_dns1123_label(&n) => {
                        ck.err(&format!("{p}.name"), "is not a DNS-1123 label")
                    }
                    Some(n) if names.contains(&n) => {
                        ck.err(&format!("{p}.name"), "duplicate task name")
                    }
                    Some(n) => names.push(n),
                    None => {}
                }
                ck.pod_template(v, &format!("{p}.template"), true);
            }
            if min > total {
                ck.err(
                    "spec.minAvailable",
                    "must not be greater than total replicas in tasks",
                );
            }
        }
        ("scheduling.volcano.sh/v1beta1", "PodGroup") => {
            ck.metadata(v, true);
            ck.known(&spec, "spec", PG_SPEC);
            ck.int32(v, "spec.minMember", 0, i32::MAX as i64, false);
            ck.string(v, "spec.queue", false);
            ck.resources(v, "spec.minResources");
        }
        ("scheduling.volcano.sh/v1beta1", "Queue") => {
            ck.metadata(v, false);
            ck.known(&spec, "spec", QUEUE_SPEC);
            ck.int32(v, "spec.weight", 1, 65535, false);
            ck.resources(v, "spec.capability");
            ck.resources(v, "spec.deserved");
            ck.resources(v, "spec.guarantee.resource");
        }
        ("batch/v1", "Job") => {
            ck.metadata(v, true);
            ck.known(&spec, "spec", BATCH_SPEC);
            ck.int32(v, "spec.parallelism", 0, i32::MAX as i64, false);
            ck.int32(v, "spec.completions", 0, i32::MAX as i64, false);
            ck.int32(v, "spec.backoffLimit", 0, i32::MAX as i64, false);
            ck.pod_template(v, "spec.template", false);
        }
        (a, k) => ck.err(
            "kind",
            format!("{a} {k} is not an object live mode submits"),
        ),
    }
    ck.errs
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
