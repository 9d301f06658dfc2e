//! The sound layer (it uses the base and music layers only). Sound: a SoundFont piano (fluidlite) driven by a piece's notes and pedal at sample-accurate
//! times, for offline rendering to WAV and for live playback through rodio with a transport.
//!
//! Rendering and playback share one [`Sequencer`], so what is heard is what is exported. Playback
//! is a rodio [`Source`](rodio::Source) that can also be pulled into a buffer, so it works (and is
//! tested) without an audio device.

mod frame_clock;
mod playback;
mod soundfont;
pub mod soundfont_check;
mod soundfont_error;
mod wav;

pub use frame_clock::FrameClock;
pub use playback::{
    AudioOutput, LIVE_BUFFER_FRAMES, PlaybackSource, Tapped, Transport, TransportCommand, playback,
};
pub use soundfont::{
    SYSTEM_SOUNDFONT, SoundFontSearch, find_soundfont, search_soundfont, soundfont_candidates,
};
pub use soundfont_check::{SoundFontError, SoundFontSummary};
pub use wav::{Rendered, WavFormat, render_wav, write_wav};

use std::path::{Path, PathBuf};

use crate::music::midi::{self, Note, Piece};
use crate::music::touch::Touch;
use midly::num::u7;

/// Output sample rate, in frames per second.
pub const SAMPLE_RATE: u32 = 44_100;
/// Interleaved stereo.
pub const CHANNELS: u16 = 2;
/// Synth gain: dense piano writing (Chopin's op. 25 no. 12, Liszt) peaks below 0 dBFS with it.
pub const DEFAULT_GAIN: f32 = 0.8;
/// Silence rendered after the last release so the last notes ring out.
pub const DEFAULT_TAIL_S: f64 = 2.0;
/// The synth's voice limit: enough for pedalled arpeggios, which keep many strings ringing.
const POLYPHONY: i32 = 512;
/// The General MIDI percussion channel (10, counted from 0), where the click sounds.
const CLICK_CHANNEL: u32 = 9;
/// The percussion kit's bank in a General MIDI SoundFont.
const PERCUSSION_BANK: u32 = 128;
/// General MIDI's hi and low wood blocks: the click on a downbeat and on the other beats.
const CLICK_KEYS: (u32, u32) = (76, 77);
/// The click is quieter than the piano under it.
const CLICK_VELOCITY: u32 = 90;
/// MIDI controller number of the sustain pedal.
const SUSTAIN_CONTROLLER: u32 = 64;
/// The limiter holds peaks at -1 dBFS.
const LIMITER_CEILING: f32 = 0.891;
/// The limiter lets go with a 100 ms time constant.
const LIMITER_RELEASE_S: f32 = 0.1;

/// Why sound could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// No SoundFont was found in any of the places searched.
    #[error(
        "no SoundFont found: put a .sf2 file in a soundfonts/ folder beside Cadenza or in {}, or install Debian's fluid-soundfont-gm (searched: {})",
        soundfont::user_soundfont_dir().map_or("the user data folder".to_string(), |d| d.display().to_string()),
        .searched.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    NoSoundFont {
        /// Every place looked in.
        searched: Vec<PathBuf>,
    },
    /// The SoundFont exists but cannot be loaded.
    #[error("cannot load the SoundFont {}: {reason}", path.display())]
    BadSoundFont {
        /// The file.
        path: PathBuf,
        /// What the synth reported.
        reason: String,
    },
    /// The synthesizer could not be created or driven.
    #[error("synthesizer error: {0}")]
    Synth(String),
    /// There is no audio output device.
    #[error("no audio output: {0} (render to WAV instead)")]
    NoDevice(String),
    /// A setting is out of range.
    #[error("{0}")]
    Invalid(String),
    /// The WAV file could not be written.
    #[error("cannot write {}: {reason}", path.display())]
    Wav {
        /// The file.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
}

