//! Keeping time while sampling on a bar grid: the network reads where it is on the grid, and the
//! sampler also leans its choices toward the grid, as a player keeps to a click. An event that
//! would put a note off the grid (a note struck between grid positions, a time shift landing
//! between them) or let a downbeat pass unplayed is made less likely by the assist's
//! [`super::assist::Assist::keep_time`] nats:
//! a nudge, not a rule, so the network can still hold a rest or place a note freely when it is
//! sure, and every expressive offset within the grid's tolerance stays.

use crate::music::encoding::{Event, MAX_SHIFT_STEPS, STEP_S};
use crate::music::meter::{GRID_POSITIONS, Grid, ON_GRID_TOLERANCE, grid_offset};

/// Where a voice stands on the grid now, computed once per moment (every event at one time
/// shares it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Moment {
    now_s: f64,
    on_grid: bool,
    /// A downbeat is here (within the tolerance) and nothing has been struck on it yet.
    unplayed_downbeat: bool,
    /// The next downbeat, to keep a time shift from jumping over it.
    next_downbeat_s: f64,
}

impl Moment {
    /// The moment `now_s` on `grid`; `struck_here` says whether a note was struck at it.
    pub(crate) fn at(grid: &Grid, now_s: f64, struck_here: bool) -> Self {
        let beats = grid.beats_at(now_s);
        let nearest = beats.round();
        let near_beat = (beats - nearest).abs() <= ON_GRID_TOLERANCE;
        let at_downbeat = near_beat && grid.position(grid.time_of(nearest) + 1e-6).in_bar == 0;
        let position = grid.position(now_s);
        let beats_left = f64::from(position.signature.beats_per_bar())
            - f64::from(position.in_bar)
            - position.phase;
        Self {
            now_s,
            on_grid: grid_offset(beats.rem_euclid(1.0)).abs() <= ON_GRID_TOLERANCE,
            unplayed_downbeat: at_downbeat && !struck_here,
            next_downbeat_s: grid.time_of(beats + beats_left),
        }
    }

    /// Lowers the logits of the choices that leave the grid by `penalty` nats.
    pub(crate) fn nudge(&self, grid: &Grid, logits: &mut [f32], penalty: f32) {
        if !self.on_grid {
            for pitch in 0..=127u8 {
                logits[usize::from(Event::NoteOn(pitch).id())] -= penalty;
            }
        }
        let lands_on_grid = self.landings_on_grid(grid);
        let shifts =
            &mut logits[usize::from(Event::TimeShift(1).id())..][..usize::from(MAX_SHIFT_STEPS)];
        let mass_before = log_sum_exp(shifts);
        for (steps, logit) in (1..=MAX_SHIFT_STEPS).zip(shifts.iter_mut()) {
            let landing_s = self.now_s + f64::from(steps) * STEP_S;
            let skips_downbeat = landing_s > self.next_downbeat_s + DOWNBEAT_SLACK_S;
            if !lands_on_grid[usize::from(steps)] || skips_downbeat || self.unplayed_downbeat {
                *logit -= penalty;
            }
        }
        if !self.unplayed_downbeat {
            // Where time moves to is the grid's to say, whether it moves is the network's: the
            // shifts keep their share of the odds (penalising them as a class instead made takes
            // on a grid half again as dense, 14.4 notes/s against the corpus's 9.4).
            let restore = mass_before - log_sum_exp(shifts);
            shifts.iter_mut().for_each(|logit| *logit += restore);
        }
    }

    /// For each shift of 0 to [`MAX_SHIFT_STEPS`] steps, whether it lands within the tolerance of
    /// a grid position ahead: the positions of the beats ahead marked out, not each landing
    /// searched for (a step stays as fast as without a grid). The position now stands on (within
    /// its tolerance) is not ahead: a shift of 10 or 20 ms within it splits a chord into a fast
    /// spread (2 % of the strong assist's onset gaps were 5–20 ms, against the corpus's 0.2 %).
    fn landings_on_grid(&self, grid: &Grid) -> [bool; MAX_SHIFT_STEPS as usize + 1] {
        let mut on_grid = [false; MAX_SHIFT_STEPS as usize + 1];
        let horizon_s = self.now_s + f64::from(MAX_SHIFT_STEPS) * STEP_S;
        let first = grid.beats_at(self.now_s).floor();
        let last = grid.beats_at(horizon_s).floor();
        let mut beat = first;
        while beat <= last {
            let length_s = grid.time_of(beat + 1.0) - grid.time_of(beat);
            let tolerance_s = ON_GRID_TOLERANCE * length_s;
            for position in GRID_POSITIONS {
                let at_s = grid.time_of(beat + position) - self.now_s;
                if at_s <= tolerance_s {
                    continue;
                }
                let from = ((at_s - tolerance_s) / STEP_S).ceil().max(1.0);
                let to = ((at_s + tolerance_s) / STEP_S)
                    .floor()
                    .min(f64::from(MAX_SHIFT_STEPS));
                let mut step = from;
                while step <= to {
                    on_grid[step as usize] = true;
                    step += 1.0;
                }
            }
            beat += 1.0;
        }
        on_grid
    }
}

