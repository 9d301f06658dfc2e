//! The desktop app. [`CadenzaApp`] only routes: the side panel switches between the corpus,
//! training and generation panels (one file each); the piano roll and transport always show the
//! current piece; the status bar says what the machine is doing. All work runs in the core on
//! worker threads; panels poll their channels at the start of each frame.

mod corpus_panel;
mod generate_controls;
mod generate_panel;
mod help;
mod job;
pub mod piano_roll;
mod sound;
pub(crate) mod steer;
mod train_panel;
mod versions;

#[cfg(test)]
mod afternoon_tests;
#[cfg(test)]
mod tests;

#[cfg(test)]
mod settings_tests {
    #[test]
    fn settings_written_before_start_from_still_load() {
        // Before "Start from", the Train panel remembered `resume: bool`.
        let current = ron::to_string(&super::Settings::default()).expect("serialises");
        let old = current.replace("start:New", "resume:true");
        assert_ne!(
            old, current,
            "the field is where this test expects it: {current}"
        );
        let settings: super::Settings = ron::from_str(&old).expect("older settings load");
        assert_eq!(settings.train.start, super::train_panel::StartChoice::New);
    }

    #[test]
    fn settings_written_before_the_bar_grid_and_form_still_load() {
        let current = ron::to_string(&super::Settings::default()).expect("serialises");
        let mut old = current.clone();
        for field in [
            "export_quantize:0.0,",
            "tempo:Some(90.0),",
            "meter:Some(\"4/4\"),",
            "form:\"\",",
            ",variation:0.3",
        ] {
            assert!(old.contains(field), "{field} is in {current}");
            old = old.replace(field, "");
        }
        let settings: super::Settings = ron::from_str(&old).expect("older settings load");
        // Written before the grid, they take today's default: in bars.
        let defaults = super::steer::SteerControls::default();
        assert_eq!(settings.generate.steer.tempo, defaults.tempo);
        assert_eq!(settings.generate.steer.meter, defaults.meter);
        assert_eq!(settings.generate.steer.variation, 0.3);
    }

    #[test]
    fn an_unreadable_settings_file_is_moved_aside_with_a_message() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("app.ron");
        assert_eq!(
            super::set_aside_unreadable_settings(&file),
            None,
            "no file: nothing to say"
        );
        std::fs::write(&file, "{\"cadenza-settings\": \"(corpus_dir: None)\"}").expect("written");
        assert_eq!(
            super::set_aside_unreadable_settings(&file),
            None,
            "readable: kept"
        );
        std::fs::write(&file, "{ this is not RON").expect("written");
        let message = super::set_aside_unreadable_settings(&file).expect("the user is told");
        assert!(message.contains("moved to"), "{message}");
        assert!(!file.exists());
        let kept = std::fs::read_dir(dir.path()).expect("listed").count();
        assert_eq!(kept, 1, "the unreadable file is kept aside");
    }
}

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cadenza_core::midi::Piece;
use cadenza_core::paths::DataDir;
use cadenza_core::worker::Repaint;

use cadenza_core::regenerate::Passage;
use corpus_panel::CorpusPanel;
use generate_panel::GeneratePanel;
use piano_roll::{PianoRoll, RollAction, RollContent};
use sound::Sound;
use train_panel::TrainPanel;

