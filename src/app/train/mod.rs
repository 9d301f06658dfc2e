//! The Train room: preset and controls, Start / Pause / Resume / Stop / Save, progress, and a
//! live plot of the training and validation loss. The trainer runs in the core on its own thread.

use std::path::PathBuf;
use std::sync::Arc;

use egui_plot::{Legend, Line, Plot, PlotPoint, PlotPoints};

use cadenza_core::checkpoint;
use cadenza_core::train::{
    self, Command, Finished, Limits, Progress, StartFrom, TrainData, TrainOptions, Validation,
};
use cadenza_core::worker::Event;

use super::format::format_time;
use super::intent::{Intent, Intents};
use super::job::Job;
use super::shared::Shared;

mod controls;
#[cfg(test)]
mod probe;

pub use controls::{StartChoice, TrainControls};
use controls::{controls_ui, style_fates};

/// The loss plot and status redraw at most this often while training: each frame drawn takes
/// CPU from the trainer (measured under Xvfb's software renderer).
const TRAINING_FRAME_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// The loss curves being plotted.
#[derive(Debug, Default)]
struct Curves {
    train: Vec<PlotPoint>,
    smoothed: Vec<PlotPoint>,
    valid: Vec<PlotPoint>,
}

impl Curves {
    /// Keeps at most a few thousand points per curve so plotting stays cheap.
    fn thin(points: &mut Vec<PlotPoint>) {
        if points.len() > 4000 {
            *points = points.iter().step_by(2).copied().collect();
        }
    }
}

/// State of the Train room.
#[derive(Default)]
pub struct TrainPanel {
    /// The controls (remembered between runs).
    controls: TrainControls,
    trainer: Job<Finished, Progress, Command>,
    curves: Curves,
    status: String,
    fraction: f32,
    device: String,
    /// Which controls the model being trained learns, for people.
    learns: String,
    paused: bool,
    out: Option<PathBuf>,
    open_dialog: Job<Option<PathBuf>>,
    /// The description of the checkpoint a run would start from, read once per checkpoint.
    start_meta: Option<(PathBuf, Option<checkpoint::CheckpointMeta>)>,
}

impl TrainPanel {
    /// The room with the controls remembered.
    pub fn new(controls: TrainControls) -> Self {
        Self {
            controls,
            ..Self::default()
        }
    }

    /// The controls, as set.
    pub fn controls(&self) -> &TrainControls {
        &self.controls
    }

    /// The device training runs on, for the status bar.
    pub fn device_label(&self) -> String {
        if self.device.is_empty() {
            "CPU (until training starts)".to_string()
        } else {
            self.device.clone()
        }
    }

    /// What training is doing, for the status bar.
    pub fn job(&self) -> Option<String> {
        self.trainer.is_running().then(|| {
            if self.paused {
                "Training paused".to_string()
            } else {
                format!("Training: {}", self.status)
            }
        })
    }

    /// Whether a training run is going (running or paused).
    pub fn is_training(&self) -> bool {
        self.trainer.is_running()
    }

    /// Ends training without saving: the trainer is cancelled and its thread joined.
    pub fn discard_training(&mut self) {
        // Dropping the slot's job cancels it and joins its thread.
        self.trainer = Job::default();
    }

    /// Stops training, which validates and saves the model.
    pub fn stop_and_save(&mut self) {
        self.trainer.send(Command::Stop);
        self.status = "stopping: validating and saving…".to_string();
    }

    /// Asks the trainer to write a checkpoint now.
    pub fn save_now(&mut self, intents: &mut Intents) {
        if self.trainer.is_running() {
            self.trainer.send(Command::SaveNow);
        } else {
            intents.tell("Nothing to save: no training is running");
        }
    }

    /// Drains the trainer's events into the curves and status.
    pub fn poll(&mut self, intents: &mut Intents) {
        self.poll_open_dialog(intents);
        let mut ended = false;
        for event in self.trainer.events() {
            ended |= event.is_final();
            match event {
                Event::Update(progress) => self.apply(progress, intents),
                Event::Finished(Finished { step, reason }) => {
                    self.status = format!("done at step {step}: {}", reason.describe());
                    self.fraction = 1.0;
                }
                Event::Failed { message } => intents.tell(format!("Training failed: {message}")),
                Event::Cancelled => intents.tell("Training cancelled; not saved"),
            }
        }
        if !ended {
            return;
        }
        if let Some(out) = self
            .out
            .clone()
            .filter(|o| checkpoint::load_meta(o).is_ok())
        {
            intents.push(Intent::UseCheckpoint(out));
        }
    }

