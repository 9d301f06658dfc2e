//! Training: a worker thread that owns the model and optimizer, takes commands (pause, resume, stop,
//! save now) and reports progress as plain data, so the GUI and the CLI drive it the same way.
//!
//! Each step trains on a batch of random windows from the training pieces, weighted by length (so an
//! epoch covers every event about once), with augmentation: one of a few time-stretched encodings
//! of the piece, transposed by −3…+3 semitones. The loss and the gradient norm are checked before
//! every optimizer step; a non-finite one skips the step and restores the last good weights.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use tch::{Device, Kind, Tensor, nn, nn::OptimizerConfig};

use crate::base::worker::{Context, Repaint, Stop, Worker};
use crate::learn::eval::{self, EvalPiece};
use crate::model::checkpoint::{
    self, CheckpointError, CheckpointMeta, CorpusInfo, History, TrainSettings, ValidPoint,
};
use crate::model::naming::{best_stem, worse_stem};
pub use crate::model::preset::Preset;
use crate::model::{self, Conditioning, DeviceChoice, EventLstm, InvalidConfig, ModelConfig};
use crate::music::controls::{
    CONTROL_INPUTS, ControlTrack, ControlValues, ControlsMeta, KeyProfiles,
};
use crate::music::corpus::{Corpus, Split};
use crate::music::encoding::{self, Encoding, EventId, VOCAB_SIZE};

/// The training-loss moving average reported as `train_loss_smoothed`: `previous` is the average
/// after the step before (none at the first step). Also rebuilds the curve from a saved history.
pub fn smooth_loss(previous: Option<f64>, loss: f64) -> f64 {
    match previous {
        Some(previous) => 0.95 * previous + 0.05 * loss,
        None => loss,
    }
}

/// Time-stretch factors of the encodings kept per training piece (Magenta's 0.95…1.05 range).
const STRETCH_FACTORS: [f64; 3] = [1.0, 0.95, 1.05];
/// Largest transposition applied to a training window, in semitones.
const MAX_TRANSPOSE: i8 = 3;
/// Share of training windows that begin at a piece's start event.
const PIECE_START_SHARE: f64 = 0.1;
/// Chance that a control is absent from a training window, so every control can be "any".
const CONTROL_DROP: f64 = 0.5;
/// Validation pieces in the cheap, regular validation.
const SUBSET_PIECES: usize = 8;
/// Events of each piece scored in the cheap validation.
const SUBSET_EVENTS: usize = 2_000;
/// Non-finite steps within [`BAD_STEP_WINDOW`] steps before training gives up. (Counted in a window
/// rather than in a row because a step right after restoring good weights usually succeeds, even
/// when the settings make every update blow up.)
const MAX_BAD_STEPS: usize = 5;
const BAD_STEP_WINDOW: u64 = 50;
/// A loss per event above this (uniform guessing gives ln 388 = 6.0) means broken weights, even
/// when finite: the step counts as non-finite (a learning rate of 1e30 gives finite 1e31 losses).
const MAX_SANE_LOSS: f64 = 50.0;
/// Least time between two progress events.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(250);

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
}

impl TrainOptions {
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
        "training diverged: {MAX_BAD_STEPS} of the last {BAD_STEP_WINDOW} steps gave a non-finite loss or gradient; lower the learning rate (--lr)"
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
    /// A setting is out of range.
    #[error("invalid setting {0}")]
    Invalid(#[from] InvalidConfig),
    /// The worker was dropped or cancelled (e.g. "close without saving"): nothing is saved.
    #[error("training was cancelled")]
    Cancelled,
}

impl TrainError {
    /// How the worker reports it: a cancel is not a failure.
    fn into_stop(self) -> Stop {
        match self {
            Self::Cancelled => Stop::Cancelled,
            other => Stop::Failed(other.to_string()),
        }
    }
}

/// An encoded sequence as training reads it: the start event, the piece's events, and the
/// controls of every position (computed from these very events, so after time-stretching).
#[derive(Debug, Clone)]
struct Sequence {
    events: Vec<EventId>,
    controls: ControlTrack,
}

impl Sequence {
    fn of_events(events: &[EventId]) -> Self {
        let events = eval::model_sequence(Encoding::CURRENT, events);
        let controls = ControlTrack::of_events(&events);
        Self { events, controls }
    }
}

/// One training piece: its encodings at each stretch factor, and its composer (its style).
#[derive(Debug, Clone)]
struct TrainPiece {
    variants: Vec<Sequence>,
    composer: Option<String>,
}

/// The training and validation data, prepared once (encoded, stretched, controls computed) and
/// shared read-only.
#[derive(Debug, Clone)]
pub struct TrainData {
    train: Vec<TrainPiece>,
    valid: Vec<(Sequence, Option<String>)>,
    /// Description of the corpus, stored in checkpoints.
    pub corpus: CorpusInfo,
    /// What a requested key means in this corpus.
    pub key_profiles: KeyProfiles,
}

impl TrainData {
    /// Prepares a corpus for training: training pieces with their stretched encodings, validation
    /// pieces as they are, each with its controls.
    pub fn from_corpus(corpus: &Corpus) -> Self {
        let train: Vec<TrainPiece> = corpus
            .split(Split::Train)
            .collect::<Vec<_>>()
            .par_iter()
            .map(|piece| TrainPiece {
                variants: STRETCH_FACTORS
                    .iter()
                    .map(|&factor| {
                        if factor == 1.0 {
                            Sequence::of_events(&piece.events)
                        } else {
                            let stretched = encoding::stretch(&piece.piece, factor);
                            Sequence::of_events(&encoding::encode_piece(&stretched))
                        }
                    })
                    .collect(),
                composer: piece.composer.clone(),
            })
            .collect();
        let valid: Vec<(Sequence, Option<String>)> = corpus
            .split(Split::Valid)
            .collect::<Vec<_>>()
            .par_iter()
            .map(|p| (Sequence::of_events(&p.events), p.composer.clone()))
            .collect();
        let sounding: Vec<Vec<crate::music::midi::Note>> = corpus
            .split(Split::Train)
            .map(|p| crate::music::midi::apply_sustain(&p.piece))
            .collect();
        let key_profiles = KeyProfiles::of_pieces(sounding.iter().map(Vec::as_slice));
        let corpus_info = CorpusInfo {
            path: corpus.root.display().to_string(),
            fingerprint: fingerprint(corpus),
            train_pieces: train.len(),
            valid_pieces: valid.len(),
            train_events: train.iter().map(|p| p.variants[0].events.len() - 1).sum(),
            valid_events: valid.iter().map(|(v, _)| v.events.len() - 1).sum(),
        };
        Self {
            train,
            valid,
            corpus: corpus_info,
            key_profiles,
        }
    }

