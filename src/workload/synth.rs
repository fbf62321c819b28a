//! The scenario's synthetic workload: `[[workload.classes]]` tables (`WorkloadClass`) and the
//! seeded generator that turns them into `TraceJob`s.
//!
//! Depends only on `crate::model` and `crate::workload`. Invariants: deterministic for a given
//! (classes, horizon, seed); each class draws from its own ChaCha8 streams — stream `2i` for
//! arrivals, `2i + 1` for job attributes, `i` = class index — so appending a class, or changing
//! one class's sizes, leaves the other classes' (and that class's arrival) draws unchanged.
//! Output order: `(submit_ms, class index, sequence)`.
//!
//! ```toml
//! [[workload.classes]]
//! name = "etl"                     # job ids etl-0, etl-1, …; TraceJob.class = "etl"
//! queue = "batch"
//! priority_class = "low"           # optional; `priority = 0` optional too
//! rate_per_min = 2.5               # or interval = "30s", or times = ["0s", "90s"]
//! start = "5m"                     # optional window [start, stop) (not with `times`)
//! stop = "1h"
//! count = 100                      # optional cap on the number of jobs
//! duration = { dist = "lognormal", median = "20m", sigma = 0.4 }
//! cpu = 3                          # per pod: number = cores, or "500m"; cpu_max → uniform
//! cpu_max = "4"
//! memory = "8Gi"                   # per pod: quantity, number = bytes; memory_max → uniform
//! gpu = 1                          # optional, nvidia.com/gpu per pod; gpu_max → uniform
//! replicas = { min = 2, max = 4 }  # or a number (default 1)
//! min_member = "all"               # or a number ≤ replicas (default "all")
//! on_evict = "restart-job"         # job controller on eviction (scenario-level; see
//! max_retry = 3                    #   scenarios/README.md); default recreate-pod
//! ```

use std::collections::HashSet;
use std::fmt;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp, LogNormal};
use serde::Deserialize;

use super::{TraceError, TraceJob};
use crate::model::{parse_quantity, ResourceName, Resources};

mod values;
pub use values::{DurationDist, DurationMs, IntRange, MinMember, Quantity, Replicas};

/// Most jobs the classes of one workload generate together (the scenario limit of
/// `docs/limits.md`; guards against a long horizon without `stop`/`count`): arrivals stop one
/// past it and the workload is refused before any job is built.
pub const MAX_JOBS: usize = 2_000_000;

/// One `[[workload.classes]]` table. Exactly one of `rate_per_min`, `interval`, `times`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadClass {
    pub name: String,
    pub queue: String,
    #[serde(default)]
    pub priority_class: Option<String>,
    /// Job priority when no `priority_class` is named (default 0).
    #[serde(default)]
    pub priority: i32,
    /// Poisson arrivals, jobs per minute (> 0); the first arrives one gap after `start`.
    #[serde(default)]
    pub rate_per_min: Option<f64>,
    /// Fixed spacing (> 0); the first job arrives at `start`.
    #[serde(default)]
    pub interval: Option<DurationMs>,
    /// Explicit submission offsets from the workload origin (any order).
    #[serde(default)]
    pub times: Option<Vec<DurationMs>>,
    /// Offset of the arrival window (default 0); not with `times`.
    #[serde(default)]
    pub start: Option<DurationMs>,
    /// End of the arrival window, exclusive (default: the horizon); not with `times`.
    #[serde(default)]
    pub stop: Option<DurationMs>,
    /// At most this many jobs.
    #[serde(default)]
    pub count: Option<u64>,
    pub duration: DurationDist,
    pub cpu: Quantity,
    #[serde(default)]
    pub cpu_max: Option<Quantity>,
    pub memory: Quantity,
    #[serde(default)]
    pub memory_max: Option<Quantity>,
    #[serde(default)]
    pub gpu: Option<Quantity>,
    #[serde(default)]
    pub gpu_max: Option<Quantity>,
    #[serde(default)]
    pub replicas: Option<Replicas>,
    #[serde(default)]
    pub min_member: Option<MinMember>,
    /// The job controller's reaction to an evicted pod of this class (`recreate-pod` or
    /// `restart-job`); read by the scenario, not by the generator.
    #[serde(default)]
    pub on_evict: Option<String>,
    /// `restart-job` only: Volcano `maxRetry` (default 3); read by the scenario.
    #[serde(default)]
    pub max_retry: Option<i64>,
    /// The PodGroup `networkTopology` of this class's jobs; read by the scenario.
    #[serde(default)]
    pub network_topology: Option<ClassTopology>,
}

