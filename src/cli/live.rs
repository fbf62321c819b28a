//! `volsim live run|serve` and `volsim compare`: argument parsing, scenario → `LiveSetup`,
//! backend construction, exit codes. Secrets (bearer tokens) are read here and never printed.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use volsim::live::backend::{Backend, DryRunBackend, Retry, TwinBackend};
use volsim::live::kube_config::{self, ApiAccess};
use volsim::live::kube_rest::{KubeBackend, KubeConfig};
use volsim::live::manifest::ObjectMode;
use volsim::live::service::{Service, ServiceConfig};
use volsim::live::{http, replay, server, LiveSetup};
use volsim::model::parse_duration;
use volsim::workload::mapping::MappingTable;

#[derive(Subcommand)]
pub enum LiveCmd {
    /// Replay the scenario's workload in wall-clock time (× --speed) against a backend.
    Run {
        #[command(flatten)]
        common: Common,
        /// Stop waiting for running jobs after this much real time (Go duration).
        #[arg(long, default_value = "10m")]
        drain: String,
        /// Print a progress line to stderr every 2 s (default: only when stderr is a terminal).
        #[arg(long)]
        progress: bool,
    },
    /// Serve the submission API (POST /v1/jobs, GET/DELETE /v1/jobs/{name}, /metrics, /healthz).
    Serve {
        #[command(flatten)]
        common: Common,
        /// Listen address; non-loopback requires a bearer token.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// File holding the bearer token (else env VOLSIM_TOKEN).
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// Largest accepted request body, bytes.
        #[arg(long, default_value_t = 64 * 1024)]
        max_body: usize,
        /// Request handlers running at once.
        #[arg(long, default_value_t = 4)]
        threads: usize,
        /// Most connections open at once (more get 503 and are closed).
        #[arg(long, default_value_t = 256)]
        max_connections: usize,
        /// Time allowed to send a request's headers, and its body (Go duration).
        #[arg(long, default_value = "10s")]
        read_timeout: String,
        /// Close a connection without read or write progress for this long (Go duration).
        #[arg(long, default_value = "30s")]
        idle_timeout: String,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendKind {
    Kube,
    Twin,
    DryRun,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ObjectKind {
    Vcjob,
    Podgroup,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchedulerKind {
    Volcano,
    Native,
}

#[derive(Args)]
pub struct Common {
    /// The scenario TOML (cluster, queues, conf, workload classes).
    #[arg(long)]
    scenario: PathBuf,
    #[arg(long, value_enum)]
    backend: BackendKind,
    /// Wall-clock speed-up (model time runs K× faster).
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Output directory: journal, manifests, predictions/observed CSVs, observed trace.
    #[arg(long, default_value = "live-out")]
    out: PathBuf,
    /// Hold (do not submit) jobs whose predicted wait exceeds this (Go duration, e.g. 5m).
    #[arg(long)]
    hold_above: Option<String>,
    /// Activity → job mapping table (TOML, `[[rule]]`), for `activity_type` submissions.
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// Objects per job: a Volcano Job, or a PodGroup + batch/v1 Job.
    #[arg(long, value_enum, default_value = "vcjob")]
    object: ObjectKind,
    /// `native` submits plain batch/v1 Jobs for the default scheduler.
    #[arg(long, value_enum, default_value = "volcano")]
    scheduler: SchedulerKind,
    #[arg(long, default_value = "volsim")]
    namespace: String,
    /// Image of the placeholder pods (they sleep for the job's duration).
    #[arg(long, default_value = "busybox:1.36")]
    image: String,
    #[command(flatten)]
    kube: KubeArgs,
    /// kube: create the scenario's queues first.
    #[arg(long)]
    apply_queues: bool,
    /// kube: server-side dry run (`dryRun=All`): validated by the API server, nothing persisted.
    #[arg(long)]
    server_dry_run: bool,
}

impl Common {
    fn backend_is_twin(&self) -> bool {
        matches!(self.backend, BackendKind::Twin)
    }
}

fn setup(c: &Common) -> Result<LiveSetup, String> {
    let sc = volsim::scenario::load(&c.scenario).map_err(|e| e.to_string())?;
    let mapping = match &c.mapping {
        None => MappingTable::default(),
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            toml::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?
        }
    };
    Ok(live_setup(sc, mapping))
}

/// What live mode needs from a loaded scenario (classes: each class's first job as template).
pub(crate) fn live_setup(sc: volsim::scenario::Scenario, mapping: MappingTable) -> LiveSetup {
    let mut classes = BTreeMap::new();
    for j in &sc.jobs {
        if !j.class.is_empty() {
            classes.entry(j.class.clone()).or_insert_with(|| j.clone());
        }
    }
    LiveSetup {
        nodes: sc.nodes,
        queues: sc.queues,
        priority_classes: sc.priority_classes,
        conf: sc.conf,
        params: sc.params.clone(),
        seed: sc.seed,
        classes,
        mapping,
        jobs: sc.jobs,
    }
}

/// Largest `--speed`: model time a million times faster than real time.
pub const MAX_SPEED: f64 = 1e6;

/// Refuses a token file that other users may read (`chmod 600` it).
fn check_private(f: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(f)
            .map_err(|e| format!("cannot read token file {}: {e}", f.display()))?
            .permissions()
            .mode();
        if mode & 0o004 != 0 {
            return Err(format!(
                "token file {} is readable by others (mode {:o}): chmod 600 it",
                f.display(),
                mode & 0o777
            ));
        }
    }
    Ok(())
}

fn read_secret(file: Option<&Path>, env: &str) -> Result<Option<String>, String> {
    if let Some(f) = file {
        if env == "VOLSIM_TOKEN" {
            check_private(f)?;
        }
        let t = std::fs::read_to_string(f)
            .map_err(|e| format!("cannot read token file {}: {e}", f.display()))?;
        return Ok(Some(t.trim().to_string()).filter(|t| !t.is_empty()));
    }
    Ok(std::env::var(env)
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty()))
}

/// Where the API server is and how to authenticate: `--kubeconfig` (or `$KUBECONFIG` when no
/// `--api-server` is given) through its context, `--api-server` overriding its server, and
/// `--kube-token-file` / `VOLSIM_KUBE_TOKEN` overriding its token.
pub fn api_access(
    api_server: Option<&str>,
    kubeconfig: Option<&Path>,
    context: Option<&str>,
    token_file: Option<&Path>,
) -> Result<ApiAccess, String> {
    let env_kc = std::env::var("KUBECONFIG").ok();
    let file = match (kubeconfig, api_server) {
        (Some(f), _) => Some(f.to_path_buf()),
        (None, None) => kube_config::env_kubeconfig(env_kc.as_deref()),
        (None, Some(_)) => None,
    };
    let mut access = match &file {
        Some(f) => kube_config::load(f, context).map_err(|e| e.to_string())?,
        None if context.is_some() => {
            return Err("--kube-context needs --kubeconfig (or $KUBECONFIG)".into())
        }
        None => ApiAccess {
            server: "http://127.0.0.1:8001".into(),
            source: "the default (kubectl proxy)".into(),
            ..Default::default()
        },
    };
    if let Some(url) = api_server {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "--api-server {url:?}: expected an http:// or https:// URL"
            ));
        }
        access.server = url.trim_end_matches('/').to_string();
        access.source = format!("--api-server ({})", access.source);
    }
    if let Some(t) = read_secret(token_file, "VOLSIM_KUBE_TOKEN")? {
        access.token = Some(t);
    }
    Ok(access)
}

