//! Writing a [`Piece`] as a Standard MIDI File: format 1, a tempo track and one piano track. A
//! piece with a bar grid is written against it (its tempo at every beat, its time signatures at
//! their bars), so its bars line up in a DAW or a notation program; one without is written at
//! 120 bpm in 4/4.

use std::path::Path;

use midly::num::{u4, u7, u15, u28};
use midly::{Format, Header, MetaMessage, MidiMessage, Smf, Timing, TrackEvent, TrackEventKind};

use crate::music::meter::Grid;
use crate::music::midi::{MidiError, Note, Piece, SUSTAIN_CONTROLLER, sort_notes};
use crate::music::time_signature::TimeSignature;

/// Ticks per quarter note in files Cadenza writes.
pub const WRITE_TICKS_PER_QUARTER: u16 = 480;
/// Tempo of files Cadenza writes, in microseconds per quarter note (120 bpm).
const WRITE_TEMPO_US: u32 = 500_000;

/// Encodes a piece as a format-1 Standard MIDI File: a tempo track (the piece's grid, else 120
/// bpm in 4/4; optional text such as generation settings) and one piano track at 480 ticks per
/// quarter note. Notes keep their timing to within a millisecond; the pedal is written as CC64.
pub fn write_bytes(piece: &Piece, text: Option<&str>) -> Vec<u8> {
    let header = Header::new(
        Format::Parallel,
        Timing::Metrical(u15::new(WRITE_TICKS_PER_QUARTER)),
    );
    let mut smf = Smf::new(header);
    let clock = TickMap::new(piece.grid.as_ref());
    smf.tracks.push(tempo_track(text, &clock));
    smf.tracks.push(piano_track(piece, &clock));
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

/// Seconds to ticks: along the beats of a grid (each beat its length in quarters), or at
/// 120 bpm without one; past the last beat the last tempo goes on.
struct TickMap {
    /// (seconds, ticks, time signature) at each beat; a single point at 120 bpm without a grid.
    points: Vec<(f64, f64, TimeSignature)>,
    /// Ticks per second after the last point.
    last_rate: f64,
}

impl TickMap {
    fn new(grid: Option<&Grid>) -> Self {
        let ticks_per_quarter = f64::from(WRITE_TICKS_PER_QUARTER);
        let Some(grid) = grid else {
            let rate = ticks_per_quarter * 1e6 / f64::from(WRITE_TEMPO_US);
            return Self {
                points: vec![(0.0, 0.0, TimeSignature::FOUR_FOUR)],
                last_rate: rate,
            };
        };
        let mut ticks = 0.0;
        let points: Vec<(f64, f64, TimeSignature)> = grid
            .beats()
            .iter()
            .map(|beat| {
                let point = (beat.at_s, ticks, beat.signature);
                ticks += ticks_per_quarter * beat.signature.quarters_per_beat();
                point
            })
            .collect();
        let [.., (before_s, before_ticks, _), (last_s, last_ticks, _)] = points[..] else {
            unreachable!("a grid has two beats or more")
        };
        Self {
            points,
            last_rate: (last_ticks - before_ticks) / (last_s - before_s),
        }
    }

    fn ticks(&self, seconds: f64) -> u64 {
        let seconds = seconds.max(0.0);
        let next = self.points.partition_point(|p| p.0 <= seconds);
        let ticks = match (self.points.get(next.wrapping_sub(1)), self.points.get(next)) {
            (Some(&(from_s, from_ticks, _)), Some(&(to_s, to_ticks, _))) => {
                from_ticks + (seconds - from_s) / (to_s - from_s) * (to_ticks - from_ticks)
            }
            (Some(&(from_s, from_ticks, _)), None) => {
                from_ticks + (seconds - from_s) * self.last_rate
            }
            _ => 0.0,
        };
        ticks.round() as u64
    }

    /// (tick, microseconds per quarter) at each beat where the tempo changes.
    fn tempos(&self) -> Vec<(u64, u32)> {
        let mut tempos: Vec<(u64, u32)> = Vec::new();
        let rates = self
            .points
            .windows(2)
            .map(|pair| (pair[0].1, (pair[1].1 - pair[0].1) / (pair[1].0 - pair[0].0)))
            .chain(self.points.last().map(|p| (p.1, self.last_rate)));
        for (ticks, ticks_per_s) in rates {
            let us = (f64::from(WRITE_TICKS_PER_QUARTER) * 1e6 / ticks_per_s).round();
            let us = us.clamp(1.0, f64::from(0xFF_FFFF)) as u32;
            if tempos.last().is_none_or(|&(_, last)| last != us) {
                tempos.push((ticks.round() as u64, us));
            }
        }
        tempos
    }

    /// (tick, time signature) where the signature changes.
    fn signatures(&self) -> Vec<(u64, TimeSignature)> {
        let mut changes: Vec<(u64, TimeSignature)> = Vec::new();
        for &(_, ticks, signature) in &self.points {
            if changes.last().is_none_or(|&(_, last)| last != signature) {
                changes.push((ticks.round() as u64, signature));
            }
        }
        changes
    }
}

fn tempo_track<'a>(text: Option<&'a str>, clock: &TickMap) -> Vec<TrackEvent<'a>> {
    let mut timed: Vec<(u64, MetaMessage<'a>)> = vec![(0, MetaMessage::TrackName(b"Cadenza"))];
    for (tick, signature) in clock.signatures() {
        let power = signature.denominator().trailing_zeros() as u8;
        timed.push((
            tick,
            MetaMessage::TimeSignature(signature.numerator(), power, 24, 8),
        ));
    }
    for (tick, us) in clock.tempos() {
        timed.push((tick, MetaMessage::Tempo(midly::num::u24::new(us))));
    }
    if let Some(text) = text {
        timed.push((0, MetaMessage::Text(text.as_bytes())));
    }
    timed.sort_by_key(|&(tick, _)| tick);
    let mut track = Vec::with_capacity(timed.len() + 1);
    let mut previous = 0;
    for (tick, message) in timed {
        track.push(TrackEvent {
            delta: delta(tick - previous),
            kind: TrackEventKind::Meta(message),
        });
        previous = tick;
    }
    track.push(meta_at_start(MetaMessage::EndOfTrack));
    track
}

