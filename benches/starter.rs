//! The starter model (issue 15), measured honestly on two CPU cores, release build:
//!
//! 1. The shipped starter's held-out NLL beside a quick model trained here for 10 minutes (same
//!    encoding, controls learned, scored with every control absent, same window).
//! 2. Leave-5-out: a starter trained without Schumann, Liszt, Grieg, Mendelssohn and Albeniz
//!    (`benches/models/starter-l5o`, trained as the shipped one on a smaller budget), fine-tuned
//!    for 5 minutes on those composers' training pieces, against 5 minutes from scratch with the
//!    quick and the standard preset. NLL on the same composers' validation pieces, and the music
//!    statistics of 10 takes of each model against those composers' pieces.
//! 3. First take: from the request (the click on Generate) to the last note of a 30-s take with
//!    the starter, checkpoint loading included, 5 seeds.
//!
//!   cargo bench --bench starter                       # all three (about 35 minutes)
//!   cargo bench --bench starter -- parts=speed        # some of them: shipped, l5o, speed
//!   cargo bench --bench starter -- models=DIR         # keep (and reuse) the models trained here
//!   cargo bench --bench starter -- minutes=5 quick_minutes=10
//!
//! Every run here has the fine-tune's stop rule (stop after 2 epoch-end validations without
//! improvement, end on the best weights), scratch runs included, so the rule favours neither side.

#[path = "common.rs"]
mod common;
#[path = "../tests/support/fixtures.rs"]
mod fixtures;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cadenza_core::checkpoint::{self, LoadedModel, TrainSettings};
use cadenza_core::controls::ControlPlan;
use cadenza_core::corpus::{self, Corpus, Split};
use cadenza_core::eval::{self, EvalPiece};
use cadenza_core::generate::{self, GenerateRequest, Length, Primer, SamplingSettings};
use cadenza_core::model::{self, DeviceChoice};
use cadenza_core::starter;
use cadenza_core::stats::{CorpusProfile, MusicStats};
use cadenza_core::train::{Limits, Preset, StartFrom, TrainData, TrainOptions, Validation};
use cadenza_core::worker::{Event, no_repaint};
use tch::Device;

/// The composers the leave-5-out starter never saw: five with 14 to 24 pieces each, of
/// different periods and idioms.
const HELD_OUT: [&str; 5] = ["Schumann", "Liszt", "Grieg", "Mendelssohn", "Albeniz"];
/// Window used to score every model, so none gains from a longer context.
const SCORE_WINDOW: usize = 256;
/// Seconds of a measured take.
const TAKE_SECONDS: f64 = 30.0;

fn main() {
    let Some(dir) = fixtures::shared_corpus("starter benchmark") else {
        return;
    };
    let argument = |name: &str| {
        std::env::args().find_map(|a| a.strip_prefix(&format!("{name}=")).map(str::to_string))
    };
    let number =
        |name: &str, default: f64| argument(name).map_or(default, |v| v.parse().expect("a number"));
    let parts = argument("parts").unwrap_or_else(|| "shipped,l5o,speed".to_string());
    let scratch = tempfile::tempdir().expect("temp dir");
    let models = argument("models").map_or(scratch.path().to_path_buf(), PathBuf::from);
    let shipped = argument("starter")
        .map(PathBuf::from)
        .or_else(starter::find)
        .expect("the starter model (assets/models/starter.*)");
    model::set_threads(2);
    if parts.contains("shipped") {
        shipped_against_quick(&dir, &shipped, &models, number("quick_minutes", 10.0));
    }
    if parts.contains("l5o") {
        let l5o = argument("l5o").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/models/starter-l5o"),
            PathBuf::from,
        );
        leave_five_out(&dir, &l5o, &models, number("minutes", 5.0));
    }
    if parts.contains("speed") {
        first_take(&shipped);
    }
}

/// Trains `options` unless its checkpoint is already there, and loads it.
fn trained(data: &Arc<TrainData>, options: TrainOptions) -> LoadedModel {
    let out = options.out.clone();
    if !checkpoint::meta_path(&out).exists() {
        let minutes = common::train(data, options);
        let meta = checkpoint::load_meta(&out).expect("saved");
        println!(
            "trained {} in {minutes:.1} min: {} steps, {:.2} epochs",
            out.display(),
            meta.step,
            meta.epoch
        );
    }
    checkpoint::load_model(&out, Device::Cpu).expect("model loads")
}

