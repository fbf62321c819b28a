//! The canonical trace CSV: reader and writer. Owns the column set and its units; the reader
//! accepts the bench traces (`/work/shared/bench`, `peers-synth-v1`) unchanged.
//!
//! Depends only on `crate::model` and `crate::workload`. Invariant: `write_csv_trace` followed
//! by `parse_csv_trace` returns the same jobs, and a bench-shaped job list is written
//! byte-identically to the bench generator's CSV.
//!
//! # Columns
//! Comma-separated, one header line, then one job per line; columns are located by header name
//! (any order, surrounding spaces trimmed). An unknown column is an error.
//!
//! | column | required | unit / meaning |
//! |---|---|---|
//! | `job_id` | yes | unique id (any text) |
//! | `submit_s` / `submit_ms` | one of | submission time from the trace origin, s (decimals allowed, kept to the ms) / integer ms; `submit_ms` wins if both |
//! | `duration_s` / `duration_ms` | one of | run time of each pod, s (decimals allowed) / integer ms; `duration_ms` wins |
//! | `replicas` | yes | pods in the job, integer ≥ 1 |
//! | `cpu_milli_per_pod` | yes | cpu request per pod, millicores (integer) |
//! | `mem_mib_per_pod` / `mem_bytes_per_pod` | one of | memory request per pod, MiB / bytes (integer); bytes wins |
//! | `queue` | yes | Volcano queue name |
//! | `priority` | no (0) | job priority, integer (used when no `priority_class`) |
//! | `min_member` | no (= `replicas`) | gang size, 1 ≤ `min_member` ≤ `replicas`; empty = `replicas` |
//! | `gpu_milli_per_pod` / `gpu_per_pod` | no (0) | `nvidia.com/gpu` per pod, milli-GPUs (integer) / GPUs (decimals allowed); milli wins |
//! | `priority_class` | no | PriorityClass name; empty = none |
//! | `class` | no ("") | workload class label for reports |
//!
//! Gang semantics are the default: a job without `min_member` is all-or-nothing.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;

use super::error::{open, parse_milli, TraceError};
use super::{sort_by_submit, TraceJob};
use crate::model::{ResourceName, Resources};

/// Every column the reader understands, in the writer's order.
pub const KNOWN_COLUMNS: &[&str] = &[
    "job_id",
    "submit_s",
    "submit_ms",
    "duration_s",
    "duration_ms",
    "replicas",
    "cpu_milli_per_pod",
    "mem_mib_per_pod",
    "mem_bytes_per_pod",
    "queue",
    "priority",
    "min_member",
    "gpu_milli_per_pod",
    "gpu_per_pod",
    "priority_class",
    "class",
];

/// The bench traces' header (`gen_synth_trace.py`).
pub const BENCH_HEADER: &str =
    "job_id,submit_s,duration_s,replicas,cpu_milli_per_pod,mem_mib_per_pod,queue,priority";

const MIB: i64 = 1 << 20;

/// Reads a canonical trace CSV; jobs come back sorted by submission time (stable).
pub fn read_csv_trace(path: &Path) -> Result<Vec<TraceJob>, TraceError> {
    let file = path.display().to_string();
    parse_csv_trace(open(path)?, &file)
}

