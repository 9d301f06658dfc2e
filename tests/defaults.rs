//! One set of defaults: the app's first take and `cadenza generate` with the same seed and no
//! other flags are the same music (in bars, 90 bpm in 4/4, 12 bars).

use std::sync::Arc;
use std::time::{Duration, Instant};

use cadenza::app::{CadenzaApp, Settings};
use cadenza_core::paths::DataDir;
use cadenza_core::workbench::Workbench;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use crate::support::{generate_into, tiny_steerable_model};

/// The seed both front ends are given.
const SEED: u64 = 7;
/// Onsets and releases in a MIDI file are on ticks: a few milliseconds apart at most.
const TICK_SLACK_S: f64 = 0.005;

#[test]
fn the_apps_first_take_and_cadenza_generate_with_the_same_seed_are_the_same_music() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stem = tiny_steerable_model(dir.path());
    let data_dir = dir.path().join("data");
    let data = DataDir::new(&data_dir);
    let takes_file = data.takes_file();

    // The app as a newcomer finds it, on this model, with the seed locked to SEED.
    let mut settings = Settings {
        checkpoint: Some(stem.clone()),
        ..Settings::default()
    };
    settings.generate.seed = SEED;
    settings.generate.lock_seed = true;
    let mut harness = Harness::builder()
        .with_size([1280.0, 800.0])
        .build_eframe(|_| CadenzaApp::new(settings, Some(data), Arc::new(|_| {})));
    harness.step();
    for nth in [0, 1] {
        // The side bar's "Generate" tab, then the room's Generate button.
        harness
            .get_all_by_label("Generate")
            .nth(nth)
            .expect("a Generate tab and button")
            .click();
        harness.step();
        harness.step();
    }
    let started = Instant::now();
    let take = loop {
        let (workbench, _) = Workbench::open(Some(takes_file.clone()));
        if let Some(take) = workbench.takes().first() {
            break take.clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "the app made no take"
        );
        harness.step();
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(take.seed, SEED);
    assert!(!take.notes.is_empty(), "a take with notes to compare");
    assert!(take.grid.is_some(), "the app's first take is in bars");

    let out = dir.path().join("cli.mid");
    let generated = generate_into(&stem, &out, &["--seed", &SEED.to_string()]);
    assert!(generated.status.success(), "{generated:?}");
    let piece = cadenza_core::midi::read_file(&out).expect("reads back");
    assert!(piece.grid.is_some(), "cadenza generate writes in bars too");
    assert_eq!(piece.notes.len(), take.notes.len(), "the same notes");
    for (from_cli, from_app) in piece.notes.iter().zip(&take.notes) {
        assert_eq!(
            (from_cli.pitch, from_cli.velocity),
            (from_app.pitch, from_app.velocity)
        );
        assert!((from_cli.start_s - from_app.start_s).abs() < TICK_SLACK_S);
        assert!((from_cli.end_s - from_app.end_s).abs() < TICK_SLACK_S);
    }
}
