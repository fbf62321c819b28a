//! The scenario: cluster (node pools), queues (inline or Volcano YAML), priority classes, the
//! scheduler conf (inline, a path, or Volcano's Helm default), the workload (trace and/or
//! synthetic classes), horizon, seed, starvation threshold and SLOs — validated with errors
//! that name the file and field. Relative paths resolve against the scenario file.
//!
//! Depends on `model`, `kube`, `workload` and `policy` (conf types); never on `sim`.

mod file;
mod load;
mod objects;
mod slo;
pub mod snapshot;
mod trace;
mod workflows;

pub use file::ScenarioFile;
pub use load::{load, load_str, RunParams, Scenario, ScenarioError};
pub use slo::{parse_slo, Slo, SloMetric};

/// FNV-1a 64-bit hash: the digest used for scenario identity and decision logs.
pub fn fnv1a(bytes: &[u8], mut h: u64) -> u64 {
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// FNV-1a offset basis.
pub const FNV_OFFSET: u64 = 0xcbf29ce484222325;

#[cfg(test)]
mod tests;
