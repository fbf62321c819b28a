//! Output files of one run: `summary.json`, `jobs.csv`, `queues.csv`, `evictions.csv`,
//! `time_to_reclaim.csv`. New fields are only ever appended (CSV columns at the end, JSON keys
//! after the old ones).
//!
//! Depends on `report` metrics and `sim` output types. Invariant: byte-identical files for the
//! same outcome and meta — structs serialise in declaration order, floats through serde_json's
//! shortest round-trip formatting, rows in outcome order; absent times are empty CSV cells.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write as _};
use std::path::Path;

use serde::Serialize;

use super::reasons::{wait_reasons, ReasonRow};
use super::reclaim::{time_to_reclaim, time_to_reclaim_csv, QueueReclaim};
use super::{metrics, GroupMetrics, Metrics, ReportParams};
use crate::sim::Outcome;

/// Summary schema version; bump on any change of `summary.json`'s shape.
/// 2: appended `failed`, `restarts`, `restart_kills` (groups), `restart_kills` and
/// `time_to_reclaim` (top level). 3: appended `wait_mean_ms` and `after_horizon` (groups).
/// 4: appended `wait_reasons` (top level: wait time by reason per total, queue and class),
/// `total_cpu_milli` and `total_mem_bytes` (cluster capacity), `queue_specs` (name, weight,
/// capability cpu).
pub const SCHEMA_VERSION: u32 = 4;

/// What the caller knows about the run that the outcome does not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    pub scenario_name: String,
    /// Digest of the scenario file (hex), "" when unknown.
    pub scenario_digest: String,
}

#[derive(Serialize)]
pub(super) struct GroupJson<'a> {
    name: &'a str,
    jobs: u64,
    admitted: u64,
    completed: u64,
    gang_ready: u64,
    wait_p50_ms: Option<u64>,
    wait_p95_ms: Option<u64>,
    wait_p99_ms: Option<u64>,
    wait_max_ms: Option<u64>,
    starved: u64,
    evictions: u64,
    mean_share: Option<f64>,
    mean_deserved: Option<f64>,
    failed: u64,
    restarts: u64,
    restart_kills: u64,
    wait_mean_ms: Option<f64>,
    after_horizon: u64,
    /// Jobs by the tier of the HyperNode their gang landed in (only with HyperNodes).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    domain_tiers: BTreeMap<String, u64>,
}

impl<'a> From<&'a GroupMetrics> for GroupJson<'a> {
    fn from(g: &'a GroupMetrics) -> Self {
        GroupJson {
            name: &g.name,
            jobs: g.jobs,
            admitted: g.admitted,
            completed: g.completed,
            gang_ready: g.gang_ready,
            wait_p50_ms: g.waits.p50,
            wait_p95_ms: g.waits.p95,
            wait_p99_ms: g.waits.p99,
            wait_max_ms: g.waits.max,
            starved: g.starved,
            evictions: g.evictions,
            mean_share: g.mean_share,
            mean_deserved: g.mean_deserved,
            failed: g.failed,
            restarts: g.restarts,
            restart_kills: g.restart_kills,
            wait_mean_ms: g.waits.mean,
            after_horizon: g.after_horizon,
            domain_tiers: g
                .domain_tiers
                .iter()
                .map(|(t, n)| (format!("tier {t}"), *n))
                .collect(),
        }
    }
}

/// One queue's time-to-reclaim (`report::reclaim`), durations in ms.
#[derive(Serialize)]
struct ReclaimJson {
    queue: String,
    episodes: u64,
    p50_ms: Option<u64>,
    p95_ms: Option<u64>,
    max_ms: Option<u64>,
    censored: u64,
    censored_age_ms: Option<u64>,
}

impl From<QueueReclaim> for ReclaimJson {
    fn from(r: QueueReclaim) -> Self {
        ReclaimJson {
            queue: r.queue,
            episodes: r.episodes,
            p50_ms: r.p50_ms,
            p95_ms: r.p95_ms,
            max_ms: r.max_ms,
            censored: r.censored,
            censored_age_ms: r.censored_age_ms,
        }
    }
}

#[derive(Serialize)]
struct Summary<'a> {
    schema_version: u32,
    tool: &'static str,
    tool_version: &'static str,
    seed: u64,
    scenario_name: &'a str,
    scenario_digest: &'a str,
    decision_log_hash: String,
    end_ms: u64,
    hit_horizon: bool,
    starve_threshold_ms: u64,
    cycles_run: u64,
    cycles_skipped: u64,
    decisions: u64,
    binds: u64,
    evictions: u64,
    total: GroupJson<'a>,
    queues: Vec<GroupJson<'a>>,
    classes: Vec<GroupJson<'a>>,
    restart_kills: u64,
    time_to_reclaim: Vec<ReclaimJson>,
    wait_reasons: Vec<ReasonJson>,
    total_cpu_milli: i64,
    total_mem_bytes: i64,
    queue_specs: Vec<QueueSpecJson<'a>>,
}

