//! MIDI ports through midir (ALSA, CoreMIDI, WinMM; JACK in the test build): listing them,
//! a keyboard in, an output with every sounding note tracked.

use crate::music::touch::{MidiBytes, Played, Touch};

use super::clock::LiveClock;
use super::sounding_notes::SoundingNotes;

/// How Cadenza names itself to the MIDI system, and its virtual port.
pub const CLIENT_NAME: &str = "Cadenza";

/// A MIDI port as the user picks it: found again by its id, else by its name (a keyboard
/// plugged into another socket gets a new id).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct PortName {
    /// The MIDI system's id for the port.
    pub id: String,
    /// The name people see.
    pub name: String,
}

/// Why a MIDI port cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MidiPortError {
    /// There is no MIDI system (no ALSA sequencer, as on a server).
    #[error("No MIDI ports: no MIDI system ({0})")]
    NoMidiSystem(String),
    /// The port asked for is not there.
    #[error("no MIDI port named {0} (ports: {1})")]
    NotFound(String, String),
    /// Connecting failed.
    #[error("cannot connect to the MIDI port {name}: {reason}")]
    Connect {
        /// The port.
        name: String,
        /// What the MIDI system said.
        reason: String,
    },
    /// Sending failed (the port went away).
    #[error("cannot send to the MIDI port {name}: {reason}")]
    Send {
        /// The port.
        name: String,
        /// What the MIDI system said.
        reason: String,
    },
}

/// ALSA's sequencer device: without it there is no MIDI on Linux.
#[cfg(all(target_os = "linux", not(feature = "jack")))]
const ALSA_SEQUENCER: &str = "/dev/snd/seq";

fn no_system(err: midir::InitError) -> MidiPortError {
    MidiPortError::NoMidiSystem(err.to_string())
}

/// Refuses at once where there is no MIDI system, before ALSA prints its own complaint on every
/// look at the ports (the app looks every 2 s).
fn require_midi_system() -> Result<(), MidiPortError> {
    #[cfg(all(target_os = "linux", not(feature = "jack")))]
    if !std::path::Path::new(ALSA_SEQUENCER).exists() {
        return Err(MidiPortError::NoMidiSystem(format!(
            "no ALSA sequencer, {ALSA_SEQUENCER} is missing"
        )));
    }
    Ok(())
}

fn midi_input() -> Result<midir::MidiInput, MidiPortError> {
    require_midi_system()?;
    midir::MidiInput::new(CLIENT_NAME).map_err(no_system)
}

fn midi_output() -> Result<midir::MidiOutput, MidiPortError> {
    require_midi_system()?;
    midir::MidiOutput::new(CLIENT_NAME).map_err(no_system)
}

/// The MIDI inputs there are now (keyboards, other programs' outputs).
pub fn input_ports() -> Result<Vec<PortName>, MidiPortError> {
    let input = midi_input()?;
    Ok(input
        .ports()
        .iter()
        .filter_map(|port| {
            let name = input.port_name(port).ok()?;
            Some(PortName {
                id: port.id(),
                name,
            })
        })
        .collect())
}

/// The MIDI outputs there are now (synths, DAWs' inputs).
pub fn output_ports() -> Result<Vec<PortName>, MidiPortError> {
    let output = midi_output()?;
    Ok(output
        .ports()
        .iter()
        .filter_map(|port| {
            let name = output.port_name(port).ok()?;
            Some(PortName {
                id: port.id(),
                name,
            })
        })
        .collect())
}

/// The port `wanted` names among `ports`: the same id, else the same name, else the only name
/// containing it (ignoring case), so `--in keystation` finds "Keystation 49 MIDI 1".
pub fn find_port<'a>(ports: &'a [PortName], wanted: &str) -> Result<&'a PortName, MidiPortError> {
    let lower = wanted.to_lowercase();
    let containing: Vec<&PortName> = ports
        .iter()
        .filter(|p| p.name.to_lowercase().contains(&lower))
        .collect();
    ports
        .iter()
        .find(|p| p.id == wanted)
        .or_else(|| ports.iter().find(|p| p.name == wanted))
        .or(match containing.as_slice() {
            [only] => Some(*only),
            _ => None,
        })
        .ok_or_else(|| {
            let names: Vec<&str> = ports.iter().map(|p| p.name.as_str()).collect();
            MidiPortError::NotFound(wanted.to_string(), names.join(", "))
        })
}

