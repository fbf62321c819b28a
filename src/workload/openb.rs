//! Importer for Alibaba `cluster-trace-gpu-v2023` "openb" pod lists
//! (`openb_pod_list_*.csv`, FGD paper, ATC'23): one pod per row, no gang information.
//!
//! Depends only on `crate::model` and `crate::workload`. Invariant: no pod is dropped silently
//! — every skipped row (never scheduled, no deletion time, duration ≤ 0, a malformed cell, a
//! duplicate pod name) is counted by reason in `OpenbReport::tally` with the first lines named;
//! `OpenbOptions::strict` makes the first one an error. A missing column is always an error.
//! Plain or gzip (`.csv.gz`), detected by content.
//!
//! Mapping, one single-replica job (`replicas = min_member = 1`) per row:
//! - `name` → `id`; `creation_time` (s) → `submit_ms`;
//! - duration = `deletion_time − scheduled_time` (default) or `− creation_time`
//!   (`OpenbDurationFrom`); an empty `scheduled_time` means the pod was deleted while still
//!   pending (11 % of the default list) and is skipped and counted in the default mode;
//!   an empty `deletion_time` or a duration ≤ 0 is skipped and counted;
//! - `cpu_milli` → cpu millicores; `memory_mib` → memory (MiB);
//! - GPU: `num_gpu × gpu_milli` milli-GPUs on `nvidia.com/gpu`. Deviation from the FGD
//!   simulator, which models a GPU share as a fraction of one device: a 0.46-GPU pod here
//!   requests 460 milli-GPUs of a node's pooled `nvidia.com/gpu`, so fractional pods pack
//!   by sum, not per device. `num_gpu = 0` → no GPU dimension.
//! - `qos` (`LS`, `BE`, `Burstable`, `Guaranteed`) → queue = lowercase qos unless
//!   `queue_by_qos` maps it; priority class from `priority_class_by_qos` (none by default);
//!   class = the qos string.
//!
//! Columns are located by header name; `gpu_spec` and `pod_phase` (and any other column) are
//! read past and ignored.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;

use super::error::{open, TraceError};
use super::tally::{Strictness, Tally};
use super::{sort_by_submit, TraceJob};
use crate::model::{ResourceName, Resources};

/// Where a pod's run time starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OpenbDurationFrom {
    /// `deletion_time − scheduled_time`: how long the pod ran; never-scheduled pods skipped.
    #[default]
    Scheduled,
    /// `deletion_time − creation_time`: whole lifetime; keeps never-scheduled pods.
    Creation,
}

/// How openb rows become jobs. `Default` gives the documented defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpenbOptions {
    pub duration_from: OpenbDurationFrom,
    /// QoS value (as written, e.g. `LS`) → queue name; unlisted → lowercase QoS.
    pub queue_by_qos: BTreeMap<String, String>,
    /// QoS value → PriorityClass name; unlisted → none.
    pub priority_class_by_qos: BTreeMap<String, String>,
    /// A row that would be skipped is an error (default false: skipped and counted).
    pub strict: bool,
}

/// Skip reasons counted in `OpenbReport::tally`.
pub const SKIP_NEVER_SCHEDULED: &str = "never scheduled (deleted while pending)";
pub const SKIP_NO_DELETION: &str = "deletion_time empty";
pub const SKIP_NON_POSITIVE: &str = "duration ≤ 0";
pub const SKIP_BAD_VALUE: &str = "malformed value";
pub const SKIP_DUPLICATE: &str = "duplicate pod name";

/// Rows read, imported and skipped by reason (`SKIP_*`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpenbReport {
    pub tally: Tally,
}

/// Jobs (sorted by submit, stable) plus the import report.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenbImport {
    pub jobs: Vec<TraceJob>,
    pub report: OpenbReport,
}

const REQUIRED: [&str; 9] = [
    "name",
    "cpu_milli",
    "memory_mib",
    "num_gpu",
    "gpu_milli",
    "qos",
    "creation_time",
    "deletion_time",
    "scheduled_time",
];

/// Reads an openb pod list CSV.
pub fn read_openb(path: &Path, opts: &OpenbOptions) -> Result<OpenbImport, TraceError> {
    let file = path.display().to_string();
    parse_openb(open(path)?, &file, opts)
}

/// Parses an openb pod list from `reader`; `file` is only used in error messages.
pub fn parse_openb(
    reader: impl Read,
    file: &str,
    opts: &OpenbOptions,
) -> Result<OpenbImport, TraceError> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(reader);
    let header = rdr
        .headers()
        .map_err(|e| TraceError::from_csv(file, e))?
        .clone();
    let mut idx = [0usize; REQUIRED.len()];
    for (k, name) in REQUIRED.iter().enumerate() {
        idx[k] = header.iter().position(|h| h == *name).ok_or_else(|| {
            let msg = format!(
                "missing column {name:?} (openb needs {})",
                REQUIRED.join(", ")
            );
            TraceError::record(file, 1, msg)
        })?;
    }
    let mut report = OpenbReport::default();
    let mode = Strictness {
        strict: opts.strict,
    };
    let mut jobs = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut rec = csv::StringRecord::new();
    while rdr
        .read_record(&mut rec)
        .map_err(|e| TraceError::from_csv(file, e))?
    {
        report.tally.read += 1;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        match row(&rec, &header, idx, opts, &mut seen, line) {
            Ok(job) => jobs.push(job),
            Err(Skip(reason, detail)) => {
                mode.skip(&mut report.tally, file, line, reason, detail)?
            }
        }
    }
    report.tally.imported = jobs.len();
    sort_by_submit(&mut jobs);
    Ok(OpenbImport { jobs, report })
}

