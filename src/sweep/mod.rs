//! Many runs of one scenario: field-path overrides, sweeps (grid or list, rayon, shards, merge),
//! headline metrics and SLO evaluation, the capacity search. Depends on `scenario`, `sim` and
//! `report` types; no stdout (the CLI prints), no wall clock in results.
//!
//! Seeds: point `p` (replication `r`) of a sweep over a scenario with base seed `b` runs with
//! `spec::point_seed` — `common` mode (default): `r = 0 → b`, else `splitmix64(b ^ splitmix64(r))`;
//! `per-point`: `splitmix64(b ^ splitmix64(p + 1))`. The seed is written into the scenario
//! before loading, so it drives both the synthetic workload and the engine.

pub mod capacity;
pub mod headline;
pub mod overrides;
pub mod plots;
pub mod point;
pub mod report;
pub mod run;
pub mod spec;
pub mod summary;
pub mod table;

pub use headline::{eval_slos, headline, Headline, SloResult};
pub use overrides::{load_with_overrides, LoadError, Override, OverrideError};
pub use point::{run_point, run_scenario, sim_input, PointRun};
pub use run::{merge, read_results, run_sweep, write_results, SweepError, SweepMeta, SweepRun};
pub use spec::{load_sweep, parse_shard, point_seed, SeedMode, Sweep};
