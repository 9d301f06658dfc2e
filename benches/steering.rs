//! Steering: does a model trained with controls do what it is asked, and does it still fit?
//! Trains two quick models on the shared corpus for the same steps and seed, one with controls and
//! one without (`--no-controls`), then measures fit, key, density, loudness, style and the music
//! statistics of unconditioned takes. Release build, a few tens of minutes on two cores:
//!
//!   cargo bench --bench steering                 # trains both models (3 000 steps each)
//!   cargo bench --bench steering -- steps=6000   # another training length
//!   cargo bench --bench steering -- minutes=30   # train for a time instead
//!   cargo bench --bench steering -- models=DIR   # reuse DIR/controls and DIR/plain if present
//!
//! The key finder (Krumhansl–Schmuckler, duration-weighted) is first calibrated on the corpus's
//! pieces whose titles name their key: their opening 30 s, transposed by 0…11 semitones.

#[path = "common.rs"]
mod common;
#[path = "../tests/support/fixtures.rs"]
mod fixtures;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cadenza_core::checkpoint::{self, LoadedModel};
use cadenza_core::controls::{
    ControlPlan, ControlTrack, Curve, Key, KeyChange, Loudness, find_key, pitch_class_durations,
};
use cadenza_core::corpus::{self, Corpus, Split};
use cadenza_core::eval::{self, EvalPiece};
use cadenza_core::generate::MAX_NOTE_S;
use cadenza_core::midi::{self, Note};
use cadenza_core::model::{self, DeviceChoice};
use cadenza_core::stats::{CorpusProfile, MusicStats};
use cadenza_core::train::{Limits, Preset, TrainData, TrainOptions, Validation};
use tch::Device;

const TAKE_SECONDS: f64 = 30.0;

fn main() {
    let Some(dir) = fixtures::shared_corpus("steering benchmark") else {
        return;
    };
    let argument = |name: &str| {
        std::env::args().find_map(|a| a.strip_prefix(&format!("{name}=")).map(str::to_string))
    };
    let minutes: Option<f64> = argument("minutes").map(|m| m.parse().expect("minutes=M"));
    let steps: Option<u64> = match minutes {
        Some(_) => argument("steps").map(|s| s.parse().expect("steps=N")),
        None => Some(argument("steps").map_or(3000, |s| s.parse().expect("steps=N"))),
    };
    let limits = Limits {
        steps,
        minutes,
        ..Limits::default()
    };
    let scratch = tempfile::tempdir().expect("temp dir");
    let models = argument("models").map_or(scratch.path().to_path_buf(), PathBuf::from);
    model::set_threads(2);
    let corpus = corpus::load_dir(&dir, &|_| {}).expect("corpus loads");
    let data = Arc::new(TrainData::from_corpus(&corpus));
    let controlled = trained(&data, &models.join("controls"), true, limits);
    let plain = trained(&data, &models.join("plain"), false, limits);
    fit(&corpus, &controlled, &plain);
    let calibrated = calibrate_key_finder(&dir, &corpus);
    keys(&controlled, calibrated);
    densities(&controlled);
    loudness(&controlled);
    styles(&corpus, &controlled);
    music(&corpus, &controlled, &plain);
}

/// Loads `stem`, training it first (quick preset, to `limits`, seed 1) if it is not there.
fn trained(data: &Arc<TrainData>, stem: &Path, controls: bool, limits: Limits) -> LoadedModel {
    if !checkpoint::meta_path(stem).exists() {
        let options = TrainOptions {
            model: Preset::Quick.model(),
            controls,
            settings: Preset::Quick.settings(),
            limits,
            device: DeviceChoice::Cpu,
            threads: Some(2),
            out: stem.to_path_buf(),
            start: Default::default(),
            command: None,
            autosave_minutes: 1e6,
            valid_every: 1_000_000,
            replace_worse: false,
            rescue_dir: None,
            replace_existing: false,
            validation: Validation::Absent,
            project_structure: None,
        };
        let minutes = common::train(data, options);
        let step = checkpoint::load_meta(stem).map_or(0, |m| m.step);
        println!(
            "trained {} ({step} steps, quick preset, seed 1, 2 threads) in {minutes:.1} min",
            stem.display()
        );
    }
    checkpoint::load_model(stem, Device::Cpu).expect("model loads")
}

