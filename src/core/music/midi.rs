//! Standard MIDI Files ↔ [`Piece`]: raw notes in seconds plus sustain-pedal intervals.
//!
//! Reading follows pretty_midi's rules exactly, because pretty_midi is the reference the notes are
//! checked against (see `tests/midi_reference.rs`):
//! - tempo changes are read from the first track only, starting from 120 bpm;
//! - a note-off (or velocity-0 note-on) closes every open note of its channel and pitch, except notes
//!   that started on the same tick; those stay open only if some older note was closed alongside them,
//!   otherwise they are dropped;
//! - notes never closed are dropped; channel 10 (drums) is ignored;
//! - a file whose last event lies beyond 10⁷ ticks is refused as corrupt.
//!
//! Unlike midly on its own, the reader refuses truncated files, chunk lengths that overrun the file
//! and malformed events, naming what is wrong.

use std::path::Path;

pub use super::midi_write::{WRITE_TICKS_PER_QUARTER, write_bytes, write_file};

use crate::music::meter::{Beat, Grid, USABLE_FIT};
use crate::music::time_signature::TimeSignature;
use midly::{EventIter, MetaMessage, MidiMessage, TrackEvent, TrackEventKind};

/// pretty_midi refuses files whose largest tick exceeds this: such files are almost always corrupt.
const MAX_TICK: u64 = 10_000_000;
/// MIDI channel 10, counted from zero.
const DRUM_CHANNEL: u8 = 9;
/// CC64 is the sustain (damper) pedal; values of 64 and above mean "down".
pub(super) const SUSTAIN_CONTROLLER: u8 = 64;

/// One sounding note, with times in seconds from the start of the piece.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Note {
    /// MIDI key number, 0–127 (60 = middle C).
    pub pitch: u8,
    /// Onset in seconds.
    pub start_s: f64,
    /// Release in seconds; always after `start_s` in notes Cadenza produces.
    pub end_s: f64,
    /// Key velocity, 1–127.
    pub velocity: u8,
}

impl Note {
    /// Length of the note in seconds.
    pub fn duration_s(&self) -> f64 {
        self.end_s - self.start_s
    }
}

/// A span of time during which the sustain pedal is held down.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PedalInterval {
    /// When the pedal goes down, in seconds.
    pub start_s: f64,
    /// When the pedal comes up, in seconds.
    pub end_s: f64,
}

/// A piece of piano music as Cadenza works with it: notes sorted by onset, and the sustain pedal.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Piece {
    /// Raw notes (keys as pressed and released, pedal not applied), sorted by onset, then pitch.
    pub notes: Vec<Note>,
    /// Sustain-pedal intervals, sorted and non-overlapping.
    pub pedal: Vec<PedalInterval>,
    /// The bar grid the file's tempo map and time signatures lay out (`None` for a file timed
    /// in SMPTE frames, or notes from elsewhere). Whether the music follows it is another
    /// matter: [`super::meter::Grid::onset_fit`].
    pub grid: Option<Grid>,
}

impl Piece {
    /// A piece with the given notes and no pedal; sorts the notes by onset.
    pub fn from_notes(mut notes: Vec<Note>) -> Self {
        sort_notes(&mut notes);
        Self {
            notes,
            pedal: Vec::new(),
            grid: None,
        }
    }

    /// Share of the onsets on the piece's own grid ([`Grid::onset_fit`]); `None` without a grid.
    pub fn grid_fit(&self) -> Option<f64> {
        let onsets: Vec<f64> = self.notes.iter().map(|n| n.start_s).collect();
        self.grid.as_ref().map(|grid| grid.onset_fit(&onsets))
    }

    /// The piece's grid if its music follows it ([`USABLE_FIT`] of the onsets on it): a piece
    /// sequenced against a click, not one recorded freely and saved at a nominal tempo.
    pub fn usable_grid(&self) -> Option<&Grid> {
        match self.grid_fit() {
            Some(fit) if fit >= USABLE_FIT => self.grid.as_ref(),
            _ => None,
        }
    }

    /// Time of the last release (of a key or of the pedal), in seconds.
    pub fn duration_s(&self) -> f64 {
        let notes_end = self.notes.iter().map(|n| n.end_s).fold(0.0, f64::max);
        let pedal_end = self.pedal.iter().map(|p| p.end_s).fold(0.0, f64::max);
        notes_end.max(pedal_end)
    }
}

