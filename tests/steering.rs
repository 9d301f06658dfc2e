//! Steering: the controls computed from music (and under transposition and stretch), absent
//! controls, the start event, format-1 checkpoints beside steerable ones, and the CLI's flags.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use cadenza_core::checkpoint;
use cadenza_core::controls::{
    ControlPlan, ControlTrack, ControlValues, Curve, Key, KeyChange, density_bin, loudness_bin,
};
use cadenza_core::encoding::{self, Encoding, START};
use cadenza_core::eval;
use cadenza_core::generate::{self, Assist, Length, Primer, SamplingSettings, Steering};
use cadenza_core::midi::{Note, Piece};
use cadenza_core::model::{EventLstm, Inputs};
use cadenza_core::music::meter::Grid;
use cadenza_core::train::TrainOptions;
use tch::{Device, nn};

use crate::support::{
    TINY, assert_clean_error, cadenza, options, overfitted_tiny_model, tiny_data,
    tiny_steerable_model, torch_lock, train_to_end,
};

/// 0–3 s: two soft C-major notes a second; 3–6 s: eight loud D-major notes a second.
fn two_sections() -> Vec<Note> {
    let mut notes = Vec::new();
    for i in 0..6 {
        let start_s = i as f64 * 0.5;
        notes.push(note([60, 64, 67][i % 3], start_s, 0.4, 40));
    }
    for i in 0..24 {
        let start_s = 3.0 + i as f64 * 0.125;
        notes.push(note([62, 66, 69][i % 3], start_s, 0.1, 100));
    }
    notes
}

fn note(pitch: u8, start_s: f64, length_s: f64, velocity: u8) -> Note {
    Note {
        pitch,
        start_s,
        end_s: start_s + length_s,
        velocity,
    }
}

/// The position of the first event at or after `seconds` (by summing time shifts).
fn position_at(events: &[u16], seconds: f64) -> usize {
    let mut now = 0u64;
    for (i, &id) in events.iter().enumerate() {
        if now >= encoding::to_step(seconds) {
            return i;
        }
        if let Some(encoding::Event::TimeShift(steps)) = encoding::Event::from_id(id) {
            now += u64::from(steps);
        }
    }
    events.len()
}

fn strongest_classes(values: &ControlValues) -> Vec<usize> {
    let histogram = values.histogram.expect("a histogram");
    let mut classes: Vec<usize> = (0..12).collect();
    classes.sort_by(|a, b| histogram[*b].total_cmp(&histogram[*a]));
    let mut top = classes[..3].to_vec();
    top.sort_unstable();
    top
}

#[test]
fn controls_describe_the_music_ahead_of_each_event() {
    let events = encoding::encode_notes(&two_sections());
    let track = ControlTrack::of_events(&events, None);
    assert_eq!(track.len(), events.len());
    let opening = track.values(0, 0);
    // Three seconds ahead of 0 s: six notes at 2/s, velocity 40, C E G.
    assert_eq!(opening.density, Some(density_bin(2.0)));
    assert_eq!(opening.loudness, Some(loudness_bin(40.0)));
    assert_eq!(strongest_classes(&opening), vec![0, 4, 7]);
    let second = track.values(position_at(&events, 3.0), 0);
    assert_eq!(second.density, Some(density_bin(8.0)));
    assert_eq!(second.loudness, Some(loudness_bin(100.0)));
    assert_eq!(strongest_classes(&second), vec![2, 6, 9]);
    // Past the last note nothing is ahead: no loudness, lowest density.
    let end = track.values(events.len() - 1, 0);
    assert_eq!((end.density, end.loudness), (Some(0), None));
}

#[test]
fn controls_follow_transposition_and_stretch() {
    let notes = two_sections();
    let events = encoding::encode_notes(&notes);
    // On a grid (the lookback's keys move with the music too).
    let grid = Grid::steady(120.0, "4/4".parse().expect("meter"), 8.0);
    let track = ControlTrack::of_events(&events, Some(&grid));
    // Transposed music has the rotated histogram, position by position.
    let up_two = encoding::transpose(&events, 2).expect("stays on the keyboard");
    let transposed = ControlTrack::of_events(&up_two, Some(&grid));
    for i in 0..events.len() {
        assert_eq!(transposed.values(i, 0), track.values(i, 2), "position {i}");
    }
    // Stretched to twice as slow, the same music is half as dense.
    let slow = encoding::encode_piece(&encoding::stretch(&Piece::from_notes(notes), 2.0));
    let stretched = ControlTrack::of_events(&slow, None);
    assert_eq!(stretched.values(0, 0).density, Some(density_bin(1.0)));
    let second = stretched.values(position_at(&slow, 6.0), 0);
    assert_eq!(second.density, Some(density_bin(4.0)));
}

