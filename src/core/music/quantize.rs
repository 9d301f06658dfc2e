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

    /// `piece` with its notes moved toward its grid (unchanged without a grid or at 0). A note
    /// keeps at least its 10-ms step of length, so none vanishes.
    pub fn apply(self, piece: &Piece) -> Piece {
        let Some(grid) = piece.grid.as_ref().filter(|_| self.0 > 0.0) else {
            return piece.clone();
        };
        let notes = piece
            .notes
            .iter()
            .map(|note| {
                let start_s = grid.quantized(note.start_s, self.0);
                let end_s = grid.quantized(note.end_s, self.0).max(start_s + STEP_S);
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
