//! What the benchmarks share: the shared corpus and the Python environment with torch and
//! pretty_midi that `bash .ci/setup` installs.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The shared piano-midi.de corpus; prints why the benchmark skips when it is absent.
pub fn shared_corpus(benchmark: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/piano-midi-de");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "SKIP {benchmark}: the shared corpus is not at {}",
            dir.display()
        );
        None
    }
}

/// `python3` with set-up's packages (torch, pretty_midi) on its path.
pub fn python() -> Command {
    let pydeps = std::env::var_os("CADENZA_PYDEPS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".pydeps"));
    let mut command = Command::new("python3");
    command.env("PYTHONPATH", pydeps);
    command
}
