//! Summaries of notes that the CLI, the corpus view and the generation view share.

use crate::music::midi::{self, Note, Piece};

/// How often each MIDI pitch occurs; merges across pieces.
#[derive(Debug, Clone, PartialEq)]
pub struct PitchCounts {
    counts: [u64; 128],
}

impl Default for PitchCounts {
    fn default() -> Self {
        Self { counts: [0; 128] }
    }
}

impl PitchCounts {
    /// Counts the pitches of `notes`.
    pub fn of_notes(notes: &[Note]) -> Self {
        let mut counts = Self::default();
        for note in notes {
            counts.counts[usize::from(note.pitch.min(127))] += 1;
        }
        counts
    }

    /// Adds another set of counts to this one.
    pub fn merge(&mut self, other: &PitchCounts) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts.iter()) {
            *mine += theirs;
        }
    }

    /// Number of notes counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Occurrences of one pitch.
    pub fn count(&self, pitch: u8) -> u64 {
        self.counts[usize::from(pitch.min(127))]
    }

    /// Lowest pitch that occurs.
    pub fn min(&self) -> Option<u8> {
        self.counts.iter().position(|&c| c > 0).map(|p| p as u8)
    }

    /// Highest pitch that occurs.
    pub fn max(&self) -> Option<u8> {
        self.counts.iter().rposition(|&c| c > 0).map(|p| p as u8)
    }

    /// Share of notes on each pitch class (C, C♯, … B); sums to 1, or all zeros with no notes.
    pub fn pitch_class_histogram(&self) -> [f64; 12] {
        let mut classes = [0u64; 12];
        for (pitch, count) in self.counts.iter().enumerate() {
            classes[pitch % 12] += count;
        }
        let total = self.total().max(1) as f64;
        classes.map(|c| c as f64 / total)
    }
}

/// Pitch class names, sharps only, indexed by pitch % 12.
pub const PITCH_CLASS_NAMES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];

/// Scientific pitch name of a MIDI key, e.g. 60 → "C4", 21 → "A0".
pub fn pitch_name(pitch: u8) -> String {
    let octave = i32::from(pitch) / 12 - 1;
    format!("{}{octave}", PITCH_CLASS_NAMES[usize::from(pitch % 12)])
}

/// Musical statistics of one piece, shown beside a take and its corpus so a composer can judge
/// whether a model "sounds like" what it learned from. Computed on the notes as heard (pedal
/// applied), so a corpus piece and a generated one (no pedal) compare fairly.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MusicStats {
    /// Onsets per second between the first onset and the last release.
    pub notes_per_s: f64,
    /// Average number of notes sounding together, over the time anything sounds.
    pub mean_polyphony: f64,
    /// Lowest pitch.
    pub pitch_min: Option<u8>,
    /// Highest pitch.
    pub pitch_max: Option<u8>,
    /// Share of notes on each pitch class, C first.
    pub pitch_class_histogram: [f64; 12],
    /// Mean key velocity.
    pub velocity_mean: f64,
    /// Standard deviation of key velocity.
    pub velocity_std: f64,
    /// Median note length in seconds (as heard).
    pub median_note_s: f64,
}

impl MusicStats {
    /// Statistics of a piece as heard.
    pub fn of_piece(piece: &Piece) -> Self {
        Self::of_sounding_notes(&midi::apply_sustain(piece))
    }

