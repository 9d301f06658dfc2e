//! No command overwrites a file it reads or writes into the shipped starter model's folder,
//! however the paths are spelled; a new training run does not replace an existing checkpoint
//! unless asked to. One test per command.

use std::path::{Path, PathBuf};

use cadenza_core::checkpoint;

use crate::support::{assert_clean_error, cadenza, overfitted_tiny_model, pattern_corpus};

fn text(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// A copy of the overfitted tiny checkpoint at `dir/name`.
fn tiny_copy(dir: &Path, name: &str) -> PathBuf {
    let (_, stem) = overfitted_tiny_model();
    let copy = dir.join(name);
    for (from, to) in checkpoint::files(stem).iter().zip(checkpoint::files(&copy)) {
        std::fs::copy(from, to).expect("copied");
    }
    copy
}

/// Both files of a checkpoint, to compare before and after.
fn contents(stem: &Path) -> Vec<Vec<u8>> {
    checkpoint::files(stem)
        .iter()
        .map(|f| std::fs::read(f).expect("read"))
        .collect()
}

/// The shipped starter model in the source tree.
fn shipped_starter() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/models/starter")
}

/// Runs `cadenza` in `dir`.
fn cadenza_in(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_cadenza"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("cadenza runs")
}

/// Runs `cadenza train --corpus CORPUS ARGS` in `dir`.
fn train_in(dir: &Path, corpus: &Path, args: &[&str]) -> std::process::Output {
    let corpus = text(corpus);
    cadenza_in(dir, &[&["train", "--corpus", corpus][..], args].concat())
}

/// Checks the starter is untouched after `run`, and restores it if a regression wrote over it.
fn starter_survives(run: impl FnOnce()) {
    let starter = shipped_starter();
    let before = contents(&starter);
    run();
    let after = contents(&starter);
    if after != before {
        for (file, bytes) in checkpoint::files(&starter).iter().zip(&before) {
            std::fs::write(file, bytes).expect("restored");
        }
        panic!("the shipped starter was overwritten (restored)");
    }
}

#[test]
fn generate_refuses_to_write_over_its_checkpoint_or_into_the_starter_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tiny = tiny_copy(dir.path(), "tiny");
    let before = contents(&tiny);
    let out = checkpoint::meta_path(&tiny);
    let generated = cadenza(&[
        "generate",
        "--checkpoint",
        text(&tiny),
        "--out",
        text(&out),
        "--events",
        "20",
    ]);
    assert_clean_error(&generated, "which this command reads");
    assert_eq!(contents(&tiny), before, "the checkpoint is intact");

    starter_survives(|| {
        let into_starter = checkpoint::meta_path(&shipped_starter());
        let generated = cadenza(&[
            "generate",
            "--checkpoint",
            "starter",
            "--out",
            text(&into_starter),
            "--events",
            "20",
        ]);
        assert_clean_error(&generated, "would overwrite");
        let beside = shipped_starter().with_file_name("take.mid");
        let generated = cadenza(&[
            "generate",
            "--checkpoint",
            "starter",
            "--out",
            text(&beside),
            "--events",
            "20",
        ]);
        assert_clean_error(&generated, "never written");
        assert!(!beside.exists());
    });
}

#[test]
fn regenerate_refuses_to_write_over_its_checkpoint() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tiny = tiny_copy(dir.path(), "m");
    let piece = dir.path().join("x.mid");
    pattern_corpus(&dir.path().join("corpus"), 1, 4);
    std::fs::copy(dir.path().join("corpus/Patterns/pattern0.mid"), &piece).expect("copied");
    let before = contents(&tiny);
    let regenerated = cadenza(&[
        "regenerate",
        text(&piece),
        "--checkpoint",
        text(&tiny),
        "--start",
        "0.5",
        "--end",
        "1",
        "--out",
        text(&checkpoint::meta_path(&tiny)),
    ]);
    assert_clean_error(&regenerated, "which this command reads");
    assert_eq!(contents(&tiny), before);
}

#[test]
fn render_refuses_to_write_over_its_soundfont() {
    let dir = tempfile::tempdir().expect("temp dir");
    pattern_corpus(&dir.path().join("corpus"), 1, 2);
    let piece = dir.path().join("corpus/Patterns/pattern0.mid");
    let soundfont = dir.path().join("font.sf2");
    std::fs::write(&soundfont, crate::support::soundfont::tiny_soundfont()).expect("written");
    let rendered = cadenza(&[
        "render",
        text(&piece),
        "--soundfont",
        text(&soundfont),
        "--out",
        text(&dir.path().join(".").join("font.sf2")),
    ]);
    assert_clean_error(&rendered, "which this command reads");
    assert_eq!(
        std::fs::read(&soundfont).expect("read"),
        crate::support::soundfont::tiny_soundfont()
    );
}

#[test]
fn train_refuses_outputs_that_are_its_inputs_however_spelled_and_existing_checkpoints() {
    let dir = tempfile::tempdir().expect("temp dir");
    let corpus = dir.path().join("corpus");
    pattern_corpus(&corpus, 2, 4);
    let ck = dir.path().join("ck");
    std::fs::create_dir(&ck).expect("mkdir");
    let tiny = tiny_copy(&ck, "tiny");
    let before = contents(&tiny);

    // From inside ck/, the absolute --init and the bare --out are one checkpoint.
    let fine_tune = train_in(
        &ck,
        &corpus,
        &["--init", text(&tiny), "--out", "tiny", "--steps", "1"],
    );
    assert_clean_error(&fine_tune, "starts from");
    // A new run into an existing checkpoint, without asking to replace it.
    let new_run = train_in(&ck, &corpus, &["--out", "tiny", "--steps", "1"]);
    assert_clean_error(&new_run, "already holds a checkpoint");
    assert_eq!(contents(&tiny), before, "the checkpoint is intact");

    // From inside the starter's folder, a fine-tune of the starter into a bare name.
    starter_survives(|| {
        let models = shipped_starter().parent().expect("folder").to_path_buf();
        let into_starter = train_in(
            &models,
            &corpus,
            &["--init", "starter", "--out", "starter", "--steps", "1"],
        );
        assert_clean_error(&into_starter, "starter");
        let beside = train_in(
            &models,
            &corpus,
            &["--init", "starter", "--out", "mine", "--steps", "1"],
        );
        assert_clean_error(&beside, "never written");
        assert!(!models.join("mine.json").exists());
    });
}
