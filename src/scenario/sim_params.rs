//! The `[sim]` table of a scenario: the modelled control plane's timing (`EngineParams`) with
//! its defaults, and the job controller's reaction to evictions, per job and per workload
//! class.
//!
//! Depends on `model` and the scenario loader's `Ctx` (errors name the file and field).

use std::collections::BTreeMap;

use super::file::ScenarioFile;
use super::load::{Ctx, ScenarioError};
use crate::model::{ClusterTopology, EngineParams, OnEvict, OnEvictPolicy};

/// `[sim]` as `EngineParams`, with the eviction policy and the cluster topology resolved
/// elsewhere; a field left out keeps `EngineParams::default()`'s value.
pub(super) fn engine_params(
    cx: &Ctx,
    sf: &ScenarioFile,
    on_evict: OnEvictPolicy,
    topology: ClusterTopology,
) -> Result<EngineParams, ScenarioError> {
    let d = EngineParams::default();
    Ok(EngineParams {
        schedule_period_ms: cx
            .duration(
                "sim.schedule_period",
                &sf.sim.schedule_period,
                d.schedule_period_ms,
            )?
            .max(1),
        bind_latency_ms: cx.duration(
            "sim.bind_latency",
            &sf.sim.bind_latency,
            d.bind_latency_ms,
        )?,
        bind_spread_ms: cx.duration("sim.bind_spread", &sf.sim.bind_spread, d.bind_spread_ms)?,
        controller_delay_ms: cx.duration(
            "sim.controller_delay",
            &sf.sim.controller_delay,
            d.controller_delay_ms,
        )?,
        eviction_grace_ms: cx.duration(
            "sim.eviction_grace",
            &sf.sim.eviction_grace,
            d.eviction_grace_ms,
        )?,
        sample_period_ms: cx
            .duration(
                "sim.sample_period",
                &sf.sim.sample_period,
                d.sample_period_ms,
            )?
            .max(1),
        vcjob_mode: match sf.sim.job_object.as_deref() {
            None | Some("vcjob") => true,
            Some("podgroup") => false,
            Some(o) => {
                return Err(cx.err(
                    "sim.job_object",
                    format!("{o:?}: expected vcjob or podgroup"),
                ))
            }
        },
        on_evict,
        topology,
    })
}

/// `[sim] on_evict/max_retry` (every job) and the same keys per `[[workload.classes]]` table
/// (the jobs of that class, whatever produced them).
pub(super) fn on_evict_policy(cx: &Ctx, sf: &ScenarioFile) -> Result<OnEvictPolicy, ScenarioError> {
    let keys = |at: &str, e: Option<&String>, m: Option<i64>| {
        OnEvict::from_keys(e.map(String::as_str), m)
            .map_err(|(k, msg)| cx.err(format!("{at}{k}"), msg))
    };
    let mut p = OnEvictPolicy {
        default: keys("sim.", sf.sim.on_evict.as_ref(), sf.sim.max_retry)?.unwrap_or_default(),
        classes: BTreeMap::new(),
    };
    for (i, c) in sf.workload.classes.iter().enumerate() {
        let at = format!("workload.classes[{i}].");
        if let Some(o) = keys(&at, c.on_evict.as_ref(), c.max_retry)? {
            p.classes.insert(c.name.clone(), o);
        }
    }
    Ok(p)
}
