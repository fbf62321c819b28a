//! `volsim capacity SCENARIO --vary FIELD --range LO..HI [--slo "<q|class>.<metric> <= v"]…
//! [--replications R] [--find min|max] [--step S] [--set PATH=VALUE]…`: bisection for the smallest (or largest)
//! value meeting every SLO (default: the scenario's SLOs), printing the trace, monotonicity
//! warnings and the answer with its margin (or, with `-o json`, the `volsim-capacity/v1`
//! document; the probe trace still goes to stderr). Exit codes: 0 answer found, 1 no value in
//! the range meets the SLOs, 2 bad input.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;
use volsim::report::json::pretty;
use volsim::report::slo::{slo_column, slo_limit};
use volsim::scenario::parse_slo;
use volsim::sweep::capacity::{self, Answer, Find, Query};

use super::Output;

#[derive(Args)]
pub struct CapacityArgs {
    /// The scenario TOML.
    scenario: PathBuf,
    /// The field to vary (any sweep path, e.g. nodes.worker.count).
    #[arg(long)]
    vary: String,
    /// LO..HI (integers, or reals when either bound has a '.').
    #[arg(long)]
    range: String,
    /// An SLO, "<queue|class>.<metric> <= <value>" (repeatable; default: the scenario's SLOs).
    #[arg(long)]
    slo: Vec<String>,
    /// Seeds per probed value; a value passes only if every replication meets every SLO.
    #[arg(long, default_value_t = 1)]
    replications: u32,
    /// min: smallest passing value (more helps); max: largest (more hurts, e.g. load).
    #[arg(long, default_value = "min")]
    find: String,
    /// Resolution for real-valued fields (default: range / 64).
    #[arg(long)]
    step: Option<f64>,
    /// Override another field for every probe, PATH=VALUE (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// What to print on stdout: the trace and answer (text) or one JSON document (json, format
    /// volsim-capacity/v1, see docs/cli.md).
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
}

/// The worst value of one SLO over a probe's replications, in the headline's unit.
#[derive(Serialize)]
struct WorstJson<'a> {
    slo: &'a str,
    column: String,
    limit: f64,
    /// null when the metric is missing in some replication (the probe then fails).
    worst: Option<f64>,
}

#[derive(Serialize)]
struct ProbeJson<'a> {
    value: f64,
    pass: bool,
    seeds: Vec<u64>,
    decision_hashes: Vec<String>,
    slos: Vec<WorstJson<'a>>,
}

#[derive(Serialize)]
struct CapacityJson<'a> {
    format: &'static str,
    scenario: String,
    field: &'a str,
    lo: f64,
    hi: f64,
    integer: bool,
    find: &'static str,
    replications: u32,
    slos: Vec<&'a str>,
    /// The smallest (find = min) or largest (find = max) passing value; null when none passes.
    answer: Option<f64>,
    /// The answer's probe (worst values are its margins), null without an answer.
    answer_probe: Option<usize>,
    probes: Vec<ProbeJson<'a>>,
    warnings: &'a [String],
}

fn capacity_json(q: &Query, a: &Answer) -> String {
    let probes = a
        .probes
        .iter()
        .map(|p| ProbeJson {
            value: p.value,
            pass: p.pass,
            seeds: p.reps.iter().map(|r| r.seed).collect(),
            decision_hashes: p
                .reps
                .iter()
                .map(|r| format!("{:016x}", r.decision_hash))
                .collect(),
            slos: q
                .slos
                .iter()
                .enumerate()
                .map(|(i, slo)| WorstJson {
                    slo: &slo.text,
                    column: slo_column(slo),
                    limit: slo_limit(slo),
                    worst: p.worst(i),
                })
                .collect(),
        })
        .collect();
    pretty(&CapacityJson {
        format: "volsim-capacity/v1",
        scenario: q.scenario.display().to_string(),
        field: &q.field,
        lo: q.lo,
        hi: q.hi,
        integer: q.integer,
        find: if q.find == Find::Min { "min" } else { "max" },
        replications: q.replications,
        slos: q.slos.iter().map(|s| s.text.as_str()).collect(),
        answer: a.answer.map(|i| a.probes[i].value),
        answer_probe: a.answer,
        probes,
        warnings: &a.warnings,
    })
}

pub fn main(a: CapacityArgs) -> i32 {
    let fail = |m: String| {
        eprintln!("error: {m}");
        2
    };
    let (lo, hi, integer) = match capacity::parse_range(&a.range) {
        Ok(r) => r,
        Err(e) => return fail(format!("--range: {e}")),
    };
    let find = match a.find.as_str() {
        "min" => Find::Min,
        "max" => Find::Max,
        o => return fail(format!("--find {o:?}: expected min or max")),
    };
    let set = match super::check::overrides(&a.set) {
        Ok(s) => s,
        Err(c) => return c,
    };
    let base = match volsim::scenario::load_with_overrides(&a.scenario, None, &set) {
        Ok(s) => s,
        Err(e) => return fail(e.to_string()),
    };
    let slos = if a.slo.is_empty() {
        base.slos.clone()
    } else {
        match a
            .slo
            .iter()
            .map(|s| parse_slo(s))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(s) => s,
            Err(e) => return fail(format!("--slo: {e}")),
        }
    };
    if slos.is_empty() {
        return fail("no SLOs: pass --slo or add slo = [...] to the scenario".into());
    }
    let q = Query {
        scenario: a.scenario.clone(),
        field: a.vary.clone(),
        lo,
        hi,
        integer,
        step: a.step.unwrap_or((hi - lo) / 64.0),
        slos,
        replications: a.replications.max(1),
        find,
        base_seed: base.seed,
        base: set,
    };
    let on_probe = |p: &capacity::Probe| {
        eprintln!(
            "  probed {} = {} → {}",
            q.field,
            p.value,
            if p.pass { "pass" } else { "fail" }
        )
    };
    match capacity::search(&q, &on_probe) {
        Ok(ans) => {
            match a.output {
                Output::Text => print!("{}", capacity::render(&q, &ans)),
                Output::Json => print!("{}", capacity_json(&q, &ans)),
            }
            if ans.answer.is_some() {
                0
            } else {
                1
            }
        }
        Err(e) => fail(e.to_string()),
    }
}
