//! A run's clock: steps and epochs since it began, and seconds of training with pauses left out.

use std::time::{Duration, Instant};

use super::progress::SmoothedLoss;

/// Counters for this run (limits and rates are per run; step and epoch continue across runs).
pub(super) struct RunClock {
    pub(super) first_step: u64,
    pub(super) first_epoch: f64,
    pub(super) active: Duration,
    pub(super) resumed_at: Instant,
    pub(super) tokens: u64,
    pub(super) smoothed_loss: SmoothedLoss,
    pub(super) last_report: Option<Instant>,
    pub(super) last_save: Instant,
    pub(super) best_full_valid: f64,
    pub(super) full_valids_without_improvement: u32,
}

impl RunClock {
    pub(super) fn new(first_step: u64, first_epoch: f64) -> Self {
        Self {
            first_step,
            first_epoch,
            active: Duration::ZERO,
            resumed_at: Instant::now(),
            tokens: 0,
            smoothed_loss: SmoothedLoss::default(),
            last_report: None,
            last_save: Instant::now(),
            best_full_valid: f64::INFINITY,
            full_valids_without_improvement: 0,
        }
    }

    pub(super) fn active_seconds(&self) -> f64 {
        (self.active + self.resumed_at.elapsed()).as_secs_f64()
    }

    pub(super) fn pause(&mut self) {
        self.active += self.resumed_at.elapsed();
    }

    pub(super) fn resume(&mut self) {
        self.resumed_at = Instant::now();
    }
}
