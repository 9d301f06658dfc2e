//! Faults a user or a machine can cause, each checked for what the user would notice: a clear
//! one-line error, nothing lost, nothing left behind, no panic.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cadenza_core::checkpoint::{self, SaveStep};
use cadenza_core::encoding::Encoding;
use cadenza_core::generate::Take;
use cadenza_core::model::{EventLstm, Inputs};
use cadenza_core::takes;
use tch::{Device, nn};

use crate::support::{
    TINY, assert_clean_error, cadenza, overfitted_tiny_model, pattern_corpus, take, torch_lock,
};

/// A temporary folder holding a small pattern corpus in `corpus/` (four pieces, each pattern
/// repeated `repeats` times).
fn folder_with_corpus(repeats: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let corpus = dir.path().join("corpus");
    pattern_corpus(&corpus, 4, repeats);
    (dir, corpus)
}

fn first_midi_file(corpus: &Path) -> PathBuf {
    cadenza_core::corpus::find_midi_files(corpus)
        .expect("listed")
        .into_iter()
        .next()
        .expect("a MIDI file")
}

fn text(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// A copy of the overfitted tiny checkpoint at `dir/name`, to damage.
fn copy_of_tiny_checkpoint(dir: &Path, name: &str) -> PathBuf {
    let (_, stem) = overfitted_tiny_model();
    let copy = dir.join(name);
    for path in [checkpoint::weights_path, checkpoint::meta_path] {
        std::fs::copy(path(stem), path(&copy)).expect("copied");
    }
    copy
}

/// Rewrites one field of a checkpoint's JSON.
fn set_meta_field(stem: &Path, pointer: &str, value: serde_json::Value) {
    let path = checkpoint::meta_path(stem);
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    *meta.pointer_mut(pointer).expect("field exists") = value;
    std::fs::write(&path, serde_json::to_vec(&meta).expect("json")).expect("written");
}

/// Every command that loads a checkpoint refuses `stem` with one line naming `expected`.
fn refused_everywhere(stem: &Path, corpus: &Path, out: &Path, expected: &str) {
    let stem = text(stem);
    let generate = cadenza(&[
        "generate",
        "--checkpoint",
        stem,
        "--out",
        &format!("{}.mid", text(out)),
        "--events",
        "10",
        "--device",
        "cpu",
    ]);
    assert_clean_error(&generate, expected);
    let eval = cadenza(&[
        "eval",
        "--checkpoint",
        stem,
        "--corpus",
        text(corpus),
        "--device",
        "cpu",
    ]);
    assert_clean_error(&eval, expected);
    let resume = cadenza(&[
        "train",
        "--corpus",
        text(corpus),
        "--resume",
        stem,
        "--out",
        text(out),
        "--steps",
        "1",
        "--device",
        "cpu",
    ]);
    assert_clean_error(&resume, expected);
}

#[test]
fn impossible_checkpoints_are_refused_by_every_command() {
    let (dir, corpus) = folder_with_corpus(10);
    let out = dir.path().join("out");
    let cases: [(&str, serde_json::Value, &str); 5] = [
        ("/model/layers", 0.into(), "model.layers"),
        ("/model/hidden", (-8).into(), "model.hidden"),
        ("/model/embed", 1_000_000_000_i64.into(), "model.embed"),
        ("/model/dropout", 1.5.into(), "model.dropout"),
        ("/train/batch", 0.into(), "train.batch"),
    ];
    for (index, (pointer, value, expected)) in cases.into_iter().enumerate() {
        let stem = copy_of_tiny_checkpoint(dir.path(), &format!("bad{index}"));
        set_meta_field(&stem, pointer, value);
        refused_everywhere(&stem, &corpus, &out, expected);
    }
    // A truncated weights file.
    let stem = copy_of_tiny_checkpoint(dir.path(), "truncated");
    let weights = checkpoint::weights_path(&stem);
    let bytes = std::fs::read(&weights).expect("read");
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).expect("truncated");
    refused_everywhere(&stem, &corpus, &out, "do not match");
    // Weights of another shape, with a hash that matches them.
    let stem = copy_of_tiny_checkpoint(dir.path(), "reshaped");
    set_meta_field(&stem, "/model/hidden", 24.into());
    refused_everywhere(&stem, &corpus, &out, "reshaped");
    // The largest shape the description allows (4 x 4096 x 4096, 2.2 GB of weights) declared
    // over the tiny weights: refused from the file's size, before anything is allocated.
    let stem = copy_of_tiny_checkpoint(dir.path(), "huge");
    for (pointer, value) in [
        ("/model/layers", 4),
        ("/model/hidden", 4096),
        ("/model/embed", 4096),
    ] {
        set_meta_field(&stem, pointer, value.into());
    }
    let started = Instant::now();
    refused_everywhere(&stem, &corpus, &out, "it declares");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(!checkpoint::meta_path(&out).exists(), "nothing was trained");
}

