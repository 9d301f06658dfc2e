//! Checkpoint names, in one place: the two files of a checkpoint stem, the stems a training run
//! writes beside it, and new stems for the app's runs. Nothing here reads a checkpoint.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::base::files::with_suffix;
use crate::base::paths::DataDir;

/// The stem of a checkpoint given as the stem itself or either of its files.
pub fn stem(path: &Path) -> PathBuf {
    match path.extension().and_then(|e| e.to_str()) {
        Some("safetensors" | "json") => path.with_extension(""),
        _ => path.to_path_buf(),
    }
}

/// Both files of the checkpoint `stem`: the weights and the description.
pub fn files(stem: &Path) -> [PathBuf; 2] {
    [weights_path(stem), meta_path(stem)]
}

/// `P.safetensors`.
pub fn weights_path(stem: &Path) -> PathBuf {
    with_suffix(stem, ".safetensors")
}

/// `P.json`.
pub fn meta_path(stem: &Path) -> PathBuf {
    with_suffix(stem, ".json")
}

/// The stem of the best checkpoint of a run written to `out`: the lowest full validation loss.
pub fn best_stem(out: &Path) -> PathBuf {
    with_suffix(out, ".best")
}

/// Where a resumed run that ended worse than its starting checkpoint leaves its weights.
pub fn worse_stem(out: &Path) -> PathBuf {
    with_suffix(out, ".resumed-worse")
}

/// A new checkpoint's stem under [`DataDir::checkpoints`]: readable
/// (`chorales-quick-2026-11-27T06-12-00`) and unique (a counter is added when taken).
pub fn new_checkpoint_stem(data: &DataDir, corpus: &str, preset: &str, now: SystemTime) -> PathBuf {
    let base = format!("{}-{preset}-{}", file_safe(corpus), timestamp(now));
    let folder = data.checkpoints();
    (1..)
        .map(|n| match n {
            1 => folder.join(&base),
            n => folder.join(format!("{base}-{n}")),
        })
        .find(|stem| !meta_path(stem).exists())
        .unwrap_or_else(|| folder.join(base))
}

/// The time as a file-name-safe stamp: `2026-11-27T06-12-00`.
fn timestamp(now: SystemTime) -> String {
    humantime::format_rfc3339_seconds(now)
        .to_string()
        .trim_end_matches('Z')
        .replace(':', "-")
}

/// A name reduced to letters, digits, `-` and `_` (at most 40), for a file stem.
fn file_safe(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    let trimmed = safe.trim_matches('-');
    if trimmed.is_empty() {
        "corpus".to_string()
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn checkpoint_stems_are_readable_and_unique() {
        let dir = std::env::temp_dir().join(format!("cadenza-paths-{}", std::process::id()));
        let data = DataDir::new(&dir);
        let now = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        let first = new_checkpoint_stem(&data, "Bach chorales/", "quick", now);
        assert_eq!(
            first.file_name().unwrap().to_str().unwrap(),
            "Bach-chorales-quick-2026-11-18T11-06-40"
        );
        std::fs::create_dir_all(data.checkpoints()).unwrap();
        std::fs::write(meta_path(&first), "{}").unwrap();
        let second = new_checkpoint_stem(&data, "Bach chorales/", "quick", now);
        assert!(second.to_str().unwrap().ends_with("-2"), "{second:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