/// What a kube run assumes about time, said once at start-up (stderr).
pub fn time_scale_note(speed: f64, period_ms: u64) -> String {
    let wall_period = period_ms as f64 / speed;
    format!(
        "kube: --speed {speed}: model time runs {speed}x the wall clock; pods run their model \
         duration / {speed} (annotation volsim.dev/duration-ms); the model schedules every \
         {period_ms} ms of model time, i.e. vc-scheduler --schedule-period {wall_period} ms of \
         wall time (realvolcano: SCHEDULE_PERIOD={wall_period}ms); API, controller and watch \
         latencies are not scaled and count {speed}x in model time"
    )
}

/// How to reach a Kubernetes API server: the flags `live` and `reality` share.
#[derive(Args, Clone)]
pub struct KubeArgs {
    /// kube: API server URL (e.g. `kubectl proxy` at http://127.0.0.1:8001). Overrides the
    /// kubeconfig's server. Default: the kubeconfig's, else http://127.0.0.1:8001.
    #[arg(long)]
    pub api_server: Option<String>,
    /// kube: kubeconfig file (JSON or YAML): server, token/tokenFile, CA, client certificate of
    /// its current context. Default: $KUBECONFIG, unless --api-server is given.
    #[arg(long)]
    pub kubeconfig: Option<PathBuf>,
    /// kube: the kubeconfig context to use instead of its current-context.
    #[arg(long)]
    pub kube_context: Option<String>,
    /// kube: bearer token file for the API server (else env VOLSIM_KUBE_TOKEN; overrides the
    /// kubeconfig's token).
    #[arg(long)]
    pub kube_token_file: Option<PathBuf>,
}