/// Opens the desktop app, on `open` (a corpus folder or a MIDI file) if given, and runs it until
/// its window closes. Records go to the data folder's log, and to stderr too when `verbose`.
pub fn run(open: Option<PathBuf>, verbose: bool) -> anyhow::Result<()> {
    if let Some(path) = &open
        && !path.exists()
    {
        anyhow::bail!("{}: no such file or folder", path.display());
    }
    // libtorch's OpenMP threads spin between parallel regions before they sleep. A short spin
    // keeps training as fast as on the command line (OMP_WAIT_POLICY=PASSIVE, no spin at all,
    // cost 40 % of the tokens/s) while idle pool threads leave the audio and UI threads alone
    // within microseconds. It must be set before libtorch starts its pool.
    if std::env::var_os("OMP_WAIT_POLICY").is_none() && std::env::var_os("GOMP_SPINCOUNT").is_none()
    {
        // SAFETY: set at start-up, before any other thread exists.
        unsafe { std::env::set_var("GOMP_SPINCOUNT", OPENMP_SPIN_COUNT) };
    }
    let data = DataDir::from_env();
    let log_file = data.as_ref().map(DataDir::log_file);
    crate::log::init(crate::log::Destinations {
        file: log_file.as_deref(),
        stderr: verbose,
    });
    tracing::info!("Cadenza {} starting", env!("CARGO_PKG_VERSION"));
    let startup_problem = data
        .as_ref()
        .and_then(|data| set_aside_unreadable_settings(&data.settings_file()));
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Cadenza")
            .with_app_id("cadenza")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([800.0, 500.0])
            .with_drag_and_drop(true),
        // Settings live in the data folder, so `CADENZA_DATA_DIR` moves them too.
        persistence_path: data.as_ref().map(DataDir::settings_file),
        ..Default::default()
    };
    eframe::run_native(
        "cadenza",
        options,
        Box::new(|cc| {
            let mut app = CadenzaApp::from_creation_context(cc, data);
            app.shared.messages.extend(startup_problem);
            if let Some(path) = open {
                app.open(path);
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|err| anyhow::anyhow!("the window could not open: {err}"))
}

/// The largest settings file read; a few kilobytes in practice.
const MAX_SETTINGS_BYTES: u64 = 16 << 20;

/// Moves a settings file that cannot be parsed aside (eframe would silently start afresh and
/// overwrite it on exit); returns what to tell the user.
fn set_aside_unreadable_settings(path: &std::path::Path) -> Option<String> {
    // Read by the core: only a regular file, and not a huge one (settings are a few kilobytes).
    let bytes = cadenza_core::files::read_bounded(path, MAX_SETTINGS_BYTES).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let parsed: Result<std::collections::HashMap<String, String>, _> = ron::from_str(&text);
    let err = parsed.err()?;
    Some(match cadenza_core::files::move_aside(path) {
        Ok(aside) => format!(
            "The settings could not be read ({err}); they were moved to {} and defaults are used",
            aside.display()
        ),
        Err(move_err) => {
            format!("The settings could not be read ({err}) nor moved aside: {move_err}")
        }
    })
}

/// libgomp's spins before an idle OpenMP thread sleeps (its default is 300 000).
const OPENMP_SPIN_COUNT: &str = "100000";

/// Asks for a frame within the given time (`egui::Context::request_repaint_after`), from any thread.
pub type RepaintWithin = Arc<dyn Fn(Duration) + Send + Sync>;

/// How long a message shows under the transport (it stays in the log).
const MESSAGE_SHOWN: Duration = Duration::from_secs(20);

/// The eframe storage key of [`Settings`].
const SETTINGS_KEY: &str = "cadenza-settings";
/// Narrowest the side panel can be dragged, in points (the Generate panel's controls fit).
const SIDE_PANEL_MIN_PX: f32 = 320.0;
/// Widest share of the window the side panel can take, so the roll keeps 60 % (with margins).
const SIDE_PANEL_MAX_SHARE: f32 = 0.38;

/// What is remembered between runs (with eframe's window size and position).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The last corpus folder.
    pub corpus_dir: Option<PathBuf>,
    /// The last checkpoint trained or opened.
    pub checkpoint: Option<PathBuf>,
    /// A SoundFont chosen by the user.
    pub soundfont: Option<PathBuf>,
    /// Recently used checkpoints, newest first.
    pub recent_checkpoints: Vec<PathBuf>,
    /// The folder of the last export, where the next export's dialog opens.
    pub export_dir: Option<PathBuf>,
    /// How far a MIDI export moves notes toward the take's bar grid, 0–1 (0: as played).
    pub export_quantize: f64,
    /// Training controls.
    pub train: train_panel::TrainControls,
    /// Generation controls.
    pub generate: generate_controls::GenerateControls,
    /// The style names given to flat corpus folders, by folder, applied when one is opened again.
    pub style_names: std::collections::BTreeMap<PathBuf, String>,
}

impl Settings {
    /// Remembers a checkpoint as current and recent.
    pub fn use_checkpoint(&mut self, path: PathBuf) {
        self.recent_checkpoints.retain(|p| p != &path);
        self.recent_checkpoints.insert(0, path.clone());
        self.recent_checkpoints.truncate(8);
        self.checkpoint = Some(path);
    }
}

/// The piece on screen: in the piano roll and in the player.
#[derive(Debug, Default)]
pub struct Shown {
    /// What it is ("Chopin / chpn_op25_e12.mid", "take 3 (seed 42)").
    pub title: String,
    /// Drawn by the piano roll.
    pub content: RollContent,
    /// Counts the pieces shown, so the roll opens each new one at its start.
    pub revision: u64,
    /// The take shown, by number, when the roll shows a take: what Ctrl+E exports and the takes
    /// list highlights (a corpus piece or an alternative on trial is none).
    pub take: Option<u64>,
}

/// What every panel may touch besides its own state.
pub struct Shared {
    /// Remembered settings.
    pub settings: Settings,
    /// The piece on screen.
    pub shown: Shown,
    /// Playback.
    pub sound: Sound,
    /// Messages for the user (errors, results), newest last.
    pub messages: Vec<String>,
    /// When the newest message was told; it shows for [`MESSAGE_SHOWN`] (messages from start-up
    /// have none, and show until dismissed).
    told_at: Option<std::time::Instant>,
    /// Wakes the UI from worker threads at once (dialogs, one-shot jobs).
    pub repaint: Repaint,
    /// Wakes the UI within a given time; repaints asked for meanwhile make one frame.
    repaint_within: RepaintWithin,
    /// Where takes, checkpoints, the demo corpus and the log live; `None` when the platform has
    /// no data folder (then nothing is kept, and the user is told).
    pub data: Option<DataDir>,
    /// The passage selected in the piano roll.
    pub selection: Option<Passage>,
    /// The installed starter model, found once at start-up.
    pub starter: Option<PathBuf>,
}

impl Shared {
    /// The guard an export goes through: it may not overwrite the model in use, the SoundFont,
    /// Cadenza's own files (takes, settings, log) or anything in the starter model's folder.
    pub fn output_guard(&self) -> cadenza_core::output_guard::OutputGuard {
        use cadenza_core::checkpoint;
        let model = self.settings.checkpoint.as_deref().map(checkpoint::stem);
        let own = self.data.as_ref().map(|data| {
            let takes = data.takes_file();
            let backup = cadenza_core::files::with_suffix(&takes, ".bak");
            [takes, backup, data.settings_file(), data.log_file()]
        });
        cadenza_core::starter::output_guard()
            .reading(
                model
                    .as_deref()
                    .map(checkpoint::files)
                    .into_iter()
                    .flatten(),
            )
            .reading(self.settings.soundfont.iter())
            .reading(own.into_iter().flatten())
    }

    /// Shows a piece and loads it into the player (from the start); its selection is dropped
    /// ([`Shared::focus_passage`] brings one back).
    pub fn show(&mut self, title: String, piece: &Piece, primer_end_s: f64) {
        self.show_content(
            title,
            // Bars only where the music follows them: a performance saved at a nominal 120 bpm
            // has a grid in its file that has nothing to do with its music.
            RollContent::new(piece.notes.clone(), piece.pedal.clone(), primer_end_s)
                .with_grid(piece.usable_grid().cloned()),
        );
        self.sound.load(piece);
    }

    /// Selects `passage` of the piece just shown, opens the roll on it and puts the player a
    /// second before it (a version made by redoing it).
    pub fn focus_passage(&mut self, passage: Passage) {
        self.selection = Some(passage);
        self.sound.seek((passage.start_s - 1.0).max(0.0));
    }

    /// Puts new content in the roll (opened at its start); the player keeps what it has. A
    /// selection belongs to the piece it was made on, so it is dropped.
    pub fn show_content(&mut self, title: String, content: RollContent) {
        self.selection = None;
        self.shown = Shown {
            title,
            content,
            revision: self.shown.revision + 1,
            take: None,
        };
    }

    /// A wake-up for a worker that reports often (training, generation): at most one frame per
    /// `interval`. Under a software renderer every frame costs a core's worth of milliseconds.
    pub fn repaint_every(&self, interval: Duration) -> Repaint {
        let within = Arc::clone(&self.repaint_within);
        Arc::new(move || within(interval))
    }

    /// Tells the user something (an error or a result).
    pub fn tell(&mut self, message: impl Into<String>) {
        let message = message.into();
        tracing::info!(target: "cadenza::app", "{message}");
        self.messages.push(message);
        self.told_at = Some(std::time::Instant::now());
        if self.messages.len() > 50 {
            self.messages.remove(0);
        }
    }
}

/// Which panel the side bar shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Panel {
    Corpus,
    Train,
    Generate,
}