/// Why a MIDI file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum MidiError {
    /// The file could not be read from or written to disk.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The data does not start with a MIDI header.
    #[error("not a MIDI file (no MThd header)")]
    NotMidi,
    /// The file ends before a chunk it announces.
    #[error("truncated file: {0}")]
    Truncated(String),
    /// A chunk's structure is wrong (length, type, header fields).
    #[error("corrupt chunk: {0}")]
    BadChunk(String),
    /// An event inside a track cannot be decoded.
    #[error("corrupt event in track {track} at byte {offset}: {reason}")]
    BadEvent {
        /// Index of the track, from 0.
        track: usize,
        /// Offset of the event within the track's data.
        offset: usize,
        /// What the event parser reported.
        reason: String,
    },
    /// The header's time division is zero ticks.
    #[error("time division is 0 ticks per quarter note")]
    ZeroDivision,
    /// A tempo event sets 0 microseconds per quarter note.
    #[error("tempo of 0 µs per quarter note at tick {tick}")]
    ZeroTempo {
        /// Where the tempo event is.
        tick: u64,
    },
    /// The file declares more music than a piece may hold (a "MIDI bomb": a few bytes can
    /// declare days through a slow tempo and a coarse division).
    #[error("it lasts {}, over the {} a piece may last", format_duration(*seconds), format_duration(MAX_PIECE_S))]
    TooLongInTime {
        /// The time of its last event.
        seconds: f64,
    },
    /// The file holds more notes than a piece may.
    #[error("it holds {notes} notes, over the {MAX_NOTES} a piece may hold")]
    TooManyNotes {
        /// Note-ons found.
        notes: usize,
    },
    /// Events lie implausibly far in time: the file is almost certainly corrupt.
    #[error("last event at tick {tick} (over {MAX_TICK}): the file is likely corrupt")]
    TooLong {
        /// The largest tick found.
        tick: u64,
    },
}

/// Reads a MIDI file from disk into a [`Piece`]. Only regular files of at most
/// [`MAX_FILE_BYTES`] are read (a device such as `/dev/zero`, a FIFO or a huge file is refused
/// before reading).
pub fn read_file(path: &Path) -> Result<Piece, MidiError> {
    read_bytes(&crate::base::files::read_bounded(path, MAX_FILE_BYTES)?)
}

/// The longest piece read, in seconds: 2 hours. The corpus's longest piece lasts under 20
/// minutes; every later stage (encoding, rendering 44 100 stereo frames a second) grows with it.
pub const MAX_PIECE_S: f64 = 2.0 * 3600.0;
/// The most notes a piece may hold: 2 hours at 60 notes a second (the densest corpus passages
/// reach about 30).
pub const MAX_NOTES: usize = 432_000;

fn format_duration(seconds: f64) -> String {
    let rounded = std::time::Duration::from_secs(seconds.clamp(0.0, 1e12) as u64);
    humantime::format_duration(rounded).to_string()
}

/// The largest MIDI file read: the biggest piano pieces are well under 1 MB.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// Parses the bytes of a Standard MIDI File (format 0, 1 or 2) into a [`Piece`].
pub fn read_bytes(data: &[u8]) -> Result<Piece, MidiError> {
    let (header, tracks) = split_chunks(data)?;
    let tracks = tracks
        .iter()
        .enumerate()
        .map(|(index, body)| parse_track(index, body))
        .collect::<Result<Vec<_>, _>>()?;
    let max_tick = tracks.iter().map(|t| t.end_tick).max().unwrap_or(0);
    if max_tick + 1 > MAX_TICK {
        return Err(MidiError::TooLong { tick: max_tick });
    }
    let clock = Clock::new(header.division, tracks.first())?;
    check_size(&tracks, &clock, max_tick)?;
    let mut piece = assemble_piece(&tracks, &clock);
    if let Division::Metrical(ticks_per_quarter) = header.division {
        piece.grid = file_grid(&tracks, &clock, f64::from(ticks_per_quarter), max_tick);
    }
    Ok(piece)
}