/// How `volsim reality` reaches the cluster (the `kube` flags of `live run`).
pub(crate) struct KubeTarget {
    pub scenario: PathBuf,
    pub kube: KubeArgs,
    pub namespace: String,
    pub speed: f64,
    pub out: PathBuf,
}

/// `live run --backend kube --apply-queues` of `setup`'s trace for `volsim reality`: the
/// service after the run (its records and observations), or the run's error (refused jobs
/// included).
pub(crate) fn kube_replay(
    t: &KubeTarget,
    setup: LiveSetup,
    drain: Duration,
) -> Result<Service, String> {
    let c = Common {
        scenario: t.scenario.clone(),
        backend: BackendKind::Kube,
        speed: t.speed,
        out: t.out.clone(),
        hold_above: None,
        mapping: None,
        object: ObjectKind::Vcjob,
        scheduler: SchedulerKind::Volcano,
        namespace: t.namespace.clone(),
        image: "busybox:1.36".into(),
        kube: t.kube.clone(),
        apply_queues: true,
        server_dry_run: false,
    };
    let jobs = setup.jobs.clone();
    let (mut svc, refusals) = service_checked(&c, setup)?;
    let sum = replay::run(&mut svc, &jobs, drain).map_err(|e| e.to_string())?;
    println!(
        "live run: submitted {} (replayed {}), finished {}; outputs in {}",
        sum.submitted,
        sum.replayed,
        sum.finished,
        t.out.display()
    );
    check_run(&svc, refusals.as_deref())?;
    Ok(svc)
}

/// A service and, for `kube`, the shared list of jobs the cluster refused.
type Built = (Service, Option<Arc<Mutex<Vec<String>>>>);

fn service(c: &Common, setup: LiveSetup) -> Result<Service, String> {
    service_checked(c, setup).map(|(s, _)| s)
}