/// A queue's configuration as the run saw it.
#[derive(Serialize)]
struct QueueSpecJson<'a> {
    name: &'a str,
    weight: u32,
    capability_cpu_milli: Option<i64>,
}

/// One reason of one group (`report::reasons`), durations in ms.
#[derive(Serialize)]
struct ReasonJson {
    scope: &'static str,
    name: String,
    reason: String,
    jobs: u64,
    wait_ms: u64,
    share: f64,
}

impl From<&ReasonRow> for ReasonJson {
    fn from(r: &ReasonRow) -> Self {
        ReasonJson {
            scope: r.scope,
            name: r.name.clone(),
            reason: r.reason.clone(),
            jobs: r.jobs,
            wait_ms: r.wait_ms,
            share: r.share,
        }
    }
}

/// Renders `summary.json` (pretty, trailing newline).
pub fn summary_json(o: &Outcome, meta: &Meta, p: &ReportParams) -> String {
    summary_json_of(o, meta, p, &metrics(o, p), &wait_reasons(o))
}

/// [`summary_json`] from the metrics and wait reasons already computed from `o` and `p`
/// (`RunReport` holds them), so they are not computed twice.
pub fn summary_json_of(
    o: &Outcome,
    meta: &Meta,
    p: &ReportParams,
    m: &Metrics,
    reasons: &[ReasonRow],
) -> String {
    let s = Summary {
        schema_version: SCHEMA_VERSION,
        tool: "volsim",
        tool_version: env!("CARGO_PKG_VERSION"),
        seed: o.seed,
        scenario_name: &meta.scenario_name,
        scenario_digest: &meta.scenario_digest,
        decision_log_hash: format!("{:016x}", o.decision_hash),
        end_ms: o.end_ms,
        hit_horizon: o.hit_horizon,
        starve_threshold_ms: p.starve_threshold_ms,
        cycles_run: o.counters.cycles_run,
        cycles_skipped: o.counters.cycles_skipped,
        decisions: o.counters.decisions,
        binds: o.counters.binds,
        evictions: o.counters.evictions,
        total: (&m.total).into(),
        queues: m.queues.iter().map(GroupJson::from).collect(),
        classes: m.classes.iter().map(GroupJson::from).collect(),
        restart_kills: o.counters.restart_kills,
        time_to_reclaim: time_to_reclaim(o)
            .into_iter()
            .map(ReclaimJson::from)
            .collect(),
        wait_reasons: reasons.iter().map(ReasonJson::from).collect(),
        total_cpu_milli: o.total_cpu_milli,
        total_mem_bytes: o.total_mem_bytes,
        queue_specs: o
            .queues
            .iter()
            .enumerate()
            .map(|(i, name)| QueueSpecJson {
                name,
                weight: o.queue_weights.get(i).copied().unwrap_or(0),
                capability_cpu_milli: o.queue_capability_cpu_milli.get(i).copied().flatten(),
            })
            .collect(),
    };
    let mut out = serde_json::to_string_pretty(&s).unwrap_or_default();
    out.push('\n');
    out
}

fn csv_err(e: csv::Error) -> io::Error {
    io::Error::other(e.to_string())
}

/// Renders `jobs.csv`.
pub fn jobs_csv(o: &Outcome) -> io::Result<Vec<u8>> {
    jobs_csv_to(o, Vec::new())
}

/// Writes the same rows as [`jobs_csv`] to `out` as they are made (no whole-file buffer);
/// returns `out`.
pub fn jobs_csv_to<W: io::Write>(o: &Outcome, out: W) -> io::Result<W> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "id",
        "queue",
        "class",
        "submit",
        "inqueue",
        "first_bind",
        "gang_ready",
        "finish",
        "wait",
        "evictions",
        "restarts",
        "failed",
        "restart_kills",
        "domain_tier",
    ])
    .map_err(csv_err)?;
    // Fields go straight into the writer (numbers through a stack buffer): no string per cell.
    let mut num = Num::default();
    for j in &o.jobs {
        w.write_field(&*j.id).map_err(csv_err)?;
        w.write_field(&*j.queue).map_err(csv_err)?;
        w.write_field(&*j.class).map_err(csv_err)?;
        w.write_field(num.u64(j.submit_ms)).map_err(csv_err)?;
        for t in [
            j.inqueue_ms.get(),
            j.first_bind_ms.get(),
            j.gang_ready_ms.get(),
            j.finish_ms.get(),
            j.wait_ms(),
        ] {
            w.write_field(num.opt(t)).map_err(csv_err)?;
        }
        w.write_field(num.u64(j.evictions.into()))
            .map_err(csv_err)?;
        w.write_field(num.u64(j.restarts.into())).map_err(csv_err)?;
        w.write_field(num.opt(j.failed_ms.get())).map_err(csv_err)?;
        w.write_field(num.u64(j.restart_kills.into()))
            .map_err(csv_err)?;
        w.write_field(num.opt(j.domain_tier.map(u64::from)))
            .map_err(csv_err)?;
        w.write_record(None::<&[u8]>).map_err(csv_err)?;
    }
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}