/// Refuses a file that declares more time or notes than a piece may hold, before its notes are
/// paired and anything downstream sizes itself by them.
fn check_size(tracks: &[TrackEvents], clock: &Clock, max_tick: u64) -> Result<(), MidiError> {
    let seconds = clock.seconds(max_tick);
    if seconds > MAX_PIECE_S {
        return Err(MidiError::TooLongInTime { seconds });
    }
    let notes = tracks
        .iter()
        .flat_map(|t| &t.events)
        .filter(|(_, event)| matches!(event, RawEvent::NoteOn { .. }))
        .count();
    if notes > MAX_NOTES {
        return Err(MidiError::TooManyNotes { notes });
    }
    Ok(())
}

/// The header fields that matter for reading.
struct FileHeader {
    division: Division,
}

/// Walks the chunk structure: the header, then exactly as many `MTrk` chunks as the header declares
/// (other chunk types are skipped, trailing data after the last track is ignored, as mido does).
fn split_chunks(data: &[u8]) -> Result<(FileHeader, Vec<&[u8]>), MidiError> {
    if !data.starts_with(b"MThd") {
        return Err(MidiError::NotMidi);
    }
    let mut rest = data;
    let header = next_chunk(&mut rest)?.ok_or(MidiError::NotMidi)?.body;
    if header.len() < 6 {
        return Err(MidiError::BadChunk(format!(
            "header is {} bytes long, needs 6",
            header.len()
        )));
    }
    let track_count = u16::from_be_bytes([header[2], header[3]]) as usize;
    let division = Division::from_header_field(u16::from_be_bytes([header[4], header[5]]));
    let mut tracks = Vec::with_capacity(track_count);
    while tracks.len() < track_count {
        match next_chunk(&mut rest)? {
            Some(Chunk { kind, body }) if kind == *b"MTrk" => tracks.push(body),
            Some(_) => {} // Unknown chunk types are allowed by the standard and carry nothing we use.
            None => {
                return Err(MidiError::Truncated(format!(
                    "the header announces {track_count} tracks but the file holds {}",
                    tracks.len()
                )));
            }
        }
    }
    Ok((FileHeader { division }, tracks))
}

/// A chunk of a MIDI file: its four-letter type and its body.
struct Chunk<'a> {
    kind: [u8; 4],
    body: &'a [u8],
}

/// Takes the next chunk off `rest`; `None` at the end of the data.
fn next_chunk<'a>(rest: &mut &'a [u8]) -> Result<Option<Chunk<'a>>, MidiError> {
    if rest.is_empty() {
        return Ok(None);
    }
    if rest.len() < 8 {
        return Err(MidiError::Truncated(format!(
            "a chunk header is cut off after {} of 8 bytes",
            rest.len()
        )));
    }
    let kind = [rest[0], rest[1], rest[2], rest[3]];
    let declared = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
    let available = rest.len() - 8;
    if declared > available {
        let name = String::from_utf8_lossy(&kind).into_owned();
        return Err(MidiError::Truncated(format!(
            "chunk {name:?} declares {declared} bytes but only {available} remain"
        )));
    }
    let body = &rest[8..8 + declared];
    *rest = &rest[8 + declared..];
    Ok(Some(Chunk { kind, body }))
}

/// The header's time division.
#[derive(Clone, Copy)]
enum Division {
    /// Ticks per quarter note; seconds depend on the tempo map.
    Metrical(u16),
    /// SMPTE time: frames per second and ticks per frame; tempo events do not apply.
    Timecode {
        frames_per_second: f64,
        ticks_per_frame: u8,
    },
}

impl Division {
    fn from_header_field(raw: u16) -> Self {
        if raw & 0x8000 == 0 {
            return Division::Metrical(raw);
        }
        // The high byte is the negated frame rate; -29 means 29.97 drop-frame.
        let frames_per_second = match (raw >> 8) as u8 as i8 {
            -29 => 30_000.0 / 1001.0,
            negated => -f64::from(negated),
        };
        Division::Timecode {
            frames_per_second,
            ticks_per_frame: raw as u8,
        }
    }
}

/// The events of one track that matter for notes, with absolute ticks.
struct TrackEvents {
    events: Vec<(u64, RawEvent)>,
    /// Tick of the track's last event.
    end_tick: u64,
}

