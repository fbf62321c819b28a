//! Importer for Temporal Cloud's Workflow History Export: files of protobuf
//! `temporal.api.export.v1.WorkflowExecutions` (named `WorkflowExecutionHistories` in older
//! api releases; same wire format: `repeated { History history = 1 } items = 1`, and in the
//! newest `ExportedExecutions` the same `workflows = 1` plus standalone `activities = 2`),
//! several histories per file, laid out as `<namespace>/<Y>/<M>/<D>/<H>/<M>/…`.
//!
//! Why a hand-written wire reader (`wire.rs`) and not `prost`: the importer needs about forty
//! fields of twenty messages and turns them into the proto-JSON shape the shared derivation
//! reads, so generated structs would be converted field by field anyway; `prost`'s
//! `DecodeError` carries no byte offset, which the error contract needs; and the reader is ~250
//! lines with no dependency and no build step. Depends on `wire`, `proto`, `derive` and the
//! importer's report types; output order and dedup as in `mod.rs` (sorted files, first copy
//! kept).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::proto::decode_event;
use super::wire::{Reader, WireError};
use super::{assemble, derive, ImportError, ImportReport, Position};
use crate::workload::tally::Tally;
use crate::workload::workflow::Workflow;

/// What an export import read, kept and skipped.
#[derive(Debug, Default)]
pub struct ExportReport {
    /// Executions (children nested), errors, skips (duplicates, hidden files) and warnings;
    /// `import.files` counts the export files read.
    pub import: ImportReport,
    /// Workflow histories read (duplicates included).
    pub histories: usize,
    /// Histories dropped as copies of one already read (same workflow id and run id): the
    /// export is delivered at least once.
    pub duplicates: usize,
    /// Standalone activity executions (`ExportedExecutions.activities`), not workflow
    /// histories: counted and skipped.
    pub standalone_activities: usize,
    /// Events whose type number this reader does not know, by number (kept as opaque events
    /// that no node is derived from).
    pub unknown_event_types: BTreeMap<u64, usize>,
}

impl ExportReport {
    /// Histories read / executions imported / skipped by reason. A file whose framing broke
    /// (or that could not be read) counts as one more record read and skipped, since what it
    /// still held cannot be known.
    pub fn tally(&self) -> Tally {
        let (mut histories, mut framing, mut unreadable) = (0, 0, 0);
        for e in &self.import.errors {
            match e.position {
                Position::Proto { item: Some(_), .. } => histories += 1,
                Position::Proto { item: None, .. } => framing += 1,
                _ => unreadable += 1,
            }
        }
        let mut t = Tally {
            read: self.histories + self.standalone_activities + framing + unreadable,
            imported: self.import.execution_count(),
            ..Tally::default()
        };
        for (reason, n) in [
            ("duplicate history (at-least-once export)", self.duplicates),
            (
                "standalone activity execution (not a workflow history)",
                self.standalone_activities,
            ),
            ("history that failed to import", histories),
            ("rest of a file after corrupt framing", framing),
            ("file that could not be read", unreadable),
        ] {
            if n > 0 {
                t.skipped.insert(reason.to_string(), n);
            }
        }
        t
    }
}

/// Imports export files. Each path is a file or a directory searched recursively for every
/// file not starting with `.` (sorted, so the result does not depend on directory order; gzip
/// is read transparently; hidden files are listed as skipped). A corrupt history is recorded
/// in the report's errors and the rest is imported, unless `strict`, in which case the first
/// error is returned. A path that does not exist is always an error.
pub fn import_export_paths(paths: &[PathBuf], strict: bool) -> Result<ExportReport, ImportError> {
    let (mut files, mut hidden) = (BTreeSet::new(), BTreeSet::new());
    let mut report = ExportReport::default();
    for p in paths {
        collect(p, &mut files, &mut hidden)?;
    }
    report.import.skipped.extend(
        hidden
            .into_iter()
            .map(|h| (h, "hidden file, not read as an export file".to_string())),
    );
    let mut executions = Vec::new();
    for f in files {
        let bytes = crate::workload::input::read_input(&f).map_err(|e| ImportError {
            file: f.clone(),
            position: Position::File,
            message: format!("cannot read: {e}"),
        });
        let bytes = match bytes {
            Ok(b) => b,
            Err(e) if strict => return Err(e),
            Err(e) => {
                report.import.errors.push(e);
                continue;
            }
        };
        let file = import_export_bytes(&f, &bytes, strict)?;
        report.import.files += 1;
        report.histories += file.histories;
        report.standalone_activities += file.standalone_activities;
        for (t, n) in &file.unknown_event_types {
            *report.unknown_event_types.entry(*t).or_default() += n;
        }
        report.import.warnings.extend(file.warnings);
        report.import.errors.extend(file.errors);
        executions.extend(file.workflows);
    }
    let before = report.import.skipped.len();
    report.import.workflows = assemble(
        executions,
        &mut report.import.skipped,
        &mut report.import.warnings,
    );
    report.duplicates = report.import.skipped.len() - before;
    Ok(report)
}

/// What one export file held.
#[derive(Debug, Default)]
pub struct ExportFile {
    /// One execution per history, in file order (not deduplicated, children not nested).
    pub workflows: Vec<Workflow>,
    pub histories: usize,
    pub standalone_activities: usize,
    pub unknown_event_types: BTreeMap<u64, usize>,
    /// Histories (or the rest of the file) that could not be imported.
    pub errors: Vec<ImportError>,
    pub warnings: Vec<String>,
}

