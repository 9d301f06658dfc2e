//! Notes ↔ events: Magenta Performance RNN's 388-event vocabulary.
//!
//! | ids     | event                                                   |
//! |---------|---------------------------------------------------------|
//! | 0–127   | `NoteOn(pitch)`                                         |
//! | 128–255 | `NoteOff(pitch)`                                        |
//! | 256–355 | `TimeShift(steps)`: 1–100 steps of 10 ms (10 ms … 1 s)  |
//! | 356–387 | `Velocity(bin)`: bin = velocity / 4, sent when it changes |
//!
//! | 388     | `START`: the beginning of a piece (an input only, never predicted; since v2) |
//!
//! Times are quantised to 10 ms. The encoder applies the sustain pedal first
//! ([`crate::music::midi::apply_sustain`]), so events describe the notes as they sound.
//! Checkpoints record the [`Encoding`] they were trained with.

use crate::music::midi::{self, Note, Piece};

/// Identifies the current vocabulary and its quantisation; stored in checkpoints.
pub const ENCODING_ID: &str = Encoding::CURRENT.id();
/// Number of events a model predicts (every id but [`START`]).
pub const VOCAB_SIZE: usize = 388;
/// The input that begins a piece: sequences that start at a piece's start begin with it, so a
/// model reading it alone begins the way the corpus's pieces begin.
pub const START: EventId = 388;

/// The versions of the encoding a checkpoint may have been trained with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// The 388 events, no start event (checkpoint format 1).
    V1,
    /// The 388 events plus [`START`] as an input.
    V2,
}

impl Encoding {
    /// The encoding new models are trained with.
    pub const CURRENT: Self = Self::V2;

    /// The id stored in checkpoints.
    pub const fn id(self) -> &'static str {
        match self {
            Self::V1 => "performance-rnn-388/v1",
            Self::V2 => "performance-rnn-388+start/v2",
        }
    }

    /// The encoding an id names, if this Cadenza knows it.
    pub fn from_id(id: &str) -> Option<Self> {
        [Self::V1, Self::V2].into_iter().find(|e| e.id() == id)
    }

    /// Distinct inputs the model reads: the events, plus [`START`] from v2 on.
    pub fn input_vocab(self) -> usize {
        match self {
            Self::V1 => VOCAB_SIZE,
            Self::V2 => VOCAB_SIZE + 1,
        }
    }

    /// What the model reads before a piece's first event: [`START`], or nothing for v1 (whose
    /// models begin from a velocity event instead).
    pub fn piece_start(self) -> Option<EventId> {
        match self {
            Self::V1 => None,
            Self::V2 => Some(START),
        }
    }
}
/// Length of one time step in seconds.
pub const STEP_S: f64 = 0.01;
/// Longest single time shift, in steps (1 s).
pub const MAX_SHIFT_STEPS: u8 = 100;
/// Number of velocity bins.
pub const VELOCITY_BINS: u8 = 32;
/// Lowest and highest key of an 88-key piano: transposition keeps notes inside.
pub const PIANO_RANGE: std::ops::RangeInclusive<u8> = 21..=108;
/// Velocity given to notes decoded before any velocity event.
const DEFAULT_VELOCITY: u8 = 64;

const NOTE_ON_BASE: u16 = 0;
const NOTE_OFF_BASE: u16 = 128;
const TIME_SHIFT_BASE: u16 = 256;
const VELOCITY_BASE: u16 = 356;

/// Index into the vocabulary; what the model reads and predicts.
pub type EventId = u16;

/// One performance event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// A key goes down (pitch 0–127).
    NoteOn(u8),
    /// A key comes up (pitch 0–127).
    NoteOff(u8),
    /// Time moves on by 1–100 steps of 10 ms.
    TimeShift(u8),
    /// Following notes are struck with velocities in bin 0–31 (velocity / 4).
    Velocity(u8),
}

impl Event {
    /// The event's id in the vocabulary.
    pub fn id(self) -> EventId {
        match self {
            Event::NoteOn(pitch) => NOTE_ON_BASE + u16::from(pitch.min(127)),
            Event::NoteOff(pitch) => NOTE_OFF_BASE + u16::from(pitch.min(127)),
            Event::TimeShift(steps) => {
                TIME_SHIFT_BASE + u16::from(steps.clamp(1, MAX_SHIFT_STEPS)) - 1
            }
            Event::Velocity(bin) => VELOCITY_BASE + u16::from(bin.min(VELOCITY_BINS - 1)),
        }
    }

