//! The Train panel: preset and controls, Start / Pause / Resume / Stop / Save, progress, and a
//! live plot of the training and validation loss. The trainer runs in the core on its own thread.

use std::path::PathBuf;
use std::sync::Arc;

use egui_plot::{Legend, Line, Plot, PlotPoint, PlotPoints};

use cadenza_core::checkpoint::{self, TrainSettings};
use cadenza_core::model::{DeviceChoice, ModelConfig};
use cadenza_core::train::{
    self, Command, Finished, Limits, Preset, Progress, StartFrom, TrainData, TrainOptions,
};
use cadenza_core::worker::Event;

use super::Shared;
use super::job::Job;

/// The loss plot and status redraw at most this often while training: each frame drawn takes
/// CPU from the trainer (measured under Xvfb's software renderer).
const TRAINING_FRAME_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Training controls, remembered between runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct TrainControls {
    /// The preset the hyperparameters started from (names the checkpoint).
    pub preset: Preset,
    /// The network's shape: the preset's, or edited.
    pub model: ModelConfig,
    /// The training recipe: the preset's, or edited.
    pub recipe: TrainSettings,
    /// Minutes to train.
    pub minutes: f64,
    /// Where the weights begin.
    pub start: StartChoice,
    /// Where to train.
    pub device: DeviceChoice,
    /// Learn the steering controls (density, key, loudness, style).
    pub controls: bool,
}

impl Default for TrainControls {
    fn default() -> Self {
        Self {
            preset: Preset::Quick,
            model: Preset::Quick.model(),
            recipe: Preset::Quick.settings(),
            minutes: 5.0,
            start: StartChoice::New,
            device: DeviceChoice::Auto,
            controls: true,
        }
    }
}

/// Where a run's weights begin, as the panel offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum StartChoice {
    /// Fresh weights in the chosen shape.
    #[default]
    New,
    /// Fine-tune the starter model that ships with Cadenza.
    Starter,
    /// Go on training the current checkpoint (the starter is fine-tuned, never overwritten).
    Current,
}

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

/// State of the Train panel.
#[derive(Default)]
pub struct TrainPanel {
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
    close_requested: bool,
    /// The description of the checkpoint a run would start from, read once per checkpoint.
    start_meta: Option<(PathBuf, Option<checkpoint::CheckpointMeta>)>,
}

impl TrainPanel {
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

    /// (For the UI tests.) Whether a training run is going (running or paused).
    #[cfg(test)]
    pub fn is_training(&self) -> bool {
        self.trainer.is_running()
    }

    /// (For the UI tests.) Points on the training-loss curve.
    #[cfg(test)]
    pub fn plotted_steps(&self) -> usize {
        self.curves.train.len()
    }

    /// Ends training without saving: the trainer is cancelled and its thread joined.
    pub fn discard_training(&mut self) {
        // Dropping the slot's job cancels it and joins its thread.
        self.trainer = Job::default();
    }

    /// Asks the trainer to write a checkpoint now.
    pub fn save_now(&mut self, shared: &mut Shared) {
        if self.trainer.is_running() {
            self.trainer.send(Command::SaveNow);
        } else {
            shared.tell("Nothing to save: no training is running");
        }
    }

