//! Records of what Cadenza did, through the `tracing` ecosystem: the core and the app emit events;
//! this sets up where they go. The app appends them to `cadenza.log` in the data folder (so problems
//! can be reported after the window is gone); `--verbose` also prints them on stderr. Each record
//! has a local timestamp and a level:
//!
//! ```text
//! 2026-11-27 09:14:03.512 +01:00  INFO cadenza_core::learn::keeping: saved checkpoint step=300 path=…
//! ```

use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::fmt::time::ChronoLocal;
use tracing_subscriber::fmt::writer::{BoxMakeWriter, MakeWriterExt};

/// Where records go.
#[derive(Debug, Clone, Copy, Default)]
pub struct Destinations<'a> {
    /// A log file, appended to (its folder is created).
    pub file: Option<&'a Path>,
    /// Also stderr (`--verbose`).
    pub stderr: bool,
}

/// Installs the process's record writer; with no destination, records are dropped. Logging never
/// stops Cadenza: a log file that cannot be opened is skipped (and said on stderr).
pub fn init(destinations: Destinations) {
    let file = destinations.file.and_then(|path| match open_append(path) {
        Ok(file) => Some(file),
        Err(err) => {
            eprintln!("warning: no log file ({}: {err})", path.display());
            None
        }
    });
    let writer: BoxMakeWriter = match (file, destinations.stderr) {
        (Some(file), true) => BoxMakeWriter::new(Mutex::new(file).and(std::io::stderr)),
        (Some(file), false) => BoxMakeWriter::new(Mutex::new(file)),
        (None, true) => BoxMakeWriter::new(std::io::stderr),
        (None, false) => return,
    };
    // A second call (tests build several apps in one process) keeps the first writer.
    let _ = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_timer(ChronoLocal::new("%Y-%m-%d %H:%M:%S%.3f %:z".to_string()))
        .with_max_level(tracing::Level::INFO)
        .try_init();
}

fn open_append(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}
