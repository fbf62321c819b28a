//! `volsim reality SCENARIO`: prediction meets reality in one command. (1) `live run --backend
//! kube --apply-queues` of the scenario against a real Volcano control plane; (2) the
//! submissions that run actually made (observed submit times, the same jobs) replayed in the
//! simulator with the same scenario (`runner::run`, the one call site); (3) the comparison per
//! queue and class — predicted vs observed wait mean/p50/p95, MAE of the per-job gang-ready
//! time, Kendall's tau of the admission orders — and the jobs that differ most.
//!
//! The replay models the cluster the run talked to, in model time: its scheduler cycle
//! interval (`--schedule-period`, wall time × `--speed`) and its control-plane latencies
//! (`--controller-delay`, `--bind-latency`, wall time × `--speed`; measured with
//! `scripts/calibrate.py`, docs/calibration.md). Unset, they come from the scenario's `[sim]`
//! (already model time). The `EngineParams` of the replay are printed. `--observed FILE` skips
//! step (1): the waits of FILE (an earlier run's `observed.csv`) and the jobs of the
//! `journal.jsonl` beside it. `--compat PROFILE` replays with a compatibility profile
//! (`policy::conf::Compat`, e.g. the harness's Volcano 7a5d24ecc) instead of v1.15;
//! `--seeds N` adds prediction bands over N tie-break seeds (`live::ensemble`).
//!
//! Depends on `cli::live` (the kube run), `live::compare`, `runner`, `scenario`. Writes
//! `<out>/simulated.csv` (same format as `observed.csv`, for `volsim compare`) and
//! `<out>/reality.txt` (the report). Exit codes: 0 ok, 1 nothing comparable, 2 bad input,
//! cluster errors or refused jobs.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use volsim::live::compare::{self, WaitRow};
use volsim::live::metrics::WAITS_HEADER;
use volsim::model::{parse_duration, EngineParams};
use volsim::workload::mapping::MappingTable;
use volsim::workload::TraceJob;

use super::live::{kube_replay, live_setup, KubeArgs, KubeTarget};

#[derive(Args)]
pub struct RealityArgs {
    /// The scenario TOML (cluster, queues, priority classes, workload).
    scenario: PathBuf,
    #[command(flatten)]
    kube: KubeArgs,
    #[arg(long, default_value = "volsim")]
    namespace: String,
    /// Wall-clock speed-up: model time runs K× faster (set vc-scheduler's period to 1 s / K).
    #[arg(long, default_value_t = 10.0)]
    speed: f64,
    /// Real time to wait for running jobs after the last submission (Go duration).
    #[arg(long, default_value = "10m")]
    drain: String,
    /// Output directory (the live run's files, simulated.csv, reality.txt).
    #[arg(long, default_value = "reality-out")]
    out: PathBuf,
    /// How many of the most different jobs to list.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Seed of the simulator replay (default: the scenario's).
    #[arg(long)]
    seed: Option<u64>,
    /// The cluster's scheduler cycle interval in wall time: vc-scheduler's --schedule-period
    /// plus its cycle duration (Volcano restarts the period after each cycle). The replay
    /// schedules every (this × --speed) of model time. Default: the scenario's
    /// `[sim] schedule_period` (model time).
    #[arg(long, value_name = "WALL")]
    schedule_period: Option<String>,
    /// PodGroup Inqueue → the job controller created the pods, in wall time (× --speed in the
    /// replay). Default: the scenario's `[sim] controller_delay` (model time).
    #[arg(long, value_name = "WALL")]
    controller_delay: Option<String>,
    /// Start of the binding cycle → pod Running, in wall time (× --speed in the replay).
    /// Default: the scenario's `[sim] bind_latency` (model time).
    #[arg(long, value_name = "WALL")]
    bind_latency: Option<String>,
    /// Width of the spread of bind → Running over pods, centred on the bind latency, in wall
    /// time (× --speed in the replay): a gang's pods go Running and finish at different
    /// times. Default: the scenario's `[sim] bind_spread` (model time).
    #[arg(long, value_name = "WALL")]
    bind_spread: Option<String>,
    /// Also replay N times with the tie-break seeds SEED, SEED+1, … (SEED: --seed, else the
    /// scenario's) and report, per queue, the band of predicted mean and p95 waits (median,
    /// p10–p90) and where the observed figure falls in it. Volcano breaks equal node scores at
    /// random, so on a fragmenting cluster one replay is one draw.
    #[arg(long, value_name = "N")]
    seeds: Option<u32>,
    /// With --seeds: each of those replays also moves every job's run time by an offset
    /// uniform in [-WALL, +WALL] (× --speed), drawn from its seed and the job — a real
    /// control plane starts and finishes pods with a spread (bind → Running 14–108 ms wall,
    /// p10–p90, on the realvolcano harness), and which of two completions a cycle sees first
    /// decides which queue's gang takes the freed nodes. Default 0 (tie-breaks only).
    #[arg(long, value_name = "WALL", default_value = "0ms")]
    jitter: String,
    /// Replay with a compatibility profile instead of the scenario's `[scheduler] compat`
    /// (default: v1.15): `volcano-7a5d24ecc` — the Volcano of the realvolcano harness — or
    /// `volcano-7a5d24ecc:A,F` for some of its items (DRIFT.md letters), `none` for v1.15.
    #[arg(long, value_name = "PROFILE")]
    compat: Option<String>,
    /// Do not run against a cluster: compare with the `observed.csv` of an earlier `reality`
    /// or `live run --backend kube` (the jobs come from the `journal.jsonl` beside it; the
    /// file's submit times are replayed).
    #[arg(long, value_name = "FILE")]
    observed: Option<PathBuf>,
}