/// Imports one export file's (decompressed) content; `file` names it in errors and in each
/// execution's `source` (`<file>#items[<i>]`). Strict: the first error is returned; otherwise
/// a broken history is recorded and the next one read, and a broken file framing ends the file
/// (what came before it is kept).
pub fn import_export_bytes(
    file: &Path,
    bytes: &[u8],
    strict: bool,
) -> Result<ExportFile, ImportError> {
    let mut out = ExportFile::default();
    let at = |offset: usize, item: Option<usize>, message: String| ImportError {
        file: file.to_path_buf(),
        position: Position::Proto {
            offset,
            item,
            event: None,
            event_id: None,
        },
        message,
    };
    let mut top = Reader::new(bytes, 0);
    let mut item = 0usize;
    loop {
        let field = match top.next() {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                let e = at(
                    e.offset,
                    None,
                    format!("corrupt export file: {}", e.message),
                );
                if strict {
                    return Err(e);
                }
                out.errors.push(e);
                break;
            }
        };
        match field.number {
            1 => {
                let i = item;
                item += 1;
                out.histories += 1;
                match history(file, i, &field, &mut out) {
                    Ok(wf) => out.workflows.push(wf),
                    Err(e) if strict => return Err(e),
                    Err(e) => out.errors.push(e),
                }
            }
            2 => out.standalone_activities += 1,
            _ => {}
        }
    }
    if out.histories == 0 && out.standalone_activities == 0 && out.errors.is_empty() {
        out.warnings
            .push(format!("{}: holds no workflow histories", file.display()));
    }
    if out.standalone_activities > 0 {
        out.warnings.push(format!(
            "{}: {} standalone activity executions skipped (not workflow histories)",
            file.display(),
            out.standalone_activities
        ));
    }
    Ok(out)
}

/// One `WorkflowExecution` item → its execution.
fn history(
    file: &Path,
    item: usize,
    field: &super::wire::Field<'_>,
    out: &mut ExportFile,
) -> Result<Workflow, ImportError> {
    let source = PathBuf::from(format!("{}#items[{item}]", file.display()));
    let err = |offset: usize, event: Option<(usize, Option<u64>)>, message: String| ImportError {
        file: file.to_path_buf(),
        position: Position::Proto {
            offset,
            item: Some(item),
            event: event.map(|e| e.0),
            event_id: event.and_then(|e| e.1),
        },
        message,
    };
    let wire = |e: WireError| err(e.offset, None, format!("corrupt history: {}", e.message));
    // WorkflowExecution { History history = 1 } → History { repeated HistoryEvent events = 1 }
    // (a repeated occurrence of `history` merges, i.e. appends its events).
    let mut events = Vec::new();
    let mut offsets = Vec::new();
    let mut unknown: BTreeMap<u64, usize> = BTreeMap::new();
    let mut r = field.message().map_err(wire)?;
    while let Some(h) = r.next().map_err(wire)? {
        if h.number != 1 {
            continue;
        }
        let mut hr = h.message().map_err(wire)?;
        while let Some(ev) = hr.next().map_err(wire)? {
            if ev.number != 1 {
                continue;
            }
            let (bytes, offset) = ev.bytes().map_err(wire)?;
            let index = events.len();
            let d = decode_event(index, bytes, offset).map_err(|e| {
                err(
                    e.offset,
                    Some((index, None)),
                    format!("corrupt event: {}", e.message),
                )
            })?;
            if let Some(t) = d.unknown_type {
                *unknown.entry(t).or_default() += 1;
            }
            events.push(d.event);
            offsets.push(offset);
        }
    }
    if events.is_empty() {
        return Err(err(field.offset, None, "the history has no events".into()));
    }
    events.sort_by_key(|e| e.id);
    for w in events.windows(2) {
        if w[0].id == w[1].id {
            return Err(err(
                offsets[w[1].index],
                Some((w[1].index, Some(w[1].id))),
                format!(
                    "duplicate event_id {} (also at events[{}])",
                    w[1].id, w[0].index
                ),
            ));
        }
    }
    // Ids come from the start event only: the file name is shared by every history in it.
    if super::json::str_at(&events[0].attrs, &["workflowId"]).is_none()
        && events[0].kind == super::history::EventType::WorkflowExecutionStarted
    {
        return Err(err(
            offsets[events[0].index],
            Some((events[0].index, Some(events[0].id))),
            "expected workflowExecutionStartedEventAttributes.workflow_id (field 28): an \
             exported history is identified by it"
                .into(),
        ));
    }
    let wf = derive::derive_with_ids(
        &source,
        (String::new(), String::new()),
        &events,
        &mut out.warnings,
    )
    .map_err(|e| match e.position {
        Position::Event { index, event_id } => {
            err(offsets[index], Some((index, event_id)), e.message)
        }
        _ => err(field.offset, None, e.message),
    })?;
    if !unknown.is_empty() {
        let list: Vec<String> = unknown
            .iter()
            .map(|(t, n)| format!("type {t} ×{n}"))
            .collect();
        out.warnings.push(format!(
            "{}: events of unknown event types ignored ({})",
            source.display(),
            list.join(", ")
        ));
        for (t, n) in unknown {
            *out.unknown_event_types.entry(t).or_default() += n;
        }
    }
    Ok(wf)
}

fn collect(
    p: &Path,
    out: &mut BTreeSet<PathBuf>,
    hidden: &mut BTreeSet<PathBuf>,
) -> Result<(), ImportError> {
    let io = |e: std::io::Error| ImportError {
        file: p.to_path_buf(),
        position: Position::File,
        message: e.to_string(),
    };
    let meta = std::fs::metadata(p).map_err(io)?;
    if !meta.is_dir() {
        out.insert(p.to_path_buf());
        return Ok(());
    }
    for entry in std::fs::read_dir(p).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let is_hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if is_hidden {
            hidden.insert(path);
        } else if path.is_dir() {
            collect(&path, out, hidden)?;
        } else {
            out.insert(path);
        }
    }
    Ok(())
}
