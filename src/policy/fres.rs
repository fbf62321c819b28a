//! Float resource vectors for the quantities Volcano derives with float arithmetic (proportion's
//! water-filled `deserved`), with Volcano's 0.1 comparison tolerance. Integer `Resources` stay
//! the ground truth; this type only holds derived shares. Depends on `model`.

use crate::model::resources::MAX_DIMS;
use crate::model::{DefaultValue, ResourceName, Resources};

const MIN_RESOURCE: f64 = 0.1;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FRes {
    pub v: [f64; MAX_DIMS],
    /// Present dims (cpu and memory always).
    pub present: u16,
}

impl FRes {
    pub fn empty() -> FRes {
        FRes {
            v: [0.0; MAX_DIMS],
            present: 0b11,
        }
    }
    pub fn from(r: &Resources) -> FRes {
        let mut f = FRes::empty();
        for (i, x) in r.raw().iter().enumerate() {
            f.v[i] = *x as f64;
        }
        f.present = r.present_mask();
        f
    }
    fn scalars(&self) -> impl Iterator<Item = usize> + '_ {
        let p = self.present;
        (2..MAX_DIMS).filter(move |i| p & (1 << i) != 0)
    }
    pub fn add(&mut self, o: &FRes) {
        for i in 0..MAX_DIMS {
            self.v[i] += o.v[i];
        }
        self.present |= o.present;
    }
    pub fn sub(&mut self, o: &FRes) {
        for i in 0..MAX_DIMS {
            self.v[i] -= o.v[i];
        }
        self.present |= o.present;
    }
    pub fn scaled(&self, k: f64) -> FRes {
        let mut o = *self;
        for x in o.v.iter_mut() {
            *x *= k;
        }
        o
    }
    /// `MinDimensionResource`.
    pub fn min_dimension(&self, r: &FRes, dv: DefaultValue) -> FRes {
        let mut o = *self;
        o.v[0] = self.v[0].min(r.v[0]);
        o.v[1] = self.v[1].min(r.v[1]);
        for i in self.scalars() {
            if r.present & (1 << i) != 0 {
                o.v[i] = self.v[i].min(r.v[i]);
            } else if dv == DefaultValue::Zero {
                o.v[i] = 0.0;
            }
        }
        o
    }
    /// `helpers.Max`.
    pub fn max_with(&self, r: &FRes) -> FRes {
        let mut o = *self;
        for i in 0..MAX_DIMS {
            o.v[i] = self.v[i].max(r.v[i]);
        }
        o.present |= r.present;
        o
    }
    /// `LessEqual(l, r, default)` with the 0.1 tolerance.
    pub fn less_equal(&self, r: &FRes, dv: DefaultValue) -> bool {
        let le = |a: f64, b: f64| a < b || (a - b).abs() < MIN_RESOURCE;
        if !le(self.v[0], r.v[0]) || !le(self.v[1], r.v[1]) {
            return false;
        }
        for i in self.scalars() {
            if r.present & (1 << i) == 0 {
                if dv == DefaultValue::Zero && !le(self.v[i], 0.0) {
                    return false;
                }
            } else if !le(self.v[i], r.v[i]) {
                return false;
            }
        }
        if dv == DefaultValue::Infinity && (r.present & !self.present & !0b11) != 0 {
            return false;
        }
        true
    }
    /// `Diff`: (increased, decreased) parts of `self` relative to `old`.
    pub fn diff(&self, old: &FRes) -> (FRes, FRes) {
        let mut inc = FRes::empty();
        let mut dec = FRes::empty();
        for i in 0..MAX_DIMS {
            let d = self.v[i] - old.v[i];
            if d > 0.0 {
                inc.v[i] = d;
            } else {
                dec.v[i] = -d;
            }
        }
        inc.present = self.present | old.present;
        dec.present = inc.present;
        (inc, dec)
    }
    /// `ExceededPart`.
    pub fn exceeded_part(&self, r: &FRes) -> FRes {
        let mut o = *self;
        for i in 0..MAX_DIMS {
            o.v[i] = (self.v[i] - r.v[i]).max(0.0);
        }
        o
    }
    /// `IsEmpty` (pods ignored).
    pub fn is_empty(&self) -> bool {
        self.v[0] < MIN_RESOURCE
            && self.v[1] < MIN_RESOURCE
            && self.scalars().all(|i| i == 2 || self.v[i] < MIN_RESOURCE)
    }
    /// Dims with value ≥ 0.1.
    pub fn names(&self) -> impl Iterator<Item = usize> + '_ {
        let p = self.present | 0b11;
        (0..MAX_DIMS).filter(move |&i| p & (1 << i) != 0 && self.v[i] >= MIN_RESOURCE)
    }
    pub fn get(&self, d: ResourceName) -> f64 {
        self.v[d.0 as usize]
    }
    /// `LessEqualWithDimensionAndResourcesName(l, r, req)` with `l` integer and `r` float:
    /// only dims where `req > 0` (pods excluded), strict comparison.
    pub fn int_fits_on_requested(l: &Resources, r: &FRes, req: &Resources) -> bool {
        let l_has_scalars = l.present_mask() & !0b11 != 0;
        for i in 0..MAX_DIMS {
            if i == 2 || req.raw()[i] <= 0 {
                continue;
            }
            if i > 2 && (req.present_mask() & (1 << i) == 0 || !l_has_scalars) {
                continue;
            }
            let rv = if i < 2 || r.present & (1 << i) != 0 {
                r.v[i]
            } else {
                0.0
            };
            if l.raw()[i] as f64 > rv {
                return false;
            }
        }
        true
    }
}
