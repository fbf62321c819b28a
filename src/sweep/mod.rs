//! Many runs of one scenario: sweeps (grid or list, rayon, shards, merge) and the capacity
//! search, every point through the one run pipeline (`run::RunSpec::load` → `run::run`), whose
//! `RunReport` gives each row its headline metrics and SLO verdicts. Depends on `run`,
//! `scenario` and `report`; no stdout (the CLI prints), no wall clock in results.
//!
//! Seeds: point `p` (replication `r`) of a sweep over a scenario with base seed `b` runs with
//! `spec::point_seed` — `common` mode (default): `r = 0 → b`, else `splitmix64(b ^ splitmix64(r))`;
//! `per-point`: `splitmix64(b ^ splitmix64(p + 1))`. The seed is written into the scenario
//! before loading, so it drives both the synthetic workload and the engine.

pub mod capacity;
pub mod plots;
pub mod report;
pub mod run;
pub mod spec;
pub mod summary;
pub mod table;

pub use run::{merge, read_results, run_sweep, write_results, SweepError, SweepMeta, SweepRun};
pub use spec::{load_sweep, parse_shard, point_seed, SeedMode, Sweep};