fn tiny_vars(seed: i64) -> nn::VarStore {
    tch::manual_seed(seed);
    let vars = nn::VarStore::new(Device::Cpu);
    let _model = EventLstm::new(&vars.root(), TINY, Inputs::new(Encoding::CURRENT, None));
    vars
}

#[test]
fn a_save_stopped_at_any_step_leaves_the_old_or_the_new_checkpoint() {
    let (_, tiny) = overfitted_tiny_model();
    let _torch = torch_lock();
    let meta = checkpoint::load_meta(tiny).expect("tiny meta");
    let dir = tempfile::tempdir().expect("temp dir");
    let stem = dir.path().join("model");
    let hash_of = |stem: &Path| checkpoint::load_meta(stem).expect("loads").weights_sha256;
    for stop_at in [
        SaveStep::WeightsWritten,
        SaveStep::MetaWritten,
        SaveStep::WeightsRenamed,
    ] {
        let mut old_meta = meta.clone();
        checkpoint::save(&stem, &tiny_vars(1), &mut old_meta).expect("old saved");
        let old = hash_of(&stem);
        let mut new_meta = meta.clone();
        let stopped =
            checkpoint::save_with_hook(&stem, &tiny_vars(2), &mut new_meta, &mut |step| {
                step != stop_at
            });
        assert!(stopped.is_ok(), "{stopped:?}");
        let loaded = checkpoint::load_model(&stem, Device::Cpu)
            .unwrap_or_else(|err| panic!("nothing loads after stopping at {stop_at:?}: {err}"));
        let expected = if stop_at == SaveStep::WeightsRenamed {
            &new_meta.weights_sha256
        } else {
            &old
        };
        assert_eq!(
            &loaded.meta.weights_sha256, expected,
            "stopped at {stop_at:?}"
        );
    }
}

#[test]
fn takes_survive_a_damaged_file_and_every_save_keeps_a_backup() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("takes.json");
    // Written by the previous version: a plain array. One entry lost a field.
    let mut entries: Vec<serde_json::Value> = (1..=3)
        .map(|seed| serde_json::to_value(take(seed)).expect("json"))
        .collect();
    entries[1].as_object_mut().expect("object").remove("seed");
    std::fs::write(&file, serde_json::to_vec(&entries).expect("json")).expect("written");
    let loaded = takes::load(&file);
    assert_eq!(
        loaded.takes.iter().map(|t| t.seed).collect::<Vec<_>>(),
        [1, 3]
    );
    let problem = loaded.problem.expect("the user is told");
    assert!(problem.contains("1 of 3 takes"), "{problem}");
    let kept_copy = std::fs::read_dir(dir.path())
        .expect("listed")
        .flatten()
        .any(|e| e.file_name().to_string_lossy().contains(".unreadable-"));
    assert!(kept_copy, "the damaged file is kept");

    takes::save(&file, &loaded.takes).expect("saved");
    takes::save(&file, &[take(9)]).expect("saved again");
    assert_eq!(takes::load(&file).takes[0].seed, 9);
    let backup = takes::load(&dir.path().join("takes.json.bak"));
    assert_eq!(backup.takes.len(), 2, "the previous version is the backup");

    // A file that is not JSON at all is moved aside, not overwritten by the next save, and the
    // takes of the backup (the two saved before the last save) are offered instead.
    std::fs::write(&file, b"{ not json").expect("written");
    let loaded = takes::load(&file);
    assert_eq!(
        loaded.takes.iter().map(|t| t.seed).collect::<Vec<_>>(),
        [1, 3]
    );
    let problem = loaded.problem.expect("told");
    assert!(problem.contains("2 more from the backup"), "{problem}");
    assert!(
        problem.contains("the damaged file was kept as"),
        "{problem}"
    );
    assert!(!file.exists());
}

