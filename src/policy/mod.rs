//! The modelled Volcano scheduler: the typed scheduler conf, `Scheduler` (built once per run:
//! plugins and cross-cycle caches), snapshot, session, tiers, statements, actions and plugins.
//! **No I/O, no clock, no global state, RNG only passed in**; depends only on `model`.
//! `Scheduler::new(&conf)?` then `scheduler.cycle(&mut snapshot, now, rng)` per scheduling
//! cycle returns the decisions; the simulator and the live mode both drive it.

pub mod accel;
pub mod actions;
pub mod conf;
pub mod explain;
pub mod fres;
pub mod heap;
pub mod index;
pub mod plugin;
pub mod plugins;
pub mod podgroup;
pub mod records;
pub mod scheduler;
pub mod session;
pub mod slots;
pub mod snapshot;
pub mod status;
pub mod tiers;
pub mod topology;

#[cfg(test)]
mod compat_tests;

pub use conf::{parse_scheduler_conf, Action, ConfError, PluginKind, SchedulerConf};
pub use explain::WaitReason;
pub use scheduler::Scheduler;
pub use session::{CycleOutput, Decision, FirstTie, Session, TieBreak};
pub use snapshot::{JobId, NodeId, PodGroupPhase, QueueId, Snapshot, TaskId, TaskStatus};
