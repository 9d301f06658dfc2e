//! The Generate panel: sampling controls, Generate / Cancel with notes appearing in the piano roll
//! as they are sampled, the list of takes (kept across restarts), their statistics against the
//! corpus, and export to MIDI or WAV through save dialogs.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use crossbeam_channel::Receiver;

use cadenza::audio::{self, PianoSynth, WavFormat};
use cadenza::generate::{
    self, GenerateEvent, GenerateRequest, GeneratorHandle, Length, Primer, SamplingSettings, Take,
    Update,
};
use cadenza::midi::Piece;
use cadenza::stats::{CorpusProfile, MusicStats};

use super::Shared;
use super::dialog::PendingDialog;
use super::piano_roll::RollContent;

/// What the model continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum PrimerChoice {
    /// Start from silence.
    #[default]
    None,
    /// The opening seconds of the piece on screen (a corpus piece or an opened file).
    OpeningOfShown,
    /// All of the selected take: "continue this take".
    ContinueTake,
}

/// Generation controls, remembered between runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct GenerateControls {
    /// Seconds of new music.
    pub seconds: f64,
    /// Sampling temperature.
    pub temperature: f64,
    /// Top-k (0 = off).
    pub top_k: usize,
    /// Top-p (1 = off).
    pub top_p: f64,
    /// Seed of the first variation.
    pub seed: u64,
    /// Pieces per generation.
    pub variations: usize,
    /// What to continue.
    pub primer: PrimerChoice,
    /// How much of the shown piece to use as primer.
    pub primer_seconds: f64,
}

impl Default for GenerateControls {
    fn default() -> Self {
        Self {
            seconds: generate::DEFAULT_SECONDS,
            temperature: 1.0,
            top_k: 0,
            top_p: 1.0,
            seed: 1,
            variations: 1,
            primer: PrimerChoice::None,
            primer_seconds: generate::DEFAULT_PRIMER_SECONDS,
        }
    }
}

impl GenerateControls {
    fn settings(&self) -> SamplingSettings {
        SamplingSettings {
            length: Length::Seconds(self.seconds),
            temperature: self.temperature,
            top_k: (self.top_k > 0).then_some(self.top_k),
            top_p: (self.top_p < 1.0).then_some(self.top_p),
            seed: self.seed,
            variations: self.variations,
        }
    }
}

/// Which file an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// A standard MIDI file.
    Midi,
    /// 16-bit stereo audio rendered with the SoundFont.
    Wav,
}

/// A WAV export rendering on a worker thread.
struct WavJob {
    /// Share rendered, in millionths (an atomic the worker updates).
    progress: Arc<AtomicU32>,
    result: Receiver<Result<PathBuf, String>>,
}

impl WavJob {
    fn fraction(&self) -> f32 {
        self.progress.load(Ordering::Relaxed) as f32 / 1e6
    }
}

/// State of the Generate panel.
pub struct GeneratePanel {
    generator: Option<GeneratorHandle>,
    progress: (f64, f64),
    takes: Vec<Take>,
    selected: Option<usize>,
    export: Option<(ExportKind, usize, PendingDialog)>,
    wav_job: Option<WavJob>,
    checkpoint_dialog: Option<PendingDialog>,
}

impl GeneratePanel {
    /// The panel with the takes kept from earlier runs.
    pub fn new(shared: &mut Shared) -> Self {
        let takes = match load_takes() {
            Ok(takes) => takes,
            Err(err) => {
                shared.tell(format!("Could not read earlier takes: {err}"));
                Vec::new()
            }
        };
        Self {
            generator: None,
            progress: (0.0, 0.0),
            takes,
            selected: None,
            export: None,
            wav_job: None,
            checkpoint_dialog: None,
        }
    }

    /// What the panel is busy with, for the status bar.
    pub fn job(&self) -> Option<String> {
        let generating = self.generator.as_ref().map(|_| {
            format!(
                "Generating {:.0}% ({:.0} events/s)",
                self.progress.0 * 100.0,
                self.progress.1
            )
        });
        generating.or(self
            .wav_job
            .as_ref()
            .map(|job| format!("Rendering WAV {:.0}%", job.fraction() * 100.0)))
    }

