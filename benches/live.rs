//! Playing live: how soon a key is heard, how soon Cadenza answers a call, and how steadily MIDI
//! out follows the audio clock. Release build, two threads:
//!
//!   cargo bench --bench live
//!
//! 1. Key to sound: a simulated audio device pulls the player a buffer at a time at its real pace
//!    (512 frames, then 2 048 as the reference: the buffer before the live mode); a key is struck
//!    through the transport at a random moment, 200 times. "Leaving Cadenza" is when the buffer
//!    holding the key's first sound is handed to the device, plus the sound's place in it; the
//!    device then plays the buffer out (one more buffer) before it is heard.
//! 2. Answer: 20 calls of 4 s from held-out pieces of the shared corpus, answered by the starter
//!    with its model kept loaded (the live answerer), beside the same answers with the model loaded
//!    for each call (what a Generate press does), timed from asking to the answer being ready; in
//!    free time an answer is played from its first note at once (`Call::play_from_s`), so that is
//!    when its first note sounds (plus the key-to-sound path above). Asked at the hand-over (Enter)
//!    that is the whole wait; asked ahead, as a silence ends the turn (`ANSWER_LEAD_S` before the
//!    hand-over), only what sampling takes beyond the lead.
//! 3. MIDI out: a metronome (a note every 100 ms) played for 60 s through the player to a MIDI
//!    follower whose sink records when each note-on leaves; the device pulls 512 frames a period,
//!    each request up to 3 ms late. Jitter is each note-on's distance from a straight line fitted
//!    to them (p99); drift is that line's slope against the audio clock, times 10 minutes. The
//!    reference sends each note when its block is rendered (no frame clock).

#[path = "../tests/support/fixtures.rs"]
mod fixtures;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cadenza_core::audio::{self, FiredKind, PianoSynth, Tapped, TransportCommand};
use cadenza_core::checkpoint::{LoadedModel, load_model};
use cadenza_core::corpus::{self, Split};
use cadenza_core::generate::{GenerateRequest, Length, SamplingSettings, run_loaded};
use cadenza_core::live::{
    ANSWER_LEAD_S, AnswerEvent, AnswerRequest, Call, FollowTiming, MidiFollower, MidiOut,
    MidiPortError, MidiSink, spawn_answerer,
};
use cadenza_core::midi::{Note, Piece};
use cadenza_core::model::{self, DeviceChoice, ResolvedDevice, resolve_device};
use cadenza_core::music::touch::{MidiBytes, Touch};
use cadenza_core::worker::{Event, no_repaint};
use midly::num::u7;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn main() {
    model::set_threads(2);
    if let Some(soundfont) = fixtures::system_soundfont("live bench") {
        for buffer in [512, 2048] {
            key_to_sound(&soundfont, buffer);
        }
        midi_out(&soundfont);
    }
    answers();
}

/// Pulls `source` like a device: `buffer` frames every buffer's length, each request late by up
/// to `late_s`, until `stop`; `on_buffer` sees each buffer and when it was handed over.
fn device(
    mut source: audio::PlaybackSource,
    buffer: usize,
    late_s: f64,
    stop: Arc<AtomicBool>,
    mut on_buffer: impl FnMut(&[f32], Instant) + Send + 'static,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut rng = StdRng::seed_from_u64(3);
        let period = Duration::from_secs_f64(buffer as f64 / f64::from(audio::SAMPLE_RATE));
        let started = Instant::now();
        let mut samples = vec![0.0f32; buffer * 2];
        for request in 0u32.. {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let due = started
                + period * request
                + Duration::from_secs_f64(rng.random_range(0.0..=late_s));
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            for sample in samples.iter_mut() {
                *sample = source.next().unwrap_or(0.0);
            }
            on_buffer(&samples, Instant::now());
        }
    })
}

fn percentile(values: &mut [f64], share: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() - 1) as f64 * share).round() as usize]
}

