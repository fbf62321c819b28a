//! Standard Workload Format importer (Parallel Workloads Archive logs, `.swf`).
//!
//! Depends only on `crate::model` and `crate::workload`. Plain text only: no gzip crate is in
//! the lockfile, so `.swf.gz` must be decompressed first (`gunzip -k`); a gzip file is detected
//! by its magic bytes and rejected with that advice. Invariant: no job is dropped silently —
//! every skipped line is counted by reason in `SwfReport`.
//!
//! Mapping (fields are 1-based, `-1` = unknown; times in seconds, decimals allowed):
//! - field 1 job number → `id`; field 2 submit time → `submit_ms`;
//! - field 4 run time → `duration_ms` (≤ 0 or unknown: skipped, counted);
//! - field 5 allocated processors, else field 8 requested processors → `replicas`
//!   (neither known: skipped, counted); `min_member = replicas` (rigid jobs start together);
//! - one pod per processor: `cpu_milli_per_proc` millicores; memory from field 7 (used KB per
//!   processor), else field 10 (requested KB per processor), else `default_mem_bytes_per_proc`
//!   (KB = 1024 bytes);
//! - queue from field 15 or 16, see `SwfQueueSource`; priority 0; class "".
//!
//! Lines may carry more than 18 fields (extended SWF such as MetaCentrum's wagap): the extras
//! are ignored. Caveat: wagap's field 10 is bytes per job, not KB per processor.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::error::{open, parse_milli, TraceError};
use super::{sort_by_submit, TraceJob};
use crate::model::Resources;

/// SWF field names, for error messages (index = field number − 1).
pub const SWF_FIELDS: [&str; 18] = [
    "job number",
    "submit time",
    "wait time",
    "run time",
    "allocated processors",
    "average CPU time",
    "used memory",
    "requested processors",
    "requested time",
    "requested memory",
    "status",
    "user id",
    "group id",
    "executable number",
    "queue number",
    "partition number",
    "preceding job number",
    "think time",
];

/// Which SWF field names the Volcano queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SwfQueueSource {
    /// Field 15 (queue number) → `queue_names[n]` or `"q<n>"`.
    #[default]
    Queue,
    /// Field 16 (partition number) → `partition_names[n]` or `"p<n>"` (LCG grid sites).
    Partition,
    /// Field 15 when known, else field 16.
    QueueThenPartition,
}

/// How SWF records become jobs. `Default` gives the documented defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct SwfOptions {
    /// Millicores per processor (default 1000 = one core per pod).
    pub cpu_milli_per_proc: i64,
    /// Memory per pod when fields 7 and 10 are unknown, bytes (default 1 GiB).
    pub default_mem_bytes_per_proc: i64,
    /// Take memory from fields 7 / 10 when known (default true); false = always the default.
    pub use_trace_memory: bool,
    pub queue_source: SwfQueueSource,
    /// Queue number → Volcano queue name (unlisted numbers become `"q<n>"`).
    pub queue_names: BTreeMap<i64, String>,
    /// Partition number → Volcano queue name (unlisted numbers become `"p<n>"`).
    pub partition_names: BTreeMap<i64, String>,
    /// Queue for jobs whose chosen field is `-1` (default `"default"`).
    pub default_queue: String,
    /// Shift submit times so the first kept job arrives at 0 (default false).
    pub rebase_submit: bool,
}

impl Default for SwfOptions {
    fn default() -> SwfOptions {
        SwfOptions {
            cpu_milli_per_proc: 1000,
            default_mem_bytes_per_proc: 1 << 30,
            use_trace_memory: true,
            queue_source: SwfQueueSource::Queue,
            queue_names: BTreeMap::new(),
            partition_names: BTreeMap::new(),
            default_queue: "default".to_string(),
            rebase_submit: false,
        }
    }
}

/// What the header said and what was skipped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SwfReport {
    /// `; MaxNodes:` header value, if present.
    pub max_nodes: Option<u64>,
    /// `; MaxProcs:` header value, if present.
    pub max_procs: Option<u64>,
    /// `; Queue: <n> <name>` header lines (names only; the mapping uses `SwfOptions`).
    pub header_queues: BTreeMap<i64, String>,
    /// `; Partition: <n> <name>` header lines.
    pub header_partitions: BTreeMap<i64, String>,
    /// Records read (non-comment, non-blank lines).
    pub records: usize,
    /// Skipped: run time ≤ 0 or unknown.
    pub skipped_no_run_time: usize,
    /// Skipped: neither allocated nor requested processors known.
    pub skipped_no_processors: usize,
    /// Skipped: submit time unknown.
    pub skipped_no_submit: usize,
}

/// Jobs (sorted by submit, stable) plus the import report.
#[derive(Debug, Clone, PartialEq)]
pub struct SwfImport {
    pub jobs: Vec<TraceJob>,
    pub report: SwfReport,
}

