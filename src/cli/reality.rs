//! `volsim reality SCENARIO`: prediction meets reality in one command. (1) `live run --backend
//! kube --apply-queues` of the scenario against a real Volcano control plane; (2) the
//! submissions that run actually made (observed submit times, the same jobs) replayed in the
//! simulator with the same scenario (`runner::run`, the one call site); (3) the comparison per
//! queue and class — predicted vs observed wait mean/p50/p95, MAE of the per-job gang-ready
//! time, Kendall's tau of the admission orders — and the jobs that differ most.
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
use volsim::model::parse_duration;
use volsim::workload::mapping::MappingTable;
use volsim::workload::TraceJob;

use super::live::{kube_replay, live_setup, KubeTarget};

#[derive(Args)]
pub struct RealityArgs {
    /// The scenario TOML (cluster, queues, priority classes, workload).
    scenario: PathBuf,
    /// API server URL (overrides the kubeconfig's server).
    #[arg(long)]
    api_server: Option<String>,
    /// kubeconfig file (default: $KUBECONFIG unless --api-server is given).
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// kubeconfig context instead of its current-context.
    #[arg(long)]
    kube_context: Option<String>,
    /// Bearer token file (else env VOLSIM_KUBE_TOKEN).
    #[arg(long)]
    kube_token_file: Option<PathBuf>,
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
    let target = KubeTarget {
        scenario: a.scenario.clone(),
        api_server: a.api_server.clone(),
        kubeconfig: a.kubeconfig.clone(),
        kube_context: a.kube_context.clone(),
        kube_token_file: a.kube_token_file.clone(),
        namespace: a.namespace.clone(),
        speed: a.speed,
        out: a.out.clone(),
    };

    // 1. reality: the live run against the cluster
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

    // 2. prediction: the same submissions, at the times they were made, in the simulator
    let mut replay = sc;
    replay.jobs = submitted;
    replay.horizon_ms = None;
    if let Some(seed) = a.seed {
        replay.seed = seed;
    }
    let result = volsim::run::run(&volsim::run::RunSpec { scenario: replay });
    let simulated: Vec<WaitRow> = result
        .outcome
        .jobs
        .iter()
        .map(|j| WaitRow {
            job: j.id.clone(),
            queue: j.queue.clone(),
            class: j.class.clone(),
            submit_ms: j.submit_ms,
            wait_ms: j.gang_ready_ms.map(|g| g.saturating_sub(j.submit_ms)),
        })
        .collect();

    // 3. the comparison
    let mut report = format!(
        "reality: {} — simulator replay of the {} observed submissions vs the cluster\n",
        a.scenario.display(),
        observed.len()
    );
    report.push_str(&compare::compare(&simulated, &observed));
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
