//! The wall clock of live mode, scaled: model time (ms) = offset + elapsed × speed. The only
//! place live mode reads `Instant::now()`; everything below it takes `now` as an argument.
//!
//! Depends on nothing.

use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Instant,
    offset_ms: u64,
    speed: f64,
}

impl Clock {
    /// A clock reading `offset_ms` now and running `speed`× faster than real time.
    pub fn new(offset_ms: u64, speed: f64) -> Clock {
        Clock {
            start: Instant::now(),
            offset_ms,
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
        }
    }
    pub fn now_ms(&self) -> u64 {
        let el = self.start.elapsed().as_secs_f64() * 1000.0 * self.speed;
        self.offset_ms.saturating_add(el as u64)
    }
    /// Real time until the clock reads `t_ms` (zero if it already did).
    pub fn until(&self, t_ms: u64) -> Duration {
        let now = self.now_ms();
        if t_ms <= now {
            return Duration::ZERO;
        }
        Duration::from_secs_f64((t_ms - now) as f64 / 1000.0 / self.speed)
    }
    pub fn speed(&self) -> f64 {
        self.speed
    }
}
