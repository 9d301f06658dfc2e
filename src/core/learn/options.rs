//! A training run's options: where it starts, when it stops, where it writes, and why it can fail.

use std::path::{Path, PathBuf};

use crate::base::worker::Stop;
use crate::model::checkpoint::{self, CheckpointError, TrainSettings, Validation};
use crate::model::naming::{best_stem, worse_stem};
use crate::model::{DeviceChoice, InvalidConfig, ModelConfig};

/// Non-finite steps within [`BAD_STEP_WINDOW`] steps before training gives up. (Counted in a window
/// rather than in a row because a step right after restoring good weights usually succeeds, even
/// when the settings make every update blow up.)
pub(super) const MAX_BAD_STEPS: usize = 5;
pub(super) const BAD_STEP_WINDOW: u64 = 50;

/// When to stop, for this run; the first condition reached ends training.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Limits {
    /// Optimizer steps in this run.
    pub steps: Option<u64>,
    /// Epochs in this run.
    pub epochs: Option<f64>,
    /// Minutes of training in this run (pauses excluded).
    pub minutes: Option<f64>,
    /// Stop when this many full validations in a row do not improve on the best.
    pub early_stop_patience: Option<u32>,
}

/// Where a run's weights begin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StartFrom {
    /// Fresh weights in the shape of [`TrainOptions::model`].
    #[default]
    New,
    /// A new run from a checkpoint's weights (fine-tuning): its shape and controls are kept and
    /// the corpus's new composers are added to its styles; step, history and recipe are this
    /// run's own. The checkpoint is only read.
    Init(PathBuf),
    /// Continue this checkpoint's run: step, history and epoch go on from where it stopped.
    Resume(PathBuf),
}

impl StartFrom {
    /// Training "the current checkpoint" further: resume it, except the starter model, which is
    /// never written to, so a run from it is a fine-tune into a new checkpoint.
    pub fn continuing(current: &Path) -> Self {
        if crate::model::starter::is_starter(current) {
            Self::Init(current.to_path_buf())
        } else {
            Self::Resume(current.to_path_buf())
        }
    }
}

/// Full validations without improvement before a fine-tune stops: small corpora overfit fast.
pub const FINE_TUNE_PATIENCE: u32 = 2;
/// Minutes a fine-tune runs unless told otherwise.
pub const FINE_TUNE_MINUTES: f64 = 5.0;

impl Limits {
    /// A fine-tune's stop conditions: `minutes`, or earlier when validation stops improving.
    pub fn fine_tune(minutes: f64) -> Self {
        Self {
            minutes: Some(minutes),
            early_stop_patience: Some(FINE_TUNE_PATIENCE),
            ..Self::default()
        }
    }
}

/// Everything a training run needs besides the data.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Network shape (ignored when resuming: the checkpoint's shape is used).
    pub model: ModelConfig,
    /// Learn the controls (density, key, loudness, style) so the model can be steered (ignored
    /// when resuming: the checkpoint decides).
    pub controls: bool,
    /// Training recipe.
    pub settings: TrainSettings,
    /// Stop conditions.
    pub limits: Limits,
    /// Where to train.
    pub device: DeviceChoice,
    /// CPU threads for libtorch; `None` keeps its default.
    pub threads: Option<usize>,
    /// Checkpoint stem to write.
    pub out: PathBuf,
    /// Where the weights begin.
    pub start: StartFrom,
    /// The command line that started the run, recorded in the checkpoint (the CLI sets it).
    pub command: Option<String>,
    /// Minutes between automatic saves.
    pub autosave_minutes: f64,
    /// Steps between validations on the fixed subset.
    pub valid_every: u64,
    /// Let a run resumed into its own checkpoint replace it even when its validation loss ends
    /// worse (otherwise the new weights go to `P.resumed-worse` and the checkpoint stays).
    pub replace_worse: bool,
    /// Where weights go when `out` cannot be written at save time, so they are never dropped.
    pub rescue_dir: Option<PathBuf>,
    /// Let a new run or a fine-tune replace a checkpoint already at `out` (and its best weights).
    pub replace_existing: bool,
    /// What validation scores a steerable model with.
    pub validation: Validation,
    /// For a fine-tune of a model whose first layer reads the bar grid's and the lookback's
    /// inputs densely: read them through a sparse projection of this width instead (the closest
    /// one, [`super::structure_projection`]), so it trains at about the cost of a model without
    /// them. `None` keeps the model's layout.
    pub project_structure: Option<usize>,
}

impl TrainOptions {
    /// Minutes between automatic saves, unless told otherwise (the CLI's default and the app's).
    pub const DEFAULT_AUTOSAVE_MINUTES: f64 = 5.0;
    /// Steps between the quick validations, unless told otherwise.
    pub const DEFAULT_VALID_EVERY: u64 = 100;

