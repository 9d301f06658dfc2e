//! The `cadenza` command line as a user runs it.

use std::process::Output;

use crate::support::{
    arpeggio, assert_clean_error, cadenza, overfitted_tiny_model, pattern_corpus, shared_corpus,
    torch_lock,
};

fn stdout_json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON object")
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

#[test]
fn train_json_then_eval_reproduces_the_validation_loss() {
    let _torch = torch_lock();
    let dir = tempfile::tempdir().expect("temp dir");
    let corpus = dir.path().join("corpus");
    pattern_corpus(&corpus, 3, 20);
    let (corpus, model) = (corpus.to_str().expect("utf-8"), dir.path().join("model"));
    let model = model.to_str().expect("utf-8");
    let small = [
        "--layers",
        "1",
        "--hidden",
        "64",
        "--embed",
        "32",
        "--seq-len",
        "32",
        "--batch",
        "8",
    ];
    let mut args = vec![
        "train",
        "--corpus",
        corpus,
        "--out",
        model,
        "--steps",
        "30",
        "--valid-every",
        "10",
    ];
    args.extend(small);
    args.extend(["--device", "cpu", "--threads", "1", "--json"]);
    let output = cadenza(&args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("every stdout line is JSON"))
        .collect();
    let of_kind = |kind: &str| {
        lines
            .iter()
            .filter(|l| l["event"] == kind)
            .collect::<Vec<_>>()
    };
    let progress = of_kind("progress");
    assert!(!progress.is_empty());
    for field in [
        "step",
        "epoch",
        "train_loss",
        "train_loss_smoothed",
        "tokens_per_s",
        "eta_s",
        "device",
    ] {
        assert!(progress[0].get(field).is_some(), "progress lacks {field}");
    }
    assert_eq!(progress[0]["device"], "cpu");
    assert!(of_kind("valid").iter().any(|v| v["full"] == true));
    assert_eq!(
        of_kind("checkpoint").last().map(|c| c["step"].clone()),
        Some(30.into())
    );
    assert_eq!(of_kind("done")[0]["reason"], "steps");

    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{model}.json")).expect("json"))
            .expect("valid json");
    let checkpoint = format!("{model}.safetensors");
    let eval = stdout_json(&cadenza(&[
        "eval",
        "--checkpoint",
        &checkpoint,
        "--corpus",
        corpus,
        "--split",
        "valid",
        "--json",
        "--per-piece",
        "--device",
        "cpu",
        "--threads",
        "1",
    ]));
    let (ours, theirs) = (
        eval["nll_per_event"].as_f64().expect("nll"),
        recorded["valid_nll"].as_f64().expect("nll"),
    );
    assert!(
        (ours - theirs).abs() < 1e-6,
        "eval {ours} vs checkpoint {theirs}"
    );
    assert_eq!(eval["pieces"], 1);
    assert_eq!(eval["per_piece"].as_array().map(Vec::len), Some(1));
    assert!((eval["perplexity"].as_f64().expect("ppl") - ours.exp()).abs() < 1e-9);
}

#[test]
fn eval_lists_unreadable_files_and_refuses_a_missing_checkpoint() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("bad.mid");
    std::fs::write(&bad, "nope").expect("write");
    let output = cadenza(&[
        "eval",
        "--checkpoint",
        "/nonexistent/model",
        bad.to_str().expect("utf-8"),
    ]);
    assert_clean_error(&output, "nothing to score");
    let good = dir.path().join("good.mid");
    std::fs::write(&good, arpeggio()).expect("write");
    let output = cadenza(&[
        "eval",
        "--checkpoint",
        "/nonexistent/model",
        good.to_str().expect("utf-8"),
    ]);
    assert_clean_error(&output, "/nonexistent/model.json");
}

#[test]
fn train_refuses_bad_input_with_one_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let single = dir.path().join("single");
    std::fs::create_dir(&single).expect("mkdir");
    std::fs::write(single.join("only.mid"), arpeggio()).expect("write");
    let single = single.to_str().expect("utf-8");
    let out = dir.path().join("model");
    let out = out.to_str().expect("utf-8");
    let several = dir.path().join("several");
    pattern_corpus(&several, 3, 4);
    let several = several.to_str().expect("utf-8");
    let train = |corpus: &str, extra: &[&str]| {
        let mut args = vec![
            "train", "--corpus", corpus, "--out", out, "--steps", "1", "--device", "cpu",
        ];
        args.extend(extra);
        cadenza(&args)
    };
    assert_clean_error(&train(single, &[]), "no validation piece");
    assert_clean_error(
        &train(several, &["--resume", "/nonexistent/ckpt"]),
        "/nonexistent/ckpt.json",
    );
    assert_clean_error(&train(several, &["--lr", "0"]), "--lr");
    assert!(!std::path::Path::new(&format!("{out}.json")).exists());
}

#[test]
fn verbose_prints_timestamped_records_on_stderr() {
    let (_, stem) = overfitted_tiny_model();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("take.mid");
    let args = [
        "generate",
        "--checkpoint",
        stem.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
        "--events",
        "10",
        "--seed",
        "1",
        "--device",
        "cpu",
    ];
    let quiet = cadenza(&args);
    assert!(quiet.status.success(), "{quiet:?}");
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains(" INFO "));
    let verbose = cadenza(&[&args[..], &["--verbose"]].concat());
    let stderr = String::from_utf8_lossy(&verbose.stderr);
    let record = stderr
        .lines()
        .find(|line| line.contains(" INFO cadenza_core::compose::request: generating"))
        .unwrap_or_else(|| panic!("no generation record in {stderr}"));
    // "2026-11-27 08:17:25.577 +00:00  INFO …": a local date and time first.
    let stamp: Vec<char> = record.chars().take(19).collect();
    assert!(
        stamp[..4].iter().all(char::is_ascii_digit) && stamp[4] == '-' && stamp[13] == ':',
        "{record}"
    );
}

#[test]
fn a_reader_that_goes_away_ends_inspect_without_a_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    crate::support::pattern_corpus(dir.path(), 3, 4);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cadenza"))
        .args(["inspect", dir.path().to_str().expect("utf-8")])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    // The reader is gone before the first line (as `| head -1` once it has its line): every
    // write fails with a broken pipe.
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(output.status.code(), Some(101), "{stderr}");
}

#[test]
fn ports_and_duet_say_there_is_no_midi_system_where_there_is_none() {
    if std::path::Path::new("/dev/snd/seq").exists() {
        println!("SKIP ports without MIDI: this machine has an ALSA sequencer");
        return;
    }
    let ports = cadenza(&["ports"]);
    assert!(ports.status.success());
    let said = String::from_utf8_lossy(&ports.stdout);
    assert!(said.starts_with("No MIDI ports: no MIDI system"), "{said}");
    let duet = cadenza(&["duet", "--in", "keyboard"]);
    assert_clean_error(&duet, "No MIDI ports: no MIDI system");
}
