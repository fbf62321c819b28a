//! Downloads histories from a live Temporal server's HTTP API (grpc-gateway, notes A.3):
//! lists executions with a visibility query, then saves each history, all pages joined, as
//! `{"history":{"events":[…]}}` in `<out_dir>/<workflowId>__<runId>.json`.
//!
//! Resumable: a closed execution whose file exists is not downloaded again; files are written
//! under a temporary name and renamed. 5xx, 429 and transport errors (timeouts included) are
//! retried with bounded exponential backoff. Depends on no other volsim module.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

/// Page size for the listing and for history pages.
const PAGE_SIZE: u32 = 1000;
/// Attempts per request (first try included) and the backoff bounds.
const MAX_ATTEMPTS: u32 = 6;
const BACKOFF_START: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// Per-request timeout and the largest accepted response body.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_BODY: u64 = 512 * 1024 * 1024;

/// One execution as listed by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedExecution {
    pub workflow_id: String,
    pub run_id: String,
    pub workflow_type: String,
    /// `WORKFLOW_EXECUTION_STATUS_*`.
    pub status: String,
    /// Parent workflow id for child executions.
    pub parent_workflow_id: Option<String>,
    /// The history file (existing or downloaded).
    pub file: PathBuf,
}

/// What [`pull`] did.
#[derive(Debug, Default)]
pub struct PullReport {
    /// Every execution the listing returned (top-level and children), in listing order.
    pub executions: Vec<ListedExecution>,
    /// Histories downloaded in this call.
    pub downloaded: usize,
    /// Histories skipped because their file already existed.
    pub skipped_existing: usize,
    /// Events downloaded in this call.
    pub events: usize,
}