#[derive(Clone, Copy)]
enum RawEvent {
    NoteOn { channel: u8, key: u8, velocity: u8 },
    NoteOff { channel: u8, key: u8 },
    Pedal { channel: u8, down: bool },
    Tempo { us_per_quarter: u32 },
    TimeSignature(TimeSignature),
}

/// Decodes one track, refusing it at the first event midly cannot read.
fn parse_track(index: usize, body: &[u8]) -> Result<TrackEvents, MidiError> {
    let mut iter = EventIter::new(body);
    let mut tick = 0u64;
    let mut events = Vec::with_capacity(body.len() / 3);
    loop {
        let offset = body.len() - iter.unread().len();
        let running_status = iter.running_status();
        let event = match iter.next() {
            Some(Ok(event)) => event,
            Some(Err(err)) => return Err(bad_event(index, offset, &err)),
            // Without midly's `strict` feature, a bad event ends the iteration silently: bytes left
            // unread at that point mean the track is corrupt.
            None if offset < body.len() => {
                return Err(bad_event_at(index, offset, body, running_status));
            }
            None => break,
        };
        tick += u64::from(event.delta.as_int());
        if matches!(event.kind, TrackEventKind::Meta(_)) {
            // mido (and so pretty_midi) keeps running status across meta events; midly resets it.
            *iter.running_status_mut() = running_status;
        }
        if let Some(raw) = relevant_event(&event) {
            events.push((tick, raw));
        }
    }
    Ok(TrackEvents {
        events,
        end_tick: tick,
    })
}

fn bad_event(track: usize, offset: usize, err: &midly::Error) -> MidiError {
    MidiError::BadEvent {
        track,
        offset,
        reason: err.to_string(),
    }
}

/// Re-reads the event that ended a track early, to say why midly stopped there (without its
/// `strict` feature, midly does not report it).
fn bad_event_at(track: usize, offset: usize, body: &[u8], running_status: Option<u8>) -> MidiError {
    MidiError::BadEvent {
        track,
        offset,
        reason: diagnose_event(&body[offset..], running_status).to_string(),
    }
}

fn diagnose_event(bytes: &[u8], running_status: Option<u8>) -> &'static str {
    let delta_len = bytes.iter().take(4).position(|b| b & 0x80 == 0);
    let Some(delta_len) = delta_len else {
        return if bytes.len() < 4 {
            "the track ends inside a delta time"
        } else {
            "delta time longer than 4 bytes"
        };
    };
    match bytes.get(delta_len + 1) {
        None => "the track ends before the event's status byte",
        Some(&status) if status < 0x80 && running_status.is_none() => {
            "data byte without a status byte (running status with no previous status)"
        }
        Some(0xF1..=0xF6 | 0xF8..=0xFE) => "system common or real-time message inside a file",
        Some(_) => "event cut off by the end of the track, or a data byte above 127",
    }
}

fn relevant_event(event: &TrackEvent) -> Option<RawEvent> {
    match event.kind {
        TrackEventKind::Midi { channel, message } => {
            let channel = channel.as_int();
            match message {
                MidiMessage::NoteOn { key, vel } if vel.as_int() > 0 => Some(RawEvent::NoteOn {
                    channel,
                    key: key.as_int(),
                    velocity: vel.as_int(),
                }),
                MidiMessage::NoteOn { key, .. } | MidiMessage::NoteOff { key, .. } => {
                    Some(RawEvent::NoteOff {
                        channel,
                        key: key.as_int(),
                    })
                }
                MidiMessage::Controller { controller, value }
                    if controller.as_int() == SUSTAIN_CONTROLLER =>
                {
                    Some(RawEvent::Pedal {
                        channel,
                        down: value.as_int() >= 64,
                    })
                }
                _ => None,
            }
        }
        TrackEventKind::Meta(MetaMessage::Tempo(us)) => Some(RawEvent::Tempo {
            us_per_quarter: us.as_int(),
        }),
        // A signature Cadenza cannot lay out (a bottom number past 1/64) is passed over, as if
        // the file had not changed meter there.
        TrackEventKind::Meta(MetaMessage::TimeSignature(numerator, power, _, _)) => {
            let denominator = 1u32.checked_shl(u32::from(power))?;
            TimeSignature::new(u32::from(numerator), denominator)
                .ok()
                .map(RawEvent::TimeSignature)
        }
        _ => None,
    }
}

