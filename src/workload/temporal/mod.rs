//! Importer for recorded Temporal workflow histories (every envelope of notes B.1) into the
//! [`Workflow`] model, plus [`pull`] to download histories from a live server's HTTP API.
//!
//! Depends only on `crate::model` and `crate::workload`. Deterministic: files are read in
//! sorted path order, duplicates of one execution (same workflow id + run id, e.g. the `.cli`
//! and `.http` export of one run) keep the first file, and the output is sorted by
//! `(arrival, workflow id, run id)`. Child executions are nested into their parent's
//! [`ChildWorkflow`](crate::workload::workflow::ChildWorkflow) node (B.4 rule 1).
//! Temporal Cloud's protobuf history export goes through the same derivation
//! ([`import_export_paths`], `export.rs`).

mod activity;
mod derive;
mod export;
mod hints;
mod history;
mod json;
mod proto;
pub mod pull;
mod wire;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::workload::workflow::{NodeKind, Workflow};

pub use export::{import_export_bytes, import_export_paths, ExportFile, ExportReport};
pub use pull::{pull, PullError, PullReport};

/// RFC 3339 timestamp → Unix ns (also used for Kubernetes `creationTimestamp`).
pub(crate) use json::parse_rfc3339_ns;

/// Where in a file an import error is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// The file as a whole (I/O, envelope).
    File,
    /// A JSON syntax error (1-based line and column).
    Json { line: usize, column: usize },
    /// An event: `index` is its 0-based position in the file's event array; `event_id` its id
    /// when readable.
    Event { index: usize, event_id: Option<u64> },
    /// A protobuf export file: `offset` is the byte offset (in the decompressed content) where
    /// the problem starts; `item` the history's index in the file's `items`, `event` the
    /// event's index in that history, `event_id` its id when readable.
    Proto {
        offset: usize,
        item: Option<usize>,
        event: Option<usize>,
        event_id: Option<u64>,
    },
}

/// A file that could not be imported: names the file, the position and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    pub file: PathBuf,
    pub position: Position,
    pub message: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        match &self.position {
            Position::File => {}
            Position::Json { line, column } => write!(f, ":{line}:{column}")?,
            Position::Event {
                index,
                event_id: Some(id),
            } => write!(f, ": events[{index}] (eventId {id})")?,
            Position::Event {
                index,
                event_id: None,
            } => write!(f, ": events[{index}]")?,
            Position::Proto {
                offset,
                item,
                event,
                event_id,
            } => {
                write!(f, ": byte {offset}")?;
                if let Some(i) = item {
                    write!(f, " (items[{i}]")?;
                    if let Some(e) = event {
                        write!(f, ".history.events[{e}]")?;
                    }
                    if let Some(id) = event_id {
                        write!(f, ", eventId {id}")?;
                    }
                    write!(f, ")")?;
                }
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ImportError {}

/// The result of importing files and directories.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// Top-level executions, children nested, sorted by `(arrival, workflow id, run id)`.
    /// A child whose parent was not imported stays top-level (its `parent` is set).
    pub workflows: Vec<Workflow>,
    /// History files read successfully (duplicates included).
    pub files: usize,
    /// Files that failed (empty when `strict`, which returns the first error instead).
    pub errors: Vec<ImportError>,
    /// Files skipped on purpose, with the reason (visibility listings, duplicate executions).
    pub skipped: Vec<(PathBuf, String)>,
    /// Non-fatal problems (invalid hint quantities, dangling references, orphan children).
    pub warnings: Vec<String>,
}

impl ImportReport {
    /// All executions, children included.
    pub fn execution_count(&self) -> usize {
        self.workflows.iter().map(Workflow::execution_count).sum()
    }
}

/// Imports history files. Each path is a `.json` file or a directory searched recursively for
/// `*.json` and `*.json.gz` files (sorted, so the result does not depend on directory order;
/// gzip is read transparently). A broken file is
/// recorded in [`ImportReport::errors`] and the rest are imported, unless `strict`, in which
/// case the first broken file is returned as the error. A path that does not exist is always
/// an error.
pub fn import_paths(paths: &[PathBuf], strict: bool) -> Result<ImportReport, ImportError> {
    let mut files = BTreeSet::new();
    for p in paths {
        collect(p, &mut files)?;
    }
    let mut report = ImportReport::default();
    let mut executions = Vec::new();
    for f in files {
        let bytes = crate::workload::input::read_input(&f).map_err(|e| ImportError {
            file: f.clone(),
            position: Position::File,
            message: format!("cannot read: {e}"),
        });
        match bytes.and_then(|b| import_bytes(&f, &b, &mut report.warnings)) {
            Ok(Some(wf)) => {
                report.files += 1;
                executions.push(wf);
            }
            Ok(None) => report
                .skipped
                .push((f, "visibility listing, not a history".into())),
            Err(e) if strict => return Err(e),
            Err(e) => report.errors.push(e),
        }
    }
    report.workflows = assemble(executions, &mut report.skipped, &mut report.warnings);
    Ok(report)
}

/// Imports one file's content; `Ok(None)` for a visibility listing. `file` names the source in
/// errors and supplies workflow / run ids missing from the history (`<id>__<run>.json`).
pub fn import_bytes(
    file: &Path,
    bytes: &[u8],
    warnings: &mut Vec<String>,
) -> Result<Option<Workflow>, ImportError> {
    match history::parse(file, bytes)? {
        history::Parsed::Listing(n) => {
            warnings.push(format!(
                "{}: visibility listing of {n} executions, skipped",
                file.display()
            ));
            Ok(None)
        }
        history::Parsed::History(events) => derive::derive(file, &events, warnings).map(Some),
    }
}

fn collect(p: &Path, out: &mut BTreeSet<PathBuf>) -> Result<(), ImportError> {
    let io = |e: std::io::Error| ImportError {
        file: p.to_path_buf(),
        position: Position::File,
        message: e.to_string(),
    };
    let meta = std::fs::metadata(p).map_err(io)?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(p).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if path.is_dir() {
                collect(&path, out)?;
            } else if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| crate::workload::input::strip_gz(n).ends_with(".json"))
            {
                out.insert(path);
            }
        }
    } else {
        out.insert(p.to_path_buf());
    }
    Ok(())
}