/// The port remembered: by id, else by name.
pub fn find_remembered<'a>(ports: &'a [PortName], remembered: &PortName) -> Option<&'a PortName> {
    ports
        .iter()
        .find(|p| p.id == remembered.id)
        .or_else(|| ports.iter().find(|p| p.name == remembered.name))
}

/// A MIDI keyboard connected: its touches arrive, stamped on the live clock, on a channel.
pub struct MidiKeyboard {
    _connection: midir::MidiInputConnection<()>,
    port: PortName,
}

impl std::fmt::Debug for MidiKeyboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MidiKeyboard")
            .field("port", &self.port)
            .finish()
    }
}

impl MidiKeyboard {
    /// Listens to `port`, handing each touch, stamped by `clock` as it arrives, to `on_touch` on
    /// the MIDI system's thread (straight to the synth, not through a UI frame).
    pub fn connect(
        port: &PortName,
        clock: LiveClock,
        mut on_touch: impl FnMut(Played) + Send + 'static,
    ) -> Result<Self, MidiPortError> {
        let input = midi_input()?;
        let found = input
            .find_port_by_id(&port.id)
            .ok_or_else(|| MidiPortError::NotFound(port.name.clone(), String::new()))?;
        let connection = input
            .connect(
                &found,
                &format!("{CLIENT_NAME} in"),
                move |_, bytes, ()| {
                    if let Some(touch) = Touch::from_midi(bytes) {
                        on_touch(Played {
                            at_s: clock.now_s(),
                            touch,
                        });
                    }
                },
                (),
            )
            .map_err(|err| MidiPortError::Connect {
                name: port.name.clone(),
                reason: err.to_string(),
            })?;
        Ok(Self {
            _connection: connection,
            port: port.clone(),
        })
    }

    /// The port listened to.
    pub fn port(&self) -> &PortName {
        &self.port
    }
}

/// Where MIDI bytes go: a port, or (in tests and benches) anything that takes them.
pub trait MidiSink: Send {
    /// Sends one message.
    fn send_bytes(&mut self, bytes: &MidiBytes) -> Result<(), MidiPortError>;
}

/// A midir connection as a sink.
struct PortSink {
    connection: midir::MidiOutputConnection,
    name: String,
}

impl MidiSink for PortSink {
    fn send_bytes(&mut self, bytes: &MidiBytes) -> Result<(), MidiPortError> {
        self.connection
            .send(bytes)
            .map_err(|err| MidiPortError::Send {
                name: self.name.clone(),
                reason: err.to_string(),
            })
    }
}

/// A MIDI output: what Cadenza plays, sent on as MIDI, every sounding note tracked so that
/// [`MidiOut::silence`] (and dropping it) leaves none ringing.
pub struct MidiOut {
    sink: Box<dyn MidiSink>,
    name: String,
    sounding: SoundingNotes,
}

impl std::fmt::Debug for MidiOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MidiOut").field("name", &self.name).finish()
    }
}

impl MidiOut {
    /// Connects to an output port.
    pub fn connect(port: &PortName) -> Result<Self, MidiPortError> {
        let output = midi_output()?;
        let found = output
            .find_port_by_id(&port.id)
            .ok_or_else(|| MidiPortError::NotFound(port.name.clone(), String::new()))?;
        let connection = output
            .connect(&found, &format!("{CLIENT_NAME} out"))
            .map_err(|err| MidiPortError::Connect {
                name: port.name.clone(),
                reason: err.to_string(),
            })?;
        Ok(Self::on(connection, port.name.clone()))
    }

