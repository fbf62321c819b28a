//! The workload model: what arrives at the cluster and when. Every importer (canonical CSV,
//! SWF, Alibaba openb, Temporal histories) and the synthetic generator produce `TraceJob`s;
//! the simulator turns each into a PodGroup with `replicas` pods.
//!
//! Depends only on `model`. Jobs are kept sorted by `(submit_ms, input order)` so arrivals can
//! be streamed.

pub mod mapping;
pub mod temporal;
pub mod workflow;

use crate::model::Resources;

pub mod csv_trace;
pub mod error;
pub mod input;
pub mod openb;
pub mod peers_synth;
pub mod swf;
pub mod synth;
pub mod tally;

// Importers and generators, all returning `TraceJob`s sorted by submit time (stable):
// `csv_trace` (canonical CSV, read + write), `swf` (Parallel Workloads Archive), `openb`
// (Alibaba GPU 2023 pod lists), `peers_synth` (the bench traces, bit-exact), `synth`
// (scenario `[[workload.classes]]`). `error::TraceError` is shared by all of them.
pub use csv_trace::{parse_csv_trace, read_csv_trace, write_csv_trace};
pub use error::TraceError;
pub use openb::{read_openb, OpenbOptions};
pub use swf::{read_swf, SwfOptions};
pub use synth::WorkloadClass;
pub use tally::{Strictness, Tally};

/// One batch job as the simulator replays it: a PodGroup with `replicas` identical pods.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceJob {
    /// Stable identifier from the source (unique within a workload).
    pub id: String,
    /// Submission time, ms from the workload's origin.
    pub submit_ms: u64,
    /// Run time of each pod once Running, ms.
    pub duration_ms: u64,
    /// Number of pods.
    pub replicas: u32,
    /// Gang size (`minMember`); `1 ≤ min_member ≤ replicas`.
    pub min_member: u32,
    /// Requests of one pod (cpu, memory, gpu, other scalars); `pods: 1` is added later.
    pub requests: Resources,
    /// Volcano queue name.
    pub queue: String,
    /// PriorityClass name, if any (its value becomes the job priority).
    pub priority_class: Option<String>,
    /// Explicit job priority when no class is named (canonical CSV `priority`).
    pub priority: i32,
    /// Workload class label for reports ("" when the source has none).
    pub class: String,
}

/// Most pods of one job (`replicas`): the simulator holds a task per pod, so a trace row must
/// not size it freely (Kubernetes itself is tested up to 150,000 pods per cluster).
pub const MAX_REPLICAS: u32 = 100_000;

impl TraceJob {
    /// Checks the invariants every importer must guarantee.
    pub fn validate(&self) -> Result<(), String> {
        if self.replicas == 0 {
            return Err(format!("job {}: replicas must be ≥ 1", self.id));
        }
        if self.replicas > MAX_REPLICAS {
            return Err(format!(
                "job {}: replicas {} exceeds the limit of {MAX_REPLICAS} pods per job",
                self.id, self.replicas
            ));
        }
        if self.min_member == 0 || self.min_member > self.replicas {
            return Err(format!(
                "job {}: min_member {} must be between 1 and replicas {}",
                self.id, self.min_member, self.replicas
            ));
        }
        if self.queue.is_empty() {
            return Err(format!("job {}: empty queue name", self.id));
        }
        Ok(())
    }
}

/// Sorts jobs by submission time, keeping input order among equal times (stable).
pub fn sort_by_submit(jobs: &mut [TraceJob]) {
    jobs.sort_by_key(|j| j.submit_ms);
}

/// Test helpers shared by the importer tests.
#[cfg(test)]
pub(crate) mod test_support {
    use std::path::PathBuf;

    /// `tests/fixtures/traces/<name>` in this crate.
    pub(crate) fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/traces")
            .join(name)
    }

    /// Writes a gzip copy of `src` into `dir` as `<file name>.gz`.
    pub(crate) fn gz_copy(src: &std::path::Path, dir: &std::path::Path) -> PathBuf {
        use std::io::Write;
        let mut name = src.file_name().unwrap().to_os_string();
        name.push(".gz");
        let out = dir.join(name);
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&std::fs::read(src).unwrap()).unwrap();
        std::fs::write(&out, enc.finish().unwrap()).unwrap();
        out
    }
}
