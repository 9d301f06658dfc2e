//! Live playback: a rodio source that renders the score block by block and obeys transport
//! commands between blocks, and the handle the UI drives it with.

use std::num::NonZero;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use super::{
    AudioError, CHANNELS, DEFAULT_TAIL_S, Fired, PianoSynth, SAMPLE_RATE, Score, Sequencer,
    frame_of,
};
use crate::music::meter::Grid;
use crate::music::midi::Piece;
use crate::music::touch::Touch;

/// After a live touch the synth keeps rendering this long while the score is not playing, so
/// a released note rings out (a piano's longest decay is about 10 s).
const LIVE_RING_S: f64 = 10.0;
/// The live output buffer first tried, in frames: 11.6 ms at 44.1 kHz; larger ones follow if the
/// device refuses it.
pub const LIVE_BUFFER_FRAMES: [u32; 3] = [512, 1024, 2048];

/// Frames rendered between two looks at the transport: 256 frames is 5.8 ms, short enough that
/// play and seek feel immediate, long enough to keep per-block overhead small.
const BLOCK_FRAMES: usize = 256;

/// What the UI asks of the player.
#[derive(Debug, Clone)]
pub enum TransportCommand {
    /// Plays a new piece; keeps the position if `keep_position` (a take being regenerated).
    Load {
        /// The piece, scheduled.
        score: Score,
        /// Stay at the current time rather than going back to the start.
        keep_position: bool,
    },
    /// Starts or resumes (from the start, if the end was reached).
    Play,
    /// Plays from one time to another, in seconds, then pauses there by itself (an audition of
    /// a passage). The source keeps the stop point, so it holds however late the UI looks.
    PlayRange {
        /// Where playing starts.
        from_s: f64,
        /// Where it pauses, the playhead resting there.
        until_s: f64,
    },
    /// Stops sound and holds the position.
    Pause,
    /// Stops sound and goes back to the start.
    Stop,
    /// Jumps to a time in seconds; notes sounding there start sounding.
    Seek(f64),
    /// Repeats a range in seconds, or stops repeating.
    Loop(Option<(f64, f64)>),
    /// Output volume, 0–1 (applied after the synth).
    Volume(f32),
    /// A key or the pedal played live: sounds at the next block, over the score if it plays.
    Touch(Touch),
    /// Whether the SoundFont is heard: off, playback goes on (and to a tap, such as MIDI out)
    /// in silence, for a DAW's own instrument instead.
    Audible(bool),
    /// Clicks every beat of `Some` grid (louder on downbeats), its time 0 at the next block, beside
    /// whatever plays; `None` stops the click. The click is heard only: never recorded or tapped.
    Click(Option<Grid>),
    /// Reports to `Some` sender everything the synth is told and when each block is rendered
    /// (a MIDI output follows playback this way, on the audio clock); `None` stops reporting.
    Tap(Option<Sender<Tapped>>),
}

/// What a tap hears from the player.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tapped {
    /// A block of output frames starting at `stream_frame` was rendered at `rendered`.
    Block {
        /// Its first frame on the output stream.
        stream_frame: u64,
        /// When it was rendered.
        rendered: Instant,
    },
    /// What the synth was told, and at which output frame.
    Fired(Fired),
}

/// Playback state shared with the UI thread.
#[derive(Debug, Default)]
struct Shared {
    frame: AtomicU64,
    end_frame: AtomicU64,
    playing: AtomicBool,
    /// The volume as f32 bits, so the UI can show what it set.
    volume_bits: AtomicU32,
}

/// The UI's handle on playback: send commands, read the position at any time (for the playhead).
#[derive(Debug, Clone)]
pub struct Transport {
    commands: Sender<TransportCommand>,
    shared: Arc<Shared>,
}

impl Transport {
    /// Sends a command; it takes effect at the next block (within 6 ms while audio runs).
    pub fn send(&self, command: TransportCommand) {
        if let TransportCommand::Volume(volume) = command {
            self.shared
                .volume_bits
                .store(volume.to_bits(), Ordering::Relaxed);
        }
        // The source lives as long as the output; if it is gone there is nothing to control.
        let _ = self.commands.send(command);
    }

    /// Plays `piece` from the start (or from the current position, if `keep_position`).
    pub fn load(&self, piece: &Piece, keep_position: bool) {
        self.send(TransportCommand::Load {
            score: Score::new(piece),
            keep_position,
        });
    }

    /// Playback position in seconds.
    pub fn position_s(&self) -> f64 {
        self.shared.frame.load(Ordering::Relaxed) as f64 / f64::from(SAMPLE_RATE)
    }

    /// Length of the loaded piece in seconds (last release).
    pub fn duration_s(&self) -> f64 {
        self.shared.end_frame.load(Ordering::Relaxed) as f64 / f64::from(SAMPLE_RATE)
    }

