//! A corpus: every MIDI file under a folder, parsed and encoded in parallel, split by piece into
//! training and validation sets, with per-file errors kept instead of stopping the load.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::music::encoding::{self, EventId};
use crate::music::midi::{self, Piece};
use crate::music::stats::PitchCounts;

/// Roughly one piece in this many goes to validation.
const VALID_ONE_IN: u64 = 10;

/// Whether a piece is trained on or held out to measure the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Used for training.
    Train,
    /// Held out: scored for the validation loss, never trained on.
    Valid,
}

/// One parsed and encoded file of a corpus.
#[derive(Debug, Clone)]
pub struct CorpusPiece {
    /// Where the file is.
    pub path: PathBuf,
    /// Path relative to the corpus folder, with `/` separators: the piece's stable identity.
    pub relative_path: String,
    /// Name of the folder holding the file (the corpus folder's own for a corpus without
    /// subfolders); `None` for loose files beside composer folders.
    pub composer: Option<String>,
    /// The file's name without extension.
    pub title: String,
    /// Raw notes and pedal.
    pub piece: Piece,
    /// The piece encoded with the pedal applied.
    pub events: Vec<EventId>,
    /// Training or validation.
    pub split: Split,
}

/// A file that could not be used, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// A one-line explanation for the composer.
    pub reason: String,
}

/// Every usable piece of a folder, plus the files that were skipped.
#[derive(Debug, Clone, Default)]
pub struct Corpus {
    /// The folder the corpus was loaded from (or the single file's folder).
    pub root: PathBuf,
    /// Parsed pieces, in path order.
    pub pieces: Vec<CorpusPiece>,
    /// Files that failed to read or parse.
    pub skipped: Vec<Skipped>,
}

/// Why a corpus could not be loaded at all (single bad files are [`Skipped`] instead).
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// The path does not exist.
    #[error("{0}: no such file or folder")]
    NotFound(PathBuf),
    /// The folder holds no `.mid` or `.midi` files.
    #[error("{0}: no MIDI files (.mid, .midi) in this folder or below")]
    NoMidiFiles(PathBuf),
    /// The folder could not be listed.
    #[error("{path}: {source}")]
    Io {
        /// What could not be read.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

/// Load progress: how many of the files are done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadProgress {
    /// Files parsed (or skipped) so far.
    pub done: usize,
    /// Files to parse in all.
    pub total: usize,
}

/// Lists the MIDI files under `dir`, recursively, sorted by path.
pub fn find_midi_files(dir: &Path) -> Result<Vec<PathBuf>, CorpusError> {
    if !dir.exists() {
        return Err(CorpusError::NotFound(dir.to_path_buf()));
    }
    let mut walk = Walk::default();
    walk.collect(dir)?;
    let mut files = walk.files;
    files.sort();
    Ok(files)
}

/// A walk through a folder tree that visits each folder and keeps each file once, by identity
/// (device and inode): a symlink loop (`a/b -> ..`) or two links to one folder would otherwise
/// read the same pieces again and again, and put copies in both training and validation.
#[derive(Default)]
struct Walk {
    seen: std::collections::HashSet<(u64, u64)>,
    files: Vec<PathBuf>,
}

impl Walk {
    /// Whether `path` leads to something not visited yet (and marks it visited).
    fn first_visit(&mut self, path: &Path) -> bool {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).is_ok_and(|m| self.seen.insert((m.dev(), m.ino())))
    }

    fn collect(&mut self, dir: &Path) -> Result<(), CorpusError> {
        let io_error = |source| CorpusError::Io {
            path: dir.to_path_buf(),
            source,
        };
        if !self.first_visit(dir) {
            return Ok(());
        }
        let mut entries = std::fs::read_dir(dir)
            .map_err(io_error)?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(io_error)?;
        // By name, so the path kept for a file reached twice is the same on every run.
        entries.sort();
        for path in entries {
            if path.is_dir() {
                self.collect(&path)?;
            } else if is_midi_file(&path) && self.first_visit(&path) {
                self.files.push(path);
            }
        }
        Ok(())
    }
}

/// Whether a path has a MIDI file extension (`.mid` or `.midi`, any case).
pub fn is_midi_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("mid") || e.eq_ignore_ascii_case("midi"))
}

