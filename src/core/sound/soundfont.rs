//! Finding a SoundFont: the user's choice, then `soundfonts/` folders, then the system's.

use std::path::{Path, PathBuf};

use super::AudioError;

/// Debian's General MIDI SoundFont (package `fluid-soundfont-gm`, installed by set-up).
pub const SYSTEM_SOUNDFONT: &str = "/usr/share/sounds/sf2/FluidR3_GM.sf2";

/// The `soundfonts/` folder in the user's data folder.
pub fn user_soundfont_dir() -> Option<PathBuf> {
    crate::base::paths::DataDir::from_env().map(|dir| dir.soundfonts())
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

/// Where the SoundFont search ended: the first SoundFont that passed the structure check, and
/// the ones passed over because they failed it (each error names its file and the problem).
#[derive(Debug)]
pub struct SoundFontSearch {
    /// The SoundFont to use, or why there is none.
    pub found: Result<PathBuf, AudioError>,
    /// SoundFonts found before it that were refused.
    pub refused: Vec<AudioError>,
}

/// Searches [`soundfont_candidates`] for the first SoundFont that passes
/// [`soundfont_check`](super::soundfont_check): a folder yields its SoundFonts by name; a user's
/// choice that does not exist or is refused is passed over, so a broken download in the data
/// folder never stops Cadenza from making sound.
pub fn search_soundfont(user_choice: Option<&Path>) -> SoundFontSearch {
    let searched = soundfont_candidates(user_choice);
    let mut refused = Vec::new();
    for path in searched.iter().flat_map(|place| soundfonts_in(place)) {
        match super::soundfont_check::check_file(&path) {
            Ok(_) => {
                return SoundFontSearch {
                    found: Ok(path),
                    refused,
                };
            }
            Err(reason) => {
                let error = AudioError::bad_soundfont(&path, &reason);
                tracing::warn!(target: "cadenza::audio", "{error}");
                refused.push(error);
            }
        }
    }
    SoundFontSearch {
        found: Err(AudioError::NoSoundFont { searched }),
        refused,
    }
}

/// The first SoundFont that passes the structure check (see [`search_soundfont`]).
pub fn find_soundfont(user_choice: Option<&Path>) -> Result<PathBuf, AudioError> {
    search_soundfont(user_choice).found
}

fn soundfonts_in(place: &Path) -> Vec<PathBuf> {
    if place.is_file() {
        return vec![place.to_path_buf()];
    }
    let Ok(entries) = std::fs::read_dir(place) else {
        return Vec::new();
    };
    let mut fonts: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| is_soundfont(path))
        .collect();
    fonts.sort();
    fonts
}

fn is_soundfont(path: &Path) -> bool {
    path.is_file()
        && path.extension().is_some_and(|ext| {
            let ext = ext.to_ascii_lowercase();
            ext == "sf2" || ext == "sf3"
        })
}