    /// The event an id stands for; `None` for ids outside the vocabulary.
    pub fn from_id(id: EventId) -> Option<Self> {
        let low = |base: u16| (id - base) as u8;
        Some(match id {
            0..NOTE_OFF_BASE => Event::NoteOn(low(NOTE_ON_BASE)),
            NOTE_OFF_BASE..TIME_SHIFT_BASE => Event::NoteOff(low(NOTE_OFF_BASE)),
            TIME_SHIFT_BASE..VELOCITY_BASE => Event::TimeShift(low(TIME_SHIFT_BASE) + 1),
            VELOCITY_BASE..388 => Event::Velocity(low(VELOCITY_BASE)),
            _ => return None,
        })
    }
}

/// The velocity bin a MIDI velocity falls into.
pub fn velocity_bin(velocity: u8) -> u8 {
    (velocity.min(127)) / 4
}

/// The velocity a decoded note gets for a bin: the middle of the bin.
pub fn bin_velocity(bin: u8) -> u8 {
    (bin.min(VELOCITY_BINS - 1) * 4 + 2).max(1)
}

/// The number of whole time steps nearest to `seconds` (negative times count as 0).
pub fn to_step(seconds: f64) -> u64 {
    (seconds.max(0.0) / STEP_S).round() as u64
}

/// Encodes a piece as the model sees it: sustain pedal applied, then [`encode_notes`].
pub fn encode_piece(piece: &Piece) -> Vec<EventId> {
    encode_notes(&midi::apply_sustain(piece))
}

/// Encodes sounding notes (pedal already applied) as event ids.
///
/// Each note is at least one step long, and a key struck again ends its previous instance, since one
/// pitch cannot sound twice in this vocabulary.
pub fn encode_notes(notes: &[Note]) -> Vec<EventId> {
    events_from(&timed_events(notes, &[]), 0, None).events
}

/// Encodes the music from `from_s` on: `notes` (struck at `from_s` or later) and the releases of
/// `sounding` (struck earlier, still held), with velocity bin `velocity` already in force. What
/// follows a regenerated passage, as the model reads it after the passage.
pub fn encode_from(
    notes: &[Note],
    sounding: &[Note],
    from_s: f64,
    velocity: Option<u8>,
) -> Vec<EventId> {
    events_from(&timed_events(notes, sounding), to_step(from_s), velocity).events
}

/// The music before `until_s`, as the model reads it up to that moment: the events (with time
/// shifts up to `until_s`), the velocity bin in force there, and the releases still to come of
/// notes held across it, as `(pitch, step)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Prefix {
    /// Events up to `until_s`.
    pub events: Vec<EventId>,
    /// The velocity bin in force at the end.
    pub velocity: Option<u8>,
    /// Notes held across `until_s`: pitch and release step.
    pub held: Vec<(u8, u64)>,
}

/// Encodes `notes` (all struck before `until_s`) up to `until_s`; see [`Prefix`].
pub fn encode_prefix(notes: &[Note], until_s: f64) -> Prefix {
    let until = to_step(until_s);
    let timed = timed_events(notes, &[]);
    let (before, after): (Vec<Timed>, Vec<Timed>) =
        timed.into_iter().partition(|event| event.0 < until);
    let mut encoded = events_from(&before, 0, None);
    push_time_shifts(&mut encoded.events, until.saturating_sub(encoded.now));
    let held = after
        .iter()
        .filter_map(|&(step, _, event, _)| match event {
            Event::NoteOff(pitch) => Some((pitch, step)),
            _ => None,
        })
        .collect();
    Prefix {
        events: encoded.events,
        velocity: encoded.velocity,
        held,
    }
}

/// (step, order within the step, event, velocity of a strike).
type Timed = (u64, u8, Event, u8);

/// Strikes of `notes` and releases of `notes` and `sounding`, in the order they are encoded:
/// releases before strikes within a step, so that a key released and struck again in one step
/// decodes as two notes.
fn timed_events(notes: &[Note], sounding: &[Note]) -> Vec<Timed> {
    let mut all: Vec<(Note, bool)> = notes
        .iter()
        .map(|n| (*n, true))
        .chain(sounding.iter().map(|n| (*n, false)))
        .collect();
    // The order of `midi::sort_notes`, which decides which of two strikes at one instant stays.
    all.sort_by(|a, b| {
        a.0.start_s
            .total_cmp(&b.0.start_s)
            .then(a.0.pitch.cmp(&b.0.pitch))
            .then(a.0.end_s.total_cmp(&b.0.end_s))
            .then(a.0.velocity.cmp(&b.0.velocity))
    });
    let mut timed: Vec<Timed> = Vec::with_capacity(all.len() * 2);
    let mut next_strike: [Option<u64>; 128] = [None; 128];
    for (note, strike) in all.iter().rev() {
        let pitch = note.pitch.min(127);
        let start = to_step(note.start_s);
        let mut end = to_step(note.end_s).max(start + 1);
        if let Some(next) = next_strike[usize::from(pitch)] {
            if *strike && next == start {
                continue; // A second strike of a key at the same instant cannot be expressed.
            }
            end = end.min(next);
        }
        if *strike {
            next_strike[usize::from(pitch)] = Some(start);
            timed.push((start, 1, Event::NoteOn(pitch), note.velocity));
        }
        timed.push((end, 0, Event::NoteOff(pitch), 0));
    }
    timed.sort_by_key(|&(step, order, event, _)| (step, order, event.id()));
    timed
}