    /// Opens a virtual output named [`CLIENT_NAME`] for a DAW to record from (Linux and macOS;
    /// Windows has none: a loopback driver such as loopMIDI does it there).
    #[cfg(unix)]
    pub fn virtual_port() -> Result<Self, MidiPortError> {
        use midir::os::unix::VirtualOutput;
        let output = midi_output()?;
        let connection =
            output
                .create_virtual(CLIENT_NAME)
                .map_err(|err| MidiPortError::Connect {
                    name: CLIENT_NAME.to_string(),
                    reason: err.to_string(),
                })?;
        Ok(Self::on(connection, CLIENT_NAME.to_string()))
    }

    fn on(connection: midir::MidiOutputConnection, name: String) -> Self {
        let sink = PortSink {
            connection,
            name: name.clone(),
        };
        Self::to_sink(Box::new(sink), name)
    }

    /// An output to any sink (a recorder in tests and benches).
    pub fn to_sink(sink: Box<dyn MidiSink>, name: String) -> Self {
        Self {
            sink,
            name,
            sounding: SoundingNotes::default(),
        }
    }

    /// The port's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sends a touch and tracks it.
    pub fn send(&mut self, touch: Touch) -> Result<(), MidiPortError> {
        self.sounding.observe(touch);
        self.send_bytes(&touch.to_midi())
    }

    fn send_bytes(&mut self, bytes: &MidiBytes) -> Result<(), MidiPortError> {
        self.sink.send_bytes(bytes)
    }

    /// Releases every tracked note, lifts the pedal, then all notes off.
    pub fn silence(&mut self) -> Result<(), MidiPortError> {
        self.sounding
            .silence()
            .iter()
            .try_for_each(|bytes| self.send_bytes(bytes))
    }

    /// [`MidiOut::silence`], then all sound off: the Panic button.
    pub fn panic(&mut self) -> Result<(), MidiPortError> {
        self.sounding
            .panic()
            .iter()
            .try_for_each(|bytes| self.send_bytes(bytes))
    }
}

impl Drop for MidiOut {
    fn drop(&mut self) {
        // Closing (a port change, leaving the mode, exit) must not leave notes ringing; a port
        // already gone has nothing left to ring.
        let _ = self.silence();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(id: &str, name: &str) -> PortName {
        PortName {
            id: id.to_string(),
            name: name.to_string(),
        }
    }

    #[test]
    fn a_remembered_port_is_found_by_id_then_by_name() {
        let ports = [port("24:0", "Keystation 49"), port("14:0", "Midi Through")];
        assert_eq!(
            find_remembered(&ports, &port("24:0", "Old name")),
            Some(&ports[0])
        );
        assert_eq!(
            find_remembered(&ports, &port("28:0", "Keystation 49")),
            Some(&ports[0])
        );
        assert_eq!(find_remembered(&ports, &port("28:0", "Gone")), None);
    }

    #[test]
    fn a_port_asked_for_by_part_of_its_name_is_found_only_if_one_matches() {
        let ports = [
            port("1", "Keystation 49 MIDI 1"),
            port("2", "Keystation 49 MIDI 2"),
        ];
        assert_eq!(find_port(&ports, "midi 2").ok(), Some(&ports[1]));
        let err = find_port(&ports, "keystation").expect_err("two match");
        assert!(
            err.to_string()
                .contains("Keystation 49 MIDI 1, Keystation 49 MIDI 2")
        );
    }

    #[test]
    fn without_a_midi_system_listing_ports_says_so() {
        // ALSA's sequencer is the MIDI system here (JACK only in the test build of the live
        // ports); where it is missing, as on CI and these servers, the error is "No MIDI ports".
        let sequencer = std::path::Path::new("/dev/snd/seq").exists();
        if cfg!(target_os = "linux") && !cfg!(feature = "jack") && !sequencer {
            let err = input_ports().expect_err("no sequencer, no ports");
            assert!(
                err.to_string().starts_with("No MIDI ports: no MIDI system"),
                "{err}"
            );
            assert!(output_ports().is_err());
        } else {
            println!(
                "a MIDI system is here: {:?}",
                input_ports().map(|p| p.len())
            );
        }
    }
}
