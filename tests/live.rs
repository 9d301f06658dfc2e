//! Playing live: silencing a MIDI output leaves nothing sounding on a receiving synth after any
//! touches; through the player, touches sound at once while nothing plays, and after any
//! sequence of transport actions ending in Stop neither the synth nor a MIDI output following
//! playback is left sounding (those need a SoundFont: they skip without it, and fail in CI).

use std::sync::{Arc, Mutex};

use cadenza_core::audio::{self, FiredKind, PianoSynth, Tapped, TransportCommand};
use cadenza_core::live::{MidiOut, MidiPortError, MidiSink, SoundingNotes};
use cadenza_core::midi::{Note, PedalInterval, Piece};
use cadenza_core::music::touch::{ALL_NOTES_OFF_CONTROLLER, MidiBytes, Touch, controller_bytes};
use midly::num::u7;
use proptest::prelude::*;

fn synth(test: &str) -> Option<PianoSynth> {
    let path = crate::support::fixtures::system_soundfont(test)?;
    Some(PianoSynth::new(&path, audio::DEFAULT_GAIN).expect("SoundFont loads"))
}

/// Pulls `frames` stereo frames from the source.
fn pull(source: &mut audio::PlaybackSource, frames: usize) -> Vec<f32> {
    source.by_ref().take(frames * 2).collect()
}

#[test]
fn a_live_touch_sounds_within_one_block_while_nothing_plays() {
    let Some(synth) = synth("live touch") else {
        return;
    };
    let (transport, mut source) = audio::playback(synth);
    assert_eq!(audio::peak(&pull(&mut source, 2048)), 0.0);
    transport.send(TransportCommand::Touch(Touch::strike(
        u7::new(60),
        u7::new(100),
    )));
    let sounded = pull(&mut source, 256 + 128);
    let first = sounded
        .iter()
        .position(|s| s.abs() > 1e-4)
        .expect("the key sounds")
        / 2;
    assert!(first <= 256 + 64, "first sound after {first} frames");
}

/// A MIDI synth as the receiving end sees it: keys down, the pedal, and the notes the pedal
/// holds after their keys came up.
#[derive(Default)]
struct Receiver {
    keys: u128,
    pedal_down: bool,
    ringing: u128,
}

impl Receiver {
    fn receive(&mut self, bytes: &MidiBytes) {
        match Touch::from_midi(bytes) {
            Some(Touch::Strike { key, .. }) => self.keys |= 1 << key.as_int(),
            Some(Touch::Release { key }) => {
                let bit = 1 << key.as_int();
                if self.pedal_down && self.keys & bit != 0 {
                    self.ringing |= bit;
                }
                self.keys &= !bit;
            }
            Some(Touch::Pedal { down }) => {
                self.pedal_down = down;
                if !down {
                    self.ringing = 0;
                }
            }
            None if bytes[0] & 0xF0 == 0xB0 && bytes[1] == ALL_NOTES_OFF_CONTROLLER => {
                // Like a key-up for every key: the pedal still holds what sounded.
                if self.pedal_down {
                    self.ringing |= self.keys;
                }
                self.keys = 0;
            }
            None => {}
        }
    }

    fn sounding(&self) -> bool {
        self.keys != 0 || self.ringing != 0
    }
}

fn any_touches() -> impl Strategy<Value = Vec<Touch>> {
    let touch = prop_oneof![
        (0u8..128, 1u8..128).prop_map(|(k, v)| Touch::strike(u7::new(k), u7::new(v))),
        (0u8..128).prop_map(|k| Touch::Release { key: u7::new(k) }),
        any::<bool>().prop_map(|down| Touch::Pedal { down }),
    ];
    proptest::collection::vec(touch, 0..200)
}

