//! What a training run reports and accepts: progress as plain data, commands, how it ended.

/// The training-loss moving average reported as `train_loss_smoothed`: `previous` is the average
/// after the step before (none at the first step). Also rebuilds the curve from a saved history.
pub fn smooth_loss(previous: Option<f64>, loss: f64) -> f64 {
    match previous {
        Some(previous) => 0.95 * previous + 0.05 * loss,
        None => loss,
    }
}

/// Commands a running trainer accepts between steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Stop stepping until [`Command::Resume`].
    Pause,
    /// Continue after [`Command::Pause`].
    Resume,
    /// Validate, save and end.
    Stop,
    /// Save a checkpoint now and go on.
    SaveNow,
}

/// Why training ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The step limit was reached.
    Steps,
    /// The epoch limit was reached.
    Epochs,
    /// The time limit was reached.
    Minutes,
    /// Someone sent [`Command::Stop`] (or pressed Ctrl-C).
    Stopped,
    /// The validation loss stopped improving.
    EarlyStop,
}

impl StopReason {
    /// Why training ended, for people: "validation stopped improving (ended on the best weights)".
    pub fn describe(self) -> &'static str {
        match self {
            Self::Steps => "the step limit was reached",
            Self::Epochs => "the epoch limit was reached",
            Self::Minutes => "the time was up",
            Self::Stopped => "stopped",
            Self::EarlyStop => "validation stopped improving (ended on the best weights)",
        }
    }
}

/// What the trainer reports. Serialised with an `event` tag, this is `cadenza train --json`'s output.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Progress {
    /// Training began (or resumed from a checkpoint).
    Started {
        /// Optimizer step training starts from.
        step: u64,
        /// "cpu" or "cuda".
        device: String,
        /// Device details, e.g. why CUDA is not used.
        device_description: String,
        /// Number of trainable parameters.
        parameters: usize,
        /// The controls the model learns, e.g. "density", "style (25 composers)"; empty without.
        controls: Vec<String>,
    },
    /// A training step (at most a few per second are reported).
    Progress {
        /// Optimizer steps so far, counted from 1 and continued after resume.
        step: u64,
        /// Target events seen / target events in the training pieces.
        epoch: f64,
        /// Loss of this step's batch, nats per event.
        train_loss: f64,
        /// Exponential moving average of the training loss.
        train_loss_smoothed: f64,
        /// Target events trained on per second of wall time (pauses excluded).
        tokens_per_s: f64,
        /// Estimated seconds until a stop condition is reached; none without one.
        eta_s: Option<f64>,
        /// Share of this run done, toward the nearest stop condition (0 without one).
        fraction: f64,
        /// "cpu" or "cuda".
        device: String,
    },
    /// A validation loss.
    Valid {
        /// Optimizer step.
        step: u64,
        /// NLL per event, nats.
        valid_loss: f64,
        /// e^valid_loss.
        perplexity: f64,
        /// On all validation pieces (else on the fixed subset).
        full: bool,
    },
    /// A checkpoint was written.
    Checkpoint {
        /// Optimizer step.
        step: u64,
        /// The checkpoint's stem.
        path: String,
    },
    /// Training is paused.
    Paused {
        /// Optimizer step.
        step: u64,
    },
    /// Training goes on after a pause.
    Resumed {
        /// Optimizer step.
        step: u64,
    },
    /// Something went wrong but training goes on (e.g. a skipped non-finite step).
    Warning {
        /// What happened.
        message: String,
    },
}

/// How a run ended normally: the worker's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Finished {
    /// Last optimizer step.
    pub step: u64,
    /// Which condition ended it.
    pub reason: StopReason,
}
