//! What a player does to the piano at an instant: strikes or releases a key, presses or lifts the
//! pedal. Keys and velocities are MIDI's 7-bit numbers (midly's `u7`), so an impossible key
//! cannot be built, and MIDI bytes are read and written by midly.

use midly::MidiMessage;
use midly::live::LiveEvent;
use midly::num::{u4, u7};

use super::midi::SUSTAIN_CONTROLLER;

/// One action on the piano.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Touch {
    /// A key goes down.
    Strike {
        /// The MIDI key (60 = middle C).
        key: u7,
        /// How hard, 1–127 ([`Touch::strike`] keeps it above 0, which MIDI reads as a release).
        velocity: u7,
    },
    /// A key comes up.
    Release {
        /// The MIDI key.
        key: u7,
    },
    /// The sustain pedal goes down or comes up.
    Pedal {
        /// Whether it is down.
        down: bool,
    },
}

/// A touch and when it happened, in seconds on the clock of whoever recorded it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Played {
    /// When, in seconds.
    pub at_s: f64,
    /// What.
    pub touch: Touch,
}

/// Three bytes of a channel message, as sent to a MIDI port.
pub type MidiBytes = [u8; 3];

/// MIDI's channel-mode controller that ends every sounding note at once, ignoring the pedal.
pub const ALL_SOUND_OFF_CONTROLLER: u8 = 120;
/// MIDI's channel-mode controller that releases every key (held by the pedal, notes ring on).
pub const ALL_NOTES_OFF_CONTROLLER: u8 = 123;

impl Touch {
    /// A strike; a velocity of 0 (a release, in MIDI) is raised to 1.
    pub fn strike(key: u7, velocity: u7) -> Self {
        Self::Strike {
            key,
            velocity: velocity.max(u7::new(1)),
        }
    }

    /// The key struck or released, if any.
    pub fn key(self) -> Option<u7> {
        match self {
            Self::Strike { key, .. } | Self::Release { key } => Some(key),
            Self::Pedal { .. } => None,
        }
    }

    /// Reads one MIDI message from any channel: note-on (velocity 0 is a release), note-off, and
    /// the sustain pedal (CC 64, down from 64). Everything else (other controllers, clock, system
    /// messages, malformed bytes) is `None`.
    pub fn from_midi(bytes: &[u8]) -> Option<Self> {
        let LiveEvent::Midi { message, .. } = LiveEvent::parse(bytes).ok()? else {
            return None;
        };
        match message {
            MidiMessage::NoteOn { key, vel } if vel > 0 => Some(Self::strike(key, vel)),
            MidiMessage::NoteOn { key, .. } | MidiMessage::NoteOff { key, .. } => {
                Some(Self::Release { key })
            }
            MidiMessage::Controller { controller, value }
                if controller.as_int() == SUSTAIN_CONTROLLER =>
            {
                Some(Self::Pedal {
                    down: value.as_int() >= 64,
                })
            }
            _ => None,
        }
    }

    /// The message on MIDI channel 1.
    pub fn to_midi(self) -> MidiBytes {
        match self {
            Self::Strike { key, velocity } => {
                channel_bytes(MidiMessage::NoteOn { key, vel: velocity })
            }
            Self::Release { key } => channel_bytes(MidiMessage::NoteOff {
                key,
                vel: u7::new(0),
            }),
            Self::Pedal { down } => {
                controller_bytes(SUSTAIN_CONTROLLER, if down { 127 } else { 0 })
            }
        }
    }
}

/// A controller change on MIDI channel 1 (values above 127 are cut to 7 bits).
pub fn controller_bytes(controller: u8, value: u8) -> MidiBytes {
    channel_bytes(MidiMessage::Controller {
        controller: u7::new(controller & 0x7f),
        value: u7::new(value & 0x7f),
    })
}

fn channel_bytes(message: MidiMessage) -> MidiBytes {
    let mut bytes = Vec::with_capacity(3);
    let event = LiveEvent::Midi {
        channel: u4::new(0),
        message,
    };
    // Writing into a Vec cannot fail.
    let _ = event.write_std(&mut bytes);
    let mut out = [0; 3];
    for (slot, byte) in out.iter_mut().zip(bytes) {
        *slot = byte;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_on_at_velocity_zero_reads_as_a_release_on_any_channel() {
        assert_eq!(
            Touch::from_midi(&[0x93, 60, 0]),
            Some(Touch::Release { key: u7::new(60) })
        );
        assert_eq!(
            Touch::from_midi(&[0x93, 60, 90]),
            Some(Touch::strike(u7::new(60), u7::new(90)))
        );
    }

    #[test]
    fn the_pedal_is_down_from_64_and_other_controllers_and_clock_are_ignored() {
        assert_eq!(
            Touch::from_midi(&[0xB0, 64, 64]),
            Some(Touch::Pedal { down: true })
        );
        assert_eq!(
            Touch::from_midi(&[0xB0, 64, 63]),
            Some(Touch::Pedal { down: false })
        );
        assert_eq!(Touch::from_midi(&[0xB0, 1, 100]), None);
        assert_eq!(Touch::from_midi(&[0xF8]), None);
        assert_eq!(Touch::from_midi(&[0x90, 200]), None);
    }

    #[test]
    fn touches_written_as_midi_read_back_the_same() {
        for touch in [
            Touch::strike(u7::new(21), u7::new(1)),
            Touch::Release { key: u7::new(108) },
            Touch::Pedal { down: true },
            Touch::Pedal { down: false },
        ] {
            assert_eq!(Touch::from_midi(&touch.to_midi()), Some(touch));
        }
        assert_eq!(
            controller_bytes(ALL_NOTES_OFF_CONTROLLER, 0),
            [0xB0, 123, 0]
        );
    }
}
