//! What a training run reports and accepts: progress as plain data, commands, how it ended.

/// The training-loss moving average reported as `train_loss_smoothed` (also rebuilds the curve
/// from a saved history): an exponential average over about the last 20 steps, bias-corrected as
/// Adam corrects its moments, so it starts at the first points instead of dragging the first
/// loss along (a short fine-tune's smoothed curve stayed above every raw point without it).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SmoothedLoss {
    /// The uncorrected average.
    average: f64,
    /// The weight the average has gathered so far, 1 − 0.95^steps.
    weight: f64,
}

impl SmoothedLoss {
    /// Each step's share of the average (a memory of about 20 steps).
    const SHARE: f64 = 0.05;

    /// Adds a step's loss; returns the smoothed loss.
    pub fn push(&mut self, loss: f64) -> f64 {
        self.average += Self::SHARE * (loss - self.average);
        self.weight += Self::SHARE * (1.0 - self.weight);
        // The weight is at least the first step's share once a loss is in.
        self.average / self.weight
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smoothed_loss_follows_a_falling_loss_from_its_first_points() {
        let mut smoothed = SmoothedLoss::default();
        assert_eq!(smoothed.push(4.0), 4.0);
        let losses: Vec<f64> = (1..30).map(|step| 4.0 - 0.1 * f64::from(step)).collect();
        let last = losses.iter().map(|&loss| smoothed.push(loss)).last();
        // The uncorrected average (first value 4.0, then 0.95/0.05) stood at 2.57 here, still
        // above the last 13 raw points; corrected it is 2.18 (a falling loss is always led).
        let last = last.expect("points");
        assert!((last - 2.18).abs() < 0.01, "{last}");
    }
}