    /// The training pieces' composers, sorted and without repeats: the style labels of a new model.
    pub fn styles(&self) -> Vec<String> {
        let set: std::collections::BTreeSet<&String> = self
            .train
            .iter()
            .filter_map(|p| p.composer.as_ref())
            .collect();
        set.into_iter().cloned().collect()
    }

    /// Each training piece's encodings, one per time-stretch factor (the first unstretched), as
    /// the model reads them (after the start event).
    pub fn train_variants(&self) -> impl Iterator<Item = Vec<&[EventId]>> {
        self.train
            .iter()
            .map(|piece| piece.variants.iter().map(|v| v.events.as_slice()).collect())
    }

    /// Validation pieces, to score with `controls` (their own controls and the style row
    /// `controls` gives their composer) or with every control absent (`None`).
    pub fn valid_pieces(&self, controls: Option<&ControlsMeta>) -> Vec<EvalPiece<'_>> {
        self.valid
            .iter()
            .map(|(sequence, composer)| match controls {
                None => EvalPiece::plain(&sequence.events),
                Some(meta) => EvalPiece {
                    events: &sequence.events,
                    controls: Some(&sequence.controls),
                    style: composer
                        .as_deref()
                        .and_then(|c| meta.style_index(c))
                        .unwrap_or(0),
                },
            })
            .collect()
    }
}

/// A hash of every piece's relative path and events: equal fingerprints mean equal training data.
pub fn fingerprint(corpus: &Corpus) -> String {
    let mut hasher = Sha256::new();
    for piece in &corpus.pieces {
        hasher.update(piece.relative_path.as_bytes());
        hasher.update([0]);
        for id in &piece.events {
            hasher.update(id.to_le_bytes());
        }
    }
    format!("{:x}", hasher.finalize())[..16].to_string()
}

/// A running trainer: send it [`Command`]s, read its [`Progress`]; it ends with [`Finished`].
/// Dropping it ends training without saving.
pub type TrainerHandle = Worker<Command, Progress, Finished>;

/// Starts training on a new thread. `repaint` is called after each progress event.
pub fn spawn(data: Arc<TrainData>, options: TrainOptions, repaint: Repaint) -> TrainerHandle {
    Worker::spawn("cadenza-train", repaint, move |ctx| {
        let (step, reason) = Trainer::start(&data, &options, ctx)
            .and_then(|mut trainer| trainer.run())
            .map_err(TrainError::into_stop)?;
        Ok(Finished { step, reason })
    })
}

/// One batch: inputs and targets `[batch, seq_len]`, and the controls of a steerable model.
struct Batch {
    inputs: Tensor,
    targets: Tensor,
    conditioning: Option<Conditioning>,
}

/// Draws random training windows, augmented and (for a steerable model) with their controls, each
/// control dropped at random.
struct WindowSampler {
    rng: StdRng,
    /// Training pieces long enough for a window, and the running total of their lengths.
    usable: Vec<usize>,
    cumulative: Vec<usize>,
    /// Style row of each training piece; `None` for a model without controls.
    styles: Option<Vec<usize>>,
}

