//! The fixtures that tests and benchmarks find outside the repository (the shared corpus, the
//! system SoundFont, set-up's Python packages). Where one is missing a test prints why and skips,
//! except under `CADENZA_REQUIRE_FIXTURES=1` (which `.ci/run` sets): then it fails, so CI cannot
//! pass by skipping. Shared by the tests (`support::fixtures`) and the benchmarks (`#[path]`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Set to `1` to turn every skip for a missing fixture into a failure.
pub const REQUIRE_VARIABLE: &str = "CADENZA_REQUIRE_FIXTURES";

/// Whether missing fixtures fail instead of skipping.
pub fn required() -> bool {
    std::env::var(REQUIRE_VARIABLE).is_ok_and(|v| v == "1")
}

/// Reports a missing fixture: a printed skip, or a failure when fixtures are required.
pub fn missing(what: &str, reason: &str) {
    assert!(
        !required(),
        "{what}: {reason} ({REQUIRE_VARIABLE}=1, so this fails instead of skipping)"
    );
    println!("SKIP {what}: {reason}");
}

fn present(path: PathBuf, what: &str, reason: &str) -> Option<PathBuf> {
    if path.exists() {
        return Some(path);
    }
    missing(what, &format!("{reason} ({} is missing)", path.display()));
    None
}

/// The shared piano-midi.de corpus beside the repository.
pub fn shared_corpus(what: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/piano-midi-de");
    present(dir, what, "the shared corpus is not there")
}

/// The General MIDI SoundFont that set-up installs.
pub fn system_soundfont(what: &str) -> Option<PathBuf> {
    present(
        PathBuf::from("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
        what,
        "no SoundFont (run `bash .ci/setup`)",
    )
}

/// The folder set-up installs Python packages into (torch, pretty_midi).
pub fn python_deps() -> PathBuf {
    std::env::var_os("CADENZA_PYDEPS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".pydeps"))
}

/// Whether pretty_midi is installed for the reference checks.
pub fn pretty_midi_available(what: &str) -> bool {
    present(
        python_deps().join("pretty_midi"),
        what,
        "pretty_midi is not installed (run `bash .ci/setup`)",
    )
    .is_some()
}

/// `python3` with set-up's packages on its path.
pub fn python() -> Command {
    let mut command = Command::new("python3");
    command.env("PYTHONPATH", python_deps());
    command
}

/// `python3` able to import torch, for the benchmarks' PyTorch references: the full layout that
/// `bash .ci/setup --bench` installs (the default lean layout has libtorch but not everything
/// Python torch imports).
pub fn python_with_torch() -> Command {
    let folder = std::env::var_os("CADENZA_BENCH_PYDEPS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".pydeps-bench"));
    assert!(
        folder.join("torch").is_dir(),
        "the PyTorch reference needs Python torch: run `bash .ci/setup --bench` first ({} is missing)",
        folder.display()
    );
    let mut command = Command::new("python3");
    command.env("PYTHONPATH", folder);
    command
}
