//! How to sample: length, temperature, top-k and top-p, seed, variations; drawing one event
//! from the network's logits; and why generation can fail.

use std::path::PathBuf;

use rand::Rng;

use crate::model::checkpoint::CheckpointError;
use crate::music::encoding::{EventId, STEP_S};
use crate::music::meter::Grid;
use crate::music::midi::MidiError;

use super::assist::Assist;

/// A note the model never releases is ended after this long.
pub const MAX_NOTE_S: f64 = 5.0;
/// The longest piece (and primer) asked for, in seconds.
pub const MAX_SECONDS: f64 = 3600.0;
/// The most events asked for.
pub const MAX_EVENTS: usize = 1_000_000;
/// The most bars asked for (an hour at 240 bpm in 4/4).
pub const MAX_BARS: u32 = 3600;
/// Default length of new music in free time, in seconds.
pub const DEFAULT_SECONDS: f64 = 30.0;
/// Default length of new music in bars: 32 s at the default 90 bpm in 4/4, near the 30 s of free
/// time.
pub const DEFAULT_BARS: u32 = 12;
/// Default length of a primer taken from the opening of a piece, in seconds.
pub const DEFAULT_PRIMER_SECONDS: f64 = 5.0;
/// How much music to write.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Length {
    /// Seconds of new music after the primer.
    Seconds(f64),
    /// Number of new events after the primer.
    Events(usize),
    /// Bars of new music on the take's grid, from the first bar line at or after the primer's
    /// end, so the take ends on a bar line.
    Bars(u32),
}

impl Length {
    /// The length as the sampler counts it: bars become the seconds from `from_s` (the primer's
    /// end) to the bar line `bars` after the first at or after it, on `grid`; the rest stay.
    pub fn on_grid(self, grid: Option<&Grid>, from_s: f64) -> Result<Self, GenerateError> {
        let Self::Bars(bars) = self else {
            return Ok(self);
        };
        let grid = grid.ok_or_else(|| {
            GenerateError::InvalidSettings(
                "a length in bars needs a tempo or a meter (a bar grid)".to_string(),
            )
        })?;
        let at = grid.position(from_s);
        // A primer that ends on a bar line (to a 10-ms step) starts the new music there.
        let on_bar_line = at.in_bar == 0 && at.phase * 60.0 / at.bpm < STEP_S;
        let first = if on_bar_line { at.bar } else { at.bar + 1 }.max(0);
        let last = u32::try_from(first)
            .unwrap_or(u32::MAX)
            .saturating_add(bars);
        Ok(Self::Seconds(grid.bar_start_s(last) - from_s))
    }
}

/// The controls of one generation.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SamplingSettings {
    /// How much to write.
    pub length: Length,
    /// Logits are divided by this before sampling: below 1 is safer, above 1 more adventurous.
    pub temperature: f64,
    /// Keep only the k most likely events (applied first).
    pub top_k: Option<usize>,
    /// Then keep the smallest set of most likely events whose probability reaches p (nucleus).
    pub top_p: Option<f64>,
    /// Seed of the first variation; variation i uses `seed + i`.
    pub seed: u64,
    /// Number of pieces sampled together.
    pub variations: usize,
    /// How strongly the sampler's rules lean on the network's choices, after the temperature
    /// (takes written before the assist was a setting load as made with the strong one).
    #[serde(default)]
    pub assist: Assist,
}

impl Default for SamplingSettings {
    fn default() -> Self {
        Self {
            length: Length::Seconds(DEFAULT_SECONDS),
            temperature: 1.0,
            top_k: None,
            top_p: None,
            seed: 0,
            variations: 1,
            assist: Assist::default(),
        }
    }
}

impl SamplingSettings {
    /// Checks the settings, explaining the first problem found.
    pub fn validate(&self) -> Result<(), GenerateError> {
        let invalid = |why: String| Err(GenerateError::InvalidSettings(why));
        match self.length {
            Length::Seconds(s) if !(s.is_finite() && s > 0.0 && s <= MAX_SECONDS) => {
                return invalid(format!(
                    "the length must be above 0 and at most {MAX_SECONDS} seconds"
                ));
            }
            Length::Bars(n) if !(1..=MAX_BARS).contains(&n) => {
                return invalid(format!("the length must be between 1 and {MAX_BARS} bars"));
            }
            Length::Events(n) if !(1..=MAX_EVENTS).contains(&n) => {
                return invalid(format!(
                    "the length must be between 1 and {MAX_EVENTS} events"
                ));
            }
            _ => {}
        }
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return invalid("the temperature must be greater than 0".into());
        }
        if self.top_k == Some(0) {
            return invalid("top-k must be at least 1".into());
        }
        if let Some(p) = self.top_p
            && !(p > 0.0 && p <= 1.0)
        {
            return invalid("top-p must be greater than 0 and at most 1".into());
        }
        if !(1..=MAX_VARIATIONS).contains(&self.variations) {
            return invalid(format!("variations must be between 1 and {MAX_VARIATIONS}"));
        }
        self.assist
            .validate()
            .map_err(GenerateError::InvalidSettings)
    }

    /// The seed of each variation.
    pub fn seeds(&self) -> Vec<u64> {
        (0..self.variations as u64)
            .map(|i| self.seed.wrapping_add(i))
            .collect()
    }
}

