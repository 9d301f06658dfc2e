//! The MIDI keyboard chooser: the inputs there are (refreshed while the app runs, so a keyboard
//! plugged in later appears), the one chosen, remembered by id then name.

use std::time::{Duration, Instant};

use cadenza_core::audio::{Transport, TransportCommand};
use cadenza_core::live::{LiveClock, MidiKeyboard, PortName, find_remembered, input_ports};
use cadenza_core::music::touch::Played;
use crossbeam_channel::Sender;

/// How often the list of inputs is read again.
const REFRESH_EVERY: Duration = Duration::from_secs(2);

/// The MIDI inputs and the keyboard connected.
pub struct MidiInput {
    /// The inputs, or why there are none ("No MIDI ports: …").
    ports: Result<Vec<PortName>, String>,
    listed_at: Option<Instant>,
    /// The input chosen (remembered between runs), connected or not.
    pub(super) chosen: Option<PortName>,
    keyboard: Option<MidiKeyboard>,
    problem: Option<String>,
}

impl MidiInput {
    /// The chooser, with the input remembered from the last run.
    pub fn new(chosen: Option<PortName>) -> Self {
        Self {
            ports: Ok(Vec::new()),
            listed_at: None,
            chosen,
            keyboard: None,
            problem: None,
        }
    }

    /// Lists the inputs again when due, and connects the chosen one when it appears: its
    /// touches go straight to the synth through `transport` and to `touches` for the room.
    pub fn refresh(
        &mut self,
        clock: LiveClock,
        transport: Option<Transport>,
        touches: &Sender<Played>,
    ) {
        if self
            .listed_at
            .is_some_and(|at| at.elapsed() < REFRESH_EVERY)
        {
            return;
        }
        self.listed_at = Some(Instant::now());
        self.ports = input_ports().map_err(|err| err.to_string());
        let Ok(ports) = &self.ports else {
            self.keyboard = None;
            return;
        };
        let Some(found) = self
            .chosen
            .as_ref()
            .and_then(|c| find_remembered(ports, c))
            .cloned()
        else {
            self.keyboard = None;
            return;
        };
        if self.keyboard.as_ref().is_some_and(|k| k.port() == &found) {
            return;
        }
        let touches = touches.clone();
        let connected = MidiKeyboard::connect(&found, clock, move |played| {
            if let Some(transport) = &transport {
                transport.send(TransportCommand::Touch(played.touch));
            }
            // The room is gone only when the app closes.
            let _ = touches.send(played);
        });
        match connected {
            Ok(keyboard) => {
                self.chosen = Some(found);
                self.keyboard = Some(keyboard);
                self.problem = None;
            }
            Err(err) => self.problem = Some(err.to_string()),
        }
    }

    /// Chooses an input (connected at the next refresh), or none.
    fn choose(&mut self, port: Option<PortName>) {
        self.chosen = port;
        self.keyboard = None;
        self.listed_at = None;
    }

    /// The chooser, or "No MIDI ports: …" where there is no MIDI system.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ports = match &self.ports {
            Ok(ports) => ports.clone(),
            Err(why) => {
                ui.label(why.as_str());
                return;
            }
        };
        let label = self
            .chosen
            .as_ref()
            .map_or("None", |p| p.name.as_str())
            .to_string();
        let mut choice = None;
        egui::ComboBox::from_label("MIDI keyboard")
            .selected_text(label)
            .show_ui(ui, |ui| {
                if ui.selectable_label(self.chosen.is_none(), "None").clicked() {
                    choice = Some(None);
                }
                for port in &ports {
                    let chosen = self.chosen.as_ref() == Some(port);
                    if ui.selectable_label(chosen, &port.name).clicked() {
                        choice = Some(Some(port.clone()));
                    }
                }
            });
        if ports.is_empty() {
            ui.weak("No MIDI inputs: plug in a keyboard (the list refreshes by itself)");
        }
        if let Some(choice) = choice {
            self.choose(choice);
        }
        match (&self.keyboard, &self.problem, &self.chosen) {
            (Some(keyboard), _, _) => ui.weak(format!("Listening to {}", keyboard.port().name)),
            (None, Some(problem), _) => ui.colored_label(ui.visuals().warn_fg_color, problem),
            (None, None, Some(chosen)) => ui.weak(format!("{} is not connected", chosen.name)),
            (None, None, None) => ui.weak("The computer keyboard plays too"),
        };
    }
}
