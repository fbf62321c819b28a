//! Watching the cluster for the `kube` backend: parsing PodGroups, Volcano Jobs, pods and
//! events (evictions, and pods the API server refused) into `Observation`s, and the
//! list-then-watch loop that resumes from the last `resourceVersion` (relisting on 410 Gone).
//! Each observation is sent with the `Instant` it arrived, so the backend stamps it with the
//! model time it happened at, however late it is folded in. Pure parsers are unit-tested in
//! `kube_rest_tests.rs`; the loop runs on its own thread and only sends observations.
//!
//! Depends on serde_json and ureq; nothing else in the crate.

use std::io::{BufRead, BufReader};
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::manifest::GROUP_NAME_ANNOTATION;

/// What a watch event tells about a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// PodGroup phase of job `job`.
    Phase { job: String, phase: String },
    /// Pod of job `job` in `phase`.
    Pod {
        job: String,
        pod: String,
        phase: String,
    },
    /// Eviction event on pod `pod`.
    Evicted { pod: String, reason: String },
    /// Volcano Job `job` in `status.state.phase` (Pending, Running, Completed, Failed, …).
    /// Mirrors volcano's job controller, which deletes a finished Job's PodGroup (still
    /// `Running`) at once, so completion is read here, not from the PodGroup.
    JobPhase { job: String, phase: String },
    /// The controller of job `job` could not create its pods: the API server refused them
    /// (403 Forbidden, e.g. a missing PriorityClass; 422 Invalid). `message` is the API
    /// server's reason.
    Rejected { job: String, message: String },
}

/// An observation and the instant it arrived.
pub type Stamped = (Instant, Observation);

fn s<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(Value::as_str)
}

/// A PodGroup's job (the owning vcjob's name, else the PodGroup's) and phase.
pub fn parse_podgroup(v: &Value) -> Option<Observation> {
    let own = v
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .and_then(|o| {
            o.iter()
                .find(|r| s(r, "/kind") == Some("Job"))
                .and_then(|r| s(r, "/name"))
        });
    let job = own.or_else(|| s(v, "/metadata/name"))?.to_string();
    let phase = s(v, "/status/phase").unwrap_or("Pending").to_string();
    Some(Observation::Phase { job, phase })
}

/// A pod's job: Volcano's `volcano.sh/job-name` label, batch/v1's `job-name`, or the group.
pub fn parse_pod(v: &Value) -> Option<Observation> {
    let job = s(v, "/metadata/labels/volcano.sh~1job-name")
        .or_else(|| s(v, "/metadata/labels/batch.kubernetes.io~1job-name"))
        .or_else(|| s(v, "/metadata/labels/job-name"))
        .or_else(|| {
            v.pointer("/metadata/annotations")
                .and_then(|a| a.get(GROUP_NAME_ANNOTATION))
                .and_then(Value::as_str)
        })?;
    Some(Observation::Pod {
        job: job.to_string(),
        pod: s(v, "/metadata/name")?.to_string(),
        phase: s(v, "/status/phase").unwrap_or("Pending").to_string(),
    })
}

/// A Volcano Job's name and `status.state.phase`.
pub fn parse_vcjob(v: &Value) -> Option<Observation> {
    Some(Observation::JobPhase {
        job: s(v, "/metadata/name")?.to_string(),
        phase: s(v, "/status/state/phase").unwrap_or("Pending").to_string(),
    })
}

/// The API server's own words inside a controller's `FailedCreate` message (the Go-printed
/// `StatusError{… Message:"…", Reason:…}`), else the message's first 300 characters.
pub fn refusal_reason(message: &str) -> String {
    let inner = message.split_once("Message:\"").and_then(|(_, rest)| {
        rest.split_once("\", Reason:")
            .map(|(m, _)| m.replace("\\\"", "\""))
    });
    inner.unwrap_or_else(|| message.chars().take(300).collect())
}

