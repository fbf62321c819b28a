//! The `kube` backend over the Kubernetes REST API with `ureq` (already a dependency): before
//! the first job, the namespace, the scenario's PriorityClasses and (`--apply-queues`) its
//! Queues are created (409 → adopt); then POST typed manifests per job (409 → adopt), optional
//! server-side dry run (`dryRun=All`), and watch threads for PodGroups, Volcano Jobs, pods and
//! events that resume from the last `resourceVersion` (relist on 410 Gone); observations are
//! stamped with the model time they arrived (`kube_seen`). Authentication: a kubeconfig
//! (`kube_config`: token, CA, client certificate), a bearer token, or none behind
//! `kubectl proxy`.
//! Deviation from `design/stack.md` (kube 5 + tokio): REST over ureq keeps one synchronous
//! feature set and saves the ~90 CPU-s cold build of kube/k8s-openapi/tokio; the wire objects
//! are the same typed serde structs (`manifest`).
//!
//! Depends on `model`, `workload` (via `manifest`). Request building and status parsing are pure
//! functions (unit-tested); the token is sent only in the Authorization header, never logged.

use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use super::backend::{Backend, Retry, SendOutcome};
use super::kube_config::{agent_with_timeout, ApiAccess};
use super::kube_seen::Tracker;
use super::kube_state::{build_model, parse_nodes_queues, parse_pods, OwnJob};
use super::kube_watch::{
    parse_event, parse_pod, parse_podgroup, parse_vcjob, watch_loop, ParseFn, Stamped,
};
use super::manifest::{
    build_at_speed, namespace, priority_class, queue, Manifest, Meta, ObjectMode, MANAGED_BY,
};
use super::model::{EvictionSeen, JobView, Model};
use super::LiveError;
use crate::model::{PriorityClassSpec, QueueSpec};
use crate::workload::TraceJob;

/// Where and how to reach the API server, and how jobs are represented. `Debug` redacts the
/// secrets (through `ApiAccess`).
#[derive(Clone, Debug)]
pub struct KubeConfig {
    pub access: ApiAccess,
    pub namespace: String,
    pub mode: ObjectMode,
    pub server_dry_run: bool,
    /// `--speed`: model time runs this many times faster than the wall clock. Pod run times
    /// are divided by it; observation delays are multiplied by it.
    pub speed: f64,
}