#[test]
fn non_regular_and_huge_inputs_are_refused_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("fifo.mid");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    let sparse = dir.path().join("huge.mid");
    std::fs::File::create(&sparse)
        .and_then(|f| f.set_len(2 << 30))
        .expect("sparse file");
    let wav = dir.path().join("out.wav");
    let (_, tiny) = overfitted_tiny_model();
    for input in ["/dev/zero", text(&fifo)] {
        let started = Instant::now();
        assert_clean_error(
            &cadenza(&["render", input, "--out", text(&wav)]),
            "not a regular file",
        );
        assert_clean_error(
            &cadenza(&[
                "generate",
                "--checkpoint",
                text(tiny),
                "--out",
                text(&dir.path().join("g.mid")),
                "--primer",
                input,
                "--events",
                "5",
                "--device",
                "cpu",
            ]),
            "not a regular file",
        );
        assert_clean_error(
            &cadenza(&["eval", "--checkpoint", text(tiny), input, "--device", "cpu"]),
            "not a regular file",
        );
        assert!(started.elapsed() < Duration::from_secs(30));
    }
    let started = Instant::now();
    assert_clean_error(
        &cadenza(&["inspect", text(&sparse)]),
        "over the 64 MB limit",
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "nothing was read"
    );
}

#[test]
fn out_of_range_numbers_are_refused_before_any_work() {
    let (dir, corpus) = folder_with_corpus(10);
    let midi = first_midi_file(&corpus);
    let out = text(&dir.path().join("m")).to_string();
    let train = |extra: &[&str]| {
        let mut args = vec![
            "train",
            "--corpus",
            text(&corpus),
            "--out",
            &out,
            "--device",
            "cpu",
        ];
        args.extend(extra);
        cadenza(&args)
    };
    assert_clean_error(&train(&["--minutes", "nan"]), "--minutes");
    assert_clean_error(&train(&["--batch", "100000000"]), "--batch");
    assert_clean_error(&train(&["--lr", "inf"]), "--lr");
    let wav = text(&dir.path().join("a.wav")).to_string();
    let render = |extra: &[&str]| {
        let mut args = vec!["render", text(&midi), "--out", &wav];
        args.extend(extra);
        cadenza(&args)
    };
    assert_clean_error(&render(&["--tail", "1e9"]), "tail");
    assert_clean_error(&render(&["--gain", "nan"]), "gain");
    let (_, tiny) = overfitted_tiny_model();
    let generate = cadenza(&[
        "generate",
        "--checkpoint",
        text(tiny),
        "--out",
        text(&dir.path().join("g.mid")),
        "--primer",
        text(&midi),
        "--primer-seconds",
        "nan",
        "--device",
        "cpu",
    ]);
    assert_clean_error(&generate, "primer length");
    assert!(!checkpoint::meta_path(Path::new(&out)).exists());
    assert!(!dir.path().join("a.wav").exists() && !dir.path().join("g.mid").exists());
}

