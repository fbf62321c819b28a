//! `volsim capacity SCENARIO --vary FIELD --range LO..HI [--slo "<q|class>.<metric> <= v"]…
//! [--replications R] [--find min|max] [--step S] [--set PATH=VALUE]…`: bisection for the smallest (or largest)
//! value meeting every SLO (default: the scenario's SLOs), printing the trace, monotonicity
//! warnings and the answer with its margin. Exit codes: 0 answer found, 1 no value in the range
//! meets the SLOs, 2 bad input.

use std::path::PathBuf;

use clap::Args;
use volsim::scenario::parse_slo;
use volsim::sweep::capacity::{self, Find, Query};

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
            print!("{}", capacity::render(&q, &ans));
            if ans.answer.is_some() {
                0
            } else {
                1
            }
        }
        Err(e) => fail(e.to_string()),
    }
}