    /// Whether sound is playing (false when paused, stopped or at the end).
    pub fn is_playing(&self) -> bool {
        self.shared.playing.load(Ordering::Relaxed)
    }

    /// The volume last set, 0–1.
    pub fn volume(&self) -> f32 {
        f32::from_bits(self.shared.volume_bits.load(Ordering::Relaxed))
    }
}

/// An endless rodio source: the current score while playing, silence otherwise.
#[derive(Debug)]
pub struct PlaybackSource {
    sequencer: Sequencer,
    commands: Receiver<TransportCommand>,
    shared: Arc<Shared>,
    block: Vec<f32>,
    cursor: usize,
    playing: bool,
    volume: f32,
    loop_frames: Option<(u64, u64)>,
    /// Where playing pauses by itself (an audition's end), until another command moves it.
    stop_frame: Option<u64>,
    /// Frames the synth still renders for live touches while the score does not play.
    live_frames_left: u64,
    /// Where what the synth is told goes, if anywhere.
    tap: Option<Sender<Tapped>>,
    /// The metronome, if on.
    click: Option<ClickTrack>,
    /// Whether the SoundFont is heard.
    audible: bool,
}

/// A metronome running on the output stream.
#[derive(Debug)]
struct ClickTrack {
    grid: Grid,
    /// The output frame of the grid's time 0.
    origin_frame: u64,
    /// The next beat to click, counted on the grid.
    next_beat: f64,
}

impl ClickTrack {
    /// The clicks (downbeat or not) due before `until_frame`.
    fn due(&mut self, until_frame: u64) -> Vec<bool> {
        let until_s = until_frame.saturating_sub(self.origin_frame) as f64 / f64::from(SAMPLE_RATE);
        let mut clicks = Vec::new();
        while self.grid.time_of(self.next_beat) < until_s {
            let at_s = self.grid.time_of(self.next_beat);
            clicks.push(self.grid.position(at_s + 1e-9).in_bar == 0);
            self.next_beat += 1.0;
        }
        clicks
    }
}

/// A transport and the source it controls, for a synth; the source goes to an [`AudioOutput`]
/// (or is pulled directly, e.g. into a buffer in tests).
pub fn playback(synth: PianoSynth) -> (Transport, PlaybackSource) {
    let (commands, receiver) = crossbeam_channel::unbounded();
    let shared = Arc::new(Shared {
        volume_bits: AtomicU32::new(1.0f32.to_bits()),
        ..Shared::default()
    });
    let transport = Transport {
        commands,
        shared: Arc::clone(&shared),
    };
    let source = PlaybackSource {
        sequencer: Sequencer::new(synth, Score::default()),
        commands: receiver,
        shared,
        block: vec![0.0; BLOCK_FRAMES * usize::from(CHANNELS)],
        cursor: BLOCK_FRAMES * usize::from(CHANNELS),
        playing: false,
        volume: 1.0,
        loop_frames: None,
        stop_frame: None,
        live_frames_left: 0,
        tap: None,
        click: None,
        audible: true,
    };
    (transport, source)
}

impl PlaybackSource {
    fn obey(&mut self, command: TransportCommand) {
        // Only a range sets a stop point; anything else the user does forgets it.
        if !matches!(
            command,
            TransportCommand::Volume(_)
                | TransportCommand::Touch(_)
                | TransportCommand::Tap(_)
                | TransportCommand::Click(_)
                | TransportCommand::Audible(_)
        ) {
            self.stop_frame = None;
        }
        match command {
            TransportCommand::Load {
                score,
                keep_position,
            } => {
                let frame = if keep_position {
                    self.sequencer.frame().min(score.end_frame())
                } else {
                    0
                };
                self.shared
                    .end_frame
                    .store(score.end_frame(), Ordering::Relaxed);
                self.sequencer.load(score, frame);
            }
            TransportCommand::Play => {
                let at_end = self.sequencer.frame() >= self.last_frame();
                self.sequencer
                    .seek(if at_end { 0 } else { self.sequencer.frame() });
                self.playing = true;
            }
            TransportCommand::PlayRange { from_s, until_s } => {
                let last = self.last_frame();
                let (from, until) = (frame_of(from_s).min(last), frame_of(until_s).min(last));
                self.sequencer.seek(from);
                self.playing = until > from;
                self.stop_frame = Some(until);
            }
            TransportCommand::Pause => {
                self.playing = false;
                // Everything is cut, live keys too: nothing is left to ring out.
                self.live_frames_left = 0;
                self.sequencer.seek(self.sequencer.frame());
            }
            TransportCommand::Stop => {
                self.playing = false;
                self.live_frames_left = 0;
                self.sequencer.seek(0);
            }
            TransportCommand::Seek(seconds) => {
                self.sequencer
                    .seek(frame_of(seconds).min(self.last_frame()));
            }
            TransportCommand::Loop(range) => {
                self.loop_frames = range
                    .map(|(a, b)| (frame_of(a.min(b)), frame_of(a.max(b))))
                    .filter(|(a, b)| b > a);
            }
            TransportCommand::Volume(volume) => self.volume = volume.clamp(0.0, 1.0),
            TransportCommand::Touch(touch) => {
                self.sequencer.touch(touch);
                self.live_frames_left = frame_of(LIVE_RING_S);
            }
            TransportCommand::Audible(audible) => self.audible = audible,
            TransportCommand::Click(grid) => {
                self.click = grid.map(|grid| ClickTrack {
                    grid,
                    origin_frame: self.sequencer.stream_frame(),
                    next_beat: 0.0,
                });
            }
            TransportCommand::Tap(tap) => {
                self.sequencer.set_tapped(tap.is_some());
                self.tap = tap;
            }
        }
        self.shared
            .frame
            .store(self.sequencer.frame(), Ordering::Relaxed);
    }

