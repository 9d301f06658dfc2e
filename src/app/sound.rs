//! The UI's side of sound: the transport, the output (device or silent), the SoundFont in use.

use std::path::{Path, PathBuf};

use cadenza_core::audio::{self, AudioError, AudioOutput, PianoSynth, Transport, TransportCommand};
use cadenza_core::midi::Piece;
use cadenza_core::music::meter::Grid;
use cadenza_core::music::touch::Touch;
use cadenza_core::worker::Repaint;

use super::job::Job;

/// The buffer assumed when the device's own default had to do (rodio asks for about 50 ms).
const DEFAULT_DEVICE_BUFFER_FRAMES: u32 = 2048;

/// A SoundFont the user picked, loaded off the UI thread (a General MIDI font takes a while).
type ChosenSoundFont = Option<(PathBuf, Result<PianoSynth, AudioError>)>;

/// Playback as the UI sees it.
pub struct Sound {
    transport: Option<Transport>,
    _output: Option<AudioOutput>,
    soundfont: Result<PathBuf, String>,
    output_problem: Option<String>,
    /// The device buffer, in frames, when a small one opened (see [`audio::LIVE_BUFFER_FRAMES`]).
    buffer_frames: Option<u32>,
    choosing: Job<ChosenSoundFont>,
    /// The SoundFont the user chose, remembered between runs even while it cannot be used.
    chosen: Option<PathBuf>,
}

/// What a SoundFont the user chose did, once it loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoundChange {
    /// It plays now; the player is empty, so the piece on screen goes into it again.
    Switched,
    /// It could not be used, for the reason given; the sound before it plays on.
    Refused(String),
}

impl Sound {
    /// Finds a SoundFont and opens the output; without either, the app runs without sound and
    /// says why in the status bar. SoundFonts refused on the way (a broken remembered choice or a
    /// damaged file in the data folder) are passed over, and `messages` says which and why.
    pub fn start(user_choice: Option<PathBuf>, messages: &mut Vec<String>) -> Self {
        let search = audio::search_soundfont(user_choice.as_deref());
        let fallback = match &search.found {
            Ok(path) => format!("using {} instead", path.display()),
            Err(_) => "playing without sound".to_string(),
        };
        messages.extend(
            search
                .refused
                .iter()
                .map(|refusal| format!("SoundFont skipped: {refusal}; {fallback}")),
        );
        let synth = search
            .found
            .and_then(|path| PianoSynth::new(&path, audio::DEFAULT_GAIN).map(|s| (path, s)));
        match synth {
            Ok((path, synth)) => Self::with_synth(path, synth, user_choice),
            Err(err) => Self {
                transport: None,
                _output: None,
                soundfont: Err(err.to_string()),
                output_problem: None,
                buffer_frames: None,
                choosing: Job::default(),
                chosen: user_choice,
            },
        }
    }

    fn with_synth(path: PathBuf, synth: PianoSynth, chosen: Option<PathBuf>) -> Self {
        let (transport, source) = audio::playback(synth);
        // The small buffer of a live instrument: a key played is heard 12 ms later, not 46.
        let (output, buffer_frames, problem) = AudioOutput::open_live_or_silent(source);
        Self {
            transport: Some(transport),
            _output: Some(output),
            soundfont: Ok(path),
            output_problem: problem.map(|e| e.to_string()),
            buffer_frames,
            choosing: Job::default(),
            chosen,
        }
    }

    /// The SoundFont the user chose, if any (what is remembered).
    pub fn chosen(&self) -> Option<&Path> {
        self.chosen.as_deref()
    }

    /// The SoundFont playing, if any.
    pub fn soundfont_path(&self) -> Option<&Path> {
        self.soundfont.as_ref().ok().map(PathBuf::as_path)
    }

    fn send(&self, command: TransportCommand) {
        if let Some(transport) = &self.transport {
            transport.send(command);
        }
    }

    /// Puts a piece in the player, from the start, without playing it.
    pub fn load(&mut self, piece: &Piece) {
        if let Some(transport) = &self.transport {
            transport.load(piece, false);
        }
    }

    /// Play or pause.
    pub fn toggle(&mut self) {
        self.send(if self.is_playing() {
            TransportCommand::Pause
        } else {
            TransportCommand::Play
        });
    }

    /// Plays from `from_s` and pauses at `until_s` (an audition of a passage). The player keeps
    /// the stop point, so it holds however late the next frame comes.
    pub fn play_range(&mut self, from_s: f64, until_s: f64) {
        self.send(TransportCommand::PlayRange { from_s, until_s });
    }

    /// Pauses, keeping the position.
    pub fn pause(&mut self) {
        self.send(TransportCommand::Pause);
    }

    /// Starts the metronome on `grid` (its time 0 now), or stops it.
    pub fn click(&mut self, grid: Option<Grid>) {
        self.send(TransportCommand::Click(grid));
    }