fn delta(ticks: u64) -> u28 {
    u28::new(ticks.min(u64::from(u28::max_value().as_int())) as u32)
}

fn meta_at_start(message: MetaMessage<'_>) -> TrackEvent<'_> {
    TrackEvent {
        delta: u28::new(0),
        kind: TrackEventKind::Meta(message),
    }
}

fn piano_track(piece: &Piece, clock: &TickMap) -> Vec<TrackEvent<'static>> {
    // (tick, order within the tick, message): releases before pedal changes before strikes, so a
    // key released and struck again on one tick reads back as two notes.
    let mut timed: Vec<(u64, u8, MidiMessage)> = Vec::with_capacity(piece.notes.len() * 2);
    for (start, end, note) in note_ticks(&piece.notes, clock) {
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
                clock.ticks(time),
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
            delta: delta(tick - previous),
            kind: TrackEventKind::Midi { channel, message },
        });
        previous = tick;
    }
    track.push(meta_at_start(MetaMessage::EndOfTrack));
    track
}

/// Note onsets and releases in ticks, adjusted so every note reads back: at least one tick long, and
/// released no later than the next strike of its key (a note-off closes every open note of a key).
fn note_ticks(notes: &[Note], clock: &TickMap) -> Vec<(u64, u64, Note)> {
    let mut sorted = notes.to_vec();
    sort_notes(&mut sorted);
    let mut ticks: Vec<(u64, u64, Note)> = sorted
        .iter()
        .map(|n| (clock.ticks(n.start_s), clock.ticks(n.end_s), *n))
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