/// Loads every MIDI file under `dir` (see [`load_files`]).
pub fn load_dir(
    dir: &Path,
    progress: &(dyn Fn(LoadProgress) + Sync),
) -> Result<Corpus, CorpusError> {
    let files = find_midi_files(dir)?;
    if files.is_empty() {
        return Err(CorpusError::NoMidiFiles(dir.to_path_buf()));
    }
    let corpus = load_files(dir, &files, progress);
    tracing::info!(
        folder = %dir.display(),
        pieces = corpus.pieces.len(),
        skipped = corpus.skipped.len(),
        "corpus loaded"
    );
    for skipped in &corpus.skipped {
        tracing::warn!(file = %skipped.path.display(), "skipped: {}", skipped.reason);
    }
    Ok(corpus)
}

/// Parses and encodes `files` in parallel. Composer and split are derived from each file's path
/// relative to `root`. Files that fail are listed in [`Corpus::skipped`]; `progress` is called from
/// worker threads as files complete.
pub fn load_files(
    root: &Path,
    files: &[PathBuf],
    progress: &(dyn Fn(LoadProgress) + Sync),
) -> Corpus {
    let done = AtomicUsize::new(0);
    let total = files.len();
    let results: Vec<Result<CorpusPiece, Skipped>> = files
        .par_iter()
        .map(|path| {
            let result = load_piece(root, path);
            let done = done.fetch_add(1, Ordering::Relaxed) + 1;
            progress(LoadProgress { done, total });
            result
        })
        .collect();
    let mut corpus = Corpus {
        root: root.to_path_buf(),
        ..Corpus::default()
    };
    for result in results {
        match result {
            Ok(piece) => corpus.pieces.push(piece),
            Err(skipped) => corpus.skipped.push(skipped),
        }
    }
    name_a_flat_folder_as_one_style(&mut corpus);
    ensure_validation_piece(&mut corpus.pieces);
    corpus
}

/// A folder of MIDI files with no subfolders is one style, named after the folder: otherwise a
/// fine-tune on it (120 chorales in `bach/`) would learn no style to ask for. Loose files beside
/// composer folders keep no style, as before.
fn name_a_flat_folder_as_one_style(corpus: &mut Corpus) {
    if corpus.pieces.iter().any(|p| p.composer.is_some()) {
        return;
    }
    let Some(name) = corpus
        .root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
    else {
        return;
    };
    for piece in &mut corpus.pieces {
        piece.composer = Some(name.clone());
    }
}

fn load_piece(root: &Path, path: &Path) -> Result<CorpusPiece, Skipped> {
    let piece = midi::read_file(path).map_err(|err| Skipped {
        path: path.to_path_buf(),
        reason: err.to_string(),
    })?;
    let relative = path.strip_prefix(root).unwrap_or(path);
    let relative_path = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/");
    let composer = relative
        .parent()
        .and_then(|p| p.file_name())
        .map(|name| name.to_string_lossy().into_owned());
    let title = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(CorpusPiece {
        path: path.to_path_buf(),
        split: split_of(&relative_path),
        composer,
        title,
        events: encoding::encode_piece(&piece),
        piece,
        relative_path,
    })
}

fn path_hash(relative_path: &str) -> u64 {
    let digest = Sha256::digest(relative_path.as_bytes());
    u64::from_be_bytes(digest[..8].try_into().unwrap_or_default())
}

/// The split of a piece: a hash of its path relative to the corpus folder, so it does not depend on
/// where the corpus lives, on load order or on the platform.
pub fn split_of(relative_path: &str) -> Split {
    if path_hash(relative_path).is_multiple_of(VALID_ONE_IN) {
        Split::Valid
    } else {
        Split::Train
    }
}

/// With two or more pieces there must be at least one of each split: the hash decides which.
fn ensure_validation_piece(pieces: &mut [CorpusPiece]) {
    if pieces.len() < 2 {
        return;
    }
    let by_hash = |split: Split, pieces: &mut [CorpusPiece]| {
        let chosen = pieces
            .iter()
            .enumerate()
            .filter(|(_, p)| p.split != split)
            .min_by_key(|(_, p)| path_hash(&p.relative_path))
            .map(|(i, _)| i);
        if let Some(index) = chosen {
            pieces[index].split = split;
        }
    };
    if pieces.iter().all(|p| p.split == Split::Train) {
        by_hash(Split::Valid, pieces);
    } else if pieces.iter().all(|p| p.split == Split::Valid) {
        by_hash(Split::Train, pieces);
    }
}