/// `network_topology = { mode = "hard", highest_tier = 1 }` (or `highest_tier_name = "rack"`)
/// of a workload class: the PodGroup `spec.networkTopology` its jobs carry. Checked by the
/// scenario loader.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassTopology {
    /// `hard` (default) or `soft`.
    #[serde(default)]
    pub mode: Option<String>,
    /// `highestTierAllowed`.
    #[serde(default)]
    pub highest_tier: Option<i64>,
    /// `highestTierName`.
    #[serde(default)]
    pub highest_tier_name: Option<String>,
}

/// A class checked and converted to integer units.
struct Plan {
    arrival: Arrival,
    start: u64,
    stop: Option<u64>,
    count: usize,
    cpu: (i64, i64),
    mem: (i64, i64),
    gpu: Option<(i64, i64)>,
    replicas: (u32, u32),
    min_member: Option<u32>,
}

enum Arrival {
    Poisson(Exp<f64>),
    Interval(u64),
    Times(Vec<u64>),
}

impl WorkloadClass {
    /// Checks every field; errors name the class and the field.
    pub fn validate(&self) -> Result<(), TraceError> {
        self.plan().map(|_| ())
    }

    fn err(&self, field: &str, message: impl fmt::Display) -> TraceError {
        TraceError::class(&self.name, field, message)
    }

    fn plan(&self) -> Result<Plan, TraceError> {
        if self.name.is_empty() {
            return Err(self.err("name", "must not be empty"));
        }
        if self.queue.is_empty() {
            return Err(self.err("queue", "must not be empty"));
        }
        let modes = [
            self.rate_per_min.is_some(),
            self.interval.is_some(),
            self.times.is_some(),
        ];
        if modes.iter().filter(|m| **m).count() != 1 {
            return Err(self.err(
                "arrival",
                "set exactly one of rate_per_min, interval, times",
            ));
        }
        let arrival = if let Some(rate) = self.rate_per_min {
            if !(rate.is_finite() && rate > 0.0) {
                return Err(self.err("rate_per_min", format!("{rate} must be a positive number")));
            }
            Arrival::Poisson(Exp::new(rate / 60_000.0).map_err(|e| self.err("rate_per_min", e))?)
        } else if let Some(iv) = self.interval {
            if iv.0 == 0 {
                return Err(self.err("interval", "must be > 0"));
            }
            Arrival::Interval(iv.0)
        } else {
            if self.start.is_some() || self.stop.is_some() {
                return Err(self.err(
                    "times",
                    "start/stop apply only to rate_per_min and interval",
                ));
            }
            let mut t: Vec<u64> = self.times.iter().flatten().map(|d| d.0).collect();
            if t.is_empty() {
                return Err(self.err("times", "empty list"));
            }
            t.sort_unstable();
            Arrival::Times(t)
        };
        let start = self.start.map_or(0, |d| d.0);
        let stop = self.stop.map(|d| d.0);
        if stop.is_some_and(|s| s <= start) {
            return Err(self.err("stop", "must be after start"));
        }
        let count = match self.count {
            Some(c) if c as usize > MAX_JOBS => {
                return Err(self.err("count", format!("{c} exceeds the limit of {MAX_JOBS} jobs")));
            }
            Some(c) => c as usize,
            // no count: the arrivals stop at the horizon or `stop`, within `MAX_JOBS` in all
            None => usize::MAX,
        };
        self.check_duration()?;
        let cpu = self.range("cpu", &self.cpu, self.cpu_max.as_ref(), ResourceName::CPU)?;
        let mem = self.range(
            "memory",
            &self.memory,
            self.memory_max.as_ref(),
            ResourceName::MEMORY,
        )?;
        let gpu = match (&self.gpu, &self.gpu_max) {
            (Some(g), max) => Some(self.range("gpu", g, max.as_ref(), ResourceName::GPU)?),
            (None, Some(_)) => return Err(self.err("gpu_max", "needs gpu")),
            (None, None) => None,
        };
        let replicas = match self.replicas.unwrap_or(Replicas::Fixed(1)) {
            Replicas::Fixed(n) => (n, n),
            Replicas::Range(r) => (r.min, r.max),
        };
        if replicas.0 == 0 || replicas.0 > replicas.1 {
            return Err(self.err(
                "replicas",
                format!("need 1 ≤ min ≤ max, got {}..{}", replicas.0, replicas.1),
            ));
        }
        let min_member = match self.min_member.unwrap_or(MinMember::All) {
            MinMember::All => None,
            MinMember::Count(m) if m >= 1 && m <= replicas.0 => Some(m),
            MinMember::Count(m) => {
                return Err(self.err(
                    "min_member",
                    format!("{m} must be between 1 and replicas ({})", replicas.0),
                ));
            }
        };
        Ok(Plan {
            arrival,
            start,
            stop,
            count,
            cpu,
            mem,
            gpu,
            replicas,
            min_member,
        })
    }

