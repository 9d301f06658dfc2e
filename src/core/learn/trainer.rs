//! Training: a worker thread that owns the model and optimizer, takes commands (pause, resume, stop,
//! save now) and reports progress as plain data, so the GUI and the CLI drive it the same way.
//!
//! Each step trains on a batch of random windows from the training pieces, weighted by length (so an
//! epoch covers every event about once), with augmentation: one of a few time-stretched encodings
//! of the piece, transposed by −3…+3 semitones. The loss and the gradient norm are checked before
//! every optimizer step; a non-finite one skips the step and restores the last good weights.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tch::{Kind, Tensor, nn, nn::OptimizerConfig};

use crate::base::worker::{Context, Repaint, Worker, panic_message};
use crate::model::checkpoint::{self, CheckpointMeta, TrainSettings};
use crate::model::{self, EventLstm};
use crate::music::encoding::VOCAB_SIZE;

use super::data::TrainData;
use super::options::{BAD_STEP_WINDOW, MAX_BAD_STEPS, StartFrom, TrainError, TrainOptions};
use super::progress::{Command, Finished, Progress, StopReason};
use super::run_clock::RunClock;
use super::setup::{
    fresh_meta, initialized_meta, learned_controls, load_trainable, protected_nll, restore_weights,
    store_weights,
};
use super::windows::{Batch, WindowSampler};

/// Validation pieces in the cheap, regular validation.
pub(super) const SUBSET_PIECES: usize = 8;
/// Events of each piece scored in the cheap validation.
pub(super) const SUBSET_EVENTS: usize = 2_000;
/// A loss per event above this (uniform guessing gives ln 388 = 6.0) means broken weights, even
/// when finite: the step counts as non-finite (a learning rate of 1e30 gives finite 1e31 losses).
const MAX_SANE_LOSS: f64 = 50.0;
/// Least time between two progress events.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(250);

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

/// The state of a run on the worker thread.
pub(super) struct Trainer<'a> {
    pub(super) data: &'a TrainData,
    pub(super) options: &'a TrainOptions,
    pub(super) ctx: &'a Context<Command, Progress>,
    pub(super) device: model::ResolvedDevice,
    pub(super) vars: nn::VarStore,
    pub(super) model: EventLstm,
    pub(super) optimizer: nn::Optimizer,
    /// Copies of the last weights known to give a finite loss, restored after a non-finite one.
    pub(super) good_weights: Vec<Tensor>,
    pub(super) sampler: WindowSampler,
    pub(super) settings: TrainSettings,
    pub(super) meta: CheckpointMeta,
    pub(super) run: RunClock,
    /// Held for the run: a second run writing the same checkpoint is refused.
    pub(super) _lock: checkpoint::OutputLock,
    /// The validation loss of the checkpoint this run resumed into (same stem, same corpus):
    /// saves go aside until the run does at least as well.
    pub(super) protected_nll: Option<f64>,
    /// With early stopping: the weights of the run's best full validation, which it ends on.
    pub(super) best_weights: Option<Vec<Tensor>>,
    /// Seconds of training before this run (a resumed model's earlier runs).
    pub(super) earlier_seconds: f64,
    /// Commands that arrived during a validation, applied after it.
    pub(super) pending: std::collections::VecDeque<Command>,
    /// A stop arrived during a validation, which was given up: the run ends without another.
    pub(super) stopped_while_validating: bool,
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
            StartFrom::Resume(path) => load_trainable(path, data, device.device, None)?,
            StartFrom::Init(path) => {
                let (meta, vars, model) =
                    load_trainable(path, data, device.device, options.project_structure)?;
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
            if !self.guarded(Self::step)? {
                bad_steps.push_back(self.meta.step);
                bad_steps.retain(|&step| step + BAD_STEP_WINDOW > self.meta.step);
                if bad_steps.len() >= MAX_BAD_STEPS {
                    return Err(TrainError::Diverged);
                }
            }
            if let Some(reason) = self.guarded(Self::after_step)? {
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

    /// Runs one unit of the run's work. A failure inside it (a libtorch error, such as a GPU out
    /// of memory, or a panic in any tensor operation) ends the run, but not before the last good
    /// weights are saved: the steps since the last autosave are not lost.
    fn guarded<T>(
        &mut self,
        work: fn(&mut Self) -> Result<T, TrainError>,
    ) -> Result<T, TrainError> {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(self)));
        let reason = match outcome {
            Ok(Err(TrainError::Torch(err))) => err.to_string(),
            Ok(other) => return other,
            Err(payload) => panic_message(&*payload),
        };
        // libtorch appends its C++ backtrace: the first line says what failed.
        let reason = reason.lines().next().unwrap_or_default().to_string();
        let step = self.meta.step;
        self.restore_good_weights();
        let kept = match self.save() {
            Ok(()) => format!(
                "the last good weights were saved to {}",
                self.save_target().display()
            ),
            Err(TrainError::Rescued { rescued, .. }) => {
                format!("the last good weights were saved to {}", rescued.display())
            }
            Err(err) => format!("the weights could not be saved either: {err}"),
        };
        Err(TrainError::StepFailed { step, reason, kept })
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
        // Fallible forms: a failure here (a target out of range, memory) is an error, not a panic.
        let loss = logits
            .f_view([-1, VOCAB_SIZE as i64])?
            .f_log_softmax(-1, Kind::Float)?
            .f_nll_loss(
                &targets.f_view([-1])?,
                None::<Tensor>,
                tch::Reduction::Mean,
                -100,
            )?;
        self.optimizer.zero_grad();
        loss.f_backward()?;
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
        let smoothed = self.run.smoothed_loss.push(loss);
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
}
