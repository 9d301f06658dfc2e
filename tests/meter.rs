//! The bar grid: read from a file's tempo map and time signatures, laid out from a request,
//! fed to the network beside each event, and written back into exported files.

use cadenza_core::controls::{
    CONTROL_INPUTS, ControlPlan, ControlTrack, Curve, CurvePoint, MeterChange,
};
use cadenza_core::encoding::{self, Event};
use cadenza_core::midi::{self, Note, Piece};
use cadenza_core::music::meter::Grid;
use cadenza_core::music::meter_inputs::MeterValues;
use cadenza_core::music::quantize::Quantize;
use cadenza_core::music::time_signature::TimeSignature;

use crate::support::fixtures;
use crate::support::*;

fn signature(text: &str) -> TimeSignature {
    text.parse().expect("a time signature")
}

/// A plan in 3/4 turning to 6/8 at `change_s`, at `tempo`.
fn three_four_then_six_eight(tempo: Curve, change_s: f64) -> ControlPlan {
    ControlPlan {
        tempo,
        meter: vec![
            MeterChange {
                at_s: 0.0,
                signature: signature("3/4"),
            },
            MeterChange {
                at_s: change_s,
                signature: signature("6/8"),
            },
        ],
        ..ControlPlan::default()
    }
}

/// Notes on the beats and off-beat eighths of `grid`, for `beats` beats.
fn notes_on(grid: &Grid, beats: usize) -> Vec<Note> {
    (0..beats * 2)
        .map(|half| {
            let start_s = grid.time_of(half as f64 / 2.0);
            Note {
                pitch: 60 + (half % 12) as u8,
                start_s,
                end_s: grid.time_of(half as f64 / 2.0 + 0.4),
                velocity: 50 + (half % 40) as u8,
            }
        })
        .collect()
}

#[test]
fn a_file_s_tempo_map_and_time_signatures_lay_out_its_bars() {
    // Two bars of 3/4 at 120 bpm, then 6/8 (two dotted-quarter beats a bar) at 60 bpm.
    let conductor = vec![
        (0, tempo(500_000)),
        (0, time_signature(3, 2)),
        (2880, time_signature(6, 3)),
        (0, tempo(1_000_000)),
    ];
    let mut notes = Vec::new();
    for _ in 0..6 {
        notes.push((0, note_on(0, 60, 80)));
        notes.push((480, note_off(0, 60)));
    }
    for _ in 0..4 {
        notes.push((0, note_on(0, 62, 80)));
        notes.push((720, note_off(0, 62)));
    }
    let piece = midi::read_bytes(&smf(480, &[conductor, notes])).expect("parses");
    let grid = piece.usable_grid().expect("every onset is on a beat");
    let beats = grid.beats();
    assert_eq!(beats[3].bar, 1);
    assert!((beats[3].at_s - 1.5).abs() < 1e-9);
    assert_eq!(beats[6].signature, signature("6/8"));
    assert_eq!((beats[6].bar, beats[6].in_bar), (2, 0));
    // A dotted quarter at 60 quarters per minute lasts 1.5 s.
    assert!((beats[7].at_s - beats[6].at_s - 1.5).abs() < 1e-9);
    assert_eq!(piece.grid_fit(), Some(1.0));
}

#[test]
fn music_off_its_files_grid_has_no_usable_grid() {
    // Onsets every 0.3 beats at 120 bpm: a performance saved at a nominal tempo.
    let mut notes = Vec::new();
    for _ in 0..20 {
        notes.push((0, note_on(0, 60, 80)));
        notes.push((144, note_off(0, 60)));
    }
    let piece = midi::read_bytes(&smf(480, &[vec![(0, tempo(500_000))], notes])).expect("parses");
    assert!(piece.grid.is_some());
    assert!(piece.usable_grid().is_none(), "fit {:?}", piece.grid_fit());
}

