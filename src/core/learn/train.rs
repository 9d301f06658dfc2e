//! Training, as the front ends use it: the options of a run, its progress and commands, its
//! data, and [`spawn`] to start one on a worker thread (see [`trainer`](super::trainer)).

pub use super::data::{TrainData, fingerprint};
pub use super::options::{
    FINE_TUNE_MINUTES, FINE_TUNE_PATIENCE, Limits, StartFrom, TrainError, TrainOptions,
};
pub use super::progress::{Command, Finished, Progress, SmoothedLoss, StopReason};
pub use super::setup::learned_controls;
pub use super::trainer::{TrainerHandle, spawn};
pub use super::windows::{Batch, WindowSampler};
pub use crate::model::checkpoint::Validation;
pub use crate::model::naming::{best_stem, worse_stem};
pub use crate::model::preset::Preset;
