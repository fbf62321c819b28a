//! `workload.trace`: reads the trace file (canonical CSV, SWF or openb; plain or gzip) with the
//! scenario's `strict` and `queue_from` keys, and turns the importer's tally of skipped records
//! into warnings naming the file, the counts by reason and the first skipped lines.
//!
//! A `TraceCache` shared by the loads of one sweep (or capacity search) parses a trace once:
//! a later load reading the same bytes with the same options gets a copy of the parsed jobs.
//!
//! Depends on `workload` and the scenario loader's context.

use std::sync::{Arc, Mutex};

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
    let key = Key {
        path: tpath.display().to_string(),
        format: fmt.to_string(),
        strict,
        queue_from: w.queue_from.clone(),
    };
    let cached = cx.traces.as_ref().and_then(|c| c.get(&key, &bytes));
    let (jobs, tally) = match cached {
        Some(hit) => hit,
        None => {
            let (jobs, tally) = parse(cx, w, &tpath, &bytes, fmt, strict)?;
            if let Some(c) = &cx.traces {
                c.put(key, bytes, &jobs, &tally);
            }
            (jobs, tally)
        }
    };
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

/// The importer's jobs and tally of `bytes` (read from `tpath`) in format `fmt`.
fn parse(
    cx: &Ctx,
    w: &super::file::WorkloadSection,
    tpath: &std::path::Path,
    bytes: &[u8],
    fmt: &str,
    strict: bool,
) -> Result<(Vec<TraceJob>, Option<Tally>), ScenarioError> {
    let loaded: Result<(Vec<TraceJob>, Option<Tally>), String> = match fmt {
        // Parsed from the bytes just read for the digest: the file is read once.
        "csv" => workload::csv_trace::parse_csv_trace(
            workload::input::reader_of(bytes),
            &tpath.display().to_string(),
        )
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
            workload::read_swf(tpath, &opts)
                .map(|x| (x.jobs, Some(x.report.tally)))
                .map_err(|e| e.to_string())
        }
        "openb" => {
            let opts = OpenbOptions {
                strict,
                ..OpenbOptions::default()
            };
            workload::read_openb(tpath, &opts)
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
    loaded.map_err(|e| cx.err("workload.trace", e))
}

/// What a parse depends on besides the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    path: String,
    format: String,
    strict: bool,
    queue_from: Option<String>,
}

/// One parsed trace and the bytes it was parsed from.
#[derive(Debug)]
struct Entry {
    key: Key,
    bytes: Vec<u8>,
    jobs: Vec<TraceJob>,
    tally: Option<Tally>,
}

/// Traces parsed by earlier loads, shared (thread-safe) by the loads of one sweep or capacity
/// search: a load whose trace file has the same bytes and options as a cached one copies its
/// jobs instead of parsing the file again. Holds the most recent `TraceCache::ENTRIES` traces.
#[derive(Debug, Default)]
pub struct TraceCache {
    entries: Mutex<Vec<Arc<Entry>>>,
}

impl TraceCache {
    /// Most traces held (a sweep axis over trace files re-parses beyond this).
    pub const ENTRIES: usize = 4;

    /// How many traces are held.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether no trace is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn get(&self, key: &Key, bytes: &[u8]) -> Option<(Vec<TraceJob>, Option<Tally>)> {
        let hit = {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            entries
                .iter()
                .find(|e| e.key == *key && e.bytes == bytes)
                .cloned()
        };
        hit.map(|e| (e.jobs.clone(), e.tally.clone()))
    }

    fn put(&self, key: Key, bytes: Vec<u8>, jobs: &[TraceJob], tally: &Option<Tally>) {
        let entry = Arc::new(Entry {
            key,
            bytes,
            jobs: jobs.to_vec(),
            tally: tally.clone(),
        });
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= Self::ENTRIES {
            entries.remove(0);
        }
        entries.push(entry);
    }
}
