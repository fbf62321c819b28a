//! Prometheus text exposition of the service's state, and the CSV outputs of a live session
//! (predictions, observations, the observed trace in the canonical CSV format, evictions, the
//! twin's decision log). Computed from the records on demand, so they can never drift from them.
//!
//! Depends on `workload` (canonical CSV writer).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::model::{EvictionSeen, JobView};
use super::service::{Record, Service};
use super::LiveError;
use crate::workload::{write_csv_trace, TraceJob};

fn observed_wait(r: &Record, v: &Option<JobView>) -> Option<u64> {
    v.as_ref()?
        .gang_ready_ms
        .map(|g| g.saturating_sub(r.job.submit_ms))
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The `/metrics` body.
pub fn render(svc: &Service) -> String {
    let obs = svc.observed();
    let mut out = String::new();
    let c = &svc.counters;
    let _ = writeln!(out, "# HELP volsim_live_submissions_total Accepted submissions (new idempotency keys) per queue.\n# TYPE volsim_live_submissions_total counter");
    for (q, n) in &c.submissions {
        sample(&mut out, "volsim_live_submissions_total", q, n);
    }
    for (name, help, v) in [
        (
            "volsim_live_idempotent_replays_total",
            "Submissions answered from an existing key.",
            c.replays,
        ),
        (
            "volsim_live_rejected_total",
            "Requests refused (bad request or key conflict).",
            c.rejected,
        ),
        (
            "volsim_live_held_total",
            "Submissions held by --hold-above.",
            c.held,
        ),
        (
            "volsim_live_released_total",
            "Held submissions released once their forecast fell under --hold-above.",
            c.released,
        ),
        (
            "volsim_live_send_failures_total",
            "Backend sends that failed after retries.",
            c.send_failures,
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
        );
    }
    // per queue: admissions, observed waits, prediction error
    #[derive(Default)]
    struct Q {
        admitted: u64,
        wait_sum: f64,
        waits: Vec<u64>,
        err_sum: f64,
        err_n: u64,
    }
    let mut qs: BTreeMap<String, Q> = BTreeMap::new();
    for (r, v) in &obs {
        let q = qs.entry(r.job.queue.clone()).or_default();
        if let Some(w) = observed_wait(r, v) {
            q.admitted += 1;
            q.wait_sum += w as f64 / 1000.0;
            q.waits.push(w);
            if let Some(p) = r.predicted_wait_ms {
                q.err_sum += (p as f64 - w as f64).abs() / 1000.0;
                q.err_n += 1;
            }
        }
    }
    let _ = writeln!(out, "# HELP volsim_live_admissions_total Jobs whose gang became ready.\n# TYPE volsim_live_admissions_total counter");
    for (name, q) in &qs {
        sample(&mut out, "volsim_live_admissions_total", name, q.admitted);
    }
    let _ = writeln!(out, "# HELP volsim_live_wait_seconds Observed wait (submit to gang ready).\n# TYPE volsim_live_wait_seconds summary");
    for (name, q) in qs.iter_mut() {
        q.waits.sort_unstable();
        for (label, p) in [("0.5", 50), ("0.95", 95)] {
            if let Some(w) = percentile(&q.waits, p) {
                let _ = writeln!(
                    out,
                    "volsim_live_wait_seconds{{queue=\"{}\",quantile=\"{label}\"}} {}",
                    esc(name),
                    w as f64 / 1000.0
                );
            }
        }
        sample(&mut out, "volsim_live_wait_seconds_sum", name, q.wait_sum);
        sample(&mut out, "volsim_live_wait_seconds_count", name, q.admitted);
    }
    let _ = writeln!(out, "# HELP volsim_live_prediction_abs_error_seconds |predicted - observed| wait.\n# TYPE volsim_live_prediction_abs_error_seconds summary");
    for (name, q) in &qs {
        sample(
            &mut out,
            "volsim_live_prediction_abs_error_seconds_sum",
            name,
            q.err_sum,
        );
        sample(
            &mut out,
            "volsim_live_prediction_abs_error_seconds_count",
            name,
            q.err_n,
        );
    }
    out
}

/// One sample line `metric{queue="…"} value`.
fn sample(out: &mut String, metric: &str, queue: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "{metric}{{queue=\"{}\"}} {value}", esc(queue));
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[u64], p: u32) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p as usize * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// Header of the wait CSVs (`predictions.csv`, `observed.csv`) that `volsim compare` reads.
pub const WAITS_HEADER: &str = "job,key,queue,class,submit_ms,wait_ms";

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes `predictions.csv`, `observed.csv`, `observed-trace.csv`, `evictions.csv` and
/// `decisions.log` into the service's output directory.
pub fn write_outputs(svc: &Service) -> Result<(), LiveError> {
    Outputs::snapshot(svc).write()
}

/// What `write_outputs` writes, copied out of the service so the files can be written without
/// holding the service lock.
pub struct Outputs {
    dir: PathBuf,
    obs: Vec<(Record, Option<JobView>)>,
    evictions: Vec<EvictionSeen>,
    log: String,
}

impl Outputs {
    pub fn snapshot(svc: &Service) -> Outputs {
        Outputs {
            dir: svc.out_dir().to_path_buf(),
            obs: svc.observed(),
            evictions: svc.evictions(),
            log: svc.model.log().join("\n"),
        }
    }

    /// Formats and writes the files (each atomically, mode 0640).
    pub fn write(self) -> Result<(), LiveError> {
        let dir = &self.dir;
        let mut pred = format!("{WAITS_HEADER}\n");
        let mut seen = format!("{WAITS_HEADER}\n");
        let mut trace: Vec<TraceJob> = Vec::new();
        for (r, v) in &self.obs {
            let row = |w: Option<u64>| {
                format!(
                    "{},{},{},{},{},{}\n",
                    r.job.id,
                    csv_field(&r.key),
                    csv_field(&r.job.queue),
                    csv_field(&r.job.class),
                    r.job.submit_ms,
                    w.map(|w| w.to_string()).unwrap_or_default()
                )
            };
            pred.push_str(&row(r.predicted_wait_ms));
            if r.held {
                continue;
            }
            seen.push_str(&row(observed_wait(r, v)));
            let mut j = r.job.clone();
            if let Some(v) = v {
                j.submit_ms = v.submit_ms;
                if let (Some(g), Some(f)) = (v.gang_ready_ms, v.finish_ms) {
                    j.duration_ms = f.saturating_sub(g);
                }
            }
            trace.push(j);
        }
        let mut ev = String::from("time_ms,pod,job,action\n");
        for e in &self.evictions {
            let _ = writeln!(ev, "{},{},{},{}", e.time_ms, e.pod, e.job, e.action);
        }
        let mut tbuf = Vec::new();
        write_csv_trace(&trace, &mut tbuf)
            .map_err(|e| LiveError::io(&dir.join("observed-trace.csv"), e))?;
        for (name, body) in [
            ("predictions.csv", pred.into_bytes()),
            ("observed.csv", seen.into_bytes()),
            ("observed-trace.csv", tbuf),
            ("evictions.csv", ev.into_bytes()),
            ("decisions.log", self.log.into_bytes()),
        ] {
            write_atomic(&dir.join(name), &body)?;
        }
        Ok(())
    }
}

fn write_atomic(path: &Path, body: &[u8]) -> Result<(), LiveError> {
    let tmp = path.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        let mut o = fs::OpenOptions::new();
        o.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o640);
        let mut f = o.open(&tmp)?;
        f.write_all(body)?;
        fs::rename(&tmp, path)
    };
    write().map_err(|e| LiveError::io(path, e))
}
