//! The Corpus room: choose a folder (the demo corpus on first run), see its pieces and
//! statistics, click a piece to view and hear it. Parsing runs on a worker thread.

mod loaded;
mod pieces_table;
#[cfg(test)]
mod probe;
mod summary;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cadenza_core::corpus::{self, LoadProgress};
use cadenza_core::midi;
use cadenza_core::stats::CorpusProfile;
use cadenza_core::train::TrainData;

use super::intent::{Intent, Intents, Showing};
use super::job::Job;
use super::shared::Shared;
use loaded::{LoadedCorpus, Prepared};
use pieces_table::{display_name, pieces_table};
use summary::{one_style_ui, summary_ui};

/// State of the Corpus room.
#[derive(Default)]
pub struct CorpusPanel {
    loaded: Option<LoadedCorpus>,
    /// The corpus folder: the last one opened (remembered between runs).
    folder: Option<PathBuf>,
    /// The style names given to flat folders, by folder (remembered between runs).
    style_names: BTreeMap<PathBuf, String>,
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
    /// Starts loading `folder` (the last corpus), or the demo corpus on first run; flat folders
    /// take the style names given them before.
    pub fn new(
        folder: Option<PathBuf>,
        style_names: BTreeMap<PathBuf, String>,
        shared: &Shared,
        intents: &mut Intents,
    ) -> Self {
        let mut panel = Self {
            style_names,
            ..Self::default()
        };
        let dir = match folder.filter(|d| d.is_dir()) {
            Some(dir) => Some(dir),
            None => demo_corpus_dir(shared, intents),
        };
        if let Some(dir) = dir {
            panel.load(dir, shared);
        }
        panel
    }

    /// What the room remembers between runs: the corpus folder and the style names.
    pub fn remembered(&self) -> (Option<PathBuf>, BTreeMap<PathBuf, String>) {
        (self.folder.clone(), self.style_names.clone())
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

    /// What the room is busy with, for the status bar.
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
    fn load(&mut self, dir: PathBuf, shared: &Shared) {
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
        self.folder = Some(dir.clone());
        self.loading = Some(dir);
    }

    /// Asks for a corpus folder, starting beside the last one (else in the home folder), not
    /// on the toolkit's "Recent" list.
    pub fn open_folder_dialog(&mut self, shared: &Shared) {
        let folder = dialog_folder(self.folder.as_deref());
        self.folder_dialog.dialog(&shared.repaint, move || {
            with_folder(rfd::FileDialog::new(), folder).pick_folder()
        });
    }

    /// Asks for a single MIDI file to view and play, starting where a corpus folder would.
    pub fn open_file_dialog(&mut self, shared: &Shared) {
        let folder = dialog_folder(self.folder.as_deref());
        self.file_dialog.dialog(&shared.repaint, move || {
            with_folder(rfd::FileDialog::new(), folder)
                .add_filter("MIDI", &["mid", "midi"])
                .pick_file()
        });
    }

    /// Takes finished work: a parsed corpus, prepared training data, answered dialogs.
    pub fn poll(&mut self, shared: &Shared, intents: &mut Intents) {
        if let Some(loaded) = &mut self.loaded {
            loaded.poll(intents);
        }
        if let Some(result) = self.load_job.poll() {
            let dir = self.loading.take().unwrap_or_default();
            match result {
                Ok(mut loaded) => {
                    if let Some(name) = self.style_names.get(&dir) {
                        loaded.rename_style(name, &shared.repaint);
                    }
                    self.selected = None;
                    self.loaded = Some(loaded);
                }
                Err(err) => intents.tell(format!("Cannot open {}: {err}", dir.display())),
            }
        }
        if let Some(Ok(Some(dir))) = self.folder_dialog.poll() {
            self.load(dir, shared);
        }
        if let Some(Ok(Some(path))) = self.file_dialog.poll() {
            open_single_file(&path, intents);
        }
    }

    /// Opens a folder as the corpus, or a MIDI file in the piano roll (playable, and usable as a
    /// primer): what dropping it on the window or `cadenza open PATH` does.
    pub fn open_path(&mut self, path: PathBuf, shared: &Shared, intents: &mut Intents) {
        if path.is_dir() {
            self.load(path, shared);
        } else {
            open_single_file(&path, intents);
        }
    }

    /// Draws the room.
    pub fn ui(&mut self, ui: &mut egui::Ui, shared: &Shared, intents: &mut Intents) {
        ui.horizontal(|ui| {
            if ui.button("Open folder…").clicked() {
                self.open_folder_dialog(shared);
            }
            if ui
                .button("Demo corpus")
                .on_hover_text("32 études in 4 styles, written by Cadenza")
                .clicked()
                && let Some(dir) = demo_corpus_dir(shared, intents)
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
            self.style_names.insert(folder, renamed.trim().to_string());
        }
        ui.separator();
        let (clicked, choice_changed) = pieces_table(ui, loaded, self.selected);
        if choice_changed {
            loaded.reprepare(&shared.repaint);
        }
        if let Some(index) = clicked {
            self.selected = Some(index);
            let piece = &loaded.corpus.pieces[index];
            let showing = Showing::piece(display_name(piece), piece.piece.clone());
            intents.push(Intent::Show(Box::new(showing)));
            intents.push(Intent::Play);
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

/// Shows a MIDI file in the roll, or says why it cannot be read.
fn open_single_file(path: &Path, intents: &mut Intents) {
    match midi::read_file(path) {
        Ok(piece) => {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            intents.push(Intent::Show(Box::new(Showing::piece(
                name.to_string(),
                piece,
            ))));
        }
        Err(err) => intents.tell(format!("Cannot open {}: {err}", path.display())),
    }
}

/// The demo corpus in the app's data folder, written on first use.
fn demo_corpus_dir(shared: &Shared, intents: &mut Intents) -> Option<PathBuf> {
    let dir = shared.data.as_ref()?.demo_corpus();
    if !dir.is_dir()
        && let Err(err) = cadenza_core::demo::write_demo_corpus(&dir)
    {
        intents.tell(format!("Cannot write the demo corpus: {err}"));
        return None;
    }
    Some(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_dialogs_start_beside_the_last_corpus() {
        let last = Path::new("/music/midi/chorales");
        assert_eq!(
            dialog_folder(Some(last)),
            Some(PathBuf::from("/music/midi"))
        );
    }
}