/// A CPU run of `minutes` on two threads, with the fine-tune's stop rule.
fn run_options(out: PathBuf, start: StartFrom, preset: Preset, minutes: f64) -> TrainOptions {
    let settings = match start {
        StartFrom::Init(_) => TrainSettings::FINE_TUNE,
        _ => preset.settings(),
    };
    TrainOptions {
        model: preset.model(),
        controls: true,
        settings,
        limits: Limits::fine_tune(minutes),
        device: DeviceChoice::Cpu,
        threads: Some(2),
        out,
        start,
        command: None,
        autosave_minutes: 1e6,
        valid_every: 1_000_000,
        replace_worse: false,
        rescue_dir: None,
        replace_existing: false,
        validation: Validation::Absent,
        project_structure: None,
    }
}

/// NLL per event on `pieces`' validation split, every control absent.
fn held_out_nll(model: &LoadedModel, corpus: &Corpus) -> f64 {
    let sequences: Vec<Vec<u16>> = corpus
        .split(Split::Valid)
        .map(|p| eval::model_sequence(model.meta.encoding(), &p.events))
        .collect();
    let pieces: Vec<EvalPiece> = sequences.iter().map(|s| EvalPiece::plain(s)).collect();
    eval::score_pieces(&model.model, &pieces, SCORE_WINDOW, Device::Cpu).nll_per_event()
}

fn shipped_against_quick(dir: &Path, shipped: &Path, models: &Path, minutes: f64) {
    let corpus = corpus::load_dir(dir, &|_| {}).expect("corpus loads");
    let data = Arc::new(TrainData::from_corpus(&corpus));
    let mut options = run_options(
        models.join("quick-10min"),
        StartFrom::New,
        Preset::Quick,
        minutes,
    );
    options.limits.early_stop_patience = None;
    let quick = trained(&data, options);
    let starter = checkpoint::load_model(shipped, Device::Cpu).expect("the starter loads");
    let (starter_nll, quick_nll) = (
        held_out_nll(&starter, &corpus),
        held_out_nll(&quick, &corpus),
    );
    println!();
    println!(
        "| held-out NLL on the shared corpus ({} validation pieces, controls absent, window {SCORE_WINDOW}) | nats/event |",
        corpus.split(Split::Valid).count()
    );
    println!("|---|---|");
    println!("| shipped starter | {starter_nll:.4} |");
    println!("| quick preset, {minutes} min here, same encoding and controls | {quick_nll:.4} |");
    println!(
        "| starter below the quick model (goal ≥ 0.15) | {:.4} |",
        quick_nll - starter_nll
    );
}

/// `corpus`'s folders `midis/NAME` for the held-out composers, linked into a new corpus folder
/// (paths relative to it stay `midis/NAME/...`, so every piece keeps its split).
fn held_out_corpus(dir: &Path, into: &Path) -> Corpus {
    for name in HELD_OUT {
        let link = into.join("midis").join(name);
        std::fs::create_dir_all(link.parent().expect("parent")).expect("folder");
        if !link.exists() {
            std::os::unix::fs::symlink(dir.join("midis").join(name), &link).expect("linked");
        }
    }
    corpus::load_dir(into, &|_| {}).expect("corpus loads")
}