/// Decimal text of an unsigned number in a reused stack buffer (what `to_string` prints).
#[derive(Default)]
struct Num([u8; 20]);

impl Num {
    fn u64(&mut self, mut v: u64) -> &[u8] {
        let mut i = self.0.len();
        loop {
            i -= 1;
            self.0[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        &self.0[i..]
    }

    /// The number, or an empty cell for `None`.
    fn opt(&mut self, v: Option<u64>) -> &[u8] {
        match v {
            Some(v) => self.u64(v),
            None => &[],
        }
    }
}

/// Renders `queues.csv`: a row per queue whenever it changed (at the first sample point that
/// saw the change); the values hold until the queue's next row or the end of the run.
pub fn queues_csv(o: &Outcome) -> io::Result<Vec<u8>> {
    queues_csv_to(o, Vec::new())
}

/// Writes the same rows as [`queues_csv`] to `out` as they are made (no whole-file buffer);
/// returns `out`.
pub fn queues_csv_to<W: io::Write>(o: &Outcome, out: W) -> io::Result<W> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "time",
        "queue",
        "pending_jobs",
        "inqueue_jobs",
        "running_jobs",
        "allocated_cpu_milli",
        "allocated_mem_bytes",
        "deserved_cpu_milli",
        "deserved_mem_bytes",
    ])
    .map_err(csv_err)?;
    for s in &o.samples {
        let q = o.queues.get(s.queue as usize).cloned().unwrap_or_default();
        w.write_record([
            s.time_ms.to_string(),
            q,
            s.pending_jobs.to_string(),
            s.inqueue_jobs.to_string(),
            s.running_jobs.to_string(),
            s.allocated_cpu_milli.to_string(),
            s.allocated_mem_bytes.to_string(),
            format!("{:.0}", s.deserved_cpu_milli),
            format!("{:.0}", s.deserved_mem_bytes),
        ])
        .map_err(csv_err)?;
    }
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}

/// Renders `evictions.csv`.
pub fn evictions_csv(o: &Outcome) -> io::Result<Vec<u8>> {
    evictions_csv_to(o, Vec::new())
}

/// Writes the same rows as [`evictions_csv`] to `out` as they are made (no whole-file buffer);
/// returns `out`.
pub fn evictions_csv_to<W: io::Write>(o: &Outcome, out: W) -> io::Result<W> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "time",
        "task",
        "job",
        "queue",
        "action",
        "preemptor_job",
        "preemptor_queue",
        "ran_ms",
        "wasted_core_s",
        "wasted_gpu_s",
        "restart_trigger",
        "min_member",
        "gang_broken",
    ])
    .map_err(csv_err)?;
    for e in &o.evictions {
        w.write_record([
            e.time_ms.to_string(),
            e.task.clone(),
            e.job.clone(),
            e.queue.clone(),
            e.action.clone(),
            e.preemptor_job.clone(),
            e.preemptor_queue.clone(),
            e.ran_ms.to_string(),
            format!("{:.3}", e.ran_ms as f64 * e.cpu_milli as f64 / 1e6),
            format!("{:.3}", e.ran_ms as f64 * e.gpu_milli as f64 / 1e6),
            e.restart_trigger.clone(),
            e.min_member.to_string(),
            (e.gang_broken as u8).to_string(),
        ])
        .map_err(csv_err)?;
    }
    w.into_inner().map_err(|e| io::Error::other(e.to_string()))
}

/// Writes the five files into `dir` (created if missing).
pub fn write_outputs(o: &Outcome, dir: &Path, meta: &Meta, p: &ReportParams) -> io::Result<()> {
    write_outputs_of(o, dir, meta, p, &metrics(o, p), &wait_reasons(o))
}

/// [`write_outputs`] with the metrics and wait reasons already computed from `o` and `p`.
pub fn write_outputs_of(
    o: &Outcome,
    dir: &Path,
    meta: &Meta,
    p: &ReportParams,
    m: &Metrics,
    reasons: &[ReasonRow],
) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    fs::write(
        dir.join("summary.json"),
        summary_json_of(o, meta, p, m, reasons),
    )?;
    // The per-job and per-sample files grow with the run: streamed to disk, never held whole.
    let file = |name: &str| fs::File::create(dir.join(name)).map(io::BufWriter::new);
    jobs_csv_to(o, file("jobs.csv")?)?.flush()?;
    queues_csv_to(o, file("queues.csv")?)?.flush()?;
    evictions_csv_to(o, file("evictions.csv")?)?.flush()?;
    fs::write(dir.join("time_to_reclaim.csv"), time_to_reclaim_csv(o)?)?;
    Ok(())
}