/// SoundFont loads take turns. fluidlite's loader keeps the size of the sample data being read
/// in a C global (`sdtachunk_size`), and SF3 decoding its Ogg reader: two loads at once (an export
/// while a new SoundFont loads; tests in parallel) read each other's sizes, and a sample judged
/// invalid that way leaves the rest of its font unfixed, pointing outside its data (SIGSEGV).
static LOADING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A General MIDI SoundFont loaded into fluidlite, playing the acoustic grand piano.
pub struct PianoSynth {
    synth: fluidlite::Synth,
    soundfont: PathBuf,
}

impl std::fmt::Debug for PianoSynth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PianoSynth")
            .field("soundfont", &self.soundfont)
            .finish()
    }
}

impl AudioError {
    /// A SoundFont refused by the structure check.
    pub fn bad_soundfont(path: &Path, reason: &SoundFontError) -> Self {
        Self::BadSoundFont {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }
}

impl PianoSynth {
    /// Loads `soundfont` at [`SAMPLE_RATE`] with the given gain, after checking its structure
    /// ([`soundfont_check`]): fluidlite is C code and crashes on a malformed file.
    pub fn new(soundfont: &Path, gain: f32) -> Result<Self, AudioError> {
        use fluidlite::IsSettings;
        let bad = |reason: String| AudioError::BadSoundFont {
            path: soundfont.to_path_buf(),
            reason,
        };
        if !soundfont.is_file() {
            return Err(bad("no such file".to_string()));
        }
        soundfont_check::check_file(soundfont)
            .map_err(|reason| AudioError::bad_soundfont(soundfont, &reason))?;
        let settings = fluidlite::Settings::new().map_err(|e| AudioError::Synth(e.to_string()))?;
        if let Some(rate) = settings.num("synth.sample-rate") {
            rate.set(f64::from(SAMPLE_RATE));
        }
        // The voice limit is fixed when the synth is made: `set_polyphony` can only lower it.
        if let Some(voices) = settings.int("synth.polyphony") {
            voices.set(POLYPHONY);
        }
        let synth =
            fluidlite::Synth::new(settings).map_err(|e| AudioError::Synth(e.to_string()))?;
        {
            let _turn = LOADING
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            synth
                .sfload(soundfont, true)
                .map_err(|e| bad(format!("{e} (is it a valid .sf2/.sf3 file?)")))?;
        }
        synth
            .program_change(0, 0)
            .map_err(|e| bad(format!("it has no piano preset: {e}")))?;
        synth.set_gain(gain.clamp(0.0, 10.0));
        Ok(Self {
            synth,
            soundfont: soundfont.to_path_buf(),
        })
    }

    /// How many voices may sound at once.
    pub fn polyphony(&self) -> u32 {
        self.synth.get_polyphony()
    }

    /// The SoundFont file in use.
    pub fn soundfont(&self) -> &Path {
        &self.soundfont
    }

    fn apply(&self, touch: Touch) {
        // A rejected event (e.g. a note-off for a voice already stolen) changes nothing audible.
        let _ = match touch {
            Touch::Strike { key, velocity } => self.synth.note_on(
                0,
                u32::from(key.as_int()),
                u32::from(velocity.as_int().max(1)),
            ),
            Touch::Release { key } => self.synth.note_off(0, u32::from(key.as_int())),
            Touch::Pedal { down } => {
                self.synth
                    .cc(0, SUSTAIN_CONTROLLER, if down { 127 } else { 0 })
            }
        };
    }

    /// Cuts every sound at once, reverb tails included, and lifts the pedal (before a seek).
    fn silence(&self) {
        let _ = self.synth.system_reset();
        let _ = self.synth.program_change(0, 0);
    }

    /// A click of the metronome: on the percussion channel, so it is never a piano note.
    fn click(&self, downbeat: bool) {
        let key = if downbeat { CLICK_KEYS.0 } else { CLICK_KEYS.1 };
        let _ = self.synth.bank_select(CLICK_CHANNEL, PERCUSSION_BANK);
        let _ = self.synth.program_change(CLICK_CHANNEL, 0);
        let _ = self.synth.note_on(CLICK_CHANNEL, key, CLICK_VELOCITY);
    }

