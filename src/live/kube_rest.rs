//! The `kube` backend over the Kubernetes REST API with `ureq` (already a dependency): POST
//! typed manifests (409 → adopt), optional server-side dry run (`dryRun=All`), and watch
//! threads for PodGroups, pods and eviction events that resume from the last
//! `resourceVersion` (relist on 410 Gone). Authentication: a bearer token, or none behind
//! `kubectl proxy` (which then holds the kubeconfig credentials).
//! Deviation from `design/stack.md` (kube 5 + tokio): REST over ureq keeps one synchronous
//! feature set and saves the ~90 CPU-s cold build of kube/k8s-openapi/tokio; the wire objects
//! are the same typed serde structs (`manifest`).
//!
//! Depends on `model`, `workload` (via `manifest`). Request building and status parsing are pure
//! functions (unit-tested); the token is sent only in the Authorization header, never logged.

use std::collections::BTreeMap;
use std::sync::mpsc::{channel, Receiver};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::backend::{Backend, SendOutcome};
use super::kube_state::{build_model, parse_nodes_queues, parse_pods, OwnJob};
use super::kube_watch::{parse_event, parse_pod, parse_podgroup, watch_loop, Observation, ParseFn};
use super::manifest::{build, queue, Manifest, Meta, ObjectMode, MANAGED_BY};
use super::model::{EvictionSeen, JobView, Model};
use super::LiveError;
use crate::model::QueueSpec;
use crate::workload::TraceJob;

/// Where and how to reach the API server. `Debug` redacts the token.
#[derive(Clone)]
pub struct KubeConfig {
    pub api_server: String,
    pub token: Option<String>,
    pub namespace: String,
    pub mode: ObjectMode,
    pub server_dry_run: bool,
}

impl std::fmt::Debug for KubeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeConfig")
            .field("api_server", &self.api_server)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("namespace", &self.namespace)
            .field("mode", &self.mode)
            .field("server_dry_run", &self.server_dry_run)
            .finish()
    }
}

/// A create request: POST `url` with `body`.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateRequest {
    pub url: String,
    pub body: String,
}

/// The collection path of a manifest's kind.
pub fn collection_path(m: &Manifest, ns: &str) -> String {
    let (api, kind) = m.type_meta();
    let plural = match kind {
        "Job" => "jobs",
        "PodGroup" => "podgroups",
        _ => "queues",
    };
    let prefix = if api.contains('/') {
        format!("/apis/{api}")
    } else {
        format!("/api/{api}")
    };
    if kind == "Queue" {
        format!("{prefix}/{plural}")
    } else {
        format!("{prefix}/namespaces/{ns}/{plural}")
    }
}

/// Builds the POST for one manifest.
pub fn create_request(cfg: &KubeConfig, m: &Manifest) -> Result<CreateRequest, LiveError> {
    let mut url = format!(
        "{}{}?fieldManager=volsim",
        cfg.api_server.trim_end_matches('/'),
        collection_path(m, &cfg.namespace)
    );
    if cfg.server_dry_run {
        url.push_str("&dryRun=All");
    }
    let body = serde_json::to_string(m).map_err(|e| LiveError::Backend(e.to_string()))?;
    Ok(CreateRequest { url, body })
}

/// The `message` of a Kubernetes `Status` body, else the body's first 300 characters.
pub fn status_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| body.chars().take(300).collect())
}

/// How a create response is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreateResult {
    Created,
    /// 409 AlreadyExists: the object is adopted.
    Exists,
    Retryable,
    Permanent,
}

pub fn classify(status: u16) -> CreateResult {
    match status {
        200..=299 => CreateResult::Created,
        409 => CreateResult::Exists,
        429 | 500..=599 => CreateResult::Retryable,
        _ => CreateResult::Permanent,
    }
}

/// Per-job state built from observations, stamped with model time on arrival.
#[derive(Debug, Clone, Default)]
struct Seen {
    phase: String,
    submit_ms: u64,
    min_member: u32,
    inqueue_ms: Option<u64>,
    gang_ready_ms: Option<u64>,
    finish_ms: Option<u64>,
    running: BTreeMap<String, String>,
    evictions: u32,
    job: Option<TraceJob>,
}

pub struct KubeBackend {
    cfg: KubeConfig,
    agent: ureq::Agent,
    rx: Option<Receiver<Observation>>,
    jobs: BTreeMap<String, Seen>,
    pod_job: BTreeMap<String, String>,
    evicted: Vec<EvictionSeen>,
}

impl KubeBackend {
    pub fn new(cfg: KubeConfig) -> KubeBackend {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        KubeBackend {
            cfg,
            agent,
            rx: None,
            jobs: BTreeMap::new(),
            pod_job: BTreeMap::new(),
            evicted: Vec::new(),
        }
    }

