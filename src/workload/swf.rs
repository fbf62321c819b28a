//! Standard Workload Format importer (Parallel Workloads Archive logs, `.swf`, plain or gzip).
//!
//! Depends only on `crate::model` and `crate::workload`. Invariant: no job is dropped silently
//! — a record that cannot become a job (unknown run time, an impossible value such as
//! wagap-2013's run time `-1359980917`, a malformed field, too few fields) is skipped, counted
//! by reason in `SwfReport::tally` with its line named, and the rest of the file is imported;
//! `SwfOptions::strict` makes the first such record an error instead. A file from which no
//! record at all could be imported is an error naming the first skipped line.
//!
//! Mapping (fields are 1-based, `-1` = unknown; times in seconds, decimals allowed):
//! - field 1 job number → `id`; field 2 submit time → `submit_ms`;
//! - field 4 run time → `duration_ms` (≤ 0 or unknown: skipped, counted);
//! - field 5 allocated processors, else field 8 requested processors → `replicas`
//!   (neither known: skipped, counted); `min_member = replicas` (rigid jobs start together);
//! - one pod per processor: `cpu_milli_per_proc` millicores; memory from field 7 (used KB per
//!   processor), else field 10 (requested KB per processor), else `default_mem_bytes_per_proc`
//!   (KB = 1024 bytes);
//! - queue: see `SwfQueueSource` — by default the queue (field 15), else the partition (field
//!   16), named after the header's `; Queue: <n> <name>` / `; Partition: <n> <name>` lines
//!   (`q<n>` / `p<n>` when unnamed); records with neither go to `default_queue`. Names are made
//!   valid Kubernetes names (lowercase; other characters become `-`; `[fque:1]` → `fque-1`),
//!   a clash adding `-<n>`. Priority 0; class "".
//!
//! Lines may carry more than 18 fields. Alea's extended SWF (MetaCentrum wagap) has the node
//! list `{…}` in field 19 and the PBS queue name in field 20: that name is the record's queue
//! (it wins over field 15). Caveat: wagap's field 10 is bytes per job, not KB per processor.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::error::{open, parse_milli, TraceError};
use super::tally::{Strictness, Tally};
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

/// Skip reasons counted in `SwfReport::tally`.
pub const SKIP_NO_RUN_TIME: &str = "run time ≤ 0 or unknown";
pub const SKIP_NO_PROCESSORS: &str = "no processor count";
pub const SKIP_NO_SUBMIT: &str = "submit time unknown";
pub const SKIP_BAD_VALUE: &str = "impossible or malformed value";
pub const SKIP_FIELDS: &str = "fewer than 18 fields";

/// Which SWF field names the Volcano queue (`--queue-from`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SwfQueueSource {
    /// Field 15 (queue number, or extended field 20's name) when known, else field 16.
    #[default]
    Auto,
    /// Field 15 (queue number) → its header name or `"q<n>"` (extended field 20's name wins).
    Queue,
    /// Field 16 (partition number) → its header name or `"p<n>"` (LCG grid sites).
    Partition,
    /// Every job in `default_queue`.
    None,
}

impl std::str::FromStr for SwfQueueSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(SwfQueueSource::Auto),
            "queue" => Ok(SwfQueueSource::Queue),
            "partition" => Ok(SwfQueueSource::Partition),
            "none" => Ok(SwfQueueSource::None),
            o => Err(format!("{o:?}: expected auto, queue, partition or none")),
        }
    }
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
    /// Queue number → Volcano queue name (overrides the header's names).
    pub queue_names: BTreeMap<i64, String>,
    /// Partition number → Volcano queue name (overrides the header's names).
    pub partition_names: BTreeMap<i64, String>,
    /// Queue for jobs whose chosen field is `-1` (default `"default"`).
    pub default_queue: String,
    /// Shift submit times so the first kept job arrives at 0 (default false).
    pub rebase_submit: bool,
    /// A record that would be skipped is an error (default false: skipped and counted).
    pub strict: bool,
}

