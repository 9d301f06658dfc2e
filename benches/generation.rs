//! Sampling speed: Cadenza's one-step LSTM beside PyTorch sampling the same weights incrementally
//! with `nn.LSTM` (`benches/reference/sample_reference.py`), in the same run. Release build:
//!
//!   cargo bench --bench generation
//!
//! Speed does not depend on what the weights learned, so the models are freshly initialised (and
//! saved, so PyTorch loads the very same weights); no corpus is needed. A second table compares a
//! steerable model asked for a key, a loudness, a style and a density curve that changes bin
//! every few seconds with the same model asked for nothing, in the same run.

#[path = "../tests/support/fixtures.rs"]
mod fixtures;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use cadenza_core::checkpoint::{self, CheckpointMeta, TrainSettings};
use cadenza_core::controls::{
    ControlPlan, ControlsMeta, Curve, CurvePoint, Key, KeyChange, KeyProfiles, MeterChange,
};
use cadenza_core::encoding::Encoding;
use cadenza_core::generate::{self, Length, Primer, SamplingSettings, Steering};
use cadenza_core::model::{self, EventLstm, Inputs, ModelConfig};
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
        let network = EventLstm::new(&vars.root(), config, Inputs::new(Encoding::CURRENT, None));
        let stem = scratch.path().join(name);
        save(&stem, &vars, config);
        let plain = Steering::plain(Encoding::CURRENT);
        for threads in [1, 2] {
            for variations in [1, 4] {
                model::set_threads(threads);
                let ours = cadenza_events_per_s(&network, &plain, events, variations);
                let theirs = pytorch_events_per_s(&stem, config, events, variations, threads);
                println!(
                    "| {name} | {threads} | {variations} | {ours:.0} | {:.0} | {theirs:.0} | {:.2} |",
                    ours * variations as f64,
                    ours / theirs
                );
            }
        }
    }
    controlled_against_plain();
}

/// Events/s of a steerable quick model asked for everything, against the same model asked for
/// nothing (best of three each, 2 threads, one variation and four).
fn controlled_against_plain() {
    println!();
    println!(
        "| steerable quick model, 2 threads | variations | asked for nothing, events/s | key + loudness + style + changing density, events/s | ratio | tempo 96 bpm + 3/4 (bar grid), events/s | ratio |"
    );
    println!("|---|---|---|---|---|---|---|");
    tch::manual_seed(0);
    let styles: Vec<String> = (1..=25).map(|i| format!("composer {i}")).collect();
    let controls = ControlsMeta::new(styles, KeyProfiles::default());
    let vars = nn::VarStore::new(Device::Cpu);
    let config = ModelConfig::QUICK;
    let network = EventLstm::new(
        &vars.root(),
        config,
        Inputs::new(Encoding::CURRENT, Some(&controls)),
    );
    let mut meta = meta(config);
    meta.controls = Some(controls);
    let none = Steering::new(&meta, ControlPlan::default()).expect("plan fits");
    // Density changes bin every 2 s: the controls' gate bias is recomputed often.
    let density = Curve(
        (0..60)
            .map(|i| CurvePoint {
                at_s: f64::from(i) * 2.0,
                value: if i % 2 == 0 { 2.0 } else { 8.0 },
            })
            .collect(),
    );
    let everything = ControlPlan {
        key: vec![KeyChange {
            at_s: 0.0,
            key: Some("D minor".parse::<Key>().expect("a key")),
        }],
        density,
        loudness: Curve::constant(45.0),
        style: Some("composer 3".to_string()),
        ..ControlPlan::default()
    };
    let all = Steering::new(&meta, everything).expect("plan fits");
    // The grid's inputs change with every time shift: the gate bias is recomputed each time.
    let metered = ControlPlan {
        tempo: Curve::constant(96.0),
        meter: vec![MeterChange {
            at_s: 0.0,
            signature: "3/4".parse().expect("a meter"),
        }],
        ..ControlPlan::default()
    };
    let metered = Steering::new(&meta, metered).expect("plan fits");
    model::set_threads(2);
    for variations in [1, 4] {
        let plain = cadenza_events_per_s(&network, &none, 4000, variations);
        let steered = cadenza_events_per_s(&network, &all, 4000, variations);
        let on_grid = cadenza_events_per_s(&network, &metered, 4000, variations);
        println!(
            "| quick | {variations} | {plain:.0} | {steered:.0} | {:.2} | {on_grid:.0} | {:.2} |",
            steered / plain,
            on_grid / plain
        );
    }
}

fn save(stem: &Path, vars: &nn::VarStore, config: ModelConfig) {
    checkpoint::save(stem, vars, &mut meta(config)).expect("checkpoint saved");
}

fn meta(config: ModelConfig) -> CheckpointMeta {
    CheckpointMeta {
        format_version: checkpoint::FORMAT_VERSION,
        encoding: Encoding::CURRENT.id().to_string(),
        model: config,
        train: TrainSettings::QUICK,
        step: 0,
        epoch: 0.0,
        corpus: Default::default(),
        valid_nll: None,
        history: Default::default(),
        weights_sha256: String::new(),
        controls: None,
        provenance: Default::default(),
    }
}

/// Best of three runs, events per second per variation.
fn cadenza_events_per_s(
    network: &EventLstm,
    steering: &Steering,
    events: usize,
    variations: usize,
) -> f64 {
    let settings = SamplingSettings {
        length: Length::Events(events),
        variations,
        ..SamplingSettings::default()
    };
    (0..3)
        .map(|_| {
            let pieces = generate::sample(
                network,
                steering,
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
            let output = fixtures::python_with_torch()
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
