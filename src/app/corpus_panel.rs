//! The Corpus panel: choose a folder (the demo corpus on first run), see its pieces and
//! statistics, click a piece to view and hear it. Parsing runs on a worker thread.

use cadenza_core::music::meter::USABLE_FIT;
use egui_plot::{Bar, BarChart, GridMark, Plot};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cadenza_core::corpus::{self, Corpus, LoadProgress, Summary};
use cadenza_core::midi;
use cadenza_core::stats::{CorpusProfile, PITCH_CLASS_NAMES};
use cadenza_core::train::TrainData;
use cadenza_core::worker::Repaint;

use super::Shared;
use super::job::Job;
use super::piano_roll::format_time;

/// A corpus parsed, with the composer's choice of pieces and what training and the statistics
/// need from them.
pub struct LoadedCorpus {
    corpus: Arc<Corpus>,
    /// Counted once at load: summing every note each frame would stall the UI on big corpora.
    summary: Summary,
    /// Which pieces training uses (the table's checkboxes).
    included: Vec<bool>,
    /// Training data and profile of the included pieces; `None` while they are being prepared.
    prepared: Option<Prepared>,
    /// Preparation after the choice of pieces changed; a new choice supersedes it.
    preparing: Job<Prepared>,
}

/// What training and the take statistics need from the included pieces.
struct Prepared {
    data: Arc<TrainData>,
    profile: Arc<CorpusProfile>,
}

impl Prepared {
    /// Encodes the augmented training windows and profiles the pieces: a second or more on a
    /// large corpus, so it runs on a worker thread.
    fn of(corpus: &Corpus) -> Self {
        Self {
            data: Arc::new(TrainData::from_corpus(corpus)),
            profile: Arc::new(CorpusProfile::of_pieces(
                corpus.pieces.iter().map(|p| &p.piece),
            )),
        }
    }
}

impl LoadedCorpus {
    fn new(corpus: Corpus) -> Self {
        let prepared = Prepared::of(&corpus);
        Self {
            summary: corpus.summary(),
            included: vec![true; corpus.pieces.len()],
            corpus: Arc::new(corpus),
            prepared: Some(prepared),
            preparing: Job::default(),
        }
    }

    /// Gives the folder's one style another name (and prepares the training data again).
    fn rename_style(&mut self, to: &str, repaint: &Repaint) {
        let Some(from) = self.corpus.one_style().map(str::to_string) else {
            return;
        };
        Arc::make_mut(&mut self.corpus).rename_style(&from, to);
        self.summary = self.corpus.summary();
        self.reprepare(repaint);
    }

    /// Prepares the training data again after the choice of pieces changed.
    fn reprepare(&mut self, repaint: &Repaint) {
        let (corpus, included) = (Arc::clone(&self.corpus), self.included.clone());
        self.prepared = None;
        self.preparing
            .start("cadenza-prepare", repaint, move |ctx| {
                let subset = corpus.subset(|i| included[i]);
                ctx.check_cancelled()?;
                Ok(Prepared::of(&subset))
            });
    }

    fn poll(&mut self, shared: &mut Shared) {
        match self.preparing.poll() {
            Some(Ok(prepared)) => self.prepared = Some(prepared),
            Some(Err(message)) => {
                shared.tell(format!("Could not prepare the training data: {message}"))
            }
            None => {}
        }
    }
}

/// State of the Corpus panel.
#[derive(Default)]
pub struct CorpusPanel {
    loaded: Option<LoadedCorpus>,
    /// The folder being parsed, and the parse.
    loading: Option<PathBuf>,
    load_job: Job<LoadedCorpus, LoadProgress>,
    folder_dialog: Job<Option<PathBuf>>,
    file_dialog: Job<Option<PathBuf>>,
    selected: Option<usize>,
    /// A new name being typed for a flat folder's one style.
    style_name: String,
}

impl CorpusPanel {
    /// Starts loading the last corpus, or the demo corpus on first run.
    pub fn new(shared: &mut Shared) -> Self {
        let mut panel = Self::default();
        let dir = match shared.settings.corpus_dir.clone().filter(|d| d.is_dir()) {
            Some(dir) => Some(dir),
            None => demo_corpus_dir(shared),
        };
        if let Some(dir) = dir {
            panel.load(dir, shared);
        }
        panel
    }

