//! The HTTP/1.1 transport of `live serve`: hyper 1 on a small tokio runtime, with the limits a
//! hostile client must not get around. Every limit is enforced here, before a request reaches
//! `live::http`:
//!
//! * body: refused by `Content-Length` before a byte is read (413, connection closed); streamed
//!   (chunked) bodies are capped while read (`http_body_util::Limited`); hyper itself refuses an
//!   unparsable or overflowing `Content-Length` (400);
//! * headers: at most `max_header_bytes` (start line included) and `max_headers` lines (431);
//! * time: headers within `read_timeout` (hyper's header timer), the body within `read_timeout`
//!   (408), and a connection that makes no read or write progress for `idle_timeout` while no
//!   request of it is being handled is dropped (slow readers, idle keep-alives, stalled writes);
//! * connections: at most `max_connections` at once; beyond that a connection gets a static 503
//!   and is closed;
//! * accept errors (EMFILE, ENFILE, ENOBUFS …) are survived with exponential backoff
//!   (5 ms … 1 s);
//! * each request's handler runs on tokio's blocking pool (at most `workers` at once); a panic
//!   in it becomes a 500 for that request only;
//! * shutdown (`stop` flag or SIGTERM/SIGINT through [`stop_on_signals`]): stop accepting, let
//!   requests in flight finish (`graceful_shutdown`), give up after `shutdown_grace`.
//!
//! Depends on nothing else in volsim (the handler is a trait object). Invariant: no allocation
//! is sized by anything a client sends beyond the configured limits.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use hyper::http::request::Parts;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::LiveError;

/// A response as the handler builds it.
pub type Resp = Response<Full<Bytes>>;

/// Transport limits (see the module header). `Default` is what `live serve` uses without flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_body: usize,
    pub max_header_bytes: usize,
    pub max_headers: usize,
    pub read_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 64 * 1024,
            max_header_bytes: 16 * 1024,
            max_headers: 64,
            read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            max_connections: 256,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// What the transport calls. `fast` runs on the async workers and must not block (no lock, no
/// I/O); `handle` runs on the blocking pool with the body already read within limits.
pub trait Handler: Send + Sync + 'static {
    /// An immediate answer (`/healthz`, a refused token), or `None` to read the body and call
    /// `handle`.
    fn fast(&self, req: &Parts) -> Option<Resp>;
    fn handle(&self, req: &Parts, body: Bytes) -> Resp;
}

/// A JSON response.
pub fn json(status: u16, v: &serde_json::Value) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(v.to_string())));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// `{"error": msg, "field": field}` with `status`.
pub fn error(status: u16, field: Option<&str>, msg: &str) -> Resp {
    json(status, &serde_json::json!({ "error": msg, "field": field }))
}

fn closing(mut r: Resp) -> Resp {
    r.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    r
}

static SIGNALLED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    SIGNALLED.store(true, Ordering::SeqCst);
}

/// Makes SIGTERM and SIGINT stop every server of this process gracefully (the handler only
/// sets a flag, which is async-signal-safe; the accept loop polls it).
pub fn stop_on_signals() {
    let h = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: installing a handler that only stores to a static atomic.
    unsafe {
        libc::signal(libc::SIGTERM, h);
        libc::signal(libc::SIGINT, h);
    }
}

/// True once SIGTERM or SIGINT arrived after [`stop_on_signals`] (`live run` polls it to stop
/// and flush its outputs).
pub fn signalled() -> bool {
    SIGNALLED.load(Ordering::SeqCst)
}

fn stopping(stop: &AtomicBool) -> bool {
    stop.load(Ordering::SeqCst) || SIGNALLED.load(Ordering::SeqCst)
}

/// A running transport.
pub struct Server {
    pub addr: SocketAddr,
    thread: JoinHandle<()>,
}

impl Server {
    /// Binds `listen` and serves on a thread of its own until `stop` is set (or a signal, after
    /// [`stop_on_signals`]). `workers` bounds the handlers running at once.
    pub fn start(
        listen: SocketAddr,
        limits: Limits,
        workers: usize,
        handler: Arc<dyn Handler>,
        stop: Arc<AtomicBool>,
    ) -> Result<Server, LiveError> {
        let cfg_err =
            |e: std::io::Error| LiveError::Config(format!("cannot listen on {listen}: {e}"));
        let std_listener = std::net::TcpListener::bind(listen).map_err(cfg_err)?;
        std_listener.set_nonblocking(true).map_err(cfg_err)?;
        let addr = std_listener.local_addr().map_err(cfg_err)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(workers.max(1))
            .thread_name("volsim-http")
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| LiveError::Config(format!("cannot start the HTTP runtime: {e}")))?;
        let thread = std::thread::spawn(move || {
            let grace = limits.shutdown_grace;
            rt.block_on(accept_loop(std_listener, limits, handler, stop));
            rt.shutdown_timeout(grace);
        });
        Ok(Server { addr, thread })
    }

    /// Waits until the server has stopped.
    pub fn join(self) {
        let _ = self.thread.join();
    }
}

const TICK: Duration = Duration::from_millis(100);
const BUSY: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";