impl Default for SwfOptions {
    fn default() -> SwfOptions {
        SwfOptions {
            cpu_milli_per_proc: 1000,
            default_mem_bytes_per_proc: 1 << 30,
            use_trace_memory: true,
            queue_source: SwfQueueSource::Auto,
            queue_names: BTreeMap::new(),
            partition_names: BTreeMap::new(),
            default_queue: "default".to_string(),
            rebase_submit: false,
            strict: false,
        }
    }
}

/// What the header said and what was read, imported and skipped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SwfReport {
    /// `; MaxNodes:` header value, if present.
    pub max_nodes: Option<u64>,
    /// `; MaxProcs:` header value, if present.
    pub max_procs: Option<u64>,
    /// `; Queue: <n> <name>` header lines, as written.
    pub header_queues: BTreeMap<i64, String>,
    /// `; Partition: <n> <name>` header lines, as written.
    pub header_partitions: BTreeMap<i64, String>,
    /// Records (non-comment, non-blank lines) read, imported and skipped by reason
    /// (`SKIP_*`), the first skipped lines named.
    pub tally: Tally,
}

/// Jobs (sorted by submit, stable) plus the import report.
#[derive(Debug, Clone, PartialEq)]
pub struct SwfImport {
    pub jobs: Vec<TraceJob>,
    pub report: SwfReport,
}

/// Reads an SWF file (plain or gzip).
pub fn read_swf(path: &Path, opts: &SwfOptions) -> Result<SwfImport, TraceError> {
    let file = path.display().to_string();
    parse_swf(open(path)?, &file, opts)
}

/// Parses SWF text from `reader`; `file` is only used in messages.
pub fn parse_swf(
    reader: impl Read,
    file: &str,
    opts: &SwfOptions,
) -> Result<SwfImport, TraceError> {
    let mut report = SwfReport::default();
    let mut names = QueueNames::default();
    let mut jobs = Vec::new();
    let mut buf = Vec::new();
    let mut rdr = BufReader::new(reader);
    let mut line_no = 0u64;
    let mode = Strictness {
        strict: opts.strict,
    };
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
        let line = std::str::from_utf8(&buf)
            .map_err(|_| TraceError::record(file, line_no, "invalid UTF-8 (not an SWF file?)"))?
            .trim();
        if let Some(comment) = line.strip_prefix(';') {
            header_line(comment, &mut report);
            continue;
        }
        if line.is_empty() {
            continue;
        }
        report.tally.read += 1;
        match parse_record(line, opts, &report, &mut names) {
            Ok(job) => jobs.push(job),
            Err(Skip(reason, detail)) => {
                mode.skip(&mut report.tally, file, line_no, reason, detail)?
            }
        }
    }
    report.tally.imported = jobs.len();
    if jobs.is_empty() && report.tally.read > 0 {
        let first = report.tally.examples.first().cloned().unwrap_or_default();
        return Err(TraceError::record(
            file,
            0,
            format!(
                "no record could be imported ({}); first: {first}",
                report.tally
            ),
        ));
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

/// Why a record was skipped: the counted reason and the detail naming the field.
struct Skip(&'static str, String);

/// Kubernetes-valid queue names handed out so far (sanitized name → source key), so that two
/// source names that sanitize alike stay apart.
#[derive(Default)]
struct QueueNames {
    given: BTreeMap<String, String>,
    by_key: BTreeMap<String, String>,
}

impl QueueNames {
    fn name(&mut self, key: String, raw: &str, fallback: String) -> String {
        if let Some(n) = self.by_key.get(&key) {
            return n.clone();
        }
        let mut clean = k8s_name(raw);
        if clean.is_empty() {
            clean = fallback;
        }
        if self.given.get(&clean).is_some_and(|k| *k != key) {
            clean = format!("{clean}-{}", k8s_name(&key));
        }
        self.given.insert(clean.clone(), key.clone());
        self.by_key.insert(key, clean.clone());
        clean
    }
}

/// Lowercase; characters other than `[a-z0-9.-]` become `-`; no leading/trailing `-`/`.`.
fn k8s_name(raw: &str) -> String {
    let s: String = raw
        .trim()
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '.' | '-') => c,
            _ => '-',
        })
        .collect();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out.trim_matches(|c| c == '-' || c == '.').to_string()
}