    /// (For the UI tests.) Whether a generation is running.
    #[cfg(test)]
    pub fn is_generating(&self) -> bool {
        self.generator.is_some()
    }

    /// (For the UI tests.) The takes, oldest first.
    #[cfg(test)]
    pub fn takes(&self) -> &[Take] {
        &self.takes
    }

    /// (For the UI tests.) Whether a WAV export is rendering.
    #[cfg(test)]
    pub fn is_exporting(&self) -> bool {
        self.wav_job.is_some()
    }

    /// Export the selected take as MIDI (Ctrl+E).
    pub fn export_midi(&mut self, shared: &mut Shared) {
        match self.selected {
            Some(index) => self.ask_export(ExportKind::Midi, index, shared),
            None => shared.tell("Select a take to export"),
        }
    }

    fn ask_export(&mut self, kind: ExportKind, index: usize, shared: &Shared) {
        let Some(take) = self.takes.get(index) else {
            return;
        };
        let (extension, filter) = match kind {
            ExportKind::Midi => ("mid", "MIDI"),
            ExportKind::Wav => ("wav", "WAV audio"),
        };
        let name = format!("cadenza-seed-{}.{extension}", take.seed);
        let dialog = PendingDialog::open(&shared.repaint, move || {
            rfd::FileDialog::new()
                .add_filter(filter, &[extension])
                .set_file_name(name)
                .save_file()
        });
        self.export = Some((kind, index, dialog));
    }

    /// Drains the generator and finished exports.
    pub fn poll(&mut self, shared: &mut Shared) {
        self.poll_generator(shared);
        self.poll_export(shared);
        if let Some(answer) = self
            .checkpoint_dialog
            .as_ref()
            .and_then(PendingDialog::answer)
        {
            self.checkpoint_dialog = None;
            if let Some(path) = answer {
                shared
                    .settings
                    .use_checkpoint(cadenza::checkpoint::stem(&path));
            }
        }
    }

    fn poll_generator(&mut self, shared: &mut Shared) {
        let Some(generator) = &self.generator else {
            return;
        };
        let events: Vec<GenerateEvent> = generator.events.try_iter().collect();
        for event in events {
            match event {
                GenerateEvent::Started { primer, .. } => {
                    shared.shown.title = "Generating…".to_string();
                    shared.shown.content =
                        RollContent::new(primer.notes.clone(), Vec::new(), primer.end_s);
                }
                GenerateEvent::Update(Update::Notes {
                    variation: 0,
                    notes,
                }) => {
                    shared.shown.content.add_notes(&notes);
                }
                GenerateEvent::Update(Update::Progress {
                    fraction,
                    events_per_s,
                    ..
                }) => self.progress = (fraction, events_per_s),
                GenerateEvent::Update(_) => {}
                GenerateEvent::Finished(takes) => {
                    let first = self.takes.len();
                    self.takes.extend(takes);
                    self.save_takes(shared);
                    self.select(first, shared);
                    self.generator = None;
                }
                GenerateEvent::Cancelled => {
                    shared.tell("Generation cancelled");
                    self.generator = None;
                }
                GenerateEvent::Failed(message) => {
                    shared.tell(format!("Generation failed: {message}"));
                    self.generator = None;
                }
            }
            if self.generator.is_none() {
                break;
            }
        }
    }

    fn poll_export(&mut self, shared: &mut Shared) {
        if let Some((kind, index, dialog)) = &self.export
            && let Some(answer) = dialog.answer()
        {
            let (kind, index) = (*kind, *index);
            self.export = None;
            if let Some(path) = answer {
                self.export_to(kind, index, path, shared);
            }
        }
        if let Some(job) = &self.wav_job
            && let Ok(result) = job.result.try_recv()
        {
            self.wav_job = None;
            match result {
                Ok(path) => shared.tell(format!("Exported {}", path.display())),
                Err(err) => shared.tell(format!(
                    "Could not export the WAV (the take is kept): {err}"
                )),
            }
        }
    }

