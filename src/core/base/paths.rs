//! Where Cadenza keeps its own files: one [`DataDir`] names every file in the data folder.

use std::path::{Path, PathBuf};

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

    /// Where a run's weights go when its checkpoint cannot be written at save time.
    pub fn rescued_checkpoints(&self) -> PathBuf {
        self.checkpoints().join("rescued")
    }
}
