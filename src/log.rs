//! The app's log: one line per message shown to the user, appended to `cadenza.log` in the data
//! folder, so problems can be reported after the window is gone.

use std::io::Write;

/// Appends a line (with seconds since the Unix epoch); logging never fails the app.
pub fn line(message: &str) {
    let Some(dir) = cadenza::paths::data_dir() else {
        return;
    };
    let _ = std::fs::create_dir_all(&dir);
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("cadenza.log"))
    {
        let _ = writeln!(file, "{seconds} {message}");
    }
}
