//! The Generate panel: sampling controls, Generate / Cancel with notes appearing in the piano roll
//! as they are sampled, the list of takes (kept across restarts), their statistics against the
//! corpus, and export to MIDI or WAV through save dialogs.

use cadenza_core::music::quantize::Quantize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cadenza_core::audio;
use cadenza_core::checkpoint;
use cadenza_core::controls::ControlPlan;
use cadenza_core::generate::{
    self, GenerateEvent, GenerateRequest, Primer, Take, Update, VersionModel,
};
use cadenza_core::stats::CorpusProfile;
use cadenza_core::worker::Event;

use super::Shared;
use super::generate_controls::{GenerateControls, PrimerChoice, controls_ui, stats_ui};
use super::job::Job;
use super::piano_roll::RollContent;
use super::versions::Regenerating;
use cadenza_core::model::label::ModelCard;
use cadenza_core::versions::Alternatives;
use cadenza_core::workbench::{Workbench, WorkbenchRefusal};

/// The most height the takes list takes before it scrolls, in points.
const TAKES_LIST_HEIGHT: f32 = 320.0;
/// Indentation of a version under the take it came from, in points.
const INDENT_PER_VERSION: f32 = 16.0;
/// Versions deeper than this are indented no further, so a long chain stays readable.
const MAX_INDENT_DEPTH: usize = 8;

/// Which file an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// A standard MIDI file.
    Midi,
    /// 16-bit stereo audio rendered with the SoundFont.
    Wav,
}

/// State of the Generate panel.
pub struct GeneratePanel {
    pub(super) generator: Job<Vec<Take>, GenerateEvent>,
    pub(super) progress: (f64, f64),
    /// The takes, the selected one, their versions and saving (the core's).
    pub(super) bench: Workbench,
    /// The save dialog of an export: what to write, and the chosen path.
    pub(super) export_dialog: Job<(ExportKind, usize, Option<PathBuf>)>,
    /// A WAV export rendering, with the share done.
    pub(super) wav_job: Job<PathBuf, f64>,
    pub(super) checkpoint_dialog: Job<Option<PathBuf>>,
    /// The current checkpoint, read when it changes.
    pub(super) model: Option<ModelCard>,
    /// A passage being regenerated.
    pub(super) regenerating: Regenerating,
    /// Candidates for a passage, to audition and keep.
    pub(super) alternatives: Option<Alternatives>,
    /// Short model names for the takes list, read once per checkpoint.
    pub(super) model_names: ModelNames,
    /// The take the list last scrolled to; a newly shown take is scrolled into view once.
    scrolled_to: Option<u64>,
}

/// Short model names ("Starter", "bach · fine-tuned") by checkpoint, each read from disk once:
/// the takes list is drawn every frame.
#[derive(Default)]
pub(super) struct ModelNames(std::collections::HashMap<String, String>);

impl ModelNames {
    fn name(&mut self, checkpoint: &str) -> &str {
        self.0.entry(checkpoint.to_string()).or_insert_with(|| {
            cadenza_core::model::label::model_name(std::path::Path::new(checkpoint))
        })
    }
}

impl GeneratePanel {
    /// The panel with the takes kept from earlier runs.
    pub fn new(shared: &mut Shared) -> Self {
        let (bench, problem) = Workbench::open(shared.data.as_ref().map(|d| d.takes_file()));
        if let Some(problem) = problem {
            shared.tell(problem);
        }
        if !bench.keeps_takes() {
            shared.tell("No data folder: the takes are kept until Cadenza closes");
        }
        Self {
            generator: Job::default(),
            progress: (0.0, 0.0),
            bench,
            export_dialog: Job::default(),
            wav_job: Job::default(),
            checkpoint_dialog: Job::default(),
            model: None,
            regenerating: Regenerating::default(),
            alternatives: None,
            model_names: ModelNames::default(),
            scrolled_to: None,
        }
    }