/// The app: panels, piano roll, transport and status bar.
pub struct CadenzaApp {
    panel: Panel,
    corpus: CorpusPanel,
    train: TrainPanel,
    generate: GeneratePanel,
    roll: PianoRoll,
    /// The piece the roll last opened (see [`Shown::revision`]).
    shown_revision: u64,
    /// The roll's width last frame, for the zoom buttons.
    roll_width_px: f32,
    /// Where the roll (keyboard and ruler included) was drawn last frame.
    roll_rect: egui::Rect,
    shared: Shared,
}

impl CadenzaApp {
    /// Builds the app from remembered settings; starts loading the last (or the demo) corpus.
    pub fn new(
        mut settings: Settings,
        data: Option<DataDir>,
        repaint_within: RepaintWithin,
    ) -> Self {
        // First run (or no model chosen yet): the starter model, so a take is one click away. A
        // remembered starter that is gone (Cadenza moved or reinstalled) is found again.
        let moved_starter = settings.checkpoint.as_deref().is_some_and(|path| {
            path.file_name()
                .is_some_and(|name| name == cadenza_core::starter::STEM_NAME)
                && !cadenza_core::checkpoint::meta_path(path).exists()
        });
        let starter = cadenza_core::starter::find();
        if settings.checkpoint.is_none() || moved_starter {
            settings.checkpoint = starter.clone().or(settings.checkpoint);
        }
        let immediate = Arc::clone(&repaint_within);
        let repaint: Repaint = Arc::new(move || immediate(Duration::ZERO));
        let mut messages = Vec::new();
        let sound = Sound::start(settings.soundfont.as_deref(), &mut messages);
        let mut shared = Shared {
            settings,
            shown: Shown::default(),
            sound,
            messages,
            repaint,
            repaint_within,
            data,
            selection: None,
            starter,
            told_at: None,
        };
        let corpus = CorpusPanel::new(&mut shared);
        let generate = GeneratePanel::new(&mut shared);
        Self {
            panel: Panel::Corpus,
            corpus,
            train: TrainPanel::default(),
            generate,
            roll: PianoRoll::default(),
            shown_revision: 0,
            roll_width_px: 800.0,
            roll_rect: egui::Rect::NOTHING,
            shared,
        }
    }