/// Latest time a row may carry, s (its ms must fit in an `i64`).
const MAX_SECONDS: i64 = i64::MAX / 1000;

/// Why a row was skipped: the counted reason and the detail naming the column.
struct Skip(&'static str, String);

/// One row → a job (`Err` = skipped with a reason).
fn row(
    rec: &csv::StringRecord,
    header: &csv::StringRecord,
    idx: [usize; REQUIRED.len()],
    opts: &OpenbOptions,
    seen: &mut HashMap<String, u64>,
    line: u64,
) -> Result<TraceJob, Skip> {
    let [name, cpu, mem, num_gpu, gpu_milli, qos, created, deleted, scheduled] = idx;
    let cell = |i: usize| rec.get(i).unwrap_or("");
    let bad = |i: usize, problem: &str| {
        let detail = format!("column {}: {:?} {problem}", &header[i], cell(i));
        Skip(SKIP_BAD_VALUE, detail)
    };
    let int = |i: usize| cell(i).parse::<i64>().ok().filter(|&x| x >= 0);
    // a time must stay representable in ms (the trace's unit): at most i64::MAX / 1000 s
    let time = |i: usize| -> Result<Option<i64>, Skip> {
        match cell(i) {
            "" => Ok(None),
            _ => int(i)
                .filter(|&s| s <= MAX_SECONDS)
                .map(Some)
                .ok_or_else(|| {
                    let e = format!("is not an integer number of seconds in 0..={MAX_SECONDS}");
                    bad(i, &e)
                }),
        }
    };
    let id = cell(name).to_string();
    if id.is_empty() {
        return Err(bad(name, "is empty (expected a pod name)"));
    }
    let submit_s = time(created)?.ok_or_else(|| bad(created, "is empty (expected seconds)"))?;
    let (deleted_s, scheduled_s) = (time(deleted)?, time(scheduled)?);
    let start_s = match opts.duration_from {
        OpenbDurationFrom::Scheduled => scheduled_s,
        OpenbDurationFrom::Creation => Some(submit_s),
    };
    let nonneg = "is not a non-negative integer";
    let cpu_milli = int(cpu).ok_or_else(|| bad(cpu, nonneg))?;
    let mem_mib = int(mem).ok_or_else(|| bad(mem, nonneg))?;
    let gpus = int(num_gpu).ok_or_else(|| bad(num_gpu, nonneg))?;
    let share = int(gpu_milli).ok_or_else(|| bad(gpu_milli, nonneg))?;
    let qos_v = cell(qos);
    if qos_v.is_empty() {
        return Err(bad(
            qos,
            "is empty (expected LS, BE, Burstable or Guaranteed)",
        ));
    }
    if let Some(first) = seen.get(&id) {
        let msg = format!("duplicate pod name {id:?} (first on line {first})");
        return Err(Skip(SKIP_DUPLICATE, msg));
    }
    seen.insert(id.clone(), line);
    let Some(start_s) = start_s else {
        let msg = format!("pod {id}: scheduled_time empty (deleted while pending)");
        return Err(Skip(SKIP_NEVER_SCHEDULED, msg));
    };
    let Some(deleted_s) = deleted_s else {
        return Err(Skip(
            SKIP_NO_DELETION,
            format!("pod {id}: deletion_time empty"),
        ));
    };
    if deleted_s <= start_s {
        let msg = format!("pod {id}: deletion_time {deleted_s} ≤ start {start_s}");
        return Err(Skip(SKIP_NON_POSITIVE, msg));
    }
    let mut requests = Resources::cpu_mem(cpu_milli, mem_mib.saturating_mul(1 << 20));
    if gpus > 0 {
        requests.set(ResourceName::GPU, gpus.saturating_mul(share));
    }
    Ok(TraceJob {
        id,
        submit_ms: submit_s as u64 * 1000,
        duration_ms: (deleted_s - start_s) as u64 * 1000,
        replicas: 1,
        min_member: 1,
        requests,
        queue: opts
            .queue_by_qos
            .get(qos_v)
            .cloned()
            .unwrap_or_else(|| qos_v.to_lowercase()),
        priority_class: opts.priority_class_by_qos.get(qos_v).cloned(),
        priority: 0,
        class: qos_v.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::test_support::fixture;

    #[test]
    fn reads_the_excerpt_counting_unscheduled_pods() {
        let imp = read_openb(
            &fixture("openb-pod-list-head.csv"),
            &OpenbOptions::default(),
        )
        .unwrap();
        let t = &imp.report.tally;
        assert_eq!(
            (t.read, t.imported, imp.jobs.len(), t.skipped_total()),
            (180, 165, 165, 15)
        );
        assert_eq!(t.skipped.get(SKIP_NEVER_SCHEDULED), Some(&15));
        assert!(t.examples[0].contains("openb-pod-list-head.csv:"), "{t:?}");
        // openb-pod-0001,6000,12288,1,460,,LS,Running,427061,12902960,427061
        let j = imp.jobs.iter().find(|j| j.id == "openb-pod-0001").unwrap();
        assert_eq!(
            (j.submit_ms, j.duration_ms),
            (427_061_000, (12_902_960 - 427_061) * 1000)
        );
        assert_eq!(j.requests.get(ResourceName::GPU), 460);
        assert_eq!((j.requests.cpu(), j.requests.memory()), (6000, 12288 << 20));
        assert_eq!(
            (j.queue.as_str(), j.class.as_str(), j.replicas, j.min_member),
            ("ls", "LS", 1, 1)
        );
        assert!(imp
            .jobs
            .windows(2)
            .all(|w| w[0].submit_ms <= w[1].submit_ms));
        assert!(imp.jobs.iter().all(|j| j.validate().is_ok()));
    }

    #[test]
    fn creation_mode_keeps_pending_pods_and_maps_qos() {
        let opts = OpenbOptions {
            duration_from: OpenbDurationFrom::Creation,
            queue_by_qos: [("BE".to_string(), "best-effort".to_string())].into(),
            priority_class_by_qos: [("LS".to_string(), "high".to_string())].into(),
            strict: false,
        };
        let imp = read_openb(&fixture("openb-pod-list-head.csv"), &opts).unwrap();
        assert_eq!((imp.jobs.len(), imp.report.tally.skipped_total()), (180, 0));
        // openb-pod-0061,11908,47104,1,1000,,BE,Pending,10001278,10001403,
        let j = imp.jobs.iter().find(|j| j.id == "openb-pod-0061").unwrap();
        assert_eq!(
            (j.duration_ms, j.queue.as_str(), j.priority_class.as_deref()),
            (125_000, "best-effort", None)
        );
        let ls = imp.jobs.iter().find(|j| j.class == "LS").unwrap();
        assert_eq!(ls.priority_class.as_deref(), Some("high"));
    }

    #[test]
    fn a_time_past_the_ms_range_is_a_bad_value_not_an_overflow() {
        // found by the fuzz harness: seconds × 1000 overflowed (tests/fixtures/fuzz/openb/)
        let head = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,qos,creation_time,deletion_time,scheduled_time\n";
        let strict = OpenbOptions {
            strict: true,
            ..OpenbOptions::default()
        };
        let row = "p,1000,1024,0,0,LS,0,102147483648011318,0\n";
        let e = parse_openb(format!("{head}{row}").as_bytes(), "t.csv", &strict).unwrap_err();
        let want = r#"t.csv:2: column deletion_time: "102147483648011318" is not an integer number of seconds in 0..=9223372036854775"#;
        assert!(e.to_string().contains(want), "{e}");
        let row = "p,1000,1024,0,0,LS,0,9223372036854775,0\n";
        let imp = parse_openb(format!("{head}{row}").as_bytes(), "t.csv", &strict).unwrap();
        assert_eq!(imp.jobs[0].duration_ms, 9_223_372_036_854_775_000);
    }

    #[test]
    fn gzip_reads_like_plain() {
        let dir = tempfile::tempdir().unwrap();
        let plain = fixture("openb-pod-list-head.csv");
        let gz = crate::workload::test_support::gz_copy(&plain, dir.path());
        let a = read_openb(&gz, &OpenbOptions::default()).unwrap();
        let b = read_openb(&plain, &OpenbOptions::default()).unwrap();
        assert!(a.jobs == b.jobs && a.report.tally.skipped == b.report.tally.skipped);
    }

    #[test]
    fn broken_input_names_file_line_and_column() {
        let imp = read_openb(&fixture("broken-openb.csv"), &OpenbOptions::default()).unwrap();
        let want = r#"broken-openb.csv:3: column memory_mib: "12G" is not a non-negative integer"#;
        let t = &imp.report.tally;
        assert_eq!(
            (t.read, t.imported, t.skipped.get(SKIP_BAD_VALUE)),
            (2, 1, Some(&1))
        );
        assert!(t.examples[0].ends_with(want), "{t:?}");
        let strict = OpenbOptions {
            strict: true,
            ..OpenbOptions::default()
        };
        let e = read_openb(&fixture("broken-openb.csv"), &strict).unwrap_err();
        assert!(e.to_string().contains(want), "{e}");
        let e =
            parse_openb(&b"name,cpu_milli\n"[..], "t.csv", &OpenbOptions::default()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("t.csv:1: missing column \"memory_mib\""),
            "{e}"
        );
    }
}