    /// Fills interleaved stereo frames.
    fn write(&self, frames: &mut [f32]) {
        let _ = self.synth.write(frames);
    }
}

/// A piece prepared for the synth: its events at frame positions, in order.
#[derive(Debug, Clone, Default)]
pub struct Score {
    events: Vec<(u64, Touch)>,
    /// Notes as heard (pedal applied), to restart what sounds at a seek point.
    sounding: Vec<Note>,
    pedal: Vec<midi::PedalInterval>,
    end_frame: u64,
}

impl Score {
    /// Schedules a piece's notes and pedal.
    pub fn new(piece: &Piece) -> Self {
        let mut events = Vec::with_capacity(piece.notes.len() * 2 + piece.pedal.len() * 2);
        for note in &piece.notes {
            // Notes come from MIDI files and the model: their keys and velocities fit 7 bits.
            let (Some(key), Some(velocity)) =
                (u7::try_from(note.pitch), u7::try_from(note.velocity))
            else {
                continue;
            };
            events.push((frame_of(note.start_s), Touch::strike(key, velocity)));
            events.push((frame_of(note.end_s), Touch::Release { key }));
        }
        for interval in &piece.pedal {
            events.push((frame_of(interval.start_s), Touch::Pedal { down: true }));
            events.push((frame_of(interval.end_s), Touch::Pedal { down: false }));
        }
        // Releases before strikes at one instant, so a repeated key sounds again.
        events.sort_by_key(|&(frame, touch)| (frame, !matches!(touch, Touch::Release { .. })));
        Self {
            events,
            sounding: midi::apply_sustain(piece),
            pedal: piece.pedal.clone(),
            end_frame: frame_of(piece.duration_s()),
        }
    }

    /// Frame of the last release.
    pub fn end_frame(&self) -> u64 {
        self.end_frame
    }

    /// Frames a render of this score makes with `tail_s` of tail after its last release.
    pub fn frames_with_tail(&self, tail_s: f64) -> u64 {
        self.end_frame() + frame_of(tail_s)
    }
}

/// Frame index of a time in seconds.
pub fn frame_of(seconds: f64) -> u64 {
    (seconds.max(0.0) * f64::from(SAMPLE_RATE)).round() as u64
}

/// A stereo-linked peak limiter (instant attack, smooth release). Real music at the default gain
/// stays below its ceiling and passes untouched; it only catches extremes such as pedalled
/// fortissimo clusters, which would otherwise clip.
#[derive(Debug, Clone)]
struct Limiter {
    gain: f32,
    release: f32,
}

impl Default for Limiter {
    fn default() -> Self {
        Self {
            gain: 1.0,
            release: 1.0 - (-1.0 / (LIMITER_RELEASE_S * SAMPLE_RATE as f32)).exp(),
        }
    }
}

impl Limiter {
    fn process(&mut self, samples: &mut [f32]) {
        for frame in samples.chunks_exact_mut(usize::from(CHANNELS)) {
            let peak = frame.iter().fold(0.0f32, |m, s| m.max(s.abs()));
            let allowed = if peak > LIMITER_CEILING {
                LIMITER_CEILING / peak
            } else {
                1.0
            };
            self.gain = allowed.min(self.gain + (1.0 - self.gain) * self.release);
            for sample in frame {
                *sample *= self.gain;
            }
        }
    }
}

/// Plays a [`Score`] through a [`PianoSynth`], firing each event at its exact frame.
#[derive(Debug)]
pub struct Sequencer {
    synth: PianoSynth,
    score: Score,
    frame: u64,
    /// Frames put out since the sequencer was made, silence and seeks included: the clock a tap
    /// (a MIDI output following playback) is stamped with.
    stream_frame: u64,
    /// What the synth was told since the last [`Sequencer::take_fired`], when tapped.
    fired: Option<Vec<Fired>>,
    next_event: usize,
    limiter: Limiter,
}

impl Sequencer {
    /// A sequencer at the start of `score`.
    pub fn new(synth: PianoSynth, score: Score) -> Self {
        Self {
            synth,
            score,
            frame: 0,
            stream_frame: 0,
            fired: None,
            next_event: 0,
            limiter: Limiter::default(),
        }
    }

