//! Regenerating a passage: does ranking candidates by the music after the gap help, judged on music
//! the ranking never saw, and how fast is it? Release build:
//!
//!   cargo bench --bench regenerate -- checkpoint=P     # a trained quick checkpoint (required)
//!
//! Quality: 20 held-out pieces of the shared corpus × 3 seeds; a 4-s gap cut at a random point with
//! at least 15 s after it; 8 candidates ranked by the log-likelihood of the first 5 s after the gap;
//! then nats/event on the 5–15 s after the gap (never used for ranking) for (a) the chosen
//! candidate, (b) a single unranked sample (the first seed's candidate) and (c) the original music.
//! Speed: 8 candidates for a 4-s gap with 30 s before and 20 s after, median of 5, two threads, for
//! the trained quick checkpoint and a freshly initialised standard-size model (speed does not depend
//! on what the weights learned).

#[path = "../tests/support/fixtures.rs"]
mod fixtures;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use cadenza_core::checkpoint::{self, LoadedModel};
use cadenza_core::controls::ControlPlan;
use cadenza_core::corpus::{self, Split};
use cadenza_core::encoding::{self, Event, EventId, to_step};
use cadenza_core::eval;
use cadenza_core::generate::{SamplingSettings, Steering};
use cadenza_core::midi::{self, Note};
use cadenza_core::model::{self, EventLstm, Inputs, ModelConfig};
use cadenza_core::regenerate::{self, Passage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tch::{Device, Kind, Tensor, nn};

const GAP_S: f64 = 4.0;
const JUDGED_FROM_S: f64 = 5.0;
const JUDGED_TO_S: f64 = 15.0;
const CANDIDATES: usize = 8;

fn main() {
    let Some(dir) = fixtures::shared_corpus("regeneration benchmark") else {
        return;
    };
    let checkpoint = std::env::args()
        .find_map(|a| a.strip_prefix("checkpoint=").map(PathBuf::from))
        .expect("give checkpoint=P: a trained quick checkpoint (e.g. from the steering benchmark)");
    model::set_threads(2);
    let loaded = checkpoint::load_model(&checkpoint, Device::Cpu).expect("checkpoint loads");
    let corpus = corpus::load_dir(&dir, &|_| {}).expect("corpus loads");
    let held_out: Vec<Vec<Note>> = corpus
        .split(Split::Valid)
        .map(|p| midi::apply_sustain(&p.piece))
        .filter(|notes| end_of(notes) >= 30.0)
        .take(20)
        .collect();
    quality(&loaded, &held_out);
    let long = corpus
        .pieces
        .iter()
        .map(|p| midi::apply_sustain(&p.piece))
        .find(|notes| end_of(notes) >= 60.0)
        .expect("a piece of a minute");
    speed("quick (trained)", &loaded, &long);
    tch::manual_seed(0);
    let vars = nn::VarStore::new(Device::Cpu);
    let standard = EventLstm::new(
        &vars.root(),
        ModelConfig::STANDARD,
        Inputs::new(encoding::Encoding::CURRENT, None),
    );
    let steering = Steering::plain(encoding::Encoding::CURRENT);
    speed_of("standard (3×512)", &standard, &steering, &long);
}

fn end_of(notes: &[Note]) -> f64 {
    notes.iter().map(|n| n.end_s).fold(0.0, f64::max)
}

fn quality(loaded: &LoadedModel, pieces: &[Vec<Note>]) {
    let steering = Steering::new(&loaded.meta, ControlPlan::default()).expect("no controls asked");
    let mut rng = StdRng::seed_from_u64(7);
    let (mut chosen, mut single, mut original) = (Vec::new(), Vec::new(), Vec::new());
    for (piece_index, notes) in pieces.iter().enumerate() {
        for seed in 0..3u64 {
            let latest = end_of(notes) - GAP_S - JUDGED_TO_S;
            let start_s = rng.random_range(2.0..latest.max(2.5));
            let passage = Passage {
                start_s,
                end_s: start_s + GAP_S,
            };
            let settings = SamplingSettings {
                seed: 1000 * piece_index as u64 + seed,
                ..SamplingSettings::default()
            };
            let ranked = regenerate::regenerate(
                &loaded.model,
                &steering,
                Device::Cpu,
                notes,
                passage,
                CANDIDATES,
                &settings,
                &mut |_| {},
                &AtomicBool::new(false),
            )
            .expect("regenerates")
            .expect("not cancelled");
            let parts = regenerate::split(notes, passage);
            let unranked = ranked
                .iter()
                .find(|c| c.seed == settings.seed)
                .expect("the first seed's candidate");
            let judge = |notes: &[Note]| judged_nll(loaded, notes, passage.end_s);
            chosen.push(judge(&ranked[0].assemble(&parts)));
            single.push(judge(&unranked.assemble(&parts)));
            original.push(judge(notes));
        }
    }
    println!(
        "| {} held-out pieces × 3 seeds, 4-s gap, 8 candidates ranked on the first 5 s after it | nats/event on 5–15 s after the gap (mean ± sd) |",
        pieces.len()
    );
    println!("|---|---|");
    for (name, values) in [
        ("(a) chosen candidate", &chosen),
        ("(b) a single unranked sample", &single),
        ("(c) the original music", &original),
    ] {
        let (mean, sd) = mean_sd(values);
        println!("| {name} | {mean:.4} ± {sd:.4} |");
    }
    let wins = chosen.iter().zip(&single).filter(|(a, b)| a < b).count();
    println!(
        "(a) beats (b) in {wins} of {} cuts; mean difference {:.4} nats/event",
        chosen.len(),
        mean_sd(&single).0 - mean_sd(&chosen).0
    );
}

fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// NLL per event of the events between 5 and 15 s after `gap_end_s`, the piece read from its start.
fn judged_nll(loaded: &LoadedModel, notes: &[Note], gap_end_s: f64) -> f64 {
    let until = gap_end_s + JUDGED_TO_S;
    let kept: Vec<Note> = notes
        .iter()
        .filter(|n| n.start_s < until)
        .copied()
        .collect();
    let events = eval::model_sequence(loaded.meta.encoding(), &encoding::encode_notes(&kept));
    let ids: Vec<i64> = events.iter().map(|&e| i64::from(e)).collect();
    let input = Tensor::from_slice(&ids[..ids.len() - 1]).unsqueeze(0);
    let _no_grad = tch::no_grad_guard();
    let (logits, _) = loaded.model.forward(
        &input,
        None,
        &loaded.model.zero_state(1, Device::Cpu),
        false,
    );
    let log_probs = Vec::<f32>::try_from(
        logits
            .log_softmax(-1, Kind::Float)
            .squeeze_dim(0)
            .reshape([-1]),
    )
    .expect("floats");
    let (from, to) = (to_step(gap_end_s + JUDGED_FROM_S), to_step(until));
    let mut now = 0u64;
    let (mut sum, mut count) = (0.0, 0usize);
    for (i, &event) in events.iter().enumerate() {
        if i > 0 && (from..to).contains(&now) {
            sum -= f64::from(log_probs[(i - 1) * encoding::VOCAB_SIZE + usize::from(event)]);
            count += 1;
        }
        if let Some(Event::TimeShift(steps)) = Event::from_id(event as EventId) {
            now += u64::from(steps);
        }
    }
    sum / count.max(1) as f64
}

fn speed(name: &str, loaded: &LoadedModel, notes: &[Note]) {
    let steering = Steering::new(&loaded.meta, ControlPlan::default()).expect("no controls asked");
    speed_of(name, &loaded.model, &steering, notes);
}

/// Median of 5 regenerations of 26–30 s (30 s before, 20 s after used), two threads.
fn speed_of(name: &str, model: &EventLstm, steering: &Steering, notes: &[Note]) {
    let kept: Vec<Note> = notes.iter().filter(|n| n.start_s < 54.0).copied().collect();
    let passage = Passage {
        start_s: 30.0,
        end_s: 30.0 + GAP_S,
    };
    let mut times: Vec<f64> = (0..5)
        .map(|seed| {
            let settings = SamplingSettings {
                seed,
                ..SamplingSettings::default()
            };
            let started = Instant::now();
            regenerate::regenerate(
                model,
                steering,
                Device::Cpu,
                &kept,
                passage,
                CANDIDATES,
                &settings,
                &mut |_| {},
                &AtomicBool::new(false),
            )
            .expect("regenerates")
            .expect("not cancelled");
            started.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "speed, {name}: 8 candidates for a 4-s gap with 30 s before and 20 s after: median {:.3} s (of 5: {})",
        times[2],
        times
            .iter()
            .map(|t| format!("{t:.3}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}
