//! Summaries of notes that the CLI, the corpus view and the generation view share.

use crate::midi::Note;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pitch_names_follow_scientific_notation() {
        assert_eq!(pitch_name(60), "C4");
        assert_eq!(pitch_name(21), "A0");
        assert_eq!(pitch_name(108), "C8");
    }
}
