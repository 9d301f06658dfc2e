//! What the user asked for, recorded while drawing and applied by the app after the frame is
//! drawn (as egui's demo app does with its `Command`): panels, menus, shortcuts and the roll read
//! the shared state and change it only through these.

use std::path::PathBuf;

use cadenza_core::generate::Take;
use cadenza_core::midi::{Note, Piece};
use cadenza_core::music::meter::Grid;
use cadenza_core::music::touch::Touch;
use cadenza_core::regenerate::Passage;

use super::piano_roll::RollContent;

/// One thing to do after drawing.
#[derive(Debug)]
#[must_use = "an intent does nothing until the app applies it"]
pub enum Intent {
    /// Tell the user something (an error or a result), on the message line and in the log.
    Tell(String),
    /// Put a piece in the roll and the player, from its start.
    Show(Box<Showing>),
    /// Put content in the roll only (a take being generated); the player keeps what it has.
    Preview {
        /// What it is.
        title: String,
        /// What the roll draws.
        content: RollContent,
    },
    /// Add freshly sampled notes to what the roll shows.
    AddNotes(Vec<Note>),
    /// Select a passage of the piece shown and put the player a second before it.
    FocusPassage(Passage),
    /// Play from `from_s` and stop at `until_s`.
    PlayRange {
        /// Where playback starts, in seconds.
        from_s: f64,
        /// Where it stops, in seconds.
        until_s: f64,
    },
    /// Play from where the player is.
    Play,
    /// Play or pause.
    TogglePlay,
    /// Pause, keeping the position (an answer played over).
    Pause,
    /// A key or the pedal played live (computer keyboard): sounds at once, recorded if recording.
    Touch(Touch),
    /// Start a click on a grid (time 0 now), or stop it.
    Click(Option<Grid>),
    /// Enter in the Live room: the call is over, answer it now.
    HandOver,
    /// Keep a take made outside the Generate room (a recording, an exchange) and show it; play
    /// it from one time to another if asked.
    KeepTake {
        /// The take.
        take: Box<Take>,
        /// Where to play it from and to, in seconds.
        play: Option<(f64, f64)>,
    },
    /// Stop and go back to the start.
    Stop,
    /// Move the playhead.
    Seek(f64),
    /// Make a checkpoint the current model (and a recent one).
    UseCheckpoint(PathBuf),
    /// Open a folder as the corpus or a MIDI file in the roll.
    Open(PathBuf),
    /// Ask for a MIDI file to open.
    OpenFileDialog,
    /// Ask for a corpus folder to open.
    OpenFolderDialog,
    /// Ask for a SoundFont.
    ChooseSoundFont,
    /// Export the take the roll shows as MIDI (Ctrl+E).
    ExportShownTake,
    /// Back to the version the shown take was made from (Ctrl+Z).
    Undo,
    /// Forward to the version undone (Ctrl+Shift+Z).
    Redo,
    /// Have the trainer write a checkpoint now (Ctrl+S).
    SaveCheckpoint,
    /// Show a room in the side bar.
    GoTo(Room),
    /// Set the playback volume, 0–1.
    SetVolume(f32),
    /// Hide the messages shown.
    DismissMessages,
}

/// A room of the side bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Room {
    /// The corpus: its pieces and statistics.
    Corpus,
    /// Training and fine-tuning.
    Train,
    /// Generating, the takes and their versions.
    Generate,
    /// Playing live: recording, call and response.
    Live,
}

/// A piece to show: in the roll and in the player.
#[derive(Debug)]
pub struct Showing {
    /// What it is ("Chopin / chpn_op25_e12.mid", "Take 3 (seed 42)").
    pub title: String,
    /// The music.
    pub piece: Piece,
    /// What the roll draws (bars, sections, the primer's end).
    pub content: RollContent,
    /// The take's number, when it is a take.
    pub take: Option<u64>,
}

impl Showing {
    /// A piece from a file or the corpus, with its bars where the music follows them (a
    /// performance saved at a nominal 120 bpm has a grid in its file that has nothing to do with
    /// its music).
    pub fn piece(title: String, piece: Piece) -> Self {
        let content = RollContent::new(piece.notes.clone(), piece.pedal.clone(), 0.0)
            .with_grid(piece.usable_grid().cloned());
        Self {
            title,
            piece,
            content,
            take: None,
        }
    }
}

/// The intents of one frame, in the order they were asked for.
#[derive(Debug, Default)]
#[must_use = "intents do nothing until the app applies them"]
pub struct Intents(std::collections::VecDeque<Intent>);

impl Intents {
    /// Records an intent.
    pub fn push(&mut self, intent: Intent) {
        self.0.push_back(intent);
    }

    /// Records a message for the user.
    pub fn tell(&mut self, message: impl Into<String>) {
        self.push(Intent::Tell(message.into()));
    }

    /// Takes the oldest intent not yet applied.
    pub fn pop(&mut self) -> Option<Intent> {
        self.0.pop_front()
    }

    /// Whether nothing was asked for.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