    /// Opens a corpus folder or a MIDI file on the Corpus panel.
    pub fn open(&mut self, path: PathBuf) {
        self.panel = Panel::Corpus;
        self.corpus.open_path(path, &mut self.shared);
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
            app.shared.tell(
                "The remembered settings could not be read (another version?): defaults are used",
            );
        }
        app
    }

    fn handle_shortcuts(&mut self, ui: &mut egui::Ui) {
        use egui::{Key, Modifiers};
        let typing = ui.ctx().egui_wants_keyboard_input();
        let (space, home, save, export, redo, undo) = ui.input_mut(|i| {
            (
                !typing && i.consume_key(Modifiers::NONE, Key::Space),
                !typing && i.consume_key(Modifiers::NONE, Key::Home),
                i.consume_key(Modifiers::COMMAND, Key::S),
                i.consume_key(Modifiers::COMMAND, Key::E),
                // Shift first: consume_key(COMMAND) would also match Ctrl+Shift+Z.
                !typing && i.consume_key(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z),
                !typing && i.consume_key(Modifiers::COMMAND, Key::Z),
            )
        });
        if undo {
            self.generate.undo(&mut self.shared);
        }
        if redo {
            self.generate.redo(&mut self.shared);
        }
        if space {
            self.shared.sound.toggle();
        }
        if home {
            self.shared.sound.seek(0.0);
        }
        if save {
            self.train.save_now(&mut self.shared);
        }
        if export {
            self.generate.export_midi(&mut self.shared);
        }
    }

    /// Opens what was dropped on the window, whichever panel shows: a folder as the corpus (the
    /// Corpus panel comes up), a MIDI file in the roll. While files hover, says what a drop does.
    fn take_dropped(&mut self, ui: &mut egui::Ui) {
        let (hovering, dropped) = ui.input(|i| {
            let dropped: Vec<PathBuf> = i
                .raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect();
            (!i.raw.hovered_files.is_empty(), dropped)
        });
        for path in dropped {
            if path.is_dir() {
                self.panel = Panel::Corpus;
            }
            self.corpus.open_path(path, &mut self.shared);
        }
        if hovering {
            let screen = ui.ctx().content_rect();
            let painter = ui.ctx().layer_painter(egui::LayerId::new(
                egui::Order::Foreground,
                egui::Id::unique("drop-hint"),
            ));
            painter.rect_filled(screen, 0.0, egui::Color32::from_black_alpha(160));
            painter.text(
                screen.center(),
                egui::Align2::CENTER_CENTER,
                "Drop a folder to open it as the corpus, or a MIDI file to view and play it",
                egui::FontId::proportional(20.0),
                egui::Color32::WHITE,
            );
        }
    }

    fn side_panel(&mut self, ui: &mut egui::Ui) {
        // The user sets the width by dragging the divider (egui keeps it across runs); long
        // labels are elided to it, so the roll keeps at least 60 % of the window.
        let widest = (ui.available_width() * SIDE_PANEL_MAX_SHARE).max(SIDE_PANEL_MIN_PX);
        egui::Panel::left("side")
            .resizable(true)
            .default_size(390.0)
            .size_range(SIDE_PANEL_MIN_PX..=widest)
            .show(ui, |ui| {
                ui.horizontal(|ui| {
                    ui.selectable_value(&mut self.panel, Panel::Corpus, "Corpus");
                    ui.selectable_value(&mut self.panel, Panel::Train, "Train");
                    ui.selectable_value(&mut self.panel, Panel::Generate, "Generate");
                });
                ui.separator();
                egui::ScrollArea::vertical().show(ui, |ui| match self.panel {
                    Panel::Corpus => self.corpus.ui(ui, &mut self.shared),
                    Panel::Train => self.train.ui(ui, &mut self.shared, self.corpus.data()),
                    Panel::Generate => {
                        self.generate
                            .ui(ui, &mut self.shared, self.corpus.profile())
                    }
                });
            });
    }

    fn status_bar(&mut self, ui: &mut egui::Ui) {
        egui::Panel::bottom("status").show(ui, |ui| {
            ui.horizontal(|ui| {
                // The job first, so a long device or SoundFont text never pushes it off screen;
                // the details are on hover.
                let jobs: Vec<String> = [self.corpus.job(), self.train.job(), self.generate.job()]
                    .into_iter()
                    .flatten()
                    .collect();
                ui.label(if jobs.is_empty() {
                    "Idle".to_string()
                } else {
                    jobs.join(" · ")
                });
                ui.separator();
                let device = self.train.device_label();
                let short = device.split(" (").next().unwrap_or(&device).to_string();
                ui.add(egui::Label::new(format!("Device: {short}")).truncate())
                    .on_hover_text(device);
                ui.separator();
                let soundfont = self.shared.sound.soundfont_label();
                ui.add(egui::Label::new(soundfont.clone()).truncate())
                    .on_hover_text(soundfont);
                ui.separator();
                let output = self.shared.sound.output_label();
                ui.add(egui::Label::new(output.clone()).truncate())
                    .on_hover_text(output);
            });
        });
    }

    /// Zoom out, in and "Fit take": the roll's zoom, also on Ctrl+wheel (said on hover).
    fn zoom_ui(&mut self, ui: &mut egui::Ui) {
        let width = self.roll_width_px;
        let hint = "Ctrl+wheel over the roll zooms too; the wheel scrolls";
        if ui
            .small_button("-")
            .on_hover_text(format!("Zoom out ({hint})"))
            .clicked()
        {
            self.roll.zoom_by(0.8, width);
        }
        if ui
            .small_button("+")
            .on_hover_text(format!("Zoom in ({hint})"))
            .clicked()
        {
            self.roll.zoom_by(1.25, width);
        }
        if ui
            .small_button("Fit take")
            .on_hover_text("Show the whole piece")
            .clicked()
        {
            self.roll.fit();
        }
    }

    fn transport_bar(&mut self, ui: &mut egui::Ui) {
        egui::Panel::bottom("transport").show(ui, |ui| {
            ui.horizontal(|ui| {
                let sound = &mut self.shared.sound;
                let playing = sound.is_playing();
                if ui
                    .button(if playing { "Pause" } else { "Play" })
                    .on_hover_text("Space")
                    .clicked()
                {
                    sound.toggle();
                }
                if ui.button("Stop").clicked() {
                    sound.stop();
                }
                let end_s = self.shared.shown.content.end_s();
                ui.label(format!(
                    "{} / {}",
                    // Playback runs a moment past the last release (the tail); the position never
                    // reads past the end.
                    piano_roll::format_time(sound.position_s().min(end_s)),
                    piano_roll::format_time(end_s)
                ));
                let mut volume = sound.volume();
                if ui
                    .add(egui::Slider::new(&mut volume, 0.0..=1.0).text("Volume"))
                    .changed()
                {
                    sound.set_volume(volume);
                }
                ui.checkbox(&mut self.roll.follow, "Follow playhead");
                ui.checkbox(&mut self.roll.full_keyboard, "All keys")
                    .on_hover_text("Show the whole keyboard instead of the notes' range");
                ui.separator();
                self.zoom_ui(ui);
                ui.separator();
                ui.label(egui::RichText::new(&self.shared.shown.title).strong());
            });
            let shown_for = self.shared.told_at.map(|at| at.elapsed());
            let fresh = shown_for.is_none_or(|age| age < MESSAGE_SHOWN);
            if let Some(message) = self.shared.messages.last().cloned().filter(|_| fresh) {
                if let Some(age) = shown_for {
                    ui.ctx()
                        .request_repaint_after(MESSAGE_SHOWN.saturating_sub(age));
                }
                ui.horizontal(|ui| {
                    ui.label(message);
                    if ui.small_button("Dismiss").clicked() {
                        self.shared.messages.pop();
                        // Dismissing hides the older messages too; they stay in the log.
                        self.shared.told_at = std::time::Instant::now().checked_sub(MESSAGE_SHOWN);
                    }
                });
            }
        });
    }
}