    /// What the panel is busy with, for the status bar.
    pub fn job(&self) -> Option<String> {
        let generating = self.generator.is_running().then(|| {
            format!(
                "Generating {:.0}% ({:.0} events/s)",
                self.progress.0 * 100.0,
                self.progress.1
            )
        });
        let regenerating = self.regenerating.is_running().then(|| {
            format!(
                "Regenerating a passage {:.0}%",
                self.regenerating.fraction * 100.0
            )
        });
        generating.or(regenerating).or(self
            .wav_job
            .is_running()
            .then(|| format!("Rendering WAV {:.0}%", self.wav_fraction() * 100.0)))
    }

    fn wav_fraction(&self) -> f64 {
        self.wav_job.progress().copied().unwrap_or(0.0)
    }

    /// (For the UI tests.) Whether a generation is running.
    #[cfg(test)]
    pub fn is_generating(&self) -> bool {
        self.generator.is_running()
    }

    /// (For the UI tests.) The takes, oldest first.
    #[cfg(test)]
    pub fn takes(&self) -> &[Take] {
        self.bench.takes()
    }

    /// (For the UI tests.) Whether regenerated alternatives wait to be auditioned or kept.
    #[cfg(test)]
    pub fn has_alternatives(&self) -> bool {
        self.alternatives.is_some()
    }

    /// (For the UI tests.) The selected take.
    #[cfg(test)]
    pub fn selected_take(&self) -> Option<&Take> {
        self.bench.selected()
    }

    /// (For the UI tests.) Whether a WAV export is rendering.
    #[cfg(test)]
    pub fn is_exporting(&self) -> bool {
        self.wav_job.is_running()
    }

    /// Export the take the roll shows as MIDI (Ctrl+E).
    pub fn export_midi(&mut self, shared: &mut Shared) {
        match self.shown_index(shared) {
            Some(index) => self.ask_export(ExportKind::Midi, index, shared),
            None => shared.tell(format!(
                "The roll shows {}, not a take: select a take to export it",
                shared.shown.title
            )),
        }
    }

    /// The index of the take the roll shows, if it shows one.
    fn shown_index(&self, shared: &Shared) -> Option<usize> {
        let number = shared.shown.take?;
        self.bench.takes().iter().position(|t| t.id == number)
    }

    fn ask_export(&mut self, kind: ExportKind, index: usize, shared: &Shared) {
        let Some(take) = self.bench.takes().get(index) else {
            return;
        };
        let (extension, filter) = match kind {
            ExportKind::Midi => ("mid", "MIDI"),
            ExportKind::Wav => ("wav", "WAV audio"),
        };
        let name = format!("{}.{extension}", take.file_stem(take.id as usize));
        // The folder of the last export, else the user's music folder.
        let folder = shared.settings.export_dir.clone().or_else(dirs_music);
        self.export_dialog.dialog(&shared.repaint, move || {
            let mut dialog = rfd::FileDialog::new()
                .add_filter(filter, &[extension])
                .set_file_name(name);
            if let Some(folder) = folder {
                dialog = dialog.set_directory(folder);
            }
            (kind, index, dialog.save_file())
        });
    }

    /// Drains the generator and finished exports.
    pub fn poll(&mut self, shared: &mut Shared) {
        for problem in self.bench.save_problems() {
            shared.tell(problem);
        }
        self.poll_generator(shared);
        self.poll_regenerator(shared);
        self.poll_export(shared);
        if let Some(Ok(Some(path))) = self.checkpoint_dialog.poll() {
            shared.settings.use_checkpoint(checkpoint::stem(&path));
        }
    }

    fn poll_generator(&mut self, shared: &mut Shared) {
        for event in self.generator.events() {
            match event {
                Event::Update(GenerateEvent::Started { primer, grid, .. }) => {
                    shared.show_content(
                        "Generating…".to_string(),
                        RollContent::new(primer.notes.clone(), Vec::new(), primer.end_s)
                            .with_grid(grid),
                    );
                }
                Event::Update(GenerateEvent::Update(Update::Notes {
                    variation: 0,
                    notes,
                })) => {
                    shared.shown.content.add_notes(&notes);
                }
                Event::Update(GenerateEvent::Update(Update::Progress {
                    fraction,
                    events_per_s,
                    ..
                })) => self.progress = (fraction, events_per_s),
                Event::Update(_) => {}
                Event::Finished(takes) => {
                    if let Some(first) = self.bench.add(takes) {
                        self.show_take(first, shared);
                    }
                }
                Event::Cancelled => shared.tell("Generation cancelled"),
                Event::Failed { message } => shared.tell(format!("Generation failed: {message}")),
            }
        }
    }