/// A wall-clock flag in model time: `wall × speed`, rounded to the millisecond.
fn model_ms(flag: &str, wall: &str, speed: f64) -> Result<u64, String> {
    let ms = parse_duration(wall).map_err(|e| format!("--{flag}: {e}"))?;
    let m = (ms as f64 * speed).round();
    if m > 1e12 {
        return Err(format!(
            "--{flag} {wall} at --speed {speed}: over 10^12 ms of model time"
        ));
    }
    Ok(m as u64)
}

/// The replay's `EngineParams`: the scenario's `[sim]` with the flags given (wall × speed).
fn replay_params(a: &RealityArgs, base: &EngineParams) -> Result<EngineParams, String> {
    let mut p = base.clone();
    if let Some(w) = &a.schedule_period {
        p.schedule_period_ms = model_ms("schedule-period", w, a.speed)?;
        if p.schedule_period_ms == 0 {
            return Err(format!(
                "--schedule-period {w}: must be at least 1 ms of model time"
            ));
        }
    }
    if let Some(w) = &a.controller_delay {
        p.controller_delay_ms = model_ms("controller-delay", w, a.speed)?;
    }
    if let Some(w) = &a.bind_latency {
        p.bind_latency_ms = model_ms("bind-latency", w, a.speed)?;
    }
    if let Some(w) = &a.bind_spread {
        p.bind_spread_ms = model_ms("bind-spread", w, a.speed)?;
    }
    Ok(p)
}

/// One line naming the replay's timing, in model ms and in the cluster's wall ms.
pub fn params_line(p: &EngineParams, speed: f64) -> String {
    let w = |m: u64| m as f64 / speed;
    let mut line = format!(
        "replay EngineParams (model ms; wall ms at --speed {speed}): schedule_period {} ({:.1}), \
         controller_delay {} ({:.1}), bind_latency {} ({:.1}), eviction_grace {}, vcjob_mode {}",
        p.schedule_period_ms,
        w(p.schedule_period_ms),
        p.controller_delay_ms,
        w(p.controller_delay_ms),
        p.bind_latency_ms,
        w(p.bind_latency_ms),
        p.eviction_grace_ms,
        p.vcjob_mode
    );
    if p.bind_spread_ms > 0 {
        let spread = p.bind_spread_ms;
        let _ = write!(line, ", bind_spread {spread} ({:.1})", w(spread));
    }
    line
}

