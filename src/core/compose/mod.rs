//! The composing layer: sampling settings, generation, regenerating a passage, and the takes
//! with their versions. It uses the layers below (base, music, model). [`generate`] is what the
//! front ends use.

mod assist;
mod echo;
mod form;
pub mod generate;
mod keep_time;
mod primer;
pub mod regenerate;
mod release;
mod request;
mod sampler;
mod settings;
mod steering;
mod stepping;
mod take;
pub mod takes;
mod texture;
pub mod versions;
pub mod workbench;
