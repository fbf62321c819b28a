//! The shared vocabulary: dense object ids, resources, quantities, time (and `Stamp`, a time
//! that may not have come yet), engine parameters,
//! hashes, the static specs of nodes, queues,
//! PodGroups (jobs) and pods (tasks), the job controller's eviction policy (`OnEvict`), and the
//! network topology (HyperNodes, PodGroup `networkTopology`).
//!
//! Depends on nothing else in the crate. Everything here is plain data with integer units
//! (cpu millicores, memory bytes, `pods` whole units, other scalars milli-units) so that every
//! layer above can compare and hash it deterministically.

pub mod duration;
pub mod hash;
pub mod ids;
pub mod on_evict;
pub mod params;
pub mod quantity;
pub mod resources;
pub mod spec;
pub mod stamp;
pub mod topology;

pub use duration::{format_duration, parse_duration, SimTime};
pub use hash::{fnv1a, fnv1a_from, splitmix, Fnv, SplitMix64, FNV_OFFSET};
pub use ids::{JobId, NodeId, QueueId, TaskId};
pub use on_evict::{OnEvict, OnEvictPolicy, DEFAULT_MAX_RETRY};
pub use params::EngineParams;
pub use quantity::{parse_quantity, QuantityError};
pub use resources::{DefaultValue, ResourceName, Resources};
pub use spec::*;
pub use stamp::Stamp;
pub use topology::{
    ClusterTopology, HyperNodeMember, HyperNodeSpec, LabelRequirement, MemberSelector, MemberType,
    NetworkTopologySpec, SelectorOp, TopologyMode, MAX_TIER,
};
