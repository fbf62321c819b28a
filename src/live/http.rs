//! The `live serve` API: routes, authentication and the service calls behind them. The
//! transport (limits, timeouts, connection cap, graceful shutdown) is `live::server` (hyper 1
//! on tokio); this file only maps requests to `Service` calls.
//!
//! Routes: `POST /v1/jobs`, `GET /v1/jobs`, `GET|DELETE /v1/jobs/{name}`, `GET /metrics`,
//! `GET /healthz`. Depends on `live::service`, `live::server`. Invariants: loopback unless a
//! bearer token is configured; the token is compared in constant time and never logged;
//! `/healthz` never takes the service lock; the lock is not held while a forecast runs or
//! while the output CSVs are written.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use hyper::body::Bytes;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::http::request::Parts;
use hyper::Method;
use serde_json::{json, Value};

use super::metrics::{render, Outputs};
use super::model::JobView;
use super::names::constant_time_eq;
use super::server::{error, json, Handler, Limits, Resp, Server};
use super::service::{Prepared, Record, Service};
use super::LiveError;

/// Server options. `Debug` redacts the token.
#[derive(Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// Bearer token; required when `listen` is not loopback.
    pub token: Option<String>,
    /// Handlers running at once (the blocking pool's size).
    pub threads: usize,
    pub limits: Limits,
}

impl std::fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeConfig")
            .field("listen", &self.listen)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("threads", &self.threads)
            .field("limits", &self.limits)
            .finish()
    }
}

/// Refuses a non-loopback address without a token.
pub fn check_listen(listen: &SocketAddr, token: Option<&str>) -> Result<(), LiveError> {
    if !listen.ip().is_loopback() && token.is_none_or(str::is_empty) {
        return Err(LiveError::Config(format!(
            "--listen {listen} is not a loopback address: a bearer token is required (--token-file or VOLSIM_TOKEN)"
        )));
    }
    Ok(())
}

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    server: Server,
    ticker: JoinHandle<()>,
    svc: Arc<Mutex<Service>>,
}

impl Running {
    /// Blocks until the server stops (`stop`, or SIGTERM/SIGINT after
    /// `server::stop_on_signals`), then stops the ticker and writes the outputs a last time.
    pub fn join(self) -> Result<(), LiveError> {
        self.server.join();
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.ticker.join();
        let snap = Outputs::snapshot(&lock(&self.svc));
        snap.write()
    }
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn lock(svc: &Mutex<Service>) -> MutexGuard<'_, Service> {
    svc.lock().unwrap_or_else(|e| e.into_inner())
}

/// Binds and starts the server and the ticker (which advances the backend every 100 ms and
/// rewrites the output CSVs every second of real time, outside the service lock).
pub fn start(svc: Arc<Mutex<Service>>, cfg: ServeConfig) -> Result<Running, LiveError> {
    check_listen(&cfg.listen, cfg.token.as_deref())?;
    let stop = Arc::new(AtomicBool::new(false));
    let api = Arc::new(Api {
        backend: lock(&svc).backend_kind(),
        svc: svc.clone(),
        token: cfg.token.clone(),
    });
    let server = Server::start(cfg.listen, cfg.limits, cfg.threads, api, stop.clone())?;
    let (svc2, stop2) = (svc.clone(), stop.clone());
    let ticker = std::thread::spawn(move || {
        let mut n = 0u32;
        while !stop2.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(100));
            n += 1;
            let snap = {
                let mut s = lock(&svc2);
                s.tick();
                n.is_multiple_of(10).then(|| Outputs::snapshot(&s))
            };
            if let Some(snap) = snap {
                if let Err(e) = snap.write() {
                    eprintln!("volsim: {e}");
                }
            }
        }
    });
    Ok(Running {
        addr: server.addr,
        stop,
        server,
        ticker,
        svc,
    })
}

fn error_of(e: &LiveError) -> Resp {
    match e {
        LiveError::BadRequest { field, message } => error(400, Some(field), message),
        LiveError::KeyConflict { .. } => error(409, Some("idempotency_key"), &e.to_string()),
        LiveError::NotFound(_) => error(404, None, &e.to_string()),
        LiveError::Backend(_) => error(503, None, &e.to_string()),
        _ => error(500, None, &e.to_string()),
    }
}

/// The `live serve` routes over one service.
struct Api {
    svc: Arc<Mutex<Service>>,
    token: Option<String>,
    /// Answered by `/healthz` without the service lock.
    backend: &'static str,
}