    fn prepared(&self) -> Option<&Prepared> {
        self.loaded.as_ref().and_then(|l| l.prepared.as_ref())
    }

    /// The training data of the included pieces of the loaded corpus.
    pub fn data(&self) -> Option<Arc<TrainData>> {
        self.prepared().map(|p| Arc::clone(&p.data))
    }

    /// The included pieces' profile, to compare takes with, and the corpus's name to say so.
    pub fn profile(&self) -> Option<(String, Arc<CorpusProfile>)> {
        self.prepared().map(|p| {
            let name = p.data.corpus.name().unwrap_or_else(|| "the corpus".into());
            (name, Arc::clone(&p.profile))
        })
    }

    /// What the panel is busy with, for the status bar.
    pub fn job(&self) -> Option<String> {
        if self.load_job.is_running() {
            let (done, total) = self.parse_progress();
            return Some(format!("Parsing {done}/{total}"));
        }
        self.loaded
            .as_ref()
            .filter(|l| l.preparing.is_running())
            .map(|_| "Preparing training data".to_string())
    }

    fn parse_progress(&self) -> (usize, usize) {
        self.load_job
            .progress()
            .map_or((0, 0), |p| (p.done, p.total))
    }

    /// Starts parsing `dir` on a worker thread (superseding a parse still running).
    pub fn load(&mut self, dir: PathBuf, shared: &mut Shared) {
        let worker_dir = dir.clone();
        self.load_job
            .start("cadenza-corpus", &shared.repaint, move |ctx| {
                let progress = |p: LoadProgress| {
                    if p.done.is_multiple_of(8) || p.done == p.total {
                        ctx.update(p);
                    }
                };
                let corpus = corpus::load_dir(&worker_dir, &progress)?;
                ctx.check_cancelled()?;
                Ok(LoadedCorpus::new(corpus))
            });
        shared.settings.corpus_dir = Some(dir.clone());
        self.loading = Some(dir);
    }

    /// Asks for a corpus folder, starting beside the last one (else in the home folder), not
    /// on the toolkit's "Recent" list.
    pub fn open_folder_dialog(&mut self, shared: &Shared) {
        let folder = dialog_folder(shared.settings.corpus_dir.as_deref());
        self.folder_dialog.dialog(&shared.repaint, move || {
            with_folder(rfd::FileDialog::new(), folder).pick_folder()
        });
    }

    /// Asks for a single MIDI file to view and play, starting where a corpus folder would.
    pub fn open_file_dialog(&mut self, shared: &Shared) {
        let folder = dialog_folder(shared.settings.corpus_dir.as_deref());
        self.file_dialog.dialog(&shared.repaint, move || {
            with_folder(rfd::FileDialog::new(), folder)
                .add_filter("MIDI", &["mid", "midi"])
                .pick_file()
        });
    }

    /// Takes finished work: a parsed corpus, answered dialogs, dropped files.
    pub fn poll(&mut self, shared: &mut Shared) {
        if let Some(loaded) = &mut self.loaded {
            loaded.poll(shared);
        }
        if let Some(result) = self.load_job.poll() {
            let dir = self.loading.take().unwrap_or_default();
            match result {
                Ok(mut loaded) => {
                    if let Some(name) = shared.settings.style_names.get(&dir) {
                        loaded.rename_style(name, &shared.repaint);
                    }
                    self.selected = None;
                    self.loaded = Some(loaded);
                }
                Err(err) => shared.tell(format!("Cannot open {}: {err}", dir.display())),
            }
        }
        if let Some(Ok(Some(dir))) = self.folder_dialog.poll() {
            self.load(dir, shared);
        }
        if let Some(Ok(Some(path))) = self.file_dialog.poll() {
            open_single_file(&path, shared);
        }
    }

    /// Opens a folder as the corpus, or a MIDI file in the piano roll (playable, and usable as a
    /// primer): what dropping it on the window or `cadenza open PATH` does.
    pub fn open_path(&mut self, path: PathBuf, shared: &mut Shared) {
        if path.is_dir() {
            self.load(path, shared);
        } else {
            open_single_file(&path, shared);
        }
    }

