//! Helpers shared by the integration tests: MIDI fixtures built in code, and the optional corpus.

#![allow(dead_code)]

pub mod fixtures;
pub mod soundfont;

pub use fixtures::shared_corpus;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cadenza_core::checkpoint::{self, TrainSettings};
use cadenza_core::corpus;
use cadenza_core::model::{DeviceChoice, ModelConfig};
use cadenza_core::train::{self, Finished, Limits, Progress, TrainData, TrainOptions, Validation};
use cadenza_core::worker::{Event, no_repaint};

/// What a trainer sends: progress, then how it ended.
pub type TrainEvent = Event<Progress, Finished>;

/// Encodes a MIDI variable-length quantity.
pub fn varlen(mut value: u32) -> Vec<u8> {
    let mut bytes = vec![(value & 0x7f) as u8];
    value >>= 7;
    while value > 0 {
        bytes.push((value & 0x7f) as u8 | 0x80);
        value >>= 7;
    }
    bytes.reverse();
    bytes
}

/// A chunk: 4-byte type, big-endian length, body.
pub fn chunk(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = kind.to_vec();
    out.extend((body.len() as u32).to_be_bytes());
    out.extend(body);
    out
}

/// An `MThd` chunk.
pub fn header(format: u16, tracks: u16, division: u16) -> Vec<u8> {
    let mut body = Vec::new();
    for field in [format, tracks, division] {
        body.extend(field.to_be_bytes());
    }
    chunk(b"MThd", &body)
}

/// Track body from (delta ticks, raw event bytes) pairs, closed with End of Track.
pub fn track(events: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (delta, bytes) in events {
        body.extend(varlen(*delta));
        body.extend(bytes);
    }
    body.extend([0x00, 0xff, 0x2f, 0x00]);
    chunk(b"MTrk", &body)
}

pub fn note_on(channel: u8, key: u8, velocity: u8) -> Vec<u8> {
    vec![0x90 | channel, key, velocity]
}

pub fn note_off(channel: u8, key: u8) -> Vec<u8> {
    vec![0x80 | channel, key, 0]
}

pub fn tempo(us_per_quarter: u32) -> Vec<u8> {
    let b = us_per_quarter.to_be_bytes();
    vec![0xff, 0x51, 0x03, b[1], b[2], b[3]]
}

/// A time signature meta event: `numerator` over 2^`power`.
pub fn time_signature(numerator: u8, power: u8) -> Vec<u8> {
    vec![0xff, 0x58, 0x04, numerator, power, 24, 8]
}

pub fn pedal(channel: u8, down: bool) -> Vec<u8> {
    vec![0xb0 | channel, 64, if down { 127 } else { 0 }]
}

/// A whole format-1 file at `division` ticks per quarter from a tempo track and note tracks.
pub fn smf(division: u16, tracks: &[Vec<(u32, Vec<u8>)>]) -> Vec<u8> {
    let mut out = header(1, tracks.len() as u16, division);
    for events in tracks {
        out.extend(track(events));
    }
    out
}

/// A small valid file: C major arpeggio at 120 bpm, 480 ticks per quarter.
pub fn arpeggio() -> Vec<u8> {
    let mut events = vec![(0, tempo(500_000))];
    for key in [60, 64, 67, 72] {
        events.push((0, note_on(0, key, 90)));
        events.push((480, note_off(0, key)));
    }
    smf(480, &[events])
}

/// Serialises tests that train: libtorch's random seed and thread count are process-wide, so two
/// trainings at once would make each other's results depend on timing.
pub static TORCH: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Takes [`TORCH`], even after another test panicked while holding it.
pub fn torch_lock() -> std::sync::MutexGuard<'static, ()> {
    TORCH
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A tiny corpus written into `dir`: `pieces` files, each a broken-chord pattern in its own key,
/// repeated `repeats` times (easy to learn by heart).
pub fn pattern_corpus(dir: &std::path::Path, pieces: u8, repeats: usize) {
    use cadenza_core::midi::{self, Note, Piece};
    for index in 0..pieces {
        let root = 55 + 2 * index;
        let mut notes = Vec::new();
        for bar in 0..repeats {
            for (step, interval) in [0u8, 4, 7, 12, 7, 4].iter().enumerate() {
                let start_s = (bar * 6 + step) as f64 * 0.15;
                notes.push(Note {
                    pitch: root + interval,
                    start_s,
                    end_s: start_s + 0.12,
                    velocity: 80,
                });
            }
        }
        let path = dir.join(format!("Patterns/pattern{index}.mid"));
        std::fs::create_dir_all(path.parent().expect("folder")).expect("mkdir");
        midi::write_file(&Piece::from_notes(notes), &path, None).expect("fixture written");
    }
}

