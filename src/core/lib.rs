//! Cadenza's headless core: MIDI files, the event encoding, corpora, the model, training,
//! generation and sound, and the [`worker`] that runs long jobs. The desktop app and the command
//! line both call into it; its manifest has no GUI or CLI crate, so it cannot depend on them.

pub mod audio;
pub mod checkpoint;
pub mod controls;
pub mod corpus;
pub mod demo;
pub mod encoding;
pub mod eval;
pub mod files;
pub mod generate;
pub mod midi;
pub mod model;
pub mod output_guard;
pub mod paths;
pub mod regenerate;
pub mod starter;
pub mod stats;
pub mod takes;
pub mod train;
pub mod worker;