impl WindowSampler {
    fn new(
        data: &TrainData,
        seq_len: usize,
        seed: u64,
        controls: Option<&ControlsMeta>,
    ) -> Result<Self, TrainError> {
        let usable: Vec<usize> = (0..data.train.len())
            .filter(|&i| {
                data.train[i]
                    .variants
                    .iter()
                    .all(|v| v.events.len() > seq_len)
            })
            .collect();
        if usable.is_empty() {
            return Err(TrainError::Data(format!(
                "no training piece is longer than the window ({} events): lower --seq-len",
                seq_len + 1
            )));
        }
        let mut total = 0;
        let cumulative = usable
            .iter()
            .map(|&i| {
                total += data.train[i].variants[0].events.len();
                total
            })
            .collect();
        let styles = controls.map(|meta| {
            data.train
                .iter()
                .map(|p| {
                    p.composer
                        .as_deref()
                        .and_then(|c| meta.style_index(c))
                        .unwrap_or(0)
                })
                .collect()
        });
        Ok(Self {
            rng: StdRng::seed_from_u64(seed),
            usable,
            cumulative,
            styles,
        })
    }

    fn batch(&mut self, data: &TrainData, batch: usize, seq_len: usize, device: Device) -> Batch {
        let mut inputs = Vec::with_capacity(batch * seq_len);
        let mut targets = Vec::with_capacity(batch * seq_len);
        let steerable = self.styles.is_some();
        let mut controls = vec![
            0f32;
            if steerable {
                batch * seq_len * CONTROL_INPUTS
            } else {
                0
            }
        ];
        let mut styles = Vec::with_capacity(batch);
        for row in 0..batch {
            let window = self.window(data, seq_len);
            inputs.extend(window.events[..seq_len].iter().map(|&id| i64::from(id)));
            targets.extend(window.events[1..].iter().map(|&id| i64::from(id)));
            if steerable {
                let out =
                    &mut controls[row * seq_len * CONTROL_INPUTS..][..seq_len * CONTROL_INPUTS];
                styles.push(self.window_controls(data, &window, out));
            }
        }
        let shape = [batch as i64, seq_len as i64];
        let tensor = |values: &[i64]| Tensor::from_slice(values).view(shape).to_device(device);
        Batch {
            inputs: tensor(&inputs),
            targets: tensor(&targets),
            conditioning: steerable.then(|| Conditioning {
                controls: Tensor::from_slice(&controls)
                    .view([batch as i64, seq_len as i64, CONTROL_INPUTS as i64])
                    .to_device(device),
                styles: Tensor::from_slice(&styles).to_device(device),
            }),
        }
    }

    /// Writes a window's control inputs (beside each input, the controls of its target), with
    /// each control kept or dropped for the whole window; returns its style row (0 if dropped).
    fn window_controls(&mut self, data: &TrainData, window: &Window, out: &mut [f32]) -> i64 {
        let mut keep = || self.rng.random::<f64>() >= CONTROL_DROP;
        let (density, key, loudness, style) = (keep(), keep(), keep(), keep());
        let track = &data.train[window.piece].variants[window.variant].controls;
        for (t, out) in out.chunks_exact_mut(CONTROL_INPUTS).enumerate() {
            let values = track.values(window.start + t + 1, window.semitones);
            ControlValues {
                density: values.density.filter(|_| density),
                histogram: values.histogram.filter(|_| key),
                loudness: values.loudness.filter(|_| loudness),
            }
            .write_inputs(out);
        }
        let styles = self
            .styles
            .as_ref()
            .expect("a steerable sampler has styles");
        if style {
            styles[window.piece] as i64
        } else {
            0
        }
    }

    /// `seq_len + 1` events of a random piece (weighted by length), stretched and transposed at
    /// random: from the piece's start (its start event) for a share of windows, else anywhere.
    fn window(&mut self, data: &TrainData, seq_len: usize) -> Window {
        let total = *self.cumulative.last().unwrap_or(&1);
        let position = self.rng.random_range(0..total);
        let piece = self.usable[self.cumulative.partition_point(|&end| end <= position)];
        let variants = &data.train[piece].variants;
        let variant = self.rng.random_range(0..variants.len());
        let events = &variants[variant].events;
        let start = if self.rng.random::<f64>() < PIECE_START_SHARE {
            0
        } else {
            self.rng.random_range(0..events.len() - seq_len)
        };
        let slice = &events[start..start + seq_len + 1];
        let semitones = self.rng.random_range(-MAX_TRANSPOSE..=MAX_TRANSPOSE);
        let (events, semitones) = match encoding::transpose(slice, semitones) {
            Some(transposed) => (transposed, semitones),
            None => (slice.to_vec(), 0),
        };
        Window {
            piece,
            variant,
            start,
            semitones,
            events,
        }
    }
}

/// A training window and where it came from.
struct Window {
    piece: usize,
    variant: usize,
    start: usize,
    semitones: i8,
    events: Vec<EventId>,
}

/// The state of a run on the worker thread.
struct Trainer<'a> {
    data: &'a TrainData,
    options: &'a TrainOptions,
    ctx: &'a Context<Command, Progress>,
    device: model::ResolvedDevice,
    vars: nn::VarStore,
    model: EventLstm,
    optimizer: nn::Optimizer,
    /// Copies of the last weights known to give a finite loss, restored after a non-finite one.
    good_weights: Vec<Tensor>,
    sampler: WindowSampler,
    settings: TrainSettings,
    meta: CheckpointMeta,
    run: RunClock,
    /// Held for the run: a second run writing the same checkpoint is refused.
    _lock: checkpoint::OutputLock,
    /// The validation loss of the checkpoint this run resumed into (same stem, same corpus):
    /// saves go aside until the run does at least as well.
    protected_nll: Option<f64>,
    /// With early stopping: the weights of the run's best full validation, which it ends on.
    best_weights: Option<Vec<Tensor>>,
    /// Seconds of training before this run (a resumed model's earlier runs).
    earlier_seconds: f64,
    /// Commands that arrived during a validation, applied after it.
    pending: std::collections::VecDeque<Command>,
    /// A stop arrived during a validation, which was given up: the run ends without another.
    stopped_while_validating: bool,
}