/// Encoded events and where they leave time and velocity.
struct Encoded {
    events: Vec<EventId>,
    now: u64,
    velocity: Option<u8>,
}

/// Turns timed events into ids from step `now` on, with velocity bin `velocity` in force.
fn events_from(timed: &[Timed], mut now: u64, mut velocity: Option<u8>) -> Encoded {
    let mut events = Vec::with_capacity(timed.len() * 2);
    for &(step, _, event, note_velocity) in timed {
        push_time_shifts(&mut events, step.saturating_sub(now));
        now = now.max(step);
        if let Event::NoteOn(_) = event {
            let bin = velocity_bin(note_velocity);
            if velocity != Some(bin) {
                events.push(Event::Velocity(bin).id());
                velocity = Some(bin);
            }
        }
        events.push(event.id());
    }
    Encoded {
        events,
        now,
        velocity,
    }
}

/// Encodes notes like [`encode_notes`], then adds time shifts up to `end_s`, so that a primer cut
/// at `end_s` hands over to the model at the cut even when its last note ends earlier.
pub fn encode_notes_until(notes: &[Note], end_s: f64) -> Vec<EventId> {
    let mut events = encode_notes(notes);
    let encoded_steps: u64 = events
        .iter()
        .filter_map(|&id| match Event::from_id(id) {
            Some(Event::TimeShift(steps)) => Some(u64::from(steps)),
            _ => None,
        })
        .sum();
    push_time_shifts(&mut events, to_step(end_s).saturating_sub(encoded_steps));
    events
}

fn push_time_shifts(events: &mut Vec<EventId>, mut steps: u64) {
    while steps > 0 {
        let shift = steps.min(u64::from(MAX_SHIFT_STEPS));
        events.push(Event::TimeShift(shift as u8).id());
        steps -= shift;
    }
}

/// Decodes event ids into notes sorted by onset. Ids outside the vocabulary are ignored, a note-off
/// without a sounding note is ignored, a key struck while sounding ends its previous instance, and
/// notes still sounding at the end are released after the last event (at least one step later).
pub fn decode(events: &[EventId]) -> Vec<Note> {
    let mut decoder = Decoder::default();
    for &id in events {
        decoder.push(id);
    }
    decoder.finish()
}

/// Incremental decoder: feed event ids one at a time (as a sampler produces them) and collect notes.
#[derive(Debug, Clone)]
pub struct Decoder {
    step: u64,
    velocity: u8,
    /// Per pitch: (onset step, velocity) of the instance sounding now.
    sounding: [Option<(u64, u8)>; 128],
    finished: Vec<Note>,
}

impl Default for Decoder {
    fn default() -> Self {
        Self {
            step: 0,
            velocity: DEFAULT_VELOCITY,
            sounding: [None; 128],
            finished: Vec::new(),
        }
    }
}

impl Decoder {
    /// Applies one event.
    pub fn push(&mut self, id: EventId) {
        match Event::from_id(id) {
            Some(Event::NoteOn(pitch)) => {
                self.release(pitch, self.step);
                self.sounding[usize::from(pitch)] = Some((self.step, self.velocity));
            }
            Some(Event::NoteOff(pitch)) => self.release(pitch, self.step),
            Some(Event::TimeShift(steps)) => self.step += u64::from(steps),
            Some(Event::Velocity(bin)) => self.velocity = bin_velocity(bin),
            None => {}
        }
    }

    /// Current time in steps of [`STEP_S`].
    pub fn step(&self) -> u64 {
        self.step
    }

    /// Current time in seconds.
    pub fn now_s(&self) -> f64 {
        self.step as f64 * STEP_S
    }

    /// Notes completed so far, in the order they were released; drains them.
    pub fn take_finished(&mut self) -> Vec<Note> {
        std::mem::take(&mut self.finished)
    }

    /// Releases every sounding note and returns all notes not yet taken, sorted by onset.
    pub fn finish(mut self) -> Vec<Note> {
        let end = self.step;
        for pitch in 0..128u8 {
            if let Some((start, _)) = self.sounding[usize::from(pitch)] {
                self.release(pitch, end.max(start + 1));
            }
        }
        let mut notes = self.finished;
        midi::sort_notes(&mut notes);
        notes
    }

