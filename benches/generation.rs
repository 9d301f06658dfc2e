//! Sampling speed: Cadenza's one-step LSTM beside PyTorch sampling the same weights incrementally
//! with `nn.LSTM` (`benches/reference/sample_reference.py`), in the same run. Release build:
//!
//!   cargo bench --bench generation
//!
//! Speed does not depend on what the weights learned, so the models are freshly initialised (and
//! saved, so PyTorch loads the very same weights); no corpus is needed.

#[path = "../tests/support/fixtures.rs"]
mod fixtures;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use cadenza_core::checkpoint::{self, CheckpointMeta, TrainSettings};
use cadenza_core::generate::{self, Length, Primer, SamplingSettings};
use cadenza_core::model::{self, EventLstm, ModelConfig};
use tch::{Device, nn};

fn main() {
    let scratch = tempfile::tempdir().expect("temp dir");
    println!(
        "| preset | threads | variations | Cadenza events/s per variation | Cadenza events/s in all | PyTorch nn.LSTM events/s per variation | ratio |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, config, events) in [
        ("quick", ModelConfig::QUICK, 4000),
        ("standard", ModelConfig::STANDARD, 1500),
    ] {
        tch::manual_seed(0);
        let vars = nn::VarStore::new(Device::Cpu);
        let network = EventLstm::new(&vars.root(), config);
        let stem = scratch.path().join(name);
        save(&stem, &vars, config);
        for threads in [1, 2] {
            for variations in [1, 4] {
                model::set_threads(threads);
                let ours = cadenza_events_per_s(&network, events, variations);
                let theirs = pytorch_events_per_s(&stem, config, events, variations, threads);
                println!(
                    "| {name} | {threads} | {variations} | {ours:.0} | {:.0} | {theirs:.0} | {:.2} |",
                    ours * variations as f64,
                    ours / theirs
                );
            }
        }
    }
}

fn save(stem: &Path, vars: &nn::VarStore, config: ModelConfig) {
    let mut meta = CheckpointMeta {
        format_version: 0,
        encoding: String::new(),
        model: config,
        train: TrainSettings::QUICK,
        step: 0,
        epoch: 0.0,
        corpus: Default::default(),
        valid_nll: None,
        history: Default::default(),
        weights_sha256: String::new(),
    };
    checkpoint::save(stem, vars, &mut meta).expect("checkpoint saved");
}

/// Best of three runs, events per second per variation.
fn cadenza_events_per_s(network: &EventLstm, events: usize, variations: usize) -> f64 {
    let settings = SamplingSettings {
        length: Length::Events(events),
        variations,
        ..SamplingSettings::default()
    };
    (0..3)
        .map(|_| {
            let pieces = generate::sample(
                network,
                Device::Cpu,
                &settings,
                &Primer::none(),
                &mut |_| {},
                &AtomicBool::new(false),
            )
            .expect("samples")
            .expect("not cancelled");
            pieces[0].events_per_s
        })
        .fold(0.0, f64::max)
}

#[derive(serde::Deserialize)]
struct Reference {
    events_per_s: f64,
}

/// Best of three runs of the PyTorch script.
fn pytorch_events_per_s(
    stem: &Path,
    config: ModelConfig,
    events: usize,
    variations: usize,
    threads: usize,
) -> f64 {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/reference/sample_reference.py");
    (0..3)
        .map(|_| {
            let output = fixtures::python()
                .arg(&script)
                .arg(format!(
                    "--weights={}",
                    checkpoint::weights_path(stem).display()
                ))
                .arg(format!("--embed={}", config.embed))
                .arg(format!("--layers={}", config.layers))
                .arg(format!("--hidden={}", config.hidden))
                .arg(format!("--batch={variations}"))
                .arg(format!("--events={events}"))
                .arg(format!("--threads={threads}"))
                .output()
                .expect("python3 runs");
            assert!(
                output.status.success(),
                "PyTorch reference failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            let reference: Reference =
                serde_json::from_slice(&output.stdout).expect("reference prints JSON");
            reference.events_per_s
        })
        .fold(0.0, f64::max)
}
