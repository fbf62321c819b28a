//! The modelled Volcano scheduler: snapshot, session, tiers, statements, actions, plugins and
//! the scheduler conf. **No I/O, no clock, no RNG unless passed in**; depends only on `model`.
//! One call, `run_cycle(snapshot, conf, now, rng)`, is one scheduling cycle and returns the
//! decisions; the simulator and the live mode both drive it.

pub mod actions;
pub mod conf;
pub mod fres;
pub mod heap;
pub mod index;
pub mod order;
pub mod plugin;
pub mod plugins;
pub mod podgroup;
pub mod scores;
pub mod session;
pub mod snapshot;
pub mod status;
pub mod tiers;

pub use conf::{parse_scheduler_conf, Action, SchedulerConf};
pub use session::{
    run_cycle, run_cycle_observed, CycleOutput, Decision, FirstTie, Session, TieBreak,
};
pub use snapshot::{JobId, NodeId, PodGroupPhase, QueueId, Snapshot, TaskId, TaskStatus};
