//! Generation, as the front ends use it: settings, primers, steering, the sampler and the job
//! that runs it, and the takes it makes.

pub use super::assist::{Assist, AssistLevel};
pub use super::form::sample_take;
pub use super::primer::Primer;
pub use super::request::{
    GenerateEvent, GenerateRequest, GeneratorHandle, output_paths, run_loaded, spawn,
};
pub use super::sampler::{SampledPiece, Update, sample};
pub use super::settings::{
    DEFAULT_BARS, DEFAULT_PRIMER_SECONDS, DEFAULT_SECONDS, GenerateError, Length, MAX_BARS,
    MAX_EVENTS, MAX_NOTE_S, MAX_SECONDS, MAX_VARIATIONS, SamplingSettings, sample_event,
};
pub use super::steering::Steering;
pub(crate) use super::stepping::{Stepping, VoiceControls, read_primer};
pub use super::take::{Operation, Take, VersionModel};