fn parse_record(
    line: &str,
    opts: &SwfOptions,
    report: &SwfReport,
    names: &mut QueueNames,
) -> Result<TraceJob, Skip> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    if fields.len() < 18 {
        let msg = format!("{} fields, expected 18 (SWF)", fields.len());
        return Err(Skip(SKIP_FIELDS, msg));
    }
    let bad = |n: usize, problem: &str| {
        let msg = format!(
            "field {n} ({}): {:?} {problem}",
            SWF_FIELDS[n - 1],
            fields[n - 1]
        );
        Skip(SKIP_BAD_VALUE, msg)
    };
    // Every standard field must be a number or -1, even the ones not used.
    let mut milli = [None::<u64>; 18];
    for n in 1..=18 {
        let f = fields[n - 1];
        if f == "-1" {
            continue;
        }
        milli[n - 1] = Some(parse_milli(f).ok_or_else(|| {
            if f.starts_with('-') && parse_milli(&f[1..]).is_some() {
                bad(n, "is impossible (negative, and not -1 for unknown)")
            } else {
                bad(n, "is not a number (or -1 for unknown)")
            }
        })?);
    }
    let whole = |n: usize| -> Result<Option<i64>, Skip> {
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
        return Err(Skip(SKIP_NO_SUBMIT, "field 2 (submit time) is -1".into()));
    };
    let duration_ms = match milli[3] {
        Some(d) if d > 0 => d,
        _ => {
            let msg = format!("field 4 (run time) is {}", fields[3]);
            return Err(Skip(SKIP_NO_RUN_TIME, msg));
        }
    };
    let procs = match (whole(5)?, whole(8)?) {
        (Some(p), _) if p > 0 => p,
        (_, Some(p)) if p > 0 => p,
        _ => {
            let msg = "neither field 5 nor field 8 (processors) is known".to_string();
            return Err(Skip(SKIP_NO_PROCESSORS, msg));
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
    // Alea's extended SWF: `{node list}` in field 19, the PBS queue name in field 20.
    let extended = match (fields.get(18), fields.get(19)) {
        (Some(nodes), Some(q)) if nodes.starts_with('{') => Some(*q),
        _ => None,
    };
    let mut by_queue = |n: i64| match extended {
        Some(q) => names.name(format!("queue {q}"), q, format!("q{n}")),
        None => {
            let raw = opts
                .queue_names
                .get(&n)
                .or(report.header_queues.get(&n))
                .map_or("", String::as_str);
            names.name(format!("q{n}"), raw, format!("q{n}"))
        }
    };
    let (queue, partition) = (whole(15)?, whole(16)?);
    let queue = match opts.queue_source {
        SwfQueueSource::None => None,
        SwfQueueSource::Queue | SwfQueueSource::Auto if extended.is_some() => {
            Some(by_queue(queue.unwrap_or(0)))
        }
        SwfQueueSource::Queue => queue.map(by_queue),
        SwfQueueSource::Partition => None,
        SwfQueueSource::Auto => queue.map(&mut by_queue),
    };
    let queue = match (queue, opts.queue_source, partition) {
        (Some(q), _, _) => q,
        (None, SwfQueueSource::Partition | SwfQueueSource::Auto, Some(n)) => {
            let raw = opts
                .partition_names
                .get(&n)
                .or(report.header_partitions.get(&n))
                .map_or("", String::as_str);
            names.name(format!("p{n}"), raw, format!("p{n}"))
        }
        _ => opts.default_queue.clone(),
    };
    Ok(TraceJob {
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
    })
}

#[cfg(test)]
mod tests;