/// log Σ exp(x), computed stably.
fn log_sum_exp(values: &[f32]) -> f32 {
    let max = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if max == f32::NEG_INFINITY {
        return max;
    }
    max + values.iter().map(|v| (v - max).exp()).sum::<f32>().ln()
}

/// A shift may land this far past the next downbeat without counting as skipping it (the
/// downbeat tolerance of the measures, 30 ms).
const DOWNBEAT_SLACK_S: f64 = 0.03;

#[cfg(test)]
mod tests {
    use super::*;

    /// The strong assist's strength.
    const OFF_GRID_PENALTY: f32 = crate::compose::assist::Assist::STRONG.keep_time;
    use crate::music::encoding::VOCAB_SIZE;

    /// 120 bpm in 4/4: a beat every 0.5 s, a sixteenth every 0.125 s, a bar every 2 s.
    fn grid() -> Grid {
        Grid::steady(
            120.0,
            crate::music::time_signature::TimeSignature::FOUR_FOUR,
            8.0,
        )
    }

    fn nudged(now_s: f64, struck_here: bool) -> Vec<f32> {
        let grid = grid();
        let mut logits = vec![0.0; VOCAB_SIZE];
        Moment::at(&grid, now_s, struck_here).nudge(&grid, &mut logits, OFF_GRID_PENALTY);
        logits
    }

    fn shift(steps: u8) -> usize {
        usize::from(Event::TimeShift(steps).id())
    }

    /// The log of the summed odds of every time shift.
    fn shift_mass(logits: &[f32]) -> f32 {
        log_sum_exp(&logits[shift(1)..=shift(MAX_SHIFT_STEPS)])
    }

    #[test]
    fn off_the_grid_notes_are_discouraged_and_shifts_back_onto_it_are_not() {
        let logits = nudged(0.56, true);
        assert_eq!(
            logits[usize::from(Event::NoteOn(60).id())],
            -OFF_GRID_PENALTY
        );
        // From 0.56 s the next sixteenth is at 0.625 s: 6 or 7 steps on (1/32 beat is 15.6 ms).
        assert_eq!(logits[shift(6)], logits[shift(7)]);
        assert_eq!(logits[shift(3)] - logits[shift(6)], -OFF_GRID_PENALTY);
    }

    #[test]
    fn on_the_grid_notes_are_free_and_a_downbeat_is_not_skipped() {
        let logits = nudged(1.5, true);
        assert_eq!(logits[usize::from(Event::NoteOn(60).id())], 0.0);
        // From 1.5 s, 0.5 s lands on the downbeat of bar 2; 0.75 s would jump over it.
        assert_eq!(logits[shift(75)] - logits[shift(50)], -OFF_GRID_PENALTY);
    }

    #[test]
    fn a_shift_within_the_grid_position_now_stood_on_is_discouraged() {
        // 10 ms before the sixteenth at 0.625 s: on the grid already, so moving onto it exactly
        // would split whatever is struck here from what is struck there.
        let logits = nudged(0.615, true);
        assert_eq!(logits[usize::from(Event::NoteOn(60).id())], 0.0);
        assert_eq!(logits[shift(1)] - logits[shift(13)], -OFF_GRID_PENALTY);
        assert_eq!(logits[shift(2)] - logits[shift(13)], -OFF_GRID_PENALTY);
    }

    #[test]
    fn keeping_time_moves_where_time_lands_not_whether_it_moves() {
        let logits = nudged(1.5, true);
        let flat = vec![0.0; VOCAB_SIZE];
        assert!((shift_mass(&logits) - shift_mass(&flat)).abs() < 1e-4);
    }

    #[test]
    fn an_unplayed_downbeat_holds_time_until_a_note_is_struck() {
        let waiting = nudged(2.0, false);
        assert_eq!(waiting[shift(25)], -OFF_GRID_PENALTY);
        assert_eq!(waiting[usize::from(Event::NoteOn(60).id())], 0.0);
        let played = nudged(2.0, true);
        assert!(
            played[shift(25)] > shift_mass(&played) - 5.0,
            "free to move on"
        );
        assert_eq!(played[shift(25)], played[shift(50)]);
    }
}