/// Two pieces of repeated bars of eighth notes on the default 120 bpm 4/4 grid, so every piece
/// has a usable grid and the lookback has bars to read.
pub fn eighths_corpus(dir: &Path) {
    use cadenza_core::midi::{self, Note, Piece};
    for index in 0..2u8 {
        let notes: Vec<Note> = (0..64)
            .map(|i| Note {
                pitch: 60 + 2 * index + [0, 4, 7, 12, 7, 4, 2, 5][i % 8],
                start_s: i as f64 * 0.25,
                end_s: i as f64 * 0.25 + 0.2,
                velocity: 80,
            })
            .collect();
        // The tiny model's own style, so the fine-tune adds no style row.
        let path = dir.join(format!("Patterns/eighths{index}.mid"));
        std::fs::create_dir_all(path.parent().expect("folder")).expect("mkdir");
        midi::write_file(&Piece::from_notes(notes), &path, None).expect("fixture written");
    }
}

/// A one-layer network small enough to overfit a pattern corpus in seconds.
pub const TINY: ModelConfig = ModelConfig {
    embed: 32,
    layers: 1,
    hidden: 96,
    dropout: 0.0,
};
pub const TINY_SETTINGS: TrainSettings = TrainSettings {
    seq_len: 48,
    batch: 16,
    lr: 1e-2,
    clip: 3.0,
    lr_decay: 1.0,
    seed: 7,
};

pub fn tiny_data(dir: &Path) -> Arc<TrainData> {
    pattern_corpus(dir, 4, 40);
    let corpus = corpus::load_dir(dir, &|_| {}).expect("corpus loads");
    Arc::new(TrainData::from_corpus(&corpus))
}

pub fn options(out: &Path, steps: Option<u64>) -> TrainOptions {
    TrainOptions {
        model: TINY,
        controls: false,
        settings: TINY_SETTINGS,
        limits: Limits {
            steps,
            ..Limits::default()
        },
        device: DeviceChoice::Cpu,
        threads: Some(2),
        out: out.to_path_buf(),
        start: Default::default(),
        command: None,
        autosave_minutes: 60.0,
        valid_every: 50,
        replace_worse: false,
        rescue_dir: None,
        replace_existing: false,
        validation: Validation::Absent,
        project_structure: None,
    }
}

/// Runs training to the end and returns every event, the final one last.
pub fn train_to_end(data: Arc<TrainData>, options: TrainOptions) -> Vec<TrainEvent> {
    let mut trainer = train::spawn(data, options, no_repaint());
    std::iter::from_fn(|| trainer.wait_event()).collect()
}

/// How well the shared tiny model must know its corpus: the most NLL per event on its pieces.
/// Measured with 3-s continuations at temperature 0.5: at 0.050 one followed its piece for 20 of
/// 20 notes, at 0.054 for 10 (it then slipped into another key), at 0.12 for 3; 0.03 leaves a margin.
pub const OVERFIT_NLL: f64 = 0.03;
/// Steps of the first round: enough for [`OVERFIT_NLL`] on most kernels (0.024–0.029 measured
/// under AVX-512, AVX2 and the default path), so usually the only round.
const OVERFIT_FIRST_STEPS: u64 = 300;
/// Steps of each further round. How many a model needs depends on libtorch's CPU kernels (they
/// round differently), so it is trained to a loss, not a count.
const OVERFIT_MORE_STEPS: u64 = 100;
/// Steps after which the tiny model fails clearly instead of training on.
const OVERFIT_MAX_STEPS: u64 = 1000;