    /// Draws the panel.
    pub fn ui(&mut self, ui: &mut egui::Ui, shared: &mut Shared) {
        ui.horizontal(|ui| {
            if ui.button("Open folder…").clicked() {
                self.open_folder_dialog(shared);
            }
            if ui
                .button("Demo corpus")
                .on_hover_text("32 études in 4 styles, written by Cadenza")
                .clicked()
                && let Some(dir) = demo_corpus_dir(shared)
            {
                self.load(dir, shared);
            }
        });
        ui.label(egui::RichText::new("…or drop a folder or MIDI file on the window.").weak());
        if self.load_job.is_running() {
            let (done, total) = self.parse_progress();
            ui.add(
                egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                    .text(format!("Parsing {done}/{total} files")),
            );
        }
        let Some(loaded) = &mut self.loaded else {
            return;
        };
        summary_ui(ui, loaded);
        if let Some(renamed) = one_style_ui(ui, loaded, &mut self.style_name) {
            loaded.rename_style(&renamed, &shared.repaint);
            // Remembered for the folder, so the name survives a restart.
            let folder = loaded.corpus.root.clone();
            shared
                .settings
                .style_names
                .insert(folder, renamed.trim().to_string());
        }
        ui.separator();
        let (clicked, choice_changed) = pieces_table(ui, loaded, self.selected);
        if choice_changed {
            loaded.reprepare(&shared.repaint);
        }
        if let Some(index) = clicked {
            self.selected = Some(index);
            let piece = &loaded.corpus.pieces[index];
            shared.show(display_name(piece), &piece.piece, 0.0);
            shared.sound.play();
        }
        if !loaded.corpus.skipped.is_empty() {
            ui.collapsing(
                format!("{} files skipped", loaded.corpus.skipped.len()),
                |ui| {
                    for skipped in &loaded.corpus.skipped {
                        ui.label(format!("{}: {}", skipped.path.display(), skipped.reason));
                    }
                },
            );
        }
    }
}

fn display_name(piece: &corpus::CorpusPiece) -> String {
    match &piece.composer {
        Some(composer) => format!("{composer} / {}", piece.title),
        None => piece.title.clone(),
    }
}

fn summary_ui(ui: &mut egui::Ui, loaded: &LoadedCorpus) {
    let summary = &loaded.summary;
    ui.heading(
        loaded
            .corpus
            .root
            .file_name()
            .unwrap_or_default()
            .to_string_lossy(),
    );
    egui::Grid::new("corpus-stats")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label("Pieces");
            ui.label(pieces_label(summary.parsed, summary.composers.len()));
            ui.end_row();
            ui.label("Notes");
            ui.label(summary.notes.to_string());
            ui.end_row();
            ui.label("Duration");
            ui.label(format_time(summary.duration_s));
            ui.end_row();
            ui.label("Events");
            ui.label(summary.events.to_string());
            ui.end_row();
            ui.label("In time");
            ui.label(format!(
                "{} of {} pieces keep to their bars",
                summary.grid_pieces, summary.parsed
            ))
            .on_hover_text(format!(
                "Pieces whose notes follow their file's tempo map and time signatures (at least {:.0} % of onsets on a sixteenth or triplet of the beat; the median piece: {:.0} %). They teach a model tempo and meter; the others train without.",
                USABLE_FIT * 100.0,
                summary.median_grid_fit * 100.0
            ));
            ui.end_row();
            ui.label("Used for training");
            let included = loaded.included.iter().filter(|&&i| i).count();
            ui.label(format!("{included} of {} pieces", loaded.included.len()));
            ui.end_row();
        });
    let Some(prepared) = &loaded.prepared else {
        ui.add(egui::Spinner::new());
        return;
    };
    let bars: Vec<Bar> = prepared
        .profile
        .pitch_class_histogram
        .iter()
        .enumerate()
        .map(|(i, share)| Bar::new(i as f64, share * 100.0).name(PITCH_CLASS_NAMES[i]))
        .collect();
    Plot::new("pitch-classes")
        .height(110.0)
        .allow_zoom(false)
        .allow_drag(false)
        .allow_scroll(false)
        // A mark per pitch class, so every bar is named (the default spacing named C and A#).
        .x_grid_spacer(|_| {
            (0..12)
                .map(|pc| GridMark {
                    value: f64::from(pc),
                    step_size: 1.0,
                })
                .collect()
        })
        .x_axis_formatter(|mark, _| {
            PITCH_CLASS_NAMES
                .get(mark.value.round() as usize)
                .map_or(String::new(), |n| (*n).to_string())
        })
        .y_axis_label("% of notes")
        .show(ui, |plot| {
            plot.bar_chart(BarChart::new("Pitch classes", bars))
        });
}

