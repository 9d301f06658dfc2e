//! The bar grid: beats in seconds and the bars they form, read from a MIDI file's tempo map and
//! time signatures or laid out from a requested tempo and meter, and the measures of how well
//! music sits on it.

use crate::music::time_signature::TimeSignature;

/// Positions within a beat that count as on the grid: sixteenths and eighth-triplets (of a
/// quarter-note beat), the grid the corpus's onsets sit on.
pub const GRID_POSITIONS: [f64; 7] = [0.0, 0.25, 1.0 / 3.0, 0.5, 2.0 / 3.0, 0.75, 1.0];
/// An onset within this share of a beat of a grid position is on the grid (1/32 beat).
pub const ON_GRID_TOLERANCE: f64 = 1.0 / 32.0;
/// A bar counts as played when an onset lies within this many seconds of its downbeat.
pub const DOWNBEAT_TOLERANCE_S: f64 = 0.03;
/// A piece whose onsets sit on its own grid at least this often has a usable grid (the corpus's
/// median is 96 %, a file with unrelated timing about 33 %).
pub const USABLE_FIT: f64 = 0.8;
/// Slowest and fastest tempo a grid may have, in beats per minute: a beat of at most 30 s, and
/// of at least 1 ms (a file's beat cut short by a change of time signature can be 50 ms).
pub const TEMPO_RANGE_BPM: (f64, f64) = (2.0, 60_000.0);

/// One beat of the grid.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Beat {
    /// When it falls, in seconds.
    pub at_s: f64,
    /// Bar number, from 0.
    pub bar: u32,
    /// Beat within its bar, from 0 (the downbeat).
    pub in_bar: u8,
    /// The time signature in force.
    pub signature: TimeSignature,
}

/// Where a moment falls on the grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Position {
    /// Share of the current beat elapsed, 0 to below 1.
    pub phase: f64,
    /// Beat within the bar, from 0.
    pub in_bar: u8,
    /// Bar number, from 0.
    pub bar: i64,
    /// The time signature in force.
    pub signature: TimeSignature,
    /// The local tempo: beats per minute of the current beat.
    pub bpm: f64,
}

/// Beats at rising times, at least two, each bar's beats numbered from its downbeat. Past the
/// last beat the grid goes on at the last beat's length and meter.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "Vec<Beat>", into = "Vec<Beat>")]
pub struct Grid {
    beats: Vec<Beat>,
}

/// Beats that do not make a grid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GridError {
    /// Fewer than two beats.
    #[error("a bar grid needs at least two beats")]
    TooFewBeats,
    /// A beat not after the one before it, or a tempo outside the range.
    #[error(
        "beat {index} at {at_s} s makes a tempo outside {min}–{max} bpm",
        min = TEMPO_RANGE_BPM.0,
        max = TEMPO_RANGE_BPM.1
    )]
    Tempo {
        /// Which beat.
        index: usize,
        /// When it falls.
        at_s: f64,
    },
}

impl TryFrom<Vec<Beat>> for Grid {
    type Error = GridError;

    fn try_from(beats: Vec<Beat>) -> Result<Self, GridError> {
        Self::new(beats)
    }
}

impl From<Grid> for Vec<Beat> {
    fn from(grid: Grid) -> Self {
        grid.beats
    }
}

impl Grid {
    /// A grid of `beats`, refused unless there are two or more at tempos inside
    /// [`TEMPO_RANGE_BPM`].
    pub fn new(beats: Vec<Beat>) -> Result<Self, GridError> {
        if beats.len() < 2 {
            return Err(GridError::TooFewBeats);
        }
        let (slowest_s, fastest_s) = (60.0 / TEMPO_RANGE_BPM.0, 60.0 / TEMPO_RANGE_BPM.1);
        for (index, pair) in beats.windows(2).enumerate() {
            let length_s = pair[1].at_s - pair[0].at_s;
            if !(fastest_s..=slowest_s).contains(&length_s) {
                return Err(GridError::Tempo {
                    index: index + 1,
                    at_s: pair[1].at_s,
                });
            }
        }
        Ok(Self { beats })
    }