impl eframe::App for CadenzaApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.corpus.poll(&mut self.shared);
        self.train.poll(&mut self.shared);
        self.generate.poll(&mut self.shared);
        self.handle_shortcuts(ui);
        self.take_dropped(ui);
        self.train.guard_close(ui);
        egui::Panel::top("menu").show(ui, |ui| {
            egui::MenuBar::new().ui(ui, |ui| {
                ui.menu_button("File", |ui| {
                    if ui.button("Open MIDI file…").clicked() {
                        self.corpus.open_file_dialog(&self.shared);
                    }
                    if ui.button("Open corpus folder…").clicked() {
                        self.corpus.open_folder_dialog(&self.shared);
                        self.panel = Panel::Corpus;
                    }
                    if ui.button("Choose SoundFont…").clicked() {
                        self.shared
                            .sound
                            .choose_soundfont_dialog(&self.shared.repaint);
                    }
                });
                ui.menu_button("Help", help::menu);
            });
        });
        self.status_bar(ui);
        self.transport_bar(ui);
        self.side_panel(ui);
        egui::CentralPanel::default_margins().show(ui, |ui| {
            let playing = self.shared.sound.is_playing();
            // Playback runs a moment past the last release (the tail): the playhead stops at the
            // end, so the view never pans into empty space.
            let end_s = self.shared.shown.content.end_s();
            let position = Some(self.shared.sound.position_s().min(end_s));
            let steer = &mut self.shared.settings.generate.steer;
            let lane = self.panel == Panel::Generate && steer.has_curve();
            if lane {
                egui::Panel::bottom("control-lane")
                    .exact_size(steer::LANE_HEIGHT)
                    .show(ui, |ui| steer::lane(ui, steer, &self.roll));
            }
            if self.shown_revision != self.shared.shown.revision {
                self.shown_revision = self.shared.shown.revision;
                self.roll.reset_view(self.shared.selection);
            }
            self.roll_width_px = ui.available_width();
            self.roll_rect = ui.available_rect_before_wrap();
            if let Some(RollAction::Seek(t)) = self.roll.show(
                ui,
                &self.shared.shown.content,
                position,
                playing,
                &mut self.shared.selection,
            ) {
                self.shared.sound.seek(t);
            }
            if playing {
                ui.ctx().request_repaint();
            }
        });
        let shared = &mut self.shared;
        if shared
            .sound
            .poll(&mut shared.settings, &mut shared.messages)
        {
            shared.sound.load(&shared.shown.content.piece());
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, SETTINGS_KEY, &self.shared.settings);
    }
}

/// Help ▸ About: version, and the licences of what Cadenza ships or points to.
pub fn about_text() -> String {
    format!(
        "Cadenza {}\n\
         Train an LSTM on piano MIDI files and compose in their style.\n\n\
         Piano sound: FluidR3_GM SoundFont by Frank Wen (MIT licence).\n\
         Example corpus: piano-midi.de by Bernd Krueger, CC BY-SA 3.0 DE\n\
         (http://www.piano-midi.de).\n{}\n\
         Cadenza itself: MIT licence.",
        env!("CARGO_PKG_VERSION"),
        cadenza_core::starter::ATTRIBUTION
    )
}