/// Parses a canonical trace CSV from `reader`; `file` is only used in error messages.
/// Errors name the file, the 1-based line, the column and the bad value.
pub fn parse_csv_trace(reader: impl Read, file: &str) -> Result<Vec<TraceJob>, TraceError> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(reader);
    let header = rdr
        .headers()
        .map_err(|e| TraceError::from_csv(file, e))?
        .clone();
    let cols = Columns::locate(&header, file)?;
    let mut jobs = Vec::new();
    // Line of each parsed job, for the duplicate check (run once the rows are read, or before
    // any later error is reported, so the first problem in line order is the one named).
    let mut lines: Vec<u64> = Vec::new();
    let mut rec = csv::StringRecord::new();
    loop {
        let more = rdr.read_record(&mut rec);
        let job = more
            .map_err(|e| TraceError::from_csv(file, e))
            .and_then(|more| {
                if !more {
                    return Ok(None);
                }
                let line = rec.position().map(|p| p.line()).unwrap_or(0);
                Ok(Some((cols.parse(&rec, &header, file, line)?, line)))
            });
        match job {
            Ok(Some((job, line))) => {
                jobs.push(job);
                lines.push(line);
            }
            Ok(None) => break,
            Err(e) => return Err(first_duplicate(&jobs, &lines, file).unwrap_or(e)),
        }
    }
    if let Some(e) = first_duplicate(&jobs, &lines, file) {
        return Err(e);
    }
    drop(lines);
    sort_by_submit(&mut jobs);
    Ok(jobs)
}

/// The error for the first job (in line order) whose `job_id` an earlier line already used.
fn first_duplicate(jobs: &[TraceJob], lines: &[u64], file: &str) -> Option<TraceError> {
    let mut seen: HashMap<&str, u64> = HashMap::with_capacity(jobs.len());
    for (job, &line) in jobs.iter().zip(lines) {
        if let Some(first) = seen.insert(&job.id, line) {
            let msg = format!("duplicate job_id {:?} (first on line {first})", job.id);
            return Some(TraceError::record(file, line, msg));
        }
    }
    None
}

/// Column indexes located from the header, and each value's source column resolved once
/// (precedence applied) so a row is parsed without looking names up.
struct Columns {
    id: usize,
    /// (the ms column, the seconds column); at least one is present.
    submit: (Option<usize>, Option<usize>),
    duration: (Option<usize>, Option<usize>),
    replicas: usize,
    min_member: Option<usize>,
    cpu: usize,
    /// (bytes, MiB); at least one is present.
    mem: (Option<usize>, Option<usize>),
    /// (milli-GPUs, GPUs).
    gpu: (Option<usize>, Option<usize>),
    queue: usize,
    priority: Option<usize>,
    priority_class: Option<usize>,
    class: Option<usize>,
}

fn col(name: &str) -> usize {
    KNOWN_COLUMNS
        .iter()
        .position(|c| *c == name)
        .expect("known column")
}

impl Columns {
    fn locate(header: &csv::StringRecord, file: &str) -> Result<Columns, TraceError> {
        let mut idx = [None; KNOWN_COLUMNS.len()];
        for (i, name) in header.iter().enumerate() {
            let Some(k) = KNOWN_COLUMNS.iter().position(|c| *c == name) else {
                let msg = format!(
                    "unknown column {name:?} (known columns: {})",
                    KNOWN_COLUMNS.join(", ")
                );
                return Err(TraceError::record(file, 1, msg));
            };
            if idx[k].replace(i).is_some() {
                return Err(TraceError::record(
                    file,
                    1,
                    format!("column {name:?} appears twice"),
                ));
            }
        }
        let required: [&[&str]; 7] = [
            &["job_id"],
            &["submit_s", "submit_ms"],
            &["duration_s", "duration_ms"],
            &["replicas"],
            &["cpu_milli_per_pod"],
            &["mem_mib_per_pod", "mem_bytes_per_pod"],
            &["queue"],
        ];
        for alts in required {
            if alts.iter().all(|a| idx[col(a)].is_none()) {
                let msg = format!("missing column {}", alts.join(" or "));
                return Err(TraceError::record(file, 1, msg));
            }
        }
        let at = |name: &str| idx[col(name)];
        let req = |name: &str| at(name).expect("required column checked above");
        Ok(Columns {
            id: req("job_id"),
            submit: (at("submit_ms"), at("submit_s")),
            duration: (at("duration_ms"), at("duration_s")),
            replicas: req("replicas"),
            min_member: at("min_member"),
            cpu: req("cpu_milli_per_pod"),
            mem: (at("mem_bytes_per_pod"), at("mem_mib_per_pod")),
            gpu: (at("gpu_milli_per_pod"), at("gpu_per_pod")),
            queue: req("queue"),
            priority: at("priority"),
            priority_class: at("priority_class"),
            class: at("class"),
        })
    }

