//! Integer resource vectors with Volcano's comparison semantics (`api/resource_info.go`).
//!
//! Dimensions: 0 = cpu (millicores), 1 = memory (bytes), 2 = `pods` (whole units), then named
//! scalars in milli-units (`nvidia.com/gpu: 1` → 1000). Scalar names are interned in a
//! process-wide, append-only table; `cpu`, `memory`, `pods`, `nvidia.com/gpu` and
//! `ephemeral-storage` are pre-registered so their indexes never vary. Whether a scalar is
//! *present* (a key in Volcano's `ScalarResources` map, even with value 0) is tracked because
//! several comparisons depend on it. Volcano compares floats with a 0.1 tolerance; on integer
//! units that tolerance is exact equality, so no float appears here except in shares.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::RwLock;

use super::quantity::{parse_quantity, QuantityError};

/// Maximum number of distinct resource dimensions (cpu, memory, pods + 9 scalars).
pub const MAX_DIMS: usize = 12;

/// Index of a resource dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceName(pub u8);

impl ResourceName {
    pub const CPU: ResourceName = ResourceName(0);
    pub const MEMORY: ResourceName = ResourceName(1);
    pub const PODS: ResourceName = ResourceName(2);
    pub const GPU: ResourceName = ResourceName(3);

    /// Interns `name` (Kubernetes resource name) and returns its dimension.
    pub fn intern(name: &str) -> Result<ResourceName, String> {
        let name = name.trim();
        if name.is_empty() {
            return Err("empty resource name".into());
        }
        if TABLE.read().expect("resource table poisoned").is_empty() {
            ensure_table();
        }
        {
            let t = TABLE.read().expect("resource table poisoned");
            if let Some(i) = t.iter().position(|n| n == name) {
                return Ok(ResourceName(i as u8));
            }
        }
        let mut t = TABLE.write().expect("resource table poisoned");
        if let Some(i) = t.iter().position(|n| n == name) {
            return Ok(ResourceName(i as u8));
        }
        if t.len() >= MAX_DIMS {
            return Err(format!(
                "too many distinct resource names (at most {MAX_DIMS}, including cpu, memory and pods); cannot add {name:?}"
            ));
        }
        t.push(name.to_string());
        Ok(ResourceName((t.len() - 1) as u8))
    }

    /// The dimension of `name` if it is already interned (never adds one: the policy core
    /// resolves configured names with this, so it writes no shared state).
    pub fn lookup(name: &str) -> Option<ResourceName> {
        let name = name.trim();
        if let Some(i) = WELL_KNOWN.iter().position(|n| *n == name) {
            return Some(ResourceName(i as u8));
        }
        let t = TABLE.read().expect("resource table poisoned");
        t.iter()
            .position(|n| n == name)
            .map(|i| ResourceName(i as u8))
    }

    /// The Kubernetes name of this dimension.
    pub fn name(self) -> String {
        ensure_table();
        TABLE.read().expect("resource table poisoned")[self.0 as usize].clone()
    }

    /// Units per whole quantity: 1000 for cpu and scalars (milli-units), 1 for memory and pods.
    pub fn scale(self) -> i64 {
        match self.0 {
            1 | 2 => 1,
            _ => 1000,
        }
    }
}

static TABLE: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// The pre-registered dimensions, in index order.
const WELL_KNOWN: [&str; 5] = [
    "cpu",
    "memory",
    "pods",
    "nvidia.com/gpu",
    "ephemeral-storage",
];

fn ensure_table() {
    let mut t = TABLE.write().expect("resource table poisoned");
    if t.is_empty() {
        for n in WELL_KNOWN {
            t.push(n.to_string());
        }
    }
}

/// The default used for a scalar missing on the right-hand side of a comparison
/// (Volcano's `Zero` / `Infinity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultValue {
    Zero,
    Infinity,
}

/// A resource vector. `cpu` and `memory` are always present; scalar presence is a bit mask.
/// Arithmetic saturates at the `i64` range (Volcano computes in float64 and never overflows):
/// only inputs far beyond any real cluster reach it, and they get a saturated sum, not a panic.
#[derive(Clone, Copy, Eq, Default)]
pub struct Resources {
    v: [i64; MAX_DIMS],
    present: u16,
}

impl PartialEq for Resources {
    /// The derived equality (every value and the presence mask), folded branch-free over the
    /// values instead of a byte-compare call: the node-class keys, the score cache and the
    /// index's contributions compare requests on every placement.
    #[inline]
    fn eq(&self, other: &Resources) -> bool {
        let diff = self
            .v
            .iter()
            .zip(&other.v)
            .fold(0i64, |acc, (a, b)| acc | (a ^ b));
        diff == 0 && self.present == other.present
    }
}

