//! The Live room: play Cadenza's piano from the computer keyboard or a MIDI keyboard, record
//! what you play as a take, or play call and response with the current model.
//!
//! [`computer_keys`] reads the computer keyboard; [`midi_input`] chooses the MIDI keyboard;
//! touches from both sound at once and reach this room, which records them or hands them to the
//! core's [`Duet`].

mod computer_keys;
mod midi_input;
mod midi_output;

use std::path::PathBuf;

use cadenza_core::controls::ControlPlan;
use cadenza_core::generate::{SamplingSettings, Take};
use cadenza_core::live::{
    AnswerEvent, AnswerRequest, Answerer, ComputerPiano, DEFAULT_SILENCE_S, Duet, DuetStep,
    LiveClock, PortName, Recording, SILENCE_RANGE_S, Turn, spawn_answerer,
};
use cadenza_core::model::DeviceChoice;
use cadenza_core::music::touch::{Played, Touch};
use cadenza_core::worker::Event;
use crossbeam_channel::{Receiver, Sender};

use super::intent::{Intent, Intents};
use super::piano_roll::RollContent;
use super::shared::Shared;
pub use computer_keys::read_computer_keys;
use midi_input::MidiInput;
pub use midi_output::MidiOutSettings;
use midi_output::MidiOutput;

/// Frames while playing live: 30 ms lets held notes grow smoothly in the roll and the hand-over
/// come on time, without a frame per millisecond.
const LIVE_FRAME_INTERVAL: std::time::Duration = std::time::Duration::from_millis(30);

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

/// How the answers are sampled: the Generate room's settings and what it asks the model for.
pub struct AnswerSettings {
    /// The model answering.
    pub checkpoint: Option<PathBuf>,
    /// Sampling settings (the length is the call's).
    pub settings: SamplingSettings,
    /// What the model is asked for.
    pub controls: ControlPlan,
}

/// A duet running: the turn-taking and the model answering.
struct DuetSession {
    duet: Duet,
    answerer: Answerer,
    checkpoint: PathBuf,
    ready: bool,
    /// When the answer playing ends, on the live clock.
    answer_ends_s: Option<f64>,
    answers: u64,
    /// Enter was pressed: hand over at the next poll.
    hand_over_asked: bool,
}

