//! The scenario: cluster (node pools), queues (inline or Volcano YAML), priority classes, the
//! scheduler conf (inline, a path, or Volcano's Helm default), the workload (trace and/or
//! synthetic classes), horizon, seed, starvation threshold and SLOs — validated with errors
//! that name the file and field; and field-path overrides (`overrides`: `--set`, sweep axes).
//! Relative paths resolve against the scenario file.
//!
//! Depends on `model`, `kube`, `workload` and `policy` (conf types); never on `sim`.

mod file;
mod limits;
mod load;
mod objects;
pub mod overrides;
mod sim_params;
mod slo;
pub mod snapshot;
mod topology;
mod trace;
mod validate;
mod workflows;

pub use file::ScenarioFile;
pub use load::{load, load_sharing, load_str, load_str_sharing, Scenario, ScenarioError};
pub use overrides::{
    load_with_overrides, load_with_overrides_sharing, shell_quote, LoadError, Override,
    OverrideError,
};
pub use slo::{parse_slo, Slo, SloMetric};
pub use trace::TraceCache;

#[cfg(test)]
mod tests;