    /// Writes take `index` to `path`: MIDI at once, WAV on a worker thread. A failure is shown and
    /// the take stays.
    pub fn export_to(
        &mut self,
        kind: ExportKind,
        index: usize,
        path: PathBuf,
        shared: &mut Shared,
    ) {
        let Some(take) = self.takes.get(index) else {
            return;
        };
        match kind {
            ExportKind::Midi => match take.write_midi(&path) {
                Ok(()) => shared.tell(format!("Exported {}", path.display())),
                Err(err) => shared.tell(format!(
                    "Could not export {} (the take is kept): {err}",
                    path.display()
                )),
            },
            ExportKind::Wav => self.wav_job = Some(render_wav(take.piece(), path, shared)),
        }
    }

    fn select(&mut self, index: usize, shared: &mut Shared) {
        let Some(take) = self.takes.get(index) else {
            return;
        };
        self.selected = Some(index);
        shared.show(
            format!("Take {} (seed {})", index + 1, take.seed),
            &take.piece(),
            take.primer_end_s,
        );
    }

    fn save_takes(&self, shared: &mut Shared) {
        if let Err(err) = store_takes(&self.takes) {
            shared.tell(format!("Could not save the takes: {err}"));
        }
    }

    fn start(&mut self, shared: &mut Shared) {
        let Some(checkpoint) = shared.settings.checkpoint.clone() else {
            shared.tell("Train a model or open a checkpoint first");
            return;
        };
        let controls = shared.settings.generate.clone();
        let primer = match controls.primer {
            PrimerChoice::None => Primer::none(),
            PrimerChoice::OpeningOfShown => Primer::opening(
                &shared.shown.content.piece(),
                controls.primer_seconds,
                format!(
                    "opening {} s of {}",
                    controls.primer_seconds, shared.shown.title
                ),
            ),
            PrimerChoice::ContinueTake => match self.selected.and_then(|i| self.takes.get(i)) {
                Some(take) => Primer::opening(
                    &take.piece(),
                    take.duration_s(),
                    format!("take with seed {}", take.seed),
                ),
                None => {
                    shared.tell("Select a take to continue");
                    return;
                }
            },
        };
        let request = GenerateRequest {
            checkpoint,
            settings: controls.settings(),
            primer,
            device: shared.settings.train.device,
        };
        self.progress = (0.0, 0.0);
        self.generator = Some(generate::spawn(request, shared.repaint.clone()));
    }