impl KubeConfig {
    fn base(&self) -> &str {
        self.access.server.trim_end_matches('/')
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
    create_request_at(cfg, &collection_path(m, &cfg.namespace), m)
}

/// Builds the POST of any object to the collection `path`.
pub fn create_request_at(
    cfg: &KubeConfig,
    path: &str,
    obj: &impl Serialize,
) -> Result<CreateRequest, LiveError> {
    let mut url = format!("{}{path}?fieldManager=volsim", cfg.base());
    if cfg.server_dry_run {
        url.push_str("&dryRun=All");
    }
    let body = serde_json::to_string(obj).map_err(|e| LiveError::Backend(e.to_string()))?;
    Ok(CreateRequest { url, body })
}

/// Path of the core namespaces collection.
pub const NAMESPACES: &str = "/api/v1/namespaces";
/// Path of the PriorityClass collection.
pub const PRIORITY_CLASSES: &str = "/apis/scheduling.k8s.io/v1/priorityclasses";

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

pub struct KubeBackend {
    cfg: KubeConfig,
    agent: ureq::Agent,
    watch_agent: ureq::Agent,
    rx: Option<Receiver<Stamped>>,
    seen: Tracker,
    refusals: Arc<Mutex<Vec<String>>>,
}

impl KubeBackend {
    /// A backend for `cfg`; fails when the kubeconfig's CA or client certificate does not parse.
    pub fn new(cfg: KubeConfig) -> Result<KubeBackend, LiveError> {
        let agent = agent_with_timeout(&cfg.access, Some(Duration::from_secs(30)))?;
        // watches ask the server for 60 s streams; the client gives up a little later
        let watch_agent = agent_with_timeout(&cfg.access, Some(Duration::from_secs(90)))?;
        Ok(KubeBackend {
            cfg,
            agent,
            watch_agent,
            rx: None,
            seen: Tracker::default(),
            refusals: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// The list of jobs the cluster refused (`job NAME: reason`), shared with the caller so
    /// `live run` can report them after the service took the backend.
    pub fn refusals(&self) -> Arc<Mutex<Vec<String>>> {
        Arc::clone(&self.refusals)
    }

    /// `r` with the bearer token, if any (never logged).
    fn auth<B>(&self, r: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.cfg.access.token {
            Some(t) => r.header("Authorization", &format!("Bearer {t}")),
            None => r,
        }
    }

    /// `(result, HTTP status or 0, the API server's Status message or the transport error)`.
    fn post(&self, req: &CreateRequest) -> (CreateResult, u16, String) {
        let r = self
            .auth(self.agent.post(&req.url))
            .header("Content-Type", "application/json");
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

    /// POSTs `req` for the object described by `what`: created, adopted (409), a retryable
    /// `Backend` error, or a permanent `Config` error quoting the API server.
    fn create_req(&self, req: &CreateRequest, what: &str) -> Result<SendOutcome, LiveError> {
        let (result, status, msg) = self.post(req);
        match result {
            CreateResult::Created => Ok(SendOutcome::Created),
            CreateResult::Exists => Ok(SendOutcome::Adopted),
            CreateResult::Retryable => Err(LiveError::Backend(format!(
                "{what} at {}: HTTP {status}: {msg}",
                self.cfg.base()
            ))),
            CreateResult::Permanent => {
                let hint = if status == 404 && msg.contains("namespaces") {
                    " (the namespace does not exist; a --server-dry-run creates nothing)"
                } else {
                    ""
                };
                Err(LiveError::Config(format!(
                    "{what}: rejected by the API server: HTTP {status}: {msg}{hint}"
                )))
            }
        }
    }

    fn create(&self, m: &Manifest) -> Result<SendOutcome, LiveError> {
        let req = create_request(&self.cfg, m)?;
        self.create_req(&req, &format!("{} {}", m.type_meta().1, m.metadata().name))
    }

    /// `(status, JSON body)` of a GET; `None` on a transport failure.
    fn get(&self, path: &str) -> Option<(u16, Value)> {
        let url = format!("{}{path}", self.cfg.base());
        let mut resp = self.auth(self.agent.get(&url)).call().ok()?;
        let status = resp.status().as_u16();
        let v = resp
            .body_mut()
            .with_config()
            .limit(256 << 20)
            .read_json()
            .unwrap_or(Value::Null);
        Some((status, v))
    }

    fn get_json(&self, path: &str) -> Option<Value> {
        self.get(path).filter(|(st, _)| *st == 200).map(|(_, v)| v)
    }

    /// Creates (or adopts) everything the jobs need before the first one is sent: the
    /// namespace, the scenario's PriorityClasses, and with `apply_queues` its Queues. Starts
    /// the watches. Returns notes for the user (an adopted PriorityClass whose value differs
    /// from the scenario's). Errors name the object and quote the API server.
    pub fn prepare(
        &mut self,
        pcs: &[PriorityClassSpec],
        queues: Option<&[QueueSpec]>,
    ) -> Result<Vec<String>, LiveError> {
        let retry = Retry::default();
        let run = |what: &str, req: CreateRequest| {
            retry.run(what, || {
                self.create_req(&req, what)
                    .map_err(|e| (matches!(e, LiveError::Backend(_)), e))
            })
        };
        let mut notes = Vec::new();
        let ns = &self.cfg.namespace;
        let what = format!("Namespace {ns}");
        let req = create_request_at(&self.cfg, NAMESPACES, &namespace(ns))?;
        if let Err(e) = run(&what, req) {
            // allowed to use the namespace but not to create namespaces: fine if it exists
            match self.get(&format!("{NAMESPACES}/{ns}")) {
                Some((200, _)) => notes.push(format!("namespace {ns} exists (not created: {e})")),
                _ => return Err(e),
            }
        }
        for pc in pcs {
            let what = format!("PriorityClass {}", pc.name);
            let req = create_request_at(&self.cfg, PRIORITY_CLASSES, &priority_class(pc))?;
            if run(&what, req)? == SendOutcome::Adopted {
                let path = format!("{PRIORITY_CLASSES}/{}", pc.name);
                if let Some(v) = self.get_json(&path) {
                    let have = v.get("value").and_then(Value::as_i64);
                    if have != Some(i64::from(pc.value)) {
                        notes.push(format!(
                            "PriorityClass {} exists with value {} but the scenario says {}; \
                             Volcano uses the cluster's",
                            pc.name,
                            have.map(|h| h.to_string()).unwrap_or_else(|| "?".into()),
                            pc.value
                        ));
                    }
                }
            }
        }
        if let Some(qs) = queues {
            for q in qs {
                let m = queue(q);
                run(&format!("Queue {}", q.name), create_request(&self.cfg, &m)?)?;
            }
        }
        if self.rx.is_none() && !self.cfg.server_dry_run {
            self.start_watches();
        }
        Ok(notes)
    }

    fn start_watches(&mut self) {
        let (tx, rx) = channel();
        self.rx = Some(rx);
        let base = self.cfg.base().to_string();
        let ns = &self.cfg.namespace;
        let sel = format!("labelSelector={MANAGED_BY}%3Dvolsim");
        let mut paths: Vec<(String, ParseFn)> = vec![
            (
                format!("/apis/scheduling.volcano.sh/v1beta1/namespaces/{ns}/podgroups"),
                parse_podgroup,
            ),
            (format!("/api/v1/namespaces/{ns}/pods?{sel}"), parse_pod),
            (format!("/api/v1/namespaces/{ns}/events"), parse_event),
        ];
        if self.cfg.mode == ObjectMode::VcJob {
            paths.push((
                format!("/apis/batch.volcano.sh/v1alpha1/namespaces/{ns}/jobs?{sel}"),
                parse_vcjob,
            ));
        }
        let token = Arc::new(self.cfg.access.token.clone());
        for (path, parse) in paths {
            let (tx, agent, token, url) = (
                tx.clone(),
                self.watch_agent.clone(),
                token.clone(),
                format!("{base}{path}"),
            );
            std::thread::spawn(move || watch_loop(&agent, &url, token.as_deref(), parse, &tx));
        }
    }

    /// The collection paths of a job's objects, in deletion order.
    fn object_paths(&self, name: &str) -> Vec<String> {
        let ns = &self.cfg.namespace;
        match self.cfg.mode {
            ObjectMode::VcJob => {
                vec![format!(
                    "/apis/batch.volcano.sh/v1alpha1/namespaces/{ns}/jobs/{name}"
                )]
            }
            ObjectMode::PodGroup => vec![
                format!("/apis/batch/v1/namespaces/{ns}/jobs/{name}"),
                format!("/apis/scheduling.volcano.sh/v1beta1/namespaces/{ns}/podgroups/{name}"),
            ],
            ObjectMode::Native => vec![format!("/apis/batch/v1/namespaces/{ns}/jobs/{name}")],
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
        for m in build_at_speed(job, self.cfg.mode, meta, self.cfg.speed) {
            if self.create(&m)? == SendOutcome::Adopted {
                outcome = SendOutcome::Adopted;
            }
        }
        self.seen.submitted(job, model.now());
        self.publish_refusals();
        Ok(outcome)
    }
    fn delete(&mut self, name: &str, model: &mut Model) -> Result<bool, LiveError> {
        model.delete(name);
        let mut found = false;
        for path in self.object_paths(name) {
            let url = format!("{}{path}?propagationPolicy=Background", self.cfg.base());
            let mut resp = self
                .auth(self.agent.delete(&url))
                .call()
                .map_err(|e| LiveError::Backend(format!("DELETE {path}: {e}")))?;
            let st = resp.status().as_u16();
            match st {
                200..=299 => found = true,
                404 => {}
                _ => {
                    let body = resp.body_mut().read_to_string().unwrap_or_default();
                    return Err(LiveError::Backend(format!(
                        "DELETE {path}: HTTP {st}: {}",
                        status_message(&body)
                    )));
                }
            }
        }
        self.seen.deleted(name);
        Ok(found)
    }
    fn poll(&mut self, now_ms: u64) {
        let Some(rx) = &self.rx else { return };
        let obs: Vec<Stamped> = rx.try_iter().collect();
        let arrived = Instant::now();
        for (at, o) in obs {
            // the model time the observation arrived at, not the time it is folded in
            let late = arrived.saturating_duration_since(at).as_secs_f64() * 1000.0;
            let t = now_ms.saturating_sub((late * self.cfg.speed) as u64);
            self.seen.fold(o, t);
        }
        self.publish_refusals();
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
            .seen
            .jobs
            .values()
            .filter_map(|s| {
                Some(OwnJob {
                    job: s.job.clone()?,
                    running_since: s.gang_ready_ms,
                    done: s.finish_ms.is_some() || s.deleted || s.rejected.is_some(),
                })
            })
            .collect();
        own.sort_by(|a, b| (a.job.submit_ms, &a.job.id).cmp(&(b.job.submit_ms, &b.job.id)));
        Some(build_model(shadow, nodes, &queues, &pods, &own, ns, now_ms))
    }
    fn evictions(&self, _model: &Model) -> Vec<EvictionSeen> {
        self.seen.evicted.clone()
    }
    fn observe(&self, name: &str, _model: &Model) -> Option<JobView> {
        self.seen.view(name)
    }
}

impl KubeBackend {
    /// Copies refusals seen since the last call into the shared list.
    fn publish_refusals(&mut self) {
        if self.seen.refusals.is_empty() {
            return;
        }
        if let Ok(mut r) = self.refusals.lock() {
            r.append(&mut self.seen.refusals);
        }
    }

    /// Folds one observation at model time `t` (tests drive the backend without watches).
    pub fn fold(&mut self, o: super::kube_watch::Observation, t: u64) {
        self.seen.fold(o, t);
        self.publish_refusals();
    }
}

#[cfg(test)]
#[path = "kube_rest_tests.rs"]
mod tests;