/// Why a pull failed.
#[derive(Debug)]
pub enum PullError {
    /// A non-success HTTP status (after retries for 5xx / 429).
    Http {
        url: String,
        status: u16,
        body: String,
    },
    /// Connection failure or timeout (after retries).
    Transport { url: String, message: String },
    /// The response was not the expected JSON.
    Json { url: String, message: String },
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl fmt::Display for PullError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PullError::Http { url, status, body } => {
                write!(f, "GET {url}: HTTP {status}: {}", body.trim())
            }
            PullError::Transport { url, message } => write!(f, "GET {url}: {message}"),
            PullError::Json { url, message } => {
                write!(f, "GET {url}: unexpected response: {message}")
            }
            PullError::Io { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for PullError {}

/// Percent-encodes everything except RFC 3986 unreserved characters.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A file-name-safe rendering: keeps `[A-Za-z0-9._-]`, replaces the rest with `_`, and never
/// starts with a dot.
pub fn sanitize(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with('.') || out.is_empty() {
        out.insert(0, '_');
    }
    out
}

/// The file a history is saved to (`<workflowId>__<runId>.json`, sanitised).
pub fn history_file(out_dir: &Path, workflow_id: &str, run_id: &str) -> PathBuf {
    out_dir.join(format!(
        "{}__{}.json",
        sanitize(workflow_id),
        sanitize(run_id)
    ))
}

/// Lists the executions of `namespace` matching the visibility `query` (all when `None`) on
/// the server at `http_base` (e.g. `http://127.0.0.1:7247`) and downloads each history into
/// `out_dir` (created if missing). Running executions are always downloaded again, since their
/// history still grows; closed ones are skipped when their file exists.
pub fn pull(
    http_base: &str,
    namespace: &str,
    query: Option<&str>,
    out_dir: &Path,
) -> Result<PullReport, PullError> {
    std::fs::create_dir_all(out_dir).map_err(|source| PullError::Io {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(REQUEST_TIMEOUT))
        .build()
        .into();
    let base = format!(
        "{}/api/v1/namespaces/{}",
        http_base.trim_end_matches('/'),
        url_encode(namespace)
    );
    let mut report = PullReport::default();

    let mut token = String::new();
    let mut seen = HashSet::new();
    loop {
        let mut url = format!("{base}/workflows?pageSize={PAGE_SIZE}");
        if let Some(q) = query.filter(|q| !q.is_empty()) {
            url += &format!("&query={}", url_encode(q));
        }
        if !token.is_empty() {
            url += &format!("&nextPageToken={}", url_encode(&token));
        }
        let page = get_json(&agent, &url)?;
        for ex in page
            .get("executions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let s = |p: &[&str]| -> String {
                p.iter()
                    .try_fold(ex, |v, k| v.get(*k))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let (workflow_id, run_id) =
                (s(&["execution", "workflowId"]), s(&["execution", "runId"]));
            if workflow_id.is_empty() {
                return Err(PullError::Json {
                    url,
                    message: "an execution without execution.workflowId".into(),
                });
            }
            let parent = s(&["parentExecution", "workflowId"]);
            report.executions.push(ListedExecution {
                file: history_file(out_dir, &workflow_id, &run_id),
                workflow_id,
                run_id,
                workflow_type: s(&["type", "name"]),
                status: s(&["status"]),
                parent_workflow_id: (!parent.is_empty()).then_some(parent),
            });
        }
        token = next_token(&page, &mut seen, &url)?;
        if token.is_empty() {
            break;
        }
    }

    for ex in &report.executions {
        let running = ex.status.is_empty() || ex.status.ends_with("RUNNING");
        if !running && ex.file.exists() {
            report.skipped_existing += 1;
            continue;
        }
        let events = history(&agent, &base, &ex.workflow_id, &ex.run_id)?;
        report.events += events.len();
        let doc = serde_json::json!({ "history": { "events": events } });
        let tmp = ex.file.with_extension("json.part");
        let io = |source| PullError::Io {
            path: tmp.clone(),
            source,
        };
        std::fs::write(&tmp, serde_json::to_vec(&doc).expect("serialisable")).map_err(io)?;
        std::fs::rename(&tmp, &ex.file).map_err(|source| PullError::Io {
            path: ex.file.clone(),
            source,
        })?;
        report.downloaded += 1;
    }
    Ok(report)
}

/// All events of one run, following `nextPageToken`.
fn history(
    agent: &ureq::Agent,
    base: &str,
    workflow_id: &str,
    run_id: &str,
) -> Result<Vec<Value>, PullError> {
    let mut events = Vec::new();
    let mut token = String::new();
    let mut seen = HashSet::new();
    loop {
        let mut url = format!(
            "{base}/workflows/{}/history?execution.runId={}&maximumPageSize={PAGE_SIZE}",
            url_encode(workflow_id),
            url_encode(run_id)
        );
        if !token.is_empty() {
            url += &format!("&nextPageToken={}", url_encode(&token));
        }
        let mut page = get_json(agent, &url)?;
        match page.pointer_mut("/history/events").map(Value::take) {
            Some(Value::Array(evs)) => events.extend(evs),
            Some(Value::Null) | None => {}
            Some(_) => {
                return Err(PullError::Json {
                    url,
                    message: "history.events is not an array".into(),
                })
            }
        }
        token = next_token(&page, &mut seen, &url)?;
        if token.is_empty() {
            return Ok(events);
        }
    }
}

/// The page's `nextPageToken` (empty: last page). A token seen before would page forever: it
/// is an error naming the URL.
fn next_token(page: &Value, seen: &mut HashSet<String>, url: &str) -> Result<String, PullError> {
    let t = page
        .get("nextPageToken")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if !t.is_empty() && !seen.insert(t.clone()) {
        return Err(PullError::Json {
            url: url.to_string(),
            message: "the server repeated a nextPageToken; stopping instead of paging forever"
                .into(),
        });
    }
    Ok(t)
}

/// GET with retries on 5xx / 429 / transport errors; parses the body as JSON.
fn get_json(agent: &ureq::Agent, url: &str) -> Result<Value, PullError> {
    get_json_with(agent, url, MAX_ATTEMPTS, BACKOFF_START)
}

fn get_json_with(
    agent: &ureq::Agent,
    url: &str,
    max_attempts: u32,
    first_backoff: Duration,
) -> Result<Value, PullError> {
    let mut backoff = first_backoff;
    let mut attempt = 1;
    loop {
        let retryable_err = match agent.get(url).header("Accept", "application/json").call() {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let body = resp
                    .body_mut()
                    .with_config()
                    .limit(MAX_BODY)
                    .read_to_string();
                match (status, body) {
                    (200..=299, Ok(body)) => {
                        return serde_json::from_str(&body).map_err(|e| PullError::Json {
                            url: url.to_string(),
                            message: e.to_string(),
                        })
                    }
                    (200..=299, Err(e)) => PullError::Transport {
                        url: url.to_string(),
                        message: e.to_string(),
                    },
                    (s, body) => {
                        let e = PullError::Http {
                            url: url.to_string(),
                            status: s,
                            body: body.unwrap_or_default(),
                        };
                        if s < 500 && s != 429 {
                            return Err(e);
                        }
                        e
                    }
                }
            }
            Err(e) => PullError::Transport {
                url: url.to_string(),
                message: e.to_string(),
            },
        };
        if attempt >= max_attempts {
            return Err(retryable_err);
        }
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(BACKOFF_MAX);
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_sanitises() {
        assert_eq!(
            url_encode("WorkflowType='a b' AND x=\"1\""),
            "WorkflowType%3D%27a%20b%27%20AND%20x%3D%221%22"
        );
        assert_eq!(url_encode("ab+/="), "ab%2B%2F%3D");
        assert_eq!(sanitize("a/b c:d"), "a_b_c_d");
        assert_eq!(sanitize(".."), "_..");
        let f = history_file(Path::new("out"), "wf/1", "r-1");
        assert_eq!(f, Path::new("out/wf_1__r-1.json"));
    }

    #[test]
    fn retries_are_bounded_on_refused_connections() {
        // Port 9 on loopback is closed: every attempt fails fast; the call must give up.
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let t = std::time::Instant::now();
        let e = get_json_with(&agent, "http://127.0.0.1:9/x", 3, Duration::from_millis(10))
            .unwrap_err();
        assert!(matches!(e, PullError::Transport { .. }), "{e}");
        assert!(t.elapsed() >= Duration::from_millis(30) && t.elapsed() < Duration::from_secs(10));
    }
}