impl DuetSession {
    /// A duet answered by `checkpoint`, loading on a worker.
    fn new(duet: Duet, checkpoint: PathBuf, shared: &Shared) -> Self {
        Self {
            duet,
            answerer: spawn_answerer(
                checkpoint.clone(),
                DeviceChoice::Auto,
                std::sync::Arc::clone(&shared.repaint),
            ),
            checkpoint,
            ready: false,
            answer_ends_s: None,
            answers: 0,
            hand_over_asked: false,
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
    silence_s: f64,
    /// How long the last answer took, for the room to show.
    last_answer: Option<String>,
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
            silence_s: settings.silence_s,
            last_answer: None,
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

    /// A touch from the computer keyboard or the roll's keys: stamped now.
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
        if let Some(session) = &mut self.duet
            && session.duet.play(played) == Some(DuetStep::StopAnswer)
        {
            session.answer_ends_s = None;
            intents.push(Intent::Pause);
        }
        self.preview(intents);
    }

    /// What is being played, in the roll.
    fn preview(&self, intents: &mut Intents) {
        let now_s = self.clock.now_s();
        let (title, piece) = match (&self.recording, &self.duet) {
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

    /// Each frame: the MIDI keyboard's touches, the hand-over, the answers.
    pub fn poll(&mut self, shared: &Shared, answers: &AnswerSettings, intents: &mut Intents) {
        self.midi_input
            .refresh(self.clock, shared.sound.transport(), &self.touches);
        self.midi_output.refresh(&shared.sound);
        while let Ok(played) = self.from_keyboard.try_recv() {
            self.observe(played, intents);
        }
        if self.recording.is_some() || self.duet.is_some() {
            // The held notes grow and the hand-over is due on time, without input.
            (shared.repaint_every(LIVE_FRAME_INTERVAL))();
        }
        if self.recording.as_ref().is_some_and(Recording::is_held) {
            self.preview(intents);
        }
        self.poll_duet(shared, answers, intents);
    }

    fn poll_duet(&mut self, shared: &Shared, answers: &AnswerSettings, intents: &mut Intents) {
        let now_s = self.clock.now_s();
        let Some(session) = &mut self.duet else {
            return;
        };
        if let Some(current) = &answers.checkpoint
            && *current != session.checkpoint
        {
            // Another model was chosen: the next answers are its (and the takes record it).
            let mut duet = session.duet.clone();
            duet.answered();
            *session = DuetSession::new(duet, current.clone(), shared);
        }
        if session.answer_ends_s.is_some_and(|end_s| now_s >= end_s) {
            session.answer_ends_s = None;
            session.duet.answered();
        }
        let step = if std::mem::take(&mut session.hand_over_asked) {
            session.duet.hand_over(now_s)
        } else {
            session.duet.tick(now_s)
        };
        if let Some(DuetStep::Answer(call)) = step {
            session.answerer.send(AnswerRequest {
                call,
                settings: SamplingSettings {
                    seed: answers.settings.seed.wrapping_add(session.answers),
                    ..answers.settings
                },
                controls: answers.controls.clone(),
            });
            session.answers += 1;
        }
        for event in session.answerer.drain() {
            match event {
                Event::Update(AnswerEvent::Ready { .. }) => session.ready = true,
                Event::Update(AnswerEvent::Answered { exchange, call, .. }) => {
                    let waited_s = self.clock.now_s() - call.handed_over_s;
                    if session.duet.turn() != Turn::Cadenza {
                        continue; // played over while it was thinking
                    }
                    let from_s = exchange.primer_end_s;
                    let until_s = exchange.duration_s();
                    session.answer_ends_s = Some(self.clock.now_s() + (until_s - from_s));
                    self.last_answer = Some(format!(
                        "Answered {:.0} ms after the hand-over",
                        waited_s * 1000.0
                    ));
                    intents.push(Intent::KeepTake {
                        take: exchange,
                        play: Some((from_s, until_s)),
                    });
                }
                Event::Update(AnswerEvent::Failed(message)) => {
                    session.duet.answered();
                    intents.tell(format!("No answer: {message}"));
                }
                Event::Failed { message } => {
                    intents.tell(format!("Call and response stopped: {message}"));
                    self.duet = None;
                    return;
                }
                Event::Finished(()) | Event::Cancelled => {}
            }
        }
    }

    /// Starts or stops recording; a recording stopped becomes a take.
    fn toggle_recording(&mut self, intents: &mut Intents) {
        match self.recording.take() {
            Some(recording) if !recording.is_empty() => {
                let piece = recording.piece(self.clock.now_s());
                intents.push(Intent::KeepTake {
                    take: Box::new(Take::played(&piece)),
                    play: None,
                });
            }
            Some(_) => intents.tell("Nothing was played: no take kept"),
            None => self.recording = Some(Recording::new(self.clock.now_s())),
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
        self.duet = Some(DuetSession::new(
            Duet::new(self.silence_s),
            checkpoint,
            shared,
        ));
    }

    /// Enter: hands the turn over at the next poll.
    pub fn hand_over_now(&mut self) {
        if let Some(session) = &mut self.duet {
            session.hand_over_asked = true;
        }
    }

    /// The room.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared,
        checkpoint: Option<&PathBuf>,
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
        let recording = self.recording.is_some();
        if ui
            .button(if recording {
                "Stop recording"
            } else {
                "Record"
            })
            .on_hover_text("What you play becomes a take: export it, redo a passage, continue it")
            .clicked()
        {
            self.toggle_recording(intents);
        }
        ui.separator();
        ui.label("Call and response");
        ui.add(
            egui::Slider::new(&mut self.silence_s, SILENCE_RANGE_S.0..=SILENCE_RANGE_S.1)
                .suffix(" s")
                .text("silence that ends your turn"),
        );
        let running = self.duet.is_some();
        let label = if running {
            "Stop answering"
        } else {
            "Answer me"
        };
        if ui
            .button(label)
            .on_hover_text(
                "Play a phrase; after the silence Cadenza answers with the current model",
            )
            .clicked()
        {
            self.toggle_duet(shared, checkpoint, intents);
        }
        if let Some(session) = &self.duet {
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
        }
        if let Some(last) = &self.last_answer {
            ui.weak(last.as_str());
        }
    }
}
