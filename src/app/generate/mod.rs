//! The Generate room: the model picker and settings, Generate / Cancel with notes appearing in
//! the piano roll as they are sampled, the takes (kept across restarts) with the actions on the
//! one shown (export, redo a passage, continue), and its statistics against the corpus.
//!
//! Where things are: [`takes_list`] the list, [`passage_tool`] redoing a passage, [`exports`]
//! MIDI and WAV, [`controls`] the settings grid, [`steering_controls`] what the model is asked
//! for, [`curve_lane`] the curves under the roll, [`model_picker`] the model, [`take_stats`] the
//! statistics.

mod controls;
mod curve_lane;
mod exports;
mod model_names;
mod model_picker;
mod passage_tool;
#[cfg(test)]
mod probe;
mod steering_controls;
mod take_stats;
mod takes_list;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cadenza_core::controls::ControlPlan;
use cadenza_core::generate::{
    self, GenerateEvent, GenerateRequest, Primer, SamplingSettings, Take, Update, VersionModel,
};
use cadenza_core::model::DeviceChoice;
use cadenza_core::model::label::ModelCard;
use cadenza_core::regenerate::RegenerateRequest;
use cadenza_core::stats::CorpusProfile;
use cadenza_core::versions::Origin;
use cadenza_core::worker::Event;

use super::format::format_time;
use super::intent::{Intent, Intents};
use super::job::Job;
use super::piano_roll::{PianoRoll, RollContent};
use super::shared::Shared;
pub use controls::{GenerateControls, PrimerChoice};
pub use curve_lane::CURVE_LANE_HEIGHT;
pub use exports::ExportKind;
use exports::Exports;
use model_names::ModelNames;
use model_picker::ModelPicker;
use passage_tool::{PassageAsk, PassageTool};
#[cfg(test)]
pub use steering_controls::LaneMode;
use takes_list::TakesList;

/// A frame ten times a second while notes stream in every few milliseconds shows them growing.
const STREAMING_FRAME_INTERVAL: Duration = Duration::from_millis(100);

/// What the Generate room remembers between runs.
#[derive(Debug, Clone, Default)]
pub struct GenerateRoomSettings {
    /// The settings grid and steering.
    pub controls: GenerateControls,
    /// The folder of the last export.
    pub export_dir: Option<PathBuf>,
    /// How far a MIDI export moves notes toward the take's bar grid, 0–1.
    pub export_quantize: f64,
}

/// State of the Generate room.
pub struct GeneratePanel {
    /// The settings grid and steering (remembered between runs).
    pub(in crate::app) controls: GenerateControls,
    generator: Job<Vec<Take>, GenerateEvent>,
    /// Share done and events per second of the generation running.
    progress: (f64, f64),
    takes: TakesList,
    exports: Exports,
    passage: PassageTool,
    picker: ModelPicker,
    names: ModelNames,
}

impl GeneratePanel {
    /// The room with its remembered settings and the takes kept from earlier runs.
    pub fn new(settings: GenerateRoomSettings, shared: &Shared, intents: &mut Intents) -> Self {
        let takes_file = shared.data.as_ref().map(|d| d.takes_file());
        Self {
            controls: settings.controls,
            generator: Job::default(),
            progress: (0.0, 0.0),
            takes: TakesList::open(takes_file, intents),
            exports: Exports::new(settings.export_dir, settings.export_quantize),
            passage: PassageTool::default(),
            picker: ModelPicker::default(),
            names: ModelNames::default(),
        }
    }

    /// What the room remembers between runs.
    pub fn remembered(&self) -> GenerateRoomSettings {
        GenerateRoomSettings {
            controls: self.controls.clone(),
            export_dir: self.exports.dir.clone(),
            export_quantize: self.exports.quantize,
        }
    }

    /// What the room is busy with, for the status bar.
    pub fn job(&self) -> Option<String> {
        if self.generator.is_running() {
            let (fraction, events_per_s) = self.progress;
            return Some(format!(
                "Generating {:.0}% ({events_per_s:.0} events/s)",
                fraction * 100.0
            ));
        }
        if self.passage.is_running() {
            let done = self.passage.fraction() * 100.0;
            return Some(format!("Regenerating a passage {done:.0}%"));
        }
        self.exports.is_rendering().then(|| {
            let done = self.exports.wav_fraction() * 100.0;
            format!("Rendering WAV {done:.0}%")
        })
    }

