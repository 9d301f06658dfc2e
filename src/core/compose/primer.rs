//! A primer: the music a take continues (the opening of a piece, or a take cut at a time).

use std::path::Path;

use crate::music::encoding::{self, Encoding, Event, EventId};
use crate::music::meter::Grid;
use crate::music::midi::{self, Note, Piece};

/// Without a primer, a model of the first encoding (which has no start event) starts from this
/// velocity (mezzo-forte), as corpus pieces start with a velocity event.
const V1_START_VELOCITY: u8 = 64;

use super::settings::{GenerateError, MAX_SECONDS};

/// Music the model continues from: the notes (pedal already applied) up to `end_s`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Primer {
    /// Sounding notes, each ending by `end_s`.
    pub notes: Vec<Note>,
    /// Where the primer ends and the new music begins, in seconds.
    pub end_s: f64,
    /// What it is, for the take's description (e.g. "opening 5 s of chopin/op25-12.mid").
    pub description: String,
    /// Its bar grid, when its music follows one: new music goes on in its tempo and meter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid: Option<Grid>,
}

impl Primer {
    /// No primer: the model starts from silence.
    pub fn none() -> Self {
        Self {
            description: "none".to_string(),
            ..Self::default()
        }
    }

    /// The opening `seconds` of `piece` (pedal applied); notes held across the cut end at it.
    pub fn opening(piece: &Piece, seconds: f64, description: impl Into<String>) -> Self {
        let sounding = midi::apply_sustain(piece);
        let end_s = sounding
            .iter()
            .map(|n| n.end_s)
            .fold(0.0, f64::max)
            .min(seconds.max(0.0));
        let notes = sounding
            .into_iter()
            .filter(|n| n.start_s < end_s)
            .map(|n| Note {
                end_s: n.end_s.min(end_s),
                ..n
            })
            .collect();
        Self {
            notes,
            end_s,
            description: description.into(),
            grid: piece.usable_grid().cloned(),
        }
    }

    /// The opening `seconds` of a MIDI file.
    pub fn from_file(path: &Path, seconds: f64) -> Result<Self, GenerateError> {
        if !(seconds.is_finite() && seconds > 0.0 && seconds <= MAX_SECONDS) {
            return Err(GenerateError::InvalidSettings(format!(
                "the primer length must be above 0 and at most {MAX_SECONDS} seconds, not {seconds}"
            )));
        }
        let piece = midi::read_file(path).map_err(|source| GenerateError::Primer {
            path: path.to_path_buf(),
            source,
        })?;
        let name = path
            .file_name()
            .unwrap_or(path.as_os_str())
            .to_string_lossy();
        Ok(Self::opening(
            &piece,
            seconds,
            format!("opening {seconds} s of {name}"),
        ))
    }

    /// The events a model of `encoding` reads before sampling; never empty. From v2 on they
    /// begin with the start event, so no primer means "begin a piece".
    pub(crate) fn events(&self, encoding: Encoding) -> Vec<EventId> {
        let events = encoding::encode_notes_until(&self.notes, self.end_s);
        match encoding.piece_start() {
            Some(start) => std::iter::once(start).chain(events).collect(),
            None if events.is_empty() => {
                vec![Event::Velocity(encoding::velocity_bin(V1_START_VELOCITY)).id()]
            }
            None => events,
        }
    }
}