    /// A grid laid out from time 0 to at least `until_s`: each beat lasts as the tempo at its
    /// start says (beats per minute, clamped to [`TEMPO_RANGE_BPM`]), and a bar takes the time
    /// signature in force at its downbeat.
    pub fn planned(
        tempo_bpm: impl Fn(f64) -> f64,
        signature_at: impl Fn(f64) -> TimeSignature,
        until_s: f64,
    ) -> Self {
        let mut beats = Vec::new();
        let (mut at_s, mut bar) = (0.0, 0u32);
        while beats.len() < 2 || at_s <= until_s {
            let signature = signature_at(at_s);
            for in_bar in 0..signature.beats_per_bar() {
                beats.push(Beat {
                    at_s,
                    bar,
                    in_bar,
                    signature,
                });
                let bpm = tempo_bpm(at_s).clamp(TEMPO_RANGE_BPM.0, TEMPO_RANGE_BPM.1);
                at_s += 60.0 / bpm;
            }
            bar += 1;
        }
        Self { beats }
    }

    /// A steady grid: `bpm` beats per minute in `signature`, to at least `until_s`.
    pub fn steady(bpm: f64, signature: TimeSignature, until_s: f64) -> Self {
        Self::planned(|_| bpm, |_| signature, until_s)
    }

    /// The beats laid out (the grid goes on past the last one).
    pub fn beats(&self) -> &[Beat] {
        &self.beats
    }

    /// The same grid with every time multiplied by `factor` (a time-stretched piece's grid).
    pub fn stretched(&self, factor: f64) -> Self {
        Self {
            beats: self
                .beats
                .iter()
                .map(|b| Beat {
                    at_s: b.at_s * factor,
                    ..*b
                })
                .collect(),
        }
    }

    /// The grid's beats up to the first at or after `end_s` (at least two): enough to keep with
    /// a take that ends there.
    pub fn until(&self, end_s: f64) -> Self {
        let keep = (self.beats.partition_point(|b| b.at_s < end_s) + 1).clamp(2, self.beats.len());
        Self {
            beats: self.beats[..keep].to_vec(),
        }
    }

    /// Where `t_s` falls. Before the first beat and after the last, the nearest beat's length
    /// and meter go on.
    pub fn position(&self, t_s: f64) -> Position {
        let index = self.beats.partition_point(|b| b.at_s <= t_s);
        let (beat, length_s, beats_on) = if index == 0 {
            let length_s = self.beats[1].at_s - self.beats[0].at_s;
            let back = ((self.beats[0].at_s - t_s) / length_s).ceil();
            (self.beats[0], length_s, -back)
        } else if index < self.beats.len() {
            let beat = self.beats[index - 1];
            (beat, self.beats[index].at_s - beat.at_s, 0.0)
        } else {
            let [before, last] = [self.beats[index - 2], self.beats[index - 1]];
            let length_s = last.at_s - before.at_s;
            (last, length_s, ((t_s - last.at_s) / length_s).floor())
        };
        let beat_start_s = beat.at_s + beats_on * length_s;
        let phase = ((t_s - beat_start_s) / length_s).clamp(0.0, 1.0 - f64::EPSILON);
        let per_bar = i64::from(beat.signature.beats_per_bar());
        let counted = i64::from(beat.in_bar) + beats_on as i64;
        Position {
            phase,
            in_bar: counted.rem_euclid(per_bar) as u8,
            bar: i64::from(beat.bar) + counted.div_euclid(per_bar),
            signature: beat.signature,
            bpm: 60.0 / length_s,
        }
    }

    /// The time of fractional beat `beats` after beat 0 (the grid's inverse of
    /// [`Grid::beats_at`]), extrapolated past either end.
    pub fn time_of(&self, beats: f64) -> f64 {
        let last = self.beats.len() - 1;
        let index = (beats.floor().max(0.0) as usize).min(last - 1);
        let (from, to) = (self.beats[index].at_s, self.beats[index + 1].at_s);
        from + (beats - index as f64) * (to - from)
    }

    /// How many beats (fractional) lie between beat 0 and `t_s`, extrapolated past either end.
    pub fn beats_at(&self, t_s: f64) -> f64 {
        let last = self.beats.len() - 1;
        let index = self
            .beats
            .partition_point(|b| b.at_s <= t_s)
            .saturating_sub(1)
            .min(last - 1);
        let (from, to) = (self.beats[index].at_s, self.beats[index + 1].at_s);
        index as f64 + (t_s - from) / (to - from)
    }

