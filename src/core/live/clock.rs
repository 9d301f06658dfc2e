//! The players' clock: seconds since the live session began, shared by every source of touches.

use std::time::Instant;

/// Seconds since an origin; copies read the same clock.
#[derive(Debug, Clone, Copy)]
pub struct LiveClock {
    origin: Instant,
}

impl LiveClock {
    /// A clock starting now.
    pub fn start() -> Self {
        Self {
            origin: Instant::now(),
        }
    }

    /// Seconds since the origin.
    pub fn now_s(&self) -> f64 {
        self.origin.elapsed().as_secs_f64()
    }
}

impl Default for LiveClock {
    fn default() -> Self {
        Self::start()
    }
}