    fn check_duration(&self) -> Result<(), TraceError> {
        match self.duration {
            DurationDist::Exponential { mean } if mean.0 == 0 => {
                Err(self.err("duration.mean", "must be > 0"))
            }
            DurationDist::Lognormal { median, .. } if median.0 == 0 => {
                Err(self.err("duration.median", "must be > 0"))
            }
            DurationDist::Lognormal { sigma, .. } if !(sigma.is_finite() && sigma >= 0.0) => {
                Err(self.err("duration.sigma", format!("{sigma} must be ≥ 0")))
            }
            DurationDist::Uniform { min, max } if min > max => {
                Err(self.err("duration", "min exceeds max"))
            }
            DurationDist::Fixed { value } if value.0 == 0 => {
                Err(self.err("duration.value", "must be > 0"))
            }
            _ => Ok(()),
        }
    }

    fn range(
        &self,
        field: &str,
        lo: &Quantity,
        hi: Option<&Quantity>,
        d: ResourceName,
    ) -> Result<(i64, i64), TraceError> {
        let q = |f: &str, v: &Quantity| parse_quantity(&v.0, d.scale()).map_err(|e| self.err(f, e));
        let lo_v = q(field, lo)?;
        let Some(hi) = hi else {
            return Ok((lo_v, lo_v));
        };
        let max_field = format!("{field}_max");
        let hi_v = q(&max_field, hi)?;
        if hi_v < lo_v {
            return Err(self.err(
                &max_field,
                format!("{:?} is below {field} {:?}", hi.0, lo.0),
            ));
        }
        Ok((lo_v, hi_v))
    }
}

/// Generates the jobs of `classes` arriving in `[0, horizon_ms)`, sorted by
/// `(submit_ms, class index, sequence)`. Validates every class first (names must be unique).
/// Durations are whole milliseconds, rounded, at least 1 ms.
pub fn generate(
    classes: &[WorkloadClass],
    horizon_ms: u64,
    seed: u64,
) -> Result<Vec<TraceJob>, TraceError> {
    let plans = classes
        .iter()
        .map(WorkloadClass::plan)
        .collect::<Result<Vec<_>, _>>()?;
    let mut names = HashSet::new();
    if let Some(dup) = classes.iter().find(|c| !names.insert(c.name.as_str())) {
        return Err(dup.err("name", "used by two classes"));
    }
    let stream = |ci: usize, k: u64| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(2 * ci as u64 + k);
        rng
    };
    // every class's arrivals first (8 bytes a job), so an oversized workload is refused
    // before any job is built
    let mut arrivals_of = Vec::with_capacity(classes.len());
    let mut total = 0usize;
    for (ci, (class, plan)) in classes.iter().zip(&plans).enumerate() {
        let times = arrivals(
            class,
            plan,
            horizon_ms,
            MAX_JOBS - total,
            &mut stream(ci, 0),
        )?;
        total += times.len();
        arrivals_of.push(times);
    }
    let mut all: Vec<(u64, usize, usize, TraceJob)> = Vec::with_capacity(total);
    for (ci, ((class, plan), times)) in classes.iter().zip(&plans).zip(arrivals_of).enumerate() {
        let mut rng = stream(ci, 1);
        for (seq, submit_ms) in times.into_iter().enumerate() {
            let job = sample_job(class, plan, seq, submit_ms, &mut rng);
            all.push((submit_ms, ci, seq, job));
        }
    }
    all.sort_by_key(|(t, ci, seq, _)| (*t, *ci, *seq));
    Ok(all.into_iter().map(|(.., job)| job).collect())
}