    /// `(result, HTTP status or 0, the API server's Status message or the transport error)`.
    fn post(&self, req: &CreateRequest) -> (CreateResult, u16, String) {
        let mut r = self
            .agent
            .post(&req.url)
            .header("Content-Type", "application/json");
        if let Some(t) = &self.cfg.token {
            r = r.header("Authorization", &format!("Bearer {t}"));
        }
        match r.send(req.body.as_str()) {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let body = resp
                    .body_mut()
                    .with_config()
                    .limit(64 << 10)
                    .read_to_string()
                    .unwrap_or_default();
                (classify(status), status, status_message(&body))
            }
            Err(e) => (CreateResult::Retryable, 0, e.to_string()),
        }
    }

    fn create(&self, m: &Manifest) -> Result<SendOutcome, LiveError> {
        let req = create_request(&self.cfg, m)?;
        let (result, status, msg) = self.post(&req);
        let what = format!("{} {}", m.type_meta().1, m.metadata().name);
        match result {
            CreateResult::Created => Ok(SendOutcome::Created),
            CreateResult::Exists => Ok(SendOutcome::Adopted),
            CreateResult::Retryable => {
                Err(LiveError::Backend(format!("{what}: HTTP {status}: {msg}")))
            }
            CreateResult::Permanent => Err(LiveError::Config(format!(
                "{what}: rejected by the API server: HTTP {status}: {msg}"
            ))),
        }
    }

    fn get_json(&self, path: &str) -> Option<Value> {
        let url = format!("{}{path}", self.cfg.api_server.trim_end_matches('/'));
        let mut r = self.agent.get(&url);
        if let Some(t) = &self.cfg.token {
            r = r.header("Authorization", &format!("Bearer {t}"));
        }
        let mut resp = r.call().ok()?;
        if resp.status().as_u16() != 200 {
            return None;
        }
        resp.body_mut()
            .with_config()
            .limit(256 << 20)
            .read_json()
            .ok()
    }

    /// Creates the scenario's queues (`--apply-queues`); existing ones are left as they are.
    pub fn apply_queues(&self, queues: &[QueueSpec]) -> Result<(), LiveError> {
        for q in queues {
            self.create(&queue(q))?;
        }
        Ok(())
    }

    fn start_watches(&mut self) {
        let (tx, rx) = channel();
        self.rx = Some(rx);
        let base = self.cfg.api_server.trim_end_matches('/').to_string();
        let ns = &self.cfg.namespace;
        let sel = format!("labelSelector={MANAGED_BY}%3Dvolsim");
        let paths: [(String, ParseFn); 3] = [
            (
                format!("/apis/scheduling.volcano.sh/v1beta1/namespaces/{ns}/podgroups"),
                parse_podgroup,
            ),
            (format!("/api/v1/namespaces/{ns}/pods?{sel}"), parse_pod),
            (format!("/api/v1/namespaces/{ns}/events"), parse_event),
        ];
        let token = Arc::new(self.cfg.token.clone());
        for (path, parse) in paths {
            let (tx, agent, token, url) = (
                tx.clone(),
                self.agent.clone(),
                token.clone(),
                format!("{base}{path}"),
            );
            std::thread::spawn(move || watch_loop(&agent, &url, token.as_deref(), parse, &tx));
        }
    }
}