#[test]
fn outputs_that_would_overwrite_an_input_or_cannot_be_written_are_refused() {
    let (dir, corpus) = folder_with_corpus(10);
    let midi = first_midi_file(&corpus);
    let before = std::fs::read(&midi).expect("read");
    assert_clean_error(
        &cadenza(&["render", text(&midi), "--out", text(&midi)]),
        "would overwrite",
    );
    assert_eq!(
        std::fs::read(&midi).expect("read"),
        before,
        "the input is intact"
    );

    // A folder under a regular file cannot exist: refused before the first step.
    let blocker = dir.path().join("file.txt");
    std::fs::write(&blocker, b"x").expect("written");
    let started = Instant::now();
    let train = cadenza(&[
        "train",
        "--corpus",
        text(&corpus),
        "--out",
        text(&blocker.join("model")),
        "--minutes",
        "5",
        "--device",
        "cpu",
    ]);
    assert_clean_error(&train, "file.txt");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "refused before training"
    );
    // A folder given as the checkpoint.
    let folder = format!("{}/", text(dir.path()));
    let train = cadenza(&[
        "train",
        "--corpus",
        text(&corpus),
        "--out",
        &folder,
        "--steps",
        "1",
        "--device",
        "cpu",
    ]);
    assert_clean_error(&train, "folder");
    assert!(!dir.path().join(".json").exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("listed")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|name| name.contains(".tmp") || name.contains(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// `cadenza train` of a tiny model on `corpus` into `out` for ten minutes (it is stopped sooner).
fn ten_minutes_of_tiny_training(corpus: &Path, out: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cadenza"));
    command
        .args(["train", "--corpus", text(corpus), "--out", text(out)])
        .args(TINY_TRAINING)
        .args(["--minutes", "10", "--threads", "1"]);
    command
}

/// A network and windows small enough to train many steps a second on one core.
const TINY_TRAINING: [&str; 12] = [
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
    "--device",
    "cpu",
];

/// Waits for `path` to exist.
fn wait_for_file(path: &Path, limit: Duration) {
    let started = Instant::now();
    while !path.exists() {
        assert!(
            started.elapsed() < limit,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Reads `cadenza train --json` lines until one reports a step taken; the rest are drained on a
/// thread so the trainer never blocks on a full pipe.
fn wait_for_first_step(stdout: std::process::ChildStdout, limit: Duration) {
    use std::io::BufRead;
    let (stepped, told) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("\"event\":\"progress\"") {
                let _ = stepped.send(());
            }
        }
    });
    told.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("no step within {limit:?}"));
}

#[test]
fn one_writer_per_checkpoint_and_sigterm_saves() {
    let (dir, corpus) = folder_with_corpus(20);
    let out = dir.path().join("m");
    let mut first = ten_minutes_of_tiny_training(&corpus, &out)
        .arg("--json")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("first run starts");
    wait_for_file(
        &cadenza_core::files::with_suffix(&out, ".lock"),
        Duration::from_secs(60),
    );
    let second = ten_minutes_of_tiny_training(&corpus, &out)
        .output()
        .expect("second run");
    assert_clean_error(&second, &format!("pid {}", first.id()));
    // Let it take a step (however slowly a busy machine loads libtorch), then stop it the way a
    // session manager does.
    wait_for_first_step(
        first.stdout.take().expect("piped"),
        Duration::from_secs(300),
    );
    // SAFETY: a signal to a child process this test started.
    unsafe { libc::kill(first.id() as i32, libc::SIGTERM) };
    let status = first.wait().expect("first run ends");
    assert!(status.success(), "SIGTERM stops cleanly: {status:?}");
    let meta = checkpoint::load_meta(&out).expect("SIGTERM saved the weights");
    assert!(meta.step > 0);
    assert!(!cadenza_core::files::with_suffix(&out, ".lock").exists());
}

#[test]
fn a_diverged_resume_does_not_replace_a_good_checkpoint() {
    let (corpus, tiny) = overfitted_tiny_model();
    let dir = tempfile::tempdir().expect("temp dir");
    let good = copy_of_tiny_checkpoint(dir.path(), "good");
    let before = checkpoint::load_meta(&good).expect("good");
    let run = cadenza(&[
        "train",
        "--corpus",
        text(corpus),
        "--resume",
        text(&good),
        "--out",
        text(&good),
        "--steps",
        "3",
        "--lr",
        "1e30",
        "--device",
        "cpu",
        "--json",
    ]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    let after = checkpoint::load_meta(&good).expect("still loads");
    assert_eq!(after.weights_sha256, before.weights_sha256, "{stdout}");
    // Whatever the run did (diverged or finished worse), the good checkpoint is untouched, and a
    // failure ends with an error event, then done.
    if !run.status.success() {
        let lines: Vec<serde_json::Value> = stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect();
        let n = lines.len();
        assert!(n >= 2, "{stdout}");
        assert_eq!(lines[n - 2]["event"], "error", "{stdout}");
        assert_eq!(lines[n - 1]["event"], "done", "{stdout}");
    }
    let _ = tiny;
}

#[test]
fn weights_are_rescued_when_the_output_disappears_mid_run() {
    let (dir, corpus) = folder_with_corpus(20);
    let out_folder = dir.path().join("out");
    let out = out_folder.join("m");
    let data = dir.path().join("data");
    let run = ten_minutes_of_tiny_training(&corpus, &out)
        .env("CADENZA_DATA_DIR", &data)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("training starts");
    wait_for_file(
        &cadenza_core::files::with_suffix(&out, ".lock"),
        Duration::from_secs(60),
    );
    // The output folder becomes a file: no save can succeed there any more.
    std::fs::remove_dir_all(&out_folder).expect("removed");
    std::fs::write(&out_folder, b"in the way").expect("written");
    // SAFETY: a signal to a child process this test started.
    unsafe { libc::kill(run.id() as i32, libc::SIGTERM) };
    let output = run.wait_with_output().expect("the run ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the failed save is an error");
    assert!(stderr.contains("saved to"), "{stderr}");
    let rescued: Vec<PathBuf> = std::fs::read_dir(data.join("checkpoints/rescued"))
        .expect("the rescue folder exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(rescued.len(), 1, "{rescued:?}");
    checkpoint::load_model(&rescued[0], Device::Cpu).expect("the rescued weights load");
}

#[test]
fn a_failed_run_exits_1_with_an_error_line_then_done() {
    let (dir, corpus) = folder_with_corpus(10);
    let out = dir.path().join("m");
    // Every update blows the weights up: five skipped steps in fifty end the run as diverged.
    let mut args = vec!["train", "--corpus", text(&corpus), "--out", text(&out)];
    args.extend(["--steps", "200", "--lr", "1e30", "--json"]);
    args.extend(TINY_TRAINING);
    let run = cadenza(&args);
    assert_eq!(run.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&run.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let n = lines.len();
    assert_eq!(lines[n - 2]["event"], "error", "{lines:?}");
    assert!(
        lines[n - 2]["message"]
            .as_str()
            .is_some_and(|m| m.contains("diverged"))
    );
    assert_eq!(lines[n - 1]["event"], "done");
    assert_eq!(lines[n - 1]["reason"], "error");
    assert!(
        !checkpoint::meta_path(&out).exists(),
        "no checkpoint from broken weights"
    );
}

#[test]
fn refusals_name_their_real_cause() {
    let (dir, corpus) = folder_with_corpus(4);
    let (_, tiny) = overfitted_tiny_model();
    let out = dir.path().join("out");
    // The shape of a fine-tune is its checkpoint's: a shape flag is refused, not ignored.
    let train = cadenza(&[
        "train",
        "--corpus",
        text(&corpus),
        "--init",
        text(tiny),
        "--out",
        text(&out),
        "--layers",
        "3",
    ]);
    assert_eq!(train.status.code(), Some(2), "{train:?}");
    assert!(String::from_utf8_lossy(&train.stderr).contains("'--layers"));

    let piece = first_midi_file(&corpus);
    let end_s = cadenza_core::midi::read_file(&piece)
        .expect("reads")
        .duration_s();
    let regenerate = |start: &str, end: &str| {
        cadenza(&[
            "regenerate",
            text(&piece),
            "--checkpoint",
            text(tiny),
            &format!("--start={start}"),
            &format!("--end={end}"),
            "--out",
            text(&dir.path().join("x.mid")),
        ])
    };
    let past_end = format!("{:.2}", end_s + 5.0);
    assert_clean_error(&regenerate("0.5", &past_end), "ends after the take");
    assert_clean_error(&regenerate("10", "4000"), "past the 3600 s a take may last");
    assert_clean_error(&regenerate("-1", "2"), "must start at 0 s or later");

    // Control points before 0 s, in a curve and in the key changes (given out of order).
    let controls = dir.path().join("controls.json");
    for plan in [
        r#"{"density": [{"at_s": -2, "value": 4}]}"#,
        r#"{"key": [{"at_s": 5, "key": null}, {"at_s": -1, "key": null}]}"#,
    ] {
        std::fs::write(&controls, plan).expect("written");
        let generate = cadenza(&[
            "generate",
            "--checkpoint",
            text(tiny),
            "--out",
            text(&dir.path().join("g.mid")),
            "--controls",
            text(&controls),
        ]);
        assert_clean_error(&generate, "before the start");
    }
}

#[test]
fn takes_in_a_cycle_of_versions_are_kept_and_a_fifo_is_not_waited_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("takes.json");
    // 1 made from 3, 3 made from 2, 2 made from 1; 4 a root.
    let takes: Vec<Take> = [(1, 3), (2, 1), (3, 2), (4, 0)]
        .map(|(id, parent)| Take {
            id,
            parent: (parent > 0).then_some(parent),
            ..take(id)
        })
        .to_vec();
    takes::save(&file, &takes).expect("saved");
    let loaded = takes::load(&file);
    assert_eq!(loaded.takes.len(), 4);
    assert_eq!(
        loaded.takes.iter().filter(|t| t.parent.is_none()).count(),
        2
    );
    let problem = loaded.problem.expect("told");
    assert!(problem.contains("1 chain(s) of versions"), "{problem}");

    let fifo = dir.path().join("fifo.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let started = Instant::now();
    let loaded = takes::load(&fifo);
    assert!(loaded.takes.is_empty());
    assert!(loaded.problem.expect("told").contains("not a regular file"));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_takes_file_cut_short_keeps_its_complete_takes_and_the_backup_adds_the_rest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("takes.json");
    let mut list: Vec<Take> = (1..=5).map(take).collect();
    takes::assign_ids(&mut list);
    takes::save(&file, &list).expect("saved");
    list.push(Take { id: 6, ..take(6) });
    // This save keeps the five-take file as the backup.
    takes::save(&file, &list).expect("saved");
    // The newest file is cut in the middle of its fourth take, as a save that did not finish.
    let bytes = std::fs::read(&file).expect("read");
    let fourth = String::from_utf8_lossy(&bytes)
        .match_indices("\"seed\":4")
        .next()
        .expect("take 4")
        .0;
    std::fs::write(&file, &bytes[..fourth]).expect("cut");
    let loaded = takes::load(&file);
    let seeds: Vec<u64> = loaded.takes.iter().map(|t| t.seed).collect();
    assert_eq!(
        seeds,
        [1, 2, 3, 4, 5],
        "three complete takes, two from the backup"
    );
    let problem = loaded.problem.expect("told");
    assert!(problem.contains("ends partway"), "{problem}");
    assert!(
        problem.contains("3 complete takes were recovered from it and 2 more from the backup"),
        "{problem}"
    );
    assert!(!problem.contains("EOF while parsing"), "{problem}");
}
