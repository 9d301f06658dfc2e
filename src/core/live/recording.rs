//! A recording: touches as they were played, turned into a piece (notes as played, the pedal).

use std::collections::BTreeMap;

use crate::music::encoding::STEP_S;
use crate::music::meter::Grid;
use crate::music::midi::{Note, PedalInterval, Piece};
use crate::music::touch::{Played, Touch};

/// Touches gathered into notes from a start time; what is still held closes when asked for the
/// piece.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    start_s: f64,
    /// Each key held: when it was struck (from the start) and how hard.
    held: BTreeMap<u8, (f64, u8)>,
    notes: Vec<Note>,
    pedal_down_s: Option<f64>,
    pedal: Vec<PedalInterval>,
    grid: Option<Grid>,
    last_s: f64,
}

impl Recording {
    /// An empty recording whose time 0 is `start_s` on the players' clock.
    pub fn new(start_s: f64) -> Self {
        Self {
            start_s,
            ..Self::default()
        }
    }

    /// A recording on a bar grid (a click was on): its time 0 is the grid's, at `start_s`.
    pub fn on_grid(start_s: f64, grid: Grid) -> Self {
        Self {
            grid: Some(grid),
            ..Self::new(start_s)
        }
    }

    /// Where time 0 is on the players' clock.
    pub fn start_s(&self) -> f64 {
        self.start_s
    }

    /// Adds a touch. A touch before the start counts as at it; a key struck again while held
    /// ends its note there and starts another, as a piano's repetition does.
    pub fn add(&mut self, played: Played) {
        let at_s = (played.at_s - self.start_s).max(0.0);
        self.last_s = self.last_s.max(at_s);
        match played.touch {
            Touch::Strike { key, velocity } => {
                let key = key.as_int();
                self.close(key, at_s);
                self.held.insert(key, (at_s, velocity.as_int()));
            }
            Touch::Release { key } => self.close(key.as_int(), at_s),
            Touch::Pedal { down: true } => {
                self.pedal_down_s.get_or_insert(at_s);
            }
            Touch::Pedal { down: false } => {
                if let Some(start_s) = self.pedal_down_s.take() {
                    self.pedal.push(PedalInterval {
                        start_s,
                        end_s: at_s.max(start_s + STEP_S),
                    });
                }
            }
        }
    }

    fn close(&mut self, key: u8, at_s: f64) {
        if let Some((start_s, velocity)) = self.held.remove(&key) {
            self.notes.push(note(key, velocity, start_s, at_s));
        }
    }

    /// Whether nothing was struck.
    pub fn is_empty(&self) -> bool {
        self.notes.is_empty() && self.held.is_empty()
    }

    /// Whether any key or the pedal is down.
    pub fn is_held(&self) -> bool {
        !self.held.is_empty() || self.pedal_down_s.is_some()
    }

    /// The piece so far, keys and pedal still down ending at `now_s` on the players' clock.
    pub fn piece(&self, now_s: f64) -> Piece {
        let now_s = (now_s - self.start_s).max(self.last_s);
        let mut notes = self.notes.clone();
        notes.extend(
            self.held
                .iter()
                .map(|(&key, &(start_s, velocity))| note(key, velocity, start_s, now_s)),
        );
        let mut pedal = self.pedal.clone();
        if let Some(start_s) = self.pedal_down_s {
            pedal.push(PedalInterval {
                start_s,
                end_s: now_s.max(start_s + STEP_S),
            });
        }
        let mut piece = Piece::from_notes(notes);
        piece.pedal = pedal;
        piece.grid = self
            .grid
            .as_ref()
            .map(|grid| grid.until(piece.duration_s()));
        piece
    }
}

/// A note as played; one released at its onset lasts one encoding step (10 ms), the shortest
/// the encoding keeps, so a staccato tap is not lost.
fn note(pitch: u8, velocity: u8, start_s: f64, end_s: f64) -> Note {
    Note {
        pitch,
        start_s,
        end_s: end_s.max(start_s + STEP_S),
        velocity,
    }
}

#[cfg(test)]
mod tests {
    use super::super::played_by_hand::{release, strike};
    use super::*;

    #[test]
    fn onsets_and_releases_are_kept_as_played_from_the_start() {
        let mut recording = Recording::new(10.0);
        for played in [
            strike(10.5, 60),
            strike(10.75, 64),
            release(11.0, 60),
            release(11.25, 64),
        ] {
            recording.add(played);
        }
        let piece = recording.piece(12.0);
        let times: Vec<(u8, f64, f64)> = piece
            .notes
            .iter()
            .map(|n| (n.pitch, n.start_s, n.end_s))
            .collect();
        assert_eq!(times, [(60, 0.5, 1.0), (64, 0.75, 1.25)]);
    }

    #[test]
    fn a_key_still_held_ends_now_and_a_repeated_strike_starts_a_new_note() {
        let mut recording = Recording::new(0.0);
        recording.add(strike(0.0, 60));
        recording.add(strike(0.4, 60));
        let piece = recording.piece(1.0);
        let times: Vec<(f64, f64)> = piece.notes.iter().map(|n| (n.start_s, n.end_s)).collect();
        assert_eq!(times, [(0.0, 0.4), (0.4, 1.0)]);
        assert!(recording.is_held());
    }

    #[test]
    fn the_pedal_is_recorded_as_intervals_and_a_held_pedal_ends_now() {
        let mut recording = Recording::new(0.0);
        for (at_s, down) in [(0.2, true), (0.9, false), (1.5, true)] {
            recording.add(Played {
                at_s,
                touch: Touch::Pedal { down },
            });
        }
        let pedal: Vec<(f64, f64)> = recording
            .piece(2.0)
            .pedal
            .iter()
            .map(|p| (p.start_s, p.end_s))
            .collect();
        assert_eq!(pedal, [(0.2, 0.9), (1.5, 2.0)]);
    }
}
