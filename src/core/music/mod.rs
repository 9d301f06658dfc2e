//! The music layer: MIDI files as notes, the event encoding, corpora, music statistics, the
//! controls (what the music is like: key, density, loudness, style), touches played live and the
//! demo corpus. It uses only the base layer.

pub mod controls;
pub mod corpus;
pub mod demo;
pub mod encoding;
pub mod form;
pub mod lookback;
pub mod meter;
pub mod meter_inputs;
pub mod midi;
mod midi_write;
pub mod plan;
pub mod quantize;
pub mod stats;
pub mod time_signature;
pub mod touch;
