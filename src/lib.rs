//! volsim: predicts what the Volcano batch scheduler will do to a workload before quotas are set
//! on a real cluster. See `design/architecture.md` in the README for the layering rule:
//! `model` ← `policy` ← `cluster` ← `sim` ← `report`; `live` never imports `sim`.

pub mod cluster;
pub mod model;
pub mod policy;
pub mod report;
pub mod sim;
pub mod workload;
