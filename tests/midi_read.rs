//! Reading and writing MIDI files: timing, pairing rules, pedal, and refusing corrupt input.

use cadenza_core::midi::{self, MidiError, Note, PedalInterval, Piece};
use proptest::prelude::*;

use crate::support::*;

fn read(bytes: &[u8]) -> Piece {
    midi::read_bytes(bytes).expect("fixture parses")
}

fn assert_close(actual: f64, expected: f64) {
    assert!((actual - expected).abs() < 1e-9, "{actual} != {expected}");
}

#[test]
fn notes_come_out_in_seconds_sorted_by_onset() {
    let piece = read(&arpeggio());
    let pitches: Vec<u8> = piece.notes.iter().map(|n| n.pitch).collect();
    assert_eq!(pitches, [60, 64, 67, 72]);
    assert_close(piece.notes[1].start_s, 0.5);
    assert_close(piece.notes[1].end_s, 1.0);
    assert_eq!(piece.notes[0].velocity, 90);
}

#[test]
fn tempo_changes_in_the_first_track_apply_from_their_tick() {
    // One quarter at 120 bpm (0.5 s), then 60 bpm: the second quarter lasts a second.
    let conductor = vec![(0, tempo(500_000)), (480, tempo(1_000_000))];
    let notes = vec![(0, note_on(0, 60, 80)), (960, note_off(0, 60))];
    let piece = read(&smf(480, &[conductor, notes]));
    assert_close(piece.notes[0].end_s, 1.5);
}

#[test]
fn format_zero_and_two_files_are_read() {
    let events = vec![(0, note_on(0, 60, 80)), (480, note_off(0, 60))];
    for format in [0u16, 2] {
        let mut bytes = header(format, 1, 480);
        bytes.extend(track(&events));
        let piece = read(&bytes);
        assert_eq!(piece.notes.len(), 1, "format {format}");
        assert_close(piece.notes[0].end_s, 0.5);
    }
}

#[test]
fn smpte_division_counts_frames_and_ticks() {
    // 25 fps, 40 ticks per frame: 1000 ticks per second.
    let division = ((-25i8 as u8 as u16) << 8) | 40;
    let mut bytes = header(0, 1, division);
    bytes.extend(track(&[(500, note_on(0, 60, 80)), (1500, note_off(0, 60))]));
    let piece = read(&bytes);
    assert_close(piece.notes[0].start_s, 0.5);
    assert_close(piece.notes[0].end_s, 2.0);
}

#[test]
fn note_off_closes_every_open_note_of_the_key() {
    let events = vec![
        (0, note_on(0, 60, 80)),
        (100, note_on(0, 60, 90)),
        (100, vec![0x90, 60, 0]), // velocity-0 note-on is a note-off
    ];
    let piece = read(&smf(480, &[events]));
    assert_eq!(piece.notes.len(), 2);
    assert!(
        piece
            .notes
            .iter()
            .all(|n| (n.end_s - 200.0 / 960.0).abs() < 1e-9)
    );
}

#[test]
fn note_off_on_the_onset_tick_drops_a_lone_note_but_keeps_a_restrike() {
    // A lone note released on its own tick disappears (pretty_midi's rule).
    let lone = vec![(0, note_on(0, 60, 80)), (0, note_off(0, 60))];
    assert!(read(&smf(480, &[lone])).notes.is_empty());
    // Re-struck on the tick the old note is released: the old one closes, the new one stays open.
    let restrike = vec![
        (0, note_on(0, 62, 80)),
        (480, note_on(0, 62, 70)),
        (0, note_off(0, 62)),
        (480, note_off(0, 62)),
    ];
    let piece = read(&smf(480, &[restrike]));
    let spans: Vec<(f64, f64, u8)> = piece
        .notes
        .iter()
        .map(|n| (n.start_s, n.end_s, n.velocity))
        .collect();
    assert_eq!(spans, [(0.0, 0.5, 80), (0.5, 1.0, 70)]);
}

#[test]
fn unclosed_notes_and_drums_are_dropped() {
    let events = vec![
        (0, note_on(9, 36, 100)),
        (0, note_on(0, 60, 80)),
        (10, note_off(9, 36)),
        (0, note_on(0, 64, 80)),
        (470, note_off(0, 60)),
    ];
    let piece = read(&smf(480, &[events]));
    assert_eq!(
        piece.notes.iter().map(|n| n.pitch).collect::<Vec<_>>(),
        [60]
    );
}