    fn parse(
        &self,
        rec: &csv::StringRecord,
        header: &csv::StringRecord,
        file: &str,
        line: u64,
    ) -> Result<TraceJob, TraceError> {
        let cell = |i: usize| rec.get(i).unwrap_or("");
        let bad = |i: usize, problem: &str| {
            TraceError::value(
                file,
                line,
                format_args!("column {}", &header[i]),
                cell(i),
                problem,
            )
        };
        let int = |i: usize, problem: &str| cell(i).parse::<u64>().map_err(|_| bad(i, problem));
        let nonneg = "is not a non-negative integer";

        let id_col = self.id;
        let id = cell(id_col).to_string();
        if id.is_empty() {
            return Err(bad(id_col, "is empty (expected a job id)"));
        }
        let ms = |(ms_col, s_col): (Option<usize>, Option<usize>)| -> Result<u64, TraceError> {
            match (ms_col, s_col) {
                (Some(i), _) => int(i, "is not a non-negative integer number of milliseconds"),
                (None, Some(i)) => parse_milli(cell(i))
                    .ok_or_else(|| bad(i, "is not a non-negative number of seconds")),
                (None, None) => unreachable!("required column checked in locate"),
            }
        };
        let submit_ms = ms(self.submit)?;
        let duration_ms = ms(self.duration)?;

        let rep_col = self.replicas;
        let replicas = cell(rep_col)
            .parse::<u32>()
            .ok()
            .filter(|&r| r >= 1)
            .ok_or_else(|| bad(rep_col, "is not a positive integer"))?;
        let min_member = match self.min_member {
            Some(i) if !cell(i).is_empty() => {
                let m = cell(i)
                    .parse::<u32>()
                    .ok()
                    .filter(|&m| m >= 1)
                    .ok_or_else(|| bad(i, "is not a positive integer"))?;
                if m > replicas {
                    return Err(bad(i, &format!("exceeds replicas ({replicas})")));
                }
                m
            }
            _ => replicas,
        };

        let cpu = as_i64(int(self.cpu, nonneg)?);
        let mem = match self.mem {
            (Some(i), _) => as_i64(int(i, nonneg)?),
            (None, Some(i)) => {
                let mib = int(i, nonneg)?;
                i64::try_from(mib)
                    .ok()
                    .and_then(|m| m.checked_mul(MIB))
                    .ok_or_else(|| bad(i, "is too large"))?
            }
            (None, None) => unreachable!("required column checked in locate"),
        };
        let mut requests = Resources::cpu_mem(cpu, mem);
        let gpu = match self.gpu {
            (Some(i), _) if !cell(i).is_empty() => as_i64(int(i, nonneg)?),
            (None, Some(i)) if !cell(i).is_empty() => as_i64(
                parse_milli(cell(i))
                    .ok_or_else(|| bad(i, "is not a non-negative number of GPUs"))?,
            ),
            _ => 0,
        };
        if gpu > 0 {
            requests.set(ResourceName::GPU, gpu);
        }

        let q_col = self.queue;
        let queue = cell(q_col).to_string();
        if queue.is_empty() {
            return Err(bad(q_col, "is empty (expected a queue name)"));
        }
        let priority = match self.priority {
            Some(i) if !cell(i).is_empty() => cell(i)
                .parse::<i32>()
                .map_err(|_| bad(i, "is not an integer priority"))?,
            _ => 0,
        };
        let text = |c: Option<usize>| c.map(cell).unwrap_or("").to_string();
        let priority_class = Some(text(self.priority_class)).filter(|s| !s.is_empty());
        Ok(TraceJob {
            id,
            submit_ms,
            duration_ms,
            replicas,
            min_member,
            requests,
            queue,
            priority_class,
            priority,
            class: text(self.class),
        })
    }
}

