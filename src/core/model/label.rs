//! Checkpoints as people read them: "demo-corpus · quick · 2026-11-27 06:12", "… · fine-tuned ·
//! …", or "Starter model (piano-midi.de)".

use std::path::Path;
use std::time::SystemTime;

use crate::model::{checkpoint, preset::Preset, starter};
use crate::music::controls::ControlsMeta;

/// A label for people: "Starter model (piano-midi.de)" for the shipped starter, else corpus,
/// preset (or "fine-tuned", or "custom") and the time saved; the file name when the description
/// cannot be read.
pub fn checkpoint_label(path: &Path) -> String {
    if starter::is_starter(path) {
        return "Starter model (piano-midi.de)".to_string();
    }
    let stem = &checkpoint::stem(path);
    let file_name = || {
        stem.file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into())
    };
    let Ok(meta) = checkpoint::load_meta(stem) else {
        return file_name();
    };
    let corpus = meta.corpus.name().unwrap_or_else(|| "corpus".into());
    let preset = how_made(&meta);
    match std::fs::metadata(checkpoint::meta_path(stem)).and_then(|m| m.modified()) {
        Ok(saved) => describe(&corpus, preset, saved),
        Err(_) => file_name(),
    }
}

/// A short name for lists of takes: "Starter" for the shipped starter, else the corpus and how
/// the model was made ("bach · fine-tuned", "chorales · quick"); the file name when the
/// description cannot be read.
pub fn model_name(path: &Path) -> String {
    if starter::is_starter(path) {
        return "Starter".to_string();
    }
    let stem = &checkpoint::stem(path);
    match checkpoint::load_meta(stem) {
        Ok(meta) => format!(
            "{} · {}",
            meta.corpus.name().unwrap_or_else(|| "corpus".into()),
            how_made(&meta)
        ),
        Err(_) => stem
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into()),
    }
}

/// "fine-tuned", the preset's name, or "custom".
fn how_made(meta: &checkpoint::CheckpointMeta) -> &'static str {
    if meta.provenance.initialized_from.is_some() {
        "fine-tuned"
    } else {
        [Preset::Quick, Preset::Standard]
            .into_iter()
            .find(|preset| preset.model() == meta.model)
            .map_or("custom", Preset::name)
    }
}

/// "chorales · quick · 2026-11-27 06:12".
fn describe(corpus: &str, preset: &str, saved: SystemTime) -> String {
    let time = humantime::format_rfc3339_seconds(saved).to_string();
    let minutes = time.get(..16).unwrap_or(&time).replace('T', " ");
    format!("{corpus} · {preset} · {minutes}")
}

/// A checkpoint as a front end shows it: its label and what it can be steered by, read again
/// when the checkpoint or its description file changes (a save by training, a file that was
/// missing and is back).
#[derive(Debug, Clone)]
pub struct ModelCard {
    /// The checkpoint as it was given.
    pub path: std::path::PathBuf,
    modified: Option<std::time::SystemTime>,
    /// For people (see [`checkpoint_label`]).
    pub label: String,
    /// What it can be steered by; `None` for a model without controls (or unreadable).
    pub controls: Option<ControlsMeta>,
}

impl ModelCard {
    /// Reads the checkpoint at `path` (a stem or either file).
    pub fn read(path: &std::path::Path) -> Self {
        Self {
            path: path.to_path_buf(),
            modified: Self::modified(path),
            label: checkpoint_label(path),
            controls: checkpoint::load_meta(path).ok().and_then(|m| m.controls),
        }
    }

    /// When the description file was last written.
    fn modified(path: &std::path::Path) -> Option<std::time::SystemTime> {
        std::fs::metadata(checkpoint::meta_path(path))
            .and_then(|m| m.modified())
            .ok()
    }

    /// Whether this describes `current` as it is on disk now.
    pub fn is_current(&self, current: &std::path::Path) -> bool {
        self.path == current && self.modified == Self::modified(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn a_label_names_corpus_preset_and_minute() {
        let now = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        assert_eq!(
            describe("chorales", "quick", now),
            "chorales · quick · 2026-11-18 11:06"
        );
    }
}