impl std::hash::Hash for Resources {
    /// As derived: the values, then the presence mask (consistent with `eq`).
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.v.hash(state);
        self.present.hash(state);
    }
}

const CPU_MEM: u16 = 0b11;

impl Resources {
    /// The empty vector (cpu 0, memory 0, no scalars).
    pub fn empty() -> Resources {
        Resources {
            v: [0; MAX_DIMS],
            present: CPU_MEM,
        }
    }

    /// Builds from (dimension, value in internal units) pairs; every listed dim is present.
    pub fn from_pairs(pairs: &[(ResourceName, i64)]) -> Resources {
        let mut r = Resources::empty();
        for &(d, x) in pairs {
            r.set(d, x);
        }
        r
    }

    /// cpu millicores and memory bytes only.
    pub fn cpu_mem(cpu_milli: i64, mem_bytes: i64) -> Resources {
        let mut r = Resources::empty();
        r.v[0] = cpu_milli;
        r.v[1] = mem_bytes;
        r
    }

    /// Parses a Kubernetes ResourceList (name → quantity string). `pods` is whole units.
    pub fn from_quantities<'a, I>(items: I) -> Result<Resources, String>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut r = Resources::empty();
        for (name, q) in items {
            let d = ResourceName::intern(name)?;
            let x =
                parse_quantity(q, d.scale()).map_err(|e: QuantityError| format!("{name}: {e}"))?;
            r.set(d, x);
        }
        Ok(r)
    }

    #[inline]
    pub fn get(&self, d: ResourceName) -> i64 {
        self.v[d.0 as usize]
    }
    #[inline]
    pub fn cpu(&self) -> i64 {
        self.v[0]
    }
    #[inline]
    pub fn memory(&self) -> i64 {
        self.v[1]
    }
    #[inline]
    pub fn pods(&self) -> i64 {
        self.v[2]
    }
    #[inline]
    pub fn has(&self, d: ResourceName) -> bool {
        self.present & (1 << d.0) != 0
    }
    /// Sets a dimension and marks it present.
    #[inline]
    pub fn set(&mut self, d: ResourceName, x: i64) {
        if self.present == 0 {
            self.present = CPU_MEM;
        }
        self.v[d.0 as usize] = x;
        self.present |= 1 << d.0;
    }
    /// Dimensions that are present (cpu and memory always), ascending.
    pub fn dims(&self) -> impl Iterator<Item = ResourceName> + '_ {
        let p = self.present | CPU_MEM;
        (0..MAX_DIMS as u8)
            .filter(move |i| p & (1 << i) != 0)
            .map(ResourceName)
    }
    fn scalar_dims(&self) -> impl Iterator<Item = usize> + '_ {
        let p = self.present;
        (2..MAX_DIMS).filter(move |i| p & (1 << i) != 0)
    }

    /// Adds `other` (union of present scalars).
    #[inline]
    pub fn add(&mut self, o: &Resources) {
        for i in 0..MAX_DIMS {
            self.v[i] = self.v[i].saturating_add(o.v[i]);
        }
        self.present |= o.present | CPU_MEM;
    }
    /// Subtracts `other` (may go negative; Volcano logs and continues).
    #[inline]
    pub fn sub(&mut self, o: &Resources) {
        for i in 0..MAX_DIMS {
            self.v[i] = self.v[i].saturating_sub(o.v[i]);
        }
        self.present |= o.present | CPU_MEM;
    }
    pub fn plus(mut self, o: &Resources) -> Resources {
        self.add(o);
        self
    }
    pub fn minus(mut self, o: &Resources) -> Resources {
        self.sub(o);
        self
    }
    /// Multiplies every dimension by `k` (used for replicas).
    pub fn times(mut self, k: i64) -> Resources {
        for x in self.v.iter_mut() {
            *x = x.saturating_mul(k);
        }
        self
    }

    /// Every dimension exactly zero (pods included).
    pub fn is_zero(&self) -> bool {
        self.v.iter().all(|&x| x == 0)
    }

    /// `IsEmpty`: cpu, memory and every scalar except `pods` below the 0.1 tolerance.
    pub fn is_empty(&self) -> bool {
        self.v[0] <= 0 && self.v[1] <= 0 && self.scalar_dims().all(|i| i == 2 || self.v[i] <= 0)
    }

    /// `LessEqual(l, r, default)`: cpu, memory and every scalar of `l` (pods included).
    pub fn less_equal(&self, r: &Resources, dv: DefaultValue) -> bool {
        if self.v[0] > r.v[0] || self.v[1] > r.v[1] {
            return false;
        }
        let mut bits = self.present & !CPU_MEM;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if r.present & (1 << i) == 0 {
                match dv {
                    DefaultValue::Zero => {
                        if self.v[i] > 0 {
                            return false;
                        }
                    }
                    DefaultValue::Infinity => {}
                }
            } else if self.v[i] > r.v[i] {
                return false;
            }
        }
        if dv == DefaultValue::Infinity {
            // A scalar present in r but missing in l makes the result false.
            let r_only = r.present & !self.present & !CPU_MEM;
            if r_only != 0 {
                return false;
            }
        }
        true
    }

    /// Volcano's `FitDelta`-free fit test used by allocate: `self ⊑ r` with Zero default.
    #[inline]
    pub fn fits_in(&self, r: &Resources) -> bool {
        self.less_equal(r, DefaultValue::Zero)
    }

    /// Requested dimensions of `req`: cpu/memory when > 0, scalars (except pods) when > 0.
    fn requested(req: &Resources) -> impl Iterator<Item = usize> + '_ {
        (0..MAX_DIMS)
            .filter(move |&i| i != 2 && (i < 2 || req.present & (1 << i) != 0) && req.v[i] > 0)
    }

    /// `LessEqualWithDimensionAndResourcesName(l, r, req)`: only dims where `req > 0`
    /// (pods excluded); strict `l_i > r_i` fails; missing scalars count as 0. If `l` has no
    /// scalar at all, scalars are not checked.
    pub fn less_equal_on_requested(&self, r: &Resources, req: &Resources) -> bool {
        let l_has_scalars = self.present & !CPU_MEM != 0;
        for i in Self::requested(req) {
            if i >= 2 && !l_has_scalars {
                continue;
            }
            let rv = if i < 2 || r.present & (1 << i) != 0 {
                r.v[i]
            } else {
                0
            };
            let lv = if i < 2 || self.present & (1 << i) != 0 {
                self.v[i]
            } else {
                0
            };
            if lv > rv {
                return false;
            }
        }
        true
    }

    /// `LessEqualPartlyWithDimension(l, r, req)`: some requested dim has `l_i ≤ r_i`.
    /// With `zero_filtered`, dims where both sides are 0 are dropped first.
    pub fn less_equal_partly(&self, r: &Resources, req: &Resources, zero_filtered: bool) -> bool {
        for i in Self::requested(req) {
            let lv = self.v[i];
            let rv = r.v[i];
            if zero_filtered && lv <= 0 && rv <= 0 {
                continue;
            }
            if lv <= rv {
                return true;
            }
        }
        false
    }

    /// `GreaterPartlyWithRelevantDimensions(l, r, req)`: some dim with `req > 0` that is
    /// present in `r` (cpu/memory: `r_i > 0`; scalar: key exists) has `l_i > r_i`.
    pub fn greater_partly_relevant(&self, r: &Resources, req: &Resources) -> bool {
        for i in Self::requested(req) {
            let relevant = if i < 2 {
                r.v[i] > 0
            } else {
                r.present & (1 << i) != 0
            };
            if relevant && self.v[i] > r.v[i] {
                return true;
            }
        }
        false
    }

    /// `ExceededPart(l, r)`: per-dimension `max(l − r, 0)`.
    pub fn exceeded_part(&self, r: &Resources) -> Resources {
        let mut out = *self;
        for i in 0..MAX_DIMS {
            out.v[i] = self.v[i].saturating_sub(r.v[i]).max(0);
        }
        out.present = self.present | CPU_MEM;
        out
    }

    /// `MinDimensionResource(l, r, default)`: `l_i = min(l_i, r_i)`; a scalar missing in `r`
    /// becomes 0 (`Zero`) or stays (`Infinity`).
    pub fn min_dimension(&self, r: &Resources, dv: DefaultValue) -> Resources {
        let mut out = *self;
        out.v[0] = self.v[0].min(r.v[0]);
        out.v[1] = self.v[1].min(r.v[1]);
        for i in self.scalar_dims() {
            if r.present & (1 << i) != 0 {
                out.v[i] = self.v[i].min(r.v[i]);
            } else if dv == DefaultValue::Zero {
                out.v[i] = 0;
            }
        }
        out
    }

    /// `helpers.Max(l, r)`: per-dimension maximum; union of present scalars.
    pub fn max_with(&self, r: &Resources) -> Resources {
        let mut out = *self;
        for i in 0..MAX_DIMS {
            out.v[i] = self.v[i].max(r.v[i]);
        }
        out.present |= r.present | CPU_MEM;
        out
    }

    /// `ResourceNames(r)`: dimensions with a value above the tolerance (pods included).
    pub fn names(&self) -> impl Iterator<Item = ResourceName> + '_ {
        self.dims().filter(move |d| self.v[d.0 as usize] > 0)
    }

    /// True if every value is zero or less (used for "nothing requested" checks).
    pub fn all_zero(&self) -> bool {
        self.v.iter().all(|&x| x <= 0)
    }

    /// Raw value array (internal units), for hashing and compact output.
    pub fn raw(&self) -> &[i64; MAX_DIMS] {
        &self.v
    }
    pub fn present_mask(&self) -> u16 {
        self.present | CPU_MEM
    }

    /// Human-readable map (name → value in Kubernetes-ish units: cpu cores, memory bytes).
    pub fn to_map(&self) -> BTreeMap<String, f64> {
        self.dims()
            .map(|d| (d.name(), self.get(d) as f64 / d.scale() as f64))
            .collect()
    }
}