/// "120 (1 style)", "337 (25 composers)": a folder without subfolders is one style.
pub(super) fn pieces_label(pieces: usize, composers: usize) -> String {
    match composers {
        1 => format!("{pieces} (1 style)"),
        n => format!("{pieces} ({n} composers)"),
    }
}

/// For a folder without subfolders: says it is one style and offers to rename it; returns the
/// new name when the composer asks for it.
fn one_style_ui(ui: &mut egui::Ui, loaded: &LoadedCorpus, name: &mut String) -> Option<String> {
    let style = loaded.corpus.one_style()?;
    ui.label(format!(
        "A folder without subfolders is one style, “{style}”: training learns it as a composer to ask for. Put the pieces in a subfolder per composer for a style each."
    ));
    let mut renamed = None;
    ui.horizontal(|ui| {
        ui.add(
            egui::TextEdit::singleline(name)
                .hint_text(style)
                .desired_width(140.0),
        );
        if ui
            .add_enabled(!name.trim().is_empty(), egui::Button::new("Rename style"))
            .clicked()
        {
            renamed = Some(std::mem::take(name));
        }
    });
    renamed
}

/// Where the open dialogs start: the folder holding the last corpus, else the home folder.
fn dialog_folder(last_corpus: Option<&Path>) -> Option<PathBuf> {
    last_corpus
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("HOME").map(PathBuf::from))
}

fn with_folder(dialog: rfd::FileDialog, folder: Option<PathBuf>) -> rfd::FileDialog {
    match folder {
        Some(folder) => dialog.set_directory(folder),
        None => dialog,
    }
}

/// Height of the pieces table before it scrolls.
const PIECES_TABLE_HEIGHT: f32 = 320.0;

/// The table of pieces with their include checkboxes; returns the row clicked and whether the
/// choice of pieces changed.
/// Widths of the pieces table's columns, in points (the title takes the rest, at least
/// [`MIN_TITLE_W`]).
const USE_W: f32 = 28.0;
const COMPOSER_W: f32 = 90.0;
const DURATION_W: f32 = 56.0;
const NOTES_W: f32 = 44.0;
const MIN_TITLE_W: f32 = 80.0;

fn pieces_table(
    ui: &mut egui::Ui,
    loaded: &mut LoadedCorpus,
    selected: Option<usize>,
) -> (Option<usize>, bool) {
    let mut clicked = None;
    let mut changed = false;
    ui.horizontal(|ui| {
        for (label, value) in [("Use all", true), ("Use none", false)] {
            if ui.small_button(label).clicked() {
                loaded.included.iter_mut().for_each(|i| *i = value);
                changed = true;
            }
        }
    });
    let row_height = ui.spacing().interact_size.y;
    // The title takes what the other columns leave, so Duration and Notes stay in view however
    // narrow the side panel (titles are elided, whole on hover).
    let fixed = USE_W + COMPOSER_W + DURATION_W + NOTES_W + 5.0 * ui.spacing().item_spacing.x;
    let title_w = (ui.available_width() - fixed).max(MIN_TITLE_W);
    let columns = [
        ("Use", USE_W),
        ("Composer", COMPOSER_W),
        ("Title", title_w),
        ("Duration", DURATION_W),
    ];
    ui.horizontal(|ui| {
        for (header, width) in columns.into_iter().chain([("Notes", NOTES_W)]) {
            ui.add_sized(
                [width, row_height],
                egui::Label::new(egui::RichText::new(header).strong()),
            );
        }
    });
    // Only the rows in view are laid out: a corpus of thousands of pieces costs what a screenful does.
    egui::ScrollArea::vertical()
        // Per corpus: a newly loaded corpus opens at its first piece, not where the last was.
        .id_salt(("pieces", &loaded.corpus.root))
        .max_height(PIECES_TABLE_HEIGHT)
        .auto_shrink([false, true])
        .show_rows(ui, row_height, loaded.corpus.pieces.len(), |ui, rows| {
            for index in rows {
                let piece = &loaded.corpus.pieces[index];
                ui.horizontal(|ui| {
                    let cell = |width: f32| [width, row_height];
                    changed |= ui
                        .add_sized(
                            cell(columns[0].1),
                            egui::Checkbox::without_text(&mut loaded.included[index]),
                        )
                        .on_hover_text("Train on this piece")
                        .changed();
                    ui.add_sized(
                        cell(columns[1].1),
                        egui::Label::new(piece.composer.as_deref().unwrap_or("—")).truncate(),
                    );
                    if ui
                        .add_sized(
                            cell(columns[2].1),
                            egui::Button::selectable(selected == Some(index), &piece.title)
                                .truncate(),
                        )
                        .on_hover_text(format!("{}: show and play", piece.title))
                        .clicked()
                    {
                        clicked = Some(index);
                    }
                    ui.add_sized(
                        cell(columns[3].1),
                        egui::Label::new(format_time(piece.piece.duration_s())),
                    );
                    ui.label(piece.piece.notes.len().to_string());
                });
            }
        });
    (clicked, changed)
}

