//! `volsim trace {import,stats,pull,gen}`: workload files in and out. Thin wrappers over
//! `workload::{temporal, workflow, csv_trace, swf, openb, peers_synth}`.

use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};

use volsim::workload::{self, temporal, workflow, OpenbOptions, SwfOptions, Tally};

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// Temporal workflow histories (files or directories) → workflow file (JSON lines).
    Temporal,
    /// Temporal Cloud's Workflow History Export (protobuf files, or the export's directory
    /// tree) → workflow file (JSON lines); duplicate histories are counted and dropped.
    TemporalExport,
    /// Standard Workload Format → canonical trace CSV.
    Swf,
    /// Alibaba GPU 2023 openb pod list → canonical trace CSV.
    Openb,
    /// `kubectl get nodes,queues,podgroups,vcjobs,pods,priorityclasses -A -o yaml|json` dumps
    /// → a scenario directory (`--out DIR`: scenario.toml, cluster.json, jobs.csv).
    Kube,
}

#[derive(Subcommand)]
pub enum TraceCmd {
    /// Import traces into volsim's canonical files.
    Import {
        #[arg(long, value_enum)]
        format: Format,
        /// Input files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        /// Make every skip an error: the first bad file (temporal) or history (temporal-export),
        /// or the first record that would be skipped (swf, openb). Default: count, name and go
        /// on.
        #[arg(long)]
        strict: bool,
        /// SWF only: which field names the queue — auto (queue, else partition), queue,
        /// partition or none (everything in `default`). Names come from the header.
        #[arg(long, default_value = "auto")]
        queue_from: String,
        /// kube only: run time of a job with no `volsim.dev/duration` annotation and no
        /// `sleep N` in its containers (Go duration); without it such jobs are skipped.
        #[arg(long)]
        default_duration: Option<String>,
    },
    /// Counts, rates, durations and fan-out per workflow / activity type of a workflow file.
    Stats { file: PathBuf },
    /// Download every workflow history from a live Temporal server's HTTP API.
    Pull {
        #[arg(long)]
        temporal_http: String,
        #[arg(long, default_value = "default")]
        namespace: String,
        /// A visibility query, e.g. "WorkflowType='session-start-workflow'".
        #[arg(long)]
        query: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a peers-synth-v1 benchmark trace (identical to ../shared/bench/gen_synth_trace.py).
    Gen {
        /// steady, backlog or gang.
        #[arg(long)]
        scenario: String,
        #[arg(long)]
        jobs: usize,
        #[arg(long)]
        nodes: u32,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(cmd: TraceCmd) -> i32 {
    match cmd {
        TraceCmd::Import {
            format,
            paths,
            out,
            strict,
            queue_from,
            default_duration,
        } => match format {
            Format::Kube => import_kube(&paths, &out, strict, default_duration.as_deref()),
            _ => import(format, &paths, &out, strict, &queue_from),
        },
        TraceCmd::Stats { file } => match workflow::read_jsonl(&file) {
            Ok(wfs) => {
                print!("{}", workflow::stats(&wfs));
                0
            }
            Err(e) => super::fail(e),
        },
        TraceCmd::Pull {
            temporal_http,
            namespace,
            query,
            out,
        } => match temporal::pull(&temporal_http, &namespace, query.as_deref(), &out) {
            Ok(r) => {
                println!(
                    "listed {} executions; downloaded {} histories ({} events); {} already present",
                    r.executions.len(),
                    r.downloaded,
                    r.events,
                    r.skipped_existing
                );
                0
            }
            Err(e) => super::fail(e),
        },
        TraceCmd::Gen {
            scenario,
            jobs,
            nodes,
            seed,
            out,
        } => {
            let sc = match scenario.parse::<workload::peers_synth::PeersScenario>() {
                Ok(s) => s,
                Err(e) => return super::fail(e),
            };
            if jobs > workload::peers_synth::MAX_JOBS {
                return super::fail(format!(
                    "--jobs: {jobs} exceeds the limit of {} jobs",
                    workload::peers_synth::MAX_JOBS
                ));
            }
            let trace = workload::peers_synth::generate(sc, jobs, nodes, seed);
            write_csv(&trace, &out)
        }
    }
}

fn write_csv(jobs: &[workload::TraceJob], out: &PathBuf) -> i32 {
    let file = match std::fs::File::create(out) {
        Ok(f) => f,
        Err(e) => return super::fail(format!("cannot create {}: {e}", out.display())),
    };
    match workload::write_csv_trace(jobs, std::io::BufWriter::new(file)) {
        Ok(()) => {
            eprintln!("wrote {} jobs to {}", jobs.len(), out.display());
            0
        }
        Err(e) => super::fail(e),
    }
}

fn import(format: Format, paths: &[PathBuf], out: &PathBuf, strict: bool, queue_from: &str) -> i32 {
    match format {
        Format::Temporal => {
            let report = match temporal::import_paths(paths, strict) {
                Ok(r) => r,
                Err(e) => return super::fail(e),
            };
            for e in &report.errors {
                eprintln!("error: {e}");
            }
            for w in &report.warnings {
                eprintln!("warning: {w}");
            }
            for (f, why) in &report.skipped {
                eprintln!("skipped: {}: {why}", f.display());
            }
            if let Err(e) = workflow::write_jsonl(out, &report.workflows) {
                return super::fail(e);
            }
            let acts: usize = report
                .workflows
                .iter()
                .map(|w| w.activity_count_deep())
                .sum();
            println!(
                "imported {} workflows ({} activities) from {} files into {}; {} files failed, {} skipped",
                report.workflows.len(),
                acts,
                report.files,
                out.display(),
                report.errors.len(),
                report.skipped.len()
            );
            if report.errors.is_empty() {
                0
            } else {
                2
            }
        }
        Format::TemporalExport => import_temporal_export(paths, out, strict),
        Format::Kube => unreachable!("handled by import_kube"),
        Format::Swf | Format::Openb => {
            let queue_source = match queue_from.parse() {
                Ok(q) => q,
                Err(e) => return super::fail(format!("--queue-from {e}")),
            };
            let mut jobs = Vec::new();
            let mut total = Tally::default();
            for p in paths {
                let r = match format {
                    Format::Swf => {
                        let opts = SwfOptions {
                            strict,
                            queue_source,
                            ..SwfOptions::default()
                        };
                        workload::read_swf(p, &opts).map(|x| (x.jobs, x.report.tally))
                    }
                    _ => {
                        let opts = OpenbOptions {
                            strict,
                            ..OpenbOptions::default()
                        };
                        workload::read_openb(p, &opts).map(|x| (x.jobs, x.report.tally))
                    }
                };
                match r {
                    Ok((j, tally)) => {
                        eprintln!("{}: {tally}", p.display());
                        for line in tally.example_lines() {
                            eprintln!("  skipped: {line}");
                        }
                        total.merge(&tally);
                        jobs.extend(j);
                    }
                    Err(e) => return super::fail(e),
                }
            }
            if paths.len() > 1 {
                eprintln!("total: {total}");
            }
            write_csv(&jobs, out)
        }
    }
}

fn import_kube(paths: &[PathBuf], out: &Path, strict: bool, default_duration: Option<&str>) -> i32 {
    let rep = match volsim::scenario::snapshot::import_snapshot(paths, out, default_duration) {
        Ok(r) => r,
        Err(e) => return super::fail(e),
    };
    for w in &rep.warnings {
        eprintln!("warning: {w}");
    }
    for line in rep.tally.example_lines() {
        eprintln!("  skipped: {line}");
    }
    println!(
        "imported {} nodes, {} queues, {} running and {} pending jobs into {} ({})",
        rep.nodes,
        rep.queues,
        rep.running,
        rep.pending,
        out.display(),
        rep.tally
    );
    if strict && rep.tally.skipped_total() > 0 {
        eprintln!(
            "error: --strict: {} objects skipped",
            rep.tally.skipped_total()
        );
        return 2;
    }
    0
}

fn import_temporal_export(paths: &[PathBuf], out: &Path, strict: bool) -> i32 {
    let report = match temporal::import_export_paths(paths, strict) {
        Ok(r) => r,
        Err(e) => return super::fail(e),
    };
    let r = &report.import;
    for e in &r.errors {
        eprintln!("error: {e}");
    }
    for w in &r.warnings {
        eprintln!("warning: {w}");
    }
    for (f, why) in &r.skipped {
        eprintln!("skipped: {}: {why}", f.display());
    }
    if let Err(e) = workflow::write_jsonl(out, &r.workflows) {
        return super::fail(e);
    }
    let acts: usize = r.workflows.iter().map(|w| w.activity_count_deep()).sum();
    println!(
        "imported {} workflows ({} executions, {} activities) from {} export files into {}",
        r.workflows.len(),
        r.execution_count(),
        acts,
        r.files,
        out.display()
    );
    println!("histories: {}", report.tally());
    if r.errors.is_empty() {
        0
    } else {
        2
    }
}
