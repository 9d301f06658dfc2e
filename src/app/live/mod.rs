//! The Live room: play Cadenza's piano from the computer keyboard or a MIDI keyboard, record
//! what you play as a take, or play call and response with the current model.
//!
//! [`computer_keys`] reads the computer keyboard; [`midi_input`] chooses the MIDI keyboard and
//! [`midi_output`] where MIDI goes; touches from both keyboards sound at once and reach this room,
//! which records them or hands them to [`duet_session`] (the core's [`Duet`] and the model
//! answering); [`click`] is the metronome.

mod answer_settings;
mod click;
mod computer_keys;
mod duet_session;
mod midi_input;
mod midi_output;

use std::path::PathBuf;
use std::time::Duration;

use cadenza_core::audio::SAMPLE_RATE;
use cadenza_core::generate::Take;
use cadenza_core::live::{
    ComputerPiano, DEFAULT_SILENCE_S, Duet, LiveClock, PortName, Recording, SILENCE_RANGE_S, Turn,
};
use cadenza_core::midi::Piece;
use cadenza_core::music::touch::{Played, Touch};
use crossbeam_channel::{Receiver, Sender};

use super::intent::{Intent, Intents};
use super::piano_roll::RollContent;
use super::shared::Shared;
pub use answer_settings::AnswerSettings;
use click::Click;
pub use computer_keys::read_computer_keys;
use duet_session::DuetSession;
use midi_input::MidiInput;
pub use midi_output::MidiOutSettings;
use midi_output::MidiOutput;

/// Frames while playing live: 30 ms lets held notes grow smoothly in the roll and the hand-over
/// come on time, without a frame per millisecond.
const LIVE_FRAME_INTERVAL: Duration = Duration::from_millis(30);

/// What the Live room remembers between runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct LiveRoomSettings {
    /// The MIDI keyboard chosen.
    pub midi_input: Option<PortName>,
    /// Seconds of silence that end a call.
    pub silence_s: f64,
    /// Where MIDI goes, its offset and thru.
    pub midi_out: MidiOutSettings,
}

impl Default for LiveRoomSettings {
    fn default() -> Self {
        Self {
            midi_input: None,
            silence_s: DEFAULT_SILENCE_S,
            midi_out: MidiOutSettings::default(),
        }
    }
}

/// State of the Live room.
pub struct LivePanel {
    clock: LiveClock,
    /// The computer keyboard as a piano.
    pub(super) piano: ComputerPiano,
    midi_input: MidiInput,
    midi_output: MidiOutput,
    touches: Sender<Played>,
    from_keyboard: Receiver<Played>,
    recording: Option<Recording>,
    duet: Option<DuetSession>,
    click: Click,
    silence_s: f64,
}

impl LivePanel {
    /// The room, with what was remembered.
    pub fn new(settings: LiveRoomSettings) -> Self {
        let (touches, from_keyboard) = crossbeam_channel::unbounded();
        Self {
            clock: LiveClock::start(),
            piano: ComputerPiano::default(),
            midi_input: MidiInput::new(settings.midi_input),
            midi_output: MidiOutput::new(settings.midi_out),
            touches,
            from_keyboard,
            recording: None,
            duet: None,
            click: Click::default(),
            silence_s: settings.silence_s,
        }
    }

    /// What is remembered.
    pub fn remembered(&self) -> LiveRoomSettings {
        LiveRoomSettings {
            midi_input: self.midi_input.chosen.clone(),
            silence_s: self.silence_s,
            midi_out: self.midi_output.settings.clone(),
        }
    }

    /// The job running, for the status bar.
    pub fn job(&self) -> Option<String> {
        match (&self.recording, &self.duet) {
            (Some(_), _) => Some("Recording".to_string()),
            (None, Some(session)) if !session.ready => {
                Some("Loading the model to answer".to_string())
            }
            _ => None,
        }
    }

    /// A touch from the computer keyboard: stamped now.
    pub fn touched(&mut self, touch: Touch, intents: &mut Intents) {
        let played = Played {
            at_s: self.clock.now_s(),
            touch,
        };
        self.observe(played, intents);
    }

    fn observe(&mut self, played: Played, intents: &mut Intents) {
        if let Some(recording) = &mut self.recording {
            recording.add(played);
        }
        if let Some(session) = &mut self.duet {
            session.played(played, intents);
        }
        self.preview(intents);
    }

    /// What is being played, in the roll.
    fn preview(&self, intents: &mut Intents) {
        let now_s = self.clock.now_s();
        let (title, piece) = match (&self.recording, &self.duet) {
            (Some(recording), _) if now_s < recording.start_s() => ("Count-in…", Piece::default()),
            (Some(recording), _) => ("Recording…", recording.piece(now_s)),
            (None, Some(session)) => match session.duet.call_so_far(now_s) {
                Some(call) => ("Your call…", call),
                None => return,
            },
            (None, None) => return,
        };
        let end_s = piece.duration_s();
        intents.push(Intent::Preview {
            title: title.to_string(),
            content: RollContent::new(piece.notes, piece.pedal, end_s).with_grid(piece.grid),
        });
    }