/// The loss a run must match before it may overwrite the checkpoint it resumed: set when it
/// resumes into its own stem on the same corpus, unless told to replace it anyway.
fn protected_nll(
    options: &TrainOptions,
    start: &CheckpointMeta,
    corpus: &CorpusInfo,
) -> Option<f64> {
    let StartFrom::Resume(resume) = &options.start else {
        return None;
    };
    let resume = checkpoint::stem(resume);
    let same_stem = resume == options.out;
    let same_corpus = start.corpus.fingerprint == corpus.fingerprint;
    if same_stem && same_corpus && !options.replace_worse {
        start.valid_nll
    } else {
        None
    }
}

/// A checkpoint to train further: loaded, checked to use the current encoding, and given a style
/// row for each of the corpus's composers it does not know yet.
fn load_trainable(
    path: &Path,
    data: &TrainData,
    device: Device,
) -> Result<(CheckpointMeta, nn::VarStore, EventLstm), TrainError> {
    let stem = checkpoint::stem(path);
    let loaded = checkpoint::load_checked(&stem, device)?;
    if loaded.0.encoding() != Encoding::CURRENT {
        return Err(TrainError::Data(format!(
            "{} was trained with an earlier event encoding ({}): it still generates, but cannot be trained further; start a new model",
            stem.display(),
            loaded.0.encoding
        )));
    }
    Ok(append_styles(loaded, &data.styles(), device)?)
}

/// Gives a steerable model a style row for each of `labels` it does not know, keeping the rows it
/// has. A new row starts as a copy of the "any style" row, so a new composer begins as the
/// model's music in general and training moves it from there (a random row would begin as noise
/// added to every gate).
fn append_styles(
    (mut meta, vars, model): (CheckpointMeta, nn::VarStore, EventLstm),
    labels: &[String],
    device: Device,
) -> Result<(CheckpointMeta, nn::VarStore, EventLstm), tch::TchError> {
    let Some(controls) = meta.controls.as_mut() else {
        return Ok((meta, vars, model));
    };
    let new: Vec<String> = labels
        .iter()
        .filter(|label| controls.style_index(label).is_none())
        .cloned()
        .collect();
    if new.is_empty() {
        return Ok((meta, vars, model));
    }
    tracing::info!(?new, "style labels appended");
    controls.styles.extend(new);
    let grown = nn::VarStore::new(device);
    let grown_model = EventLstm::new(&grown.root(), meta.model, meta.inputs());
    let old = vars.variables();
    let style_weights = format!("{}.weight", model::STYLE_PATH);
    let _no_grad = tch::no_grad_guard();
    for (name, mut var) in grown.variables() {
        let saved = &old[&name];
        if name == style_weights {
            let added = var.size()[0] - saved.size()[0];
            let any = saved.narrow(0, 0, 1).repeat([added, 1]);
            var.f_copy_(&Tensor::f_cat(&[saved, &any], 0)?)?;
        } else {
            var.f_copy_(saved)?;
        }
    }
    Ok((meta, grown, grown_model))
}

/// The description of a fine-tune's first run from the checkpoint at `from`: its shape, controls
/// and key profiles, with a fresh count, history and recipe, and a note of where it began.
fn initialized_meta(
    from: CheckpointMeta,
    path: &Path,
    settings: TrainSettings,
    data: &TrainData,
) -> CheckpointMeta {
    let origin = format!(
        "{} (weights sha256 {})",
        crate::model::label::checkpoint_label(path),
        from.weights_sha256
    );
    let mut meta = fresh_meta(from.model, settings, data, false);
    meta.controls = from.controls;
    meta.provenance.initialized_from = Some(origin);
    meta
}

/// Copies the trainable variables into `into` (allocated on first use, then reused).
fn store_weights(vars: &nn::VarStore, into: &mut Vec<Tensor>) {
    let _no_grad = tch::no_grad_guard();
    let variables = vars.trainable_variables();
    if into.len() != variables.len() {
        *into = variables.iter().map(|v| v.detach().copy()).collect();
        return;
    }
    for (copy, var) in into.iter_mut().zip(&variables) {
        copy.copy_(var);
    }
}

/// Copies weights stored by [`store_weights`] back into the trainable variables.
fn restore_weights(from: &[Tensor], vars: &nn::VarStore) {
    let _no_grad = tch::no_grad_guard();
    for (copy, mut var) in from.iter().zip(vars.trainable_variables()) {
        var.copy_(copy);
    }
}