/// Whether a `FailedCreate` message says the API server refused the pod for good (403
/// Forbidden or 422 Invalid), as opposed to a transient failure the controller retries.
pub fn is_refusal(message: &str) -> bool {
    [
        "Code:403",
        "Code:422",
        "is forbidden",
        "is invalid",
        "Forbidden",
        "Invalid value",
    ]
    .iter()
    .any(|k| message.contains(k))
}

/// An eviction/preemption event (`reason` Evict or Preempted on a Pod), or a `FailedCreate`
/// event on one of our Jobs (Volcano or `batch/v1`) whose pods the API server refused.
pub fn parse_event(v: &Value) -> Option<Observation> {
    let reason = s(v, "/reason")?;
    if reason == "FailedCreate" && s(v, "/involvedObject/kind") == Some("Job") {
        let message = s(v, "/message").unwrap_or("");
        if !is_refusal(message) {
            return None;
        }
        return Some(Observation::Rejected {
            job: s(v, "/involvedObject/name")?.to_string(),
            message: refusal_reason(message),
        });
    }
    if !matches!(reason, "Evict" | "Preempted" | "Evicted")
        || s(v, "/involvedObject/kind") != Some("Pod")
    {
        return None;
    }
    Some(Observation::Evicted {
        pod: s(v, "/involvedObject/name")?.to_string(),
        reason: reason.to_string(),
    })
}

/// One watch stream line: `(type, object)`.
pub fn parse_watch_line(line: &str) -> Option<(String, Value)> {
    let v: Value = serde_json::from_str(line).ok()?;
    Some((s(&v, "/type")?.to_string(), v.get("object")?.clone()))
}

/// Turns one listed or watched object into an observation.
pub type ParseFn = fn(&Value) -> Option<Observation>;

/// List, then watch from the list's resourceVersion; on a dropped stream resume from the last
/// seen version; on 410 Gone (or any error) relist after a short pause. `DELETED` events are
/// not observations (a deleted PodGroup still says `Running`). Returns when the receiver is
/// gone.
pub fn watch_loop(
    agent: &ureq::Agent,
    url: &str,
    token: Option<&str>,
    parse: ParseFn,
    tx: &Sender<Stamped>,
) {
    let sep = if url.contains('?') { '&' } else { '?' };
    let get = |u: &str| {
        let mut r = agent.get(u);
        if let Some(t) = token {
            r = r.header("Authorization", &format!("Bearer {t}"));
        }
        r.call()
    };
    loop {
        let rv = match get(url) {
            Ok(mut resp) if resp.status().as_u16() == 200 => {
                let v: Value = resp.body_mut().read_json().unwrap_or(Value::Null);
                for item in v
                    .get("items")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(o) = parse(item) {
                        if tx.send((Instant::now(), o)).is_err() {
                            return;
                        }
                    }
                }
                s(&v, "/metadata/resourceVersion")
                    .unwrap_or("0")
                    .to_string()
            }
            _ => {
                std::thread::sleep(Duration::from_secs(2));
                continue;
            }
        };
        let mut rv = rv;
        'watch: loop {
            let started = Instant::now();
            let wurl = format!(
                "{url}{sep}watch=1&allowWatchBookmarks=true&resourceVersion={rv}&timeoutSeconds=60"
            );
            let Ok(resp) = get(&wurl) else { break };
            if resp.status().as_u16() != 200 {
                break; // 410 Gone and friends: relist
            }
            let reader = BufReader::new(resp.into_body().into_reader());
            for line in reader.lines() {
                let Ok(line) = line else { break };
                let Some((ty, obj)) = parse_watch_line(&line) else {
                    continue;
                };
                if ty == "ERROR" {
                    break 'watch; // e.g. 410 Gone sent as an event: relist
                }
                if let Some(v) = s(&obj, "/metadata/resourceVersion") {
                    rv = v.to_string();
                }
                if ty != "BOOKMARK" && ty != "DELETED" {
                    if let Some(o) = parse(&obj) {
                        if tx.send((Instant::now(), o)).is_err() {
                            return;
                        }
                    }
                }
            }
            // a stream that ended at once (proxy, server restart): do not spin
            if started.elapsed() < Duration::from_secs(1) {
                std::thread::sleep(Duration::from_millis(500));
            }
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
