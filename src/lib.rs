//! Cadenza's headless core: MIDI files, the event encoding, corpora and (in later modules) the
//! model, training, generation and sound. The desktop app and the command line both call into it;
//! it never depends on the GUI.

pub mod audio;
pub mod checkpoint;
pub mod corpus;
pub mod demo;
pub mod encoding;
pub mod eval;
pub mod generate;
pub mod midi;
pub mod model;
pub mod paths;
pub mod stats;
pub mod train;