/// `helpers.Share(a, d)`: `d == 0 ? (a == 0 ? 0 : 1) : a / d`.
#[inline]
pub fn share(a: i64, d: i64) -> f64 {
    if d == 0 {
        if a == 0 {
            0.0
        } else {
            1.0
        }
    } else {
        a as f64 / d as f64
    }
}

impl fmt::Debug for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        f.write_str("{")?;
        for d in self.dims() {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            let x = self.get(d);
            match d.0 {
                0 => write!(f, "cpu {}m", x)?,
                1 => write!(f, "memory {}", format_bytes(x))?,
                2 => write!(f, "pods {}", x)?,
                _ => write!(f, "{} {}m", d.name(), x)?,
            }
        }
        f.write_str("}")
    }
}

fn format_bytes(b: i64) -> String {
    const GI: i64 = 1 << 30;
    const MI: i64 = 1 << 20;
    if b != 0 && b % GI == 0 {
        format!("{}Gi", b / GI)
    } else if b != 0 && b % MI == 0 {
        format!("{}Mi", b / MI)
    } else {
        b.to_string()
    }
}

/// Makes sure the well-known dimension names are registered (idempotent; called implicitly by
/// the first `intern`). Exposed so tests can assert stable indexes.
pub fn init_resource_names() {
    ensure_table();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(pairs: &[(&str, &str)]) -> Resources {
        init_resource_names();
        Resources::from_quantities(pairs.iter().copied()).unwrap()
    }

    /// A pod asking `memory: 9223372036854775807` next to others (found by fuzzing a
    /// conformance case): sums saturate instead of overflowing.
    #[test]
    fn arithmetic_saturates_at_the_i64_range() {
        let huge = Resources::cpu_mem(1, i64::MAX);
        let one = Resources::cpu_mem(1, 1);
        assert_eq!(huge.plus(&one).memory(), i64::MAX);
        assert_eq!(one.minus(&huge).minus(&huge).memory(), i64::MIN);
        assert_eq!(huge.times(3).memory(), i64::MAX);
        assert_eq!(
            one.minus(&huge).minus(&huge).exceeded_part(&huge).memory(),
            0
        );
        assert_eq!(huge.exceeded_part(&one.minus(&huge)).memory(), i64::MAX);
    }

    #[test]
    fn well_known_indexes_are_stable() {
        init_resource_names();
        assert_eq!(ResourceName::intern("cpu").unwrap(), ResourceName::CPU);
        assert_eq!(
            ResourceName::intern("memory").unwrap(),
            ResourceName::MEMORY
        );
        assert_eq!(ResourceName::intern("pods").unwrap(), ResourceName::PODS);
        assert_eq!(
            ResourceName::intern("nvidia.com/gpu").unwrap(),
            ResourceName::GPU
        );
    }

    #[test]
    fn less_equal_defaults() {
        let l = r(&[("cpu", "1"), ("nvidia.com/gpu", "1")]);
        let no_gpu = r(&[("cpu", "2")]);
        assert!(!l.less_equal(&no_gpu, DefaultValue::Zero));
        assert!(l.less_equal(&no_gpu, DefaultValue::Infinity));
        let with_foo = r(&[("cpu", "2"), ("example.com/foo", "1")]);
        // Infinity: a scalar present in r but missing in l => false.
        assert!(!r(&[("cpu", "1")]).less_equal(&with_foo, DefaultValue::Infinity));
    }

    #[test]
    fn requested_dimension_checks() {
        let alloc = r(&[("cpu", "1"), ("memory", "2G")]);
        let deserved = r(&[("cpu", "2"), ("memory", "2G")]);
        let req_cpu = r(&[("cpu", "1"), ("memory", "0")]);
        assert!(alloc
            .plus(&req_cpu)
            .less_equal_on_requested(&deserved, &req_cpu));
        let req_mem = r(&[("cpu", "1"), ("memory", "1G")]);
        assert!(!alloc
            .plus(&req_mem)
            .less_equal_on_requested(&deserved, &req_mem));
    }

    #[test]
    fn empty_ignores_pods() {
        let mut x = Resources::empty();
        x.set(ResourceName::PODS, 1);
        assert!(x.is_empty());
        x.set(ResourceName::CPU, 1);
        assert!(!x.is_empty());
    }
}
