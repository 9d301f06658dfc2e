//! MIDI out: playback (takes, answers, and what is played live if asked) sent to a chosen output
//! or to a virtual port named "Cadenza" for a DAW to record from, beside the SoundFont, timed by
//! the audio output so it cannot drift; and the Panic button.

use std::time::{Duration, Instant};

use cadenza_core::audio::TransportCommand;
use cadenza_core::live::{
    CLIENT_NAME, FollowTiming, MidiFollower, MidiOut, MidiPortError, PortName, find_remembered,
    output_ports,
};

use crate::app::sound::Sound;

/// How often the list of outputs is read again.
const REFRESH_EVERY: Duration = Duration::from_secs(2);
/// The offset slider's reach, in milliseconds either way.
const OFFSET_RANGE_MS: f64 = 200.0;

/// Where MIDI goes.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OutputChoice {
    /// Nowhere.
    #[default]
    None,
    /// A virtual port named "Cadenza" (Linux and macOS).
    Virtual,
    /// An output port (remembered by id, then name).
    Port(PortName),
}

/// What MIDI out remembers between runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct MidiOutSettings {
    /// Where MIDI goes.
    pub choice: OutputChoice,
    /// Added to every send, in milliseconds.
    pub offset_ms: f64,
    /// Whether keys played live go out too.
    pub thru: bool,
    /// Whether the SoundFont is heard beside MIDI out (off: MIDI out instead of it).
    pub soundfont_heard: bool,
}

impl Default for MidiOutSettings {
    fn default() -> Self {
        Self {
            choice: OutputChoice::None,
            offset_ms: 0.0,
            thru: false,
            soundfont_heard: true,
        }
    }
}

/// The MIDI outputs and the follower sending to the one chosen.
pub struct MidiOutput {
    ports: Result<Vec<PortName>, String>,
    listed_at: Option<Instant>,
    pub(super) settings: MidiOutSettings,
    follower: Option<MidiFollower>,
    problem: Option<String>,
}

impl MidiOutput {
    /// MIDI out as remembered (connected at the first refresh).
    pub fn new(settings: MidiOutSettings) -> Self {
        Self {
            ports: Ok(Vec::new()),
            listed_at: None,
            settings,
            follower: None,
            problem: None,
        }
    }

    fn timing(&self, sound: &Sound) -> FollowTiming {
        FollowTiming {
            buffer_frames: sound.buffer_frames(),
            offset_s: self.settings.offset_ms / 1000.0,
            thru: self.settings.thru,
        }
    }

    /// Lists the outputs again when due, and connects the choice when it can be.
    pub fn refresh(&mut self, sound: &Sound) {
        if let Some(problem) = self.follower.as_ref().and_then(MidiFollower::problem) {
            self.problem = Some(problem);
            self.disconnect(sound);
        }
        if self
            .listed_at
            .is_some_and(|at| at.elapsed() < REFRESH_EVERY)
        {
            return;
        }
        self.listed_at = Some(Instant::now());
        self.ports = output_ports().map_err(|err| err.to_string());
        if self.follower.is_some() || self.settings.choice == OutputChoice::None {
            return;
        }
        let Some(transport) = sound.transport() else {
            return;
        };
        match self.open() {
            Ok(Some(out)) => {
                let (tap, taps) = crossbeam_channel::unbounded();
                transport.send(TransportCommand::Tap(Some(tap)));
                transport.send(TransportCommand::Audible(self.settings.soundfont_heard));
                self.follower = Some(MidiFollower::start(out, taps, self.timing(sound)));
                self.problem = None;
            }
            Ok(None) => {}
            Err(err) => self.problem = Some(err.to_string()),
        }
    }

    fn open(&self) -> Result<Option<MidiOut>, MidiPortError> {
        match &self.settings.choice {
            OutputChoice::None => Ok(None),
            OutputChoice::Virtual => virtual_port().map(Some),
            OutputChoice::Port(remembered) => {
                let Ok(ports) = &self.ports else {
                    return Ok(None);
                };
                find_remembered(ports, remembered)
                    .map(MidiOut::connect)
                    .transpose()
            }
        }
    }

