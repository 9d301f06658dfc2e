//! Training: a worker thread that owns the model and optimizer, takes commands (pause, resume, stop,
//! save now) and reports progress as plain data, so the GUI and the CLI drive it the same way.
//!
//! Each step trains on a batch of random windows from the training pieces, weighted by length (so an
//! epoch covers every event about once), with augmentation: one of a few time-stretched encodings
//! of the piece, transposed by −3…+3 semitones. The loss and the gradient norm are checked before
//! every optimizer step; a non-finite one skips the step and restores the last good weights.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use tch::{Device, Kind, Tensor, nn, nn::OptimizerConfig};

use crate::checkpoint::{
    self, CheckpointError, CheckpointMeta, CorpusInfo, History, TrainSettings, ValidPoint,
};
use crate::corpus::{Corpus, Split};
use crate::encoding::{self, EventId, VOCAB_SIZE};
use crate::eval;
use crate::model::{self, DeviceChoice, EventLstm, ModelConfig};

/// Called after each progress event, so a GUI can wake up and redraw (`ctx.request_repaint()`).
pub type Repaint = Arc<dyn Fn() + Send + Sync>;

/// The ready-made combinations of network and recipe, shared by the CLI and the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// 2 × 256 LSTM: trains usefully on two CPU cores.
    #[default]
    Quick,
    /// 3 × 512 LSTM, Performance RNN's size: wants a GPU or patience.
    Standard,
}

impl Preset {
    /// The preset's network.
    pub fn model(self) -> ModelConfig {
        match self {
            Self::Quick => ModelConfig::QUICK,
            Self::Standard => ModelConfig::STANDARD,
        }
    }

    /// The preset's training recipe.
    pub fn settings(self) -> TrainSettings {
        match self {
            Self::Quick => TrainSettings::QUICK,
            Self::Standard => TrainSettings::STANDARD,
        }
    }
}

impl std::str::FromStr for Preset {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "quick" => Ok(Self::Quick),
            "standard" => Ok(Self::Standard),
            other => Err(format!("unknown preset {other:?}: use quick or standard")),
        }
    }
}

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
/// Validation pieces in the cheap, regular validation.
const SUBSET_PIECES: usize = 8;
/// Events of each piece scored in the cheap validation.
const SUBSET_EVENTS: usize = 2_000;
/// Non-finite steps within [`BAD_STEP_WINDOW`] steps before training gives up. (Counted in a window
/// rather than in a row because a step right after restoring good weights usually succeeds, even
/// when the settings make every update blow up.)
const MAX_BAD_STEPS: usize = 5;
const BAD_STEP_WINDOW: u64 = 50;
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
    /// Training failed.
    Error {
        /// What went wrong.
        message: String,
    },
    /// Training ended normally.
    Done {
        /// Last optimizer step.
        step: u64,
        /// Which condition ended it.
        reason: StopReason,
    },
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

/// Everything a training run needs besides the data.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Network shape (ignored when resuming: the checkpoint's shape is used).
    pub model: ModelConfig,
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
    /// Checkpoint stem to continue from.
    pub resume: Option<PathBuf>,
    /// Minutes between automatic saves.
    pub autosave_minutes: f64,
    /// Steps between validations on the fixed subset.
    pub valid_every: u64,
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
}

/// One training piece: its encodings at each stretch factor.
#[derive(Debug, Clone)]
struct TrainPiece {
    variants: Vec<Vec<EventId>>,
}

/// The training and validation data, prepared once (encoded, stretched) and shared read-only.
#[derive(Debug, Clone)]
pub struct TrainData {
    train: Vec<TrainPiece>,
    valid: Vec<Vec<EventId>>,
    /// Description of the corpus, stored in checkpoints.
    pub corpus: CorpusInfo,
}

