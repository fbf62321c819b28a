//! Live mode: the same policy core driven in wall-clock time against a backend. Submissions
//! (a replayed scenario trace, or HTTP `POST /v1/jobs`) are mapped with the simulator's rules,
//! journaled (fsync) before they are sent, forecast on a clone of the modelled state (the
//! one `engine`), and handed to a backend: `twin` (the cluster model in wall-clock time),
//! `dry-run` (manifests + decision log, touches nothing) or `kube` (Kubernetes REST).
//!
//! May depend on `model`, `policy`, `kube`, `workload`, `cluster`, `engine`; **never `sim`** (enforced by
//! `tests/it/layering.rs`). Invariant: every accepted idempotency key maps to exactly one object,
//! whose name is a pure function of the key (`names::object_name`).

pub mod backend;
pub mod clock;
pub mod compare;
pub mod ensemble;
pub mod http;
pub mod jitter;
pub mod journal;
pub mod kube_config;
pub mod kube_rest;
pub mod kube_seen;
pub mod kube_state;
pub mod kube_watch;
pub mod manifest;
pub mod metrics;
pub mod model;
pub mod names;
pub mod replay;
pub mod request;
pub mod server;
pub mod service;
pub mod validate;

use std::collections::BTreeMap;

use crate::model::{EngineParams, NodeSpec, PriorityClassSpec, QueueSpec};
use crate::policy::SchedulerConf;
use crate::workload::mapping::MappingTable;
use crate::workload::TraceJob;

/// Errors of the live mode. Request errors name the offending field.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("field {field}: {message}")]
    BadRequest { field: String, message: String },
    #[error("idempotency key {key:?} was already used with a different request")]
    KeyConflict { key: String },
    #[error("no such job {0:?}")]
    NotFound(String),
    #[error("journal {path}: {message}")]
    Journal { path: String, message: String },
    #[error("backend: {0}")]
    Backend(String),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{0}")]
    Config(String),
}

impl LiveError {
    pub fn bad(field: &str, message: impl Into<String>) -> LiveError {
        LiveError::BadRequest {
            field: field.to_string(),
            message: message.into(),
        }
    }
    pub fn io(path: &std::path::Path, e: impl std::fmt::Display) -> LiveError {
        LiveError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }
}

/// Everything live mode needs from a scenario (the CLI builds it; `live` does not read
/// scenario files itself).
#[derive(Debug, Clone)]
pub struct LiveSetup {
    pub nodes: Vec<NodeSpec>,
    pub queues: Vec<QueueSpec>,
    pub priority_classes: Vec<PriorityClassSpec>,
    pub conf: SchedulerConf,
    /// Timing of the modelled cluster (twin and forecast).
    pub params: EngineParams,
    /// Seed of the model's tie-breaking RNG (the scenario's).
    pub seed: u64,
    /// Workload class → template job (queue, requests, gang, priority, duration).
    pub classes: BTreeMap<String, TraceJob>,
    /// Activity type → job rules (`workload::mapping`).
    pub mapping: MappingTable,
    /// The scenario's trace, for `live run`.
    pub jobs: Vec<TraceJob>,
}
