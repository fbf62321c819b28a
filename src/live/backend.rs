//! Backends: where a mapped job goes. `twin` submits into the modelled cluster (which the
//! service advances in wall-clock time); `dry-run` writes each job's manifests to
//! `<out>/manifests/<name>.yaml` (multi-document YAML for `kubectl apply -f`) plus a decision log and touches nothing; `kube` (in
//! `kube_rest`) creates the objects through the Kubernetes API. All of them are idempotent by
//! name: creating an existing object adopts it.
//!
//! Depends on `model`, `workload`, `cluster` (through `live::model`). Invariant: `submit` of a
//! name that exists changes nothing and returns `Adopted`.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::manifest::{build_at_speed, to_yaml, Meta, ObjectMode};
use super::model::{EvictionSeen, JobView, Model};
use super::names::fnv1a;
use super::LiveError;
use crate::workload::TraceJob;

/// What `submit` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    Created,
    Adopted,
}

impl SendOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            SendOutcome::Created => "created",
            SendOutcome::Adopted => "adopted",
        }
    }
}

/// A backend. The service owns the shadow `Model` and passes it in; the twin's model *is*
/// the cluster, the other backends keep it only for forecasts.
pub trait Backend: Send {
    fn kind(&self) -> &'static str;
    /// Whether a replayed submission keeps its trace time (a modelled cluster: twin, dry-run),
    /// or is stamped with the time it is sent (a real cluster sees it then; default).
    fn keeps_trace_time(&self) -> bool {
        false
    }
    /// Creates the job's objects (or adopts existing ones with the same name).
    fn submit(
        &mut self,
        job: &TraceJob,
        meta: &Meta,
        model: &mut Model,
    ) -> Result<SendOutcome, LiveError>;
    /// Deletes the job's objects; false when there were none.
    fn delete(&mut self, name: &str, model: &mut Model) -> Result<bool, LiveError>;
    /// Refreshes what is observed (watch events); called on every service tick.
    fn poll(&mut self, _now_ms: u64) {}
    /// The job as observed by this backend.
    fn observe(&self, name: &str, model: &Model) -> Option<JobView>;
    /// A forecast base built from the backend's real state at model time `now`; `None` means
    /// the shadow model is the state (twin) or the state cannot be read (then it is used too).
    fn forecast_base(&mut self, _shadow: &Model, _now_ms: u64) -> Option<Model> {
        None
    }
    /// Evictions observed so far (the twin's come from the model).
    fn evictions(&self, model: &Model) -> Vec<EvictionSeen> {
        model.evictions().to_vec()
    }
}

/// Retry with exponential backoff and jitter (deterministic per name: a hash of
/// `(name, attempt)` spreads concurrent retries without an RNG).
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    pub attempts: u32,
    pub base_ms: u64,
    pub max_ms: u64,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 5,
            base_ms: 100,
            max_ms: 5_000,
        }
    }
}

impl Retry {
    /// The delay before retry `attempt` (1-based): `min(max, base·2^(attempt-1))` scaled by a
    /// jitter factor in [0.5, 1.0).
    pub fn delay_ms(&self, name: &str, attempt: u32) -> u64 {
        let exp = self
            .base_ms
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(20))
            .min(self.max_ms);
        let j = fnv1a(format!("{name}#{attempt}").as_bytes()) % 1000;
        exp / 2 + exp * j / 2000
    }

    /// Runs `f` until it succeeds, fails permanently (`Err(false, e)`) or attempts run out.
    pub fn run<T>(
        &self,
        name: &str,
        mut f: impl FnMut() -> Result<T, (bool, LiveError)>,
    ) -> Result<T, LiveError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match f() {
                Ok(v) => return Ok(v),
                Err((retryable, e)) => {
                    if !retryable || attempt >= self.attempts {
                        return Err(e);
                    }
                    std::thread::sleep(Duration::from_millis(self.delay_ms(name, attempt)));
                }
            }
        }
    }
}

/// The modelled cluster as the backend.
pub struct TwinBackend;