fn key_to_sound(soundfont: &std::path::Path, buffer: usize) {
    let synth = PianoSynth::new(soundfont, audio::DEFAULT_GAIN).expect("SoundFont loads");
    let (transport, source) = audio::playback(synth);
    let struck: Arc<Mutex<Option<Instant>>> = Arc::default();
    let latencies: Arc<Mutex<Vec<f64>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let (waiting, measured) = (Arc::clone(&struck), Arc::clone(&latencies));
    let pulling = device(
        source,
        buffer,
        0.0,
        Arc::clone(&stop),
        move |samples, handed| {
            let mut struck = waiting.lock().expect("not poisoned");
            if let Some(at) = *struck
                && let Some(first) = samples.iter().position(|s| s.abs() > 1e-4)
            {
                let place_s = (first / 2) as f64 / f64::from(audio::SAMPLE_RATE);
                let latency_s = handed.duration_since(at).as_secs_f64() + place_s;
                measured.lock().expect("not poisoned").push(latency_s);
                *struck = None;
            }
        },
    );
    let mut rng = StdRng::seed_from_u64(11);
    for _ in 0..200 {
        transport.send(TransportCommand::Pause);
        std::thread::sleep(Duration::from_millis(60 + rng.random_range(0..30)));
        *struck.lock().expect("not poisoned") = Some(Instant::now());
        transport.send(TransportCommand::Touch(Touch::strike(
            u7::new(60),
            u7::new(100),
        )));
        std::thread::sleep(Duration::from_millis(80));
    }
    stop.store(true, Ordering::Relaxed);
    let _ = pulling.join();
    let mut ms: Vec<f64> = latencies
        .lock()
        .expect("not poisoned")
        .iter()
        .map(|s| s * 1e3)
        .collect();
    let buffer_ms = buffer as f64 * 1e3 / f64::from(audio::SAMPLE_RATE);
    let (median, p95) = (percentile(&mut ms, 0.5), percentile(&mut ms, 0.95));
    println!(
        "key to sound, {buffer}-frame buffer ({} keys): leaving Cadenza median {median:.1} ms, p95 {p95:.1} ms; heard after the device plays the buffer out: median {:.1} ms, p95 {:.1} ms",
        ms.len(),
        median + buffer_ms,
        p95 + buffer_ms
    );
}

/// Records when each note-on leaves.
struct Stamps(Arc<Mutex<Vec<Instant>>>);

impl MidiSink for Stamps {
    fn send_bytes(&mut self, bytes: &MidiBytes) -> Result<(), MidiPortError> {
        if matches!(Touch::from_midi(bytes), Some(Touch::Strike { .. })) {
            self.0.lock().expect("not poisoned").push(Instant::now());
        }
        Ok(())
    }
}

const METRONOME_S: f64 = 0.1;
const METRONOME_RUN_S: f64 = 60.0;

fn metronome() -> Piece {
    let notes = (0..(METRONOME_RUN_S / METRONOME_S) as usize)
        .map(|i| Note {
            pitch: 72,
            start_s: i as f64 * METRONOME_S,
            end_s: i as f64 * METRONOME_S + 0.05,
            velocity: 90,
        })
        .collect();
    Piece::from_notes(notes)
}

/// Jitter (p99 of the distance from the fitted line, ms) and drift (ms over 10 minutes).
fn timing_of(stamps: &[Instant]) -> (f64, f64) {
    let origin = stamps[0];
    let points: Vec<(f64, f64)> = stamps
        .iter()
        .enumerate()
        .map(|(i, at)| {
            (
                i as f64 * METRONOME_S,
                at.duration_since(origin).as_secs_f64(),
            )
        })
        .collect();
    let n = points.len() as f64;
    let (mean_x, mean_y) = points
        .iter()
        .fold((0.0, 0.0), |(x, y), p| (x + p.0 / n, y + p.1 / n));
    let slope = points
        .iter()
        .map(|p| (p.0 - mean_x) * (p.1 - mean_y))
        .sum::<f64>()
        / points.iter().map(|p| (p.0 - mean_x).powi(2)).sum::<f64>();
    let mut distances: Vec<f64> = points
        .iter()
        .map(|p| (p.1 - (mean_y + slope * (p.0 - mean_x))).abs() * 1e3)
        .collect();
    (
        percentile(&mut distances, 0.99),
        (slope - 1.0) * 600.0 * 1e3,
    )
}

fn midi_out(soundfont: &std::path::Path) {
    for followed in [true, false] {
        let synth = PianoSynth::new(soundfont, audio::DEFAULT_GAIN).expect("SoundFont loads");
        let (transport, source) = audio::playback(synth);
        let (tap, taps) = crossbeam_channel::unbounded();
        transport.send(TransportCommand::Tap(Some(tap)));
        let stamps: Arc<Mutex<Vec<Instant>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let reference = (!followed).then(|| {
            // The reference: each note-on stamped as its block is rendered.
            let (stamps, taps) = (Arc::clone(&stamps), taps.clone());
            std::thread::spawn(move || {
                for tapped in taps {
                    if let Tapped::Fired(fired) = tapped
                        && matches!(
                            fired.kind,
                            FiredKind::Touch {
                                touch: Touch::Strike { .. },
                                ..
                            }
                        )
                    {
                        stamps.lock().expect("not poisoned").push(Instant::now());
                    }
                }
            })
        });
        let follower = followed.then(|| {
            let out = MidiOut::to_sink(Box::new(Stamps(Arc::clone(&stamps))), "bench".into());
            let timing = FollowTiming {
                buffer_frames: 512,
                offset_s: 0.0,
                thru: false,
            };
            MidiFollower::start(out, taps, timing)
        });
        transport.load(&metronome(), false);
        transport.send(TransportCommand::Play);
        let pulling = device(source, 512, 0.003, Arc::clone(&stop), |_, _| {});
        std::thread::sleep(Duration::from_secs_f64(METRONOME_RUN_S + 0.5));
        stop.store(true, Ordering::Relaxed);
        let _ = pulling.join();
        drop(follower);
        drop(transport);
        if let Some(reference) = reference {
            let _ = reference.join();
        }
        let stamps = stamps.lock().expect("not poisoned").clone();
        let (jitter, drift) = timing_of(&stamps);
        println!(
            "MIDI out, {}: {} note-ons, jitter p99 {jitter:.2} ms, drift {drift:+.2} ms over 10 minutes",
            if followed {
                "following the audio clock"
            } else {
                "reference: sent as rendered"
            },
            stamps.len()
        );
    }
}

