//! Where Cadenza keeps its own files: SoundFonts the user adds, generated takes, logs.

use std::path::PathBuf;

/// Overrides the data folder (tests, portable installs).
pub const DATA_DIR_VARIABLE: &str = "CADENZA_DATA_DIR";

/// The app's data folder: `$CADENZA_DATA_DIR`, else the platform's user data folder + `cadenza`
/// (`~/.local/share/cadenza` on Linux, the same folder eframe keeps the window state in).
pub fn data_dir() -> Option<PathBuf> {
    std::env::var_os(DATA_DIR_VARIABLE)
        .map(PathBuf::from)
        .or_else(|| dirs::data_dir().map(|dir| dir.join("cadenza")))
}
