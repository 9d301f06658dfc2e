//! The Live room's click: a metronome on the Generate room's tempo and meter, heard only, so
//! that a recording is in bars (after a bar of count-in) and answers start on downbeats.

use cadenza_core::music::meter::Grid;

use crate::app::intent::{Intent, Intents};

/// The click while it runs: its grid and where the grid's time 0 is on the live clock.
#[derive(Debug, Clone, Default)]
pub struct Click {
    running: Option<(Grid, f64)>,
}

impl Click {
    /// The grid and its origin on the live clock, while the click runs.
    pub fn grid(&self) -> Option<(Grid, f64)> {
        self.running.clone()
    }

    /// Starts the click on `grid` now (heard `latency_s` later), or stops it.
    pub fn toggle(
        &mut self,
        grid: Option<Grid>,
        now_s: f64,
        latency_s: f64,
        intents: &mut Intents,
    ) {
        self.running = match (self.running.take(), grid) {
            (None, Some(grid)) => {
                intents.push(Intent::Click(Some(grid.clone())));
                Some((grid, now_s + latency_s))
            }
            (Some(_), _) | (None, None) => {
                intents.push(Intent::Click(None));
                None
            }
        };
    }

    /// Where a recording started now begins: the bar line after a full bar of count-in, with
    /// the grid from there (a steady grid is the same from any bar line); `None` without a click.
    pub fn count_in(&self, now_s: f64) -> Option<(f64, Grid)> {
        let (grid, origin_s) = self.running.as_ref()?;
        let bar_s = grid.bar_start_s(1);
        let at_s = grid
            .bar_lines()
            .map(|(_, at_s)| origin_s + at_s)
            .find(|&at_s| at_s >= now_s + bar_s)
            .unwrap_or(now_s + bar_s);
        Some((at_s, grid.clone()))
    }
}

#[cfg(test)]
mod tests {
    use cadenza_core::music::time_signature::TimeSignature;

    use super::*;

    #[test]
    fn a_recording_begins_on_the_bar_line_after_a_full_bar_of_count_in() {
        let mut click = Click::default();
        let mut intents = Intents::default();
        let grid = Grid::steady(120.0, TimeSignature::FOUR_FOUR, 8.0);
        click.toggle(Some(grid), 10.0, 0.0, &mut intents);
        let (start_s, _) = click.count_in(10.5).expect("the click runs");
        assert_eq!(
            start_s, 14.0,
            "bars of 2 s from 10 s: not 12 s, less than a bar away"
        );
        click.toggle(None, 11.0, 0.0, &mut intents);
        assert!(click.count_in(11.0).is_none());
    }
}