    fn poll_export(&mut self, shared: &mut Shared) {
        if let Some(Ok((kind, index, Some(path)))) = self.export_dialog.poll() {
            shared.settings.export_dir = path.parent().map(std::path::Path::to_path_buf);
            self.export_to(kind, index, path, shared);
        }
        match self.wav_job.poll() {
            Some(Ok(path)) => shared.tell(format!("Exported {}", path.display())),
            Some(Err(err)) => shared.tell(format!(
                "Could not export the WAV (the take is kept): {err}"
            )),
            None => {}
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
        let Some(take) = self.bench.takes().get(index) else {
            return;
        };
        if let Err(conflict) = shared.output_guard().check(&path) {
            shared.tell(format!("Could not export (the take is kept): {conflict}"));
            return;
        }
        match kind {
            ExportKind::Midi => {
                match take.write_midi(&path, Quantize::new(shared.settings.export_quantize)) {
                    Ok(()) => shared.tell(format!("Exported {}", path.display())),
                    Err(err) => shared.tell(format!(
                        "Could not export {} (the take is kept): {err}",
                        path.display()
                    )),
                }
            }
            ExportKind::Wav => {
                let (piece, soundfont) = (take.piece(), shared.settings.soundfont.clone());
                self.wav_job
                    .start("cadenza-wav", &shared.repaint, move |ctx| {
                        let shown = std::cell::Cell::new(-1);
                        let report = |fraction: f64| {
                            // Only when the shown percentage changes: render reports every block.
                            let percent = (fraction * 100.0) as i32;
                            if shown.replace(percent) != percent {
                                ctx.update(fraction);
                            }
                        };
                        audio::export_wav(&piece, soundfont.as_deref(), &path, &report)?;
                        Ok(path)
                    });
            }
        }
    }

    /// Drops everything after the playhead of the selected take and generates onward.
    pub fn continue_from_playhead(&mut self, shared: &mut Shared) {
        let Some(take) = self.bench.selected() else {
            shared.tell("Select a take to continue");
            return;
        };
        let from_s = shared.sound.position_s().clamp(0.0, take.duration_s());
        let primer = Primer {
            // A take goes on in the time it was written in, however freely it plays on it.
            grid: take.grid.clone(),
            ..Primer::opening(
                &take.piece(),
                from_s,
                format!(
                    "take with seed {} up to {}",
                    take.seed,
                    super::piano_roll::format_time(from_s)
                ),
            )
        };
        let model = take.model_for_version(shared.settings.checkpoint.as_deref());
        let continues = Some(take.id);
        self.start_version(primer, continues, model, shared);
    }

    /// Ctrl+Z: back to the version the selected take was made from.
    pub fn undo(&mut self, shared: &mut Shared) {
        match self.bench.undo() {
            Ok(index) => self.show_take(index, shared),
            Err(WorkbenchRefusal::NothingSelected) => {}
            Err(refusal) => shared.tell(sentence(refusal)),
        }
    }

    /// Ctrl+Shift+Z: forward to the version undone (or the newest made from this one).
    pub fn redo(&mut self, shared: &mut Shared) {
        match self.bench.redo() {
            Ok(index) => self.show_take(index, shared),
            Err(WorkbenchRefusal::NothingSelected) => {}
            Err(refusal) => shared.tell(sentence(refusal)),
        }
    }

    /// What to ask the selected model for: what it learned of the controls (the rest are greyed
    /// out).
    pub(super) fn plan(&self, controls: &GenerateControls) -> ControlPlan {
        plan_within(controls, self.model.as_ref())
    }

    /// What to ask `checkpoint` for: the selected model's plan, or, for another model (a take's
    /// own), the controls within what that one learned.
    pub(super) fn plan_for(&self, controls: &GenerateControls, checkpoint: &Path) -> ControlPlan {
        match &self.model {
            Some(model) if model.is_current(checkpoint) => self.plan(controls),
            _ => plan_within(controls, Some(&ModelCard::read(checkpoint))),
        }
    }

    /// Selects the take at `index` and shows it in the roll.
    pub(super) fn show_take(&mut self, index: usize, shared: &mut Shared) {
        let Some(take) = self.bench.select(index) else {
            return;
        };
        shared.show(
            format!("Take {} (seed {})", take.id, take.seed),
            &take.piece(),
            take.primer_end_s,
        );
        // A take was written on its grid: its bars show (and selections snap to its beats)
        // however loosely the music keeps to them.
        shared.shown.content.grid = take.grid.clone();
        shared.shown.content.sections = take.sections();
        shared.shown.take = Some(take.id);
    }

    /// Why Generate cannot start now, in words for the button's hover; `None` when it can.
    fn refusal(&self, shared: &Shared) -> Option<String> {
        if shared.settings.checkpoint.is_none() {
            return Some("Train a model or open a checkpoint first".to_string());
        }
        // A model from before the grid is asked for no form: what is typed there is not used.
        let reads_meter = self
            .model
            .as_ref()
            .and_then(|m| m.controls.as_ref())
            .is_some_and(|learned| learned.reads_meter());
        reads_meter
            .then(|| shared.settings.generate.steer.form_problem())
            .flatten()
    }

    fn start(&mut self, shared: &mut Shared) {
        if let Some(refusal) = self.refusal(shared) {
            shared.tell(refusal);
            return;
        }
        let controls = shared.settings.generate.clone();
        let mut continues = None;
        let mut model = shared
            .settings
            .checkpoint
            .clone()
            .map(|checkpoint| VersionModel {
                checkpoint,
                notice: None,
            });
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
            PrimerChoice::ContinueTake => match self.bench.selected() {
                Some(take) => {
                    continues = Some(take.id);
                    model = take.model_for_version(shared.settings.checkpoint.as_deref());
                    Primer {
                        grid: take.grid.clone(),
                        ..Primer::opening(
                            &take.piece(),
                            take.duration_s(),
                            format!("take with seed {}", take.seed),
                        )
                    }
                }
                None => {
                    shared.tell("Select a take to continue");
                    return;
                }
            },
        };
        self.start_version(primer, continues, model, shared);
    }

