//! The `cadenza` command line as a user runs it.

use std::process::{Command, Output};

use crate::support::{arpeggio, shared_corpus};

fn cadenza(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cadenza"))
        .args(args)
        .output()
        .expect("cadenza runs")
}

fn stdout_json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON object")
}

/// A failed command: non-zero exit, one line on stderr naming the problem, no panic.
fn assert_clean_error(output: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains(expected),
        "{stderr:?} should mention {expected:?}"
    );
    assert!(!stderr.contains("panicked"));
}

#[test]
fn demo_corpus_is_written_and_inspected() {
    let dir = tempfile::tempdir().expect("temp dir");
    let demo = dir.path().join("demo");
    let demo = demo.to_str().expect("utf-8 path");
    assert!(cadenza(&["demo-corpus", demo]).status.success());
    let summary = stdout_json(&cadenza(&["inspect", demo, "--json"]));
    assert_eq!(summary["files"], 32);
    assert_eq!(summary["parsed"], 32);
    let composers = summary["composers"].as_object().expect("composers object");
    assert_eq!(composers.len(), 4);
    assert!(summary["duration_s"].as_f64().expect("number") > 32.0 * 15.0);
    let histogram: f64 = summary["pitch_class_histogram"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|v| v.as_f64())
        .sum();
    assert!((histogram - 1.0).abs() < 1e-9);
}

#[test]
fn inspect_file_json_has_the_folder_shape() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("arp.mid");
    std::fs::write(&file, arpeggio()).expect("write");
    let summary = stdout_json(&cadenza(&[
        "inspect",
        file.to_str().expect("utf-8"),
        "--json",
    ]));
    for field in [
        "files",
        "parsed",
        "skipped",
        "notes",
        "events",
        "duration_s",
        "composers",
        "pitch_min",
        "pitch_max",
        "pitch_class_histogram",
    ] {
        assert!(summary.get(field).is_some(), "missing {field}");
    }
    assert_eq!(
        (summary["files"].as_u64(), summary["notes"].as_u64()),
        (Some(1), Some(4))
    );
    assert_eq!(
        (summary["pitch_min"].as_u64(), summary["pitch_max"].as_u64()),
        (Some(60), Some(72))
    );
    assert_eq!(summary["duration_s"].as_f64(), Some(2.0));
}

#[test]
fn inspect_notes_prints_csv() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("arp.mid");
    std::fs::write(&file, arpeggio()).expect("write");
    let output = cadenza(&["inspect", file.to_str().expect("utf-8"), "--notes"]);
    assert!(output.status.success());
    let csv = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "pitch,start_s,end_s,velocity");
    assert_eq!(lines[2], "64,0.500000,1.000000,90");
    assert_eq!(lines.len(), 5);
}

#[test]
fn bad_input_gives_one_clear_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = |name: &str| dir.path().join(name).to_str().expect("utf-8").to_string();
    assert_clean_error(&cadenza(&["inspect", &path("missing.mid")]), "no such file");
    std::fs::write(path("text.mid"), "hello, I am not music").expect("write");
    assert_clean_error(&cadenza(&["inspect", &path("text.mid")]), "not a MIDI file");
    let bytes = arpeggio();
    std::fs::write(path("cut.mid"), &bytes[..bytes.len() - 4]).expect("write");
    assert_clean_error(
        &cadenza(&["inspect", &path("cut.mid"), "--json"]),
        "truncated",
    );
    std::fs::create_dir(path("empty")).expect("mkdir");
    assert_clean_error(&cadenza(&["inspect", &path("empty")]), "no MIDI files");
}

#[test]
fn version_is_printed() {
    let output = cadenza(&["--version"]);
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("cadenza 0."));
}

#[test]
fn inspect_shared_corpus_reports_every_file() {
    let Some(dir) = shared_corpus("inspect_shared_corpus_reports_every_file") else {
        return;
    };
    let summary = stdout_json(&cadenza(&[
        "inspect",
        dir.to_str().expect("utf-8"),
        "--json",
    ]));
    assert_eq!(summary["parsed"], 337);
    assert_eq!(summary["skipped"].as_array().map(Vec::len), Some(0));
}
