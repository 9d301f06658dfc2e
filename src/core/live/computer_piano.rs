//! The computer keyboard as a piano, laid out as DAWs do: the A row plays white keys from C, the
//! W E T Y U O P row the black keys between them; Z / X shift an octave, C / V change velocity.

use std::collections::BTreeMap;

use midly::num::u7;

use crate::music::touch::Touch;

/// The key the A key plays with no octave shift: middle C.
const LOWEST_KEY: i16 = 60;
/// Semitones above [`LOWEST_KEY`] for each letter: the A row white, the row above black.
const LAYOUT: [(char, i16); 17] = [
    ('a', 0),
    ('w', 1),
    ('s', 2),
    ('e', 3),
    ('d', 4),
    ('f', 5),
    ('t', 6),
    ('g', 7),
    ('y', 8),
    ('h', 9),
    ('u', 10),
    ('j', 11),
    ('k', 12),
    ('o', 13),
    ('l', 14),
    ('p', 15),
    (';', 16),
];
/// Octaves the keyboard can shift down or up: C3 to C7 under the A key, inside the piano.
const OCTAVE_RANGE: (i8, i8) = (-3, 3);
/// Default velocity: mezzo-forte.
pub const DEFAULT_VELOCITY: u8 = 80;
/// C / V change the velocity by this (Ableton's step).
const VELOCITY_STEP: u8 = 20;

/// What a letter did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PianoKeyEffect {
    /// A note struck or released.
    Touch(Touch),
    /// The octave or the velocity changed.
    Setting,
    /// Not a piano letter, or a repeat: nothing happens.
    Nothing,
}

/// The computer keyboard as a piano: which letters are down and what they play.
#[derive(Debug, Clone)]
pub struct ComputerPiano {
    octave: i8,
    velocity: u8,
    /// Each letter down and the key it struck (an octave shift while held releases the right one).
    held: BTreeMap<char, u7>,
}

impl Default for ComputerPiano {
    fn default() -> Self {
        Self {
            octave: 0,
            velocity: DEFAULT_VELOCITY,
            held: BTreeMap::new(),
        }
    }
}

impl ComputerPiano {
    /// The octave shift, -3 to 3.
    pub fn octave(&self) -> i8 {
        self.octave
    }

    /// The velocity letters strike with.
    pub fn velocity(&self) -> u8 {
        self.velocity
    }

    /// The MIDI key a letter plays now, if it is a piano letter.
    pub fn key_of(&self, letter: char) -> Option<u7> {
        let letter = letter.to_ascii_lowercase();
        let (_, semitones) = LAYOUT.iter().find(|(l, _)| *l == letter)?;
        let key = LOWEST_KEY + 12 * i16::from(self.octave) + semitones;
        u8::try_from(key).ok().and_then(u7::try_from)
    }

    /// A letter went down; a key repeat (the letter already down) does nothing.
    pub fn press(&mut self, letter: char) -> PianoKeyEffect {
        let letter = letter.to_ascii_lowercase();
        if self.held.contains_key(&letter) {
            return PianoKeyEffect::Nothing;
        }
        match letter {
            'z' => self.octave = (self.octave - 1).max(OCTAVE_RANGE.0),
            'x' => self.octave = (self.octave + 1).min(OCTAVE_RANGE.1),
            'c' => self.velocity = self.velocity.saturating_sub(VELOCITY_STEP).max(1),
            'v' => self.velocity = self.velocity.saturating_add(VELOCITY_STEP).min(127),
            _ => {
                let Some(key) = self.key_of(letter) else {
                    return PianoKeyEffect::Nothing;
                };
                self.held.insert(letter, key);
                return PianoKeyEffect::Touch(Touch::strike(key, u7::new(self.velocity)));
            }
        }
        PianoKeyEffect::Setting
    }

    /// A letter came up: releases the key it struck.
    pub fn release(&mut self, letter: char) -> Option<Touch> {
        let key = self.held.remove(&letter.to_ascii_lowercase())?;
        Some(Touch::Release { key })
    }

    /// Releases every key held (the window lost focus, so no key-up will come).
    pub fn release_all(&mut self) -> Vec<Touch> {
        std::mem::take(&mut self.held)
            .into_values()
            .map(|key| Touch::Release { key })
            .collect()
    }

    /// Whether any letter is down.
    pub fn is_held(&self) -> bool {
        !self.held.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_a_row_plays_white_keys_from_middle_c_and_the_row_above_black_keys() {
        let piano = ComputerPiano::default();
        let keys: Vec<u8> = "awsedftgyhujk"
            .chars()
            .map(|l| piano.key_of(l).map_or(0, u7::as_int))
            .collect();
        assert_eq!(keys, (60..=72).collect::<Vec<u8>>());
    }

    #[test]
    fn a_repeat_plays_nothing_and_an_octave_shift_while_held_releases_the_key_struck() {
        let mut piano = ComputerPiano::default();
        assert!(matches!(piano.press('a'), PianoKeyEffect::Touch(_)));
        assert_eq!(piano.press('a'), PianoKeyEffect::Nothing);
        assert_eq!(piano.press('x'), PianoKeyEffect::Setting);
        assert_eq!(piano.key_of('a'), Some(u7::new(72)));
        assert_eq!(
            piano.release('a'),
            Some(Touch::Release { key: u7::new(60) })
        );
        assert_eq!(piano.release('a'), None);
    }

    #[test]
    fn velocity_and_octave_stay_in_range() {
        let mut piano = ComputerPiano::default();
        for _ in 0..10 {
            let _ = piano.press('c');
            let _ = piano.press('z');
        }
        assert_eq!((piano.velocity(), piano.octave()), (1, -3));
        assert_eq!(piano.key_of('a'), Some(u7::new(24)));
        for _ in 0..10 {
            let _ = piano.press('v');
            let _ = piano.press('x');
        }
        assert_eq!((piano.velocity(), piano.octave()), (127, 3));
    }

    #[test]
    fn losing_focus_releases_every_key_held() {
        let mut piano = ComputerPiano::default();
        let _ = piano.press('a');
        let _ = piano.press('g');
        let released = piano.release_all();
        assert_eq!(released.len(), 2);
        assert!(!piano.is_held());
    }
}