/// The description of a model that has not been trained yet.
fn fresh_meta(
    model: ModelConfig,
    settings: TrainSettings,
    data: &TrainData,
    controls: bool,
) -> CheckpointMeta {
    let corpus = &data.corpus;
    CheckpointMeta {
        controls: controls.then(|| ControlsMeta::new(data.styles(), data.key_profiles.clone())),
        format_version: checkpoint::FORMAT_VERSION,
        encoding: encoding::ENCODING_ID.to_string(),
        model,
        train: settings,
        step: 0,
        epoch: 0.0,
        corpus: corpus.clone(),
        valid_nll: None,
        history: History::default(),
        weights_sha256: String::new(),
        provenance: Default::default(),
    }
}

/// The controls a model learns, named for people.
pub fn learned_controls(controls: Option<&ControlsMeta>) -> Vec<String> {
    let Some(meta) = controls else {
        return Vec::new();
    };
    let styles = match meta.styles.len() {
        0 => "style (none: the corpus has no composer folders)".to_string(),
        1 => "style (1 composer)".to_string(),
        n => format!("style ({n} composers)"),
    };
    vec![
        "density".to_string(),
        "key".to_string(),
        "loudness".to_string(),
        styles,
    ]
}

/// Counters for this run (limits and rates are per run; step and epoch continue across runs).
struct RunClock {
    first_step: u64,
    first_epoch: f64,
    active: Duration,
    resumed_at: Instant,
    tokens: u64,
    smoothed_loss: Option<f64>,
    last_report: Option<Instant>,
    last_save: Instant,
    best_full_valid: f64,
    full_valids_without_improvement: u32,
}

impl RunClock {
    fn new(first_step: u64, first_epoch: f64) -> Self {
        Self {
            first_step,
            first_epoch,
            active: Duration::ZERO,
            resumed_at: Instant::now(),
            tokens: 0,
            smoothed_loss: None,
            last_report: None,
            last_save: Instant::now(),
            best_full_valid: f64::INFINITY,
            full_valids_without_improvement: 0,
        }
    }

    fn active_seconds(&self) -> f64 {
        (self.active + self.resumed_at.elapsed()).as_secs_f64()
    }

    fn pause(&mut self) {
        self.active += self.resumed_at.elapsed();
    }

    fn resume(&mut self) {
        self.resumed_at = Instant::now();
    }
}

impl<'a> Trainer<'a> {
    fn start(
        data: &'a TrainData,
        options: &'a TrainOptions,
        ctx: &'a Context<Command, Progress>,
    ) -> Result<Self, TrainError> {
        if data.valid.is_empty() {
            return Err(TrainError::Data(
                "the corpus has no validation piece: it needs at least two pieces".to_string(),
            ));
        }
        if let Some(threads) = options.threads {
            model::set_threads(threads);
        }
        options.validate()?;
        checkpoint::check_writable(&options.out)?;
        let lock = checkpoint::OutputLock::acquire(&options.out)?;
        let device = model::resolve_device(options.device).map_err(TrainError::Device)?;
        let settings = options.settings;
        tch::manual_seed(settings.seed as i64);
        let (meta, vars, model) = match &options.start {
            StartFrom::New => {
                let meta = fresh_meta(options.model, settings, data, options.controls);
                let vars = nn::VarStore::new(device.device);
                let model = EventLstm::new(&vars.root(), options.model, meta.inputs());
                (meta, vars, model)
            }
            StartFrom::Resume(path) => load_trainable(path, data, device.device)?,
            StartFrom::Init(path) => {
                let (meta, vars, model) = load_trainable(path, data, device.device)?;
                (initialized_meta(meta, path, settings, data), vars, model)
            }
        };
        let optimizer = nn::Adam::default().build(&vars, settings.lr)?;
        let mut good_weights = Vec::new();
        store_weights(&vars, &mut good_weights);
        let sampler = WindowSampler::new(
            data,
            settings.seq_len,
            settings.seed ^ meta.step,
            meta.controls.as_ref(),
        )?;
        let parameters = vars.trainable_variables().iter().map(|v| v.numel()).sum();
        tracing::info!(
            step = meta.step,
            device = %device.description,
            parameters,
            controls = ?learned_controls(meta.controls.as_ref()),
            "training started"
        );
        ctx.update(Progress::Started {
            step: meta.step,
            device: device.name().to_string(),
            device_description: device.description.clone(),
            parameters,
            controls: learned_controls(meta.controls.as_ref()),
        });
        let run = RunClock::new(meta.step, meta.epoch);
        let protected_nll = protected_nll(options, &meta, &data.corpus);
        Ok(Self {
            data,
            options,
            ctx,
            device,
            vars,
            model,
            optimizer,
            good_weights,
            sampler,
            settings,
            protected_nll,
            best_weights: None,
            earlier_seconds: meta.provenance.training_seconds,
            pending: Default::default(),
            stopped_while_validating: false,
            meta: CheckpointMeta {
                train: settings,
                corpus: data.corpus.clone(),
                // Until this run has been validated, its weights do not count as the old score.
                valid_nll: meta.valid_nll.filter(|_| protected_nll.is_none()),
                ..meta
            },
            run,
            _lock: lock,
        })
    }