    /// Statistics of notes whose lengths already include the pedal.
    pub fn of_sounding_notes(notes: &[Note]) -> Self {
        let pitches = PitchCounts::of_notes(notes);
        let count = notes.len().max(1) as f64;
        let velocity_mean = notes.iter().map(|n| f64::from(n.velocity)).sum::<f64>() / count;
        let variance = notes
            .iter()
            .map(|n| (f64::from(n.velocity) - velocity_mean).powi(2))
            .sum::<f64>()
            / count;
        let first = notes
            .iter()
            .map(|n| n.start_s)
            .fold(f64::INFINITY, f64::min);
        let last = notes.iter().map(|n| n.end_s).fold(0.0, f64::max);
        let span = if notes.is_empty() { 0.0 } else { last - first };
        Self {
            notes_per_s: if span > 0.0 {
                notes.len() as f64 / span
            } else {
                0.0
            },
            mean_polyphony: mean_polyphony(notes),
            pitch_min: pitches.min(),
            pitch_max: pitches.max(),
            pitch_class_histogram: pitches.pitch_class_histogram(),
            velocity_mean,
            velocity_std: variance.sqrt(),
            median_note_s: median(notes.iter().map(|n| n.end_s - n.start_s).collect()),
        }
    }
}

/// The median of some values (0 for none).
pub fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Sounding time of all notes divided by the time during which at least one sounds.
fn mean_polyphony(notes: &[Note]) -> f64 {
    let mut edges: Vec<(f64, i32)> = notes
        .iter()
        .flat_map(|n| [(n.start_s, 1), (n.end_s, -1)])
        .collect();
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut sounding, mut busy, mut weighted, mut previous) = (0i32, 0.0, 0.0, 0.0);
    for (time, change) in edges {
        if sounding > 0 {
            busy += time - previous;
            weighted += f64::from(sounding) * (time - previous);
        }
        sounding += change;
        previous = time;
    }
    if busy > 0.0 { weighted / busy } else { 0.0 }
}

/// What a corpus sounds like, to compare single pieces against.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CorpusProfile {
    /// Share of notes on each pitch class over the whole corpus.
    pub pitch_class_histogram: [f64; 12],
    /// Note density of each piece, sorted.
    pub notes_per_s: Vec<f64>,
    /// Mean polyphony of each piece, sorted.
    pub mean_polyphony: Vec<f64>,
    /// Median note length of each piece, sorted.
    pub median_note_s: Vec<f64>,
    /// Velocity spread (standard deviation) of each piece, sorted.
    pub velocity_std: Vec<f64>,
}

/// Where a corpus's pieces lie for one statistic.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Spread {
    /// The lowest piece's value.
    pub min: f64,
    /// The median piece's value.
    pub median: f64,
    /// The highest piece's value.
    pub max: f64,
}

impl Spread {
    /// The spread of sorted values; `None` for none.
    fn of_sorted(values: &[f64]) -> Option<Self> {
        Some(Self {
            min: *values.first()?,
            median: values[values.len() / 2],
            max: *values.last()?,
        })
    }

    /// Whether `value` lies between the lowest and the highest piece.
    pub fn contains(&self, value: f64) -> bool {
        (self.min..=self.max).contains(&value)
    }
}

/// How a piece compares with a corpus.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CorpusComparison {
    /// Jensen–Shannon divergence between the pitch-class histograms, in bits: 0 identical, 1 disjoint.
    pub pitch_class_js_divergence: f64,
    /// The piece's note density.
    pub notes_per_s: f64,
    /// Least dense corpus piece.
    pub corpus_notes_per_s_min: f64,
    /// Median corpus density.
    pub corpus_notes_per_s_median: f64,
    /// Densest corpus piece.
    pub corpus_notes_per_s_max: f64,
    /// Share of corpus pieces less dense than this one, 0–1.
    pub notes_per_s_percentile: f64,
    /// The corpus pieces' mean polyphony.
    pub corpus_mean_polyphony: Spread,
    /// The corpus pieces' median note length, seconds.
    pub corpus_median_note_s: Spread,
    /// The corpus pieces' velocity spread.
    pub corpus_velocity_std: Spread,
}