/// Converts ticks to seconds: a piecewise-linear map built from the tempo changes.
struct Clock {
    /// (first tick, seconds at that tick, seconds per tick), sorted by tick; never empty.
    segments: Vec<(u64, f64, f64)>,
}

impl Clock {
    fn new(division: Division, first_track: Option<&TrackEvents>) -> Result<Self, MidiError> {
        match division {
            Division::Timecode {
                frames_per_second,
                ticks_per_frame,
            } => {
                if ticks_per_frame == 0 || frames_per_second <= 0.0 {
                    return Err(MidiError::ZeroDivision);
                }
                let seconds_per_tick = 1.0 / (frames_per_second * f64::from(ticks_per_frame));
                Ok(Self {
                    segments: vec![(0, 0.0, seconds_per_tick)],
                })
            }
            Division::Metrical(ticks_per_quarter) => {
                let resolution = f64::from(ticks_per_quarter);
                if resolution == 0.0 {
                    return Err(MidiError::ZeroDivision);
                }
                let tempo_events = first_track.map_or(&[][..], |t| &t.events[..]);
                Self::metrical(resolution, tempo_events)
            }
        }
    }

    /// Builds the tempo map exactly as pretty_midi's `_load_tempo_changes` does, so that times agree
    /// to the last bit wherever possible.
    fn metrical(resolution: f64, events: &[(u64, RawEvent)]) -> Result<Self, MidiError> {
        let mut scales: Vec<(u64, f64)> = vec![(0, 60.0 / (120.0 * resolution))];
        for &(tick, event) in events {
            let RawEvent::Tempo { us_per_quarter } = event else {
                continue;
            };
            if us_per_quarter == 0 {
                return Err(MidiError::ZeroTempo { tick });
            }
            let scale = 60.0 / ((6e7 / f64::from(us_per_quarter)) * resolution);
            if tick == 0 {
                scales = vec![(0, scale)];
            } else if scales.last().is_some_and(|&(_, last)| last != scale) {
                scales.push((tick, scale));
            }
        }
        let mut segments = Vec::with_capacity(scales.len());
        let mut seconds = 0.0;
        let mut previous: Option<(u64, f64)> = None;
        for (tick, scale) in scales {
            if let Some((previous_tick, previous_scale)) = previous {
                seconds += (tick - previous_tick) as f64 * previous_scale;
            }
            segments.push((tick, seconds, scale));
            previous = Some((tick, scale));
        }
        Ok(Self { segments })
    }

    /// Seconds at a fractional tick (a beat of a meter whose unit is not a whole tick).
    fn seconds_at(&self, tick: f64) -> f64 {
        let whole = tick.floor();
        let index = self
            .segments
            .partition_point(|&(start, _, _)| start as f64 <= whole)
            - 1;
        let (start, seconds, scale) = self.segments[index];
        seconds + (tick - start as f64) * scale
    }

    fn seconds(&self, tick: u64) -> f64 {
        let index = self
            .segments
            .partition_point(|&(start, _, _)| start <= tick)
            - 1;
        let (start, seconds, scale) = self.segments[index];
        seconds + (tick - start) as f64 * scale
    }
}