proptest! {
    #[test]
    fn after_any_touches_silence_leaves_no_note_sounding(touches in any_touches()) {
        let mut tracker = SoundingNotes::default();
        let mut receiver = Receiver::default();
        for touch in touches {
            tracker.observe(touch);
            receiver.receive(&touch.to_midi());
        }
        for message in tracker.silence() {
            receiver.receive(&message);
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
        receiver.receive(&touch.to_midi());
    }
    receiver.receive(&controller_bytes(ALL_NOTES_OFF_CONTROLLER, 0));
    assert!(
        receiver.sounding(),
        "the receiver model must keep pedalled notes"
    );
}

struct Recorder(Arc<Mutex<Receiver>>);

impl MidiSink for Recorder {
    fn send_bytes(&mut self, bytes: &MidiBytes) -> Result<(), MidiPortError> {
        self.0.lock().expect("not poisoned").receive(bytes);
        Ok(())
    }
}

fn piece() -> Piece {
    let notes = (0..12)
        .map(|i| Note {
            pitch: 48 + (i * 5 % 24) as u8,
            start_s: 0.15 * f64::from(i),
            end_s: 0.15 * f64::from(i) + 0.6,
            velocity: 80,
        })
        .collect();
    Piece {
        pedal: vec![PedalInterval {
            start_s: 0.3,
            end_s: 1.2,
        }],
        ..Piece::from_notes(notes)
    }
}

#[derive(Debug, Clone)]
enum Action {
    Play,
    Pause,
    Stop,
    Seek(f64),
    Range(f64, f64),
    Reload,
    Strike(u8),
    Release(u8),
    Pedal(bool),
    Blocks(usize),
}

fn actions() -> impl Strategy<Value = Vec<Action>> {
    let action = prop_oneof![
        Just(Action::Play),
        Just(Action::Pause),
        Just(Action::Stop),
        (0.0..2.5f64).prop_map(Action::Seek),
        (0.0..2.0f64, 0.0..2.5f64).prop_map(|(a, b)| Action::Range(a, b)),
        Just(Action::Reload),
        (48u8..72).prop_map(Action::Strike),
        (48u8..72).prop_map(Action::Release),
        any::<bool>().prop_map(Action::Pedal),
        (1usize..40).prop_map(Action::Blocks),
    ];
    proptest::collection::vec(action, 1..30)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn after_any_transport_actions_and_a_stop_neither_the_synth_nor_midi_out_sounds(
        actions in actions()
    ) {
        let Some(synth) = synth("transport property") else {
            return Ok(());
        };
        let (transport, mut source) = audio::playback(synth);
        let (tap, tapped) = crossbeam_channel::unbounded();
        transport.send(TransportCommand::Tap(Some(tap)));
        let receiver = Arc::new(Mutex::new(Receiver::default()));
        let mut out = MidiOut::to_sink(Box::new(Recorder(Arc::clone(&receiver))), "test".into());
        let follow = |out: &mut MidiOut| {
            for tapped in tapped.try_iter() {
                if let Tapped::Fired(fired) = tapped {
                    match fired.kind {
                        FiredKind::Touch { touch, .. } => out.send(touch).expect("sent"),
                        FiredKind::Silence => out.silence().expect("sent"),
                    }
                }
            }
        };
        transport.load(&piece(), false);
        for action in actions.into_iter().chain([Action::Stop, Action::Blocks(4)]) {
            let command = match action {
                Action::Play => TransportCommand::Play,
                Action::Pause => TransportCommand::Pause,
                Action::Stop => TransportCommand::Stop,
                Action::Seek(at_s) => TransportCommand::Seek(at_s),
                Action::Range(from_s, until_s) => TransportCommand::PlayRange { from_s, until_s },
                Action::Reload => TransportCommand::Load { score: audio::Score::new(&piece()), keep_position: true },
                Action::Strike(key) => TransportCommand::Touch(Touch::strike(u7::new(key), u7::new(90))),
                Action::Release(key) => TransportCommand::Touch(Touch::Release { key: u7::new(key) }),
                Action::Pedal(down) => TransportCommand::Touch(Touch::Pedal { down }),
                Action::Blocks(blocks) => {
                    pull(&mut source, blocks * 256);
                    follow(&mut out);
                    continue;
                }
            };
            transport.send(command);
        }
        let after_stop = pull(&mut source, 4096);
        follow(&mut out);
        prop_assert_eq!(audio::peak(&after_stop), 0.0, "the synth still sounds");
        let receiver = receiver.lock().expect("not poisoned");
        prop_assert!(!receiver.sounding() && !receiver.pedal_down,
            "MIDI out left keys {:x} ringing {:x} pedal {}", receiver.keys, receiver.ringing, receiver.pedal_down);
    }
}

#[test]
fn with_the_soundfont_off_playback_is_silent_and_still_reaches_the_tap() {
    let Some(synth) = synth("SoundFont off") else {
        return;
    };
    let (transport, mut source) = audio::playback(synth);
    let (tap, tapped) = crossbeam_channel::unbounded();
    transport.send(TransportCommand::Tap(Some(tap)));
    transport.send(TransportCommand::Audible(false));
    transport.load(&piece(), false);
    transport.send(TransportCommand::Play);
    assert_eq!(audio::peak(&pull(&mut source, 44_100)), 0.0);
    let strikes = tapped
        .try_iter()
        .filter(|t| {
            matches!(
                t,
                Tapped::Fired(fired) if matches!(fired.kind, FiredKind::Touch { touch: Touch::Strike { .. }, .. })
            )
        })
        .count();
    assert!(strikes >= 6, "{strikes} strikes reached the tap");
    transport.send(TransportCommand::Audible(true));
    assert!(
        audio::peak(&pull(&mut source, 22_050)) > 0.01,
        "heard again"
    );
}
