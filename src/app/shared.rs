//! What every room reads: the model in use, the piece on screen, playback, messages, where files
//! live. Rooms change it only through [`super::intent::Intent`]s, applied by the app after drawing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use cadenza_core::paths::DataDir;
use cadenza_core::regenerate::Passage;
use cadenza_core::worker::Repaint;

use super::models::Models;
use super::piano_roll::RollContent;
use super::sound::Sound;

/// Asks for a frame within the given time (`egui::Context::request_repaint_after`), from any thread.
pub type RepaintWithin = Arc<dyn Fn(Duration) + Send + Sync>;

/// How long a message shows under the transport (it stays in the log).
pub const MESSAGE_SHOWN: Duration = Duration::from_secs(20);
/// Messages kept for the message line; older ones are in the log.
const MESSAGES_KEPT: usize = 50;

/// The piece on screen: in the piano roll and in the player.
#[derive(Debug, Default)]
pub struct Shown {
    /// What it is ("Chopin / chpn_op25_e12.mid", "Take 3 (seed 42)").
    pub title: String,
    /// Drawn by the piano roll.
    pub content: RollContent,
    /// Counts the pieces shown, so the roll opens each new one at its start.
    pub revision: u64,
    /// The take shown, by number, when the roll shows a take: what Ctrl+E exports and the takes
    /// list highlights (a corpus piece or an alternative on trial is none).
    pub take: Option<u64>,
}

/// Messages for the user (errors, results), newest last.
#[derive(Debug, Default)]
pub struct Messages {
    told: Vec<String>,
    /// When the newest was told; it shows for [`MESSAGE_SHOWN`] (messages from start-up have
    /// none, and show until dismissed).
    told_at: Option<Instant>,
}

impl Messages {
    /// Messages from start-up: they show until dismissed.
    pub fn at_start(told: Vec<String>) -> Self {
        Self {
            told,
            told_at: None,
        }
    }

    /// Tells the user something, and writes it to the log.
    pub fn tell(&mut self, message: String) {
        tracing::info!(target: "cadenza::app", "{message}");
        self.told.push(message);
        self.told_at = Some(Instant::now());
        if self.told.len() > MESSAGES_KEPT {
            self.told.remove(0);
        }
    }

    /// The newest message, while it still shows, and how long it has shown (`None`: until
    /// dismissed).
    pub fn showing(&self) -> Option<(&str, Option<Duration>)> {
        let age = self.told_at.map(|at| at.elapsed());
        let fresh = age.is_none_or(|age| age < MESSAGE_SHOWN);
        self.told
            .last()
            .filter(|_| fresh)
            .map(|message| (message.as_str(), age))
    }

    /// Hides the newest message, and the older ones with it (they stay in the log).
    pub fn dismiss(&mut self) {
        self.told.pop();
        self.told_at = Instant::now().checked_sub(MESSAGE_SHOWN);
    }

    /// The newest message, shown or not.
    #[cfg(test)]
    pub fn last(&self) -> Option<&String> {
        self.told.last()
    }
}

/// What every room reads besides its own state.
pub struct Shared {
    /// The model in use, the recent ones and the starter.
    pub models: Models,
    /// The piece on screen.
    pub shown: Shown,
    /// The passage selected in the piano roll.
    pub selection: Option<Passage>,
    /// Playback.
    pub sound: Sound,
    /// Messages for the user.
    pub messages: Messages,
    /// Wakes the UI from worker threads at once (dialogs, one-shot jobs).
    pub repaint: Repaint,
    /// Wakes the UI within a given time; repaints asked for meanwhile make one frame.
    repaint_within: RepaintWithin,
    /// Where takes, checkpoints, the demo corpus and the log live; `None` when the platform has
    /// no data folder (then nothing is kept, and the user is told).
    pub data: Option<DataDir>,
}

impl Shared {
    /// The shared state at start-up.
    pub fn new(
        models: Models,
        sound: Sound,
        messages: Messages,
        data: Option<DataDir>,
        repaint_within: RepaintWithin,
    ) -> Self {
        let immediate = Arc::clone(&repaint_within);
        Self {
            models,
            shown: Shown::default(),
            selection: None,
            sound,
            messages,
            repaint: Arc::new(move || immediate(Duration::ZERO)),
            repaint_within,
            data,
        }
    }

    /// The guard an export goes through: it may not overwrite the model in use, the SoundFont,
    /// Cadenza's own files (takes, settings, log) or anything in the starter model's folder.
    pub fn output_guard(&self) -> cadenza_core::output_guard::OutputGuard {
        use cadenza_core::checkpoint;
        let model = self.models.current.as_deref().map(checkpoint::stem);
        let own = self.data.as_ref().map(|data| {
            let takes = data.takes_file();
            let backup = cadenza_core::files::with_suffix(&takes, ".bak");
            [takes, backup, data.settings_file(), data.log_file()]
        });
        cadenza_core::starter::output_guard()
            .reading(
                model
                    .as_deref()
                    .map(checkpoint::files)
                    .into_iter()
                    .flatten(),
            )
            .reading(self.sound.soundfont_path())
            .reading(own.into_iter().flatten())
    }

    /// Asks for a frame within `within` (a live answer's downbeat, held notes growing).
    pub fn repaint_after(&self, within: Duration) {
        (self.repaint_within)(within);
    }

    /// A wake-up for a worker that reports often (training, generation): at most one frame per
    /// `interval`. Under a software renderer every frame costs a core's worth of milliseconds.
    pub fn repaint_every(&self, interval: Duration) -> Repaint {
        let within = Arc::clone(&self.repaint_within);
        Arc::new(move || within(interval))
    }

    /// Puts new content in the roll (opened at its start); the player keeps what it has. A
    /// selection belongs to the piece it was made on, so it is dropped.
    pub fn show_content(&mut self, title: String, content: RollContent, take: Option<u64>) {
        self.selection = None;
        self.shown = Shown {
            title,
            content,
            revision: self.shown.revision + 1,
            take,
        };
    }
}

#[cfg(test)]
impl Messages {
    /// Makes the newest message `by` older (for the tests of expiry).
    pub fn backdate(&mut self, by: Duration) {
        self.told_at = self.told_at.and_then(|at| at.checked_sub(by));
    }
}
