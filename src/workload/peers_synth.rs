//! The shared bench traces (`peers-synth-v1`): a faithful port of `generate()` in
//! `/work/shared/bench/gen_synth_trace.py`, its splitmix64 generator included.
//!
//! Depends only on `crate::model` and `crate::workload`. Invariant: for the same
//! (scenario, jobs, nodes, rho, seed) the jobs equal the Python ones, so `write_csv_trace`
//! reproduces the bench CSV byte for byte (sha256 values in `bench/README.md`).
//! Keep every float operation in the Python order: `f64::ln` and Python's `math.log` both call
//! the platform libm, and one reordered multiplication changes submit times.

use std::fmt;
use std::str::FromStr;

use super::TraceJob;
use crate::model::Resources;

/// The three bench scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeersScenario {
    /// Poisson arrivals at `rho` of the cluster's cores, one pod per job.
    Steady,
    /// Every job submitted uniformly in the first 60 s, one pod per job.
    Backlog,
    /// Like `Steady`, with 1, 2, 4 or 8 replicas per job, all-or-nothing.
    Gang,
}

impl FromStr for PeersScenario {
    type Err = String;
    fn from_str(s: &str) -> Result<PeersScenario, String> {
        match s {
            "steady" => Ok(PeersScenario::Steady),
            "backlog" => Ok(PeersScenario::Backlog),
            "gang" => Ok(PeersScenario::Gang),
            _ => Err(format!(
                "unknown bench scenario {s:?} (expected steady, backlog or gang)"
            )),
        }
    }
}

impl fmt::Display for PeersScenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PeersScenario::Steady => "steady",
            PeersScenario::Backlog => "backlog",
            PeersScenario::Gang => "gang",
        })
    }
}

/// The generator's default offered load (`--rho`).
pub const DEFAULT_RHO: f64 = 0.9;
/// The generator's default seed (`--seed`).
pub const DEFAULT_SEED: u64 = 42;
/// Cores of one bench node (nodes are 32 cores / 128 GiB).
pub const NODE_CORES: u32 = 32;
/// Memory of one bench node, MiB.
pub const NODE_MEM_MIB: u64 = 128 * 1024;

const CORE_CHOICES: [u32; 4] = [1, 2, 4, 8];
const REPLICA_CHOICES: [u32; 4] = [1, 2, 4, 8];
const MEAN_DURATION: f64 = 600.0;

/// Python's `SplitMix64` class (`model::SplitMix64`) with its derived draws.
struct SplitMix64(crate::model::SplitMix64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.uniform()).ln()
    }
}

/// Most jobs `volsim trace gen` writes (the scenario job limit of `docs/limits.md`; the
/// generator holds every job before writing).
pub const MAX_JOBS: usize = 2_000_000;

/// `generate_rho` with the generator's default load, `rho = 0.9`.
pub fn generate(scenario: PeersScenario, jobs: usize, nodes: u32, seed: u64) -> Vec<TraceJob> {
    generate_rho(scenario, jobs, nodes, DEFAULT_RHO, seed)
}

/// The bench jobs, sorted by `(submit, job number)` like the Python generator.
///
/// Each job: id = job number (`"0"`, `"1"`, …), whole-second submit and duration, `replicas`
/// 1 (or 1/2/4/8 in `Gang`), `min_member = replicas`, per pod `cores × 1000` millicores and
/// `cores × 4 GiB`, queue `q0`..`q3`, priority 0, no priority class, class `""`. Write with
/// `write_csv_trace` to get the bench CSV. `jobs = 0` or `nodes = 0` (no arrivals possible)
/// gives an empty or degenerate trace exactly as the Python code would.
pub fn generate_rho(
    scenario: PeersScenario,
    jobs: usize,
    nodes: u32,
    rho: f64,
    seed: u64,
) -> Vec<TraceJob> {
    let mut rng = SplitMix64(crate::model::SplitMix64(seed));
    let gang = scenario == PeersScenario::Gang;
    let mean_replicas = if gang { 3.75 } else { 1.0 };
    let lam =
        rho * f64::from(nodes) * f64::from(NODE_CORES) / (3.75 * mean_replicas * MEAN_DURATION);
    let mut t = 0.0f64;
    let mut out: Vec<(u64, usize, TraceJob)> = Vec::with_capacity(jobs);
    for j in 0..jobs {
        let submit = if scenario == PeersScenario::Backlog {
            rng.below(60)
        } else {
            t += rng.exp(1.0 / lam);
            t as u64
        };
        let cores = CORE_CHOICES[rng.below(4) as usize];
        let replicas = if gang {
            REPLICA_CHOICES[rng.below(4) as usize]
        } else {
            1
        };
        let duration = 60 + rng.exp(MEAN_DURATION - 60.0) as u64;
        let queue = rng.below(4);
        let requests = Resources::cpu_mem(i64::from(cores) * 1000, (i64::from(cores) * 4096) << 20);
        let job = TraceJob {
            id: j.to_string(),
            submit_ms: submit * 1000,
            duration_ms: duration * 1000,
            replicas,
            min_member: replicas,
            requests,
            queue: format!("q{queue}"),
            priority_class: None,
            priority: 0,
            class: String::new(),
        };
        out.push((submit, j, job));
    }
    out.sort_by_key(|(submit, j, _)| (*submit, *j));
    out.into_iter().map(|(_, _, job)| job).collect()
}

/// The bench file name stem, `synth-<scenario>-<jobs>j-<nodes>n-s<seed>`.
pub fn trace_name(scenario: PeersScenario, jobs: usize, nodes: u32, seed: u64) -> String {
    format!("synth-{scenario}-{jobs}j-{nodes}n-s{seed}")
}

#[cfg(test)]
mod tests;
