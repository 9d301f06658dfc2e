//! MIDI out that follows playback: a thread hears what the synth is told (the player's tap) and
//! sends each touch to a MIDI output when the device plays that frame, so MIDI and sound stay
//! together and MIDI cannot drift from the audio clock.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, select};

use crate::sound::{FiredKind, FrameClock, SAMPLE_RATE, Tapped};

use super::midi_ports::MidiOut;
use crate::music::touch::Touch;

/// The longest wait between looks at the clock when nothing is due.
const IDLE_WAIT: Duration = Duration::from_millis(20);

/// How the follower times its sends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FollowTiming {
    /// The audio output's buffer, in frames: a frame rendered is heard this much later.
    pub buffer_frames: u32,
    /// Added to every send, in seconds (negative: earlier), to line MIDI up with a DAW or a
    /// synth that adds its own delay.
    pub offset_s: f64,
    /// Whether keys played live go out too (MIDI thru), or only what playback plays.
    pub thru: bool,
}

impl FollowTiming {
    fn delay_s(&self) -> f64 {
        f64::from(self.buffer_frames) / f64::from(SAMPLE_RATE) + self.offset_s
    }
}

/// What the follower is asked while it runs.
#[derive(Debug)]
enum Ask {
    Timing(FollowTiming),
    Panic,
}

/// What is due to be sent.
#[derive(Debug, Clone, Copy)]
enum Due {
    Touch(Touch),
    Silence,
}

/// A running follower; dropping it stops it and silences its output.
#[derive(Debug)]
pub struct MidiFollower {
    asks: Option<Sender<Ask>>,
    thread: Option<JoinHandle<()>>,
    problem: Arc<Mutex<Option<String>>>,
    name: String,
}

impl MidiFollower {
    /// Follows `taps` (from [`crate::sound::TransportCommand::Tap`]) onto `out`.
    pub fn start(out: MidiOut, taps: Receiver<Tapped>, timing: FollowTiming) -> Self {
        let (asks, asked) = crossbeam_channel::unbounded();
        let problem = Arc::new(Mutex::new(None));
        let name = out.name().to_string();
        let reporting = Arc::clone(&problem);
        let thread = std::thread::Builder::new()
            .name("cadenza-midi-out".to_string())
            .spawn(move || {
                if let Err(err) = follow(out, &taps, &asked, timing) {
                    *reporting.lock().unwrap_or_else(|e| e.into_inner()) = Some(err);
                }
            })
            .ok();
        Self {
            asks: Some(asks),
            thread,
            problem,
            name,
        }
    }

    /// The output's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Changes the timing from now on.
    pub fn set_timing(&self, timing: FollowTiming) {
        self.ask(Ask::Timing(timing));
    }

    /// Silences the output at once, release tails included (the Panic button).
    pub fn panic(&self) {
        self.ask(Ask::Panic);
    }

    fn ask(&self, ask: Ask) {
        if let Some(asks) = &self.asks {
            // A follower that stopped has nothing left to silence.
            let _ = asks.send(ask);
        }
    }

    /// Why the output stopped, if it did (the port went away).
    pub fn problem(&self) -> Option<String> {
        self.problem
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for MidiFollower {
    fn drop(&mut self) {
        self.asks = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The follower's loop, until the player or the owner goes; the output is silenced on the way
/// out by [`MidiOut`]'s drop.
fn follow(
    mut out: MidiOut,
    taps: &Receiver<Tapped>,
    asked: &Receiver<Ask>,
    mut timing: FollowTiming,
) -> Result<(), String> {
    let origin = Instant::now();
    let seconds = |at: Instant| at.saturating_duration_since(origin).as_secs_f64();
    let mut clock = FrameClock::default();
    let mut queue: VecDeque<(f64, Due)> = VecDeque::new();
    loop {
        let now_s = seconds(Instant::now());
        while let Some(&(due_s, due)) = queue.front()
            && due_s <= now_s
        {
            queue.pop_front();
            match due {
                Due::Touch(touch) => out.send(touch),
                Due::Silence => out.silence(),
            }
            .map_err(|err| err.to_string())?;
        }
        let wait = queue.front().map_or(IDLE_WAIT, |&(due_s, _)| {
            Duration::from_secs_f64((due_s - now_s).max(0.0)).min(IDLE_WAIT)
        });
        select! {
            recv(taps) -> tapped => match tapped {
                Ok(Tapped::Block { stream_frame, rendered }) => {
                    clock.rendered(stream_frame, seconds(rendered));
                }
                Ok(Tapped::Fired(fired)) => {
                    let due = match fired.kind {
                        FiredKind::Touch { live: true, .. } if !timing.thru => continue,
                        FiredKind::Touch { touch, .. } => Due::Touch(touch),
                        FiredKind::Silence => Due::Silence,
                    };
                    let heard_s = clock
                        .time_of(fired.stream_frame)
                        .map_or(now_s, |t| t + timing.delay_s());
                    let at = queue.partition_point(|&(due_s, _)| due_s <= heard_s);
                    queue.insert(at, (heard_s, due));
                }
                Err(_) => return Ok(()),
            },
            recv(asked) -> ask => match ask {
                Ok(Ask::Timing(new)) => timing = new,
                Ok(Ask::Panic) => {
                    queue.clear();
                    out.panic().map_err(|err| err.to_string())?;
                }
                Err(_) => return Ok(()),
            },
            default(wait) => {}
        }
    }
}
