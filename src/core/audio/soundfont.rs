//! Finding a SoundFont: the user's choice, then `soundfonts/` folders, then the system's.

use std::path::{Path, PathBuf};

use super::AudioError;

/// Debian's General MIDI SoundFont (package `fluid-soundfont-gm`, installed by set-up).
pub const SYSTEM_SOUNDFONT: &str = "/usr/share/sounds/sf2/FluidR3_GM.sf2";

/// The `soundfonts/` folder in the user's data folder.
pub fn user_soundfont_dir() -> Option<PathBuf> {
    crate::paths::DataDir::from_env().map(|dir| dir.soundfonts())
}

/// The places searched, in order: the user's choice, `soundfonts/` beside the executable, in the
/// working directory and in the user's data folder, then [`SYSTEM_SOUNDFONT`].
pub fn soundfont_candidates(user_choice: Option<&Path>) -> Vec<PathBuf> {
    let mut places: Vec<PathBuf> = user_choice.map(Path::to_path_buf).into_iter().collect();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        places.push(dir.join("soundfonts"));
    }
    if let Ok(dir) = std::env::current_dir() {
        places.push(dir.join("soundfonts"));
    }
    places.extend(user_soundfont_dir());
    places.push(PathBuf::from(SYSTEM_SOUNDFONT));
    places
}

/// The first SoundFont found in [`soundfont_candidates`]. A folder yields its first `.sf2` or
/// `.sf3` file by name. A user's choice that does not exist is skipped, not fatal: the search goes on.
pub fn find_soundfont(user_choice: Option<&Path>) -> Result<PathBuf, AudioError> {
    let searched = soundfont_candidates(user_choice);
    searched
        .iter()
        .find_map(|place| soundfont_in(place))
        .ok_or(AudioError::NoSoundFont { searched })
}

fn soundfont_in(place: &Path) -> Option<PathBuf> {
    if place.is_file() {
        return Some(place.to_path_buf());
    }
    let mut fonts: Vec<PathBuf> = std::fs::read_dir(place)
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| is_soundfont(path))
        .collect();
    fonts.sort();
    fonts.into_iter().next()
}

fn is_soundfont(path: &Path) -> bool {
    path.is_file()
        && path.extension().is_some_and(|ext| {
            let ext = ext.to_ascii_lowercase();
            ext == "sf2" || ext == "sf3"
        })
}