async fn accept_loop(
    std_listener: std::net::TcpListener,
    limits: Limits,
    handler: Arc<dyn Handler>,
    stop: Arc<AtomicBool>,
) {
    let listener = match TcpListener::from_std(std_listener) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("volsim: cannot register the listener: {e}");
            return;
        }
    };
    let cap = limits.max_connections.max(1);
    let slots = Arc::new(Semaphore::new(cap));
    let min_backoff = Duration::from_millis(5);
    let mut backoff = min_backoff;
    while !stopping(&stop) {
        let stream = match tokio::time::timeout(TICK, listener.accept()).await {
            Err(_) => continue,
            Ok(Ok((s, _))) => {
                backoff = min_backoff;
                s
            }
            Ok(Err(e)) => {
                // EMFILE and friends: the pending connection stays queued; wait and retry.
                if backoff == min_backoff {
                    eprintln!("volsim: accept failed ({e}); backing off");
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            let _ = stream.try_write(BUSY);
            continue;
        };
        let (handler, stop) = (handler.clone(), stop.clone());
        tokio::spawn(async move {
            connection(stream, limits, handler, stop).await;
            drop(slot);
        });
    }
    // graceful: connections finish their requests (they see the flag) or hit the grace
    let deadline = Instant::now() + limits.shutdown_grace;
    while slots.available_permits() < cap && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Read/write progress of one connection.
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn touch(&self) {
        self.last_ms
            .store(self.start.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
    fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// A TCP stream that records progress.
struct Watched {
    inner: tokio::net::TcpStream,
    act: Arc<Activity>,
}

impl tokio::io::AsyncRead for Watched {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.act.touch();
        }
        r
    }
}

impl tokio::io::AsyncWrite for Watched {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.act.touch();
        }
        r
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Decrements the in-flight count when a request's future ends (or is dropped).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.0.touch();
    }
}

async fn connection(
    stream: tokio::net::TcpStream,
    limits: Limits,
    handler: Arc<dyn Handler>,
    stop: Arc<AtomicBool>,
) {
    let _ = stream.set_nodelay(true);
    let act = Arc::new(Activity {
        start: Instant::now(),
        last_ms: AtomicU64::new(0),
        in_flight: AtomicUsize::new(0),
    });
    let io = TokioIo::new(Watched {
        inner: stream,
        act: act.clone(),
    });
    let act2 = act.clone();
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        act2.in_flight.fetch_add(1, Ordering::SeqCst);
        let guard = InFlight(act2.clone());
        let handler = handler.clone();
        async move {
            let r = respond(req, limits, handler).await;
            drop(guard);
            Ok::<_, std::convert::Infallible>(r)
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.read_timeout)
        .max_headers(limits.max_headers)
        .max_header_size(limits.max_header_bytes)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .keep_alive(true);
    let conn = builder.serve_connection(io, svc);
    let mut conn = std::pin::pin!(conn);
    let mut give_up: Option<Instant> = None;
    loop {
        if tokio::time::timeout(TICK, conn.as_mut()).await.is_ok() {
            return;
        }
        let idle = act.in_flight.load(Ordering::SeqCst) == 0 && act.idle() > limits.idle_timeout;
        if idle || give_up.is_some_and(|t| Instant::now() >= t) {
            return;
        }
        if give_up.is_none() && stopping(&stop) {
            conn.as_mut().graceful_shutdown();
            give_up = Some(Instant::now() + limits.shutdown_grace);
        }
    }
}

fn declared_length(p: &Parts) -> Option<u64> {
    p.headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

async fn respond(req: Request<Incoming>, limits: Limits, handler: Arc<dyn Handler>) -> Resp {
    let (parts, body) = req.into_parts();
    let declared = declared_length(&parts);
    if declared.is_some_and(|n| n > limits.max_body as u64) {
        return closing(error(
            413,
            Some("body"),
            &format!("body larger than {} bytes", limits.max_body),
        ));
    }
    let has_body = declared.is_some_and(|n| n > 0) || parts.headers.contains_key(TRANSFER_ENCODING);
    if let Some(r) = handler.fast(&parts) {
        // an unread body cannot be skipped safely: end the connection instead
        return if has_body { closing(r) } else { r };
    }
    let bytes = if has_body {
        let read = Limited::new(body, limits.max_body).collect();
        match tokio::time::timeout(limits.read_timeout, read).await {
            Err(_) => {
                return closing(error(
                    408,
                    Some("body"),
                    &format!("body not received within {:?}", limits.read_timeout),
                ))
            }
            Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
                return closing(error(
                    413,
                    Some("body"),
                    &format!("body larger than {} bytes", limits.max_body),
                ))
            }
            Ok(Err(e)) => {
                return closing(error(400, Some("body"), &format!("cannot read body: {e}")))
            }
            Ok(Ok(c)) => c.to_bytes(),
        }
    } else {
        Bytes::new()
    };
    let parts = Arc::new(parts);
    let p2 = parts.clone();
    match tokio::task::spawn_blocking(move || handler.handle(&p2, bytes)).await {
        Ok(r) => r,
        Err(_) => closing(error(
            500,
            None,
            "internal error: the request handler failed",
        )),
    }
}