#[test]
fn sustain_pedal_becomes_intervals_and_extends_releases_when_applied() {
    let events = vec![
        (0, note_on(0, 60, 80)),
        (0, pedal(0, true)),
        (240, note_off(0, 60)),
        (720, pedal(0, false)),
    ];
    let piece = read(&smf(480, &[events]));
    assert_eq!(piece.pedal.len(), 1);
    assert_close(piece.pedal[0].end_s, 1.0);
    assert_close(piece.notes[0].end_s, 0.25);
    assert_close(midi::apply_sustain(&piece)[0].end_s, 1.0);
}

#[test]
fn running_status_continues_across_meta_events() {
    // note-on, a text meta event, then note-on data bytes relying on running status: mido accepts.
    let mut body = vec![0x00, 0x90, 60, 80];
    body.extend([0x00, 0xff, 0x01, 0x01, b'x']);
    body.extend([0x60, 60, 0]); // running status note-on velocity 0 = note-off
    body.extend([0x00, 0xff, 0x2f, 0x00]);
    let mut bytes = header(0, 1, 480);
    bytes.extend(chunk(b"MTrk", &body));
    assert_eq!(read(&bytes).notes.len(), 1);
}

fn written_and_read_back(notes: Vec<Note>, pedal: Vec<PedalInterval>) -> Piece {
    let piece = Piece {
        notes,
        pedal,
        grid: None,
    };
    let bytes = midi::write_bytes(&piece, Some("settings"));
    midi::read_bytes(&bytes).expect("written file parses")
}

#[test]
fn written_file_keeps_pitch_onset_release_velocity_and_pedal() {
    let notes = vec![
        Note {
            pitch: 60,
            start_s: 0.0,
            end_s: 0.5,
            velocity: 64,
        },
        Note {
            pitch: 72,
            start_s: 0.123,
            end_s: 2.75,
            velocity: 1,
        },
        Note {
            pitch: 60,
            start_s: 0.5,
            end_s: 0.9,
            velocity: 100,
        },
    ];
    let pedal = vec![PedalInterval {
        start_s: 0.25,
        end_s: 1.75,
    }];
    let back = written_and_read_back(notes.clone(), pedal.clone());
    assert_eq!(back.notes.len(), 3);
    for (a, b) in notes.iter().zip(&back.notes) {
        assert_eq!((a.pitch, a.velocity), (b.pitch, b.velocity));
        assert!((a.start_s - b.start_s).abs() < 1e-3 && (a.end_s - b.end_s).abs() < 1e-3);
    }
    assert!(
        (back.pedal[0].start_s - 0.25).abs() < 1e-3 && (back.pedal[0].end_s - 1.75).abs() < 1e-3
    );
}

#[test]
fn write_file_reports_an_unwritable_path() {
    let piece = Piece::from_notes(vec![Note {
        pitch: 60,
        start_s: 0.0,
        end_s: 1.0,
        velocity: 80,
    }]);
    let err = midi::write_file(
        &piece,
        std::path::Path::new("/nonexistent-dir/out.mid"),
        None,
    );
    assert!(matches!(err, Err(MidiError::Io(_))));
}

// ---- malformed input: each gives a clear error, never a panic ----

fn error_of(bytes: &[u8]) -> String {
    match midi::read_bytes(bytes) {
        Ok(piece) => panic!("expected an error, parsed {} notes", piece.notes.len()),
        Err(err) => err.to_string(),
    }
}

#[test]
fn truncated_header_is_refused() {
    assert!(error_of(&arpeggio()[..10]).contains("truncated"));
    assert!(error_of(&arpeggio()[..5]).contains("truncated"));
}

#[test]
fn truncated_track_is_refused() {
    let bytes = arpeggio();
    assert!(error_of(&bytes[..bytes.len() - 3]).contains("declares"));
}

#[test]
fn chunk_length_past_the_end_is_refused() {
    let mut bytes = arpeggio();
    bytes[14 + 7] = bytes[14 + 7].wrapping_add(40); // MTrk length byte
    assert!(error_of(&bytes).contains("declares"));
}

#[test]
fn chunk_length_too_short_cuts_an_event_and_is_refused() {
    let mut bytes = arpeggio();
    bytes[14 + 7] -= 2;
    let message = error_of(&bytes);
    assert!(
        message.contains("corrupt event") || message.contains("truncated"),
        "{message}"
    );
}

