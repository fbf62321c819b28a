//! The modelled Volcano plugins and the one match that builds them from a typed `PluginConf`
//! (no stringly-typed registry).
//! Depends on policy types and `model` only.

pub mod binpack;
pub mod capacity;
pub mod conformance;
pub mod drf;
pub mod gang;
pub mod hdrf;
pub mod network_topology_aware;
pub mod nodeorder;
pub mod overcommit;
pub mod predicates;
pub mod priority;
pub mod proportion;
pub mod sla;

use super::conf::{PluginArgs, PluginConf};
use super::plugin::Plugin;

/// Builds the plugin `pc` configures (once per `Scheduler`; per-session state is reset by
/// `Plugin::on_session_open`).
pub fn build(pc: &PluginConf) -> Box<dyn Plugin> {
    match &pc.args {
        PluginArgs::Gang => Box::new(gang::Gang),
        PluginArgs::Priority => Box::new(priority::Priority),
        PluginArgs::Conformance => Box::new(conformance::Conformance),
        PluginArgs::Drf => Box::new(drf::Drf::new(pc.hierarchy)),
        PluginArgs::Proportion => Box::new(proportion::Proportion::default()),
        PluginArgs::Capacity(a) => Box::new(capacity::Capacity::new(a, pc.hierarchy)),
        PluginArgs::Predicates(a) => Box::new(predicates::Predicates::new(a)),
        PluginArgs::NodeOrder(a) => Box::new(nodeorder::NodeOrder::new(a)),
        PluginArgs::Binpack(a) => Box::new(binpack::Binpack::new(a)),
        PluginArgs::Overcommit(a) => Box::new(overcommit::Overcommit::new(a)),
        PluginArgs::Sla(a) => Box::new(sla::Sla::new(a)),
        PluginArgs::NetworkTopologyAware(a) => {
            Box::new(network_topology_aware::NetworkTopologyAware::new(a))
        }
    }
}

use std::cmp::Ordering;

/// Ordering from a "smaller is first" comparison of two floats (NaN-safe).
#[inline]
pub(crate) fn cmp_f64(a: f64, b: f64) -> Ordering {
    a.partial_cmp(&b).unwrap_or(Ordering::Equal)
}

/// The index in `running` of queue `q`'s running `allocated`, pushed with `start` the first time
/// the queue is met: the per-queue total a victim walk lowers as it picks victims (proportion
/// and capacity reclaim, capacity's gang path).
pub(crate) fn running_slot(
    running: &mut Vec<(super::QueueId, crate::model::Resources)>,
    q: super::QueueId,
    start: crate::model::Resources,
) -> usize {
    match running.iter().position(|(x, _)| *x == q) {
        Some(p) => p,
        None => {
            running.push((q, start));
            running.len() - 1
        }
    }
}