#[test]
fn an_export_carries_its_tempo_map_and_meter_change() {
    // A ritardando from 100 to 70 bpm, 3/4 turning to 6/8 after 6 s.
    let ritardando = Curve(vec![
        CurvePoint {
            at_s: 0.0,
            value: 100.0,
        },
        CurvePoint {
            at_s: 12.0,
            value: 70.0,
        },
    ]);
    let plan = three_four_then_six_eight(ritardando, 6.0);
    let grid = plan.grid(14.0).expect("a grid was asked for");
    let piece = Piece {
        grid: Some(grid.clone()),
        ..Piece::from_notes(notes_on(&grid, 18))
    };
    let read = midi::read_bytes(&midi::write_bytes(&piece, None)).expect("reads back");
    let read_grid = read.grid.as_ref().expect("a metrical file");
    for (written, back) in grid.beats().iter().zip(read_grid.beats()).take(18) {
        assert!(
            (written.at_s - back.at_s).abs() < 2e-3,
            "{written:?} {back:?}"
        );
        assert_eq!(
            (written.bar, written.in_bar, written.signature),
            (back.bar, back.in_bar, back.signature)
        );
    }
    assert!(
        read_grid
            .beats()
            .iter()
            .any(|b| b.signature == signature("6/8"))
    );
    assert_eq!(read.grid_fit(), Some(1.0));
    for (written, back) in piece.notes.iter().zip(&read.notes) {
        assert!((written.start_s - back.start_s).abs() < 2e-3);
    }
}

#[test]
fn metrical_inputs_match_a_recomputation_from_elapsed_time() {
    let grid = Grid::steady(84.0, signature("6/8"), 20.0);
    let piece = Piece {
        grid: Some(grid.clone()),
        ..Piece::from_notes(notes_on(&grid, 12))
    };
    let events = encoding::encode_piece(&piece);
    let track = ControlTrack::of_events(&events, Some(&grid));
    let mut now_s = 0.0;
    for (i, &id) in events.iter().enumerate() {
        let expected = MeterValues::at(&grid, now_s);
        assert_eq!(track.values(i, 0).meter, Some(expected), "event {i}");
        if let Some(Event::TimeShift(steps)) = Event::from_id(id) {
            now_s += f64::from(steps) * encoding::STEP_S;
        }
    }
    assert!(
        ControlTrack::of_events(&events, None)
            .values(0, 0)
            .meter
            .is_none()
    );
}

#[test]
fn quantizing_an_export_moves_notes_onto_the_grid_by_the_share_asked() {
    let grid = Grid::steady(90.0, signature("3/4"), 10.0);
    let beat_s = 60.0 / 90.0;
    let late = Note {
        pitch: 60,
        start_s: beat_s + 0.05,
        end_s: 2.0 * beat_s + 0.05,
        velocity: 70,
    };
    let piece = Piece {
        grid: Some(grid),
        ..Piece::from_notes(vec![late])
    };
    let full = Quantize::new(1.0).apply(&piece);
    assert!((full.notes[0].start_s - beat_s).abs() < 1e-9);
    let half = Quantize::new(0.5).apply(&piece);
    assert!((half.notes[0].start_s - (beat_s + 0.025)).abs() < 1e-9);
    assert_eq!(Quantize::NONE.apply(&piece).notes, piece.notes);
}

#[test]
fn a_plan_for_a_model_without_the_grid_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let old = dir.path().join("old");
    let stem = older_copy(&tiny_steerable_model(dir.path()), &old, CONTROL_INPUTS);
    let out = dir.path().join("take.mid");
    let refused = generate_into(&stem, &out, &["--events", "20", "--tempo", "90"]);
    assert_clean_error(&refused, "trained before Cadenza had a bar grid");
    let plain = generate_into(&stem, &out, &["--events", "20"]);
    assert!(plain.status.success(), "{plain:?}");
}