fn service_checked(c: &Common, setup: LiveSetup) -> Result<Built, String> {
    let mode = match (c.scheduler, c.object) {
        (SchedulerKind::Native, _) => ObjectMode::Native,
        (_, ObjectKind::Vcjob) => ObjectMode::VcJob,
        (_, ObjectKind::Podgroup) => ObjectMode::PodGroup,
    };
    let hold_above_ms = c
        .hold_above
        .as_deref()
        .map(parse_duration)
        .transpose()
        .map_err(|e| format!("--hold-above: {e}"))?;
    if !(c.speed.is_finite() && c.speed > 0.0 && c.speed <= MAX_SPEED) {
        return Err(format!(
            "--speed {}: must be a finite number with 0 < speed <= {MAX_SPEED} (limit in docs/limits.md)",
            c.speed
        ));
    }
    let mut refusals = None;
    let backend: Box<dyn Backend> = match c.backend {
        BackendKind::Twin => Box::new(TwinBackend),
        BackendKind::DryRun => Box::new(
            DryRunBackend::new(&c.out, mode)
                .map_err(|e| e.to_string())?
                .with_speed(c.speed),
        ),
        BackendKind::Kube => {
            let access = api_access(
                c.kube.api_server.as_deref(),
                c.kube.kubeconfig.as_deref(),
                c.kube.kube_context.as_deref(),
                c.kube.kube_token_file.as_deref(),
            )?;
            let kc = KubeConfig {
                access,
                namespace: c.namespace.clone(),
                mode,
                server_dry_run: c.server_dry_run,
                speed: c.speed,
            };
            let mut kb = KubeBackend::new(kc).map_err(|e| e.to_string())?;
            eprintln!(
                "{}",
                time_scale_note(c.speed, setup.params.schedule_period_ms)
            );
            let queues = c.apply_queues.then_some(&setup.queues[..]);
            for note in kb
                .prepare(&setup.priority_classes, queues)
                .map_err(|e| e.to_string())?
            {
                eprintln!("note: {note}");
            }
            refusals = Some(kb.refusals());
            Box::new(kb)
        }
    };
    let cfg = ServiceConfig {
        out_dir: c.out.clone(),
        namespace: c.namespace.clone(),
        image: c.image.clone(),
        hold_above_ms,
        speed: c.speed,
        retry: Retry::default(),
        object_mode: mode,
    };
    let svc = Service::open(Arc::new(setup), cfg, backend).map_err(|e| e.to_string())?;
    Ok((svc, refusals))
}

/// Real time between two progress lines of `live run`.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// One progress line of `live run` (stderr).
pub fn progress_line(p: &replay::Progress) -> String {
    format!(
        "live: {} submitted {}/{}, pending {}, running {}, finished {}; model time {}{}",
        if p.draining { "draining:" } else { "" },
        p.submitted,
        p.total,
        p.pending,
        p.running,
        p.finished,
        volsim::model::format_duration(p.model_ms),
        if p.lag_ms > 0 {
            format!(
                ", behind the wall clock by {:.1} s of model time",
                p.lag_ms as f64 / 1000.0
            )
        } else {
            String::new()
        }
    )
    .replace("live:  ", "live: ")
}

/// Exit code of a `live run` stopped by SIGINT/SIGTERM (outputs written): 128 + SIGINT.
pub const EXIT_INTERRUPTED: i32 = 130;

