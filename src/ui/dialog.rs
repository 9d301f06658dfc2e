//! File dialogs off the UI thread: rfd's dialogs block until the user answers, so they run on a
//! short-lived thread and the panel polls for the answer.

use std::path::PathBuf;

use crossbeam_channel::Receiver;

use cadenza::train::Repaint;

/// A dialog the user has not answered yet.
#[derive(Debug)]
pub struct PendingDialog(Receiver<Option<PathBuf>>);

impl PendingDialog {
    /// Opens `dialog` on its own thread; the UI is woken when it closes.
    pub fn open(
        repaint: &Repaint,
        dialog: impl FnOnce() -> Option<PathBuf> + Send + 'static,
    ) -> Self {
        let (sender, receiver) = crossbeam_channel::bounded(1);
        let repaint = repaint.clone();
        std::thread::spawn(move || {
            let _ = sender.send(dialog());
            repaint();
        });
        Self(receiver)
    }

    /// The answer once given: `Some(None)` when cancelled.
    pub fn answer(&self) -> Option<Option<PathBuf>> {
        self.0.try_recv().ok()
    }
}
