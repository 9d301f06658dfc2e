//! Starting the desktop app: the process's set-up (OpenMP, logging), settings that cannot be
//! read, and the window.

use std::path::{Path, PathBuf};

use cadenza_core::paths::DataDir;

use super::cadenza_app::CadenzaApp;

/// libgomp's spins before an idle OpenMP thread sleeps (its default is 300 000).
const OPENMP_SPIN_COUNT: &str = "100000";
/// The largest settings file read; a few kilobytes in practice.
const MAX_SETTINGS_BYTES: u64 = 16 << 20;

/// Opens the desktop app, on `open` (a corpus folder or a MIDI file) if given, and runs it until
/// its window closes. Records go to the data folder's log, and to stderr too when `verbose`.
pub fn run(open: Option<PathBuf>, verbose: bool) -> anyhow::Result<()> {
    if let Some(path) = &open
        && !path.exists()
    {
        anyhow::bail!("{}: no such file or folder", path.display());
    }
    // libtorch's OpenMP threads spin between parallel regions before they sleep. A short spin
    // keeps training as fast as on the command line (OMP_WAIT_POLICY=PASSIVE, no spin at all,
    // cost 40 % of the tokens/s) while idle pool threads leave the audio and UI threads alone
    // within microseconds. It must be set before libtorch starts its pool.
    if std::env::var_os("OMP_WAIT_POLICY").is_none() && std::env::var_os("GOMP_SPINCOUNT").is_none()
    {
        // SAFETY: set at start-up, before any other thread exists.
        unsafe { std::env::set_var("GOMP_SPINCOUNT", OPENMP_SPIN_COUNT) };
    }
    let data = DataDir::from_env();
    let log_file = data.as_ref().map(DataDir::log_file);
    crate::log::init(crate::log::Destinations {
        file: log_file.as_deref(),
        stderr: verbose,
    });
    tracing::info!("Cadenza {} starting", env!("CARGO_PKG_VERSION"));
    let startup_problem = data
        .as_ref()
        .and_then(|data| set_aside_unreadable_settings(&data.settings_file()));
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Cadenza")
            .with_app_id("cadenza")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([800.0, 500.0])
            .with_drag_and_drop(true),
        // Settings live in the data folder, so `CADENZA_DATA_DIR` moves them too.
        persistence_path: data.as_ref().map(DataDir::settings_file),
        ..Default::default()
    };
    eframe::run_native(
        "cadenza",
        options,
        Box::new(|cc| {
            let mut app = CadenzaApp::from_creation_context(cc, data);
            app.start_with(startup_problem, open);
            Ok(Box::new(app))
        }),
    )
    .map_err(|err| anyhow::anyhow!("the window could not open: {err}"))
}

/// Moves a settings file that cannot be parsed aside (eframe would silently start afresh and
/// overwrite it on exit); returns what to tell the user.
fn set_aside_unreadable_settings(path: &Path) -> Option<String> {
    // Read by the core: only a regular file, and not a huge one (settings are a few kilobytes).
    let bytes = cadenza_core::files::read_bounded(path, MAX_SETTINGS_BYTES).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let parsed: Result<std::collections::HashMap<String, String>, _> = ron::from_str(&text);
    let err = parsed.err()?;
    Some(match cadenza_core::files::move_aside(path) {
        Ok(aside) => format!(
            "The settings could not be read ({err}); they were moved to {} and defaults are used",
            aside.display()
        ),
        Err(move_err) => {
            format!("The settings could not be read ({err}) nor moved aside: {move_err}")
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_unreadable_settings_file_is_moved_aside_with_a_message() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("app.ron");
        assert_eq!(
            super::set_aside_unreadable_settings(&file),
            None,
            "no file: nothing to say"
        );
        std::fs::write(&file, "{\"cadenza-settings\": \"(corpus_dir: None)\"}").expect("written");
        assert_eq!(
            super::set_aside_unreadable_settings(&file),
            None,
            "readable: kept"
        );
        std::fs::write(&file, "{ this is not RON").expect("written");
        let message = super::set_aside_unreadable_settings(&file).expect("the user is told");
        assert!(message.contains("moved to"), "{message}");
        assert!(!file.exists());
        let kept = std::fs::read_dir(dir.path()).expect("listed").count();
        assert_eq!(kept, 1, "the unreadable file is kept aside");
    }
}
