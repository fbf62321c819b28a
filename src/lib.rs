//! volsim: predicts what the Volcano batch scheduler will do to a workload before quotas are set
//! on a real cluster. Layering (see `design/architecture.md`): `model` ← `policy` ← `cluster` ←
//! `sim` ← `report`; `kube`, `workload` and `scenario` feed them; `live` never imports `sim`.

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
