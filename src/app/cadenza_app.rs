//! The app: three rooms in the side bar (corpus, training, generation), the piano roll and
//! transport around them, the status bar. Each frame the rooms take finished work, everything is
//! drawn, and what the user asked for is applied after drawing.

use std::path::PathBuf;
use std::sync::Arc;

use cadenza_core::paths::DataDir;

use super::chrome;
use super::close_guard::{CloseChoice, CloseGuard};
use super::corpus::CorpusPanel;
use super::generate::{CURVE_LANE_HEIGHT, GeneratePanel, GenerateRoomSettings};
use super::intent::{Intent, Intents, Room};
use super::live::{AnswerSettings, LivePanel, read_computer_keys};
use super::models::Models;
use super::piano_roll::{PianoRoll, RollAction};
use super::settings::{SETTINGS_KEY, Settings};
use super::shared::{Messages, RepaintWithin, Shared};
use super::shortcuts;
use super::sound::{Sound, SoundChange};
use super::train::TrainPanel;

/// The click's grid is laid out this far and goes on at its last beat's tempo and meter.
const CLICK_GRID_S: f64 = 16.0;
/// Narrowest the side panel can be dragged, in points (the Generate room's controls fit).
const SIDE_PANEL_MIN_PX: f32 = 320.0;
/// Widest share of the window the side panel can take, so the roll keeps 60 % (with margins).
const SIDE_PANEL_MAX_SHARE: f32 = 0.38;

/// The app: rooms, piano roll, transport and status bar.
pub struct CadenzaApp {
    pub(super) room: Room,
    pub(super) corpus: CorpusPanel,
    pub(super) train: TrainPanel,
    pub(super) generate: GeneratePanel,
    pub(super) live: LivePanel,
    pub(super) roll: PianoRoll,
    /// The piece the roll last opened (see [`super::shared::Shown::revision`]).
    shown_revision: u64,
    /// The roll's width last frame, for the zoom buttons.
    pub(super) roll_width_px: f32,
    /// Where the roll (keyboard and ruler included) was drawn last frame.
    pub(super) roll_rect: egui::Rect,
    /// What the side panel showed of its room last frame (inside its scrolling).
    pub(super) side_rect: egui::Rect,
    close_guard: CloseGuard,
    pub(super) shared: Shared,
}

impl CadenzaApp {
    /// Builds the app from remembered settings, each room taking its part; starts loading the
    /// last (or the demo) corpus.
    pub fn new(settings: Settings, data: Option<DataDir>, repaint_within: RepaintWithin) -> Self {
        let Settings {
            corpus_dir,
            checkpoint,
            soundfont,
            recent_checkpoints,
            export_dir,
            export_quantize,
            train,
            generate,
            style_names,
            live,
        } = settings;
        let models = Models::new(
            checkpoint,
            recent_checkpoints,
            cadenza_core::starter::find(),
        );
        let mut told = Vec::new();
        let sound = Sound::start(soundfont, &mut told);
        let shared = Shared::new(
            models,
            sound,
            Messages::at_start(told),
            data,
            repaint_within,
        );
        let mut intents = Intents::default();
        let corpus = CorpusPanel::new(corpus_dir, style_names, &shared, &mut intents);
        let room_settings = GenerateRoomSettings {
            controls: generate,
            export_dir,
            export_quantize,
        };
        let generate = GeneratePanel::new(room_settings, &shared, &mut intents);
        let mut app = Self {
            room: Room::Corpus,
            corpus,
            train: TrainPanel::new(train),
            generate,
            live: LivePanel::new(live),
            roll: PianoRoll::default(),
            shown_revision: 0,
            roll_width_px: 800.0,
            roll_rect: egui::Rect::NOTHING,
            side_rect: egui::Rect::NOTHING,
            close_guard: CloseGuard::default(),
            shared,
        };
        app.apply(intents);
        app
    }

    /// For eframe: settings from storage, repaint through the context, files in `data`.
    pub fn from_creation_context(cc: &eframe::CreationContext<'_>, data: Option<DataDir>) -> Self {
        let stored = cc.storage.and_then(|s| s.get_string(SETTINGS_KEY));
        let settings: Option<Settings> = cc
            .storage
            .and_then(|storage| eframe::get_value(storage, SETTINGS_KEY));
        let unreadable = stored.is_some() && settings.is_none();
        let ctx = cc.egui_ctx.clone();
        let mut app = Self::new(
            settings.unwrap_or_default(),
            data,
            Arc::new(move |within| ctx.request_repaint_after(within)),
        );
        if unreadable {
            app.shared.messages.tell(
                "The remembered settings could not be read (another version?): defaults are used"
                    .to_string(),
            );
        }
        app
    }