    /// A fine-tune writes a new checkpoint; a new run does not replace an existing one unless
    /// told to; nothing writes over the checkpoint a run starts from (except a run resumed in
    /// place) or into the starter model's folder.
    fn check_out(&self) -> Result<(), InvalidConfig> {
        let refuse = |reason: String| {
            Err(InvalidConfig {
                field: "out",
                reason,
            })
        };
        if crate::model::starter::is_starter(&self.out) {
            return refuse(
                "is the starter model, which is never overwritten: choose another path".into(),
            );
        }
        let outputs = [
            checkpoint::files(&self.out),
            checkpoint::files(&best_stem(&self.out)),
            checkpoint::files(&worse_stem(&self.out)),
        ];
        let from = match &self.start {
            StartFrom::New => None,
            StartFrom::Init(from) | StartFrom::Resume(from) => Some(checkpoint::stem(from)),
        };
        let in_place = matches!(self.start, StartFrom::Resume(_))
            && from.as_deref().is_some_and(|from| {
                crate::base::output_guard::OutputGuard::new()
                    .reading(checkpoint::files(from))
                    .check_all(checkpoint::files(&self.out))
                    .is_err()
            });
        let inputs = from
            .as_deref()
            .filter(|_| !in_place)
            .map(checkpoint::files)
            .into_iter()
            .flatten();
        let guard = crate::model::starter::output_guard().reading(inputs);
        if let Err(conflict) = guard.check_all(outputs.iter().flatten()) {
            return match &self.start {
                StartFrom::Init(_) => refuse(format!(
                    "is the checkpoint the run starts from ({conflict}): a fine-tune writes a new checkpoint (to continue a run in place, resume it)"
                )),
                _ => refuse(conflict.to_string()),
            };
        }
        let exists = checkpoint::files(&self.out).iter().any(|f| f.exists());
        if exists && !in_place && !self.replace_existing {
            return refuse(
                "already holds a checkpoint: choose another path, or ask to replace it".into(),
            );
        }
        Ok(())
    }

    /// Checks every setting, naming the first out of range; the CLI, the app and the trainer
    /// all call this.
    pub fn validate(&self) -> Result<(), InvalidConfig> {
        self.model.validate()?;
        self.settings.validate()?;
        let limits = self.limits;
        let positive = |field: &'static str, value: Option<f64>, max: f64| match value {
            Some(v) if !(v.is_finite() && v > 0.0 && v <= max) => Err(InvalidConfig {
                field,
                reason: format!("{v} is not above 0 and at most {max}"),
            }),
            _ => Ok(()),
        };
        positive("minutes", limits.minutes, 60.0 * 24.0 * 30.0)?;
        positive("epochs", limits.epochs, 1e6)?;
        positive("autosave_minutes", Some(self.autosave_minutes), 1e6)?;
        if self.valid_every == 0 {
            return Err(InvalidConfig {
                field: "valid_every",
                reason: "must be at least 1".to_string(),
            });
        }
        self.check_out()?;
        if self.threads.is_some_and(|t| !(1..=1024).contains(&t)) {
            return Err(InvalidConfig {
                field: "threads",
                reason: "must be between 1 and 1024".to_string(),
            });
        }
        Ok(())
    }
}

/// Why training could not run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// No training or no validation pieces, or pieces too short for the window.
    #[error("{0}")]
    Data(String),
    /// The device asked for is not usable.
    #[error("{0}")]
    Device(String),
    /// A checkpoint could not be read or written.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The loss kept coming out NaN or infinite.
    #[error(
        "training diverged: {MAX_BAD_STEPS} of the last {BAD_STEP_WINDOW} steps gave a non-finite loss or gradient; lower the learning rate"
    )]
    Diverged,
    /// libtorch reported an error.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    /// The checkpoint could not be written where asked; the weights were written elsewhere.
    #[error("{error}; the trained weights were saved to {} instead", rescued.display())]
    Rescued {
        /// Why the save failed.
        error: CheckpointError,
        /// Where the weights are now.
        rescued: PathBuf,
    },
    /// A step (or the work after it) failed partway; the last good weights were saved first.
    #[error("training failed at step {step}: {reason}; {kept}")]
    StepFailed {
        /// The last step completed.
        step: u64,
        /// What failed.
        reason: String,
        /// What became of the weights.
        kept: String,
    },
    /// A setting is out of range.
    #[error("invalid setting {0}")]
    Invalid(#[from] InvalidConfig),
    /// The worker was dropped or cancelled (e.g. "close without saving"): nothing is saved.
    #[error("training was cancelled")]
    Cancelled,
}

impl TrainError {
    /// How the worker reports it: a cancel is not a failure.
    pub(super) fn into_stop(self) -> Stop {
        match self {
            Self::Cancelled => Stop::Cancelled,
            other => Stop::Failed(other.to_string()),
        }
    }
}