/// Held-out NLL: the plain model, the steerable one with every control absent and with the
/// pieces' own controls.
fn fit(corpus: &Corpus, controlled: &LoadedModel, plain: &LoadedModel) {
    let valid: Vec<_> = corpus.split(Split::Valid).collect();
    let sequences: Vec<(Vec<u16>, ControlTrack, usize)> = valid
        .iter()
        .map(|p| {
            let events = eval::model_sequence(controlled.meta.encoding(), &p.events);
            let track = ControlTrack::of_events(&events, p.piece.usable_grid());
            let style = style_row(controlled, p.composer.as_deref());
            (events, track, style)
        })
        .collect();
    let score = |model: &LoadedModel, with: bool| {
        let pieces: Vec<EvalPiece> = sequences
            .iter()
            .map(|(events, track, style)| match with {
                true => EvalPiece {
                    events,
                    controls: Some(track),
                    style: *style,
                    meter_only: false,
                },
                false => EvalPiece::plain(events),
            })
            .collect();
        eval::score_pieces(&model.model, &pieces, 128, Device::Cpu).nll_per_event()
    };
    println!();
    println!(
        "| held-out NLL, nats/event ({} pieces) | value |",
        valid.len()
    );
    println!("|---|---|");
    println!("| `--no-controls` model | {:.4} |", score(plain, false));
    println!(
        "| steerable model, every control absent | {:.4} |",
        score(controlled, false)
    );
    println!(
        "| steerable model, controls and composer from the piece | {:.4} |",
        score(controlled, true)
    );
}

fn style_row(model: &LoadedModel, composer: Option<&str>) -> usize {
    let meta = model.meta.controls.as_ref().expect("a steerable model");
    composer.and_then(|c| meta.style_index(c)).unwrap_or(0)
}

/// The key a title names ("Sonata_No.8_C_minor_Opus_13_1" → C minor).
fn title_key(title: &str) -> Option<Key> {
    let words: Vec<&str> = title.split('_').collect();
    words.windows(2).find_map(|pair| {
        let mode = pair[1].to_ascii_lowercase();
        (mode == "major" || mode == "minor")
            .then(|| format!("{} {mode}", pair[0]).parse().ok())
            .flatten()
    })
}

fn key_of_notes(notes: &[Note]) -> Option<Key> {
    find_key(&pitch_class_durations(notes))
}

/// Accuracy of the key finder on the opening 30 s of the pieces whose titles name a key, each
/// transposed by 0…11 semitones; returns it.
fn calibrate_key_finder(dir: &Path, corpus: &Corpus) -> f64 {
    let metadata = std::fs::read_to_string(dir.join("metadata.csv")).expect("metadata.csv");
    let mut tally = Tally::default();
    for line in metadata.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let (Some(title), Some(file)) = (fields.get(1), fields.get(3)) else {
            continue;
        };
        let Some(key) = title_key(title) else {
            continue;
        };
        let Some(piece) = corpus.pieces.iter().find(|p| p.path.ends_with(file)) else {
            continue;
        };
        let opening: Vec<Note> = midi::apply_sustain(&piece.piece)
            .into_iter()
            .filter(|n| n.start_s < TAKE_SECONDS)
            .map(|n| Note {
                end_s: n.end_s.min(TAKE_SECONDS),
                ..n
            })
            .collect();
        for semitones in 0..12 {
            let transposed: Vec<Note> = opening
                .iter()
                .map(|n| Note {
                    pitch: n.pitch + semitones,
                    ..*n
                })
                .collect();
            tally.add(
                key.transposed(i32::from(semitones)),
                key_of_notes(&transposed),
            );
        }
    }
    println!();
    println!(
        "Key finder calibration ({} excerpts: the opening 30 s of the corpus pieces whose titles name a key, × 12 transpositions): {}",
        tally.total,
        tally.summary()
    );
    tally.accuracy()
}