    /// After start-up: says what went wrong reading the settings file, and opens `open` (a
    /// corpus folder or a MIDI file) if the command line named one.
    pub fn start_with(&mut self, problem: Option<String>, open: Option<PathBuf>) {
        let mut intents = Intents::default();
        if let Some(problem) = problem {
            intents.tell(problem);
        }
        if let Some(path) = open {
            self.room = Room::Corpus;
            intents.push(Intent::Open(path));
        }
        self.apply(intents);
    }

    /// Opens a corpus folder or a MIDI file in the Corpus room.
    pub fn open(&mut self, path: PathBuf) {
        self.start_with(None, Some(path));
    }

    /// What is remembered between runs, gathered from the rooms.
    pub fn settings(&self) -> Settings {
        let (corpus_dir, style_names) = self.corpus.remembered();
        let generate = self.generate.remembered();
        Settings {
            corpus_dir,
            checkpoint: self.shared.models.current.clone(),
            soundfont: self.shared.sound.chosen().map(PathBuf::from),
            recent_checkpoints: self.shared.models.recent.clone(),
            export_dir: generate.export_dir,
            export_quantize: generate.export_quantize,
            train: self.train.controls().clone(),
            generate: generate.controls,
            style_names,
            live: self.live.remembered(),
        }
    }

    /// Applies what the user (or finished work) asked for, in order; applying one may ask for
    /// more, which follow.
    pub(super) fn apply(&mut self, mut intents: Intents) {
        while let Some(intent) = intents.pop() {
            self.apply_one(intent, &mut intents);
        }
    }

    fn apply_one(&mut self, intent: Intent, more: &mut Intents) {
        let shared = &mut self.shared;
        match intent {
            Intent::Tell(message) => shared.messages.tell(message),
            Intent::Show(showing) => {
                shared.show_content(showing.title, showing.content, showing.take);
                shared.sound.load(&showing.piece);
            }
            Intent::Preview { title, content } => shared.show_content(title, content, None),
            Intent::AddNotes(notes) => shared.shown.content.add_notes(&notes),
            Intent::FocusPassage(passage) => {
                shared.selection = Some(passage);
                shared.sound.seek((passage.start_s - 1.0).max(0.0));
            }
            Intent::PlayRange { from_s, until_s } => shared.sound.play_range(from_s, until_s),
            Intent::Play => shared.sound.play(),
            Intent::TogglePlay => shared.sound.toggle(),
            Intent::Pause => shared.sound.pause(),
            Intent::Touch(touch) => {
                shared.sound.touch(touch);
                self.live.touched(touch, more);
            }
            Intent::HandOver => self.live.hand_over_now(),
            Intent::Click(grid) => shared.sound.click(grid),
            Intent::KeepTake { take, play } => {
                self.generate.keep_take(*take, more);
                if let Some((from_s, until_s)) = play {
                    more.push(Intent::PlayRange { from_s, until_s });
                }
            }
            Intent::Stop => shared.sound.stop(),
            Intent::Seek(at_s) => shared.sound.seek(at_s),
            Intent::SetVolume(volume) => shared.sound.set_volume(volume),
            Intent::UseCheckpoint(path) => shared.models.use_checkpoint(path),
            Intent::Open(path) => self.corpus.open_path(path, shared, more),
            Intent::OpenFileDialog => self.corpus.open_file_dialog(shared),
            Intent::OpenFolderDialog => self.corpus.open_folder_dialog(shared),
            Intent::ChooseSoundFont => {
                let repaint = Arc::clone(&shared.repaint);
                shared.sound.choose_soundfont_dialog(&repaint);
            }
            Intent::ExportShownTake => self.generate.export_shown(shared, more),
            Intent::Undo => self.generate.undo(more),
            Intent::Redo => self.generate.redo(more),
            Intent::SaveCheckpoint => self.train.save_now(more),
            Intent::GoTo(room) => self.room = room,
            Intent::DismissMessages => shared.messages.dismiss(),
        }
    }

    /// Finished work from the rooms' workers and the SoundFont loader.
    fn take_finished_work(&mut self, answers: &AnswerSettings) -> Intents {
        let mut intents = Intents::default();
        self.corpus.poll(&self.shared, &mut intents);
        self.train.poll(&mut intents);
        self.generate.poll(&self.shared, &mut intents);
        self.live.poll(&self.shared, answers, &mut intents);
        match self.shared.sound.poll() {
            // The new player is empty: the piece on screen goes into it.
            Some(SoundChange::Switched) => {
                let piece = self.shared.shown.content.piece();
                self.shared.sound.load(&piece);
            }
            Some(SoundChange::Refused(message)) => intents.tell(message),
            None => {}
        }
        intents
    }

    /// How a live answer is sampled: the Generate room's settings and steering for the current
    /// model, its tempo and meter for the click.
    fn answer_settings(&self) -> AnswerSettings {
        let checkpoint = self.shared.models.current.clone();
        let (settings, controls) = checkpoint
            .as_deref()
            .map(|c| self.generate.sampling_for(c))
            .unwrap_or_default();
        AnswerSettings {
            click_grid: controls.grid(CLICK_GRID_S),
            checkpoint,
            settings,
            controls,
        }
    }

