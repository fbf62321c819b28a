//! The `live serve` HTTP API. Server: `tiny_http` — synchronous, 4 small dependencies, no async
//! runtime, a thread pool is a few lines; the API is a handful of JSON routes behind one mutex,
//! so hyper/axum would only add build time, and a hand-rolled std::net parser would be more
//! code to get right (chunked bodies, keep-alive, header limits) than this whole file.
//!
//! Routes: `POST /v1/jobs`, `GET /v1/jobs`, `GET|DELETE /v1/jobs/{name}`, `GET /metrics`,
//! `GET /healthz`. Depends on `live::service`. Invariants: loopback unless a bearer token is
//! configured; the token is compared in constant time and never logged; bodies over
//! `max_body` bytes are refused with 413 before they are parsed.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{json, Value};
use tiny_http::{Header, Method, Request, Response, Server};

use super::metrics::{render, write_outputs};
use super::model::JobView;
use super::names::constant_time_eq;
use super::service::{Record, Service};
use super::LiveError;

/// Server options. `Debug` redacts the token.
#[derive(Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// Bearer token; required when `listen` is not loopback.
    pub token: Option<String>,
    pub max_body: usize,
    pub threads: usize,
}

impl std::fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeConfig")
            .field("listen", &self.listen)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("max_body", &self.max_body)
            .field("threads", &self.threads)
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
    threads: Vec<JoinHandle<()>>,
}

impl Running {
    /// Blocks until the server stops (it only stops through `stop`).
    pub fn join(self) {
        for t in self.threads {
            let _ = t.join();
        }
    }
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn lock(svc: &Mutex<Service>) -> MutexGuard<'_, Service> {
    svc.lock().unwrap_or_else(|e| e.into_inner())
}

/// Binds and starts the worker threads and the ticker (which advances the backend and
/// rewrites the output CSVs every second of real time).
pub fn start(svc: Arc<Mutex<Service>>, cfg: ServeConfig) -> Result<Running, LiveError> {
    check_listen(&cfg.listen, cfg.token.as_deref())?;
    let server = Server::http(cfg.listen)
        .map_err(|e| LiveError::Config(format!("cannot listen on {}: {e}", cfg.listen)))?;
    let addr = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| LiveError::Config("not an IP listener".into()))?;
    let server = Arc::new(server);
    let stop = Arc::new(AtomicBool::new(false));
    let cfg = Arc::new(cfg);
    let mut threads = Vec::new();
    for _ in 0..cfg.threads.max(1) {
        let (server, svc, stop, cfg) = (server.clone(), svc.clone(), stop.clone(), cfg.clone());
        threads.push(std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match server.recv_timeout(Duration::from_millis(200)) {
                    Ok(Some(req)) => handle(req, &svc, &cfg),
                    Ok(None) => {}
                    Err(_) => break,
                }
            }
        }));
    }
    let (svc2, stop2) = (svc.clone(), stop.clone());
    threads.push(std::thread::spawn(move || {
        let mut n = 0u32;
        while !stop2.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(100));
            n += 1;
            let mut s = lock(&svc2);
            s.tick();
            if n.is_multiple_of(10) {
                let _ = write_outputs(&s);
            }
        }
    }));
    Ok(Running {
        addr,
        stop,
        threads,
    })
}

fn json_response(status: u16, v: &Value) -> Response<std::io::Cursor<Vec<u8>>> {
    let ct = Header::from_bytes("Content-Type", "application/json").expect("static header");
    Response::from_data(v.to_string().into_bytes())
        .with_status_code(status)
        .with_header(ct)
}

fn error(status: u16, field: Option<&str>, msg: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    json_response(status, &json!({ "error": msg, "field": field }))
}

fn error_of(e: &LiveError) -> Response<std::io::Cursor<Vec<u8>>> {
    match e {
        LiveError::BadRequest { field, message } => error(400, Some(field), message),
        LiveError::KeyConflict { .. } => error(409, Some("idempotency_key"), &e.to_string()),
        LiveError::NotFound(_) => error(404, None, &e.to_string()),
        LiveError::Backend(_) => error(503, None, &e.to_string()),
        _ => error(500, None, &e.to_string()),
    }
}

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str())
}

fn authorized(req: &Request, token: Option<&str>) -> bool {
    let Some(token) = token else { return true };
    let given = header(req, "Authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    constant_time_eq(given.as_bytes(), token.as_bytes())
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

fn handle(mut req: Request, svc: &Mutex<Service>, cfg: &ServeConfig) {
    let url = req.url().split('?').next().unwrap_or("").to_string();
    let method = req.method().clone();
    let resp = if url == "/healthz" && method == Method::Get {
        let kind = lock(svc).backend_kind();
        json_response(200, &json!({ "status": "ok", "backend": kind }))
    } else if !authorized(&req, cfg.token.as_deref()) {
        error(401, Some("Authorization"), "missing or wrong bearer token")
    } else {
        route(&mut req, &method, &url, svc, cfg)
    };
    let _ = req.respond(resp);
}

fn route(
    req: &mut Request,
    method: &Method,
    url: &str,
    svc: &Mutex<Service>,
    cfg: &ServeConfig,
) -> Response<std::io::Cursor<Vec<u8>>> {
    match (method, url) {
        (Method::Get, "/metrics") => {
            let body = render(&lock(svc));
            let ct = Header::from_bytes("Content-Type", "text/plain; version=0.0.4")
                .expect("static header");
            Response::from_data(body.into_bytes()).with_header(ct)
        }
        (Method::Post, "/v1/jobs") => {
            if req.body_length().is_some_and(|n| n > cfg.max_body) {
                return error(
                    413,
                    Some("body"),
                    &format!("body larger than {} bytes", cfg.max_body),
                );
            }
            let mut body = Vec::new();
            let limit = cfg.max_body as u64 + 1;
            if let Err(e) = req.as_reader().take(limit).read_to_end(&mut body) {
                return error(400, Some("body"), &format!("cannot read body: {e}"));
            }
            if body.len() > cfg.max_body {
                return error(
                    413,
                    Some("body"),
                    &format!("body larger than {} bytes", cfg.max_body),
                );
            }
            let key = header(req, "Idempotency-Key").map(str::to_string);
            let mut s = lock(svc);
            match s.submit_body(&body, key.as_deref()) {
                Ok(r) => json_response(
                    if r.created { 201 } else { 200 },
                    &record_json(&r.record, None),
                ),
                Err(e) => error_of(&e),
            }
        }
        (Method::Get, "/v1/jobs") => {
            let s = lock(svc);
            let list: Vec<Value> = s
                .records
                .iter()
                .map(|r| json!({"name": r.job.id, "idempotency_key": r.key, "held": r.held, "deleted": r.deleted}))
                .collect();
            json_response(200, &json!({ "jobs": list }))
        }
        (m, u) if u.starts_with("/v1/jobs/") => {
            let name = &u["/v1/jobs/".len()..];
            let mut s = lock(svc);
            match *m {
                Method::Get => match s.get(name) {
                    Ok((r, v)) => json_response(200, &record_json(&r, v.as_ref())),
                    Err(e) => error_of(&e),
                },
                Method::Delete => match s.delete(name) {
                    Ok(r) => json_response(200, &record_json(&r, None)),
                    Err(e) => error_of(&e),
                },
                _ => error(405, None, "method not allowed"),
            }
        }
        (_, "/v1/jobs") | (_, "/metrics") => error(405, None, "method not allowed"),
        _ => error(404, None, "no such route"),
    }
}