    /// Where playback stops by itself: the last release plus a tail for the sound to die away.
    fn last_frame(&self) -> u64 {
        self.sequencer.score().end_frame() + frame_of(DEFAULT_TAIL_S)
    }

    /// Frames of the next block to render: all of them, or up to the stop point of a range.
    fn frames_to_play(&self) -> usize {
        match self.stop_frame {
            Some(stop) => (stop.saturating_sub(self.sequencer.frame()) as usize).min(BLOCK_FRAMES),
            None => BLOCK_FRAMES,
        }
    }

    /// Clicks the beats falling in the next block (at its start: a click lands within one 5.8-ms
    /// block of its beat), and keeps the synth rendering while the metronome runs.
    fn sound_clicks(&mut self) {
        let Some(click) = &mut self.click else {
            return;
        };
        let block_end = self.sequencer.stream_frame() + BLOCK_FRAMES as u64;
        for downbeat in click.due(block_end) {
            self.sequencer.click(downbeat);
        }
        self.live_frames_left = self.live_frames_left.max(frame_of(LIVE_RING_S));
    }

    fn report_to_tap(&mut self, stream_frame: u64, rendered: Instant) {
        let Some(tap) = &self.tap else {
            return;
        };
        let block = Tapped::Block {
            stream_frame,
            rendered,
        };
        let fired = self.sequencer.take_fired().into_iter().map(Tapped::Fired);
        let delivered = std::iter::once(block)
            .chain(fired)
            .all(|tapped| tap.send(tapped).is_ok());
        if !delivered {
            // The tap was closed (its output went away): stop telling it.
            self.tap = None;
            self.sequencer.set_tapped(false);
        }
    }

    fn scale_by_volume(&mut self) {
        for sample in &mut self.block {
            *sample *= self.volume;
        }
    }

    fn fill_block(&mut self) {
        let block_start = self.sequencer.stream_frame();
        let rendered = Instant::now();
        while let Ok(command) = self.commands.try_recv() {
            self.obey(command);
        }
        self.sound_clicks();
        if let Some((start, end)) = self.loop_frames
            && self.playing
            && self.sequencer.frame() >= end
        {
            self.sequencer.seek(start);
        }
        if self.playing {
            let frames = self.frames_to_play();
            let (sounding, silent) = self.block.split_at_mut(frames * usize::from(CHANNELS));
            self.sequencer.render(sounding);
            silent.fill(0.0);
            self.sequencer.idle((BLOCK_FRAMES - frames) as u64);
            self.scale_by_volume();
            if self.sequencer.frame() >= self.last_frame() {
                self.playing = false;
            }
            if self
                .stop_frame
                .is_some_and(|stop| self.sequencer.frame() >= stop)
            {
                self.playing = false;
                self.stop_frame = None;
                // Notes sounding at the stop point fall silent, as on Pause.
                self.sequencer.seek(self.sequencer.frame());
            }
        } else if self.live_frames_left > 0 {
            self.sequencer.render_live(&mut self.block);
            self.scale_by_volume();
            self.live_frames_left = self.live_frames_left.saturating_sub(BLOCK_FRAMES as u64);
        } else {
            self.block.fill(0.0);
            self.sequencer.idle(BLOCK_FRAMES as u64);
        }
        if !self.audible {
            self.block.fill(0.0);
        }
        self.report_to_tap(block_start, rendered);
        self.shared
            .frame
            .store(self.sequencer.frame(), Ordering::Relaxed);
        self.shared.playing.store(self.playing, Ordering::Relaxed);
        self.cursor = 0;
    }
}