#[test]
fn missing_tracks_are_refused() {
    let mut bytes = header(1, 3, 480);
    bytes.extend(track(&[(0, note_on(0, 60, 80)), (10, note_off(0, 60))]));
    assert!(error_of(&bytes).contains("announces 3 tracks"));
}

#[test]
fn running_status_without_a_status_byte_is_refused() {
    let mut bytes = header(0, 1, 480);
    bytes.extend(chunk(b"MTrk", &[0x00, 60, 80, 0x00, 0xff, 0x2f, 0x00]));
    assert!(error_of(&bytes).contains("running status"));
}

#[test]
fn huge_delta_times_are_refused() {
    let events = vec![(0, note_on(0, 60, 80)), (0x0fff_ffff, note_off(0, 60))];
    assert!(error_of(&smf(480, &[events])).contains("likely corrupt"));
}

#[test]
fn zero_tempo_and_zero_division_are_refused() {
    let events = vec![
        (0, tempo(0)),
        (0, note_on(0, 60, 80)),
        (10, note_off(0, 60)),
    ];
    assert!(error_of(&smf(480, &[events])).contains("tempo of 0"));
    let events = vec![(0, note_on(0, 60, 80)), (10, note_off(0, 60))];
    assert!(error_of(&smf(0, &[events])).contains("division"));
}

#[test]
fn zero_length_notes_parse_and_are_dropped() {
    let events = vec![
        (0, note_on(0, 60, 80)),
        (0, note_off(0, 60)),
        (0, note_on(0, 62, 80)),
        (10, note_off(0, 62)),
    ];
    let piece = read(&smf(480, &[events]));
    assert_eq!(
        piece.notes.iter().map(|n| n.pitch).collect::<Vec<_>>(),
        [62]
    );
}

#[test]
fn non_midi_data_is_refused() {
    assert!(error_of(b"RIFF....WAVEfmt ").contains("not a MIDI file"));
    assert!(error_of(b"").contains("not a MIDI file"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = midi::read_bytes(&bytes);
    }

    #[test]
    fn damaged_valid_files_never_panic(
        cut in 0usize..200,
        flips in proptest::collection::vec((0usize..200, any::<u8>()), 0..6),
    ) {
        let mut bytes = arpeggio();
        for (at, value) in flips {
            let index = at % bytes.len();
            bytes[index] = value;
        }
        bytes.truncate(cut.min(bytes.len()));
        let _ = midi::read_bytes(&bytes);
    }
}

#[test]
fn midi_bombs_that_declare_days_of_music_are_refused_at_once() {
    // 44 bytes: the slowest tempo, one tick per quarter, a note-off at tick 9 999 990 (46 603
    // hours); and a 24-hour note at 96 ticks per quarter.
    let slowest = 0x00ff_ffff;
    let days = smf(
        1,
        &[vec![
            (0, tempo(slowest)),
            (0, note_on(0, 60, 90)),
            (9_999_990, note_off(0, 60)),
        ]],
    );
    let one_note = smf(
        96,
        &[vec![
            (0, tempo(slowest)),
            (0, note_on(0, 60, 90)),
            (494_400, note_off(0, 60)),
        ]],
    );
    for bomb in [days, one_note] {
        let started = std::time::Instant::now();
        let err = midi::read_bytes(&bomb).expect_err("refused");
        assert!(matches!(err, MidiError::TooLongInTime { .. }), "{err}");
        assert!(
            err.to_string().contains("over the 2h a piece may last"),
            "{err}"
        );
        assert!(started.elapsed().as_secs_f64() < 1.0);
    }
    // Two hours exactly still read.
    let two_hours = smf(
        1,
        &[vec![
            (0, tempo(1_000_000)),
            (0, note_on(0, 60, 90)),
            (7200, note_off(0, 60)),
        ]],
    );
    assert_eq!(midi::read_bytes(&two_hours).expect("reads").notes.len(), 1);
}

#[test]
fn a_file_with_more_notes_than_a_piece_may_hold_is_refused() {
    let notes = cadenza_core::midi::MAX_NOTES + 1;
    let mut events = vec![(0, tempo(500_000))];
    for _ in 0..notes {
        events.push((0, note_on(0, 60, 90)));
        events.push((1, note_off(0, 60)));
    }
    let err = midi::read_bytes(&smf(960, &[events])).expect_err("refused");
    assert!(
        err.to_string().contains("over the 432000 a piece may hold"),
        "{err}"
    );
}
