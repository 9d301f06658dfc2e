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
    use midly::num::u7;
    use proptest::prelude::*;

    use super::*;

    /// A MIDI synth as the receiving end sees it: keys down, the pedal, and the notes the pedal
    /// holds after their keys came up.
    #[derive(Default)]
    struct Receiver {
        keys: u128,
        pedal_down: bool,
        ringing: u128,
    }

    impl Receiver {
        fn receive(&mut self, bytes: MidiBytes) {
            if let Some(touch) = Touch::from_midi(&bytes) {
                match touch {
                    Touch::Strike { key, .. } => self.keys |= 1 << key.as_int(),
                    Touch::Release { key } => {
                        let bit = 1 << key.as_int();
                        if self.keys & bit != 0 && self.pedal_down {
                            self.ringing |= bit;
                        }
                        self.keys &= !bit;
                    }
                    Touch::Pedal { down } => {
                        self.pedal_down = down;
                        if !down {
                            self.ringing = 0;
                        }
                    }
                }
            } else if bytes[0] & 0xF0 == 0xB0 && bytes[1] == ALL_NOTES_OFF_CONTROLLER {
                // Like a key-up for every key: the pedal still holds what sounded.
                if self.pedal_down {
                    self.ringing |= self.keys;
                }
                self.keys = 0;
            }
        }

        fn sounding(&self) -> bool {
            self.keys != 0 || self.ringing != 0
        }
    }

    fn touches() -> impl Strategy<Value = Vec<Touch>> {
        let touch = prop_oneof![
            (0u8..128, 1u8..128).prop_map(|(k, v)| Touch::strike(u7::new(k), u7::new(v))),
            (0u8..128).prop_map(|k| Touch::Release { key: u7::new(k) }),
            any::<bool>().prop_map(|down| Touch::Pedal { down }),
        ];
        proptest::collection::vec(touch, 0..200)
    }

    proptest! {
        #[test]
        fn after_any_touches_silence_leaves_no_note_sounding(touches in touches()) {
            let mut tracker = SoundingNotes::default();
            let mut receiver = Receiver::default();
            for touch in touches {
                tracker.observe(touch);
                receiver.receive(touch.to_midi());
            }
            for message in tracker.silence() {
                receiver.receive(message);
            }
            prop_assert!(!receiver.sounding());
            prop_assert!(!tracker.is_sounding());
        }
    }

    #[test]
    fn all_notes_off_alone_would_leave_pedalled_notes_ringing() {
        let mut receiver = Receiver::default();
        for touch in [
            Touch::Pedal { down: true },
            Touch::strike(u7::new(60), u7::new(90)),
        ] {
            receiver.receive(touch.to_midi());
        }
        receiver.receive(controller_bytes(ALL_NOTES_OFF_CONTROLLER, 0));
        assert!(
            receiver.sounding(),
            "the receiver model must keep pedalled notes"
        );
    }

    #[test]
    fn panic_ends_with_all_sound_off() {
        let messages = SoundingNotes::default().panic();
        assert_eq!(messages.last(), Some(&[0xB0, ALL_SOUND_OFF_CONTROLLER, 0]));
    }
}