/// Arrival times of `class` in `[start, min(stop, horizon))`; more than `budget` (what
/// [`MAX_JOBS`] leaves after the classes before it) is an error.
fn arrivals(
    class: &WorkloadClass,
    plan: &Plan,
    horizon_ms: u64,
    budget: usize,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<u64>, TraceError> {
    let end = plan.stop.map_or(horizon_ms, |s| s.min(horizon_ms));
    let cap = plan.count.min(budget.saturating_add(1));
    let mut out = Vec::new();
    match &plan.arrival {
        Arrival::Times(ts) => out.extend(ts.iter().copied().filter(|&t| t < horizon_ms).take(cap)),
        Arrival::Interval(iv) => {
            let mut t = plan.start;
            while t < end && out.len() < cap {
                out.push(t);
                t = t.saturating_add(*iv);
            }
        }
        Arrival::Poisson(gap) => {
            let mut t = plan.start as f64;
            while out.len() < cap {
                t += gap.sample(rng);
                let at = t.round() as u64;
                if at >= end {
                    break;
                }
                out.push(at);
            }
        }
    }
    if out.len() > budget {
        return Err(class.err(
            "count",
            format!(
                "the workload classes arrive more than {MAX_JOBS} times within the horizon \
                 (the limit of docs/limits.md); set count or stop, or shorten the horizon"
            ),
        ));
    }
    Ok(out)
}

/// Per-job draws, in this order: duration, replicas, cpu, memory, gpu; a fixed value draws
/// nothing.
fn sample_job(
    class: &WorkloadClass,
    plan: &Plan,
    seq: usize,
    submit_ms: u64,
    rng: &mut ChaCha8Rng,
) -> TraceJob {
    let ms = |x: f64| (x.round() as u64).max(1);
    let duration_ms = match class.duration {
        DurationDist::Exponential { mean } => ms(Exp::new(1.0 / mean.0 as f64)
            .expect("validated")
            .sample(rng)),
        DurationDist::Lognormal { median, sigma } => {
            ms(LogNormal::new((median.0 as f64).ln(), sigma)
                .expect("validated")
                .sample(rng))
        }
        DurationDist::Uniform { min, max } => uniform(rng, min.0, max.0).max(1),
        DurationDist::Fixed { value } => value.0,
    };
    let replicas = uniform(rng, plan.replicas.0, plan.replicas.1);
    let cpu = uniform(rng, plan.cpu.0, plan.cpu.1);
    let mem = quantized(rng, plan.mem, 1 << 20);
    let mut requests = Resources::cpu_mem(cpu, mem);
    if let Some(g) = plan.gpu {
        requests.set(ResourceName::GPU, uniform(rng, g.0, g.1));
    }
    TraceJob {
        id: format!("{}-{seq}", class.name),
        submit_ms,
        duration_ms,
        replicas,
        min_member: plan.min_member.unwrap_or(replicas),
        requests,
        queue: class.queue.clone(),
        priority_class: class.priority_class.clone(),
        priority: class.priority,
        class: class.name.clone(),
    }
}

fn uniform<T: rand::distr::uniform::SampleUniform + PartialOrd + Copy>(
    rng: &mut ChaCha8Rng,
    lo: T,
    hi: T,
) -> T {
    if lo < hi {
        rng.random_range(lo..=hi)
    } else {
        lo
    }
}

/// Uniform in `[lo, hi]` on multiples of `step` when both bounds are multiples (whole MiB).
fn quantized(rng: &mut ChaCha8Rng, (lo, hi): (i64, i64), step: i64) -> i64 {
    if lo % step == 0 && hi % step == 0 {
        uniform(rng, lo / step, hi / step) * step
    } else {
        uniform(rng, lo, hi)
    }
}

#[cfg(test)]
mod tests;