    /// Applies one progress event to the curves and status.
    fn apply(&mut self, event: Progress, intents: &mut Intents) {
        match event {
            Progress::Started {
                device_description,
                controls,
                ..
            } => {
                self.device = device_description;
                self.learns = if controls.is_empty() {
                    "Learns no controls: its takes cannot be steered".to_string()
                } else {
                    format!("Learns the controls: {}", controls.join(", "))
                };
            }
            Progress::Progress {
                step,
                epoch,
                train_loss,
                train_loss_smoothed,
                tokens_per_s,
                eta_s,
                fraction,
                ..
            } => {
                let x = step as f64;
                self.curves.train.push(PlotPoint::new(x, train_loss));
                self.curves
                    .smoothed
                    .push(PlotPoint::new(x, train_loss_smoothed));
                Curves::thin(&mut self.curves.train);
                Curves::thin(&mut self.curves.smoothed);
                let eta = eta_s.map_or("—".to_string(), format_time);
                self.status = format!(
                    "step {step} · epoch {epoch:.2} · loss {train_loss_smoothed:.3} · {tokens_per_s:.0} tokens/s · ETA {eta}"
                );
                self.fraction = fraction as f32;
            }
            Progress::Valid {
                step, valid_loss, ..
            } => self
                .curves
                .valid
                .push(PlotPoint::new(step as f64, valid_loss)),
            Progress::Checkpoint { step, path } => {
                intents.tell(format!("Saved the model at step {step}: {path}"));
            }
            Progress::Paused { .. } => self.paused = true,
            Progress::Resumed { .. } => self.paused = false,
            Progress::Warning { message } => intents.tell(format!("Training: {message}")),
        }
    }

    fn poll_open_dialog(&mut self, intents: &mut Intents) {
        if let Some(Ok(Some(path))) = self.open_dialog.poll() {
            self.open_checkpoint(checkpoint::stem(&path), intents);
        }
    }

    /// Shows a checkpoint's curves and makes it the current model.
    fn open_checkpoint(&mut self, stem: PathBuf, intents: &mut Intents) {
        match checkpoint::load_meta(&stem) {
            Ok(meta) => {
                self.curves = Curves {
                    train: meta
                        .history
                        .train
                        .iter()
                        .map(|&(s, l)| PlotPoint::new(s as f64, l))
                        .collect(),
                    smoothed: smooth(&meta.history.train),
                    valid: meta
                        .history
                        .valid
                        .iter()
                        .map(|v| PlotPoint::new(v.step as f64, v.loss))
                        .collect(),
                };
                self.status = format!(
                    "{}: step {}, validation {}",
                    stem.display(),
                    meta.step,
                    meta.valid_nll
                        .map_or("—".to_string(), |v| format!("{v:.3}"))
                );
                intents.push(Intent::UseCheckpoint(stem));
            }
            Err(err) => intents.tell(err.to_string()),
        }
    }

    fn start(&mut self, data: Arc<TrainData>, shared: &Shared, intents: &mut Intents) {
        let controls = self.controls.clone();
        let start = match (controls.start, &shared.models.current) {
            (StartChoice::New, _) => StartFrom::New,
            (StartChoice::Current, Some(current)) => StartFrom::continuing(current),
            (StartChoice::Current, None) => {
                intents.tell("No current checkpoint to continue: train or open one first");
                return;
            }
            (StartChoice::Starter, _) => match shared.models.starter.clone() {
                Some(stem) => StartFrom::Init(stem),
                None => {
                    intents.tell("The starter model is not installed");
                    return;
                }
            },
        };
        let name = match &start {
            StartFrom::Init(_) => "finetune",
            _ => controls.preset.name(),
        };
        let out = match (&start, new_checkpoint_stem(&data, name, shared)) {
            (StartFrom::Resume(current), _) => current.clone(),
            (_, Some(out)) => out,
            (_, None) => {
                intents.tell("No data folder to save the model in");
                return;
            }
        };
        let minutes = controls.minutes.max(0.1);
        let limits = match &start {
            StartFrom::Init(_) => Limits::fine_tune(minutes),
            _ => Limits {
                minutes: Some(minutes),
                ..Limits::default()
            },
        };
        let options = TrainOptions {
            model: controls.model,
            controls: controls.controls,
            settings: controls.recipe,
            limits,
            device: controls.device,
            threads: None,
            out: out.clone(),
            start,
            command: None,
            autosave_minutes: TrainOptions::DEFAULT_AUTOSAVE_MINUTES,
            valid_every: TrainOptions::DEFAULT_VALID_EVERY,
            // A resumed run that ends worse is kept beside the checkpoint, never over it.
            replace_worse: false,
            rescue_dir: shared.data.as_ref().map(|d| d.rescued_checkpoints()),
            // Every run in the app writes a new, time-stamped checkpoint.
            replace_existing: false,
            validation: Validation::Absent,
            project_structure: None,
        };
        self.curves = Curves::default();
        self.fraction = 0.0;
        self.paused = false;
        self.status = "starting".to_string();
        self.out = Some(out);
        let repaint = shared.repaint_every(TRAINING_FRAME_INTERVAL);
        self.trainer.hold(train::spawn(data, options, repaint));
    }

    /// The checkpoint a run trains further (the starter or the current one), with whose it is;
    /// `None` for a new model.
    fn starting_point(
        &mut self,
        shared: &Shared,
    ) -> Option<(&checkpoint::CheckpointMeta, &'static str)> {
        let (path, whose) = match self.controls.start {
            StartChoice::New => return None,
            StartChoice::Starter => (shared.models.starter.clone()?, "the starter model's"),
            StartChoice::Current => (shared.models.current.clone()?, "the current checkpoint's"),
        };
        if self
            .start_meta
            .as_ref()
            .is_none_or(|(read, _)| *read != path)
        {
            let meta = checkpoint::load_meta(&path).ok();
            self.start_meta = Some((path, meta));
        }
        let meta = self
            .start_meta
            .as_ref()
            .and_then(|(_, meta)| meta.as_ref())?;
        Some((meta, whose))
    }

