//! `volsim compare PREDICTED OBSERVED [--per-job] [-o text|json]`: predicted vs observed waits
//! (CSV files written by `volsim live`), per queue and class, through `live::compare`; `-o json`
//! prints the `volsim-compare/v1` document (docs/cli.md). Exit codes: 0 compared, 1 no job has
//! both waits, 2 unreadable input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Args;
use volsim::live::compare;

#[derive(Args)]
pub struct CompareArgs {
    /// Predicted waits (`predictions.csv` of a live run).
    predicted: PathBuf,
    /// Observed waits (`observed.csv`).
    observed: PathBuf,
    /// Also list every job: predicted, observed and absolute error.
    #[arg(long)]
    per_job: bool,
    /// What to print on stdout: the tables (text) or one JSON document (json, format
    /// volsim-compare/v1, see docs/cli.md).
    #[arg(short = 'o', long = "output", value_enum, default_value_t = super::Output::Text)]
    output: super::Output,
}

/// One job in `volsim compare -o json --per-job` (waits in ms, null when not gang-ready).
#[derive(serde::Serialize)]
struct JobJson<'a> {
    job: &'a str,
    queue: &'a str,
    class: &'a str,
    predicted_wait_ms: Option<u64>,
    observed_wait_ms: Option<u64>,
}

#[derive(serde::Serialize)]
struct CompareJson<'a> {
    format: &'static str,
    predicted: String,
    observed: String,
    predicted_rows: usize,
    observed_rows: usize,
    compared: usize,
    groups: Vec<compare::GroupCompare>,
    /// Only with --per-job: every predicted job also in the observed file, in predicted order.
    #[serde(skip_serializing_if = "Option::is_none")]
    jobs: Option<Vec<JobJson<'a>>>,
}

fn compare_json(a: &CompareArgs, p: &[compare::WaitRow], o: &[compare::WaitRow]) -> String {
    let (compared, groups) = compare::compare_groups(p, o);
    let jobs = a.per_job.then(|| {
        let by_job: BTreeMap<&str, &compare::WaitRow> =
            o.iter().map(|r| (r.job.as_str(), r)).collect();
        p.iter()
            .filter_map(|r| {
                by_job.get(r.job.as_str()).map(|ob| JobJson {
                    job: &r.job,
                    queue: &r.queue,
                    class: &r.class,
                    predicted_wait_ms: r.wait_ms,
                    observed_wait_ms: ob.wait_ms,
                })
            })
            .collect()
    });
    volsim::report::json::pretty(&CompareJson {
        format: "volsim-compare/v1",
        predicted: a.predicted.display().to_string(),
        observed: a.observed.display().to_string(),
        predicted_rows: p.len(),
        observed_rows: o.len(),
        compared,
        groups,
        jobs,
    })
}

/// Runs `volsim compare PREDICTED OBSERVED`.
pub fn compare_cmd(a: &CompareArgs) -> i32 {
    let read = |p: &Path| compare::read_waits(p).map_err(|e| e.to_string());
    match (read(&a.predicted), read(&a.observed)) {
        (Ok(p), Ok(o)) => {
            if a.output == super::Output::Json {
                print!("{}", compare_json(a, &p, &o));
            } else {
                print!("{}", compare::compare(&p, &o));
                if a.per_job {
                    print!("{}", compare::per_job(&p, &o));
                }
            }
            if compare::comparable(&p, &o) == 0 {
                eprintln!(
                    "error: {} vs {}: {}",
                    a.predicted.display(),
                    a.observed.display(),
                    compare::nothing_to_compare(&p, &o)
                );
                return 1;
            }
            0
        }
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            2
        }
    }
}
