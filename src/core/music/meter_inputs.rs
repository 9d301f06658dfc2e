//! The network's metrical inputs: where a moment falls in its beat and bar, the tempo and the
//! meter, beside the controls (REMI's Bar/Position/Tempo tokens, as inputs recomputed from the
//! elapsed time at every step, so the event vocabulary and the fused step stay as they are).
//!
//! Besides the position, the inputs say how many 10-ms steps away the next sixteenth, the next
//! eighth-triplet and the next beat are: the time shift that lands on the grid is then one of
//! the inputs read off, not a product of phase and tempo the network would have to learn.

use crate::music::encoding::STEP_S;
use crate::music::meter::Grid;

/// Cells per beat: 12 holds both sixteenths (3 cells) and eighth-triplets (4 cells).
pub const PHASE_CELLS: usize = 12;
/// Beat-in-bar positions told apart; later beats share the last.
pub const BEAT_SLOTS: usize = 8;
/// Beats-per-bar values told apart (1 to 8; longer bars share the last).
pub const BAR_LENGTHS: usize = 8;
/// Upper edges of the tempo bins in beats per minute, log-spaced by about 1.19 (a slow 48 to a
/// fast 190, the corpus's range).
pub const TEMPO_EDGES_BPM: [f64; 9] = [48.0, 57.0, 68.0, 81.0, 96.0, 114.0, 136.0, 161.0, 190.0];
/// Number of tempo bins.
pub const TEMPO_BINS: usize = TEMPO_EDGES_BPM.len() + 1;
/// The tempo the log-tempo input is centred on, in beats per minute.
const TEMPO_CENTRE_BPM: f64 = 96.0;
/// Distances told apart to the next sixteenth and the next eighth-triplet, in 10-ms steps
/// (0–31; further ones share the last: a sixteenth at 48 bpm is 31 steps).
pub const SUBDIVISION_STEPS: usize = 32;
/// Distances told apart to the next beat, in 10-ms steps (0–100, a time shift's longest; further
/// ones share the last).
pub const BEAT_STEPS: usize = 101;
/// Every metrical input is written at this scale. Under Adam a weight moves by about the learning
/// rate per step whatever its input's size, so an input 8 times larger teaches its effect 8 times
/// faster: the grid's weights, new in a model fine-tuned from one without them, then learn at the
/// starter's first learning rate (1e-3) while its other weights keep a fine-tune's (1.25e-4).
pub const METER_INPUT_SCALE: f32 = 8.0;
/// Inputs: phase cell, offset within the cell, beat in bar, beats per bar, compound flag, tempo
/// bin, log tempo, steps to the next sixteenth, triplet and beat, present flag.
pub const METER_INPUTS: usize = PHASE_CELLS
    + 1
    + BEAT_SLOTS
    + BAR_LENGTHS
    + 1
    + TEMPO_BINS
    + 1
    + 2 * SUBDIVISION_STEPS
    + BEAT_STEPS
    + 1;

/// Where the one-hot of steps to the next sixteenth starts among the [`METER_INPUTS`].
pub const TO_SIXTEENTH_COLUMN: usize =
    PHASE_CELLS + 1 + BEAT_SLOTS + BAR_LENGTHS + 1 + TEMPO_BINS + 1;
/// Where the one-hot of steps to the next eighth-triplet starts.
pub const TO_TRIPLET_COLUMN: usize = TO_SIXTEENTH_COLUMN + SUBDIVISION_STEPS;
/// Where the one-hot of steps to the next beat starts.
pub const TO_BEAT_COLUMN: usize = TO_TRIPLET_COLUMN + SUBDIVISION_STEPS;

/// The metrical inputs at one moment, stored compactly (11 bytes) for every event of a corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MeterValues {
    /// Nearest 1/12-beat cell, 0–11.
    cell: u8,
    /// Offset from that cell's centre, in 1/254 of a cell (−127…127).
    offset: i8,
    in_bar: u8,
    per_bar: u8,
    compound: bool,
    /// Tempo in 1/16 bpm.
    tempo: u16,
    /// Steps to the next sixteenth, eighth-triplet and beat (strictly after now), capped.
    to_sixteenth: u8,
    to_triplet: u8,
    to_beat: u8,
}