impl CorpusProfile {
    /// The profile of some pieces.
    pub fn of_pieces<'a>(pieces: impl IntoIterator<Item = &'a Piece>) -> Self {
        let mut counts = PitchCounts::default();
        let mut all = Vec::new();
        for piece in pieces {
            let sounding = midi::apply_sustain(piece);
            counts.merge(&PitchCounts::of_notes(&sounding));
            all.push(MusicStats::of_sounding_notes(&sounding));
        }
        let sorted = |value: fn(&MusicStats) -> f64| {
            let mut values: Vec<f64> = all.iter().map(value).collect();
            values.sort_by(f64::total_cmp);
            values
        };
        Self {
            pitch_class_histogram: counts.pitch_class_histogram(),
            notes_per_s: sorted(|s| s.notes_per_s),
            mean_polyphony: sorted(|s| s.mean_polyphony),
            median_note_s: sorted(|s| s.median_note_s),
            velocity_std: sorted(|s| s.velocity_std),
        }
    }

    /// Compares one piece's statistics with the corpus; `None` for an empty corpus.
    pub fn compare(&self, piece: &MusicStats) -> Option<CorpusComparison> {
        let (&min, &max) = (self.notes_per_s.first()?, self.notes_per_s.last()?);
        let below = self.notes_per_s.partition_point(|&d| d < piece.notes_per_s);
        Some(CorpusComparison {
            pitch_class_js_divergence: js_divergence(
                &piece.pitch_class_histogram,
                &self.pitch_class_histogram,
            ),
            notes_per_s: piece.notes_per_s,
            corpus_notes_per_s_min: min,
            corpus_notes_per_s_median: self.notes_per_s[self.notes_per_s.len() / 2],
            corpus_notes_per_s_max: max,
            notes_per_s_percentile: below as f64 / self.notes_per_s.len() as f64,
            corpus_mean_polyphony: Spread::of_sorted(&self.mean_polyphony)?,
            corpus_median_note_s: Spread::of_sorted(&self.median_note_s)?,
            corpus_velocity_std: Spread::of_sorted(&self.velocity_std)?,
        })
    }
}

/// Jensen–Shannon divergence of two distributions, in bits.
pub fn js_divergence(p: &[f64], q: &[f64]) -> f64 {
    let kl = |a: &[f64], m: &[f64]| -> f64 {
        a.iter()
            .zip(m)
            .filter(|(x, _)| **x > 0.0)
            .map(|(x, y)| x * (x / y).log2())
            .sum()
    };
    let m: Vec<f64> = p.iter().zip(q).map(|(a, b)| (a + b) / 2.0).collect();
    (0.5 * kl(p, &m) + 0.5 * kl(q, &m)).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(pitch: u8, start_s: f64, end_s: f64, velocity: u8) -> Note {
        Note {
            pitch,
            start_s,
            end_s,
            velocity,
        }
    }

    #[test]
    fn a_triad_then_a_single_note_has_mean_polyphony_two() {
        // Three notes for 1 s, then one for 1 s: (3 + 1) / 2.
        let notes = [
            note(60, 0.0, 1.0, 40),
            note(64, 0.0, 1.0, 60),
            note(67, 0.0, 1.0, 80),
            note(72, 1.0, 2.0, 60),
        ];
        let stats = MusicStats::of_sounding_notes(&notes);
        assert!((stats.mean_polyphony - 2.0).abs() < 1e-9);
        assert!((stats.notes_per_s - 2.0).abs() < 1e-9);
        assert!((stats.velocity_mean - 60.0).abs() < 1e-9);
        assert!((stats.velocity_std - (200.0f64).sqrt()).abs() < 1e-9);
        assert_eq!((stats.pitch_min, stats.pitch_max), (Some(60), Some(72)));
    }

    #[test]
    fn js_divergence_is_zero_for_equal_and_one_for_disjoint_histograms() {
        let c = [1.0, 0.0];
        let d = [0.0, 1.0];
        assert!(js_divergence(&c, &c).abs() < 1e-12);
        assert!((js_divergence(&c, &d) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn pitch_names_follow_scientific_notation() {
        assert_eq!(pitch_name(60), "C4");
        assert_eq!(pitch_name(21), "A0");
        assert_eq!(pitch_name(108), "C8");
    }
}