impl TrainData {
    /// Prepares a corpus for training: training pieces with their stretched encodings, validation
    /// pieces as they are.
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
                            piece.events.clone()
                        } else {
                            encoding::encode_piece(&encoding::stretch(&piece.piece, factor))
                        }
                    })
                    .collect(),
            })
            .collect();
        let valid: Vec<Vec<EventId>> = corpus
            .split(Split::Valid)
            .map(|p| p.events.clone())
            .collect();
        let corpus_info = CorpusInfo {
            path: corpus.root.display().to_string(),
            fingerprint: fingerprint(corpus),
            train_pieces: train.len(),
            valid_pieces: valid.len(),
            train_events: train.iter().map(|p| p.variants[0].len()).sum(),
            valid_events: valid.iter().map(Vec::len).sum(),
        };
        Self {
            train,
            valid,
            corpus: corpus_info,
        }
    }

    /// Each training piece's encodings, one per time-stretch factor (the first unstretched).
    pub fn train_variants(&self) -> impl Iterator<Item = &[Vec<EventId>]> {
        self.train.iter().map(|piece| piece.variants.as_slice())
    }

    /// Validation pieces' events.
    pub fn valid_pieces(&self) -> Vec<&[EventId]> {
        self.valid.iter().map(Vec::as_slice).collect()
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

/// A running trainer: send it commands, read its progress.
pub struct TrainerHandle {
    commands: Sender<Command>,
    /// Progress events, in order; the last is `Done` or `Error`.
    pub progress: Receiver<Progress>,
    thread: std::thread::JoinHandle<()>,
}

impl TrainerHandle {
    /// Sends a command; ignored once the trainer has ended.
    pub fn send(&self, command: Command) {
        let _ = self.commands.send(command);
    }

    /// A sender for commands, e.g. for a Ctrl-C handler.
    pub fn command_sender(&self) -> Sender<Command> {
        self.commands.clone()
    }

    /// Whether the worker thread has ended.
    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// Waits for the worker thread to end.
    pub fn join(self) {
        let _ = self.thread.join();
    }
}

/// Starts training on a new thread. `repaint` is called after each progress event.
pub fn spawn(data: Arc<TrainData>, options: TrainOptions, repaint: Repaint) -> TrainerHandle {
    let (command_tx, command_rx) = crossbeam_channel::unbounded();
    let (progress_tx, progress_rx) = crossbeam_channel::unbounded();
    let thread = std::thread::Builder::new()
        .name("cadenza-train".to_string())
        .spawn(move || {
            let reporter = Reporter {
                sender: progress_tx,
                repaint,
            };
            let outcome = Trainer::start(&data, &options, &reporter, command_rx)
                .and_then(|mut trainer| trainer.run());
            match outcome {
                Ok((step, reason)) => reporter.send(Progress::Done { step, reason }),
                Err(err) => reporter.send(Progress::Error {
                    message: err.to_string(),
                }),
            }
        })
        .expect("the OS can start a thread");
    TrainerHandle {
        commands: command_tx,
        progress: progress_rx,
        thread,
    }
}

struct Reporter {
    sender: Sender<Progress>,
    repaint: Repaint,
}

impl Reporter {
    fn send(&self, progress: Progress) {
        let _ = self.sender.send(progress);
        (self.repaint)();
    }
}

/// Draws random training windows: (inputs, targets) as `[batch, seq_len]` tensors.
struct WindowSampler {
    rng: StdRng,
    /// Training pieces long enough for a window, and the running total of their lengths.
    usable: Vec<usize>,
    cumulative: Vec<usize>,
}

impl WindowSampler {
    fn new(data: &TrainData, seq_len: usize, seed: u64) -> Result<Self, TrainError> {
        let usable: Vec<usize> = (0..data.train.len())
            .filter(|&i| data.train[i].variants.iter().all(|v| v.len() > seq_len))
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
                total += data.train[i].variants[0].len();
                total
            })
            .collect();
        Ok(Self {
            rng: StdRng::seed_from_u64(seed),
            usable,
            cumulative,
        })
    }

    fn batch(
        &mut self,
        data: &TrainData,
        batch: usize,
        seq_len: usize,
        device: Device,
    ) -> (Tensor, Tensor) {
        let mut inputs = Vec::with_capacity(batch * seq_len);
        let mut targets = Vec::with_capacity(batch * seq_len);
        for _ in 0..batch {
            let window = self.window(data, seq_len);
            inputs.extend(window[..seq_len].iter().map(|&id| i64::from(id)));
            targets.extend(window[1..].iter().map(|&id| i64::from(id)));
        }
        let shape = [batch as i64, seq_len as i64];
        (
            Tensor::from_slice(&inputs).view(shape).to_device(device),
            Tensor::from_slice(&targets).view(shape).to_device(device),
        )
    }

    /// `seq_len + 1` events from a random place of a random piece (weighted by length), stretched
    /// and transposed at random.
    fn window(&mut self, data: &TrainData, seq_len: usize) -> Vec<EventId> {
        let total = *self.cumulative.last().unwrap_or(&1);
        let position = self.rng.random_range(0..total);
        let piece = self.usable[self.cumulative.partition_point(|&end| end <= position)];
        let variants = &data.train[piece].variants;
        let events = &variants[self.rng.random_range(0..variants.len())];
        let start = self.rng.random_range(0..events.len() - seq_len);
        let window = &events[start..start + seq_len + 1];
        let semitones = self.rng.random_range(-MAX_TRANSPOSE..=MAX_TRANSPOSE);
        encoding::transpose(window, semitones).unwrap_or_else(|| window.to_vec())
    }
}