    /// Sounds a key or the pedal played live, at once.
    pub fn touch(&mut self, touch: Touch) {
        self.send(TransportCommand::Touch(touch));
    }

    /// The transport, for a MIDI keyboard's thread to play the synth without waiting for a frame.
    pub fn transport(&self) -> Option<Transport> {
        self.transport.clone()
    }

    /// Starts playing.
    pub fn play(&mut self) {
        self.send(TransportCommand::Play);
    }

    /// Stops and rewinds.
    pub fn stop(&mut self) {
        self.send(TransportCommand::Stop);
    }

    /// Jumps to a time.
    pub fn seek(&mut self, seconds: f64) {
        self.send(TransportCommand::Seek(seconds));
    }

    /// Sets the volume (0–1).
    pub fn set_volume(&mut self, volume: f32) {
        self.send(TransportCommand::Volume(volume));
    }

    /// The volume.
    pub fn volume(&self) -> f32 {
        self.transport.as_ref().map_or(1.0, Transport::volume)
    }

    /// Whether it is playing.
    pub fn is_playing(&self) -> bool {
        self.transport.as_ref().is_some_and(Transport::is_playing)
    }

    /// Playback position in seconds.
    pub fn position_s(&self) -> f64 {
        self.transport.as_ref().map_or(0.0, Transport::position_s)
    }

    /// For the status bar.
    pub fn soundfont_label(&self) -> String {
        match &self.soundfont {
            Ok(path) => format!(
                "SoundFont: {}",
                path.file_name().unwrap_or_default().to_string_lossy()
            ),
            Err(err) => format!("Sound off: {err}"),
        }
    }

    /// The device buffer in frames (the default device buffer's size when it is unknown).
    pub fn buffer_frames(&self) -> u32 {
        self.buffer_frames.unwrap_or(DEFAULT_DEVICE_BUFFER_FRAMES)
    }

    /// What the output buffer adds between a key and its sound, for the Live room.
    pub fn latency_label(&self) -> String {
        match (&self.soundfont, &self.output_problem, self.buffer_frames) {
            (Err(_), _, _) => "No sound: keys are recorded, not heard".to_string(),
            (Ok(_), Some(_), _) => "No audio output: keys are recorded, not heard".to_string(),
            (Ok(_), None, Some(frames)) => format!(
                "Audio buffer {frames} frames ({:.1} ms) plus one 5.8-ms block",
                f64::from(frames) * 1000.0 / f64::from(audio::SAMPLE_RATE)
            ),
            (Ok(_), None, None) => "Audio buffer: the device's default".to_string(),
        }
    }

    /// For the status bar.
    pub fn output_label(&self) -> String {
        match (&self.soundfont, &self.output_problem) {
            (Err(_), _) => "No sound".to_string(),
            (Ok(_), None) => "Audio output: default device".to_string(),
            (Ok(_), Some(_)) => "No audio output: render to WAV instead".to_string(),
        }
    }

    /// Asks for a SoundFont file and loads it, on a worker thread.
    pub fn choose_soundfont_dialog(&mut self, repaint: &Repaint) {
        self.choosing.dialog(repaint, || {
            rfd::FileDialog::new()
                .add_filter("SoundFont", &["sf2", "sf3"])
                .pick_file()
                .map(|path| {
                    let synth = PianoSynth::new(&path, audio::DEFAULT_GAIN);
                    (path, synth)
                })
        });
    }

    /// Switches to a chosen SoundFont once it has loaded, and remembers it; says what changed.
    /// A bad choice keeps the current sound.
    pub fn poll(&mut self) -> Option<SoundChange> {
        let chosen = match self.choosing.poll()? {
            Ok(chosen) => chosen?,
            Err(message) => {
                return Some(SoundChange::Refused(format!(
                    "Could not load the SoundFont: {message}"
                )));
            }
        };
        match chosen {
            (path, Ok(synth)) => {
                *self = Self::with_synth(path.clone(), synth, Some(path));
                Some(SoundChange::Switched)
            }
            (path, Err(err)) => Some(SoundChange::Refused(format!(
                "Cannot use {}: {err}",
                path.display()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_remembered_soundfont_is_passed_over_with_a_message() {
        let dir = std::env::temp_dir().join(format!("cadenza-sound-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let broken = dir.join("downloaded.sf2");
        // A RIFF 'sfbk' header whose size runs past the end of the file.
        std::fs::write(&broken, b"RIFF\xff\xff\x00\x00sfbkLIST").expect("written");
        let mut messages = Vec::new();
        let sound = Sound::start(Some(broken.clone()), &mut messages);
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(messages[0].contains("downloaded.sf2"), "{messages:?}");
        assert_ne!(sound.soundfont.as_ref().ok(), Some(&broken));
        std::fs::remove_dir_all(&dir).expect("cleaned up");
    }
}