    /// Generates after `primer` with `model` (a continued take's own); the takes are versions
    /// of `continues` if given.
    fn start_version(
        &mut self,
        primer: Primer,
        continues: Option<u64>,
        model: Option<VersionModel>,
        shared: &mut Shared,
    ) {
        let Some(VersionModel { checkpoint, notice }) = model else {
            shared.tell("Train a model or open a checkpoint first");
            return;
        };
        if let Some(notice) = notice {
            shared.tell(notice);
        }
        shared.settings.generate.roll_seed();
        let controls = &shared.settings.generate;
        let plan = self.plan_for(controls, &checkpoint);
        let request = GenerateRequest {
            settings: controls.settings(&plan),
            controls: plan,
            checkpoint,
            primer,
            device: shared.settings.train.device,
            continues,
        };
        self.progress = (0.0, 0.0);
        // Notes stream in every few milliseconds: ten frames a second shows them growing.
        let repaint = shared.repaint_every(std::time::Duration::from_millis(100));
        self.generator.hold(generate::spawn(request, repaint));
    }

    /// Draws the panel.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        shared: &mut Shared,
        profile: Option<(String, Arc<CorpusProfile>)>,
    ) {
        ui.horizontal(|ui| {
            let current = shared.settings.checkpoint.as_deref();
            let stale = match (&self.model, current) {
                (Some(model), Some(current)) => !model.is_current(current),
                (None, None) => false,
                _ => true,
            };
            if stale {
                // Read once per change of model (one stat a frame tells), not every frame.
                self.model = current.map(ModelCard::read);
            }
            self.model_picker_ui(ui, shared);
        });
        let learned = self.model.as_ref().and_then(|m| m.controls.as_ref());
        controls_ui(ui, &mut shared.settings.generate, learned);
        ui.horizontal(|ui| {
            if self.generator.is_running() {
                if ui.button("Cancel").clicked() {
                    self.generator.ask_to_stop();
                }
                ui.add(egui::ProgressBar::new(self.progress.0 as f32).text(format!(
                    "{:.0}% · {:.0} events/s",
                    self.progress.0 * 100.0,
                    self.progress.1
                )));
            } else {
                let refusal = self.refusal(shared);
                let button = ui
                    .add_enabled(refusal.is_none(), egui::Button::new("Generate"))
                    .on_disabled_hover_text(refusal.clone().unwrap_or_default());
                if let Some(refusal) = &refusal {
                    ui.weak(refusal);
                }
                if button.clicked() {
                    self.start(shared);
                }
            }
        });
        ui.separator();
        self.takes_ui(ui, shared);
        if let Some(take) = self.bench.selected() {
            stats_ui(
                ui,
                take,
                profile.as_ref().map(|(name, p)| (name.as_str(), &**p)),
            );
        }
    }

    /// "Model: …" with a menu of the starter and the recent checkpoints, and Open….
    fn model_picker_ui(&mut self, ui: &mut egui::Ui, shared: &mut Shared) {
        let label = self
            .model
            .as_ref()
            .map_or("none".to_string(), |model| model.label.clone());
        let mut chosen = None;
        ui.label("Model:");
        let current = shared.settings.checkpoint.clone();
        let choices: Vec<PathBuf> = shared
            .starter
            .iter()
            .chain(&shared.settings.recent_checkpoints)
            .fold(Vec::new(), |mut unique, path| {
                if !unique.contains(path) {
                    unique.push(path.clone());
                }
                unique
            });
        egui::ComboBox::from_id_salt("model")
            .selected_text(label)
            .truncate()
            .show_ui(ui, |ui| {
                for path in &choices {
                    let name = self
                        .model_names
                        .name(&path.display().to_string())
                        .to_string();
                    if ui
                        .selectable_label(current.as_ref() == Some(path), name)
                        .on_hover_text(path.display().to_string())
                        .clicked()
                    {
                        chosen = Some(path.clone());
                    }
                }
            })
            .response
            .on_hover_text(current.map_or(String::new(), |p| p.display().to_string()));
        if ui.button("Open…").clicked() {
            // Opens where checkpoints are: the current one's folder, else the data folder's.
            let folder = shared
                .settings
                .checkpoint
                .as_deref()
                .and_then(std::path::Path::parent)
                .map(std::path::Path::to_path_buf)
                .or_else(|| shared.data.as_ref().map(|d| d.checkpoints()));
            self.checkpoint_dialog.dialog(&shared.repaint, move || {
                let mut dialog = rfd::FileDialog::new()
                    .add_filter("Cadenza checkpoint", &["json", "safetensors"]);
                if let Some(folder) = folder.filter(|f| f.is_dir()) {
                    dialog = dialog.set_directory(folder);
                }
                dialog.pick_file()
            });
        }
        if let Some(path) = chosen {
            shared.settings.use_checkpoint(path);
        }
    }

    fn takes_ui(&mut self, ui: &mut egui::Ui, shared: &mut Shared) {
        ui.heading("Takes");
        if self.bench.takes().is_empty() {
            ui.label("Generated pieces appear here, kept until you delete them.");
            return;
        }
        self.actions_ui(ui, shared);
        let mut clicked = None;
        let mut delete = None;
        let order = self.bench.tree_order();
        // Highlighted only while the roll shows it: a corpus piece clicked since is not a take.
        let selected = self.shown_index(shared);
        let row_height = ui.spacing().interact_size.y;
        // Only the rows in view are laid out: a list of thousands of versions stays quick.
        let mut list = egui::ScrollArea::vertical()
            .id_salt("takes")
            .max_height(TAKES_LIST_HEIGHT)
            .auto_shrink([false, true]);
        let shown = shared.shown.take;
        if shown.is_some() && shown != self.scrolled_to {
            // A take shown anew (generated, kept, undone to) is scrolled into view, once.
            self.scrolled_to = shown;
            if let Some(row) = order.iter().position(|&(i, _)| Some(i) == selected) {
                let pitch = row_height + ui.spacing().item_spacing.y;
                list = list.vertical_scroll_offset((row as f32 - 1.0).max(0.0) * pitch);
            }
        }
        list.show_rows(ui, row_height, order.len(), |ui, rows| {
            for &(index, depth) in &order[rows] {
                let take = &self.bench.takes()[index];
                ui.horizontal(|ui| {
                    ui.add_space(INDENT_PER_VERSION * depth.min(MAX_INDENT_DEPTH) as f32);
                    let model = self.model_names.name(&take.checkpoint);
                    let label = take.title(take.id as usize, model);
                    // Elided to the panel's width, the whole line and the details on hover.
                    let row =
                        egui::Button::selectable(selected == Some(index), label.clone()).truncate();
                    if ui
                        .add(row)
                        .on_hover_text(format!("{label}\n{}", take.details()))
                        .clicked()
                    {
                        clicked = Some(index);
                    }
                    if ui
                        .small_button("Delete")
                        .on_hover_text(
                            "Delete this take (its versions stay; Ctrl+Z brings it back)",
                        )
                        .clicked()
                    {
                        delete = Some(index);
                    }
                });
            }
        });
        if let Some(index) = clicked {
            self.show_take(index, shared);
        }
        if let Some(index) = delete
            && let Some(number) = self.bench.delete(index)
        {
            shared.tell(format!("Deleted take {number}: Ctrl+Z brings it back"));
        }
    }

    /// The take the actions apply to: the one the roll shows, or, while its alternatives are on
    /// trial in the roll, the take they are for.
    fn acting_index(&self, shared: &Shared) -> Option<usize> {
        let on_trial = self.alternatives.as_ref().map(|a| a.origin.parent);
        self.shown_index(shared).or_else(|| {
            let parent = on_trial?;
            self.bench.takes().iter().position(|t| t.id == parent)
        })
    }

    /// The selected take's actions, above the list so they stay in view however long it is.
    fn actions_ui(&mut self, ui: &mut egui::Ui, shared: &mut Shared) {
        let Some(index) = self.acting_index(shared) else {
            return;
        };
        let number = self.bench.takes()[index].id;
        ui.label(egui::RichText::new(format!("Take {number}")).strong());
        self.export_ui(ui, index, shared);
        self.versions_ui(ui, shared);
        ui.separator();
    }

    fn export_ui(&mut self, ui: &mut egui::Ui, index: usize, shared: &mut Shared) {
        let has_grid = self
            .bench
            .takes()
            .get(index)
            .is_some_and(|t| t.grid.is_some());
        ui.horizontal(|ui| {
            if ui.button("Export MIDI…").on_hover_text("Ctrl+E").clicked() {
                self.ask_export(ExportKind::Midi, index, shared);
            }
            let mut percent = shared.settings.export_quantize * 100.0;
            ui.add_enabled(has_grid, egui::Label::new("quantized"));
            ui.add_enabled(
                has_grid,
                egui::DragValue::new(&mut percent)
                    .range(0.0..=100.0)
                    .speed(1.0)
                    .suffix(" %"),
            )
            .on_hover_text("How far the MIDI export moves each note toward the nearest sixteenth or triplet of the bars: 0 % keeps the performance as played (for a DAW), 100 % lines every note up (for notation)")
            .on_disabled_hover_text("This take has no bars to quantize to: ask for a tempo or meter when generating");
            shared.settings.export_quantize = percent / 100.0;
            if self.wav_job.is_running() {
                let fraction = self.wav_fraction();
                ui.add(
                    egui::ProgressBar::new(fraction as f32)
                        .show_percentage()
                        .text(format!("Rendering WAV {:.0}%", fraction * 100.0)),
                );
            } else if ui.button("Export WAV…").clicked() {
                self.ask_export(ExportKind::Wav, index, shared);
            }
        });
    }
}

/// The controls asked of a model: what it learned of them.
fn plan_within(controls: &GenerateControls, model: Option<&ModelCard>) -> ControlPlan {
    match model.and_then(|m| m.controls.as_ref()) {
        Some(learned) => controls.steer.plan().within(learned),
        None => ControlPlan::default(),
    }
}

/// A refusal from the workbench as a sentence for the message line.
pub(super) fn sentence(refusal: WorkbenchRefusal) -> String {
    let text = refusal.to_string();
    let mut chars = text.chars();
    chars.next().map_or(text.clone(), |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// The user's music folder (`~/Music`), where a first export's dialog opens.
fn dirs_music() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join("Music"))
        .filter(|music| music.is_dir())
}
