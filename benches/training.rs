//! Training benchmarks on the shared corpus, Cadenza beside a PyTorch script of the same model,
//! recipe and data (`benches/reference/train_reference.py`) in the same run. Release build:
//!
//!   cargo bench --bench training               # throughput (tokens/s), quick and standard presets
//!   cargo bench --bench training -- quality    # validation NLL after 10 minutes of quick training
//!   cargo bench --bench training -- plain      # beside the plainest PyTorch loop (no augmentation,
//!                                              # no validation), 2×256, embedding 256, 64 × 256
//!   cargo bench --bench training -- inputs     # what the bar grid's and lookback's inputs cost:
//!                                              # sparse, dense, and without them (quick preset)
//!
//! `CADENZA_BENCH_MINUTES` changes the 10 minutes; `CADENZA_BENCH_THREADS` the 2 CPU threads.

#[path = "../tests/support/fixtures.rs"]
mod fixtures;

use std::path::Path;
use std::sync::Arc;

use cadenza_core::checkpoint::{self, TrainSettings};
use cadenza_core::corpus;
use cadenza_core::model::{DeviceChoice, ModelConfig};
use cadenza_core::train::{self, Limits, Progress, TrainData, TrainOptions, Validation};
use cadenza_core::worker::{Event, no_repaint};

fn main() {
    let Some(dir) = fixtures::shared_corpus("training benchmark") else {
        return;
    };
    let threads: usize = env_number("CADENZA_BENCH_THREADS", 2.0) as usize;
    let corpus = corpus::load_dir(&dir, &|_| {}).expect("corpus loads");
    let data = Arc::new(TrainData::from_corpus(&corpus));
    let scratch = tempfile::tempdir().expect("temp dir");
    let exported = scratch.path().join("data");
    export_for_reference(&data, &exported).expect("data exported");
    println!(
        "corpus: {} training pieces ({} events), {} validation pieces ({} events); {threads} threads",
        data.corpus.train_pieces,
        data.corpus.train_events,
        data.corpus.valid_pieces,
        data.corpus.valid_events
    );
    if std::env::args().any(|a| a == "quality") {
        quality(&data, &exported, scratch.path(), threads);
    } else if std::env::args().any(|a| a == "plain") {
        plain(&data, &exported, scratch.path(), threads);
    } else if std::env::args().any(|a| a == "inputs") {
        inputs(&data, threads);
    } else {
        throughput(&data, &exported, scratch.path(), threads);
    }
}

