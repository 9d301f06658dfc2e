//! The live layer (it uses every layer below): playing with Cadenza. Touches from a MIDI
//! keyboard, the computer keyboard or the roll's keys, stamped on one [`LiveClock`]; recording
//! them into a piece; call and response ([`Duet`]); MIDI ports in and out, with every sounding
//! note tracked so none is left ringing.

pub mod answerer;
pub mod answering;
pub mod clock;
pub mod computer_piano;
pub mod duet;
pub mod midi_follower;
pub mod midi_ports;
pub mod recording;
pub mod schedule;
pub mod sounding_notes;
pub mod turn_taking;

pub use answerer::{AnswerEvent, AnswerRequest, Answerer, spawn_answerer};
pub use answering::{AnswerStep, Answering};
pub use clock::LiveClock;
pub use computer_piano::{ComputerPiano, PianoKeyEffect};
pub use duet::{ANSWER_LEAD_S, ANSWER_MARGIN_S, ANSWER_RANGE_S, Call, Duet, DuetStep, Turn};
pub use midi_follower::{FollowTiming, MidiFollower};
pub use midi_ports::{
    CLIENT_NAME, MidiKeyboard, MidiOut, MidiPortError, MidiSink, PortName, find_port,
    find_remembered, input_ports, output_ports,
};
pub use recording::Recording;
pub use schedule::Schedule;
pub use sounding_notes::SoundingNotes;
pub use turn_taking::{DEFAULT_SILENCE_S, SILENCE_RANGE_S, TurnTaking};

/// Touches for the live layer's tests: a key struck (at velocity 80) or released at a time.
#[cfg(test)]
mod played_by_hand {
    use midly::num::u7;

    use crate::music::touch::{Played, Touch};

    /// `key` struck at `at_s`.
    pub fn strike(at_s: f64, key: u8) -> Played {
        Played {
            at_s,
            touch: Touch::strike(u7::new(key), u7::new(80)),
        }
    }

    /// `key` released at `at_s`.
    pub fn release(at_s: f64, key: u8) -> Played {
        Played {
            at_s,
            touch: Touch::Release { key: u7::new(key) },
        }
    }
}