    /// Drains the trainer's events into the curves and status.
    pub fn poll(&mut self, shared: &mut Shared) {
        self.poll_open_dialog(shared);
        let mut ended = false;
        for event in self.trainer.events() {
            ended |= event.is_final();
            match event {
                Event::Update(progress) => self.apply(progress, shared),
                Event::Finished(Finished { step, reason }) => {
                    self.status = format!("done at step {step}: {}", reason.describe());
                    self.fraction = 1.0;
                }
                Event::Failed { message } => shared.tell(format!("Training failed: {message}")),
                Event::Cancelled => shared.tell("Training cancelled; not saved"),
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
            shared.settings.use_checkpoint(out);
        }
        if self.close_requested {
            shared.tell("Saved; closing");
        }
    }

    /// Applies one progress event to the curves and status.
    fn apply(&mut self, event: Progress, shared: &mut Shared) {
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
                let eta = eta_s.map_or("—".to_string(), super::piano_roll::format_time);
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
                shared.tell(format!("Saved the model at step {step}: {path}"));
            }
            Progress::Paused { .. } => self.paused = true,
            Progress::Resumed { .. } => self.paused = false,
            Progress::Warning { message } => shared.tell(format!("Training: {message}")),
        }
    }

    fn poll_open_dialog(&mut self, shared: &mut Shared) {
        if let Some(Ok(Some(path))) = self.open_dialog.poll() {
            self.open_checkpoint(checkpoint::stem(&path), shared);
        }
    }

    /// Shows a checkpoint's curves and makes it the current model.
    fn open_checkpoint(&mut self, stem: PathBuf, shared: &mut Shared) {
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
                shared.settings.use_checkpoint(stem);
            }
            Err(err) => shared.tell(err.to_string()),
        }
    }

    fn start(&mut self, data: Arc<TrainData>, shared: &mut Shared) {
        let controls = shared.settings.train.clone();
        let start = match (controls.start, &shared.settings.checkpoint) {
            (StartChoice::New, _) => StartFrom::New,
            (StartChoice::Current, Some(current)) => StartFrom::continuing(current),
            (StartChoice::Current, None) => {
                shared.tell("No current checkpoint to continue: train or open one first");
                return;
            }
            (StartChoice::Starter, _) => match shared.starter.clone() {
                Some(stem) => StartFrom::Init(stem),
                None => {
                    shared.tell("The starter model is not installed");
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
                shared.tell("No data folder to save the model in");
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
        };
        self.curves = Curves::default();
        self.fraction = 0.0;
        self.paused = false;
        self.status = "starting".to_string();
        self.out = Some(out);
        let repaint = shared.repaint_every(TRAINING_FRAME_INTERVAL);
        self.trainer.hold(train::spawn(data, options, repaint));
    }

    /// Closing the window while training: ask, then stop (which saves) before closing.
    pub fn guard_close(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        if ctx.input(|i| i.viewport().close_requested()) && self.trainer.is_running() {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.close_requested = true;
        }
        if !self.close_requested {
            return;
        }
        if !self.trainer.is_running() {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return;
        }
        egui::Modal::new(egui::Id::unique("close-while-training")).show(&ctx, |ui| {
            ui.label("Training is running. Save the model before closing?");
            ui.horizontal(|ui| {
                if ui.button("Save and close").clicked() {
                    self.trainer.send(Command::Stop);
                }
                if ui.button("Close without saving").clicked() {
                    self.discard_training();
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
                if ui.button("Keep training").clicked() {
                    self.close_requested = false;
                }
            });
        });
    }

    /// The checkpoint a run trains further (the starter or the current one), with whose it is;
    /// `None` for a new model.
    fn starting_point(
        &mut self,
        shared: &Shared,
    ) -> Option<(&checkpoint::CheckpointMeta, &'static str)> {
        let (path, whose) = match shared.settings.train.start {
            StartChoice::New => return None,
            StartChoice::Starter => (shared.starter.clone()?, "the starter model's"),
            StartChoice::Current => (
                shared.settings.checkpoint.clone()?,
                "the current checkpoint's",
            ),
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
    pub fn ui(&mut self, ui: &mut egui::Ui, shared: &mut Shared, data: Option<Arc<TrainData>>) {
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
                &mut shared.settings.train,
                shared.settings.checkpoint.is_some(),
                shared.starter.is_some(),
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
                self.start(data, shared);
            }
            if self.trainer.is_running() {
                let trainer = &self.trainer;
                // The buttons answer at once; the trainer's events (drawn at most once a second
                // while training) confirm.
                if self.paused {
                    if ui.button("Resume training").clicked() {
                        trainer.send(Command::Resume);
                        self.paused = false;
                    }
                } else if ui.button("Pause training").clicked() {
                    trainer.send(Command::Pause);
                    self.paused = true;
                }
                if ui
                    .button("Stop training")
                    .on_hover_text("Stops and saves")
                    .clicked()
                {
                    trainer.send(Command::Stop);
                    self.status = "stopping: validating and saving…".to_string();
                }
                if ui.button("Save now").on_hover_text("Ctrl+S").clicked() {
                    trainer.send(Command::SaveNow);
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
        recent_ui(ui, self, shared);
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

fn recent_ui(ui: &mut egui::Ui, panel: &mut TrainPanel, shared: &mut Shared) {
    if shared.settings.recent_checkpoints.is_empty() || panel.trainer.is_running() {
        return;
    }
    ui.collapsing("Recent checkpoints", |ui| {
        for path in shared.settings.recent_checkpoints.clone() {
            if ui.link(path.display().to_string()).clicked() {
                panel.open_checkpoint(path, shared);
            }
        }
    });
}

fn controls_ui(
    ui: &mut egui::Ui,
    controls: &mut TrainControls,
    have_checkpoint: bool,
    have_starter: bool,
    kept_shape: Option<(ModelConfig, &'static str)>,
) {
    egui::Grid::new("train-controls").num_columns(2).show(ui, |ui| {
        ui.label("Model");
        // A model trained further keeps its shape; the preset names only a new one.
        ui.add_enabled_ui(controls.start == StartChoice::New, |ui| ui.horizontal(|ui| {
            preset_button(ui, controls, Preset::Quick, "Quick")
                .on_hover_text("2 layers × 256 units: learns usefully in minutes on a laptop CPU");
            preset_button(ui, controls, Preset::Standard, "Standard")
                .on_hover_text("3 layers × 512 units (Performance RNN's size): best with a GPU or hours of CPU");
        }));
        ui.end_row();
        ui.label("Minutes");
        ui.add(egui::DragValue::new(&mut controls.minutes).range(0.5..=1440.0).speed(0.5))
            .on_hover_text("Training stops (and saves) after this long; you can stop earlier");
        ui.end_row();
        ui.label("Device");
        egui::ComboBox::from_id_salt("device")
            .selected_text(format!("{:?}", controls.device))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut controls.device, DeviceChoice::Auto, "Auto")
                    .on_hover_text("A CUDA GPU when there is one, else the CPU");
                ui.selectable_value(&mut controls.device, DeviceChoice::Cpu, "Cpu");
                ui.selectable_value(&mut controls.device, DeviceChoice::Cuda, "Cuda");
            });
        ui.end_row();
        ui.label("Start from");
        start_ui(ui, controls, have_checkpoint, have_starter);
        ui.end_row();
        ui.label("Controls");
        ui.add_enabled(controls.start == StartChoice::New, egui::Checkbox::new(&mut controls.controls, "learn them"))
            .on_hover_text("Key, density, loudness, style, tempo and meter: computed from the music itself, so no labelling is needed; the Generate panel can then steer the model by them.")
            .on_disabled_hover_text("A model trained further keeps the controls it learned (and learns the corpus's composers as new styles)");
        ui.end_row();
    });
    ui.collapsing("Hyperparameters", |ui| {
        hyperparameters_ui(ui, controls, kept_shape)
    });
}

/// "A new model / the starter model / the current checkpoint". Choosing the starter also sets
/// fine-tuning's recipe and length, as choosing a preset sets the preset's.
fn start_ui(
    ui: &mut egui::Ui,
    controls: &mut TrainControls,
    have_checkpoint: bool,
    have_starter: bool,
) {
    // One choice a line: three side by side do not fit a side panel in a 1024-point window.
    ui.vertical(|ui| {
        ui.radio_value(&mut controls.start, StartChoice::New, "a new model")
            .on_hover_text("Fresh weights in the shape chosen above");
        let starter = ui
            .add_enabled(
                have_starter,
                egui::RadioButton::new(controls.start == StartChoice::Starter, "the starter model"),
            )
            .on_hover_text("Fine-tune the model that ships with Cadenza (piano-midi.de: 25 composers and a Christmas collection) on this corpus: a lower learning rate, stopping early when validation stops improving; its composers become new styles")
            .on_disabled_hover_text("The starter model is not installed");
        if starter.clicked() {
            controls.start = StartChoice::Starter;
            controls.recipe = TrainSettings::FINE_TUNE;
            controls.minutes = train::FINE_TUNE_MINUTES;
        }
        ui.add_enabled(
            have_checkpoint,
            egui::RadioButton::new(controls.start == StartChoice::Current, "the current checkpoint"),
        )
        .on_hover_text("Go on training the current model (its shape is kept); the starter model is fine-tuned into a new checkpoint instead")
        .on_disabled_hover_text("Train a model or open a checkpoint first")
        .clicked()
        .then(|| controls.start = StartChoice::Current);
    });
}

/// A preset choice that also resets the hyperparameters to the preset's.
fn preset_button(
    ui: &mut egui::Ui,
    controls: &mut TrainControls,
    preset: Preset,
    label: &str,
) -> egui::Response {
    let response = ui.radio(controls.preset == preset, label);
    if response.clicked() {
        controls.preset = preset;
        controls.model = preset.model();
        controls.recipe = preset.settings();
    }
    response
}

/// The network's shape (greyed, showing the starting checkpoint's, when a run trains one
/// further: it keeps its shape) and the training recipe.
fn hyperparameters_ui(
    ui: &mut egui::Ui,
    controls: &mut TrainControls,
    kept_shape: Option<(ModelConfig, &'static str)>,
) {
    let mut shown_shape = kept_shape.map_or(controls.model, |(shape, _)| shape);
    let kept_why = kept_shape
        .map(|(_, whose)| format!("A model trained further keeps its shape: {whose}"))
        .unwrap_or_default();
    let model = if kept_shape.is_some() {
        &mut shown_shape
    } else {
        &mut controls.model
    };
    let recipe = &mut controls.recipe;
    egui::Grid::new("hyperparameters").num_columns(2).show(ui, |ui| {
        let shape_row = |ui: &mut egui::Ui, label: &str, widget: egui::DragValue, tip: &str| {
            ui.label(label);
            ui.add_enabled(kept_shape.is_none(), widget)
                .on_hover_text(tip)
                .on_disabled_hover_text(&kept_why);
            ui.end_row();
        };
        shape_row(ui, "Layers", egui::DragValue::new(&mut model.layers).range(1..=6),
            "Stacked LSTM layers: more model longer-range structure, and train slower");
        shape_row(ui, "Hidden units", egui::DragValue::new(&mut model.hidden).range(16..=2048).speed(8),
            "Units per LSTM layer: the model's memory and capacity");
        shape_row(ui, "Embedding", egui::DragValue::new(&mut model.embed).range(8..=1024).speed(8),
            "Size of the vector each event is turned into before the LSTM");
        shape_row(ui, "Dropout", egui::DragValue::new(&mut model.dropout).range(0.0..=0.8).speed(0.01),
            "Share of activations dropped between layers while training: fights overfitting on small corpora");
        let row = |ui: &mut egui::Ui, label: &str, widget: egui::DragValue, tip: &str| {
            ui.label(label);
            ui.add(widget).on_hover_text(tip);
            ui.end_row();
        };
        row(ui, "Window (events)", egui::DragValue::new(&mut recipe.seq_len).range(16..=2048).speed(4),
            "Events the model reads per training window; about 40 events make a second of music");
        row(ui, "Batch", egui::DragValue::new(&mut recipe.batch).range(1..=512),
            "Windows per optimizer step: larger is smoother and uses more memory");
        row(ui, "Learning rate", egui::DragValue::new(&mut recipe.lr).range(1e-5..=1e-1).speed(1e-4).max_decimals(5),
            "Adam's step size: too high and the loss jumps about, too low and it falls slowly");
        row(ui, "Seed", egui::DragValue::new(&mut recipe.seed),
            "Seeds the weights and the choice of windows: the same seed repeats a run");
    });
    if ui.button("Reset to the preset").clicked() {
        controls.model = controls.preset.model();
        controls.recipe = controls.preset.settings();
    }
}

/// What training `meta`'s model further does with each of the corpus's styles, in words:
/// "“bach”: continues the starter model's style “Bach”", or "“bach chorales”: added as a new
/// style".
fn style_fates(meta: &checkpoint::CheckpointMeta, whose: &str, styles: &[String]) -> Vec<String> {
    meta.controls
        .as_ref()
        .map_or_else(Vec::new, |controls| fates_within(controls, whose, styles))
}

/// [`style_fates`] for a model steered by `controls`.
fn fates_within(
    controls: &cadenza_core::controls::ControlsMeta,
    whose: &str,
    styles: &[String],
) -> Vec<String> {
    let mut fates: Vec<String> = styles
        .iter()
        .map(|style| match controls.known_style(style) {
            Some(known) => format!("“{style}”: continues {whose} style “{known}”"),
            None => format!("“{style}”: added as a new style"),
        })
        .collect();
    if styles.iter().any(|s| controls.known_style(s).is_some()) {
        fates.push("To keep a style apart instead, give it another name (Corpus panel ▸ Rename style, for a folder without subfolders; else rename its subfolder)".to_string());
    }
    fates
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

#[cfg(test)]
mod tests {
    use cadenza_core::controls::{ControlsMeta, KeyProfiles};

    #[test]
    fn a_corpus_style_the_model_knows_is_said_to_continue_it_and_a_new_one_to_be_added() {
        let starter = ControlsMeta::new(vec!["Bach".into()], KeyProfiles::default());
        let fates = super::fates_within(
            &starter,
            "the starter model's",
            &["bach".to_string(), "bach chorales".to_string()],
        );
        assert_eq!(
            fates[0],
            "“bach”: continues the starter model's style “Bach”"
        );
        assert_eq!(fates[1], "“bach chorales”: added as a new style");
        assert!(
            fates[2].contains("another name"),
            "how to keep it apart: {fates:?}"
        );
    }
}