/// The beats of a metrical file, to one bar past its last tick: each time signature (from any
/// track, as pretty_midi reads them) begins a bar, and beats follow at its beat length (a dotted
/// note in compound meters), timed through the tempo map. `None` where the grid would hold more
/// than [`MAX_GRID_BEATS`] or has impossible tempos.
fn file_grid(
    tracks: &[TrackEvents],
    clock: &Clock,
    ticks_per_quarter: f64,
    max_tick: u64,
) -> Option<Grid> {
    let mut changes: Vec<(u64, TimeSignature)> = tracks
        .iter()
        .flat_map(|t| &t.events)
        .filter_map(|&(tick, event)| match event {
            RawEvent::TimeSignature(signature) => Some((tick, signature)),
            _ => None,
        })
        .collect();
    changes.sort_by_key(|&(tick, _)| tick);
    // Of several changes on one tick (one per track, say), the last holds.
    changes.reverse();
    changes.dedup_by_key(|&mut (tick, _)| tick);
    changes.reverse();
    if changes.first().is_none_or(|&(tick, _)| tick > 0) {
        changes.insert(0, (0, TimeSignature::FOUR_FOUR));
    }
    let mut beats = Vec::new();
    let mut bar = 0u32;
    for (i, &(from_tick, signature)) in changes.iter().enumerate() {
        let until_tick = changes
            .get(i + 1)
            .map_or(max_tick as f64 + 1.0, |c| c.0 as f64);
        let beat_ticks = ticks_per_quarter * signature.quarters_per_beat();
        let mut tick = from_tick as f64;
        let mut in_bar = 0;
        let last = i + 1 == changes.len();
        while tick < until_tick || (last && (in_bar != 0 || beats.len() < 2)) {
            if beats.len() >= MAX_GRID_BEATS {
                return None;
            }
            beats.push(Beat {
                at_s: clock.seconds_at(tick),
                bar,
                in_bar,
                signature,
            });
            tick += beat_ticks;
            in_bar += 1;
            if in_bar == signature.beats_per_bar() {
                in_bar = 0;
                bar += 1;
            }
        }
        if in_bar != 0 {
            bar += 1;
        }
    }
    Grid::new(beats).ok()
}

/// Most beats a file's grid may hold: two hours at 1 000 beats per minute.
const MAX_GRID_BEATS: usize = 120_000;

/// Pairs note-ons with note-offs track by track (pretty_midi's rules) and collects the pedal.
fn assemble_piece(tracks: &[TrackEvents], clock: &Clock) -> Piece {
    let mut notes = Vec::new();
    let mut pedal_changes = Vec::new();
    let mut open: Vec<Vec<(u64, u8)>> = vec![Vec::new(); 16 * 128];
    for track in tracks {
        open.iter_mut().for_each(Vec::clear);
        for &(tick, event) in &track.events {
            match event {
                RawEvent::NoteOn {
                    channel,
                    key,
                    velocity,
                } if channel != DRUM_CHANNEL => {
                    open[usize::from(channel) * 128 + usize::from(key)].push((tick, velocity));
                }
                RawEvent::NoteOff { channel, key } if channel != DRUM_CHANNEL => {
                    let slot = &mut open[usize::from(channel) * 128 + usize::from(key)];
                    close_notes(slot, key, tick, clock, &mut notes);
                }
                RawEvent::Pedal { channel, down } if channel != DRUM_CHANNEL => {
                    pedal_changes.push((clock.seconds(tick), down));
                }
                _ => {}
            }
        }
    }
    sort_notes(&mut notes);
    let last_release = notes.iter().map(|n| n.end_s).fold(0.0, f64::max);
    let pedal = pedal_intervals(pedal_changes, last_release);
    Piece {
        notes,
        pedal,
        grid: None,
    }
}

/// A note-off at `tick` closes every open note of its key that began on an earlier tick. Notes that
/// began on this very tick survive only when older notes were closed alongside them.
fn close_notes(
    slot: &mut Vec<(u64, u8)>,
    key: u8,
    tick: u64,
    clock: &Clock,
    notes: &mut Vec<Note>,
) {
    if slot.is_empty() {
        return;
    }
    let end_s = clock.seconds(tick);
    let before = slot.len();
    slot.retain(|&(start_tick, velocity)| {
        if start_tick == tick {
            return true;
        }
        notes.push(Note {
            pitch: key,
            start_s: clock.seconds(start_tick),
            end_s,
            velocity,
        });
        false
    });
    let closed_any = slot.len() < before;
    if !closed_any {
        slot.clear();
    }
}

/// Turns pedal down/up changes (from all channels, merged) into intervals; a pedal still down at the
/// end is lifted at `piece_end_s`.
fn pedal_intervals(mut changes: Vec<(f64, bool)>, piece_end_s: f64) -> Vec<PedalInterval> {
    changes.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut intervals = Vec::new();
    let mut down_since: Option<f64> = None;
    for (time, down) in changes {
        match (down, down_since) {
            (true, None) => down_since = Some(time),
            (false, Some(start_s)) => {
                push_interval(&mut intervals, start_s, time);
                down_since = None;
            }
            _ => {}
        }
    }
    if let Some(start_s) = down_since {
        push_interval(&mut intervals, start_s, piece_end_s.max(start_s));
    }
    intervals
}