#[test]
fn absent_controls_are_zero_inputs_and_a_plan_that_asks_nothing() {
    assert!(
        ControlValues::default()
            .inputs(cadenza_core::controls::CONTROL_INPUTS_WITH_LOOKBACK)
            .iter()
            .all(|&x| x == 0.0)
    );
    let plan = ControlPlan::default();
    assert!(plan.is_any());
    assert_eq!(plan.summary(), "any");
    let meta = cadenza_core::controls::ControlsMeta::new(vec!["Bach".into()], Default::default());
    assert_eq!(
        plan.values_at(&meta, None, 12.0),
        (ControlValues::default(), 0)
    );
    let asked = ControlPlan {
        key: vec![
            KeyChange {
                at_s: 0.0,
                key: Some("D minor".parse().expect("key")),
            },
            KeyChange {
                at_s: 10.0,
                key: None,
            },
        ],
        density: Curve::constant(4.0),
        style: Some("bach".into()),
        ..ControlPlan::default()
    };
    let (early, style) = asked.values_at(&meta, None, 5.0);
    assert!(early.histogram.is_some() && early.density == Some(density_bin(4.0)));
    assert_eq!((early.loudness, style), (None, 1));
    assert_eq!(
        asked.values_at(&meta, None, 11.0).0.histogram,
        None,
        "any key after 10 s"
    );
    let unknown = ControlPlan {
        style: Some("Satie".into()),
        ..ControlPlan::default()
    };
    let refused = unknown.check_against(&meta).expect_err("unknown style");
    assert!(refused.contains("Bach"), "{refused}");
}

#[test]
fn training_sequences_begin_with_the_start_event_and_unprimed_takes_open_like_the_corpus() {
    let (corpus_dir, stem) = overfitted_tiny_model();
    let data = tiny_data(&tempfile::tempdir().expect("temp dir").keep());
    for variants in data.train_variants() {
        assert!(variants.iter().all(|v| v[0] == START));
    }
    assert_eq!(eval::model_sequence(Encoding::V1, &[5, 6]), vec![5, 6]);
    let _torch = torch_lock();
    let loaded = checkpoint::load_model(stem, Device::Cpu).expect("loads");
    assert_eq!(loaded.meta.encoding(), Encoding::CURRENT);
    let steering = Steering::new(&loaded.meta, ControlPlan::default()).expect("plain");
    let settings = SamplingSettings {
        length: Length::Seconds(2.0),
        variations: 4,
        ..SamplingSettings::default()
    };
    let pieces = generate::sample(
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
    // Every corpus note has velocity 80 (bin 20, decoded as 82): read from the start event, not
    // forced to mezzo-forte.
    let corpus_velocity = encoding::bin_velocity(encoding::velocity_bin(80));
    for piece in pieces {
        let first = piece.notes.first().expect("notes");
        assert_eq!(first.velocity, corpus_velocity, "{corpus_dir:?}");
    }
}

/// A format-1 checkpoint (388 inputs, no start event, no controls), as written before steering.
fn format_1_checkpoint(dir: &Path) -> PathBuf {
    tch::manual_seed(5);
    let vars = nn::VarStore::new(Device::Cpu);
    let _model = EventLstm::new(&vars.root(), TINY, Inputs::new(Encoding::V1, None));
    let stem = dir.join("old");
    let mut meta = checkpoint::CheckpointMeta {
        format_version: 0,
        encoding: String::new(),
        model: TINY,
        train: crate::support::TINY_SETTINGS,
        step: 1,
        epoch: 0.1,
        corpus: Default::default(),
        valid_nll: None,
        history: Default::default(),
        weights_sha256: String::new(),
        controls: None,
        provenance: Default::default(),
    };
    checkpoint::save(&stem, &vars, &mut meta).expect("saves");
    let path = checkpoint::meta_path(&stem);
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("json")).expect("parses");
    json["format_version"] = 1.into();
    json["encoding"] = Encoding::V1.id().into();
    json.as_object_mut().expect("object").remove("controls");
    std::fs::write(&path, json.to_string()).expect("written");
    stem
}