    /// Whether the curve lane shows under the roll (a density or loudness curve is asked for).
    pub fn has_curve(&self) -> bool {
        self.controls.steer.has_curve()
    }

    /// Draws the curve lane under the roll, on its time axis.
    pub fn curve_lane(&mut self, ui: &mut egui::Ui, roll: &PianoRoll) {
        curve_lane::curve_lane(ui, &mut self.controls.steer, roll);
    }

    /// Ctrl+E: export the take the roll shows as MIDI, or say that it shows none.
    pub fn export_shown(&mut self, shared: &Shared, intents: &mut Intents) {
        match self.takes.shown_index(shared) {
            Some(index) => {
                let take = &self.takes.workbench().takes()[index];
                self.exports.ask(ExportKind::Midi, take, shared);
            }
            None => intents.tell(format!(
                "The roll shows {}, not a take: select a take to export it",
                shared.shown.title
            )),
        }
    }

    /// Ctrl+Z: back to the version the selected take was made from.
    pub fn undo(&mut self, intents: &mut Intents) {
        self.takes.undo(intents);
    }

    /// Ctrl+Shift+Z: forward to the version undone.
    pub fn redo(&mut self, intents: &mut Intents) {
        self.takes.redo(intents);
    }

    /// Takes finished work: streamed notes and takes, candidates, exports, a model opened.
    pub fn poll(&mut self, shared: &Shared, intents: &mut Intents) {
        self.takes.poll(intents);
        self.poll_generator(intents);
        self.passage.poll(intents);
        self.exports
            .poll(self.takes.workbench().takes(), shared, intents);
        self.picker.poll(intents);
    }

    /// Keeps a take made elsewhere (a recording, a call and its answer) and shows it.
    pub fn keep_take(&mut self, take: Take, intents: &mut Intents) {
        if let Some(index) = self.takes.workbench_mut().add(vec![take]) {
            self.takes.show(index, intents);
        }
    }

    /// What this room would sample with for `checkpoint`: its settings and its steering (a live
    /// answer uses them).
    pub fn sampling_for(&self, checkpoint: &Path) -> (SamplingSettings, ControlPlan) {
        let controls = self.plan_for(checkpoint);
        (self.controls.settings(&controls), controls)
    }

    fn poll_generator(&mut self, intents: &mut Intents) {
        for event in self.generator.events() {
            match event {
                Event::Update(GenerateEvent::Started { primer, grid, .. }) => {
                    intents.push(Intent::Preview {
                        title: "Generating…".to_string(),
                        content: RollContent::new(primer.notes.clone(), Vec::new(), primer.end_s)
                            .with_grid(grid),
                    });
                }
                Event::Update(GenerateEvent::Update(Update::Notes {
                    variation: 0,
                    notes,
                })) => intents.push(Intent::AddNotes(notes)),
                Event::Update(GenerateEvent::Update(Update::Progress {
                    fraction,
                    events_per_s,
                    ..
                })) => self.progress = (fraction, events_per_s),
                Event::Update(_) => {}
                Event::Finished(takes) => {
                    if let Some(first) = self.takes.workbench_mut().add(takes) {
                        self.takes.show(first, intents);
                    }
                }
                Event::Cancelled => intents.tell("Generation cancelled"),
                Event::Failed { message } => intents.tell(format!("Generation failed: {message}")),
            }
        }
    }

    /// What to ask `checkpoint` for: the controls within what that model learned (the current
    /// model's card, or the card of another, such as a take's own).
    fn plan_for(&self, checkpoint: &Path) -> ControlPlan {
        match self.picker.card() {
            Some(card) if card.is_current(checkpoint) => plan_within(&self.controls, Some(card)),
            _ => plan_within(&self.controls, Some(&ModelCard::read(checkpoint))),
        }
    }