fn push_interval(intervals: &mut Vec<PedalInterval>, start_s: f64, end_s: f64) {
    if end_s > start_s {
        intervals.push(PedalInterval { start_s, end_s });
    }
}

/// Sorts notes by onset, then pitch, then release (a total order, so results are reproducible).
pub fn sort_notes(notes: &mut [Note]) {
    notes.sort_by(|a, b| {
        a.start_s
            .total_cmp(&b.start_s)
            .then(a.pitch.cmp(&b.pitch))
            .then(a.end_s.total_cmp(&b.end_s))
            .then(a.velocity.cmp(&b.velocity))
    });
}

/// Applies the sustain pedal to the notes, as a listener hears them: a note released while the pedal
/// is down sounds until the pedal lifts, and a key struck again ends its previous sounding instance.
/// Notes left with no length (two strikes of one key at the same instant) are dropped.
pub fn apply_sustain(piece: &Piece) -> Vec<Note> {
    let mut notes: Vec<Note> = piece
        .notes
        .iter()
        .map(|note| Note {
            end_s: sustained_release(note.end_s, &piece.pedal),
            ..*note
        })
        .collect();
    end_overlapping_strikes(&mut notes);
    notes.retain(|n| n.end_s > n.start_s);
    sort_notes(&mut notes);
    notes
}

/// The release time of a key released at `end_s`: the pedal lift if the pedal is down then.
fn sustained_release(end_s: f64, pedal: &[PedalInterval]) -> f64 {
    let index = pedal.partition_point(|p| p.start_s <= end_s);
    match index.checked_sub(1).map(|i| pedal[i]) {
        Some(interval) if end_s < interval.end_s => interval.end_s,
        _ => end_s,
    }
}

/// Cuts each note at the next onset of the same pitch. `notes` must be sorted by onset.
pub fn end_overlapping_strikes(notes: &mut [Note]) {
    let mut last_of_pitch: [Option<usize>; 128] = [None; 128];
    for index in 0..notes.len() {
        let pitch = usize::from(notes[index].pitch.min(127));
        if let Some(previous) = last_of_pitch[pitch] {
            let onset = notes[index].start_s;
            if notes[previous].end_s > onset {
                notes[previous].end_s = onset;
            }
        }
        last_of_pitch[pitch] = Some(index);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(pitch: u8, start_s: f64, end_s: f64) -> Note {
        Note {
            pitch,
            start_s,
            end_s,
            velocity: 80,
        }
    }

    /// The notes as heard with the pedal held from `down` to `up`.
    fn sounding_with_pedal(notes: Vec<Note>, down: f64, up: f64) -> Vec<Note> {
        let pedal = vec![PedalInterval {
            start_s: down,
            end_s: up,
        }];
        apply_sustain(&Piece {
            notes,
            pedal,
            grid: None,
        })
    }

    #[test]
    fn sustain_extends_release_to_pedal_lift() {
        let sounding = sounding_with_pedal(vec![note(60, 0.0, 0.5), note(64, 0.0, 2.5)], 0.4, 2.0);
        assert_eq!(sounding[0].end_s, 2.0, "released under the pedal");
        assert_eq!(sounding[1].end_s, 2.5, "released after the lift");
    }

    #[test]
    fn restrike_under_pedal_ends_previous_instance() {
        let sounding = sounding_with_pedal(vec![note(60, 0.0, 0.2), note(60, 1.0, 1.2)], 0.0, 3.0);
        assert_eq!(sounding[0].end_s, 1.0);
        assert_eq!(sounding[1].end_s, 3.0);
    }

    #[test]
    fn pedal_intervals_close_at_piece_end() {
        let intervals = pedal_intervals(
            vec![(1.0, true), (1.5, true), (2.0, false), (3.0, true)],
            4.0,
        );
        assert_eq!(
            intervals,
            vec![
                PedalInterval {
                    start_s: 1.0,
                    end_s: 2.0
                },
                PedalInterval {
                    start_s: 3.0,
                    end_s: 4.0
                }
            ]
        );
    }
}
