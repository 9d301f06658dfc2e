//! Where Cadenza keeps its own files: one [`DataDir`] names every file in the data folder, and
//! new checkpoints get a unique file stem beside a readable label.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Overrides the data folder (portable installs, scripts).
pub const DATA_DIR_VARIABLE: &str = "CADENZA_DATA_DIR";

/// The app's data folder and the layout inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// A data folder at `root` (tests pass a temporary folder).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// `$CADENZA_DATA_DIR`, else the platform's user data folder + `cadenza`
    /// (`~/.local/share/cadenza` on Linux).
    pub fn from_env() -> Option<Self> {
        std::env::var_os(DATA_DIR_VARIABLE)
            .map(PathBuf::from)
            .or_else(|| dirs::data_dir().map(|dir| dir.join("cadenza")))
            .map(Self::new)
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The generated takes.
    pub fn takes_file(&self) -> PathBuf {
        self.root.join("takes.json")
    }

    /// The app's settings (window, last corpus, controls). Named as eframe names its default
    /// file, which lived in this same folder before, so settings written then still load.
    pub fn settings_file(&self) -> PathBuf {
        self.root.join("app.ron")
    }

    /// The log of messages shown to the user.
    pub fn log_file(&self) -> PathBuf {
        self.root.join("cadenza.log")
    }

    /// SoundFonts the user added.
    pub fn soundfonts(&self) -> PathBuf {
        self.root.join("soundfonts")
    }

    /// Where the built-in demo corpus is written.
    pub fn demo_corpus(&self) -> PathBuf {
        self.root.join("demo-corpus")
    }

    /// Checkpoints trained in the app.
    pub fn checkpoints(&self) -> PathBuf {
        self.root.join("checkpoints")
    }

    /// A new checkpoint's stem under [`DataDir::checkpoints`]: readable
    /// (`chorales-quick-2026-11-27T06-12-00`) and unique (a counter is added when taken).
    pub fn new_checkpoint_stem(&self, corpus: &str, preset: &str, now: SystemTime) -> PathBuf {
        let base = format!("{}-{preset}-{}", file_safe(corpus), timestamp(now));
        let folder = self.checkpoints();
        (1..)
            .map(|n| match n {
                1 => folder.join(&base),
                n => folder.join(format!("{base}-{n}")),
            })
            .find(|stem| !crate::checkpoint::meta_path(stem).exists())
            .unwrap_or_else(|| folder.join(base))
    }
}

/// A label for people: "chorales · quick · 2026-11-27 06:12".
pub fn checkpoint_label(corpus: &str, preset: &str, saved: SystemTime) -> String {
    let time = humantime::format_rfc3339_seconds(saved).to_string();
    let minutes = time.get(..16).unwrap_or(&time).replace('T', " ");
    format!("{corpus} · {preset} · {minutes}")
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
        let first = data.new_checkpoint_stem("Bach chorales/", "quick", now);
        assert_eq!(
            first.file_name().unwrap().to_str().unwrap(),
            "Bach-chorales-quick-2026-11-18T11-06-40"
        );
        std::fs::create_dir_all(data.checkpoints()).unwrap();
        std::fs::write(crate::checkpoint::meta_path(&first), "{}").unwrap();
        let second = data.new_checkpoint_stem("Bach chorales/", "quick", now);
        assert!(second.to_str().unwrap().ends_with("-2"), "{second:?}");
        assert_eq!(
            checkpoint_label("chorales", "quick", now),
            "chorales · quick · 2026-11-18 11:06"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