impl Backend for TwinBackend {
    fn kind(&self) -> &'static str {
        "twin"
    }
    fn keeps_trace_time(&self) -> bool {
        true
    }
    fn submit(
        &mut self,
        job: &TraceJob,
        _meta: &Meta,
        model: &mut Model,
    ) -> Result<SendOutcome, LiveError> {
        Ok(if model.submit(job) {
            SendOutcome::Created
        } else {
            SendOutcome::Adopted
        })
    }
    fn delete(&mut self, name: &str, model: &mut Model) -> Result<bool, LiveError> {
        Ok(model.delete(name))
    }
    fn observe(&self, name: &str, model: &Model) -> Option<JobView> {
        model.view(name)
    }
}

/// Writes manifests and a decision log; the model is a shadow for forecasts only.
pub struct DryRunBackend {
    dir: PathBuf,
    mode: ObjectMode,
    speed: f64,
}

impl DryRunBackend {
    pub fn new(out: &Path, mode: ObjectMode) -> Result<DryRunBackend, LiveError> {
        let dir = out.join("manifests");
        fs::create_dir_all(&dir).map_err(|e| LiveError::io(&dir, e))?;
        Ok(DryRunBackend {
            dir: out.to_path_buf(),
            mode,
            speed: 1.0,
        })
    }

    /// Manifests for a run at `speed` (pod run times in wall time, as `kube` writes them).
    pub fn with_speed(mut self, speed: f64) -> DryRunBackend {
        self.speed = speed;
        self
    }

    fn log(&self, line: serde_json::Value) -> Result<(), LiveError> {
        let p = self.dir.join("decisions.jsonl");
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&p)
            .map_err(|e| LiveError::io(&p, e))?;
        writeln!(f, "{line}").map_err(|e| LiveError::io(&p, e))
    }
}

impl Backend for DryRunBackend {
    fn kind(&self) -> &'static str {
        "dry-run"
    }
    fn keeps_trace_time(&self) -> bool {
        true
    }
    fn submit(
        &mut self,
        job: &TraceJob,
        meta: &Meta,
        model: &mut Model,
    ) -> Result<SendOutcome, LiveError> {
        let manifests = self.dir.join("manifests");
        let path = manifests.join(format!("{}.yaml", job.id));
        model.submit(job);
        // `.json`: written by versions before the YAML manifests; adopted the same way
        let outcome = if path.exists() || manifests.join(format!("{}.json", job.id)).exists() {
            SendOutcome::Adopted
        } else {
            let objs = build_at_speed(job, self.mode, meta, self.speed);
            let text = to_yaml(&objs).map_err(|e| LiveError::io(&path, e))?;
            let tmp = path.with_extension("yaml.tmp");
            let write = || -> std::io::Result<()> {
                let mut f = fs::File::create(&tmp)?;
                f.write_all(text.as_bytes())?;
                f.sync_data()?;
                fs::rename(&tmp, &path)?;
                // the new directory entry must be durable before the journal says `sent`
                fs::File::open(self.dir.join("manifests"))?.sync_all()
            };
            write().map_err(|e| LiveError::io(&path, e))?;
            SendOutcome::Created
        };
        self.log(serde_json::json!({
            "t_ms": model.now(), "action": outcome.as_str(), "name": job.id, "key": meta.key,
            "queue": job.queue, "min_member": job.min_member, "replicas": job.replicas,
            "predicted_wait_ms": meta.predicted_wait_ms,
        }))?;
        Ok(outcome)
    }
    fn delete(&mut self, name: &str, model: &mut Model) -> Result<bool, LiveError> {
        let known = model.delete(name);
        self.log(serde_json::json!({"t_ms": model.now(), "action": "delete", "name": name}))?;
        Ok(known)
    }
    fn observe(&self, name: &str, model: &Model) -> Option<JobView> {
        let mut v = model.view(name)?;
        if v.phase != "Deleted" {
            v.phase = "DryRun";
        }
        v.inqueue_ms = None;
        v.gang_ready_ms = None;
        v.finish_ms = None;
        Some(v)
    }
}
