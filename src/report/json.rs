//! The machine-readable report of one run (`volsim run -o json`): a stable, documented JSON
//! document built from a `RunReport` — the headline row, the per-queue / per-class groups, the
//! SLO verdicts, seed, scenario digest and decision-log hash. Format `volsim-run/v1`; fields are
//! only ever appended (a removal or a change of meaning bumps the version). See `docs/cli.md`.
//!
//! Depends on `report` (`RunReport`, the group writer shared with `summary.json`) and `serde`.
//! No I/O: callers print or write the string.

use serde::Serialize;

use super::slo::{slo_column, slo_limit, SloVerdict};
use super::write::GroupJson;
use super::RunReport;

/// The format tag of `volsim run -o json`.
pub const RUN_FORMAT: &str = "volsim-run/v1";

#[derive(Serialize)]
struct ScenarioJson<'a> {
    name: &'a str,
    /// The path as given on the command line.
    path: &'a str,
    digest: &'a str,
}

/// One metric of the headline row; `value` is null when the metric does not exist in this run
/// (e.g. a percentile of a group where no job became gang-ready).
#[derive(Serialize)]
struct HeadlineJson {
    metric: String,
    value: f64,
}

/// One SLO verdict, in the headline's units (seconds for durations, a count for `starved`).
#[derive(Serialize)]
pub struct SloJson<'a> {
    /// The expression as written in the scenario (`"interactive.p95_wait <= 30s"`).
    pub slo: &'a str,
    pub target: &'a str,
    pub metric: &'static str,
    /// Where the target was found: `queue`, `class`, `workflow` or `unknown` (fails).
    pub scope: &'static str,
    /// The headline column the SLO reads.
    pub column: String,
    pub limit: f64,
    /// null when the metric does not exist (the SLO then fails).
    pub value: Option<f64>,
    pub pass: bool,
}

impl<'a> From<&'a SloVerdict> for SloJson<'a> {
    fn from(v: &'a SloVerdict) -> Self {
        SloJson {
            slo: &v.slo.text,
            target: &v.slo.target,
            metric: v.slo.metric.as_str(),
            scope: v.scope.as_str(),
            column: slo_column(&v.slo),
            limit: slo_limit(&v.slo),
            value: v.column_value(),
            pass: v.pass,
        }
    }
}

#[derive(Serialize)]
struct GroupsJson<'a> {
    total: GroupJson<'a>,
    queues: Vec<GroupJson<'a>>,
    classes: Vec<GroupJson<'a>>,
}

#[derive(Serialize)]
struct RunJson<'a> {
    format: &'static str,
    tool_version: &'static str,
    scenario: ScenarioJson<'a>,
    seed: u64,
    decision_hash: String,
    jobs: usize,
    end_s: f64,
    hit_horizon: bool,
    cycles_run: u64,
    cycles_skipped: u64,
    slos_met: bool,
    slos_failed: usize,
    slos: Vec<SloJson<'a>>,
    headline: Vec<HeadlineJson>,
    groups: GroupsJson<'a>,
}

/// Renders `r` as a `volsim-run/v1` document (pretty, trailing newline). `path` is the scenario
/// path as the user gave it. Deterministic: the same run gives the same bytes.
pub fn run_json(r: &RunReport, path: &str) -> String {
    let o = &r.outcome;
    let doc = RunJson {
        format: RUN_FORMAT,
        tool_version: env!("CARGO_PKG_VERSION"),
        scenario: ScenarioJson {
            name: &r.meta.scenario_name,
            path,
            digest: &r.meta.scenario_digest,
        },
        seed: o.seed,
        decision_hash: format!("{:016x}", o.decision_hash),
        jobs: o.jobs.len(),
        end_s: o.end_ms as f64 / 1000.0,
        hit_horizon: o.hit_horizon,
        cycles_run: o.counters.cycles_run,
        cycles_skipped: o.counters.cycles_skipped,
        slos_met: r.slos_met(),
        slos_failed: r.slos.iter().filter(|s| !s.pass).count(),
        slos: r.slos.iter().map(SloJson::from).collect(),
        headline: r
            .headline
            .named()
            .into_iter()
            .map(|(metric, value)| HeadlineJson { metric, value })
            .collect(),
        groups: GroupsJson {
            total: (&r.metrics.total).into(),
            queues: r.metrics.queues.iter().map(GroupJson::from).collect(),
            classes: r.metrics.classes.iter().map(GroupJson::from).collect(),
        },
    };
    pretty(&doc)
}

/// Pretty JSON with a trailing newline. Serializing these plain structs cannot fail (no maps
/// with non-string keys); NaN and infinities become null.
pub fn pretty<T: Serialize>(v: &T) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}