fn leave_five_out(dir: &Path, l5o: &Path, models: &Path, minutes: f64) {
    let corpus = held_out_corpus(dir, &models.join("held-out"));
    let data = Arc::new(TrainData::from_corpus(&corpus));
    let starter = checkpoint::load_model(l5o, Device::Cpu).expect("the leave-5-out starter");
    let seen: Vec<&str> = starter
        .meta
        .controls
        .iter()
        .flat_map(|c| &c.styles)
        .map(String::as_str)
        .collect();
    assert!(
        HELD_OUT.iter().all(|name| !seen.contains(name)),
        "the leave-5-out starter saw a held-out composer: {seen:?}"
    );
    let runs = [
        (
            "fine-tuned from the leave-5-out starter",
            "finetuned",
            StartFrom::Init(l5o.to_path_buf()),
            Preset::Quick,
        ),
        (
            "from scratch, quick preset",
            "scratch-quick",
            StartFrom::New,
            Preset::Quick,
        ),
        (
            "from scratch, standard preset",
            "scratch-standard",
            StartFrom::New,
            Preset::Standard,
        ),
    ];
    let trained: Vec<(&str, LoadedModel)> = runs
        .into_iter()
        .map(|(name, stem, start, preset)| {
            (
                name,
                trained(
                    &data,
                    run_options(models.join(stem), start, preset, minutes),
                ),
            )
        })
        .collect();
    println!();
    println!(
        "Held-out composers: {} ({} training and {} validation pieces)",
        HELD_OUT.join(", "),
        corpus.split(Split::Train).count(),
        corpus.split(Split::Valid).count()
    );
    println!();
    println!("| model ({minutes} min on 2 CPU threads) | steps | held-out NLL, nats/event |");
    println!("|---|---|---|");
    println!(
        "| leave-5-out starter before fine-tuning | — | {:.4} |",
        held_out_nll(&starter, &corpus)
    );
    let mut nll = Vec::new();
    for (name, model) in &trained {
        nll.push(held_out_nll(model, &corpus));
        println!(
            "| {name} | {} | {:.4} |",
            model.meta.step,
            nll.last().expect("pushed")
        );
    }
    let best_scratch = nll[1].min(nll[2]);
    println!(
        "| fine-tune below the better scratch run (goal ≥ 0.2) | | {:.4} |",
        best_scratch - nll[0]
    );
    music_of_takes(&corpus, &trained);
}

/// Music statistics of 10 unprimed 30-s takes of each model (controls absent) beside the range of
/// the held-out composers' pieces.
fn music_of_takes(corpus: &Corpus, models: &[(&str, LoadedModel)]) {
    let profile = CorpusProfile::of_pieces(corpus.pieces.iter().map(|p| &p.piece));
    println!();
    println!(
        "{}",
        common::corpus_ranges(&profile, "the held-out composers' pieces")
    );
    println!();
    println!(
        "| 10 unprimed 30-s takes | notes/s | mean polyphony | median note length (s) | velocity spread |"
    );
    println!("|---|---|---|---|---|");
    for (name, model) in models {
        let takes = common::takes(model, ControlPlan::default(), 10, 500, TAKE_SECONDS);
        let stats: Vec<MusicStats> = takes
            .iter()
            .map(|n| MusicStats::of_sounding_notes(n))
            .collect();
        let mean =
            |f: fn(&MusicStats) -> f64| stats.iter().map(f).sum::<f64>() / stats.len() as f64;
        let notes_per_s = takes.iter().map(Vec::len).sum::<usize>() as f64 / (10.0 * TAKE_SECONDS);
        println!(
            "| {name} | {notes_per_s:.2} | {:.2} | {:.3} | {:.1} |",
            mean(|s| s.mean_polyphony),
            mean(|s| s.median_note_s),
            mean(|s| s.velocity_std)
        );
    }
}

/// The app's path for one take: a generation worker that loads the checkpoint and samples 30 s.
fn first_take(shipped: &Path) {
    let mut times = Vec::new();
    let mut events = 0;
    for seed in 1..=5 {
        let request = GenerateRequest {
            checkpoint: shipped.to_path_buf(),
            settings: SamplingSettings {
                length: Length::Seconds(TAKE_SECONDS),
                seed,
                ..SamplingSettings::default()
            },
            primer: Primer::none(),
            controls: ControlPlan::default(),
            device: DeviceChoice::Cpu,
            continues: None,
        };
        let clicked = Instant::now();
        let mut worker = generate::spawn(request, no_repaint());
        while let Some(event) = worker.wait_event() {
            match event {
                Event::Finished(takes) => events = takes.iter().map(|t| t.events).sum(),
                Event::Failed { message } => panic!("generation failed: {message}"),
                _ => {}
            }
        }
        times.push(clicked.elapsed());
    }
    times.sort();
    println!();
    println!(
        "First take with the starter (request to last note of a 30-s take, checkpoint load included, 2 threads, 5 seeds): median {:.2} s (goal < 2 s), all {:?}; {events} events in the last take",
        times[2].as_secs_f64(),
        times
            .iter()
            .map(Duration::as_secs_f64)
            .map(|s| (s * 100.0).round() / 100.0)
            .collect::<Vec<_>>()
    );
}