/// Step (1) from an earlier run: `file`'s rows (an `observed.csv`, possibly re-measured, e.g. by
/// `scripts/calibrate.py --observed-csv`), and the jobs that run submitted — from the
/// `journal.jsonl` beside `file` — at `file`'s submit times. A row naming no journaled job is
/// an error.
fn from_observed(file: &std::path::Path) -> Result<(Vec<WaitRow>, Vec<TraceJob>), String> {
    use volsim::live::journal::Entry;
    let rows = compare::read_waits(file).map_err(|e| e.to_string())?;
    let jpath = file
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join("journal.jsonl");
    let text = std::fs::read_to_string(&jpath).map_err(|e| {
        format!(
            "{}: {e} (--observed needs the journal of the run beside its observed.csv)",
            jpath.display()
        )
    })?;
    let mut by_id = std::collections::BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let e: Entry = serde_json::from_str(line)
            .map_err(|e| format!("{}: line {}: {e}", jpath.display(), i + 1))?;
        if let Entry::Submit { job, held, .. } = e {
            if !held {
                let j = job.to_job();
                by_id.insert(j.id.clone(), j);
            }
        }
    }
    let mut submitted = Vec::with_capacity(rows.len().min(by_id.len()));
    for (i, r) in rows.iter().enumerate() {
        let Some(j) = by_id.get(r.job.as_str()) else {
            return Err(format!(
                "{}: line {}: job {:?} was not submitted in {} (another run?)",
                file.display(),
                i + 2,
                r.job,
                jpath.display()
            ));
        };
        let mut j = j.clone();
        j.submit_ms = r.submit_ms;
        submitted.push(j);
    }
    Ok((rows, submitted))
}

/// Runs `volsim reality`; returns the exit code.
pub fn main(a: RealityArgs) -> i32 {
    match reality(&a) {
        Ok(code) => code,
        Err(e) => super::fail(e),
    }
}

fn wait_row(job: &TraceJob, wait_ms: Option<u64>) -> WaitRow {
    WaitRow {
        job: job.id.clone(),
        queue: job.queue.clone(),
        class: job.class.clone(),
        submit_ms: job.submit_ms,
        wait_ms,
    }
}