/// What `cadenza inspect` reports for a file or a folder.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    /// MIDI files found.
    pub files: usize,
    /// Files parsed successfully.
    pub parsed: usize,
    /// Files that failed, with reasons.
    pub skipped: Vec<Skipped>,
    /// Raw notes (as pretty_midi counts them).
    pub notes: usize,
    /// Encoded events (pedal applied).
    pub events: usize,
    /// Total length of the parsed pieces in seconds.
    pub duration_s: f64,
    /// Pieces per composer (loose files beside composer folders have none; a folder without
    /// subfolders is one composer, named after it).
    pub composers: BTreeMap<String, usize>,
    /// Lowest pitch played.
    pub pitch_min: Option<u8>,
    /// Highest pitch played.
    pub pitch_max: Option<u8>,
    /// Share of notes on each pitch class, C first; sums to 1.
    pub pitch_class_histogram: [f64; 12],
    /// Pieces whose onsets follow their own bar grid ([`crate::music::meter::USABLE_FIT`]):
    /// those that teach a model tempo and meter.
    pub grid_pieces: usize,
    /// Median share of onsets on each piece's own grid (0 without pieces).
    pub median_grid_fit: f64,
}

impl Corpus {
    /// The pieces for which `keep(index)` holds (the composer's include/exclude choice), with the
    /// split re-balanced so that training still has a validation piece.
    pub fn subset(&self, keep: impl Fn(usize) -> bool) -> Corpus {
        let mut pieces: Vec<CorpusPiece> = self
            .pieces
            .iter()
            .enumerate()
            .filter(|&(index, _)| keep(index))
            .map(|(_, piece)| piece.clone())
            .collect();
        for piece in &mut pieces {
            piece.split = split_of(&piece.relative_path);
        }
        ensure_validation_piece(&mut pieces);
        Corpus {
            root: self.root.clone(),
            pieces,
            skipped: self.skipped.clone(),
        }
    }

    /// The one style of a folder without subfolders (named after the folder when loaded), or
    /// `None` for a corpus of composer folders.
    pub fn one_style(&self) -> Option<&str> {
        let first = self.pieces.first()?.composer.as_deref()?;
        let flat = self
            .pieces
            .iter()
            .all(|p| !p.relative_path.contains('/') && p.composer.as_deref() == Some(first));
        flat.then_some(first)
    }

    /// Renames the style of every piece labelled `from` to `to` (a composer's name for the
    /// folder's one style, say); an empty or unchanged name changes nothing.
    pub fn rename_style(&mut self, from: &str, to: &str) {
        let to = to.trim();
        if to.is_empty() || to == from {
            return;
        }
        for piece in &mut self.pieces {
            if piece.composer.as_deref() == Some(from) {
                piece.composer = Some(to.to_string());
            }
        }
    }

    /// Pieces of one split.
    pub fn split(&self, split: Split) -> impl Iterator<Item = &CorpusPiece> {
        self.pieces.iter().filter(move |p| p.split == split)
    }

    /// Pitch counts over all pieces.
    pub fn pitch_counts(&self) -> PitchCounts {
        let mut counts = PitchCounts::default();
        for piece in &self.pieces {
            counts.merge(&PitchCounts::of_notes(&piece.piece.notes));
        }
        counts
    }

    /// Statistics over the whole corpus.
    pub fn summary(&self) -> Summary {
        let pitches = self.pitch_counts();
        let mut composers = BTreeMap::new();
        for composer in self.pieces.iter().filter_map(|p| p.composer.clone()) {
            *composers.entry(composer).or_insert(0) += 1;
        }
        Summary {
            files: self.pieces.len() + self.skipped.len(),
            parsed: self.pieces.len(),
            skipped: self.skipped.clone(),
            notes: self.pieces.iter().map(|p| p.piece.notes.len()).sum(),
            events: self.pieces.iter().map(|p| p.events.len()).sum(),
            duration_s: self.pieces.iter().map(|p| p.piece.duration_s()).sum(),
            composers,
            pitch_min: pitches.min(),
            pitch_max: pitches.max(),
            pitch_class_histogram: pitches.pitch_class_histogram(),
            grid_pieces: self
                .pieces
                .iter()
                .filter(|p| p.piece.usable_grid().is_some())
                .count(),
            median_grid_fit: crate::music::stats::median(
                self.pieces
                    .iter()
                    .filter_map(|p| p.piece.grid_fit())
                    .collect(),
            ),
        }
    }
}
