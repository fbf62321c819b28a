//! `workload.trace`: reads the trace file (canonical CSV, SWF or openb; plain or gzip) with the
//! scenario's `strict` and `queue_from` keys, and turns the importer's tally of skipped records
//! into warnings naming the file, the counts by reason and the first skipped lines.
//!
//! Depends on `workload` and the scenario loader's context.

use super::file::ScenarioFile;
use super::load::{Ctx, ScenarioError};
use crate::workload::{self, OpenbOptions, SwfOptions, Tally, TraceJob};

/// The jobs of `workload.trace` (none when the key is absent).
pub(super) fn load(
    cx: &mut Ctx,
    sf: &ScenarioFile,
    warnings: &mut Vec<String>,
) -> Result<Vec<TraceJob>, ScenarioError> {
    let w = &sf.workload;
    let Some(t) = &w.trace else {
        if w.queue_from.is_some() {
            return Err(cx.err("workload.queue_from", "only used with workload.trace"));
        }
        return Ok(Vec::new());
    };
    let tpath = cx.resolve(t);
    let bytes = std::fs::read(&tpath).map_err(|e| {
        cx.err(
            "workload.trace",
            format!("cannot read {}: {e}", tpath.display()),
        )
    })?;
    cx.absorb(&bytes);
    let strict = w.strict.unwrap_or(false);
    let fmt = w.format.as_deref().unwrap_or("csv");
    if w.queue_from.is_some() && fmt != "swf" {
        return Err(cx.err("workload.queue_from", "only used with format = \"swf\""));
    }
    let loaded: Result<(Vec<TraceJob>, Option<Tally>), String> = match fmt {
        "csv" => workload::csv_trace::read_csv_trace(&tpath)
            .map(|j| (j, None))
            .map_err(|e| e.to_string()),
        "swf" => {
            let queue_source = match w.queue_from.as_deref().map(str::parse).transpose() {
                Ok(q) => q.unwrap_or_default(),
                Err(e) => return Err(cx.err("workload.queue_from", e)),
            };
            let opts = SwfOptions {
                strict,
                queue_source,
                ..SwfOptions::default()
            };
            workload::read_swf(&tpath, &opts)
                .map(|x| (x.jobs, Some(x.report.tally)))
                .map_err(|e| e.to_string())
        }
        "openb" => {
            let opts = OpenbOptions {
                strict,
                ..OpenbOptions::default()
            };
            workload::read_openb(&tpath, &opts)
                .map(|x| (x.jobs, Some(x.report.tally)))
                .map_err(|e| e.to_string())
        }
        other => {
            return Err(cx.err(
                "workload.format",
                format!("{other:?}: expected csv, swf or openb"),
            ))
        }
    };
    let (jobs, tally) = loaded.map_err(|e| cx.err("workload.trace", e))?;
    if let Some(tally) = tally.filter(|t| t.skipped_total() > 0) {
        warnings.push(format!("{}: {tally}", tpath.display()));
        warnings.extend(
            tally
                .example_lines()
                .into_iter()
                .map(|l| format!("  skipped: {l}")),
        );
    }
    Ok(jobs)
}
