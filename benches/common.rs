//! Helpers shared by the benchmarks that train models and sample takes.

#![allow(dead_code)] // Each benchmark uses its own subset.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use cadenza_core::checkpoint::LoadedModel;
use cadenza_core::controls::ControlPlan;
use cadenza_core::generate::{self, Assist, Length, Primer, SamplingSettings, Steering};
use cadenza_core::midi::Note;
use cadenza_core::stats::CorpusProfile;
use cadenza_core::train::{self, Progress, TrainData, TrainOptions};
use cadenza_core::worker::{Event, no_repaint};
use tch::Device;

/// The value of a `name=value` argument of the benchmark's command line.
pub fn argument(name: &str) -> Option<String> {
    std::env::args().find_map(|a| a.strip_prefix(&format!("{name}=")).map(str::to_string))
}

/// The `checkpoint=P` argument, else the shipped starter.
pub fn checkpoint_argument() -> std::path::PathBuf {
    argument("checkpoint")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            cadenza_core::starter::find().expect("the starter model ships in assets/models")
        })
}

/// Runs a training to its end (panicking if it fails); returns the minutes it took.
pub fn train(data: &Arc<TrainData>, options: TrainOptions) -> f64 {
    let started = Instant::now();
    let mut trainer = train::spawn(data.clone(), options, no_repaint());
    while let Some(event) = trainer.wait_event() {
        match event {
            Event::Failed { message } => panic!("training failed: {message}"),
            Event::Update(Progress::Warning { message }) => eprintln!("warning: {message}"),
            _ => {}
        }
    }
    started.elapsed().as_secs_f64() / 60.0
}

/// `count` unprimed takes of `seconds` asking for `plan` (seeds `seed`, `seed + 1`, …) on the CPU.
pub fn takes(
    model: &LoadedModel,
    plan: ControlPlan,
    count: usize,
    seed: u64,
    seconds: f64,
) -> Vec<Vec<Note>> {
    let steering = Steering::new(&model.meta, plan).expect("the model knows the plan");
    takes_steered(model, &steering, count, seed, seconds, Assist::default())
}

/// One unprimed take of `seconds` asking for `plan`, seed `seed`, with `assist` leaning on the
/// network ([`Assist::NONE`]: the network alone).
pub fn take_once(
    model: &LoadedModel,
    plan: ControlPlan,
    seed: u64,
    seconds: f64,
    assist: Assist,
) -> Vec<Note> {
    let steering = Steering::new(&model.meta, plan).expect("the model knows the plan");
    takes_steered(model, &steering, 1, seed, seconds, assist)
        .pop()
        .unwrap_or_default()
}

/// As [`takes`], with a steering already made and the assist given; written to the plan's form
/// when it has one.
pub fn takes_steered(
    model: &LoadedModel,
    steering: &Steering,
    count: usize,
    seed: u64,
    seconds: f64,
    assist: Assist,
) -> Vec<Vec<Note>> {
    let defaults = SamplingSettings::default();
    let settings = SamplingSettings {
        length: Length::Seconds(seconds),
        seed,
        variations: count,
        // `temperature=T` on a bench's command line samples at T instead of the default.
        temperature: argument("temperature").map_or(defaults.temperature, |t| {
            t.parse().expect("temperature=T takes a number")
        }),
        assist,
        ..defaults
    };
    generate::sample_take(
        &model.model,
        steering,
        Device::Cpu,
        &settings,
        &Primer::none(),
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .expect("samples")
    .expect("not cancelled")
    .into_iter()
    .map(|piece| piece.notes)
    .collect()
}

/// The median of some values.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n.is_multiple_of(2) {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    } else {
        values[n / 2]
    }
}

/// "Corpus ranges (min–median–max over its pieces): polyphony …, median note length …, velocity
/// spread …" for `what`.
pub fn corpus_ranges(profile: &CorpusProfile, what: &str) -> String {
    let range = |values: &[f64], decimals: usize| {
        format!(
            "{:.*}–{:.*}–{:.*}",
            decimals,
            values[0],
            decimals,
            values[values.len() / 2],
            decimals,
            values[values.len() - 1]
        )
    };
    format!(
        "Ranges of {what} (min–median–max over its pieces): polyphony {}, median note length {} s, velocity spread {}",
        range(&profile.mean_polyphony, 2),
        range(&profile.median_note_s, 3),
        range(&profile.velocity_std, 1),
    )
}