impl Backend for KubeBackend {
    fn kind(&self) -> &'static str {
        "kube"
    }
    fn submit(
        &mut self,
        job: &TraceJob,
        meta: &Meta,
        model: &mut Model,
    ) -> Result<SendOutcome, LiveError> {
        if self.rx.is_none() && !self.cfg.server_dry_run {
            self.start_watches();
        }
        model.submit(job);
        let mut outcome = SendOutcome::Created;
        for m in build(job, self.cfg.mode, meta) {
            if self.create(&m)? == SendOutcome::Adopted {
                outcome = SendOutcome::Adopted;
            }
        }
        self.jobs.entry(job.id.clone()).or_insert_with(|| Seen {
            phase: "Pending".into(),
            submit_ms: job.submit_ms,
            min_member: job.min_member,
            job: Some(job.clone()),
            ..Default::default()
        });
        Ok(outcome)
    }
    fn delete(&mut self, name: &str, model: &mut Model) -> Result<bool, LiveError> {
        model.delete(name);
        let ns = &self.cfg.namespace;
        let path = match self.cfg.mode {
            ObjectMode::VcJob => {
                format!("/apis/batch.volcano.sh/v1alpha1/namespaces/{ns}/jobs/{name}")
            }
            _ => format!("/apis/batch/v1/namespaces/{ns}/jobs/{name}"),
        };
        let url = format!(
            "{}{path}?propagationPolicy=Background",
            self.cfg.api_server.trim_end_matches('/')
        );
        let mut r = self.agent.delete(&url);
        if let Some(t) = &self.cfg.token {
            r = r.header("Authorization", &format!("Bearer {t}"));
        }
        let st = r
            .call()
            .map_err(|e| LiveError::Backend(e.to_string()))?
            .status()
            .as_u16();
        if let Some(j) = self.jobs.get_mut(name) {
            j.phase = "Deleted".into();
        }
        Ok(st != 404)
    }
    fn poll(&mut self, now_ms: u64) {
        let Some(rx) = &self.rx else { return };
        let obs: Vec<Observation> = rx.try_iter().collect();
        for o in obs {
            self.observe_one(o, now_ms);
        }
    }
    fn forecast_base(&mut self, shadow: &Model, now_ms: u64) -> Option<Model> {
        if self.cfg.server_dry_run {
            return None;
        }
        let ns = &self.cfg.namespace;
        let nodes = self.get_json("/api/v1/nodes")?;
        let queues = self.get_json("/apis/scheduling.volcano.sh/v1beta1/queues")?;
        let pods = self.get_json("/api/v1/pods")?;
        let (nodes, queues) = parse_nodes_queues(&nodes, &queues).ok()?;
        let pods = parse_pods(&pods);
        let mut own: Vec<OwnJob> = self
            .jobs
            .values()
            .filter_map(|s| {
                Some(OwnJob {
                    job: s.job.clone()?,
                    running_since: s.gang_ready_ms,
                    done: s.finish_ms.is_some() || s.phase == "Deleted",
                })
            })
            .collect();
        own.sort_by(|a, b| (a.job.submit_ms, &a.job.id).cmp(&(b.job.submit_ms, &b.job.id)));
        Some(build_model(shadow, nodes, &queues, &pods, &own, ns, now_ms))
    }
    fn evictions(&self, _model: &Model) -> Vec<EvictionSeen> {
        self.evicted.clone()
    }
    fn observe(&self, name: &str, _model: &Model) -> Option<JobView> {
        let j = self.jobs.get(name)?;
        let phase = match j.phase.as_str() {
            "Inqueue" => "Inqueue",
            "Running" => "Running",
            "Completed" => "Completed",
            "Deleted" => "Deleted",
            "Unknown" => "Unknown",
            _ => "Pending",
        };
        Some(JobView {
            name: name.to_string(),
            phase,
            submit_ms: j.submit_ms,
            inqueue_ms: j.inqueue_ms,
            gang_ready_ms: j.gang_ready_ms,
            finish_ms: j.finish_ms,
            evictions: j.evictions,
        })
    }
}

impl KubeBackend {
    /// Folds one observation into the per-job state at model time `now`.
    fn observe_one(&mut self, o: Observation, now: u64) {
        match o {
            Observation::Phase { job, phase } => {
                let Some(j) = self.jobs.get_mut(&job) else {
                    return;
                };
                if matches!(phase.as_str(), "Inqueue" | "Running" | "Completed") {
                    j.inqueue_ms.get_or_insert(now);
                }
                if phase == "Completed" {
                    j.finish_ms.get_or_insert(now);
                }
                if j.phase != "Deleted" {
                    j.phase = phase;
                }
            }
            Observation::Pod { job, pod, phase } => {
                self.pod_job.insert(pod.clone(), job.clone());
                let Some(j) = self.jobs.get_mut(&job) else {
                    return;
                };
                j.running.insert(pod, phase);
                let up = j
                    .running
                    .values()
                    .filter(|p| matches!(p.as_str(), "Running" | "Succeeded"))
                    .count();
                if up as u32 >= j.min_member {
                    j.gang_ready_ms.get_or_insert(now);
                    j.inqueue_ms.get_or_insert(now);
                }
                if !j.running.is_empty()
                    && j.running.values().all(|p| p == "Succeeded")
                    && j.running.len() as u32 >= j.min_member
                {
                    j.finish_ms.get_or_insert(now);
                }
            }
            Observation::Evicted { pod, reason } => {
                let job = self.pod_job.get(&pod).cloned();
                if let Some(j) = job.as_ref().and_then(|job| self.jobs.get_mut(job)) {
                    j.evictions += 1;
                }
                self.evicted.push(EvictionSeen {
                    time_ms: now,
                    pod,
                    job: job.unwrap_or_default(),
                    action: reason,
                });
            }
        }
    }
}

#[cfg(test)]
#[path = "kube_rest_tests.rs"]
mod tests;
