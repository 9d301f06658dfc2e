//! Moving notes toward their bar grid for notation.

use crate::music::encoding::STEP_S;
use crate::music::midi::{Note, Piece};

/// How far to move notes toward the grid when exporting: 0 keeps every expressive offset (the
/// default), 1 puts each onset and release on the nearest sixteenth or eighth-triplet, for
/// notation.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Quantize(f64);

impl Quantize {
    /// Notes as played.
    pub const NONE: Self = Self(0.0);

    /// `share` of the way to the grid, clamped to 0–1.
    pub fn new(share: f64) -> Self {
        Self(if share.is_finite() {
            share.clamp(0.0, 1.0)
        } else {
            0.0
        })
    }

    /// `piece` with its notes moved toward its grid (unchanged without a grid or at 0). Each
    /// beat is written in one subdivision, sixteenths or eighth triplets, whichever its onsets
    /// and releases lie closer to, so a beat never mixes the two. At 100 % a note that would
    /// shrink to nothing lasts one subdivision; below, it keeps at least its 10-ms step.
    pub fn apply(self, piece: &Piece) -> Piece {
        let Some(grid) = piece.grid.as_ref().filter(|_| self.0 > 0.0) else {
            return piece.clone();
        };
        let beats: Vec<(f64, f64)> = piece
            .notes
            .iter()
            .map(|n| (grid.beats_at(n.start_s), grid.beats_at(n.end_s)))
            .collect();
        let division = Divisions::fitting(beats.iter().flat_map(|&(a, b)| [a, b]));
        let notes = piece
            .notes
            .iter()
            .zip(&beats)
            .map(|(note, &(start, end))| {
                let start_beats = division.snap(start);
                let mut end_beats = division.snap(end);
                if end_beats <= start_beats {
                    end_beats = start_beats + 1.0 / division.of(start);
                }
                let toward = |t: f64, target: f64| t + self.0 * (grid.time_of(target) - t);
                let start_s = toward(note.start_s, start_beats);
                let end_s = toward(note.end_s, end_beats).max(start_s + STEP_S);
                Note {
                    start_s,
                    end_s,
                    ..*note
                }
            })
            .collect();
        Piece {
            grid: piece.grid.clone(),
            ..Piece::from_notes(notes)
        }
    }
}

/// Sixteenths per beat.
const SIXTEENTHS: f64 = 4.0;
/// Eighth triplets per beat.
const TRIPLETS: f64 = 3.0;

/// The subdivision of each beat a piece is written in: beats (by number) in triplets; the rest
/// in sixteenths.
struct Divisions(std::collections::HashSet<i64>);

impl Divisions {
    /// For moments at `beats` (fractional beats from the grid's start): each beat in the
    /// subdivision its moments lie closer to in all (squared distance), sixteenths on a tie.
    fn fitting(beats: impl Iterator<Item = f64>) -> Self {
        let mut misfit: std::collections::HashMap<i64, (f64, f64)> = Default::default();
        for b in beats {
            let off = |n: f64| (b - (b * n).round() / n).powi(2);
            let entry = misfit.entry(b.floor() as i64).or_default();
            entry.0 += off(SIXTEENTHS);
            entry.1 += off(TRIPLETS);
        }
        Self(
            misfit
                .into_iter()
                .filter(|(_, (sixteenths, triplets))| triplets < sixteenths)
                .map(|(beat, _)| beat)
                .collect(),
        )
    }

    /// Subdivisions in the beat holding `beats`.
    fn of(&self, beats: f64) -> f64 {
        if self.0.contains(&(beats.floor() as i64)) {
            TRIPLETS
        } else {
            SIXTEENTHS
        }
    }

    /// `beats` on the nearest point of its beat's subdivision.
    fn snap(&self, beats: f64) -> f64 {
        let n = self.of(beats);
        (beats * n).round() / n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::meter::Grid;
    use crate::music::time_signature::TimeSignature;

    fn note(start_s: f64, end_s: f64) -> Note {
        Note {
            pitch: 60,
            start_s,
            end_s,
            velocity: 80,
        }
    }

    #[test]
    fn full_quantizing_writes_each_beat_in_one_subdivision_and_leaves_no_stubs() {
        // 60 bpm: a beat is a second. Beat 0: triplets, played loosely, with one onset nearer a
        // sixteenth; beat 1: sixteenths; beat 2: a 20-ms stub.
        let grid = Grid::steady(60.0, TimeSignature::FOUR_FOUR, 8.0);
        let notes = vec![
            note(0.01, 0.30),
            note(0.26, 0.35),
            note(0.34, 0.65),
            note(0.68, 0.98),
            note(1.02, 1.24),
            note(1.26, 1.49),
            note(1.51, 1.77),
            note(2.50, 2.52),
        ];
        let piece = Piece {
            grid: Some(grid.clone()),
            ..Piece::from_notes(notes)
        };
        let quantized = Quantize::new(1.0).apply(&piece);
        for n in &quantized.notes {
            for t in [n.start_s, n.end_s] {
                let beat = t.floor();
                let phase = t - beat;
                let on = |per: f64| ((phase * per) - (phase * per).round()).abs() < 1e-6;
                // The beat's subdivision: triplets for beat 0, sixteenths after.
                let per = if beat < 1.0 - 1e-9 { 3.0 } else { 4.0 };
                assert!(
                    on(per) || phase < 1e-6,
                    "{t} is off its beat's {per} points: {n:?}"
                );
            }
            assert!(n.end_s - n.start_s >= 0.25 - 1e-6, "no stub: {n:?}");
        }
    }
}