impl Api {
    fn authorized(&self, req: &Parts) -> bool {
        let Some(token) = self.token.as_deref() else {
            return true;
        };
        let given = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        constant_time_eq(given.as_bytes(), token.as_bytes())
    }

    fn submit(&self, req: &Parts, body: &[u8]) -> Resp {
        let key = match req.headers.get("idempotency-key").map(HeaderValue::to_str) {
            None => None,
            Some(Ok(k)) => Some(k.to_string()),
            Some(Err(_)) => {
                return error(
                    400,
                    Some("idempotency_key"),
                    "invalid Idempotency-Key header",
                )
            }
        };
        let prepared = lock(&self.svc).prepare_body(body, key.as_deref());
        let reply = match prepared {
            Err(e) => return error_of(&e),
            Ok(Prepared::Known(r)) => Ok(*r),
            Ok(Prepared::New(mut p)) => {
                // the forecast runs on a snapshot, without the lock
                let predicted = p.forecast();
                lock(&self.svc).commit(p, predicted)
            }
        };
        match reply {
            Ok(r) => json(
                if r.created { 201 } else { 200 },
                &record_json(&r.record, None),
            ),
            Err(e) => error_of(&e),
        }
    }
}

impl Handler for Api {
    fn fast(&self, req: &Parts) -> Option<Resp> {
        if req.uri.path() == "/healthz" {
            return Some(if req.method == Method::GET {
                json(200, &json!({ "status": "ok", "backend": self.backend }))
            } else {
                error(405, None, "method not allowed")
            });
        }
        if !self.authorized(req) {
            return Some(error(
                401,
                Some("Authorization"),
                "missing or wrong bearer token",
            ));
        }
        None
    }

    fn handle(&self, req: &Parts, body: Bytes) -> Resp {
        let path = req.uri.path();
        match (&req.method, path) {
            (&Method::GET, "/metrics") => {
                let body = render(&lock(&self.svc));
                let mut r = hyper::Response::new(http_body_util::Full::new(Bytes::from(body)));
                r.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4"),
                );
                r
            }
            (&Method::POST, "/v1/jobs") => self.submit(req, &body),
            (&Method::GET, "/v1/jobs") => {
                let s = lock(&self.svc);
                let list: Vec<Value> = s
                    .records
                    .iter()
                    .map(|r| json!({"name": r.job.id, "idempotency_key": r.key, "held": r.held, "deleted": r.deleted}))
                    .collect();
                json(200, &json!({ "jobs": list }))
            }
            (m, u) if u.starts_with("/v1/jobs/") => {
                let name = &u["/v1/jobs/".len()..];
                let mut s = lock(&self.svc);
                match *m {
                    Method::GET => match s.get(name) {
                        Ok((r, v)) => json(200, &record_json(&r, v.as_ref())),
                        Err(e) => error_of(&e),
                    },
                    Method::DELETE => match s.delete(name) {
                        Ok(r) => json(200, &record_json(&r, None)),
                        Err(e) => error_of(&e),
                    },
                    _ => error(405, None, "method not allowed"),
                }
            }
            (_, "/v1/jobs") | (_, "/metrics") => error(405, None, "method not allowed"),
            _ => error(404, None, "no such route"),
        }
    }
}

/// The JSON of a record (and its observation).
pub fn record_json(r: &Record, v: Option<&JobView>) -> Value {
    let mut out = json!({
        "name": r.job.id, "idempotency_key": r.key, "workflow_id": r.workflow_id,
        "source": r.source, "queue": r.job.queue, "class": r.job.class,
        "replicas": r.job.replicas, "min_member": r.job.min_member,
        "priority_class": r.job.priority_class, "priority": r.job.priority,
        "requests": super::manifest::resource_list(&r.job.requests),
        "duration_ms": r.job.duration_ms, "submit_ms": r.job.submit_ms,
        "predicted_wait_ms": r.predicted_wait_ms, "held": r.held, "released_ms": r.released_ms, "sent": r.sent,
        "deleted": r.deleted,
    });
    if let Some(v) = v {
        out["observed"] = json!({
            "phase": v.phase, "submit_ms": v.submit_ms, "inqueue_ms": v.inqueue_ms,
            "gang_ready_ms": v.gang_ready_ms, "finish_ms": v.finish_ms, "evictions": v.evictions,
            "wait_ms": v.gang_ready_ms.map(|g| g.saturating_sub(v.submit_ms)),
        });
    }
    out
}