    /// Draws the panel.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared,
        data: Option<Arc<TrainData>>,
        intents: &mut Intents,
    ) {
        let running = self.trainer.is_running();
        let start = self.starting_point(shared);
        let kept_shape = start.map(|(meta, whose)| (meta.model, whose));
        let fates = match (start, &data) {
            (Some((meta, whose)), Some(data)) => style_fates(meta, whose, &data.styles()),
            _ => Vec::new(),
        };
        ui.add_enabled_ui(!running, |ui| {
            controls_ui(
                ui,
                &mut self.controls,
                shared.models.current.is_some(),
                shared.models.starter.is_some(),
                kept_shape,
            )
        });
        for fate in fates {
            ui.label(fate);
        }
        ui.horizontal(|ui| {
            let can_start = !running && data.is_some();
            if ui
                .add_enabled(can_start, egui::Button::new("Start training"))
                .on_disabled_hover_text("Load a corpus first (Corpus panel)")
                .clicked()
                && let Some(data) = data.clone()
            {
                self.start(data, shared, intents);
            }
            if self.trainer.is_running() {
                // The buttons answer at once; the trainer's events (drawn at most once a second
                // while training) confirm.
                if self.paused {
                    if ui.button("Resume training").clicked() {
                        self.trainer.send(Command::Resume);
                        self.paused = false;
                    }
                } else if ui.button("Pause training").clicked() {
                    self.trainer.send(Command::Pause);
                    self.paused = true;
                }
                if ui
                    .button("Stop training")
                    .on_hover_text("Stops and saves")
                    .clicked()
                {
                    self.stop_and_save();
                }
                if ui.button("Save now").on_hover_text("Ctrl+S").clicked() {
                    self.trainer.send(Command::SaveNow);
                }
            } else if ui.button("Open checkpoint…").clicked() {
                self.open_dialog.dialog(&shared.repaint, || {
                    rfd::FileDialog::new()
                        .add_filter("Cadenza checkpoint", &["json", "safetensors"])
                        .pick_file()
                });
            }
        });
        if running || self.fraction > 0.0 {
            ui.add(egui::ProgressBar::new(self.fraction).text(self.status.clone()));
        } else if !self.status.is_empty() {
            ui.label(&self.status);
        }
        if !self.learns.is_empty() {
            ui.label(&self.learns);
        }
        self.plot(ui);
        self.recent_ui(ui, shared, intents);
    }

    /// The recent checkpoints, each opening its curves and becoming the current model.
    fn recent_ui(&mut self, ui: &mut egui::Ui, shared: &Shared, intents: &mut Intents) {
        if shared.models.recent.is_empty() || self.trainer.is_running() {
            return;
        }
        ui.collapsing("Recent checkpoints", |ui| {
            for path in &shared.models.recent {
                if ui.link(path.display().to_string()).clicked() {
                    self.open_checkpoint(path.clone(), intents);
                }
            }
        });
    }

    fn plot(&self, ui: &mut egui::Ui) {
        if self.curves.train.is_empty() && self.curves.valid.is_empty() {
            // An empty plot would show meaningless −0.5…0.5 axes.
            ui.weak("The loss curves (training, smoothed, validation) are drawn here while a model trains, or when a checkpoint is opened.");
            return;
        }
        Plot::new("loss")
            .height(260.0)
            .legend(Legend::default())
            .x_axis_label("step")
            .y_axis_label("nats / event")
            .show(ui, |plot| {
                plot.line(
                    Line::new("train (raw)", PlotPoints::from(&self.curves.train[..])).width(1.0),
                );
                plot.line(
                    Line::new(
                        "train (smoothed)",
                        PlotPoints::from(&self.curves.smoothed[..]),
                    )
                    .width(2.0),
                );
                plot.line(
                    Line::new("validation", PlotPoints::from(&self.curves.valid[..])).width(2.5),
                );
            });
    }
}

/// The smoothed training loss of a saved history, exactly as the trainer reported it.
fn smooth(points: &[(u64, f64)]) -> Vec<PlotPoint> {
    let mut smoothed = train::SmoothedLoss::default();
    points
        .iter()
        .map(|&(step, loss)| PlotPoint::new(step as f64, smoothed.push(loss)))
        .collect()
}

/// A fresh, readable and unique checkpoint stem in the data folder for a run on `data`.
fn new_checkpoint_stem(data: &TrainData, kind: &str, shared: &Shared) -> Option<PathBuf> {
    let corpus = data.corpus.name().unwrap_or_else(|| "corpus".into());
    Some(cadenza_core::model::naming::new_checkpoint_stem(
        shared.data.as_ref()?,
        &corpus,
        kind,
        std::time::SystemTime::now(),
    ))
}
