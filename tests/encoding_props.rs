//! Notes → events → notes keeps what a listener hears: pitch, onset and release within 10 ms,
//! velocity within its bin.

use cadenza_core::encoding::{self, Event, velocity_bin};
use cadenza_core::midi::{self, Note};
use proptest::prelude::*;

use crate::support::shared_corpus;

/// Random notes that the vocabulary can express: each at least 20 ms long and at least 20 ms after
/// the previous note of the same key (one pitch cannot sound twice at once).
fn playable_notes() -> impl Strategy<Value = Vec<Note>> {
    let key_line = (
        21u8..=108,
        proptest::collection::vec((0.02f64..3.0, 0.02f64..4.0, 1u8..=127), 1..12),
    );
    proptest::collection::vec(key_line, 1..10).prop_map(|lines| {
        let mut notes = Vec::new();
        let mut used = [false; 128];
        for (pitch, spans) in lines {
            if std::mem::replace(&mut used[usize::from(pitch)], true) {
                continue;
            }
            let mut time = 0.0;
            for (gap, length, velocity) in spans {
                let start_s = time + gap;
                notes.push(Note {
                    pitch,
                    start_s,
                    end_s: start_s + length,
                    velocity,
                });
                time = start_s + length;
            }
        }
        midi::sort_notes(&mut notes);
        notes
    })
}

fn by_pitch_then_onset(mut notes: Vec<Note>) -> Vec<Note> {
    notes.sort_by(|a, b| a.pitch.cmp(&b.pitch).then(a.start_s.total_cmp(&b.start_s)));
    notes
}

fn same_to_the_step(a: &Note, b: &Note) -> bool {
    a.pitch == b.pitch
        && (a.start_s - b.start_s).abs() <= 0.01
        && (a.end_s - b.end_s).abs() <= 0.01
        && velocity_bin(a.velocity) == velocity_bin(b.velocity)
}

proptest! {
    #[test]
    fn round_trip_keeps_every_note(notes in playable_notes()) {
        let decoded = encoding::decode(&encoding::encode_notes(&notes));
        prop_assert_eq!(decoded.len(), notes.len());
        for (a, b) in by_pitch_then_onset(notes).iter().zip(&by_pitch_then_onset(decoded)) {
            prop_assert!(same_to_the_step(a, b), "{:?} became {:?}", a, b);
        }
    }

    #[test]
    fn transposition_moves_every_note(notes in playable_notes(), semitones in -3i8..=3) {
        let events = encoding::encode_notes(&notes);
        if let Some(shifted) = encoding::transpose(&events, semitones) {
            let original = encoding::decode(&events);
            let moved = encoding::decode(&shifted);
            prop_assert_eq!(original.len(), moved.len());
            for (a, b) in original.iter().zip(&moved) {
                prop_assert_eq!(i16::from(a.pitch) + i16::from(semitones), i16::from(b.pitch));
                prop_assert_eq!(a.start_s, b.start_s);
            }
        } else {
            prop_assert!(notes.iter().any(|n| !encoding::PIANO_RANGE.contains(&((i16::from(n.pitch) + i16::from(semitones)) as u8))));
        }
    }

    #[test]
    fn every_event_id_is_in_the_vocabulary(notes in playable_notes()) {
        let events = encoding::encode_notes(&notes);
        prop_assert!(events.iter().all(|&id| Event::from_id(id).is_some()));
    }
}

#[test]
fn stretching_changes_the_number_of_time_shifts() {
    let notes = vec![Note {
        pitch: 60,
        start_s: 1.0,
        end_s: 1.5,
        velocity: 80,
    }];
    let piece = midi::Piece::from_notes(notes);
    let encode = |factor| encoding::encode_piece(&encoding::stretch(&piece, factor));
    let (plain, slower) = (encode(1.0), encode(1.05));
    let onset = |events: &[encoding::EventId]| encoding::decode(events)[0].start_s;
    assert!((onset(&plain) - 1.0).abs() < 1e-9 && (onset(&slower) - 1.05).abs() < 1e-9);
    // 1 s is one shift; 1.05 s needs a second one.
    assert!(plain.len() < slower.len(), "{plain:?} vs {slower:?}");
}

#[test]
fn corpus_round_trip_keeps_the_sounding_notes() {
    let Some(dir) = shared_corpus("corpus_round_trip_keeps_the_sounding_notes") else {
        return;
    };
    let corpus = cadenza_core::corpus::load_dir(&dir, &|_| {}).expect("corpus loads");
    let (mut total, mut kept) = (0usize, 0usize);
    for piece in &corpus.pieces {
        let sounding = by_pitch_then_onset(midi::apply_sustain(&piece.piece));
        let decoded = by_pitch_then_onset(encoding::decode(&piece.events));
        total += sounding.len();
        // Walk both lists per pitch; notes of one key closer than a step apart merge when quantised.
        let mut j = 0;
        for note in &sounding {
            while j < decoded.len()
                && (decoded[j].pitch, decoded[j].start_s) < (note.pitch, note.start_s - 0.0101)
            {
                j += 1;
            }
            if decoded.get(j).is_some_and(|d| same_to_the_step(note, d)) {
                kept += 1;
                j += 1;
            }
        }
    }
    let share = kept as f64 / total as f64;
    println!(
        "corpus round trip: {kept} of {total} sounding notes within 10 ms ({:.4}%)",
        share * 100.0
    );
    assert!(share > 0.999, "only {:.4}% of notes survive", share * 100.0);
}