fn reality(a: &RealityArgs) -> Result<i32, String> {
    if !(a.speed.is_finite() && a.speed > 0.0) {
        return Err("--speed must be a positive number".into());
    }
    let drain =
        Duration::from_millis(parse_duration(&a.drain).map_err(|e| format!("--drain: {e}"))?);
    let sc = volsim::scenario::load(&a.scenario).map_err(|e| e.to_string())?;
    if !sc.workflows.is_empty() {
        return Err(format!(
            "{}: workload.workflows cannot be replayed against a cluster by `reality` \
             (its submissions depend on the simulated finish times); use a trace or classes",
            a.scenario.display()
        ));
    }
    let params = replay_params(a, &sc.params)?;
    let jitter_ms = model_ms("jitter", &a.jitter, a.speed)?;
    let compat = match &a.compat {
        Some(c) => volsim::policy::conf::Compat::parse(c).map_err(|e| format!("--compat: {e}"))?,
        None => sc.conf.compat,
    };
    let (observed, submitted) = match &a.observed {
        Some(file) => from_observed(file)?,
        None => observe(a, &sc, drain)?,
    };

    // 2. prediction: the same submissions, at the times they were made, in the simulator
    let mut replay = sc;
    replay.jobs = submitted;
    replay.horizon_ms = None;
    replay.params = params;
    replay.conf.compat = compat;
    if let Some(seed) = a.seed {
        replay.seed = seed;
    }
    let simulated = replay_waits(&replay);

    // 3. the comparison
    let mut report = format!(
        "reality: {} — simulator replay of the {} observed submissions vs the cluster\n",
        a.scenario.display(),
        observed.len()
    );
    let _ = writeln!(report, "{}", params_line(&replay.params, a.speed));
    let _ = writeln!(
        report,
        "replay scheduler model: {}",
        if compat.is_v1_15() {
            "Volcano v1.15 (compat none)".to_string()
        } else {
            format!("compat {compat} (DRIFT.md items of the harness's Volcano)")
        }
    );
    report.push_str(&compare::compare(&simulated, &observed));
    let _ = writeln!(report);
    report.push_str(&compare::targets(
        &simulated,
        &observed,
        replay.params.schedule_period_ms,
    ));
    if let Some(n) = a.seeds.filter(|&n| n > 0) {
        let first = replay.seed;
        let runs: Vec<Vec<WaitRow>> = (0..n as u64)
            .map(|k| {
                let mut r = replay.clone();
                r.seed = first.wrapping_add(k);
                volsim::live::jitter::jitter_durations(&mut r.jobs, r.seed, jitter_ms);
                replay_waits(&r)
            })
            .collect();
        let mut names = format!("{first}..{}", first.wrapping_add(n as u64 - 1));
        if jitter_ms > 0 {
            let _ = write!(names, ", run times jittered by ±{jitter_ms} model ms");
        }
        let _ = writeln!(report);
        report.push_str(&volsim::live::ensemble::report(
            &runs,
            &observed,
            &names,
            replay.params.schedule_period_ms,
        ));
    }
    let _ = writeln!(report);
    report.push_str(&compare::most_different(&simulated, &observed, a.top));
    print!("{report}");
    let mut w = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = WAITS_HEADER.split(',').collect();
    let rows = std::iter::once(header.iter().map(|h| h.to_string()).collect::<Vec<_>>()).chain(
        simulated.iter().map(|r| {
            vec![
                r.job.clone(),
                r.job.clone(),
                r.queue.clone(),
                r.class.clone(),
                r.submit_ms.to_string(),
                r.wait_ms.map(|w| w.to_string()).unwrap_or_default(),
            ]
        }),
    );
    for row in rows {
        w.write_record(&row).map_err(|e| e.to_string())?;
    }
    let csv = w.into_inner().map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&a.out).map_err(|e| format!("{}: {e}", a.out.display()))?;
    for (name, body) in [("simulated.csv", csv), ("reality.txt", report.into_bytes())] {
        let p = a.out.join(name);
        std::fs::write(&p, body).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    if compare::comparable(&simulated, &observed) == 0 {
        eprintln!(
            "error: {}",
            compare::nothing_to_compare(&simulated, &observed)
        );
        return Ok(1);
    }
    Ok(0)
}

/// The simulator's waits for `replay` (one run through `run::run`).
fn replay_waits(replay: &volsim::scenario::Scenario) -> Vec<WaitRow> {
    let result = volsim::run::run(&volsim::run::RunSpec {
        scenario: replay.clone(),
    });
    result
        .outcome
        .jobs
        .iter()
        .map(|j| WaitRow {
            job: j.id.clone(),
            queue: j.queue.to_string(),
            class: j.class.to_string(),
            submit_ms: j.submit_ms,
            wait_ms: j.gang_ready_ms.get().map(|g| g.saturating_sub(j.submit_ms)),
        })
        .collect()
}

/// Step (1): the live run against the cluster; the observed waits and the jobs as submitted.
fn observe(
    a: &RealityArgs,
    sc: &volsim::scenario::Scenario,
    drain: Duration,
) -> Result<(Vec<WaitRow>, Vec<TraceJob>), String> {
    let target = KubeTarget {
        scenario: a.scenario.clone(),
        kube: a.kube.clone(),
        namespace: a.namespace.clone(),
        speed: a.speed,
        out: a.out.clone(),
    };
    let svc = kube_replay(
        &target,
        live_setup(sc.clone(), MappingTable::default()),
        drain,
    )?;
    let mut observed = Vec::new();
    let mut submitted = Vec::new();
    for (r, v) in svc.observed() {
        if r.held || r.deleted {
            continue;
        }
        let wait = v
            .as_ref()
            .and_then(|v| v.gang_ready_ms)
            .map(|g| g.saturating_sub(r.job.submit_ms));
        observed.push(wait_row(&r.job, wait));
        submitted.push(r.job);
    }
    Ok((observed, submitted))
}