#[test]
fn generate_writes_the_tempo_and_meter_asked_for() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stem = tiny_steerable_model(dir.path());
    let out = dir.path().join("take.mid");
    let generated = generate_into(
        &stem,
        &out,
        &[
            "--seconds",
            "4",
            "--tempo",
            "90",
            "--meter",
            "3/4",
            "--seed",
            "3",
        ],
    );
    assert!(generated.status.success(), "{generated:?}");
    let piece = midi::read_file(&out).expect("reads back");
    let grid = piece.grid.expect("metrical");
    let first = grid.beats()[0];
    assert_eq!(first.signature, signature("3/4"));
    assert!((grid.beats()[1].at_s - 60.0 / 90.0).abs() < 1e-3);
    let bad = generate_into(&stem, &out, &["--meter", "3/5"]);
    // clap refuses it before Cadenza runs, with its usage lines.
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("a power of two up to 64"), "{stderr}");
}

#[test]
fn a_length_in_bars_ends_the_take_on_a_bar_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stem = tiny_steerable_model(dir.path());
    let out = dir.path().join("take.mid");
    let args = [
        "--bars", "2", "--tempo", "90", "--meter", "3/4", "--seed", "3",
    ];
    let generated = generate_into(&stem, &out, &args);
    assert!(generated.status.success(), "{generated:?}");
    // Two bars of 3/4 at 90 bpm: 4 s, where bar 3 begins.
    let stdout = String::from_utf8_lossy(&generated.stdout);
    assert!(stdout.contains(", 4.0 s,"), "{stdout}");
    let piece = midi::read_file(&out).expect("reads back");
    let end_s = piece.notes.iter().map(|n| n.end_s).fold(0.0, f64::max);
    assert!(
        end_s <= 4.0 + 1e-3,
        "nothing sounds past the bar line: {end_s}"
    );
    // Without a tempo or meter the bars are the defaults' (90 bpm in 4/4): two bars, 16/3 s.
    let defaulted = generate_into(&stem, &out, &["--bars", "2", "--seed", "3"]);
    assert!(defaulted.status.success(), "{defaulted:?}");
    let piece = midi::read_file(&out).expect("reads back");
    let end_s = piece.notes.iter().map(|n| n.end_s).fold(0.0, f64::max);
    assert!(
        end_s <= 16.0 / 3.0 + 1e-3,
        "two bars of 4/4 at 90 bpm: {end_s}"
    );
    assert_eq!(
        piece.grid.expect("in bars").beats()[0]
            .signature
            .to_string(),
        "4/4"
    );
}

#[test]
fn takes_saved_before_the_grid_load_without_one() {
    let mut value = serde_json::to_value(take(4)).expect("serialises");
    value.as_object_mut().expect("an object").remove("grid");
    let take: cadenza_core::generate::Take = serde_json::from_value(value).expect("loads");
    assert!(take.grid.is_none());
}

#[derive(serde::Deserialize)]
struct ReferenceGrid {
    path: String,
    #[serde(default)]
    beats: Vec<f64>,
    #[serde(default)]
    downbeats: Vec<f64>,
    #[serde(default)]
    end: f64,
    error: Option<String>,
}