    /// Steps until a limit or a Stop; then validates on everything and saves.
    fn run(&mut self) -> Result<(u64, StopReason), TrainError> {
        if matches!(self.options.start, StartFrom::Init(_)) {
            // The trained weights as they come are the score to beat, and the weights a
            // fine-tune that never beats it ends with.
            self.validate(true);
        }
        let mut bad_steps = std::collections::VecDeque::new();
        let reason = loop {
            if let Some(reason) = self.handle_commands()? {
                break reason;
            }
            if let Some(reason) = self.limit_reached() {
                break reason;
            }
            if !self.step()? {
                bad_steps.push_back(self.meta.step);
                bad_steps.retain(|&step| step + BAD_STEP_WINDOW > self.meta.step);
                if bad_steps.len() >= MAX_BAD_STEPS {
                    return Err(TrainError::Diverged);
                }
            }
            if let Some(reason) = self.after_step()? {
                break reason;
            }
        };
        // A run that stops at an epoch end (an epoch limit, an early stop) has just scored everything.
        let scored_now = self
            .meta
            .history
            .valid
            .last()
            .is_some_and(|v| v.full && v.step == self.meta.step);
        if !scored_now && !self.stopped_while_validating {
            self.validate(true);
        }
        if self.options.limits.early_stop_patience.is_some() {
            self.restore_best_weights();
        }
        self.save()?;
        Ok((self.meta.step, reason))
    }

    /// Applies pending commands; blocks while paused. Returns a reason to stop.
    fn handle_commands(&mut self) -> Result<Option<StopReason>, TrainError> {
        let mut paused = false;
        loop {
            if self.ctx.is_cancelled() {
                return Err(TrainError::Cancelled);
            }
            let command = if paused {
                match self.ctx.wait_command(PROGRESS_INTERVAL) {
                    Some(command) => command,
                    None => continue,
                }
            } else {
                match self.pending.pop_front().or_else(|| self.ctx.try_command()) {
                    Some(command) => command,
                    None => return Ok(None),
                }
            };
            match command {
                Command::Stop => {
                    if paused {
                        self.run.resume();
                    }
                    return Ok(Some(StopReason::Stopped));
                }
                Command::SaveNow => self.save()?,
                Command::Pause if !paused => {
                    paused = true;
                    self.run.pause();
                    self.ctx.update(Progress::Paused {
                        step: self.meta.step,
                    });
                }
                Command::Resume if paused => {
                    paused = false;
                    self.run.resume();
                    self.ctx.update(Progress::Resumed {
                        step: self.meta.step,
                    });
                }
                Command::Pause | Command::Resume => {}
            }
        }
    }

    fn limit_reached(&self) -> Option<StopReason> {
        let limits = self.options.limits;
        if limits
            .steps
            .is_some_and(|n| self.meta.step - self.run.first_step >= n)
        {
            return Some(StopReason::Steps);
        }
        if limits
            .epochs
            .is_some_and(|n| self.meta.epoch - self.run.first_epoch >= n)
        {
            return Some(StopReason::Epochs);
        }
        if limits
            .minutes
            .is_some_and(|m| self.run.active_seconds() >= m * 60.0)
        {
            return Some(StopReason::Minutes);
        }
        None
    }

    /// One optimizer step; `false` if it was skipped because of a non-finite loss or gradient.
    fn step(&mut self) -> Result<bool, TrainError> {
        let (batch, seq_len) = (self.settings.batch, self.settings.seq_len);
        let Batch {
            inputs,
            targets,
            conditioning,
        } = self
            .sampler
            .batch(self.data, batch, seq_len, self.device.device);
        let state = self.model.zero_state(batch as i64, self.device.device);
        let (logits, _) = self
            .model
            .forward(&inputs, conditioning.as_ref(), &state, true);
        let loss = logits
            .view([-1, VOCAB_SIZE as i64])
            .cross_entropy_for_logits(&targets.view([-1]));
        self.optimizer.zero_grad();
        loss.backward();
        let loss_value = f64::try_from(&loss)?;
        let grad_norm = self.gradient_norm()?;
        self.meta.step += 1;
        let tokens = (batch * seq_len) as u64;
        self.run.tokens += tokens;
        self.meta.epoch += tokens as f64 / self.data.corpus.train_events.max(1) as f64;
        let sane = loss_value.is_finite() && loss_value <= MAX_SANE_LOSS;
        if !sane || !grad_norm.is_finite() {
            self.restore_good_weights();
            tracing::warn!(
                step = self.meta.step,
                loss_value,
                grad_norm,
                "non-finite step skipped"
            );
            self.ctx.update(Progress::Warning {
                message: format!(
                    "step {}: loss {loss_value}, gradient norm {grad_norm}: step skipped, last good weights restored",
                    self.meta.step
                ),
            });
            return Ok(false);
        }
        // These weights just gave a finite loss and gradient: the ones to fall back to.
        self.keep_good_weights();
        self.clip_gradients(grad_norm);
        self.optimizer.step();
        self.meta.history.train.push((self.meta.step, loss_value));
        self.report_step(loss_value);
        Ok(true)
    }

