//! The learning layer: training data and windows, the trainer, and scoring (evaluation). It uses
//! the layers below (base, music, model). [`train`] is what the front ends use.

mod data;
pub mod eval;
mod keeping;
mod options;
pub mod path_report;
mod progress;
mod run_clock;
mod setup;
pub mod structure_projection;
pub mod train;
mod trainer;
mod windows;