/// The most variations sampled together (their weights stream once per step for all of them).
pub const MAX_VARIATIONS: usize = 64;

/// Why a generation could not run.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The settings are out of range.
    #[error("invalid generation settings: {0}")]
    InvalidSettings(String),
    /// The checkpoint is missing or incompatible.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The primer file could not be read.
    #[error("cannot use {} as a primer: {source}", path.display())]
    Primer {
        /// The primer file.
        path: PathBuf,
        /// What went wrong.
        source: MidiError,
    },
    /// The device asked for is not usable.
    #[error("{0}")]
    Device(String),
    /// libtorch reported an error.
    #[error("sampling failed: {0}")]
    Torch(#[from] tch::TchError),
}

/// `logits` divided by `temperature`: the assist's rules then lean on them by their own nats at
/// any temperature ("5 nats" stays 5, not 10 at temperature 0.5).
pub(crate) fn tempered(logits: &[f32], temperature: f64) -> Vec<f32> {
    let temperature = temperature as f32;
    logits.iter().map(|logit| logit / temperature).collect()
}

/// Samples an event from logits already [`tempered`] (and leaned on by the assist): top-k and
/// top-p as `settings` ask, the temperature not applied again.
pub(crate) fn sample_tempered(
    logits: &[f32],
    settings: &SamplingSettings,
    rng: &mut impl Rng,
) -> EventId {
    let once = SamplingSettings {
        temperature: 1.0,
        ..*settings
    };
    sample_event(logits, &once, rng)
}

/// Draws one event from `logits` (one row over the vocabulary) under the settings' temperature,
/// top-k and top-p.
pub fn sample_event(logits: &[f32], settings: &SamplingSettings, rng: &mut impl Rng) -> EventId {
    // Ties go to the lower event id, so which events survive top-k never depends on the sort.
    let descending = |a: &usize, b: &usize| logits[*b].total_cmp(&logits[*a]).then(a.cmp(b));
    let mut order: Vec<usize> = (0..logits.len()).collect();
    // Sorting costs more than the rest of a step's sampling: only top-p needs the order.
    if let Some(k) = settings
        .top_k
        .map(|k| k.max(1))
        .filter(|&k| k < order.len())
    {
        order.select_nth_unstable_by(k - 1, descending);
        order.truncate(k);
    }
    if settings.top_p.is_some() {
        order.sort_unstable_by(descending);
    }
    let best = order
        .iter()
        .map(|&i| f64::from(logits[i]))
        .fold(f64::NEG_INFINITY, f64::max);
    let mut weights: Vec<f64> = order
        .iter()
        .map(|&i| ((f64::from(logits[i]) - best) / settings.temperature).exp())
        .collect();
    if let Some(p) = settings.top_p {
        let total: f64 = weights.iter().sum();
        let mut cumulative = 0.0;
        let keep = weights
            .iter()
            .position(|w| {
                cumulative += w / total;
                cumulative >= p
            })
            .map_or(weights.len(), |i| i + 1);
        weights.truncate(keep);
    }
    let total: f64 = weights.iter().sum();
    let mut target = rng.random::<f64>() * total;
    for (&index, weight) in order.iter().zip(&weights) {
        if target < *weight {
            return index as EventId;
        }
        target -= weight;
    }
    order[weights.len() - 1] as EventId
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_count_from_the_first_bar_line_at_or_after_the_primer_and_end_on_one() {
        // 3/4 at 90 bpm: a bar lasts 2 s.
        let grid = Grid::steady(90.0, "3/4".parse().expect("a meter"), 20.0);
        let seconds = |from_s: f64| match Length::Bars(2).on_grid(Some(&grid), from_s) {
            Ok(Length::Seconds(s)) => s,
            other => panic!("{other:?}"),
        };
        assert!((seconds(0.0) - 4.0).abs() < 1e-9);
        assert!(
            (seconds(2.0) - 4.0).abs() < 1e-9,
            "a primer ending on a bar line"
        );
        assert!(
            (seconds(0.5) - 5.5).abs() < 1e-9,
            "the primer's bar is finished first"
        );
        assert!(Length::Bars(2).on_grid(None, 0.0).is_err());
        assert_eq!(
            Length::Seconds(3.0).on_grid(None, 1.0).ok(),
            Some(Length::Seconds(3.0))
        );
    }
}