/// Runs `volsim live …`; returns the exit code.
pub fn live(cmd: LiveCmd) -> i32 {
    match run_live(cmd) {
        Ok(true) => EXIT_INTERRUPTED,
        Ok(false) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

/// `Ok(true)`: a `live run` stopped by a signal (outputs written).
fn run_live(cmd: LiveCmd) -> Result<bool, String> {
    // outputs, journal and manifests: no access for others
    #[cfg(unix)]
    // SAFETY: umask only changes this process's file-creation mask.
    unsafe {
        libc::umask(0o027);
    }
    match cmd {
        LiveCmd::Run {
            common,
            drain,
            progress,
        } => {
            let drain =
                Duration::from_millis(parse_duration(&drain).map_err(|e| format!("--drain: {e}"))?);
            let setup = setup(&common)?;
            let jobs = setup.jobs.clone();
            let setup_period = setup.params.schedule_period_ms;
            let (mut svc, refusals) = service_checked(&common, setup)?;
            // SIGINT / SIGTERM stop the run; its outputs are still written
            server::stop_on_signals();
            let show = progress || std::io::IsTerminal::is_terminal(&std::io::stderr());
            let mut on_progress = |p: &replay::Progress| eprintln!("{}", progress_line(p));
            let mut watch = replay::Watch {
                every: if show { PROGRESS_EVERY } else { Duration::MAX },
                on_progress: &mut on_progress,
                stop: &server::signalled,
            };
            let sum = replay::run_watched(&mut svc, &jobs, drain, &mut watch)
                .map_err(|e| e.to_string())?;
            if sum.interrupted {
                eprintln!(
                    "interrupted: stopped after {} of {} submissions; outputs written to {} \
                     (run again with the same --out to resume without duplicates)",
                    sum.submitted + sum.replayed,
                    jobs.len(),
                    common.out.display()
                );
            }
            println!(
                "submitted {} (replayed {}, held {}), finished {}; outputs in {}",
                sum.submitted,
                sum.replayed,
                sum.held,
                sum.finished,
                common.out.display()
            );
            if sum.max_lag_ms > setup_period {
                println!(
                    "lag: the run fell behind the wall clock by up to {:.1} s of model time{}",
                    sum.max_lag_ms as f64 / 1000.0,
                    if common.backend_is_twin() {
                        " (the twin's decisions are unaffected: submissions keep their trace times)"
                    } else {
                        "; the cluster saw those submissions late"
                    }
                );
            }
            if sum.interrupted {
                return Ok(true);
            }
            check_run(&svc, refusals.as_deref()).map(|()| false)
        }
        LiveCmd::Serve {
            common,
            listen,
            token_file,
            max_body,
            threads,
            max_connections,
            read_timeout,
            idle_timeout,
        } => {
            let dur = |flag: &str, v: &str| -> Result<Duration, String> {
                let ms = parse_duration(v).map_err(|e| format!("{flag}: {e}"))?;
                if ms == 0 {
                    return Err(format!("{flag}: must be positive"));
                }
                Ok(Duration::from_millis(ms))
            };
            let limits = server::Limits {
                max_body,
                max_connections: max_connections.max(1),
                read_timeout: dur("--read-timeout", &read_timeout)?,
                idle_timeout: dur("--idle-timeout", &idle_timeout)?,
                ..server::Limits::default()
            };
            let token = read_secret(token_file.as_deref(), "VOLSIM_TOKEN")?;
            http::check_listen(&listen, token.as_deref()).map_err(|e| e.to_string())?;
            let setup = setup(&common)?;
            let svc = Arc::new(Mutex::new(service(&common, setup)?));
            let cfg = http::ServeConfig {
                listen,
                token,
                threads,
                limits,
            };
            server::stop_on_signals();
            let running = http::start(svc, cfg).map_err(|e| e.to_string())?;
            println!("listening on http://{}", running.addr);
            let _ = std::io::stdout().flush();
            running.join().map_err(|e| e.to_string())?;
            eprintln!("volsim: stopped; outputs written");
            Ok(false)
        }
    }
}

/// After a run: jobs the cluster refused are an error (exit 2, each named with the API
/// server's reason); jobs never observed gang-ready are reported on stderr.
fn check_run(svc: &Service, refusals: Option<&Mutex<Vec<String>>>) -> Result<(), String> {
    let obs = svc.observed();
    let sent = obs.iter().filter(|(r, _)| !r.held && !r.deleted).count();
    let unseen: Vec<&str> = obs
        .iter()
        .filter(|(r, v)| {
            !r.held && !r.deleted && v.as_ref().is_none_or(|v| v.gang_ready_ms.is_none())
        })
        .map(|(r, _)| r.job.id.as_str())
        .collect();
    if !unseen.is_empty() && svc.backend_kind() != "dry-run" {
        eprintln!(
            "note: {} of {sent} jobs were never observed gang-ready (first: {})",
            unseen.len(),
            unseen[0]
        );
    }
    let refused = refusals
        .map(|r| r.lock().map(|v| v.clone()).unwrap_or_default())
        .unwrap_or_default();
    if refused.is_empty() {
        return Ok(());
    }
    let mut msg = format!(
        "{} job(s) rejected by the cluster (their pods were refused):",
        refused.len()
    );
    for r in refused.iter().take(20) {
        msg.push_str("\n  ");
        msg.push_str(r);
    }
    if refused.len() > 20 {
        msg.push_str(&format!("\n  … and {} more", refused.len() - 20));
    }
    Err(msg)
}