    /// Draws the panel.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        shared: &mut Shared,
        profile: Option<Arc<CorpusProfile>>,
    ) {
        ui.horizontal(|ui| {
            let name = shared
                .settings
                .checkpoint
                .as_ref()
                .map_or("none".to_string(), |c| {
                    c.file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .to_string()
                });
            ui.label(format!("Model: {name}"));
            if ui.button("Open…").clicked() {
                self.checkpoint_dialog = Some(PendingDialog::open(&shared.repaint, || {
                    rfd::FileDialog::new()
                        .add_filter("Cadenza checkpoint", &["json", "safetensors"])
                        .pick_file()
                }));
            }
        });
        controls_ui(ui, &mut shared.settings.generate);
        ui.horizontal(|ui| {
            if let Some(generator) = &self.generator {
                if ui.button("Cancel").clicked() {
                    generator.cancel();
                }
                ui.add(egui::ProgressBar::new(self.progress.0 as f32).text(format!(
                    "{:.0}% · {:.0} events/s",
                    self.progress.0 * 100.0,
                    self.progress.1
                )));
            } else if ui
                .add_enabled(
                    shared.settings.checkpoint.is_some(),
                    egui::Button::new("Generate"),
                )
                .on_disabled_hover_text("Train a model or open a checkpoint first")
                .clicked()
            {
                self.start(shared);
            }
        });
        ui.separator();
        self.takes_ui(ui, shared);
        if let Some(take) = self.selected.and_then(|i| self.takes.get(i)) {
            stats_ui(ui, take, profile.as_deref());
        }
    }

    fn takes_ui(&mut self, ui: &mut egui::Ui, shared: &mut Shared) {
        ui.heading("Takes");
        if self.takes.is_empty() {
            ui.label("Generated pieces appear here, kept until you delete them.");
            return;
        }
        let mut clicked = None;
        let mut delete = None;
        for (index, take) in self.takes.iter().enumerate() {
            ui.horizontal(|ui| {
                let label = format!(
                    "{}. seed {} · {:.0} s · T {} · {}",
                    index + 1,
                    take.seed,
                    take.duration_s(),
                    take.settings.temperature,
                    take.primer
                );
                if ui
                    .selectable_label(self.selected == Some(index), label)
                    .clicked()
                {
                    clicked = Some(index);
                }
                if ui
                    .small_button("Delete")
                    .on_hover_text("Delete this take")
                    .clicked()
                {
                    delete = Some(index);
                }
            });
        }
        if let Some(index) = clicked {
            self.select(index, shared);
        }
        if let Some(index) = delete {
            self.takes.remove(index);
            self.selected = None;
            self.save_takes(shared);
        }
        if let Some(index) = self.selected {
            ui.horizontal(|ui| {
                if ui.button("Export MIDI…").on_hover_text("Ctrl+E").clicked() {
                    self.ask_export(ExportKind::Midi, index, shared);
                }
                if let Some(job) = &self.wav_job {
                    ui.add(
                        egui::ProgressBar::new(job.fraction())
                            .show_percentage()
                            .text(format!("Rendering WAV {:.0}%", job.fraction() * 100.0)),
                    );
                } else if ui.button("Export WAV…").clicked() {
                    self.ask_export(ExportKind::Wav, index, shared);
                }
            });
        }
    }
}

fn controls_ui(ui: &mut egui::Ui, controls: &mut GenerateControls) {
    egui::Grid::new("generate-controls")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label("Primer");
            egui::ComboBox::from_id_salt("primer")
                .selected_text(match controls.primer {
                    PrimerChoice::None => "None",
                    PrimerChoice::OpeningOfShown => "Opening of the piece shown",
                    PrimerChoice::ContinueTake => "Continue the selected take",
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut controls.primer, PrimerChoice::None, "None");
                    ui.selectable_value(
                        &mut controls.primer,
                        PrimerChoice::OpeningOfShown,
                        "Opening of the piece shown",
                    );
                    ui.selectable_value(
                        &mut controls.primer,
                        PrimerChoice::ContinueTake,
                        "Continue the selected take",
                    );
                });
            ui.end_row();
            if controls.primer == PrimerChoice::OpeningOfShown {
                ui.label("Primer seconds");
                ui.add(
                    egui::DragValue::new(&mut controls.primer_seconds)
                        .range(0.5..=60.0)
                        .speed(0.1),
                );
                ui.end_row();
            }
            ui.label("Length (s)");
            ui.add(
                egui::DragValue::new(&mut controls.seconds)
                    .range(1.0..=600.0)
                    .speed(0.5),
            )
            .on_hover_text("Seconds of new music after the primer");
            ui.end_row();
            ui.label("Temperature");
            ui.add(egui::Slider::new(&mut controls.temperature, 0.1..=2.0))
                .on_hover_text("Below 1 plays safe and repeats more; above 1 takes more risks");
            ui.end_row();
            ui.label("Top-k");
            ui.add(egui::DragValue::new(&mut controls.top_k).range(0..=388))
                .on_hover_text("Sample only among the k most likely events (0 = all)");
            ui.end_row();
            ui.label("Top-p");
            ui.add(egui::Slider::new(&mut controls.top_p, 0.05..=1.0))
                .on_hover_text(
                    "Then only among the most likely events that together reach p (1 = all)",
                );
            ui.end_row();
            ui.label("Seed");
            ui.horizontal(|ui| {
                ui.add(egui::DragValue::new(&mut controls.seed));
                if ui
                    .button("Random")
                    .on_hover_text("A new random seed")
                    .clicked()
                {
                    controls.seed = u64::from(rand::random::<u32>());
                }
            });
            ui.end_row();
            ui.label("Variations");
            ui.add(egui::DragValue::new(&mut controls.variations).range(1..=8))
                .on_hover_text("Pieces sampled together, with seeds seed, seed+1, …");
            ui.end_row();
        });
}