/// Reads an SWF file (plain text).
pub fn read_swf(path: &Path, opts: &SwfOptions) -> Result<SwfImport, TraceError> {
    let file = path.display().to_string();
    parse_swf(open(path)?, &file, opts)
}

/// Parses SWF text from `reader`; `file` is only used in error messages.
pub fn parse_swf(
    reader: impl Read,
    file: &str,
    opts: &SwfOptions,
) -> Result<SwfImport, TraceError> {
    let mut report = SwfReport::default();
    let mut jobs = Vec::new();
    let mut buf = Vec::new();
    let mut rdr = BufReader::new(reader);
    let mut line_no = 0u64;
    loop {
        buf.clear();
        if rdr
            .read_until(b'\n', &mut buf)
            .map_err(|e| TraceError::io(file, e))?
            == 0
        {
            break;
        }
        line_no += 1;
        if line_no == 1 && buf.starts_with(&[0x1f, 0x8b]) {
            let msg = "gzip-compressed; decompress it first (gunzip -k), plain-text SWF only";
            return Err(TraceError::record(file, 1, msg));
        }
        let line = std::str::from_utf8(&buf)
            .map_err(|_| TraceError::record(file, line_no, "invalid UTF-8"))?
            .trim();
        if let Some(comment) = line.strip_prefix(';') {
            header_line(comment, &mut report);
            continue;
        }
        if line.is_empty() {
            continue;
        }
        report.records += 1;
        if let Some(job) = parse_record(line, file, line_no, opts, &mut report)? {
            jobs.push(job);
        }
    }
    sort_by_submit(&mut jobs);
    if opts.rebase_submit {
        if let Some(t0) = jobs.first().map(|j| j.submit_ms) {
            jobs.iter_mut().for_each(|j| j.submit_ms -= t0);
        }
    }
    Ok(SwfImport { jobs, report })
}

fn header_line(comment: &str, report: &mut SwfReport) {
    let Some((key, value)) = comment.split_once(':') else {
        return;
    };
    let value = value.trim();
    let numbered = |v: &str| {
        let (n, name) = v.split_once(char::is_whitespace)?;
        Some((n.parse::<i64>().ok()?, name.trim().to_string()))
    };
    match key.trim() {
        "MaxNodes" => report.max_nodes = value.parse().ok(),
        "MaxProcs" => report.max_procs = value.parse().ok(),
        "Queue" => report.header_queues.extend(numbered(value)),
        "Partition" => report.header_partitions.extend(numbered(value)),
        _ => {}
    }
}

