//! The one integration-test binary: every suite that runs the library or the `volsim` binary
//! end to end. Run one suite with `cargo test --test it <module>::` (e.g. `live::kube_e2e`).
//!
//! Suites that need an outside service say so and skip without it: `temporal_e2e` talks to a
//! Temporal dev server when `VOLSIM_TEMPORAL_HTTP` is set (`tests/temporal/e2e.sh`), and
//! `live::kube_e2e` to a Kubernetes API server with Volcano when `VOLSIM_KUBE_E2E=1`
//! (`.ci/steps/realvolcano.sh` starts `../shared/realvolcano` for it).

mod bind_spread;
mod cli_errors;
mod cli_outputs;
mod compat;
mod examples_kubernetes;
mod fuzz_regressions;
mod gang_comparison;
mod gang_domains;
mod layering;
mod limits;
mod live;
mod object_workloads;
mod paths_agree;
mod policy_properties;
mod reclaim_scenario;
mod semantic_validation;
mod sim_properties;
mod snapshots;
mod sweep_rank;
mod temporal_e2e;
mod temporal_export;
mod temporal_import;
mod temporal_priority;
mod topology;
mod trace_import_reports;
mod wait_reasons;
mod whatif;
mod workflow_replay;