    /// Every bar line from time 0 on, with its bar number; the grid goes on past its last
    /// laid-out beat, so the bar lines never end.
    pub fn bar_lines(&self) -> impl Iterator<Item = (i64, f64)> + '_ {
        (0u32..).filter_map(move |beat| {
            let at_s = self.time_of(f64::from(beat));
            let position = self.position(at_s + 1e-9);
            (position.in_bar == 0).then_some((position.bar, at_s))
        })
    }

    /// When bar `bar` (from 0) begins.
    pub fn bar_start_s(&self, bar: u32) -> f64 {
        self.bar_lines()
            .nth(bar as usize)
            .map_or(0.0, |(_, at_s)| at_s)
    }

    /// Downbeat times from the first bar up to `until_s`, with their bar numbers.
    pub fn downbeats(&self, until_s: f64) -> Vec<(i64, f64)> {
        self.bar_lines()
            .take_while(|&(_, at_s)| at_s <= until_s)
            .collect()
    }

    /// Share of `onsets_s` within [`ON_GRID_TOLERANCE`] of a beat of a sixteenth or
    /// eighth-triplet position (1 for no onsets).
    pub fn onset_fit(&self, onsets_s: &[f64]) -> f64 {
        if onsets_s.is_empty() {
            return 1.0;
        }
        let on_grid = onsets_s
            .iter()
            .filter(|&&t| grid_offset(self.position(t).phase).abs() <= ON_GRID_TOLERANCE)
            .count();
        on_grid as f64 / onsets_s.len() as f64
    }

    /// Share of the bars begun from `from_s` until the last onset whose downbeat has an onset
    /// within [`DOWNBEAT_TOLERANCE_S`] (1 for no onsets). `onsets_s` sorted; `from_s` is where
    /// the music judged begins (0 for a whole piece, a clip's start for a clip).
    pub fn downbeats_played(&self, onsets_s: &[f64], from_s: f64) -> f64 {
        let Some(&last) = onsets_s.last() else {
            return 1.0;
        };
        let downbeats: Vec<(i64, f64)> = self
            .downbeats(last)
            .into_iter()
            .filter(|&(_, at_s)| at_s >= from_s - DOWNBEAT_TOLERANCE_S)
            .collect();
        if downbeats.is_empty() {
            return 1.0;
        }
        let played = downbeats
            .iter()
            .filter(|&&(_, at_s)| {
                let i = onsets_s.partition_point(|&t| t < at_s - DOWNBEAT_TOLERANCE_S);
                onsets_s
                    .get(i)
                    .is_some_and(|&t| t <= at_s + DOWNBEAT_TOLERANCE_S)
            })
            .count();
        played as f64 / downbeats.len() as f64
    }

    /// A stretch of time in a musician's words, bars and beats counted from 1: "bars 5–8" or
    /// "bar 5" when it is whole bars, else "bar 5 beat 3 – bar 6 beat 1" (a beat part-way
    /// through as "beat 2.5").
    pub fn describe_span(&self, start_s: f64, end_s: f64) -> String {
        // A moment within a 10-ms step of a beat is on it.
        let tolerance = |p: &Position| 0.01 * p.bpm / 60.0;
        let at = |t: f64| {
            let p = self.position(t + 0.005);
            let phase = if p.phase < tolerance(&p) {
                0.0
            } else {
                p.phase
            };
            (p.bar + 1, f64::from(p.in_bar) + 1.0 + phase)
        };
        let (first_bar, first_beat) = at(start_s);
        let (end_bar, end_beat) = at(end_s);
        if first_beat == 1.0 && end_beat == 1.0 && end_bar > first_bar {
            return match end_bar - 1 {
                last if last == first_bar => format!("bar {first_bar}"),
                last => format!("bars {first_bar}–{last}"),
            };
        }
        let beat = |b: f64| {
            if b.fract() == 0.0 {
                format!("{b:.0}")
            } else {
                format!("{b:.1}")
            }
        };
        format!(
            "bar {first_bar} beat {} – bar {end_bar} beat {}",
            beat(first_beat),
            beat(end_beat)
        )
    }

    /// `t_s` moved `amount` (0–1) of the way to the nearest sixteenth or eighth-triplet position.
    pub fn quantized(&self, t_s: f64, amount: f64) -> f64 {
        let beats = self.beats_at(t_s);
        let offset = grid_offset(beats.rem_euclid(1.0));
        let target = self.time_of(beats - offset);
        t_s + amount.clamp(0.0, 1.0) * (target - t_s)
    }
}