fn parse_record(
    line: &str,
    file: &str,
    line_no: u64,
    opts: &SwfOptions,
    report: &mut SwfReport,
) -> Result<Option<TraceJob>, TraceError> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() < 18 {
        let msg = format!("{} fields, expected 18 (SWF)", fields.len());
        return Err(TraceError::record(file, line_no, msg));
    }
    let bad = |n: usize, problem: &str| {
        TraceError::value(
            file,
            line_no,
            format_args!("field {n} ({})", SWF_FIELDS[n - 1]),
            fields[n - 1],
            problem,
        )
    };
    // Every standard field must be a number or -1, even the ones not used.
    let mut milli = [None::<u64>; 18];
    for n in 1..=18 {
        let f = fields[n - 1];
        if f == "-1" {
            continue;
        }
        milli[n - 1] =
            Some(parse_milli(f).ok_or_else(|| bad(n, "is not a number (or -1 for unknown)"))?);
    }
    let whole = |n: usize| -> Result<Option<i64>, TraceError> {
        match milli[n - 1] {
            None => Ok(None),
            Some(m) if m % 1000 == 0 => Ok(Some((m / 1000) as i64)),
            Some(_) => Err(bad(n, "is not an integer")),
        }
    };
    let id = fields[0].to_string();
    if milli[0].is_none() {
        return Err(bad(1, "is not a job number"));
    }
    let Some(submit_ms) = milli[1] else {
        report.skipped_no_submit += 1;
        return Ok(None);
    };
    let duration_ms = match milli[3] {
        Some(d) if d > 0 => d,
        _ => {
            report.skipped_no_run_time += 1;
            return Ok(None);
        }
    };
    let procs = match (whole(5)?, whole(8)?) {
        (Some(p), _) if p > 0 => p,
        (_, Some(p)) if p > 0 => p,
        _ => {
            report.skipped_no_processors += 1;
            return Ok(None);
        }
    };
    let replicas = u32::try_from(procs).map_err(|_| bad(5, "is too large"))?;
    let kb = |n: usize| whole(n).map(|v| v.filter(|&k| k > 0));
    let mem_kb = if opts.use_trace_memory {
        kb(7)?.or(kb(10)?)
    } else {
        None
    };
    let mem = match mem_kb {
        Some(k) => k.checked_mul(1024).ok_or_else(|| bad(7, "is too large"))?,
        None => opts.default_mem_bytes_per_proc,
    };
    let by_queue = |n: i64| {
        opts.queue_names
            .get(&n)
            .cloned()
            .unwrap_or_else(|| format!("q{n}"))
    };
    let by_part = |n: i64| {
        opts.partition_names
            .get(&n)
            .cloned()
            .unwrap_or_else(|| format!("p{n}"))
    };
    let (queue, partition) = (whole(15)?, whole(16)?);
    let queue = match opts.queue_source {
        SwfQueueSource::Queue => queue.map(by_queue),
        SwfQueueSource::Partition => partition.map(by_part),
        SwfQueueSource::QueueThenPartition => queue.map(by_queue).or(partition.map(by_part)),
    }
    .unwrap_or_else(|| opts.default_queue.clone());
    Ok(Some(TraceJob {
        id,
        submit_ms,
        duration_ms,
        replicas,
        min_member: replicas,
        requests: Resources::cpu_mem(opts.cpu_milli_per_proc, mem),
        queue,
        priority_class: None,
        priority: 0,
        class: String::new(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::test_support::fixture;

    #[test]
    fn reads_lanl_excerpt_with_queue_numbers() {
        let imp = read_swf(&fixture("lanl-cm5-head.swf"), &SwfOptions::default()).unwrap();
        let r = &imp.report;
        assert_eq!((r.records, imp.jobs.len()), (145, 145));
        assert_eq!((r.max_nodes, r.max_procs), (Some(1024), Some(1024)));
        assert_eq!(
            r.header_queues.get(&2).map(String::as_str),
            Some("production")
        );
        let j = &imp.jobs[1]; // "2 465 5 3362 32 489.00 988 32 900 1024 1 3 3 3 1 -1 -1 -1"
        assert_eq!(
            (j.id.as_str(), j.submit_ms, j.duration_ms),
            ("2", 465_000, 3_362_000)
        );
        assert_eq!((j.replicas, j.min_member, j.queue.as_str()), (32, 32, "q1"));
        assert_eq!(j.requests, Resources::cpu_mem(1000, 988 * 1024));
        assert_eq!(imp.jobs.iter().filter(|j| j.queue == "q1").count(), 114);
        assert_eq!(imp.jobs[0].queue, "default", "queue -1");
        let named = SwfOptions {
            queue_names: r.header_queues.clone(),
            ..SwfOptions::default()
        };
        let imp = read_swf(&fixture("lanl-cm5-head.swf"), &named).unwrap();
        assert_eq!(imp.jobs[1].queue, "development");
    }

    #[test]
    fn reads_hpc2n_excerpt_counting_skips() {
        let opts = SwfOptions {
            queue_source: SwfQueueSource::QueueThenPartition,
            use_trace_memory: false,
            cpu_milli_per_proc: 2000,
            rebase_submit: true,
            ..SwfOptions::default()
        };
        let imp = read_swf(&fixture("hpc2n-head.swf"), &opts).unwrap();
        let r = &imp.report;
        assert_eq!(
            (r.records, imp.jobs.len(), r.skipped_no_run_time),
            (167, 161, 6)
        );
        assert_eq!((r.skipped_no_processors, r.skipped_no_submit), (0, 0));
        assert_eq!(r.header_partitions.get(&2).map(String::as_str), Some("ALL"));
        assert!(imp
            .jobs
            .iter()
            .all(|j| j.queue == "p1" && j.requests.cpu() == 2000));
        assert!(imp
            .jobs
            .iter()
            .all(|j| j.requests.memory() == 1 << 30 && j.validate().is_ok()));
        assert_eq!(imp.jobs[0].submit_ms, 0);
    }

    #[test]
    fn broken_inputs_name_file_line_and_field() {
        let e = read_swf(&fixture("broken-fields.swf"), &SwfOptions::default()).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("broken-fields.swf:4: 17 fields, expected 18 (SWF)"),
            "{e}"
        );
        let e = read_swf(&fixture("broken-value.swf"), &SwfOptions::default()).unwrap_err();
        let want = r#"broken-value.swf:3: field 5 (allocated processors): "3x" is not a number (or -1 for unknown)"#;
        assert!(e.to_string().ends_with(want), "{e}");
        let e = parse_swf(
            &b"1 0 0 10 1.5 -1 -1 -1 -1 -1 1 1 1 -1 -1 -1 -1 -1\n"[..],
            "t.swf",
            &SwfOptions::default(),
        );
        assert!(e
            .unwrap_err()
            .to_string()
            .contains(r#"t.swf:1: field 5 (allocated processors): "1.5" is not an integer"#));
        let e = parse_swf(&[0x1f, 0x8b, 8, 0][..], "t.swf.gz", &SwfOptions::default()).unwrap_err();
        assert!(e.to_string().contains("gunzip"), "{e}");
    }
}