/// NLL per event of a checkpoint on the pieces of a corpus folder (the one scoring function).
pub fn corpus_nll(stem: &Path, corpus_dir: &Path) -> f64 {
    use cadenza_core::{checkpoint, eval};
    let loaded = checkpoint::load_model(stem, tch::Device::Cpu).expect("checkpoint loads");
    let corpus = corpus::load_dir(corpus_dir, &|_| {}).expect("corpus loads");
    let sequences: Vec<Vec<u16>> = corpus
        .pieces
        .iter()
        .map(|p| eval::model_sequence(loaded.meta.encoding(), &p.events))
        .collect();
    let pieces: Vec<eval::EvalPiece> = sequences
        .iter()
        .map(|s| eval::EvalPiece::plain(s))
        .collect();
    eval::score_pieces(&loaded.model, &pieces, 48, tch::Device::Cpu).nll_per_event()
}

/// A tiny model trained by heart on a pattern corpus (trained once, shared by the tests that
/// only read it): the corpus folder and the checkpoint stem. It trains in rounds until its NLL on
/// the corpus is at most [`OVERFIT_NLL`], and fails clearly when a step cap is reached first.
/// Call it before taking [`torch_lock`], which it takes while training.
pub fn overfitted_tiny_model() -> &'static (PathBuf, PathBuf) {
    static MODEL: std::sync::OnceLock<(PathBuf, PathBuf)> = std::sync::OnceLock::new();
    MODEL.get_or_init(|| train_by_heart(false))
}

/// [`overfitted_tiny_model`] with the steering controls and the bar grid learned too (the corpus
/// is one style, "Patterns"), for tests that sample music in bars or forms: trained to a loss,
/// so its music does not hang on how a kernel set rounds a fixed number of steps.
pub fn steerable_tiny_model() -> &'static (PathBuf, PathBuf) {
    static MODEL: std::sync::OnceLock<(PathBuf, PathBuf)> = std::sync::OnceLock::new();
    MODEL.get_or_init(|| train_by_heart(true))
}

/// Trains a tiny model on a pattern corpus in rounds until it knows it by heart.
fn train_by_heart(controls: bool) -> (PathBuf, PathBuf) {
    let _torch = torch_lock();
    let dir = tempfile::tempdir().expect("temp dir").keep();
    let corpus = dir.join("corpus");
    let out = dir.join("model");
    let data = tiny_data(&corpus);
    let (mut steps, mut nll) = (0, f64::INFINITY);
    while steps < OVERFIT_MAX_STEPS {
        let round = if steps == 0 {
            OVERFIT_FIRST_STEPS
        } else {
            OVERFIT_MORE_STEPS
        };
        let mut round_options = TrainOptions {
            controls,
            ..options(&out, Some(round))
        };
        round_options.replace_worse = true;
        if steps > 0 {
            round_options.start = train::StartFrom::Resume(out.clone());
        }
        let events = train_to_end(data.clone(), round_options);
        assert!(
            events.iter().any(|e| matches!(e, Event::Finished(_))),
            "{events:?}"
        );
        steps += round;
        nll = corpus_nll(&out, &corpus);
        println!("tiny model (controls: {controls}): {nll:.4} nats/event after {steps} steps");
        if nll <= OVERFIT_NLL {
            return (corpus, out);
        }
    }
    panic!("the tiny model reached {nll:.4} nats/event in {steps} steps, not {OVERFIT_NLL}");
}

/// Runs the `cadenza` binary and waits for it.
pub fn cadenza(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_cadenza"))
        .args(args)
        .output()
        .expect("cadenza runs")
}

/// Runs `cadenza generate --checkpoint STEM --out OUT` with `extra` arguments.
pub fn generate_into(stem: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "generate",
        "--checkpoint",
        stem.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    cadenza(&args)
}

/// A failed command: non-zero exit, one line on stderr naming the problem, no panic.
pub fn assert_clean_error(output: &std::process::Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "succeeded: {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains(expected),
        "{stderr:?} should mention {expected:?}"
    );
    assert!(!stderr.contains("panicked"));
}