fn answers() {
    let Some(dir) = fixtures::shared_corpus("live bench answers") else {
        return;
    };
    let Some(starter) = cadenza_core::starter::find() else {
        println!("no starter model: answers not measured");
        return;
    };
    let corpus = corpus::load_dir(&dir, &|_| {}).expect("corpus loads");
    let calls: Vec<Call> = corpus
        .split(Split::Valid)
        .take(20)
        .map(|p| {
            let notes: Vec<Note> = cadenza_core::midi::apply_sustain(&p.piece)
                .into_iter()
                .filter(|n| (10.0..14.0).contains(&n.start_s))
                .map(|n| Note {
                    start_s: n.start_s - 10.0,
                    end_s: n.end_s.min(14.0) - 10.0,
                    ..n
                })
                .collect();
            Call {
                answer_from_s: notes.iter().map(|n| n.end_s).fold(0.0, f64::max),
                piece: Piece::from_notes(notes),
                start_s: 0.0,
                handed_over_s: 0.0,
            }
        })
        .collect();
    let mut answerer = spawn_answerer(starter.clone(), DeviceChoice::Cpu, no_repaint());
    while !matches!(
        answerer.wait_event(),
        Some(Event::Update(AnswerEvent::Ready { .. })) | None
    ) {}
    let mut ready = Vec::new();
    let mut ahead = Vec::new();
    let mut model_rest = Vec::new();
    for (seed, call) in calls.iter().enumerate() {
        let handed_over = Instant::now();
        answerer.send(AnswerRequest {
            call: call.clone(),
            settings: SamplingSettings {
                seed: seed as u64,
                ..SamplingSettings::default()
            },
            controls: Default::default(),
        });
        let Some(Event::Update(AnswerEvent::Answered { exchange, .. })) = answerer.wait_event()
        else {
            panic!("the starter answers");
        };
        let ready_s = handed_over.elapsed().as_secs_f64();
        ready.push(ready_s * 1e3);
        ahead.push((ready_s - ANSWER_LEAD_S).max(0.0) * 1e3);
        model_rest.push((call.play_from_s(&exchange) - exchange.primer_end_s) * 1e3);
    }
    let device = resolve_device(DeviceChoice::Cpu).expect("CPU");
    let mut loaded_each_time = Vec::new();
    for (seed, call) in calls.iter().enumerate() {
        let handed_over = Instant::now();
        let loaded = load_model(&starter, device.device).expect("loads");
        let length = Length::Seconds(call.answer_s());
        answer_with(&loaded, &device, &starter, call, length, seed as u64);
        loaded_each_time.push(handed_over.elapsed().as_secs_f64() * 1e3);
    }
    // Reading the call alone: an answer of a single event, the model already loaded.
    let loaded = load_model(&starter, device.device).expect("loads");
    let mut reading = Vec::new();
    for call in &calls {
        let started = Instant::now();
        answer_with(&loaded, &device, &starter, call, Length::Events(1), 0);
        reading.push(started.elapsed().as_secs_f64() * 1e3);
    }
    for (name, mut ms) in [
        (
            "reading the call in one pass (an answer of one event)",
            reading,
        ),
        (
            "answer asked at the hand-over (Enter), ready and its first note played",
            ready,
        ),
        (
            "answer asked ahead as the silence ends the turn (0.5 s before), ready",
            ahead,
        ),
        (
            "the rest the model opened with, skipped in free time",
            model_rest,
        ),
        (
            "reference: answer ready with the model loaded per call",
            loaded_each_time,
        ),
    ] {
        println!(
            "after hand-over, starter, 2 threads, 4-s calls, {name}: median {:.0} ms, p95 {:.0} ms",
            percentile(&mut ms, 0.5),
            percentile(&mut ms, 0.95)
        );
    }
}

/// Samples an answer to `call` of `length` with a model already loaded, as the answerer does.
fn answer_with(
    loaded: &LoadedModel,
    device: &ResolvedDevice,
    starter: &std::path::Path,
    call: &Call,
    length: Length,
    seed: u64,
) {
    let request = GenerateRequest {
        checkpoint: starter.to_path_buf(),
        settings: SamplingSettings {
            length,
            seed,
            ..SamplingSettings::default()
        },
        primer: call.primer(),
        controls: Default::default(),
        device: DeviceChoice::Cpu,
        continues: None,
    };
    run_loaded(
        &request,
        loaded,
        device,
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .expect("answers")
    .expect("not cancelled");
}