#[test]
fn a_format_1_checkpoint_still_generates_but_cannot_be_steered() {
    let dir = tempfile::tempdir().expect("temp dir");
    let _torch = torch_lock();
    let stem = format_1_checkpoint(dir.path());
    let loaded = checkpoint::load_model(&stem, Device::Cpu).expect("format 1 loads");
    assert_eq!(loaded.meta.encoding(), Encoding::V1);
    assert!(loaded.meta.controls.is_none());
    let key = ControlPlan {
        key: vec![KeyChange {
            at_s: 0.0,
            key: Some(Key::all().next().expect("C major")),
        }],
        ..ControlPlan::default()
    };
    let refused = Steering::new(&loaded.meta, key).expect_err("no controls to steer");
    assert!(
        refused.to_string().contains("without controls"),
        "{refused}"
    );
    drop(_torch);
    let out = dir.path().join("old.mid");
    let written = cadenza(&[
        "generate",
        "--checkpoint",
        stem.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
        "--events",
        "40",
        "--seed",
        "3",
        "--device",
        "cpu",
    ]);
    assert!(written.status.success(), "{written:?}");
    assert!(out.exists());
    // Training further is refused with a reason, not a crash.
    let mut resume: TrainOptions = options(&dir.path().join("next"), Some(2));
    resume.start = cadenza_core::train::StartFrom::Resume(stem);
    let data = tiny_data(&dir.path().join("corpus"));
    let events = {
        let _torch = torch_lock();
        train_to_end(data, resume)
    };
    let failed = format!("{:?}", events.last());
    assert!(failed.contains("earlier event encoding"), "{failed}");
}

#[test]
fn the_cli_trains_steerable_models_and_takes_every_control() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stem = crate::support::tiny_steerable_model(dir.path());
    let meta = checkpoint::load_meta(&stem).expect("meta");
    let controls = meta.controls.expect("controls learned by default");
    assert_eq!(controls.styles, vec!["Patterns".to_string()]);
    let stem_text = stem.to_str().expect("utf-8");
    let out = dir.path().join("take.mid");
    let out_text = out.to_str().expect("utf-8");
    let generate = |extra: &[&str]| {
        let mut args = vec![
            "generate",
            "--checkpoint",
            stem_text,
            "--out",
            out_text,
            "--seconds",
            "3",
            "--seed",
            "1",
            "--device",
            "cpu",
            "--json",
        ];
        args.extend_from_slice(extra);
        cadenza(&args)
    };
    let steered = generate(&[
        "--key",
        "D minor",
        "--density",
        "4",
        "--loudness",
        "soft",
        "--style",
        "Patterns",
    ]);
    assert!(steered.status.success(), "{steered:?}");
    let line = String::from_utf8_lossy(&steered.stdout);
    assert!(
        // In bars by default, as the app writes: 90 bpm in 4/4.
        line.contains("D minor · 4 notes/s · soft · 90 bpm · 4/4 · Patterns"),
        "{line}"
    );
    let curves = dir.path().join("controls.json");
    std::fs::write(
        &curves,
        r#"{"key": [{"at_s": 0, "key": "F# major"}, {"at_s": 1.5, "key": null}],
            "density": [{"at_s": 0, "value": 2}, {"at_s": 3, "value": 16}],
            "loudness": [{"at_s": 0, "value": 90}]}"#,
    )
    .expect("written");
    let from_file = generate(&["--controls", curves.to_str().expect("utf-8")]);
    assert!(from_file.status.success(), "{from_file:?}");
    assert_clean_error(&generate(&["--style", "Nobody"]), "Patterns");
    assert_clean_error(&generate(&["--density=-3"]), "density");
    let bad_key = generate(&["--key", "H major"]);
    assert!(!bad_key.status.success());
    assert!(String::from_utf8_lossy(&bad_key.stderr).contains("unknown key"));
    std::fs::write(&curves, r#"{"tempo": 3}"#).expect("written");
    assert_clean_error(
        &generate(&["--controls", curves.to_str().expect("utf-8")]),
        "not a controls file",
    );
    let scored = cadenza(&[
        "eval",
        "--checkpoint",
        stem_text,
        "--corpus",
        dir.path().join("corpus").to_str().expect("utf-8"),
        "--json",
        "--device",
        "cpu",
    ]);
    let report: serde_json::Value = serde_json::from_slice(&scored.stdout).expect("json");
    assert!(report["nll_with_controls"].as_f64().is_some(), "{report}");
    assert!(report["nll_per_event"].as_f64().is_some(), "{report}");
}

