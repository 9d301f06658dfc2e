//! The starter model that ships with Cadenza (`assets/models/starter.*`): trained on the
//! piano-midi.de corpus with the controls, so a composer can generate before training anything,
//! and fine-tune it on their own corpus instead of starting from scratch.
//!
//! Its weights derive from Bernd Krueger's piano-midi.de pieces and are shared under CC BY-SA 3.0
//! DE ([`ATTRIBUTION`]); the code stays MIT.

use std::path::{Path, PathBuf};

use crate::model::naming;

/// The starter's file stem, in `assets/models/` of a source tree and `models/` of an install.
pub const STEM_NAME: &str = "starter";

/// SHA-256 of the shipped `starter.safetensors`: a starter whose weights differ (a truncated
/// download, a Git LFS pointer, a file edited by hand) is refused by name rather than loaded.
pub const SHIPPED_WEIGHTS_SHA256: &str =
    "8335f808e2f4185aeb3a24bd81767a3877906274e7eccb4ae4103a73b34d2ec2";

/// Where the weights come from, wherever the starter is shown.
pub const ATTRIBUTION: &str = "Starter model: trained by Cadenza on the piano-midi.de pieces by Bernd Krueger \
     (http://www.piano-midi.de), CC BY-SA 3.0 DE; the weights are shared under the same licence.";

/// The places a starter is looked for, in order: `models/` beside the executable (an installed
/// bundle), then `assets/models/` of the source tree this Cadenza was built from.
pub fn candidates() -> Vec<PathBuf> {
    let mut stems = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        stems.push(dir.join("models").join(STEM_NAME));
    }
    // This crate lives in src/core of the source tree.
    let source_tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    stems.push(source_tree.join("assets/models").join(STEM_NAME));
    stems
}

/// The installed starter model's stem, if there is one.
pub fn find() -> Option<PathBuf> {
    candidates()
        .into_iter()
        .find(|stem| naming::meta_path(stem).is_file())
}

/// The guard every output goes through: nothing is written into a folder that holds the starter.
pub fn output_guard() -> crate::base::output_guard::OutputGuard {
    let folders = candidates().into_iter().filter_map(|stem| {
        naming::meta_path(&stem)
            .is_file()
            .then(|| stem.parent().map(Path::to_path_buf))
            .flatten()
    });
    crate::base::output_guard::OutputGuard::new().protecting(folders)
}

/// Whether `path` (a stem or either file) is the installed starter model.
pub fn is_starter(path: &Path) -> bool {
    let stem = naming::stem(path);
    if stem.file_name().is_none_or(|name| name != STEM_NAME) {
        return false;
    }
    let Some(folder) = stem.parent().and_then(|dir| dir.canonicalize().ok()) else {
        return false;
    };
    candidates().iter().any(|candidate| {
        candidate
            .parent()
            .and_then(|dir| dir.canonicalize().ok())
            .is_some_and(|dir| dir == folder)
    })
}

/// A checkpoint argument as given, except that "starter" (when no such file exists) names the
/// installed starter model.
pub fn resolve(argument: &Path) -> PathBuf {
    let names_starter = argument == Path::new(STEM_NAME)
        && !naming::meta_path(argument).exists()
        && !naming::weights_path(argument).exists();
    match find().filter(|_| names_starter) {
        Some(stem) => stem,
        None => argument.to_path_buf(),
    }
}
