//! volsim: predicts what the Volcano batch scheduler will do to a workload before quotas are set
//! on a real cluster. Source → one engine → sinks (`docs/architecture.md`): `model` ← `policy` ←
//! `cluster` ← `engine` ← `sim` (to the horizon) and `live` (to the wall clock); `report`
//! builds the `RunReport`; `run` is THE run every command uses; `kube`, `workload` and
//! `scenario` feed them. `tests/it/layering.rs` checks every module's imports. `pub` is narrowed
//! to what other modules use (`unreachable_pub`).

#![warn(unreachable_pub)]

pub mod check;
pub mod cluster;
pub mod conformance;
pub mod engine;
pub mod kube;
pub mod live;
pub mod model;
pub mod policy;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sim;
pub mod sweep;
pub mod workload;