/// How often a key finder agrees with the key wanted, and how it errs.
#[derive(Default)]
struct Tally {
    total: usize,
    exact: usize,
    relative: usize,
    fifth: usize,
    parallel: usize,
    other: usize,
}

impl Tally {
    fn add(&mut self, wanted: Key, found: Option<Key>) {
        self.total += 1;
        match found {
            Some(k) if k == wanted => self.exact += 1,
            Some(k) if k == wanted.relative() => self.relative += 1,
            Some(k) if k == wanted.transposed(7) || k == wanted.transposed(5) => self.fifth += 1,
            Some(k) if k.tonic() == wanted.tonic() => self.parallel += 1,
            _ => self.other += 1,
        }
    }

    fn accuracy(&self) -> f64 {
        self.exact as f64 / self.total.max(1) as f64
    }

    fn summary(&self) -> String {
        let share = |n: usize| 100.0 * n as f64 / self.total.max(1) as f64;
        format!(
            "{:.0}% named exactly; confusions: relative {:.0}%, a fifth away {:.0}%, parallel {:.0}%, other {:.0}%",
            share(self.exact),
            share(self.relative),
            share(self.fifth),
            share(self.parallel),
            share(self.other)
        )
    }
}

/// `count` takes of 30 s asking for `plan` (seeds `seed`, `seed + 1`, …), no primer.
fn takes(model: &LoadedModel, plan: ControlPlan, count: usize, seed: u64) -> Vec<Vec<Note>> {
    common::takes(model, plan, count, seed, TAKE_SECONDS)
}

fn key_plan(key: Key) -> ControlPlan {
    ControlPlan {
        key: vec![KeyChange {
            at_s: 0.0,
            key: Some(key),
        }],
        ..ControlPlan::default()
    }
}

fn keys(model: &LoadedModel, calibrated: f64) {
    let mut tally = Tally::default();
    for (i, key) in Key::all().enumerate() {
        let notes = takes(model, key_plan(key), 1, 100 + i as u64).remove(0);
        tally.add(key, key_of_notes(&notes));
    }
    let goal = 0.75f64.min(0.9 * calibrated);
    println!();
    println!(
        "Key: 24 takes of 30 s, one per requested key: the finder names the requested key for {:.0}% (goal {:.0}%: 75%, or 90% of the finder's calibrated {:.0}%); {}",
        100.0 * tally.accuracy(),
        100.0 * goal,
        100.0 * calibrated,
        tally.summary()
    );
}

fn notes_per_s(notes: &[Note]) -> f64 {
    notes.len() as f64 / TAKE_SECONDS
}

fn densities(model: &LoadedModel) {
    println!();
    println!(
        "| requested notes/s (bin centre) | realised notes/s of 4 takes | median | median / request |"
    );
    println!("|---|---|---|---|");
    for request in [2.0, 4.0, 8.0, 16.0] {
        let plan = ControlPlan {
            density: Curve::constant(request),
            ..ControlPlan::default()
        };
        let realised: Vec<f64> = takes(model, plan, 4, 200)
            .iter()
            .map(|n| notes_per_s(n))
            .collect();
        let middle = common::median(realised.clone());
        println!(
            "| {request} | {} | {middle:.2} | {:.2} |",
            realised
                .iter()
                .map(|d| format!("{d:.2}"))
                .collect::<Vec<_>>()
                .join(", "),
            middle / request
        );
    }
}

fn mean_velocity(notes: &[Note]) -> f64 {
    notes.iter().map(|n| f64::from(n.velocity)).sum::<f64>() / notes.len().max(1) as f64
}

fn loudness(model: &LoadedModel) {
    println!();
    println!("| loudness | mean velocity of 4 takes | mean |");
    println!("|---|---|---|");
    for level in Loudness::ALL {
        let plan = ControlPlan {
            loudness: Curve::constant(level.velocity()),
            ..ControlPlan::default()
        };
        let means: Vec<f64> = takes(model, plan, 4, 300)
            .iter()
            .map(|n| mean_velocity(n))
            .collect();
        println!(
            "| {} | {} | {:.1} |",
            level.name(),
            means
                .iter()
                .map(|v| format!("{v:.1}"))
                .collect::<Vec<_>>()
                .join(", "),
            means.iter().sum::<f64>() / means.len() as f64
        );
    }
}