#[test]
fn train_no_controls_writes_a_model_without_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    crate::support::pattern_corpus(&dir.path().join("corpus"), 2, 20);
    let stem = dir.path().join("plain");
    let trained = cadenza(&[
        "train",
        "--corpus",
        dir.path().join("corpus").to_str().expect("utf-8"),
        "--out",
        stem.to_str().expect("utf-8"),
        "--steps",
        "2",
        "--layers",
        "1",
        "--hidden",
        "16",
        "--embed",
        "8",
        "--seq-len",
        "16",
        "--batch",
        "2",
        "--no-controls",
        "--device",
        "cpu",
    ]);
    assert!(trained.status.success(), "{trained:?}");
    let meta = checkpoint::load_meta(&stem).expect("meta");
    assert!(meta.controls.is_none());
    assert_eq!(meta.format_version, checkpoint::FORMAT_VERSION);
}

#[test]
fn takes_remember_their_controls_and_older_takes_still_load() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("takes.json");
    let take = generate::Take {
        id: 1,
        parent: None,
        operation: Default::default(),
        notes: vec![note(60, 0.0, 0.5, 70)],
        primer_end_s: 0.0,
        primer: "none".into(),
        seed: 4,
        settings: SamplingSettings::default(),
        controls: ControlPlan {
            density: Curve::constant(8.0),
            ..ControlPlan::default()
        },
        checkpoint: "m".into(),
        events: 3,
        events_per_s: 1.0,
        grid: None,
    };
    cadenza_core::takes::save(&file, std::slice::from_ref(&take)).expect("saved");
    let loaded = cadenza_core::takes::load(&file);
    assert_eq!(loaded.takes, vec![take.clone()]);
    // A take written before controls and versions existed has no "controls", "id", "parent" or
    // "operation" field: it loads as "any", gets an id, and is a root.
    let mut old = serde_json::to_value(&take).expect("json");
    for field in ["controls", "id", "parent", "operation"] {
        old.as_object_mut().expect("object").remove(field);
    }
    std::fs::write(&file, serde_json::json!([old]).to_string()).expect("written");
    let loaded = cadenza_core::takes::load(&file);
    assert_eq!(loaded.takes.len(), 1);
    assert!(loaded.takes[0].controls.is_any());
    assert!(loaded.takes[0].id != 0 && loaded.takes[0].parent.is_none());
}

#[test]
fn where_no_key_is_asked_a_take_is_steered_by_the_key_it_settled_in() {
    use cadenza_core::controls::Key;
    use cadenza_core::music::lookback::Played;
    let dir = tempfile::tempdir().expect("temp dir");
    let meta = checkpoint::load_meta(&tiny_steerable_model(dir.path())).expect("meta");
    let steering = Steering::new(&meta, ControlPlan::default()).expect("any");
    // A C major scale up and down, a note every quarter second.
    let scale = [60, 62, 64, 65, 67, 69, 71, 72];
    let played_notes = |count: usize| {
        let notes: Vec<Note> = (0..count)
            .map(|i| note(scale[i % scale.len()], i as f64 * 0.25, 0.2, 64))
            .collect();
        Played::of_events(&encoding::encode_notes(&notes))
    };
    let histogram = |steering: &Steering, played: &Played| {
        steering
            .values_after(played)
            .expect("a steerable model")
            .0
            .histogram
    };
    let c_major = meta
        .controls
        .as_ref()
        .expect("controls")
        .key_profiles
        .histogram("C major".parse::<Key>().expect("key"))
        .map(|v| v as f32);
    assert_eq!(histogram(&steering, &played_notes(16)), Some(c_major));
    assert_eq!(
        histogram(&steering, &played_notes(6)),
        None,
        "too few notes yet"
    );
    let free = steering.clone().assisted(Assist::NONE);
    assert_eq!(histogram(&free, &played_notes(16)), None);
}
