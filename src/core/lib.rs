//! Cadenza's headless core, in layers, each using only the layers listed before it (the sound
//! layer only base and music); `tests/layout.rs` fails the build otherwise, and on any circle of
//! imports:
//!
//! - [`base`]: safe file writes, the data folder, the output guard, the background worker;
//! - [`music`]: MIDI ↔ notes, the event encoding, corpora, statistics, controls, the demo corpus;
//! - [`model`]: the LSTM and its CPU step, checkpoints, the shipped starter model;
//! - [`learn`]: training data, the trainer, evaluation;
//! - [`compose`]: sampling, generation, regenerating a passage, takes and their versions;
//! - [`sound`]: SoundFonts (checked before the synth sees them), rendering, playback;
//! - [`live`]: playing with Cadenza: touches in, recording, call and response, MIDI ports.
//!
//! The desktop app and the command line both call into it; its manifest has no GUI or CLI crate,
//! so it cannot depend on them. The modules are also reachable from the crate root
//! (`cadenza_core::midi`, `cadenza_core::audio`, …), the paths the front ends use.
//!
//! A generation request, from the Generate panel to the roll: the panel builds a
//! [`generate::GenerateRequest`] and calls [`generate::spawn`], which runs on a [`worker`]
//! thread: the checkpoint is loaded ([`checkpoint::load_model`]), [`generate::sample`] steps the
//! LSTM one event at a time and streams notes back as [`generate::GenerateEvent`]s, which the
//! panel drains each frame into the piano roll; the finished takes come back as the worker's
//! result.

pub mod base;
pub mod compose;
pub mod learn;
pub mod live;
pub mod model;
pub mod music;
pub mod sound;

pub use base::{files, output_guard, paths, worker};
pub use compose::{generate, regenerate, takes, versions, workbench};
pub use learn::{eval, train};
pub use model::{checkpoint, starter};
pub use music::{corpus, demo, encoding, midi, stats};

/// The controls and what a take asks for (`music::controls` and `music::plan`), at the path
/// the front ends use.
pub mod controls {
    pub use crate::music::controls::*;
    pub use crate::music::plan::*;
}
pub use sound as audio;