/// Held-out pieces scored with their true composer against "any" (every other control absent).
fn styles(corpus: &Corpus, model: &LoadedModel) {
    println!();
    println!("| held-out piece | composer | NLL with style \"any\" | with its composer | gain |");
    println!("|---|---|---|---|---|");
    let mut gains = Vec::new();
    for piece in corpus.split(Split::Valid) {
        let row = style_row(model, piece.composer.as_deref());
        if row == 0 {
            continue;
        }
        let events = eval::model_sequence(model.meta.encoding(), &piece.events);
        let score = |style: usize| {
            let piece = EvalPiece {
                events: &events,
                controls: None,
                style,
                meter_only: false,
            };
            eval::score_pieces(&model.model, &[piece], 128, Device::Cpu).nll_per_event()
        };
        let (any, own) = (score(0), score(row));
        gains.push(any - own);
        println!(
            "| {} | {} | {any:.4} | {own:.4} | {:+.4} |",
            piece.relative_path,
            piece.composer.as_deref().unwrap_or("-"),
            any - own
        );
    }
    println!(
        "| mean of {} pieces | | | | {:+.4} |",
        gains.len(),
        gains.iter().sum::<f64>() / gains.len().max(1) as f64
    );
}

/// Unconditioned takes against the corpus's pieces: polyphony, note length, velocity spread,
/// notes cut by the 5-s cap, and the opening velocity.
fn music(corpus: &Corpus, controlled: &LoadedModel, plain: &LoadedModel) {
    let profile = CorpusProfile::of_pieces(corpus.pieces.iter().map(|p| &p.piece));
    let openings: Vec<f64> = corpus
        .pieces
        .iter()
        .filter_map(|p| {
            midi::apply_sustain(&p.piece)
                .first()
                .map(|n| f64::from(n.velocity))
        })
        .collect();
    let (open_min, open_max) = (
        openings.iter().copied().fold(f64::INFINITY, f64::min),
        openings.iter().copied().fold(0.0, f64::max),
    );
    println!();
    println!(
        "{}; opening velocity {open_min:.0}–{open_max:.0}",
        common::corpus_ranges(&profile, "the corpus")
    );
    println!();
    println!(
        "| 10 unprimed 30-s takes, every control absent | mean polyphony | median note length (s) | velocity spread | notes cut at 5 s | first velocities (all inside the corpus's opening range?) |"
    );
    println!("|---|---|---|---|---|---|");
    for (name, model) in [
        ("steerable model", controlled),
        ("`--no-controls` model", plain),
    ] {
        let all = takes(model, ControlPlan::default(), 10, 400);
        let stats: Vec<MusicStats> = all
            .iter()
            .map(|n| MusicStats::of_sounding_notes(n))
            .collect();
        let mean =
            |f: fn(&MusicStats) -> f64| stats.iter().map(f).sum::<f64>() / stats.len() as f64;
        let notes: usize = all.iter().map(Vec::len).sum();
        let cut = all
            .iter()
            .flatten()
            .filter(|n| n.end_s - n.start_s >= MAX_NOTE_S - 0.005)
            .count();
        let firsts: Vec<f64> = all
            .iter()
            .filter_map(|n| n.first().map(|n| f64::from(n.velocity)))
            .collect();
        let inside = firsts.iter().all(|v| (open_min..=open_max).contains(v));
        println!(
            "| {name} | {:.2} | {:.3} | {:.1} | {:.2}% of {notes} | {} ({}) |",
            mean(|s| s.mean_polyphony),
            mean(|s| s.median_note_s),
            mean(|s| s.velocity_std),
            100.0 * cut as f64 / notes.max(1) as f64,
            firsts
                .iter()
                .map(|v| format!("{v:.0}"))
                .collect::<Vec<_>>()
                .join(" "),
            if inside { "yes" } else { "no" }
        );
    }
}
