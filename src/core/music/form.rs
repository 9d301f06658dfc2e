//! Form as a composer lays it out: sections of bars, a letter used again meaning "this section
//! again" ("A4 B4 A′4": four bars, four new bars, the first four again).

use std::fmt;
use std::str::FromStr;

use crate::music::meter::Grid;
use crate::music::midi::Note;

/// One section: its letter (its identity: a letter used again repeats the first section that
/// had it) and its length in bars. A prime (A′) only marks a varied repeat for the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    /// 'A' to 'Z'.
    pub letter: char,
    /// Whether it was written with a prime.
    pub primed: bool,
    /// Bars, 1 to [`Form::MAX_BARS`].
    pub bars: u32,
}

/// Sections in order, each repeat as long as its first occurrence. Built by parsing, so every
/// form is one Cadenza can lay out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    sections: Vec<Section>,
}

/// Why a form was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// No sections.
    #[error("the form is empty: write sections as letters and bars, e.g. \"A4 B4 A4\"")]
    Empty,
    /// A token that is not a letter and a number.
    #[error("{0:?} is not a section: write a capital letter and its bars, e.g. A4 or A'4")]
    Syntax(String),
    /// A section of no bars or too many.
    #[error("{section}: a section is 1 to {max} bars", max = Form::MAX_BARS)]
    Bars {
        /// The section as written.
        section: String,
    },
    /// A repeat of another length than its model.
    #[error(
        "{letter} is {first} bars at first and {again} bars later: a repeat is as long as the section it repeats"
    )]
    RepeatLength {
        /// The letter.
        letter: char,
        /// Bars of its first occurrence.
        first: u32,
        /// Bars of the repeat.
        again: u32,
    },
    /// Too many bars in all.
    #[error("the form has {bars} bars; at most {max} are laid out", max = Form::MAX_TOTAL_BARS)]
    TooLong {
        /// Bars in all.
        bars: u32,
    },
}

impl Form {
    /// Most bars in one section.
    pub const MAX_BARS: u32 = 64;
    /// Most bars in all.
    pub const MAX_TOTAL_BARS: u32 = 512;

    /// The sections in order.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// Bars in all.
    pub fn bars(&self) -> u32 {
        self.sections.iter().map(|s| s.bars).sum()
    }

    /// For each section, the index of the section it repeats (the first with its letter), or
    /// `None` for a first occurrence.
    pub fn models(&self) -> Vec<Option<usize>> {
        self.sections
            .iter()
            .enumerate()
            .map(|(i, section)| {
                self.sections[..i]
                    .iter()
                    .position(|s| s.letter == section.letter)
            })
            .collect()
    }

    /// The bar each section begins at, counting from 0.
    pub fn first_bars(&self) -> Vec<u32> {
        let mut bar = 0;
        self.sections
            .iter()
            .map(|s| {
                let first = bar;
                bar += s.bars;
                first
            })
            .collect()
    }
}

/// Onsets closer than this (in beats) at the same pitch count as the same note of a section.
pub const SAME_NOTE_BEATS: f64 = 0.125;

/// The share of `first`'s notes that `again` has too, by position in the section (beats from
/// its start) and pitch: 1 for a repeat note for note, near 0 for unrelated music (1 when
/// `first` is empty).
pub fn shared_notes(first: &[(f64, u8)], again: &[(f64, u8)]) -> f64 {
    if first.is_empty() {
        return 1.0;
    }
    let found = first
        .iter()
        .filter(|&&(beat, pitch)| {
            again
                .iter()
                .any(|&(b, p)| p == pitch && (b - beat).abs() <= SAME_NOTE_BEATS)
        })
        .count();
    found as f64 / first.len() as f64
}

/// A section placed in time on a grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SectionTime {
    /// The section.
    pub section: Section,
    /// The section it repeats (its index), if it is a repeat.
    pub model: Option<usize>,
    /// Its first bar and the bar after its last (counting the grid's bars from 0).
    pub bars: (u32, u32),
    /// When it begins and ends.
    pub start_s: f64,
    /// When it ends.
    pub end_s: f64,
}

impl Form {
    /// The sections on `grid`, from the first bar line at or after `from_s` (a primer's end).
    pub fn on_grid(&self, grid: &Grid, from_s: f64) -> Vec<SectionTime> {
        let first_bar = grid
            .bar_lines()
            .position(|(_, at_s)| at_s >= from_s - 1e-6)
            .unwrap_or(0) as u32;
        self.sections
            .iter()
            .zip(self.first_bars())
            .zip(self.models())
            .map(|((&section, bar), model)| {
                let bars = (first_bar + bar, first_bar + bar + section.bars);
                SectionTime {
                    section,
                    model,
                    bars,
                    start_s: grid.bar_start_s(bars.0),
                    end_s: grid.bar_start_s(bars.1),
                }
            })
            .collect()
    }
}