    /// Stops sending (every sounding note is released first, by the follower's output).
    fn disconnect(&mut self, sound: &Sound) {
        if let Some(transport) = sound.transport() {
            transport.send(TransportCommand::Tap(None));
            // Without MIDI out the SoundFont is all there is to hear.
            transport.send(TransportCommand::Audible(true));
        }
        self.follower = None;
    }

    fn choose(&mut self, choice: OutputChoice, sound: &Sound) {
        self.disconnect(sound);
        self.settings.choice = choice;
        self.listed_at = None;
    }

    /// The chooser, the offset, thru and Panic.
    pub fn ui(&mut self, ui: &mut egui::Ui, sound: &Sound) {
        let Ok(ports) = self.ports.clone() else {
            // Listing fails only without a MIDI system, which the MIDI keyboard's line says.
            return;
        };
        let shown = match &self.settings.choice {
            OutputChoice::None => "None".to_string(),
            OutputChoice::Virtual => format!("Virtual port \"{CLIENT_NAME}\""),
            OutputChoice::Port(port) => port.name.clone(),
        };
        let mut choice = None;
        egui::ComboBox::from_label("MIDI out")
            .selected_text(shown)
            .show_ui(ui, |ui| {
                let current = &self.settings.choice;
                if ui
                    .selectable_label(*current == OutputChoice::None, "None")
                    .clicked()
                {
                    choice = Some(OutputChoice::None);
                }
                if cfg!(unix)
                    && ui
                        .selectable_label(
                            *current == OutputChoice::Virtual,
                            format!("Virtual port \"{CLIENT_NAME}\" (for a DAW)"),
                        )
                        .clicked()
                {
                    choice = Some(OutputChoice::Virtual);
                }
                for port in &ports {
                    let chosen = *current == OutputChoice::Port(port.clone());
                    if ui.selectable_label(chosen, &port.name).clicked() {
                        choice = Some(OutputChoice::Port(port.clone()));
                    }
                }
            });
        if let Some(choice) = choice {
            self.choose(choice, sound);
        }
        let before = self.settings.clone();
        ui.horizontal(|ui| {
            ui.add(
                egui::Slider::new(
                    &mut self.settings.offset_ms,
                    -OFFSET_RANGE_MS..=OFFSET_RANGE_MS,
                )
                .suffix(" ms")
                .text("offset"),
            )
            .on_hover_text("Moves MIDI earlier or later against the sound, for a DAW's own delay");
            ui.checkbox(&mut self.settings.thru, "Thru")
                .on_hover_text("Send what you play live too, not only playback");
            ui.checkbox(&mut self.settings.soundfont_heard, "SoundFont")
                .on_hover_text("Hear Cadenza's piano beside MIDI out; off: only MIDI out sounds");
        });
        if self.settings.soundfont_heard != before.soundfont_heard
            && self.follower.is_some()
            && let Some(transport) = sound.transport()
        {
            transport.send(TransportCommand::Audible(self.settings.soundfont_heard));
        }
        if self.settings != before
            && let Some(follower) = &self.follower
        {
            follower.set_timing(self.timing(sound));
        }
        ui.horizontal(|ui| {
            if ui
                .add_enabled(self.follower.is_some(), egui::Button::new("Panic"))
                .on_hover_text("Silence the MIDI output at once")
                .clicked()
                && let Some(follower) = &self.follower
            {
                follower.panic();
            }
            match (&self.follower, &self.problem) {
                (Some(follower), _) => ui.weak(format!("Sending to {}", follower.name())),
                (None, Some(problem)) => ui.colored_label(ui.visuals().warn_fg_color, problem),
                (None, None) => ui.weak(""),
            };
        });
    }
}

#[cfg(unix)]
fn virtual_port() -> Result<MidiOut, MidiPortError> {
    MidiOut::virtual_port()
}

#[cfg(not(unix))]
fn virtual_port() -> Result<MidiOut, MidiPortError> {
    Err(MidiPortError::Connect {
        name: CLIENT_NAME.to_string(),
        reason: "Windows has no virtual MIDI ports: install a loopback driver such as loopMIDI \
                 and choose it here"
            .to_string(),
    })
}
