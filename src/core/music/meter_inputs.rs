//! The network's metrical inputs: where a moment falls in its beat and bar, the tempo and the
//! meter, beside the controls (REMI's Bar/Position/Tempo tokens, as inputs recomputed from the
//! elapsed time at every step, so the event vocabulary and the fused step stay as they are).

use super::meter::Position;

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
/// Inputs: phase cell, offset within the cell, beat in bar, beats per bar, compound flag, tempo
/// bin, log tempo, present flag.
pub const METER_INPUTS: usize = PHASE_CELLS + 1 + BEAT_SLOTS + BAR_LENGTHS + 1 + TEMPO_BINS + 1 + 1;

/// The metrical inputs at one moment, stored compactly (8 bytes) for every event of a corpus.
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
}

impl MeterValues {
    /// The inputs at `position`.
    pub fn at(position: &Position) -> Self {
        let cells = position.phase * PHASE_CELLS as f64;
        let nearest = cells.round();
        Self {
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
        rest[1] = 1.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::music::time_signature::TimeSignature;

    #[test]
    fn inputs_mark_cell_bar_position_meter_and_tempo() {
        let position = Position {
            phase: 0.25,
            in_bar: 2,
            bar: 7,
            signature: "3/4".parse::<TimeSignature>().unwrap(),
            bpm: 100.0,
        };
        let mut out = [9.0; METER_INPUTS];
        MeterValues::at(&position).write_inputs(&mut out);
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
        assert_eq!(out[METER_INPUTS - 1], 1.0, "present");
        assert_eq!(out.iter().filter(|&&x| x == 1.0).count(), 5);
    }
}