    /// Each frame: the MIDI ports, the MIDI keyboard's touches, the hand-over, the answers.
    pub fn poll(&mut self, shared: &Shared, answers: &AnswerSettings, intents: &mut Intents) {
        self.midi_input
            .refresh(self.clock, shared.sound.transport(), &self.touches);
        self.midi_output.refresh(&shared.sound);
        while let Ok(played) = self.from_keyboard.try_recv() {
            self.observe(played, intents);
        }
        if self.recording.is_some() || self.duet.is_some() {
            // The held notes grow and the hand-over is due on time, without input.
            shared.repaint_after(LIVE_FRAME_INTERVAL);
        }
        if self.recording.as_ref().is_some_and(Recording::is_held) {
            self.preview(intents);
        }
        let now_s = self.clock.now_s();
        if let Some(session) = &mut self.duet {
            session.poll(now_s, answers, shared, intents);
            if let Some(due_s) = session.next_due_s() {
                // Wake for the answer's downbeat itself, not the next 30-ms frame.
                shared.repaint_after(Duration::from_secs_f64((due_s - now_s).max(0.0)));
            }
        }
    }

    /// Starts or stops recording (after a bar of count-in with the click on); a recording
    /// stopped becomes a take, in bars with the click.
    fn toggle_recording(&mut self, intents: &mut Intents) {
        let now_s = self.clock.now_s();
        match self.recording.take() {
            Some(recording) if !recording.is_empty() => {
                let piece = recording.piece(now_s);
                intents.push(Intent::KeepTake {
                    take: Box::new(Take::played(&piece)),
                    play: None,
                });
            }
            Some(_) => intents.tell("Nothing was played: no take kept"),
            None => {
                self.recording = Some(match self.click.count_in(now_s) {
                    Some((start_s, grid)) => Recording::on_grid(start_s, grid),
                    None => Recording::new(now_s),
                });
            }
        }
    }

    /// Starts call and response with the current model, or stops it.
    fn toggle_duet(
        &mut self,
        shared: &Shared,
        checkpoint: Option<&PathBuf>,
        intents: &mut Intents,
    ) {
        if self.duet.take().is_some() {
            intents.push(Intent::Pause);
            return;
        }
        let Some(checkpoint) = checkpoint.cloned() else {
            intents.tell("Choose a model first (Generate room) for Cadenza to answer with");
            return;
        };
        let duet = Duet::new(self.silence_s);
        let duet = match self.click.grid() {
            Some((grid, origin_s)) => duet.with_click(grid, origin_s),
            None => duet,
        };
        self.duet = Some(DuetSession::new(duet, checkpoint, shared));
    }

    /// Enter: hands the turn over at the next poll.
    pub fn hand_over_now(&mut self) {
        if let Some(session) = &mut self.duet {
            session.ask_hand_over();
        }
    }

    /// The room.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared,
        answers: &AnswerSettings,
        intents: &mut Intents,
    ) {
        ui.heading("Live");
        ui.label(
            "Play on the computer keyboard (A S D F … white keys, W E T Y U black; Z X octave, \
             C V velocity) or a MIDI keyboard.",
        );
        ui.weak(format!(
            "Octave {:+}, velocity {}",
            self.piano.octave(),
            self.piano.velocity()
        ));
        self.midi_input.ui(ui);
        self.midi_output.ui(ui, &shared.sound);
        ui.weak(shared.sound.latency_label());
        ui.separator();
        self.click_ui(ui, shared, answers, intents);
        let label = if self.recording.is_some() {
            "Stop recording"
        } else {
            "Record"
        };
        if ui
            .button(label)
            .on_hover_text("What you play becomes a take: export it, redo a passage, continue it")
            .clicked()
        {
            self.toggle_recording(intents);
        }
        ui.separator();
        self.duet_ui(ui, shared, answers.checkpoint.as_ref(), intents);
    }

    fn click_ui(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared,
        answers: &AnswerSettings,
        intents: &mut Intents,
    ) {
        let mut on = self.click.grid().is_some();
        let describe = answers.click_grid.as_ref().map(|grid| {
            let position = grid.position(0.0);
            format!("Click ({:.0} bpm, {})", position.bpm, position.signature)
        });
        let clicked = ui
            .add_enabled(
                describe.is_some(),
                egui::Checkbox::new(&mut on, describe.as_deref().unwrap_or("Click")),
            )
            .on_hover_text(
                "A metronome on the Generate room's tempo and meter (never recorded): a \
                 recording starts after a bar of count-in and is in bars; answers start on a \
                 downbeat",
            )
            .on_disabled_hover_text("Choose a tempo or a meter in the Generate room for a click")
            .changed();
        if clicked {
            let latency_s = f64::from(shared.sound.buffer_frames()) / f64::from(SAMPLE_RATE);
            self.click.toggle(
                answers.click_grid.clone(),
                self.clock.now_s(),
                latency_s,
                intents,
            );
        }
    }

    fn duet_ui(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared,
        checkpoint: Option<&PathBuf>,
        intents: &mut Intents,
    ) {
        ui.label("Call and response");
        ui.add(
            egui::Slider::new(&mut self.silence_s, SILENCE_RANGE_S.0..=SILENCE_RANGE_S.1)
                .suffix(" s")
                .text("silence that ends your turn"),
        );
        let label = if self.duet.is_some() {
            "Stop answering"
        } else {
            "Answer me"
        };
        if ui
            .button(label)
            .on_hover_text(
                "Play a phrase; after the silence (or on Enter) Cadenza answers with the current \
                 model",
            )
            .clicked()
        {
            self.toggle_duet(shared, checkpoint, intents);
        }
        let Some(session) = &self.duet else {
            return;
        };
        let model = session
            .checkpoint
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        ui.weak(match (session.ready, session.duet.turn()) {
            (false, _) => format!("Loading {model}…"),
            (true, Turn::Player) => "Your turn: play a phrase".to_string(),
            (true, Turn::Cadenza) => format!("{model} answers"),
        });
        if let Some(last) = &session.last_answer {
            ui.weak(last.as_str());
        }
    }
}
