//! Every note a MIDI output was told to sound, so that stopping silences exactly those: no
//! note left ringing when a key-up is lost, a port changes or the app quits.

use crate::music::touch::{
    ALL_NOTES_OFF_CONTROLLER, ALL_SOUND_OFF_CONTROLLER, MidiBytes, Touch, controller_bytes,
};

/// The keys down and the pedal, as sent to one output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SoundingNotes {
    /// One bit per MIDI key.
    keys: u128,
    pedal_down: bool,
}

impl SoundingNotes {
    /// Follows one touch sent.
    pub fn observe(&mut self, touch: Touch) {
        match touch {
            Touch::Strike { key, .. } => self.keys |= 1 << key.as_int(),
            Touch::Release { key } => self.keys &= !(1 << key.as_int()),
            Touch::Pedal { down } => self.pedal_down = down,
        }
    }

    /// Whether any key or the pedal is down.
    pub fn is_sounding(&self) -> bool {
        self.keys != 0 || self.pedal_down
    }

    /// What stops everything, in the order that leaves nothing ringing: each tracked key's
    /// note-off, then the pedal up (CC 64 = 0), then all notes off (CC 123), for notes this
    /// tracker never saw. CC 123 alone would leave notes held by the pedal ringing.
    pub fn silence(&mut self) -> Vec<MidiBytes> {
        let mut messages: Vec<MidiBytes> = (0..128u8)
            .filter(|&key| self.keys & (1 << key) != 0)
            .filter_map(midly::num::u7::try_from)
            .map(|key| Touch::Release { key }.to_midi())
            .collect();
        messages.push(Touch::Pedal { down: false }.to_midi());
        messages.push(controller_bytes(ALL_NOTES_OFF_CONTROLLER, 0));
        *self = Self::default();
        messages
    }

    /// [`SoundingNotes::silence`], then all sound off (CC 120), which also cuts release tails:
    /// the Panic button.
    pub fn panic(&mut self) -> Vec<MidiBytes> {
        let mut messages = self.silence();
        messages.push(controller_bytes(ALL_SOUND_OFF_CONTROLLER, 0));
        messages
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // That silencing leaves nothing sounding, after any touches, is tested against a model of a
    // receiving synth in `tests/live.rs`.

    #[test]
    fn panic_ends_with_all_sound_off() {
        let messages = SoundingNotes::default().panic();
        assert_eq!(messages.last(), Some(&[0xB0, ALL_SOUND_OFF_CONTROLLER, 0]));
    }
}