fn env_number(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn throughput(data: &Arc<TrainData>, exported: &Path, scratch: &Path, threads: usize) {
    println!("| preset | model | batch × seq | Cadenza tokens/s | PyTorch tokens/s | ratio |");
    println!("|---|---|---|---|---|---|");
    for (name, model, settings, steps) in [
        ("quick", ModelConfig::QUICK, TrainSettings::QUICK, 40),
        (
            "standard",
            ModelConfig::STANDARD,
            TrainSettings::STANDARD,
            6,
        ),
    ] {
        let limits = Limits {
            steps: Some(steps),
            ..Limits::default()
        };
        let (ours, _) = run_cadenza(data, model, settings, limits, &scratch.join(name), threads);
        let theirs = run_reference(
            exported,
            model,
            settings,
            &format!("--steps={steps}"),
            threads,
            false,
            &[],
        );
        println!(
            "| {name} | {}×{} | {} × {} | {ours:.0} | {:.0} | {:.2} |",
            model.layers,
            model.hidden,
            settings.batch,
            settings.seq_len,
            theirs.tokens_per_s,
            ours / theirs.tokens_per_s
        );
    }
}

/// Cadenza beside a plain PyTorch loop of the same shape, dropout 0: 40 steps each, three times.
fn plain(data: &Arc<TrainData>, exported: &Path, scratch: &Path, threads: usize) {
    let model = ModelConfig {
        embed: 256,
        layers: 2,
        hidden: 256,
        dropout: 0.0,
    };
    let settings = TrainSettings::STANDARD;
    let steps = 40;
    println!("| run | Cadenza tokens/s | plain PyTorch tokens/s | ratio |");
    println!("|---|---|---|---|");
    for run in 1..=3 {
        let limits = Limits {
            steps: Some(steps),
            ..Limits::default()
        };
        let out = scratch.join(format!("plain{run}"));
        let (ours, _) = run_cadenza(data, model, settings, limits, &out, threads);
        let theirs = run_reference(
            exported,
            model,
            settings,
            &format!("--steps={steps}"),
            threads,
            false,
            &["--plain"],
        );
        println!(
            "| {run} | {ours:.0} | {:.0} | {:.2} |",
            theirs.tokens_per_s,
            ours / theirs.tokens_per_s
        );
    }
}

/// Training steps of the quick network (2 × 256, batch 32 × 128) on the same windows with the
/// bar grid's and lookback's inputs read through the sparse projection (a new model's layout),
/// read densely (the layout of models before it, the starter's), and without them (only the
/// steering controls): the cost of the structure inputs, five rounds interleaved (one round of
/// 40 steps varies by ±10 % on this machine).
fn inputs(data: &Arc<TrainData>, threads: usize) {
    use cadenza_core::controls::{CONTROL_INPUTS, ControlsMeta, KeyProfiles, STRUCTURE_INPUTS};
    use cadenza_core::model::EventLstm;
    use tch::nn::OptimizerConfig;
    tch::set_num_threads(threads as i32);
    let (model, settings) = (ModelConfig::QUICK, TrainSettings::QUICK);
    let sparse = ControlsMeta::new(data.styles(), KeyProfiles::default());
    let dense = ControlsMeta {
        structure_width: 0,
        ..sparse.clone()
    };
    let without = ControlsMeta {
        inputs: CONTROL_INPUTS,
        structure_paths: false,
        structure_width: 0,
        ..sparse.clone()
    };
    let layouts = [
        ("sparse grid and lookback (new models)", sparse),
        ("dense grid and lookback (earlier models)", dense),
        ("without them", without),
    ];
    let steps = env_number("CADENZA_BENCH_STEPS", 40.0) as usize;
    let warm_up = 3;
    let mut rates = vec![Vec::new(); layouts.len()];
    // Milliseconds per step spent building the batch (the windows and their control inputs).
    let mut batch_ms = vec![Vec::new(); layouts.len()];
    // Non-zero structure inputs per step, over round 1's windows (with the grid absent from 30 %).
    let (mut non_zero, mut positions) = (0.0, 0.0);
    for round in 1..=5 {
        for (layout, (rate, (_, meta))) in rates.iter_mut().zip(&layouts).enumerate() {
            tch::manual_seed(round);
            let vars = tch::nn::VarStore::new(tch::Device::Cpu);
            let inputs = cadenza_core::model::Inputs::new(
                cadenza_core::encoding::Encoding::CURRENT,
                Some(meta),
            );
            let net = EventLstm::new(&vars.root(), model, inputs);
            let mut adam = tch::nn::Adam::default()
                .build(&vars, settings.lr)
                .expect("adam");
            let mut windows =
                train::WindowSampler::new(data, settings.seq_len, round as u64, Some(meta))
                    .expect("windows");
            let (mut batch_s, mut step_s) = (0.0, 0.0);
            for step in 0..warm_up + steps {
                let timed = step >= warm_up;
                let started = std::time::Instant::now();
                let batch = windows.batch(data, settings.batch, settings.seq_len, tch::Device::Cpu);
                let built = std::time::Instant::now();
                let state = net.zero_state(settings.batch as i64, tch::Device::Cpu);
                let (logits, _) =
                    net.forward(&batch.inputs, batch.conditioning.as_ref(), &state, true);
                let loss = logits
                    .view([-1, logits.size()[2]])
                    .log_softmax(-1, tch::Kind::Float)
                    .nll_loss(&batch.targets.view([-1]));
                adam.backward_step_clip_norm(&loss, settings.clip);
                if timed {
                    batch_s += (built - started).as_secs_f64();
                    step_s += built.elapsed().as_secs_f64();
                }
                // Counted outside the timed work.
                if let Some(conditioning) = batch
                    .conditioning
                    .as_ref()
                    .filter(|c| round == 1 && c.controls.size()[2] > CONTROL_INPUTS as i64)
                {
                    let structure = conditioning.controls.narrow(
                        2,
                        CONTROL_INPUTS as i64,
                        STRUCTURE_INPUTS as i64,
                    );
                    non_zero += structure.ne(0.0).sum(tch::Kind::Double).double_value(&[]);
                    positions += (settings.batch * settings.seq_len) as f64;
                }
            }
            let tokens = (steps * settings.batch * settings.seq_len) as f64;
            rate.push(tokens / (batch_s + step_s));
            batch_ms[layout].push(1e3 * batch_s / steps as f64);
        }
    }
    println!(
        "non-zero grid and lookback inputs per step: {:.1} of {STRUCTURE_INPUTS} (round 1's windows)",
        non_zero / positions
    );
    let without = &rates[2];
    println!(
        "| 2 × 256, batch {} × {}, {threads} threads | tokens/s, rounds 1–5 | median | ÷ without, round by round (median) | building the batch, ms per step |",
        settings.batch, settings.seq_len
    );
    println!("|---|---|---|---|---|");
    for (((name, _), rate), batch_ms) in layouts.iter().zip(&rates).zip(&batch_ms) {
        let each: Vec<String> = rate.iter().map(|r| format!("{r:.0}")).collect();
        // Round by round: the machine's speed drifts between rounds more than within one.
        let ratios: Vec<f64> = rate.iter().zip(without).map(|(r, w)| r / w).collect();
        println!(
            "| {name} | {} | {:.0} | {:.2} | {:.1} |",
            each.join(" · "),
            median(rate),
            median(&ratios),
            median(batch_ms)
        );
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

fn quality(data: &Arc<TrainData>, exported: &Path, scratch: &Path, threads: usize) {
    let minutes = env_number("CADENZA_BENCH_MINUTES", 10.0);
    let (model, settings) = (ModelConfig::QUICK, TrainSettings::QUICK);
    let limits = Limits {
        minutes: Some(minutes),
        ..Limits::default()
    };
    let (ours_rate, ours_valid) = run_cadenza(
        data,
        model,
        settings,
        limits,
        &scratch.join("quality"),
        threads,
    );
    let theirs = run_reference(
        exported,
        model,
        settings,
        &format!("--minutes={minutes}"),
        threads,
        true,
        &[],
    );
    println!("| {minutes} min, quick preset | tokens/s | validation NLL (nats/event) |");
    println!("|---|---|---|");
    println!("| Cadenza | {ours_rate:.0} | {ours_valid:.4} |");
    println!(
        "| PyTorch | {:.0} | {:.4} |",
        theirs.tokens_per_s,
        theirs.valid_nll.unwrap_or(f64::NAN)
    );
}

/// Trains with Cadenza; returns the last reported tokens/s and the final validation NLL.
fn run_cadenza(
    data: &Arc<TrainData>,
    model: ModelConfig,
    settings: TrainSettings,
    limits: Limits,
    out: &Path,
    threads: usize,
) -> (f64, f64) {
    let options = TrainOptions {
        model,
        // Like for like with the reference, which has no controls.
        controls: false,
        settings,
        limits,
        device: DeviceChoice::Cpu,
        threads: Some(threads),
        out: out.to_path_buf(),
        start: Default::default(),
        command: None,
        autosave_minutes: 1e6,
        valid_every: 100,
        replace_worse: false,
        rescue_dir: None,
        replace_existing: false,
        validation: Validation::Absent,
        project_structure: None,
    };
    let mut trainer = train::spawn(data.clone(), options, no_repaint());
    let mut tokens_per_s = f64::NAN;
    while let Some(event) = trainer.wait_event() {
        match event {
            Event::Update(Progress::Progress {
                tokens_per_s: rate, ..
            }) => tokens_per_s = rate,
            Event::Failed { message } => panic!("training failed: {message}"),
            _ => {}
        }
    }
    let valid = checkpoint::load_meta(out)
        .ok()
        .and_then(|m| m.valid_nll)
        .unwrap_or(f64::NAN);
    (tokens_per_s, valid)
}

#[derive(serde::Deserialize)]
struct ReferenceResult {
    tokens_per_s: f64,
    valid_nll: Option<f64>,
}

fn run_reference(
    exported: &Path,
    model: ModelConfig,
    settings: TrainSettings,
    limit: &str,
    threads: usize,
    validate: bool,
    extra: &[&str],
) -> ReferenceResult {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/reference/train_reference.py");
    let mut command = fixtures::python_with_torch();
    command.arg(script).arg("--data").arg(exported);
    for (flag, value) in [
        ("--embed", model.embed.to_string()),
        ("--layers", model.layers.to_string()),
        ("--hidden", model.hidden.to_string()),
        ("--dropout", model.dropout.to_string()),
        ("--seq-len", settings.seq_len.to_string()),
        ("--batch", settings.batch.to_string()),
        ("--lr", settings.lr.to_string()),
        ("--clip", settings.clip.to_string()),
        ("--seed", settings.seed.to_string()),
        ("--threads", threads.to_string()),
    ] {
        command.arg(flag).arg(value);
    }
    command.arg(limit).args(extra);
    if validate {
        command.arg("--validate");
    }
    let output = command.output().expect("python3 runs");
    assert!(
        output.status.success(),
        "reference failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("reference prints JSON")
}

/// Event ids laid end to end, remembering where each piece is.
#[derive(Default)]
struct PackedEvents {
    bytes: Vec<u8>,
}

impl PackedEvents {
    /// Appends a piece; returns its (offset, length) in events.
    fn push(&mut self, piece: &[u16]) -> (usize, usize) {
        let span = (self.bytes.len() / 2, piece.len());
        self.bytes
            .extend(piece.iter().flat_map(|id| id.to_le_bytes()));
        span
    }
}

/// Writes the training and validation events as `DATA.bin` + `DATA.json` (see the reference script).
fn export_for_reference(data: &TrainData, stem: &Path) -> std::io::Result<()> {
    let mut packed = PackedEvents::default();
    let train: Vec<Vec<(usize, usize)>> = data
        .train_variants()
        .map(|variants| variants.iter().map(|v| packed.push(v)).collect())
        .collect();
    let valid: Vec<(usize, usize)> = data
        .valid_pieces(None)
        .into_iter()
        .map(|p| packed.push(p.events))
        .collect();
    std::fs::write(stem.with_extension("bin"), &packed.bytes)?;
    let index = serde_json::json!({ "train": train, "valid": valid });
    std::fs::write(stem.with_extension("json"), index.to_string())
}