fn open_single_file(path: &Path, shared: &mut Shared) {
    match midi::read_file(path) {
        Ok(piece) => {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            shared.show(name.to_string(), &piece, 0.0);
        }
        Err(err) => shared.tell(format!("Cannot open {}: {err}", path.display())),
    }
}

/// The demo corpus in the app's data folder, written on first use.
fn demo_corpus_dir(shared: &mut Shared) -> Option<PathBuf> {
    let dir = shared.data.as_ref()?.demo_corpus();
    if !dir.is_dir()
        && let Err(err) = cadenza_core::demo::write_demo_corpus(&dir)
    {
        shared.tell(format!("Cannot write the demo corpus: {err}"));
        return None;
    }
    Some(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cadenza_core::corpus::{CorpusPiece, Split};
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    fn synthetic_corpus(pieces: usize) -> Corpus {
        let piece = midi::Piece::from_notes(vec![midi::Note {
            pitch: 60,
            start_s: 0.0,
            end_s: 1.0,
            velocity: 80,
        }]);
        Corpus {
            root: PathBuf::from("/synthetic"),
            pieces: (0..pieces)
                .map(|i| CorpusPiece {
                    path: PathBuf::from(format!("/synthetic/piece-{i}.mid")),
                    relative_path: format!("piece-{i}.mid"),
                    composer: Some("Anon".to_string()),
                    title: format!("piece-{i}"),
                    piece: piece.clone(),
                    events: Vec::new(),
                    split: Split::Train,
                })
                .collect(),
            skipped: Vec::new(),
        }
    }

    #[test]
    fn open_dialogs_start_beside_the_last_corpus() {
        let last = Path::new("/music/midi/chorales");
        assert_eq!(
            dialog_folder(Some(last)),
            Some(PathBuf::from("/music/midi"))
        );
    }

    #[test]
    fn the_pieces_table_lays_out_only_the_rows_in_view() {
        let corpus = synthetic_corpus(10_000);
        let loaded = LoadedCorpus {
            summary: corpus.summary(),
            included: vec![true; corpus.pieces.len()],
            corpus: Arc::new(corpus),
            prepared: None,
            preparing: Job::default(),
        };
        let mut harness = Harness::builder().with_size([700.0, 800.0]).build_ui_state(
            |ui, loaded: &mut LoadedCorpus| {
                pieces_table(ui, loaded, None);
            },
            loaded,
        );
        harness.run();
        assert!(harness.query_by_label("piece-0").is_some());
        let laid_out = (0..10_000)
            .filter(|i| harness.query_by_label(&format!("piece-{i}")).is_some())
            .count();
        assert!(
            (5..=40).contains(&laid_out),
            "{laid_out} of 10 000 rows were laid out"
        );
        assert!(harness.query_by_label("piece-9999").is_none());
    }
}