fn stats_ui(ui: &mut egui::Ui, take: &Take, profile: Option<&CorpusProfile>) {
    ui.collapsing("Statistics", |ui| {
        let stats = MusicStats::of_sounding_notes(&take.notes);
        egui::Grid::new("take-stats").num_columns(2).show(ui, |ui| {
            ui.label("Notes per second");
            ui.label(format!("{:.2}", stats.notes_per_s));
            ui.end_row();
            ui.label("Mean polyphony");
            ui.label(format!("{:.2}", stats.mean_polyphony));
            ui.end_row();
            ui.label("Velocity");
            ui.label(format!(
                "{:.0} ± {:.0}",
                stats.velocity_mean, stats.velocity_std
            ));
            ui.end_row();
            if let Some(comparison) = profile.and_then(|p| p.compare(&stats)) {
                ui.label("Pitch classes vs corpus");
                ui.label(format!(
                    "{:.3} bits apart (0 = identical)",
                    comparison.pitch_class_js_divergence
                ))
                .on_hover_text("Jensen–Shannon divergence of the pitch-class histograms");
                ui.end_row();
                ui.label("Density vs corpus");
                ui.label(format!(
                    "denser than {:.0}% of its pieces (median {:.1}/s)",
                    comparison.notes_per_s_percentile * 100.0,
                    comparison.corpus_notes_per_s_median
                ));
                ui.end_row();
            }
        });
    });
}

/// Renders a take to WAV on a worker thread, reporting how far it got.
fn render_wav(piece: Piece, path: PathBuf, shared: &Shared) -> WavJob {
    let (sender, result) = crossbeam_channel::bounded(1);
    let progress = Arc::new(AtomicU32::new(0));
    let soundfont = shared.settings.soundfont.clone();
    let repaint = shared.repaint.clone();
    let worker_progress = Arc::clone(&progress);
    std::thread::spawn(move || {
        let report = |fraction: f64| {
            let millionths = (fraction.clamp(0.0, 1.0) * 1e6) as u32;
            // Repaint only when the shown percentage changes: render reports every block.
            if worker_progress.swap(millionths, Ordering::Relaxed) / 10_000 != millionths / 10_000 {
                repaint();
            }
        };
        let result = audio::find_soundfont(soundfont.as_deref())
            .and_then(|font| PianoSynth::new(&font, audio::DEFAULT_GAIN))
            .and_then(|synth| {
                let samples = audio::render(&piece, synth, audio::DEFAULT_TAIL_S, &report);
                audio::write_wav(&samples, &path, WavFormat::S16)
            })
            .map(|()| path)
            .map_err(|err| err.to_string());
        let _ = sender.send(result);
        repaint();
    });
    WavJob { progress, result }
}

fn takes_file() -> Option<PathBuf> {
    cadenza::paths::data_dir().map(|dir| dir.join("takes.json"))
}

fn load_takes() -> Result<Vec<Take>, String> {
    let Some(path) = takes_file().filter(|p| p.exists()) else {
        return Ok(Vec::new());
    };
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn store_takes(takes: &[Take]) -> Result<(), String> {
    let path = takes_file().ok_or("no data folder")?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    let json = serde_json::to_vec(takes).map_err(|e| e.to_string())?;
    let temporary = path.with_extension("json.partial");
    std::fs::write(&temporary, json).map_err(|e| e.to_string())?;
    std::fs::rename(&temporary, &path).map_err(|e| e.to_string())
}