impl Iterator for PlaybackSource {
    type Item = f32;

    fn next(&mut self) -> Option<f32> {
        if self.cursor >= self.block.len() {
            self.fill_block();
        }
        let sample = self.block[self.cursor];
        self.cursor += 1;
        Some(sample)
    }
}

impl rodio::Source for PlaybackSource {
    fn current_span_len(&self) -> Option<usize> {
        None
    }

    fn channels(&self) -> rodio::ChannelCount {
        NonZero::new(CHANNELS).unwrap_or(NonZero::<u16>::MIN)
    }

    fn sample_rate(&self) -> rodio::SampleRate {
        NonZero::new(SAMPLE_RATE).unwrap_or(NonZero::<u32>::MIN)
    }

    fn total_duration(&self) -> Option<Duration> {
        None
    }
}

/// Where a [`PlaybackSource`] goes: the sound card, or (without one) a thread that pulls it in
/// real time and discards the sound, so the transport and playhead behave the same either way.
pub enum AudioOutput {
    /// Playing through the default output device.
    Device {
        /// The open device.
        _sink: rodio::MixerDeviceSink,
        /// The player pulling the source.
        _player: rodio::Player,
    },
    /// No device: pulled and discarded at real-time pace until dropped.
    Silent {
        /// Set on drop to end the pulling thread.
        stop: Arc<AtomicBool>,
    },
}

impl std::fmt::Debug for AudioOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Device { .. } => "AudioOutput::Device",
            Self::Silent { .. } => "AudioOutput::Silent",
        })
    }
}

impl Drop for AudioOutput {
    fn drop(&mut self) {
        if let Self::Silent { stop } = self {
            stop.store(true, Ordering::Relaxed);
        }
    }
}

impl AudioOutput {
    /// Opens the default output device and starts pulling from `source`. Fails at once (no
    /// panic, no hang) when there is no device.
    pub fn open(source: PlaybackSource) -> Result<Self, AudioError> {
        let sink = open_sink()?;
        Ok(Self::play_on(sink, source))
    }

    /// Like [`AudioOutput::open_or_silent`], with the smallest device buffer of
    /// [`LIVE_BUFFER_FRAMES`] that opens (for playing live: the buffer is most of the delay from
    /// a key to its sound); also returns the buffer in frames, `None` if the device's default
    /// had to do.
    pub fn open_live_or_silent(source: PlaybackSource) -> (Self, Option<u32>, Option<AudioError>) {
        for frames in LIVE_BUFFER_FRAMES {
            let sink = rodio::DeviceSinkBuilder::from_default_device()
                .map(|builder| builder.with_buffer_size(rodio::cpal::BufferSize::Fixed(frames)))
                .and_then(|builder| builder.open_stream());
            if let Ok(mut sink) = sink {
                sink.log_on_drop(false);
                return (Self::play_on(sink, source), Some(frames), None);
            }
        }
        let (output, problem) = Self::open_or_silent(source);
        (output, None, problem)
    }

    /// Like [`AudioOutput::open`], but without a device the source is pulled silently in real
    /// time; the error says why there is no sound.
    pub fn open_or_silent(source: PlaybackSource) -> (Self, Option<AudioError>) {
        match open_sink() {
            Ok(sink) => (Self::play_on(sink, source), None),
            Err(err) => (Self::silent(source), Some(err)),
        }
    }

    fn play_on(sink: rodio::MixerDeviceSink, source: PlaybackSource) -> Self {
        let player = rodio::Player::connect_new(sink.mixer());
        player.append(source);
        Self::Device {
            _sink: sink,
            _player: player,
        }
    }

    fn silent(mut source: PlaybackSource) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let block = BLOCK_FRAMES * usize::from(CHANNELS);
        let _ = std::thread::Builder::new()
            .name("cadenza-silent-audio".to_string())
            .spawn(move || {
                let started = std::time::Instant::now();
                let mut frames = 0u64;
                while !stopped.load(Ordering::Relaxed) {
                    (&mut source).take(block).for_each(drop);
                    frames += BLOCK_FRAMES as u64;
                    let due = Duration::from_secs_f64(frames as f64 / f64::from(SAMPLE_RATE));
                    if let Some(wait) = due.checked_sub(started.elapsed()) {
                        std::thread::sleep(wait);
                    }
                }
            });
        Self::Silent { stop }
    }

    /// Whether sound reaches a device.
    pub fn has_device(&self) -> bool {
        matches!(self, Self::Device { .. })
    }
}

fn open_sink() -> Result<rodio::MixerDeviceSink, AudioError> {
    let mut sink = rodio::DeviceSinkBuilder::open_default_sink()
        .map_err(|err| AudioError::NoDevice(err.to_string()))?;
    sink.log_on_drop(false);
    Ok(sink)
}