    fn gradient_norm(&self) -> Result<f64, TrainError> {
        let _no_grad = tch::no_grad_guard();
        let mut squares = Tensor::zeros([], (Kind::Float, self.device.device));
        for var in self.vars.trainable_variables() {
            let grad = var.grad();
            if grad.defined() {
                squares += grad.pow_tensor_scalar(2).sum(Kind::Float);
            }
        }
        Ok(f64::try_from(squares)?.sqrt())
    }

    fn clip_gradients(&self, norm: f64) {
        let coefficient = self.settings.clip / (norm + 1e-6);
        if coefficient < 1.0 {
            let _no_grad = tch::no_grad_guard();
            for var in self.vars.trainable_variables() {
                let mut grad = var.grad();
                if grad.defined() {
                    let _ = grad.g_mul_scalar_(coefficient);
                }
            }
        }
    }

    fn keep_good_weights(&mut self) {
        store_weights(&self.vars, &mut self.good_weights);
    }

    fn restore_good_weights(&mut self) {
        restore_weights(&self.good_weights, &self.vars);
        self.optimizer.zero_grad();
    }

    fn report_step(&mut self, loss: f64) {
        let smoothed = smooth_loss(self.run.smoothed_loss, loss);
        self.run.smoothed_loss = Some(smoothed);
        let due = self
            .run
            .last_report
            .is_none_or(|at| at.elapsed() >= PROGRESS_INTERVAL);
        if !due {
            return;
        }
        self.run.last_report = Some(Instant::now());
        let tokens_per_s = self.run.tokens as f64 / self.run.active_seconds().max(1e-9);
        let eta_s = self.eta_seconds(tokens_per_s);
        self.ctx.update(Progress::Progress {
            step: self.meta.step,
            epoch: self.meta.epoch,
            train_loss: loss,
            train_loss_smoothed: smoothed,
            tokens_per_s,
            eta_s,
            fraction: self.fraction_done(eta_s),
            device: self.device.name().to_string(),
        });
    }

    /// Share of the run done: the time trained against the time to the nearest stop condition.
    fn fraction_done(&self, eta_s: Option<f64>) -> f64 {
        let active = self.run.active_seconds();
        eta_s.map_or(0.0, |eta| {
            (active / (active + eta).max(1e-9)).clamp(0.0, 1.0)
        })
    }

    /// Seconds to the nearest stop condition, from the current rate.
    fn eta_seconds(&self, tokens_per_s: f64) -> Option<f64> {
        let limits = self.options.limits;
        let tokens_per_step = (self.settings.batch * self.settings.seq_len) as f64;
        let steps_per_s = tokens_per_s / tokens_per_step;
        let by_steps = limits.steps.map(|n| {
            let left = (self.run.first_step + n).saturating_sub(self.meta.step);
            left as f64 / steps_per_s.max(1e-9)
        });
        let by_epochs = limits.epochs.map(|n| {
            let left = (self.run.first_epoch + n - self.meta.epoch).max(0.0);
            left * self.data.corpus.train_events as f64 / tokens_per_s.max(1e-9)
        });
        let by_minutes = limits
            .minutes
            .map(|m| (m * 60.0 - self.run.active_seconds()).max(0.0));
        [by_steps, by_epochs, by_minutes]
            .into_iter()
            .flatten()
            .reduce(f64::min)
    }

    /// Regular work after a step: validation, epoch ends, autosave. Returns a reason to stop early.
    fn after_step(&mut self) -> Result<Option<StopReason>, TrainError> {
        // Epochs count across runs, so a resumed run validates where the epoch really ends.
        let epoch_ended =
            self.meta.epoch.floor() > (self.meta.epoch - self.tokens_per_step_in_epochs()).floor();
        let mut stop = None;
        if epoch_ended {
            self.validate(true);
            stop = self.check_early_stop();
            self.decay_learning_rate();
        } else if self
            .meta
            .step
            .is_multiple_of(self.options.valid_every.max(1))
        {
            self.validate(false);
        }
        if self.run.last_save.elapsed().as_secs_f64() >= self.options.autosave_minutes * 60.0 {
            self.save()?;
        }
        Ok(stop)
    }

    fn tokens_per_step_in_epochs(&self) -> f64 {
        (self.settings.batch * self.settings.seq_len) as f64
            / self.data.corpus.train_events.max(1) as f64
    }

    fn check_early_stop(&self) -> Option<StopReason> {
        let patience = self.options.limits.early_stop_patience?;
        (self.run.full_valids_without_improvement >= patience).then_some(StopReason::EarlyStop)
    }

    fn decay_learning_rate(&mut self) {
        if self.settings.lr_decay != 1.0 {
            self.settings.lr *= self.settings.lr_decay;
            self.optimizer.set_lr(self.settings.lr);
            self.meta.train.lr = self.settings.lr;
        }
    }