impl MeterValues {
    /// The inputs at `t_s` on `grid`.
    pub fn at(grid: &Grid, t_s: f64) -> Self {
        let position = grid.position(t_s);
        let cells = position.phase * PHASE_CELLS as f64;
        let nearest = cells.round();
        // The next position of a 1/`per_beat` grid at least half a step after now, in steps.
        let steps_to = |per_beat: f64, cap: usize| {
            let from = grid.beats_at(t_s + STEP_S / 2.0) * per_beat;
            let next_s = grid.time_of((from.floor() + 1.0) / per_beat);
            ((next_s - t_s) / STEP_S).round().clamp(0.0, cap as f64) as u8
        };
        Self {
            to_sixteenth: steps_to(4.0, SUBDIVISION_STEPS - 1),
            to_triplet: steps_to(3.0, SUBDIVISION_STEPS - 1),
            to_beat: steps_to(1.0, BEAT_STEPS - 1),
            cell: (nearest as usize % PHASE_CELLS) as u8,
            offset: ((cells - nearest) * 254.0).round().clamp(-127.0, 127.0) as i8,
            in_bar: position.in_bar,
            per_bar: position.signature.beats_per_bar(),
            compound: position.signature.is_compound(),
            tempo: (position.bpm * 16.0)
                .round()
                .clamp(0.0, f64::from(u16::MAX)) as u16,
        }
    }

    /// Tempo in beats per minute.
    pub fn bpm(&self) -> f64 {
        f64::from(self.tempo) / 16.0
    }

    /// Writes the [`METER_INPUTS`] values to `out`.
    pub fn write_inputs(&self, out: &mut [f32]) {
        let out = &mut out[..METER_INPUTS];
        out.fill(0.0);
        let (cells, rest) = out.split_at_mut(PHASE_CELLS);
        cells[usize::from(self.cell)] = 1.0;
        rest[0] = f32::from(self.offset) / 127.0;
        let (beat, rest) = rest[1..].split_at_mut(BEAT_SLOTS);
        beat[usize::from(self.in_bar).min(BEAT_SLOTS - 1)] = 1.0;
        let (bar, rest) = rest.split_at_mut(BAR_LENGTHS);
        bar[usize::from(self.per_bar.max(1) - 1).min(BAR_LENGTHS - 1)] = 1.0;
        rest[0] = f32::from(u8::from(self.compound));
        let (tempo, rest) = rest[1..].split_at_mut(TEMPO_BINS);
        let bpm = self.bpm().max(1.0);
        tempo[TEMPO_EDGES_BPM.partition_point(|&e| e <= bpm)] = 1.0;
        rest[0] = (bpm / TEMPO_CENTRE_BPM).log2() as f32;
        let (sixteenth, rest) = rest[1..].split_at_mut(SUBDIVISION_STEPS);
        sixteenth[usize::from(self.to_sixteenth)] = 1.0;
        let (triplet, rest) = rest.split_at_mut(SUBDIVISION_STEPS);
        triplet[usize::from(self.to_triplet)] = 1.0;
        let (beat, rest) = rest.split_at_mut(BEAT_STEPS);
        beat[usize::from(self.to_beat)] = 1.0;
        rest[0] = 1.0;
        out.iter_mut().for_each(|x| *x *= METER_INPUT_SCALE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::time_signature::TimeSignature;

    #[test]
    fn inputs_mark_cell_bar_position_meter_and_tempo() {
        let grid = Grid::steady(100.0, "3/4".parse::<TimeSignature>().unwrap(), 10.0);
        // A sixteenth after the third beat of bar 8: the next sixteenth 15 steps on (0.15 s at
        // 100 bpm), the next triplet 5 steps on, the next beat 45.
        let beat_s = 0.6;
        let mut out = [9.0; METER_INPUTS];
        MeterValues::at(&grid, (7.0 * 3.0 + 2.25) * beat_s).write_inputs(&mut out);
        out.iter_mut().for_each(|x| *x /= METER_INPUT_SCALE);
        assert_eq!(out[3], 1.0, "a sixteenth after the beat is cell 3");
        assert_eq!(out[PHASE_CELLS], 0.0, "exactly on the cell");
        assert_eq!(out[PHASE_CELLS + 1 + 2], 1.0, "third beat of the bar");
        assert_eq!(
            out[PHASE_CELLS + 1 + BEAT_SLOTS + 2],
            1.0,
            "three beats a bar"
        );
        let tempo = PHASE_CELLS + 1 + BEAT_SLOTS + BAR_LENGTHS + 1;
        assert_eq!(out[tempo + 5], 1.0, "100 bpm is in the 96–114 bin");
        let steps = tempo + TEMPO_BINS + 1;
        assert_eq!(steps, TO_SIXTEENTH_COLUMN);
        assert_eq!(steps + 2 * SUBDIVISION_STEPS, TO_BEAT_COLUMN);
        assert_eq!(out[steps + 15], 1.0, "next sixteenth");
        assert_eq!(out[steps + SUBDIVISION_STEPS + 5], 1.0, "next triplet");
        assert_eq!(out[steps + 2 * SUBDIVISION_STEPS + 45], 1.0, "next beat");
        assert_eq!(out[METER_INPUTS - 1], 1.0, "present");
        assert_eq!(out.iter().filter(|&&x| x == 1.0).count(), 8);
    }
}