/// A tiny steerable model trained through the CLI on a pattern corpus (one composer folder,
/// "Patterns"): its stem.
pub fn tiny_steerable_model(dir: &Path) -> PathBuf {
    pattern_corpus(&dir.join("corpus"), 3, 20);
    let stem = dir.join("steerable");
    let corpus = dir.join("corpus");
    let trained = cadenza(&[
        "train",
        "--corpus",
        corpus.to_str().expect("utf-8"),
        "--out",
        stem.to_str().expect("utf-8"),
        "--steps",
        "20",
        "--layers",
        "1",
        "--hidden",
        "32",
        "--embed",
        "16",
        "--seq-len",
        "32",
        "--batch",
        "4",
        "--device",
        "cpu",
    ]);
    assert!(trained.status.success(), "{trained:?}");
    stem
}

/// A take with no notes, for tests of the takes list: `seed` tells takes apart.
pub fn take(seed: u64) -> cadenza_core::generate::Take {
    cadenza_core::generate::Take {
        primer: "none".to_string(),
        seed,
        settings: cadenza_core::generate::SamplingSettings {
            length: cadenza_core::generate::Length::Seconds(1.0),
            ..Default::default()
        },
        checkpoint: "m".to_string(),
        ..Default::default()
    }
}

/// First-layer input weights that read the grid's and lookback's inputs densely, from those of
/// a model that reads them through the sparse projection `table`.
fn densified(first_layer: &tch::Tensor, table: &tch::Tensor, embed: i64) -> tch::Tensor {
    use cadenza_core::controls::CONTROL_INPUTS;
    let before = embed + CONTROL_INPUTS as i64;
    let width = table.size()[1];
    let after = first_layer.size()[1] - before - width;
    let projected = first_layer
        .narrow(1, before, width)
        .matmul(&table.transpose(0, 1));
    tch::Tensor::cat(
        &[
            first_layer.narrow(1, 0, before),
            projected,
            first_layer.narrow(1, before + width, after),
        ],
        1,
    )
}

/// A copy of a steerable checkpoint at `out` as an older Cadenza saved them, from before the
/// structure paths, with `inputs` (one of the
/// [`CONTROL_LAYOUTS`](cadenza_core::controls::CONTROL_LAYOUTS)) control inputs: the paths' gates
/// and the newer inputs' columns cut from the first layer, and `inputs` declared. Returns its stem.
pub fn older_copy(stem: &Path, out: &Path, inputs: usize) -> PathBuf {
    use cadenza_core::controls::CONTROL_INPUTS_WITH_LOOKBACK;
    let mut meta = checkpoint::load_meta(stem).expect("description");
    let embed = meta.model.embed;
    let stored = tch::Tensor::read_safetensors(checkpoint::weights_path(stem)).expect("weights");
    let table = stored
        .iter()
        .find(|(name, _)| name == "structure.weight")
        .map(|(_, table)| table.shallow_clone());
    let tensors: Vec<(String, tch::Tensor)> = stored
        .into_iter()
        .filter(|(name, _)| !name.starts_with("paths.") && !name.starts_with("structure."))
        .map(|(name, tensor)| {
            if name != "lstm.weight_ih_l0" {
                return (name, tensor);
            }
            // Earlier models read the grid densely: the projection's columns times its table.
            let tensor = match &table {
                Some(table) => densified(&tensor, table, embed),
                None => tensor,
            };
            {
                let columns = tensor.size()[1];
                let kept_end = embed + inputs as i64;
                let cut = (CONTROL_INPUTS_WITH_LOOKBACK - inputs) as i64;
                let parts = [
                    tensor.narrow(1, 0, kept_end),
                    tensor.narrow(1, kept_end + cut, columns - kept_end - cut),
                ];
                (name, tch::Tensor::cat(&parts, 1))
            }
        })
        .collect();
    let weights = checkpoint::weights_path(out);
    tch::Tensor::write_safetensors(&tensors, &weights).expect("weights written");
    let controls = meta.controls.as_mut().expect("a steerable model");
    controls.inputs = inputs;
    controls.structure_paths = false;
    controls.structure_width = 0;
    meta.weights_sha256 = checkpoint::sha256_file(&weights).expect("hashed");
    // Written as an older Cadenza wrote it: without the fields it did not know.
    let mut json = serde_json::to_value(&meta).expect("serialises");
    json["controls"]
        .as_object_mut()
        .expect("controls")
        .remove("structure_width");
    let json = serde_json::to_vec_pretty(&json).expect("serialises");
    std::fs::write(out.with_extension("json"), json).expect("description written");
    out.to_path_buf()
}
