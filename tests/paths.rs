//! The learned structure paths, end to end: a gate the network opens makes the sampled music
//! follow its path with every hand-set rule off.

use std::sync::atomic::AtomicBool;

use cadenza_core::checkpoint;
use cadenza_core::controls::{ControlPlan, Curve, MeterChange};
use cadenza_core::generate::{self, Assist, Length, Primer, SamplingSettings, Steering};
use cadenza_core::midi::Note;
use cadenza_core::model::structure_paths::{GATE_SCALE, StructurePath};
use tch::{Device, Tensor};

use crate::support::{steerable_tiny_model, torch_lock};

/// 120 bpm in 4/4: a bar lasts 2 s.
const BAR_S: f64 = 2.0;

/// Share of the onsets after the first bar that repeat an onset of the same key one bar
/// earlier (within 30 ms).
fn repeated_share(notes: &[Note]) -> f64 {
    let later: Vec<&Note> = notes.iter().filter(|n| n.start_s >= BAR_S).collect();
    let repeats = later
        .iter()
        .filter(|n| {
            notes
                .iter()
                .any(|m| m.pitch == n.pitch && (m.start_s + BAR_S - n.start_s).abs() <= 0.03)
        })
        .count();
    repeats as f64 / later.len().max(1) as f64
}

/// Samples four bars with no assist after setting the one-bar echo and rhythm gates to
/// `gate_nats`.
fn four_bars_with_echo_gate(gate_nats: f32) -> Vec<Note> {
    let (_, stem) = steerable_tiny_model();
    let _torch = torch_lock();
    let loaded = checkpoint::load_model(stem, Device::Cpu).expect("loads");
    let gates = loaded.model.path_gates().expect("new models have paths");
    let mut bias = gates.bs.as_ref().expect("a bias").shallow_clone();
    let mut wanted = vec![0f32; StructurePath::ALL.len()];
    for path in [StructurePath::EchoOneBar, StructurePath::RhythmOneBar] {
        let k = StructurePath::ALL
            .iter()
            .position(|&p| p == path)
            .expect("a path");
        wanted[k] = gate_nats / GATE_SCALE;
    }
    tch::no_grad(|| bias.copy_(&Tensor::from_slice(&wanted)));
    let plan = ControlPlan {
        tempo: Curve::constant(120.0),
        meter: vec![MeterChange {
            at_s: 0.0,
            signature: "4/4".parse().expect("a meter"),
        }],
        ..ControlPlan::default()
    };
    let steering = Steering::new(&loaded.meta, plan).expect("the model reads the grid");
    let settings = SamplingSettings {
        length: Length::Seconds(4.0 * BAR_S),
        seed: 9,
        assist: Assist::NONE,
        ..SamplingSettings::default()
    };
    let mut pieces = generate::sample(
        &loaded.model,
        &steering,
        Device::Cpu,
        &settings,
        &Primer::none(),
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .expect("samples")
    .expect("not cancelled");
    pieces.pop().expect("one take").notes
}

#[test]
fn an_open_echo_gate_alone_makes_the_network_repeat_the_bar_before() {
    let closed = repeated_share(&four_bars_with_echo_gate(0.0));
    let open = four_bars_with_echo_gate(30.0);
    let repeated = repeated_share(&open);
    println!("repeated one bar on: {repeated:.2} with the gate open, {closed:.2} closed");
    assert!(
        open.iter().filter(|n| n.start_s >= BAR_S).count() >= 8,
        "bars 2–4 have music: {open:?}"
    );
    assert!(
        repeated >= 0.8 && repeated > closed + 0.3,
        "an open gate repeats {repeated:.2} of the onsets, a closed one {closed:.2}"
    );
}