    /// The frame the next rendered frame will have.
    pub fn frame(&self) -> u64 {
        self.frame
    }

    /// The score being played.
    pub fn score(&self) -> &Score {
        &self.score
    }

    /// Replaces the score and jumps to `frame` in it.
    pub fn load(&mut self, score: Score, frame: u64) {
        self.score = score;
        self.seek(frame);
    }

    /// Jumps to `frame`: silences everything, then restarts the notes (and pedal) sounding there.
    pub fn seek(&mut self, frame: u64) {
        self.synth.silence();
        self.fire(FiredKind::Silence);
        self.frame = frame;
        self.next_event = self.score.events.partition_point(|&(f, _)| f < frame);
        let t = frame as f64 / f64::from(SAMPLE_RATE);
        if self
            .score
            .pedal
            .iter()
            .any(|p| p.start_s <= t && t < p.end_s)
        {
            self.strike(Touch::Pedal { down: true }, false);
        }
        let sounding: Vec<Touch> = self
            .score
            .sounding
            .iter()
            .take_while(|n| n.start_s < t)
            .filter(|n| t < n.end_s && frame_of(n.start_s) < frame)
            .filter_map(|n| {
                Some(Touch::strike(
                    u7::try_from(n.pitch)?,
                    u7::try_from(n.velocity)?,
                ))
            })
            .collect();
        for touch in sounding {
            self.strike(touch, false);
        }
    }

    /// Plays a live touch on the synth at once, beside the score.
    pub fn touch(&mut self, touch: Touch) {
        self.strike(touch, true);
    }

    fn strike(&mut self, touch: Touch, live: bool) {
        self.synth.apply(touch);
        self.fire(FiredKind::Touch { touch, live });
    }

    fn fire(&mut self, kind: FiredKind) {
        if let Some(fired) = &mut self.fired {
            fired.push(Fired {
                stream_frame: self.stream_frame,
                kind,
            });
        }
    }

    /// Starts (or stops) keeping what the synth is told, for [`Sequencer::take_fired`].
    pub fn set_tapped(&mut self, tapped: bool) {
        self.fired = tapped.then(Vec::new);
    }

    /// What the synth was told since the last call, stamped with output frames.
    pub fn take_fired(&mut self) -> Vec<Fired> {
        self.fired.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Frames put out so far (see [`Fired::stream_frame`]).
    pub fn stream_frame(&self) -> u64 {
        self.stream_frame
    }

    /// Sounds a click of the metronome (never recorded, never sent as MIDI).
    pub fn click(&mut self, downbeat: bool) {
        self.synth.click(downbeat);
    }

    /// Counts `frames` of silence put out while nothing plays.
    pub fn idle(&mut self, frames: u64) {
        self.stream_frame += frames;
    }

    /// Renders `out.len() / 2` stereo frames of what live touches left sounding, without moving
    /// through the score.
    pub fn render_live(&mut self, out: &mut [f32]) {
        self.synth.write(out);
        self.limiter.process(out);
        self.stream_frame += (out.len() / usize::from(CHANNELS)) as u64;
    }

    /// Renders `out.len() / 2` stereo frames from the current position.
    pub fn render(&mut self, out: &mut [f32]) {
        let mut written = 0;
        while written < out.len() {
            while let Some(&(frame, event)) = self.score.events.get(self.next_event)
                && frame <= self.frame
            {
                self.strike(event, false);
                self.next_event += 1;
            }
            let frames_left = (out.len() - written) as u64 / u64::from(CHANNELS);
            let until_event = self
                .score
                .events
                .get(self.next_event)
                .map_or(frames_left, |&(frame, _)| frame - self.frame);
            let frames = until_event.min(frames_left).max(1);
            let samples = (frames * u64::from(CHANNELS)) as usize;
            let chunk = &mut out[written..written + samples];
            self.synth.write(chunk);
            self.limiter.process(chunk);
            written += samples;
            self.frame += frames;
            self.stream_frame += frames;
        }
    }
}

/// Something the synth was told, at a frame of the output stream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fired {
    /// Frames put out before it, since the sequencer was made.
    pub stream_frame: u64,
    /// What.
    pub kind: FiredKind,
}

/// What the synth was told.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FiredKind {
    /// A touch: from the score, or played live.
    Touch {
        /// The touch.
        touch: Touch,
        /// Whether it was played live (not from the score).
        live: bool,
    },
    /// Everything was cut (pause, stop, seek, a new piece).
    Silence,
}