    /// Releases notes that have sounded for `max_s` or longer (a model may never release a key).
    pub fn release_held_longer_than(&mut self, max_s: f64) {
        let max_steps = to_step(max_s).max(1);
        for pitch in 0..128u8 {
            if let Some((start, _)) = self.sounding[usize::from(pitch)]
                && self.step >= start + max_steps
            {
                self.release(pitch, start + max_steps);
            }
        }
    }

    /// Notes sounding now, as (pitch, onset in seconds, velocity), for drawing unfinished notes.
    pub fn sounding(&self) -> impl Iterator<Item = (u8, f64, u8)> + '_ {
        (0..128u8).filter_map(|pitch| {
            self.sounding[usize::from(pitch)]
                .map(|(start, velocity)| (pitch, start as f64 * STEP_S, velocity))
        })
    }

    fn release(&mut self, pitch: u8, step: u64) {
        let Some((start, velocity)) = self.sounding[usize::from(pitch)].take() else {
            return;
        };
        if step > start {
            self.finished.push(Note {
                pitch,
                start_s: start as f64 * STEP_S,
                end_s: step as f64 * STEP_S,
                velocity,
            });
        }
    }
}

/// Transposes events by `semitones`; `None` if a note would leave the piano's range (21–108).
pub fn transpose(events: &[EventId], semitones: i8) -> Option<Vec<EventId>> {
    events
        .iter()
        .map(|&id| match Event::from_id(id) {
            Some(Event::NoteOn(pitch)) => {
                shift_pitch(pitch, semitones).map(|p| Event::NoteOn(p).id())
            }
            Some(Event::NoteOff(pitch)) => {
                shift_pitch(pitch, semitones).map(|p| Event::NoteOff(p).id())
            }
            _ => Some(id),
        })
        .collect()
}

fn shift_pitch(pitch: u8, semitones: i8) -> Option<u8> {
    let shifted = i16::from(pitch) + i16::from(semitones);
    u8::try_from(shifted)
        .ok()
        .filter(|p| PIANO_RANGE.contains(p))
}

/// Stretches a piece in time by `factor` (> 1 slows it down). Applied to notes before encoding,
/// because it changes the number of time-shift events.
pub fn stretch(piece: &Piece, factor: f64) -> Piece {
    let notes = piece
        .notes
        .iter()
        .map(|n| Note {
            start_s: n.start_s * factor,
            end_s: n.end_s * factor,
            ..*n
        })
        .collect();
    let pedal = piece
        .pedal
        .iter()
        .map(|p| midi::PedalInterval {
            start_s: p.start_s * factor,
            end_s: p.end_s * factor,
        })
        .collect();
    Piece {
        notes,
        pedal,
        grid: piece.grid.as_ref().map(|grid| grid.stretched(factor)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_round_trips_through_event() {
        for id in 0..VOCAB_SIZE as EventId {
            let event = Event::from_id(id).expect("id inside the vocabulary");
            assert_eq!(event.id(), id);
        }
        assert_eq!(Event::from_id(VOCAB_SIZE as EventId), None);
    }

    #[test]
    fn a_note_never_released_ends_after_the_maximum_length() {
        let mut decoder = Decoder::default();
        decoder.push(Event::NoteOn(60).id());
        for _ in 0..8 {
            decoder.push(Event::TimeShift(100).id());
            decoder.release_held_longer_than(5.0);
        }
        let notes = decoder.take_finished();
        assert_eq!(notes.len(), 1);
        assert!((notes[0].end_s - 5.0).abs() < 1e-9, "{notes:?}");
        decoder.push(Event::NoteOff(60).id()); // a late release is ignored
        assert!(decoder.finish().is_empty());
    }

    #[test]
    fn long_gaps_become_several_shifts() {
        let notes = [Note {
            pitch: 60,
            start_s: 2.5,
            end_s: 2.6,
            velocity: 100,
        }];
        let events: Vec<Event> = encode_notes(&notes)
            .into_iter()
            .filter_map(Event::from_id)
            .collect();
        assert_eq!(
            events,
            vec![
                Event::TimeShift(100),
                Event::TimeShift(100),
                Event::TimeShift(50),
                Event::Velocity(25),
                Event::NoteOn(60),
                Event::TimeShift(10),
                Event::NoteOff(60),
            ]
        );
    }

    #[test]
    fn transpose_refuses_to_leave_the_keyboard() {
        let events = [Event::NoteOn(107).id(), Event::NoteOff(107).id()];
        assert_eq!(
            transpose(&events, 1),
            Some(vec![Event::NoteOn(108).id(), Event::NoteOff(108).id()])
        );
        assert_eq!(transpose(&events, 2), None);
    }
}
