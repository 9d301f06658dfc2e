//! The app's log: one line per message shown to the user, appended to `cadenza.log` in the data
//! folder, so problems can be reported after the window is gone.

use std::io::Write;

use cadenza_core::paths::DataDir;

/// Appends a line (with its UTC time); logging never fails the app.
pub fn line(data: &DataDir, message: &str) {
    let _ = std::fs::create_dir_all(data.root());
    let time = humantime::format_rfc3339_seconds(std::time::SystemTime::now());
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data.log_file())
    {
        let _ = writeln!(file, "{time} {message}");
    }
}
