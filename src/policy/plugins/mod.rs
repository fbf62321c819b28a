//! The modelled Volcano plugins and the registry that builds them from a `PluginConf`.
//! One closed table maps names to constructors (no stringly-typed registry elsewhere).
//! Depends on policy types and `model` only.

pub mod binpack;
pub mod capacity;
pub mod conformance;
pub mod drf;
pub mod gang;
pub mod nodeorder;
pub mod overcommit;
pub mod predicates;
pub mod priority;
pub mod proportion;
pub mod sla;

use super::conf::PluginConf;
use super::plugin::Plugin;

/// Builds the plugin named by `pc`; `None` for plugins volsim does not model (the conf parser
/// has already warned about them).
pub fn build(pc: &PluginConf) -> Option<Box<dyn Plugin>> {
    Some(match pc.name.as_str() {
        "gang" => Box::new(gang::Gang),
        "priority" => Box::new(priority::Priority),
        "conformance" => Box::new(conformance::Conformance),
        "drf" => Box::new(drf::Drf),
        "proportion" => Box::new(proportion::Proportion::default()),
        "capacity" => Box::new(capacity::Capacity::new(pc)),
        "predicates" => Box::new(predicates::Predicates::new(&pc.args)),
        "nodeorder" => Box::new(nodeorder::NodeOrder::new(&pc.args)),
        "binpack" => Box::new(binpack::Binpack::new(&pc.args)),
        "overcommit" => Box::new(overcommit::Overcommit::new(&pc.args)),
        "sla" => Box::new(sla::Sla::new(&pc.args)),
        _ => return None,
    })
}

use std::cmp::Ordering;

/// Ordering from a "smaller is first" comparison of two floats (NaN-safe).
#[inline]
pub(crate) fn cmp_f64(a: f64, b: f64) -> Ordering {
    a.partial_cmp(&b).unwrap_or(Ordering::Equal)
}
