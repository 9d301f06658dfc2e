//! The `cadenza` executable: the desktop app, and the same features headless from the command line.

mod cli;
mod console;
mod eval_cmd;
mod generate_cmd;
mod log;
mod render_cmd;
mod train_cmd;
mod ui;

fn main() -> std::process::ExitCode {
    cli::main()
}

/// Opens the desktop app and runs it until its window closes.
pub fn run_app() -> anyhow::Result<()> {
    // libtorch's OpenMP threads otherwise spin between parallel regions and starve the audio
    // and UI threads on small machines; it must be set before libtorch starts its pool.
    if std::env::var_os("OMP_WAIT_POLICY").is_none() {
        // SAFETY: set at start-up, before any other thread exists.
        unsafe { std::env::set_var("OMP_WAIT_POLICY", "PASSIVE") };
    }
    log::line(&format!("Cadenza {} starting", env!("CARGO_PKG_VERSION")));
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Cadenza")
            .with_app_id("cadenza")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([800.0, 500.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "cadenza",
        options,
        Box::new(|cc| Ok(Box::new(ui::CadenzaApp::from_creation_context(cc)))),
    )
    .map_err(|err| anyhow::anyhow!("the window could not open: {err}"))
}