    /// Scores validation pieces (all of them, or the fixed cheap subset) and reports the loss.
    fn validate(&mut self, full: bool) {
        // Scored with every control absent, so steerable and plain models compare directly.
        let pieces = self.data.valid_pieces(None);
        let subset: Vec<EvalPiece> = pieces
            .iter()
            .take(SUBSET_PIECES)
            .map(|p| EvalPiece::plain(&p.events[..p.events.len().min(SUBSET_EVENTS)]))
            .collect();
        let chosen = if full { &pieces } else { &subset };
        // Commands are read between windows: a Stop (Ctrl-C, SIGTERM, the app's button) during
        // a validation of many pieces (20 s and more for a fine-tune's first) is answered at once.
        let arrived = std::cell::RefCell::new(Vec::new());
        let interrupted = || {
            let mut arrived = arrived.borrow_mut();
            arrived.extend(std::iter::from_fn(|| self.ctx.try_command()));
            self.ctx.is_cancelled() || arrived.contains(&Command::Stop)
        };
        let score = eval::score_pieces_unless(
            &self.model,
            chosen,
            self.settings.seq_len,
            self.device.device,
            &interrupted,
        );
        self.pending.extend(arrived.into_inner());
        let Some(score) = score else {
            self.stopped_while_validating = true;
            return;
        };
        let loss = score.nll_per_event();
        if full {
            self.meta.valid_nll = Some(loss);
            self.keep_best(loss);
        }
        self.meta.history.valid.push(ValidPoint {
            step: self.meta.step,
            loss,
            full,
        });
        self.ctx.update(Progress::Valid {
            step: self.meta.step,
            valid_loss: loss,
            perplexity: loss.exp(),
            full,
        });
    }

    /// A run with early stopping ends on its best validated weights, not on the last ones (an
    /// early stop ends past the best by design; a time limit may end on a worse epoch).
    fn restore_best_weights(&mut self) {
        let Some(best) = &self.best_weights else {
            return;
        };
        if self
            .meta
            .valid_nll
            .is_some_and(|now| now <= self.run.best_full_valid)
        {
            return;
        }
        restore_weights(best, &self.vars);
        self.meta.valid_nll = Some(self.run.best_full_valid);
    }

    /// Brings the description's record of this run up to date before a save.
    fn stamp_provenance(&mut self) {
        let provenance = &mut self.meta.provenance;
        provenance.training_seconds = self.earlier_seconds + self.run.active_seconds();
        provenance.device = Some(self.device.description.clone());
        if self.options.command.is_some() {
            provenance.command.clone_from(&self.options.command);
        }
    }

    /// Saves to `out` (or beside it, while a resumed run is worse than where it started); a
    /// failed save writes the weights to the rescue folder instead and ends the run.
    fn save(&mut self) -> Result<(), TrainError> {
        self.stamp_provenance();
        let target = self.save_target();
        if let Err(error) = checkpoint::save(&target, &self.vars, &mut self.meta) {
            return Err(match self.rescue() {
                Some(rescued) => TrainError::Rescued { error, rescued },
                None => TrainError::Checkpoint(error),
            });
        }
        self.run.last_save = Instant::now();
        tracing::info!(step = self.meta.step, path = %target.display(), valid_nll = ?self.meta.valid_nll, "saved checkpoint");
        self.ctx.update(Progress::Checkpoint {
            step: self.meta.step,
            path: target.display().to_string(),
        });
        if target != self.options.out {
            self.ctx.update(Progress::Warning {
                message: format!(
                    "the validation loss is worse than the checkpoint this run resumed ({}): it is kept, and these weights were saved to {} (--replace-worse overwrites it)",
                    self.protected_nll.map_or("—".to_string(), |v| format!("{v:.4}")),
                    target.display()
                ),
            });
        }
        Ok(())
    }

    fn save_target(&self) -> PathBuf {
        match (self.protected_nll, self.meta.valid_nll) {
            (Some(old), Some(new)) if new <= old => self.options.out.clone(),
            (Some(_), _) => worse_stem(&self.options.out),
            (None, _) => self.options.out.clone(),
        }
    }

    /// Writes the weights to the rescue folder; returns where, if that worked.
    fn rescue(&mut self) -> Option<PathBuf> {
        let name = self.options.out.file_name()?.to_string_lossy().to_string();
        let stem = self
            .options
            .rescue_dir
            .as_ref()?
            .join(format!("{name}-rescued-step-{}", self.meta.step));
        checkpoint::save(&stem, &self.vars, &mut self.meta).ok()?;
        Some(stem)
    }

    /// After a full validation: keeps the best weights of the run as `P.best`.
    fn keep_best(&mut self, loss: f64) {
        // A NaN never counts as better.
        if loss.partial_cmp(&self.run.best_full_valid) != Some(std::cmp::Ordering::Less) {
            self.run.full_valids_without_improvement += 1;
            return;
        }
        self.run.best_full_valid = loss;
        self.run.full_valids_without_improvement = 0;
        // Only a run with early stopping ends on its best weights, so only it keeps them.
        if self.options.limits.early_stop_patience.is_some() {
            let best = self.best_weights.get_or_insert_with(Vec::new);
            store_weights(&self.vars, best);
        }
        self.stamp_provenance();
        let best = best_stem(&self.options.out);
        if let Err(err) = checkpoint::save(&best, &self.vars, &mut self.meta) {
            self.ctx.update(Progress::Warning {
                message: format!("could not keep the best weights: {err}"),
            });
        }
    }
}
