//! A time signature that can only hold a meter Cadenza can lay out in bars.

use std::fmt;
use std::str::FromStr;

/// A time signature such as 3/4 or 6/8: `numerator` notes of value 1/`denominator` per bar.
/// Built only through [`TimeSignature::new`] (or parsing), so the numerator is 1–255 (a MIDI
/// file's range; the corpus has 48/32) and the denominator a power of two from 1 to 64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeSignature {
    numerator: u8,
    denominator: u8,
}

/// Why a time signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeSignatureError {
    /// Not "N/D".
    #[error("{0:?} is not a time signature: write it as beats/unit, e.g. 3/4 or 6/8")]
    Syntax(String),
    /// Outside the numbers a bar can hold.
    #[error(
        "{numerator}/{denominator} is not a time signature Cadenza lays out: the top number must be 1 to {max_numerator}, the bottom a power of two up to {max_denominator}",
        max_numerator = TimeSignature::MAX_NUMERATOR,
        max_denominator = TimeSignature::MAX_DENOMINATOR
    )]
    Range {
        /// The top number given.
        numerator: u32,
        /// The bottom number given.
        denominator: u32,
    },
}

impl TimeSignature {
    /// Most notes per bar accepted.
    pub const MAX_NUMERATOR: u8 = u8::MAX;
    /// Shortest note value accepted as the unit (1/64).
    pub const MAX_DENOMINATOR: u8 = 64;
    /// Common time, what a MIDI file without a time signature means.
    pub const FOUR_FOUR: Self = Self {
        numerator: 4,
        denominator: 4,
    };

    /// A time signature, refused outside 1–255 over a power of two up to 64.
    pub fn new(numerator: u32, denominator: u32) -> Result<Self, TimeSignatureError> {
        let in_range = (1..=u32::from(Self::MAX_NUMERATOR)).contains(&numerator)
            && denominator.is_power_of_two()
            && denominator <= u32::from(Self::MAX_DENOMINATOR);
        if !in_range {
            return Err(TimeSignatureError::Range {
                numerator,
                denominator,
            });
        }
        Ok(Self {
            numerator: numerator as u8,
            denominator: denominator as u8,
        })
    }

    /// The top number.
    pub fn numerator(self) -> u8 {
        self.numerator
    }

    /// The bottom number.
    pub fn denominator(self) -> u8 {
        self.denominator
    }

    /// Whether the beat is a dotted note (6/8, 9/8, 12/8 …), as pretty_midi counts beats: a
    /// numerator above 3 divisible by 3.
    pub fn is_compound(self) -> bool {
        self.numerator > 3 && self.numerator.is_multiple_of(3)
    }

    /// Beats per bar: the numerator, or a third of it in a compound meter (6/8 has two beats).
    pub fn beats_per_bar(self) -> u8 {
        if self.is_compound() {
            self.numerator / 3
        } else {
            self.numerator
        }
    }

    /// Length of one beat in quarter notes (a dotted quarter, 1.5, in 6/8).
    pub fn quarters_per_beat(self) -> f64 {
        let unit = 4.0 / f64::from(self.denominator);
        if self.is_compound() { 3.0 * unit } else { unit }
    }
}

impl Default for TimeSignature {
    fn default() -> Self {
        Self::FOUR_FOUR
    }
}

impl fmt::Display for TimeSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.numerator, self.denominator)
    }
}

impl FromStr for TimeSignature {
    type Err = TimeSignatureError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let syntax = || TimeSignatureError::Syntax(text.to_string());
        let (top, bottom) = text.trim().split_once('/').ok_or_else(syntax)?;
        let number = |part: &str| part.trim().parse::<u32>().map_err(|_| syntax());
        Self::new(number(top)?, number(bottom)?)
    }
}

impl serde::Serialize for TimeSignature {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for TimeSignature {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compound_meters_count_dotted_beats() {
        let six_eight: TimeSignature = "6/8".parse().unwrap();
        assert!(six_eight.is_compound());
        assert_eq!(six_eight.beats_per_bar(), 2);
        assert_eq!(six_eight.quarters_per_beat(), 1.5);
        let three_four: TimeSignature = "3/4".parse().unwrap();
        assert!(!three_four.is_compound());
        assert_eq!(three_four.beats_per_bar(), 3);
        assert_eq!(three_four.quarters_per_beat(), 1.0);
    }

    #[test]
    fn impossible_signatures_are_refused_with_the_reason() {
        for text in ["0/4", "3/5", "256/4", "4/128", "3-4", "x/4"] {
            assert!(text.parse::<TimeSignature>().is_err(), "{text}");
        }
        let message = "3/5".parse::<TimeSignature>().unwrap_err().to_string();
        assert!(message.contains("power of two up to 64"), "{message}");
    }
}