fn as_i64(x: u64) -> i64 {
    i64::try_from(x).unwrap_or(i64::MAX)
}

/// Writes `jobs` as a canonical trace CSV, in the given order. The bench columns come first
/// (`submit_ms`/`duration_ms` replace the seconds columns only when some time is not a whole
/// second; `mem_bytes_per_pod` replaces MiB only when some memory is not a whole MiB); the
/// optional columns follow only when some job needs them. So bench-shaped jobs (whole
/// seconds, `min_member == replicas`, no GPU, class, or priority class) produce exactly the
/// bench CSV. Errors on resources the format has no column for.
pub fn write_csv_trace(jobs: &[TraceJob], w: impl Write) -> Result<(), TraceError> {
    let whole_s = jobs
        .iter()
        .all(|j| j.submit_ms % 1000 == 0 && j.duration_ms % 1000 == 0);
    let whole_mib = jobs.iter().all(|j| j.requests.memory() % MIB == 0);
    let any_gang_subset = jobs.iter().any(|j| j.min_member != j.replicas);
    let any_gpu = jobs.iter().any(|j| j.requests.get(ResourceName::GPU) != 0);
    let any_pc = jobs.iter().any(|j| j.priority_class.is_some());
    let any_class = jobs.iter().any(|j| !j.class.is_empty());
    for j in jobs {
        if let Some(d) = j.requests.names().find(|&d| {
            ![
                ResourceName::CPU,
                ResourceName::MEMORY,
                ResourceName::PODS,
                ResourceName::GPU,
            ]
            .contains(&d)
        }) {
            let message = format!(
                "resource {} has no column in the canonical trace CSV",
                d.name()
            );
            return Err(TraceError::Job {
                job: j.id.clone(),
                message,
            });
        }
    }
    let mut header = vec![
        "job_id",
        if whole_s { "submit_s" } else { "submit_ms" },
        if whole_s { "duration_s" } else { "duration_ms" },
        "replicas",
        "cpu_milli_per_pod",
        if whole_mib {
            "mem_mib_per_pod"
        } else {
            "mem_bytes_per_pod"
        },
        "queue",
        "priority",
    ];
    let optional = [
        (any_gang_subset, "min_member"),
        (any_gpu, "gpu_milli_per_pod"),
        (any_pc, "priority_class"),
        (any_class, "class"),
    ];
    header.extend(optional.iter().filter(|(on, _)| *on).map(|(_, name)| *name));
    let mut wtr = csv::WriterBuilder::new().from_writer(w);
    let werr = |e: csv::Error| TraceError::from_csv("<output>", e);
    wtr.write_record(&header).map_err(werr)?;
    let (t_div, m_div) = (
        if whole_s { 1000 } else { 1 },
        if whole_mib { MIB } else { 1 },
    );
    for j in jobs {
        let mut row = vec![
            j.id.clone(),
            (j.submit_ms / t_div).to_string(),
            (j.duration_ms / t_div).to_string(),
            j.replicas.to_string(),
            j.requests.cpu().to_string(),
            (j.requests.memory() / m_div).to_string(),
            j.queue.clone(),
            j.priority.to_string(),
        ];
        let extra = [
            (any_gang_subset, j.min_member.to_string()),
            (any_gpu, j.requests.get(ResourceName::GPU).to_string()),
            (any_pc, j.priority_class.clone().unwrap_or_default()),
            (any_class, j.class.clone()),
        ];
        row.extend(extra.into_iter().filter(|(on, _)| *on).map(|(_, v)| v));
        wtr.write_record(&row).map_err(werr)?;
    }
    wtr.flush().map_err(|e| TraceError::io("<output>", e))
}

#[cfg(test)]
mod tests;
