//! Writing a [`Piece`] as a Standard MIDI File: format 1, a tempo track and one piano track.

use std::path::Path;

use midly::num::{u4, u7, u15, u28};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};

use super::midi::{MidiError, Note, Piece, SUSTAIN_CONTROLLER, sort_notes};

/// Ticks per quarter note in files Cadenza writes.
pub const WRITE_TICKS_PER_QUARTER: u16 = 480;
/// Tempo of files Cadenza writes, in microseconds per quarter note (120 bpm).
const WRITE_TEMPO_US: u32 = 500_000;

/// Encodes a piece as a format-1 Standard MIDI File: a tempo track (120 bpm, 4/4, optional text
/// such as generation settings) and one piano track at 480 ticks per quarter note. Notes keep their
/// timing to within a millisecond; the pedal is written as CC64.
pub fn write_bytes(piece: &Piece, text: Option<&str>) -> Vec<u8> {
    let header = Header::new(
        Format::Parallel,
        Timing::Metrical(u15::new(WRITE_TICKS_PER_QUARTER)),
    );
    let mut smf = Smf::new(header);
    smf.tracks.push(tempo_track(text));
    smf.tracks.push(piano_track(piece));
    let mut out = Vec::new();
    // Writing to a Vec cannot fail; midly only reports errors of the underlying writer.
    smf.write_std(&mut out)
        .expect("writing MIDI to memory cannot fail");
    out
}

/// Writes a piece to `path` as a MIDI file (see [`write_bytes`]), through a temporary file so a
/// failed write never leaves a half-written file behind.
pub fn write_file(piece: &Piece, path: &Path, text: Option<&str>) -> Result<(), MidiError> {
    crate::base::files::write_atomic(path, &write_bytes(piece, text))
        .map_err(|err| MidiError::Io(std::io::Error::new(err.source.kind(), err.to_string())))
}

fn tempo_track(text: Option<&str>) -> Vec<TrackEvent<'_>> {
    let mut track = vec![
        meta_at_start(MetaMessage::TrackName(b"Cadenza")),
        meta_at_start(MetaMessage::Tempo(midly::num::u24::new(WRITE_TEMPO_US))),
        meta_at_start(MetaMessage::TimeSignature(4, 2, 24, 8)),
    ];
    if let Some(text) = text {
        track.push(meta_at_start(MetaMessage::Text(text.as_bytes())));
    }
    track.push(meta_at_start(MetaMessage::EndOfTrack));
    track
}

fn meta_at_start(message: MetaMessage<'_>) -> TrackEvent<'_> {
    TrackEvent {
        delta: u28::new(0),
        kind: TrackEventKind::Meta(message),
    }
}

fn seconds_to_ticks(seconds: f64) -> u64 {
    let ticks_per_second =
        f64::from(WRITE_TICKS_PER_QUARTER) * 1_000_000.0 / f64::from(WRITE_TEMPO_US);
    (seconds.max(0.0) * ticks_per_second).round() as u64
}

fn piano_track(piece: &Piece) -> Vec<TrackEvent<'static>> {
    // (tick, order within the tick, message): releases before pedal changes before strikes, so a
    // key released and struck again on one tick reads back as two notes.
    let mut timed: Vec<(u64, u8, MidiMessage)> = Vec::with_capacity(piece.notes.len() * 2);
    for (start, end, note) in note_ticks(&piece.notes) {
        let key = u7::new(note.pitch.min(127));
        let vel = u7::new(note.velocity.clamp(1, 127));
        timed.push((start, 2, MidiMessage::NoteOn { key, vel }));
        timed.push((
            end,
            0,
            MidiMessage::NoteOff {
                key,
                vel: u7::new(0),
            },
        ));
    }
    for interval in &piece.pedal {
        for (time, value) in [(interval.start_s, 127), (interval.end_s, 0)] {
            let controller = u7::new(SUSTAIN_CONTROLLER);
            let value = u7::new(value);
            timed.push((
                seconds_to_ticks(time),
                1,
                MidiMessage::Controller { controller, value },
            ));
        }
    }
    timed.sort_by_key(|&(tick, order, _)| (tick, order));

    let channel = u4::new(0);
    let mut track = vec![
        meta_at_start(MetaMessage::TrackName(b"Piano")),
        TrackEvent {
            delta: u28::new(0),
            kind: TrackEventKind::Midi {
                channel,
                message: MidiMessage::ProgramChange {
                    program: u7::new(0),
                },
            },
        },
    ];
    let mut previous = 0;
    for (tick, _, message) in timed {
        track.push(TrackEvent {
            delta: u28::new((tick - previous).min(u64::from(u28::max_value().as_int())) as u32),
            kind: TrackEventKind::Midi { channel, message },
        });
        previous = tick;
    }
    track.push(meta_at_start(MetaMessage::EndOfTrack));
    track
}

/// Note onsets and releases in ticks, adjusted so every note reads back: at least one tick long, and
/// released no later than the next strike of its key (a note-off closes every open note of a key).
fn note_ticks(notes: &[Note]) -> Vec<(u64, u64, Note)> {
    let mut sorted = notes.to_vec();
    sort_notes(&mut sorted);
    let mut ticks: Vec<(u64, u64, Note)> = sorted
        .iter()
        .map(|n| (seconds_to_ticks(n.start_s), seconds_to_ticks(n.end_s), *n))
        .collect();
    let mut next_strike: [Option<u64>; 128] = [None; 128];
    for (start, end, note) in ticks.iter_mut().rev() {
        let pitch = usize::from(note.pitch.min(127));
        if let Some(next) = next_strike[pitch] {
            *end = (*end).min(next);
        }
        *end = (*end).max(*start + 1);
        next_strike[pitch] = Some(*start);
    }
    ticks
}