impl SectionTime {
    /// Whether `t_s` falls in the section.
    pub fn contains(&self, t_s: f64) -> bool {
        (self.start_s..self.end_s).contains(&t_s)
    }

    /// `notes`' notes struck in this section moved onto `onto` beat for beat (a note held past
    /// this section's end ends with the copy).
    pub fn copy_onto(&self, notes: &[Note], onto: &SectionTime, grid: &Grid) -> Vec<Note> {
        let offset = grid.beats_at(onto.start_s) - grid.beats_at(self.start_s);
        let shift = |t: f64| grid.time_of(grid.beats_at(t) + offset);
        notes
            .iter()
            .filter(|n| self.contains(n.start_s))
            .map(|n| Note {
                start_s: shift(n.start_s),
                end_s: shift(n.end_s.min(self.end_s)),
                ..*n
            })
            .collect()
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // An ASCII prime: the app's font has no U+2032.
        let prime = if self.primed { "'" } else { "" };
        write!(f, "{}{prime}", self.letter)
    }
}

fn parse_section(token: &str) -> Result<Section, FormError> {
    let syntax = || FormError::Syntax(token.to_string());
    let mut chars = token.chars();
    let letter = chars
        .next()
        .filter(char::is_ascii_uppercase)
        .ok_or_else(syntax)?;
    let rest = chars.as_str();
    let (primed, digits) = match rest.strip_prefix(['′', '\'']) {
        Some(digits) => (true, digits),
        None => (false, rest),
    };
    let bars: u32 = digits.parse().map_err(|_| syntax())?;
    if !(1..=Form::MAX_BARS).contains(&bars) {
        return Err(FormError::Bars {
            section: token.to_string(),
        });
    }
    Ok(Section {
        letter,
        primed,
        bars,
    })
}

impl FromStr for Form {
    type Err = FormError;

    fn from_str(text: &str) -> Result<Self, FormError> {
        let sections = text
            .split_whitespace()
            .map(parse_section)
            .collect::<Result<Vec<_>, _>>()?;
        if sections.is_empty() {
            return Err(FormError::Empty);
        }
        for (i, section) in sections.iter().enumerate() {
            if let Some(first) = sections[..i].iter().find(|s| s.letter == section.letter)
                && first.bars != section.bars
            {
                return Err(FormError::RepeatLength {
                    letter: section.letter,
                    first: first.bars,
                    again: section.bars,
                });
            }
        }
        let form = Self { sections };
        match form.bars() {
            bars if bars > Self::MAX_TOTAL_BARS => Err(FormError::TooLong { bars }),
            _ => Ok(form),
        }
    }
}

impl fmt::Display for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .sections
            .iter()
            .map(|s| format!("{s}{}", s.bars))
            .collect();
        f.write_str(&parts.join(" "))
    }
}

impl serde::Serialize for Form {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Form {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_reads_its_sections_and_which_they_repeat() {
        let form: Form = "A4 B4 A′4 C2".parse().expect("a form");
        assert_eq!(form.bars(), 14);
        assert_eq!(form.models(), vec![None, None, Some(0), None]);
        assert_eq!(form.first_bars(), vec![0, 4, 8, 12]);
        assert!(form.sections()[2].primed);
        assert_eq!(form.to_string(), "A4 B4 A'4 C2");
        assert_eq!("A4 B4 A'4".parse::<Form>().map(|f| f.bars()), Ok(12));
    }

    #[test]
    fn shared_notes_count_the_same_pitch_at_the_same_place() {
        let first = [(0.0, 60), (1.0, 64), (2.0, 67), (3.0, 72)];
        assert_eq!(shared_notes(&first, &first), 1.0);
        let varied = [(0.0, 60), (1.05, 64), (2.0, 65), (3.5, 72)];
        assert_eq!(shared_notes(&first, &varied), 0.5);
        assert_eq!(shared_notes(&first, &[]), 0.0);
    }

    #[test]
    fn impossible_forms_are_refused_with_the_reason() {
        let refused = |text: &str| text.parse::<Form>().unwrap_err().to_string();
        assert!(refused("").contains("empty"));
        assert!(refused("a4").contains("capital letter"));
        assert!(refused("A").contains("not a section"));
        assert!(refused("A0").contains("1 to 64 bars"));
        assert!(refused("A4 B4 A2").contains("A is 4 bars at first and 2 bars later"));
        assert!(refused(&"A64 ".repeat(9)).contains("at most 512"));
    }
}