/// Signed distance, in beats, from `phase` to the nearest grid position.
pub fn grid_offset(phase: f64) -> f64 {
    GRID_POSITIONS
        .iter()
        .map(|&p| phase - p)
        .min_by(|a, b| a.abs().total_cmp(&b.abs()))
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three_four_at_90() -> Grid {
        Grid::steady(90.0, "3/4".parse().unwrap(), 10.0)
    }

    #[test]
    fn a_steady_grid_places_bars_and_beats() {
        let grid = three_four_at_90();
        let beat_s = 60.0 / 90.0;
        let p = grid.position(4.0 * beat_s + 0.25 * beat_s);
        assert_eq!((p.bar, p.in_bar), (1, 1));
        assert!((p.phase - 0.25).abs() < 1e-9);
        assert!((p.bpm - 90.0).abs() < 1e-9);
        // Past the laid-out beats the grid goes on.
        let far = grid.position(100.0 * beat_s + 1e-6);
        assert_eq!((far.bar, far.in_bar), (33, 1));
    }

    #[test]
    fn spans_are_named_in_bars_and_beats() {
        // 3/4 at 90 bpm: a bar lasts 2 s, a beat 2/3 s.
        let grid = three_four_at_90();
        assert_eq!(grid.describe_span(2.0, 6.0), "bars 2–3");
        assert_eq!(grid.describe_span(0.0, 2.0), "bar 1");
        assert_eq!(
            grid.describe_span(4.0 / 3.0, 2.0),
            "bar 1 beat 3 – bar 2 beat 1"
        );
        assert_eq!(
            grid.describe_span(1.0, 2.0),
            "bar 1 beat 2.5 – bar 2 beat 1"
        );
    }

    #[test]
    fn beats_and_times_are_inverses() {
        let grid = Grid::planned(|t| 60.0 + 6.0 * t, |_| TimeSignature::FOUR_FOUR, 20.0);
        for beats in [0.0, 0.5, 3.25, 17.9, 80.0] {
            let t = grid.time_of(beats);
            assert!((grid.beats_at(t) - beats).abs() < 1e-9, "{beats}");
        }
    }

    #[test]
    fn onsets_on_sixteenths_and_triplets_fit_and_others_do_not() {
        let grid = three_four_at_90();
        let on: Vec<f64> = [0.0, 0.25, 1.0 / 3.0, 2.5, 3.75]
            .iter()
            .map(|&b| grid.time_of(b))
            .collect();
        assert_eq!(grid.onset_fit(&on), 1.0);
        let off: Vec<f64> = [0.12, 0.88, 1.41]
            .iter()
            .map(|&b| grid.time_of(b))
            .collect();
        assert_eq!(grid.onset_fit(&off), 0.0);
    }

    #[test]
    fn quantizing_moves_onsets_toward_the_grid_by_the_amount() {
        let grid = three_four_at_90();
        let t = grid.time_of(2.27);
        let target = grid.time_of(2.25);
        assert!((grid.quantized(t, 1.0) - target).abs() < 1e-9);
        assert!((grid.quantized(t, 0.5) - (t + target) / 2.0).abs() < 1e-9);
        assert_eq!(grid.quantized(t, 0.0), t);
    }

    #[test]
    fn downbeats_are_played_when_an_onset_is_near() {
        let grid = three_four_at_90();
        let bar_s = 3.0 * 60.0 / 90.0;
        let onsets = [0.01, 0.5, bar_s + 0.02, 2.0 * bar_s + 0.2];
        // Three bars begin by the last onset; the third has no onset near its downbeat.
        assert!((grid.downbeats_played(&onsets, 0.0) - 2.0 / 3.0).abs() < 1e-9);
        // A clip from the second bar judges the second and third bars only.
        assert!((grid.downbeats_played(&onsets[2..], bar_s) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn grids_with_impossible_tempos_are_refused() {
        let beat = |at_s| Beat {
            at_s,
            bar: 0,
            in_bar: 0,
            signature: TimeSignature::FOUR_FOUR,
        };
        assert!(Grid::new(vec![beat(0.0)]).is_err());
        assert!(Grid::new(vec![beat(0.0), beat(0.0)]).is_err());
        assert!(Grid::new(vec![beat(0.0), beat(100.0)]).is_err());
        assert!(Grid::new(vec![beat(0.0), beat(0.5)]).is_ok());
    }
}