    /// Why Generate cannot start now, in words for the button's hover; `None` when it can.
    fn refusal(&self, shared: &Shared) -> Option<String> {
        if shared.models.current.is_none() {
            return Some("Train a model or open a checkpoint first".to_string());
        }
        // A model from before the grid is asked for no form: what is typed there is not used.
        let reads_meter = self
            .picker
            .card()
            .and_then(|m| m.controls.as_ref())
            .is_some_and(|learned| learned.reads_meter());
        reads_meter
            .then(|| self.controls.steer.form_problem())
            .flatten()
    }

    /// Generate: after the primer chosen, with the current model (or a continued take's own).
    fn start(&mut self, shared: &Shared, device: DeviceChoice, intents: &mut Intents) {
        if let Some(refusal) = self.refusal(shared) {
            intents.tell(refusal);
            return;
        }
        let current = shared.models.current.clone();
        let mut continues = None;
        let mut model = current.clone().map(|checkpoint| VersionModel {
            checkpoint,
            notice: None,
        });
        let controls = &self.controls;
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
            PrimerChoice::ContinueTake => match self.takes.workbench().selected() {
                Some(take) => {
                    continues = Some(take.id);
                    model = take.model_for_version(current.as_deref());
                    continuation(
                        take,
                        take.duration_s(),
                        format!("take with seed {}", take.seed),
                    )
                }
                None => {
                    intents.tell("Select a take to continue");
                    return;
                }
            },
        };
        self.start_version(primer, continues, model, shared, device, intents);
    }

    /// Drops everything after the playhead of the selected take and generates onward.
    fn continue_from_playhead(
        &mut self,
        shared: &Shared,
        device: DeviceChoice,
        intents: &mut Intents,
    ) {
        let Some(take) = self.takes.workbench().selected() else {
            intents.tell("Select a take to continue");
            return;
        };
        let from_s = shared.sound.position_s().clamp(0.0, take.duration_s());
        let description = format!("take with seed {} up to {}", take.seed, format_time(from_s));
        let primer = continuation(take, from_s, description);
        let model = take.model_for_version(shared.models.current.as_deref());
        let continues = Some(take.id);
        self.start_version(primer, continues, model, shared, device, intents);
    }

    /// Generates after `primer` with `model` (a continued take's own); the takes are versions
    /// of `continues` if given.
    fn start_version(
        &mut self,
        primer: Primer,
        continues: Option<u64>,
        model: Option<VersionModel>,
        shared: &Shared,
        device: DeviceChoice,
        intents: &mut Intents,
    ) {
        let Some(VersionModel { checkpoint, notice }) = model else {
            intents.tell("Train a model or open a checkpoint first");
            return;
        };
        if let Some(notice) = notice {
            intents.tell(notice);
        }
        self.controls.roll_seed();
        let plan = self.plan_for(&checkpoint);
        let request = GenerateRequest {
            settings: self.controls.settings(&plan),
            controls: plan,
            checkpoint,
            primer,
            device,
            continues,
        };
        self.progress = (0.0, 0.0);
        let repaint = shared.repaint_every(STREAMING_FRAME_INTERVAL);
        self.generator.hold(generate::spawn(request, repaint));
    }

    /// Redoes the selected passage of the selected take with the take's own model: candidates
    /// to audition.
    fn regenerate_selection(
        &mut self,
        shared: &Shared,
        device: DeviceChoice,
        intents: &mut Intents,
    ) {
        let (Some(take), Some(passage)) = (self.takes.workbench().selected(), shared.selection)
        else {
            intents.tell("Select a take, then drag on the ruler to select a passage");
            return;
        };
        let Some(model) = take.model_for_version(shared.models.current.as_deref()) else {
            intents.tell("Train a model or open a checkpoint first");
            return;
        };
        let plan = self.plan_for(&model.checkpoint);
        let settings = SamplingSettings {
            seed: self.controls.passage_seed(),
            ..self.controls.settings(&plan)
        };
        let mut origin = Origin::new(take, passage, settings, plan);
        origin.checkpoint = model.checkpoint.display().to_string();
        let request = RegenerateRequest {
            checkpoint: model.checkpoint,
            notes: take.notes.clone(),
            passage,
            candidates: self.controls.candidates,
            settings: origin.settings,
            controls: origin.controls.clone(),
            device,
            grid: take.grid.clone(),
        };
        if let Some(notice) = model.notice {
            intents.tell(notice);
        }
        let repaint = shared.repaint_every(STREAMING_FRAME_INTERVAL);
        self.passage.start(request, origin, repaint);
    }

    /// Draws the room; `device` is where to sample (the Train room's choice).
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared,
        profile: Option<(String, Arc<CorpusProfile>)>,
        device: DeviceChoice,
        intents: &mut Intents,
    ) {
        self.picker.follow(shared.models.current.as_deref());
        ui.horizontal(|ui| self.picker.ui(ui, shared, &mut self.names, intents));
        let learned = self.picker.card().and_then(|m| m.controls.as_ref());
        controls::controls_ui(ui, &mut self.controls, learned);
        self.generate_button_ui(ui, shared, device, intents);
        ui.separator();
        ui.heading("Takes");
        if self.takes.workbench().takes().is_empty() {
            ui.label("Generated pieces appear here, kept until you delete them.");
            return;
        }
        self.actions_ui(ui, shared, device, intents);
        self.takes.ui(ui, shared, &mut self.names, intents);
        if let Some(take) = self.takes.workbench().selected() {
            let corpus = profile.as_ref().map(|(name, p)| (name.as_str(), &**p));
            take_stats::take_stats_ui(ui, take, corpus);
        }
    }

    /// Generate (greyed, saying why, when it cannot start), or Cancel with the progress.
    fn generate_button_ui(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared,
        device: DeviceChoice,
        intents: &mut Intents,
    ) {
        ui.horizontal(|ui| {
            if self.generator.is_running() {
                if ui.button("Cancel").clicked() {
                    self.generator.ask_to_stop();
                }
                let (fraction, events_per_s) = self.progress;
                ui.add(egui::ProgressBar::new(fraction as f32).text(format!(
                    "{:.0}% · {events_per_s:.0} events/s",
                    fraction * 100.0
                )));
                return;
            }
            let refusal = self.refusal(shared);
            let button = ui
                .add_enabled(refusal.is_none(), egui::Button::new("Generate"))
                .on_disabled_hover_text(refusal.clone().unwrap_or_default());
            if let Some(refusal) = &refusal {
                ui.weak(refusal);
            }
            if button.clicked() {
                self.start(shared, device, intents);
            }
        });
    }

    /// The take the actions apply to: the one the roll shows, or, while its alternatives are on
    /// trial in the roll, the take they are for.
    fn acting_index(&self, shared: &Shared) -> Option<usize> {
        self.takes
            .shown_index(shared)
            .or_else(|| self.takes.index_of(self.passage.on_trial()?))
    }

    /// The shown take's actions, above the list so they stay in view however long it is.
    fn actions_ui(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared,
        device: DeviceChoice,
        intents: &mut Intents,
    ) {
        let Some(index) = self.acting_index(shared) else {
            return;
        };
        let take = &self.takes.workbench().takes()[index];
        ui.label(egui::RichText::new(format!("Take {}", take.id)).strong());
        if let Some(kind) = self.exports.ui(ui, take.grid.is_some()) {
            self.exports.ask(kind, take, shared);
        }
        let busy = self.generator.is_running();
        let asked = self.passage.ui(
            ui,
            shared.selection.is_some(),
            busy,
            &mut self.controls.candidates,
            self.takes.workbench().takes(),
        );
        match asked {
            Some(PassageAsk::Regenerate) => self.regenerate_selection(shared, device, intents),
            Some(PassageAsk::ContinueFromHere) => {
                self.continue_from_playhead(shared, device, intents)
            }
            Some(ask) => self.passage.answer(ask, &mut self.takes, intents),
            None => {}
        }
        ui.separator();
    }
}

/// A primer that continues `take` from `from_s`, in the time it was written in, however freely
/// it plays on it.
fn continuation(take: &Take, from_s: f64, description: String) -> Primer {
    Primer {
        grid: take.grid.clone(),
        ..Primer::opening(&take.piece(), from_s, description)
    }
}

/// The controls asked of a model: what it learned of them.
fn plan_within(controls: &GenerateControls, model: Option<&ModelCard>) -> ControlPlan {
    match model.and_then(|m| m.controls.as_ref()) {
        Some(learned) => controls.steer.plan().within(learned),
        None => ControlPlan::default(),
    }
}