/// The state of a run on the worker thread.
struct Trainer<'a> {
    data: &'a TrainData,
    options: &'a TrainOptions,
    reporter: &'a Reporter,
    commands: Receiver<Command>,
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
}

/// The description of a model that has not been trained yet.
fn fresh_meta(model: ModelConfig, settings: TrainSettings, corpus: &CorpusInfo) -> CheckpointMeta {
    CheckpointMeta {
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
    }
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
        reporter: &'a Reporter,
        commands: Receiver<Command>,
    ) -> Result<Self, TrainError> {
        if data.valid.is_empty() {
            return Err(TrainError::Data(
                "the corpus has no validation piece: it needs at least two pieces".to_string(),
            ));
        }
        if let Some(threads) = options.threads {
            model::set_threads(threads);
        }
        let device = model::resolve_device(options.device).map_err(TrainError::Device)?;
        let resumed = match options.resume.as_deref().map(checkpoint::stem) {
            Some(stem) => Some((checkpoint::load_meta(&stem)?, stem)),
            None => None,
        };
        let model_config = resumed
            .as_ref()
            .map_or(options.model, |(meta, _)| meta.model);
        let settings = options.settings;
        tch::manual_seed(settings.seed as i64);
        let mut vars = nn::VarStore::new(device.device);
        let model = EventLstm::new(&vars.root(), model_config);
        let meta = match resumed {
            Some((meta, stem)) => {
                checkpoint::load_weights(&stem, &meta, &mut vars)?;
                meta
            }
            None => fresh_meta(model_config, settings, &data.corpus),
        };
        let optimizer = nn::Adam::default().build(&vars, settings.lr)?;
        let good_weights = vars
            .trainable_variables()
            .iter()
            .map(|v| v.detach().copy())
            .collect();
        let sampler = WindowSampler::new(data, settings.seq_len, settings.seed ^ meta.step)?;
        let parameters = vars.trainable_variables().iter().map(|v| v.numel()).sum();
        reporter.send(Progress::Started {
            step: meta.step,
            device: device.name().to_string(),
            device_description: device.description.clone(),
            parameters,
        });
        let run = RunClock::new(meta.step, meta.epoch);
        Ok(Self {
            data,
            options,
            reporter,
            commands,
            device,
            vars,
            model,
            optimizer,
            good_weights,
            sampler,
            settings,
            meta: CheckpointMeta {
                train: settings,
                corpus: data.corpus.clone(),
                ..meta
            },
            run,
        })
    }

    /// Steps until a limit or a Stop; then validates on everything and saves.
    fn run(&mut self) -> Result<(u64, StopReason), TrainError> {
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
        if !scored_now {
            self.validate(true);
        }
        self.save()?;
        Ok((self.meta.step, reason))
    }

    /// Applies pending commands; blocks while paused. Returns a reason to stop.
    fn handle_commands(&mut self) -> Result<Option<StopReason>, TrainError> {
        let mut paused = false;
        loop {
            let command = if paused {
                match self.commands.recv() {
                    Ok(command) => command,
                    Err(_) => return Ok(Some(StopReason::Stopped)),
                }
            } else {
                match self.commands.try_recv() {
                    Ok(command) => command,
                    Err(TryRecvError::Empty) => return Ok(None),
                    // Nobody can send commands any more: keep training to the limits.
                    Err(TryRecvError::Disconnected) => return Ok(None),
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
                    self.reporter.send(Progress::Paused {
                        step: self.meta.step,
                    });
                }
                Command::Resume if paused => {
                    paused = false;
                    self.run.resume();
                    self.reporter.send(Progress::Resumed {
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
        let (inputs, targets) = self
            .sampler
            .batch(self.data, batch, seq_len, self.device.device);
        let state = self.model.zero_state(batch as i64, self.device.device);
        let (logits, _) = self.model.forward(&inputs, &state, true);
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
        if !loss_value.is_finite() || !grad_norm.is_finite() {
            self.restore_good_weights();
            self.reporter.send(Progress::Warning {
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
        let _no_grad = tch::no_grad_guard();
        for (good, var) in self
            .good_weights
            .iter_mut()
            .zip(self.vars.trainable_variables())
        {
            good.copy_(&var);
        }
    }

    fn restore_good_weights(&mut self) {
        let _no_grad = tch::no_grad_guard();
        for (good, mut var) in self
            .good_weights
            .iter()
            .zip(self.vars.trainable_variables())
        {
            var.copy_(good);
        }
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
        self.reporter.send(Progress::Progress {
            step: self.meta.step,
            epoch: self.meta.epoch,
            train_loss: loss,
            train_loss_smoothed: smoothed,
            tokens_per_s,
            eta_s: self.eta_seconds(tokens_per_s),
            device: self.device.name().to_string(),
        });
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
            let loss = self.validate(true);
            stop = self.check_early_stop(loss);
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

    fn check_early_stop(&mut self, loss: f64) -> Option<StopReason> {
        let patience = self.options.limits.early_stop_patience?;
        if loss < self.run.best_full_valid {
            self.run.best_full_valid = loss;
            self.run.full_valids_without_improvement = 0;
            None
        } else {
            self.run.full_valids_without_improvement += 1;
            (self.run.full_valids_without_improvement >= patience).then_some(StopReason::EarlyStop)
        }
    }

    fn decay_learning_rate(&mut self) {
        if self.settings.lr_decay != 1.0 {
            self.settings.lr *= self.settings.lr_decay;
            self.optimizer.set_lr(self.settings.lr);
            self.meta.train.lr = self.settings.lr;
        }
    }

    /// Scores validation pieces (all of them, or the fixed cheap subset) and reports the loss.
    fn validate(&mut self, full: bool) -> f64 {
        let pieces = self.data.valid_pieces();
        let subset: Vec<&[EventId]> = pieces
            .iter()
            .take(SUBSET_PIECES)
            .map(|p| &p[..p.len().min(SUBSET_EVENTS)])
            .collect();
        let chosen = if full { &pieces } else { &subset };
        let score = eval::score_pieces(
            &self.model,
            chosen,
            self.settings.seq_len,
            self.device.device,
        );
        let loss = score.nll_per_event();
        if full {
            self.meta.valid_nll = Some(loss);
        }
        self.meta.history.valid.push(ValidPoint {
            step: self.meta.step,
            loss,
            full,
        });
        self.reporter.send(Progress::Valid {
            step: self.meta.step,
            valid_loss: loss,
            perplexity: loss.exp(),
            full,
        });
        loss
    }

    fn save(&mut self) -> Result<(), TrainError> {
        checkpoint::save(&self.options.out, &self.vars, &mut self.meta)?;
        self.run.last_save = Instant::now();
        self.reporter.send(Progress::Checkpoint {
            step: self.meta.step,
            path: self.options.out.display().to_string(),
        });
        Ok(())
    }
}