/// pretty_midi's beats and downbeats of `files` (up to each file's last release).
fn pretty_midi_grids(files: &[std::path::PathBuf]) -> Vec<ReferenceGrid> {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/reference/pretty_midi_beats.py");
    let output = fixtures::python()
        .arg(script)
        .args(files)
        .output()
        .expect("python3 runs");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

/// Our grid of `reference.path` against pretty_midi's: every beat and downbeat up to the last
/// release within 1 ms.
fn compare_grid(reference: &ReferenceGrid) -> Result<(), String> {
    if let Some(error) = &reference.error {
        return Err(format!("pretty_midi refuses it: {error}"));
    }
    let piece =
        midi::read_file(std::path::Path::new(&reference.path)).map_err(|e| e.to_string())?;
    let grid = piece.grid.ok_or("no grid read")?;
    let ours: Vec<f64> = (0..)
        .map(|b| grid.time_of(f64::from(b)))
        .take_while(|&t| t <= reference.end)
        .collect();
    let downbeats: Vec<f64> = grid
        .downbeats(reference.end)
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    for (name, ours, theirs) in [
        ("beats", &ours, &reference.beats),
        ("downbeats", &downbeats, &reference.downbeats),
    ] {
        // A beat within float noise of the end may fall on either side of it.
        if ours.len().abs_diff(theirs.len()) > 1 {
            return Err(format!(
                "{} {name}, pretty_midi has {}",
                ours.len(),
                theirs.len()
            ));
        }
        if let Some((a, b)) = ours
            .iter()
            .zip(theirs)
            .find(|(a, b)| (*a - *b).abs() > 1e-3)
        {
            return Err(format!("{name}: {a} s where pretty_midi has {b} s"));
        }
    }
    Ok(())
}

#[test]
fn the_corpus_s_bar_grids_match_pretty_midi_s_beats_and_downbeats() {
    let Some(dir) = shared_corpus("corpus bar grids against pretty_midi") else {
        return;
    };
    if !fixtures::pretty_midi_available("corpus bar grids against pretty_midi") {
        return;
    }
    let corpus = cadenza_core::corpus::load_dir(&dir, &|_| {}).expect("corpus loads");
    let files: Vec<_> = corpus.pieces.iter().map(|p| p.path.clone()).collect();
    let failures: Vec<String> = pretty_midi_grids(&files)
        .iter()
        .filter_map(|r| compare_grid(r).err().map(|e| format!("{}: {e}", r.path)))
        .collect();
    assert!(
        failures.is_empty(),
        "{} files differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn an_export_in_three_four_at_ninety_reads_as_such_in_pretty_midi() {
    if !fixtures::pretty_midi_available("an export read by pretty_midi") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let plan = three_four_then_six_eight(Curve::constant(90.0), 8.0);
    let grid = plan.grid(16.0).expect("a grid");
    let piece = Piece {
        grid: Some(grid),
        ..Piece::from_notes(notes_on(&Grid::steady(90.0, signature("3/4"), 16.0), 20))
    };
    let path = dir.path().join("take.mid");
    midi::write_file(&piece, &path, None).expect("written");
    let reference = &pretty_midi_grids(std::slice::from_ref(&path))[0];
    compare_grid(reference).expect("the same bars");
    // 3/4 at 90: a bar every 2 s until the change.
    assert!((reference.downbeats[1] - 2.0).abs() < 1e-3);
}

#[test]
fn takes_record_the_assist_they_were_made_with_and_every_path_takes_it() {
    let (_, stem) = steerable_tiny_model();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("alone.mid");
    let generated = generate_into(
        stem,
        &out,
        &["--assist", "none", "--bars", "2", "--seed", "4", "--json"],
    );
    assert!(generated.status.success(), "{generated:?}");
    let line = String::from_utf8_lossy(&generated.stdout);
    assert!(line.contains("\"assist\":\"none\""), "{line}");
    // The file says how it was made: its settings carry the assist.
    let text = std::fs::read(&out).expect("written");
    let text = String::from_utf8_lossy(&text);
    assert!(
        text.contains("\"assist\":{"),
        "the settings in the file: {text}"
    );
    assert!(text.contains("\"keep_time\":0.0"), "{text}");
    // Redoing a passage takes the same flag.
    let redone = cadenza(&[
        "regenerate",
        out.to_str().expect("utf-8"),
        "--checkpoint",
        stem.to_str().expect("utf-8"),
        "--start",
        "0.5",
        "--end",
        "2.5",
        "--assist",
        "light",
        "--seed",
        "4",
        "--out",
        dir.path().join("redone.mid").to_str().expect("utf-8"),
    ]);
    assert!(redone.status.success(), "{redone:?}");
    // An unknown assist is refused by the argument parser, naming those there are.
    let refused = generate_into(stem, &out, &["--assist", "loud"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("none, light, strong"), "{stderr}");
}

#[test]
fn takes_saved_before_the_assist_load_as_made_with_the_strong_one() {
    let mut value = serde_json::to_value(take(4)).expect("serialises");
    let settings = value["settings"]
        .as_object_mut()
        .expect("settings are an object");
    assert!(settings.remove("assist").is_some(), "written today");
    let take: cadenza_core::generate::Take = serde_json::from_value(value).expect("loads");
    assert_eq!(take.settings.assist, cadenza_core::generate::Assist::STRONG);
}