/// The longest tail after the last release, in seconds.
pub const MAX_TAIL_S: f64 = 60.0;
/// The largest synth gain (the default is 0.2; 10 is already far into clipping).
pub const MAX_GAIN: f32 = 10.0;

/// Checks render settings, saying which is out of range.
pub fn validate_render(gain: f32, tail_s: f64) -> Result<(), AudioError> {
    if !(gain.is_finite() && gain > 0.0 && gain <= MAX_GAIN) {
        return Err(AudioError::Invalid(format!(
            "the gain must be above 0 and at most {MAX_GAIN}, not {gain}"
        )));
    }
    if !(tail_s.is_finite() && (0.0..=MAX_TAIL_S).contains(&tail_s)) {
        return Err(AudioError::Invalid(format!(
            "the tail must be between 0 and {MAX_TAIL_S} seconds, not {tail_s}"
        )));
    }
    Ok(())
}

/// Renders a whole piece to interleaved stereo at [`SAMPLE_RATE`], plus `tail_s` of silence
/// after the last release; `progress` receives the share done (0–1) every second of audio.
pub fn render(piece: &Piece, synth: PianoSynth, tail_s: f64, progress: &dyn Fn(f64)) -> Vec<f32> {
    let score = Score::new(piece);
    let mut samples = Vec::with_capacity(score.frames_with_tail(tail_s) as usize * 2);
    let kept: Result<(), std::convert::Infallible> =
        render_blocks(score, synth, tail_s, progress, &mut |block| {
            samples.extend_from_slice(block);
            Ok(())
        });
    let Ok(()) = kept;
    samples
}

/// Renders `score` (plus `tail_s`) a second of audio at a time, handing each block (interleaved
/// stereo) to `sink`, so a long piece never needs its whole audio in memory.
pub fn render_blocks<E>(
    score: Score,
    synth: PianoSynth,
    tail_s: f64,
    progress: &dyn Fn(f64),
    sink: &mut dyn FnMut(&[f32]) -> Result<(), E>,
) -> Result<(), E> {
    let total = score.frames_with_tail(tail_s) as usize * usize::from(CHANNELS);
    let mut sequencer = Sequencer::new(synth, score);
    let block_len = SAMPLE_RATE as usize * usize::from(CHANNELS);
    let mut block = vec![0.0f32; block_len];
    let blocks = total.div_ceil(block_len).max(1);
    for index in 0..blocks {
        let len = block_len.min(total - index * block_len);
        sequencer.render(&mut block[..len]);
        sink(&block[..len])?;
        progress((index + 1) as f64 / blocks as f64);
    }
    Ok(())
}

/// Renders `piece` with the SoundFont found from `soundfont` (the user's choice, else the usual
/// places) into a 16-bit WAV at `path`: the app's "Export WAV", reporting the share done.
pub fn export_wav(
    piece: &Piece,
    soundfont: Option<&Path>,
    path: &Path,
    progress: &dyn Fn(f64),
) -> Result<(), AudioError> {
    let synth = PianoSynth::new(&find_soundfont(soundfont)?, DEFAULT_GAIN)?;
    render_wav(piece, synth, DEFAULT_TAIL_S, path, WavFormat::S16, progress).map(|_| ())
}

/// Largest absolute sample value.
pub fn peak(samples: &[f32]) -> f32 {
    samples.iter().fold(0.0, |m, s| m.max(s.abs()))
}