/// Drops duplicate executions and nests children into their parents' child nodes.
fn assemble(
    executions: Vec<Workflow>,
    skipped: &mut Vec<(PathBuf, String)>,
    warnings: &mut Vec<String>,
) -> Vec<Workflow> {
    // Dedupe on (workflow id, run id); an empty run id never matches another execution.
    let mut seen: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut unique: Vec<Option<Workflow>> = Vec::new();
    for wf in executions {
        let key = (wf.workflow_id.clone(), wf.run_id.clone());
        if !wf.run_id.is_empty() {
            if let Some(first) = seen.get(&key) {
                let msg = format!(
                    "duplicate of {first} (same workflow {} and run {}), which is kept",
                    wf.workflow_id, wf.run_id
                );
                skipped.push((PathBuf::from(&wf.source), msg));
                continue;
            }
            seen.insert(key, wf.source.clone());
        }
        unique.push(Some(wf));
    }
    // Parent lookup: (workflow id, initiated event id) → (index, child node id, run id).
    let mut child_slots: BTreeMap<(String, u64), (usize, String)> = BTreeMap::new();
    for (i, wf) in unique.iter().enumerate() {
        let wf = wf.as_ref().expect("present");
        for n in &wf.nodes {
            if let NodeKind::Child(_) = n.kind {
                child_slots.insert((wf.workflow_id.clone(), n.id), (i, wf.run_id.clone()));
            }
        }
    }
    // children_of[parent index] = [(node id, child index)]
    let mut children_of: BTreeMap<usize, Vec<(u64, usize)>> = BTreeMap::new();
    let mut is_child = vec![false; unique.len()];
    for (ci, wf) in unique.iter().enumerate() {
        let wf = wf.as_ref().expect("present");
        let Some(p) = &wf.parent else { continue };
        match child_slots.get(&(p.workflow_id.clone(), p.initiated_event_id)) {
            Some((pi, prun))
                if *pi != ci && (p.run_id.is_empty() || prun.is_empty() || *prun == p.run_id) =>
            {
                children_of
                    .entry(*pi)
                    .or_default()
                    .push((p.initiated_event_id, ci));
                is_child[ci] = true;
            }
            _ => warnings.push(format!(
                "{}: parent {} (initiated event {}) was not imported; kept as a top-level workflow",
                wf.source, p.workflow_id, p.initiated_event_id
            )),
        }
    }
    let mut out = Vec::new();
    for (i, child) in is_child.iter().enumerate() {
        if !child {
            if let Some(wf) = take_tree(i, &mut unique, &children_of, 0) {
                out.push(wf);
            }
        }
    }
    out.sort_by(|a, b| {
        (a.arrival_unix_ms, &a.workflow_id, &a.run_id).cmp(&(
            b.arrival_unix_ms,
            &b.workflow_id,
            &b.run_id,
        ))
    });
    out
}

fn take_tree(
    i: usize,
    slots: &mut [Option<Workflow>],
    children_of: &BTreeMap<usize, Vec<(u64, usize)>>,
    depth: usize,
) -> Option<Workflow> {
    let mut wf = slots[i].take()?;
    if depth > 64 {
        return Some(wf);
    }
    for &(node_id, ci) in children_of.get(&i).map(Vec::as_slice).unwrap_or_default() {
        let child = take_tree(ci, slots, children_of, depth + 1);
        if let Some(n) = wf.nodes.iter_mut().find(|n| n.id == node_id) {
            if let NodeKind::Child(c) = &mut n.kind {
                c.execution = child;
            }
        }
    }
    Some(wf)
}

#[cfg(test)]
mod tests;