    /// The close guard: the window waits for a training run to be saved or dropped.
    fn guard_close(&mut self, ctx: &egui::Context) {
        match self.close_guard.frame(ctx, self.train.is_training()) {
            Some(CloseChoice::SaveAndClose) => self.train.stop_and_save(),
            Some(CloseChoice::CloseWithoutSaving) => self.train.discard_training(),
            Some(CloseChoice::KeepTraining) | None => {}
        }
    }

    fn side_panel(&mut self, ui: &mut egui::Ui, answers: &AnswerSettings, intents: &mut Intents) {
        // The user sets the width by dragging the divider (egui keeps it across runs); long
        // labels are elided to it, so the roll keeps at least 60 % of the window.
        let widest = (ui.available_width() * SIDE_PANEL_MAX_SHARE).max(SIDE_PANEL_MIN_PX);
        egui::Panel::left("side")
            .resizable(true)
            .default_size(390.0)
            .size_range(SIDE_PANEL_MIN_PX..=widest)
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.selectable_value(&mut self.room, Room::Corpus, "Corpus");
                    ui.selectable_value(&mut self.room, Room::Train, "Train");
                    ui.selectable_value(&mut self.room, Room::Generate, "Generate");
                    ui.selectable_value(&mut self.room, Room::Live, "Live");
                });
                ui.separator();
                let shared = &self.shared;
                let out = egui::ScrollArea::vertical().show(ui, |ui| match self.room {
                    Room::Corpus => self.corpus.ui(ui, shared, intents),
                    Room::Train => self.train.ui(ui, shared, self.corpus.data(), intents),
                    Room::Generate => self.generate.ui(
                        ui,
                        shared,
                        self.corpus.profile(),
                        self.train.controls().device,
                        intents,
                    ),
                    Room::Live => self.live.ui(ui, shared, answers, intents),
                });
                self.side_rect = out.inner_rect;
            });
    }

    /// The piano roll, with the Generate room's curve lane under it.
    fn roll_area(&mut self, ui: &mut egui::Ui, intents: &mut Intents) {
        egui::CentralPanel::default_margins().show(ui, |ui| {
            let playing = self.shared.sound.is_playing();
            // Playback runs a moment past the last release (the tail): the playhead stops at the
            // end, so the view never pans into empty space.
            let end_s = self.shared.shown.content.end_s();
            let position = Some(self.shared.sound.position_s().min(end_s));
            if self.room == Room::Generate && self.generate.has_curve() {
                egui::Panel::bottom("control-lane")
                    .exact_size(CURVE_LANE_HEIGHT)
                    .show(ui, |ui| self.generate.curve_lane(ui, &self.roll));
            }
            if self.shown_revision != self.shared.shown.revision {
                self.shown_revision = self.shared.shown.revision;
                self.roll.reset_view(self.shared.selection);
            }
            self.roll_width_px = ui.available_width();
            self.roll_rect = ui.available_rect_before_wrap();
            if let Some(RollAction::Seek(at_s)) = self.roll.show(
                ui,
                &self.shared.shown.content,
                position,
                playing,
                &mut self.shared.selection,
            ) {
                intents.push(Intent::Seek(at_s));
            }
            if playing {
                ui.ctx().request_repaint();
            }
        });
    }
}

impl eframe::App for CadenzaApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        // Once a frame: the Live room polls with it and draws with it.
        let answers = self.answer_settings();
        let finished = self.take_finished_work(&answers);
        self.apply(finished);
        let mut intents = Intents::default();
        if self.room == Room::Live {
            // Before the shortcuts, so the piano's letters play rather than act.
            read_computer_keys(ui, &mut self.live.piano, &mut intents);
        }
        shortcuts::read(ui, &mut intents);
        chrome::dropped_files(ui, &mut intents);
        self.guard_close(ui.ctx());
        chrome::menu(ui, &mut intents);
        let jobs: Vec<String> = [
            self.corpus.job(),
            self.train.job(),
            self.generate.job(),
            self.live.job(),
        ]
        .into_iter()
        .flatten()
        .collect();
        chrome::status_bar(ui, &jobs, &self.train.device_label(), &self.shared);
        chrome::transport_bar(
            ui,
            &self.shared,
            &mut self.roll,
            self.roll_width_px,
            &mut intents,
        );
        self.side_panel(ui, &answers, &mut intents);
        self.roll_area(ui, &mut intents);
        if !intents.is_empty() {
            // What changed shows on the next frame, without waiting for input.
            ui.ctx().request_repaint();
        }
        self.apply(intents);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SETTINGS_KEY, &self.settings());
    }
}
