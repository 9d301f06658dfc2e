//! The starter model that ships in `assets/models/`, and fine-tuning (`train --init`): the shape
//! is kept, new composers become style rows, the starting checkpoint is never written.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use cadenza_core::checkpoint::{self, CheckpointError};
use cadenza_core::starter;
use tch::Tensor;

use crate::support::{
    assert_clean_error, cadenza, eighths_corpus, generate_into, older_copy, pattern_corpus,
    tiny_steerable_model,
};

/// A corpus with a composer the tiny model knows ("Patterns") and one it does not ("Etudes").
fn two_composer_corpus(dir: &Path) -> PathBuf {
    let corpus = dir.join("new-corpus");
    pattern_corpus(&corpus, 2, 20);
    let staging = dir.join("staging");
    pattern_corpus(&staging, 2, 20);
    std::fs::rename(staging.join("Patterns"), corpus.join("Etudes")).expect("renamed");
    corpus
}

fn weights(stem: &Path) -> HashMap<String, Tensor> {
    Tensor::read_safetensors(checkpoint::weights_path(stem))
        .expect("weights read")
        .into_iter()
        .collect()
}

/// `cadenza train --init FROM` on `corpus` for `steps` steps, the tiny shape's window.
fn fine_tune(from: &str, corpus: &Path, out: &Path, steps: &str) -> std::process::Output {
    cadenza(&[
        "train",
        "--init",
        from,
        "--corpus",
        corpus.to_str().expect("utf-8"),
        "--out",
        out.to_str().expect("utf-8"),
        "--steps",
        steps,
        "--seq-len",
        "32",
        "--batch",
        "4",
        "--device",
        "cpu",
    ])
}

/// The tiny steerable model as an older Cadenza saved it, with `inputs` control inputs.
fn older_tiny_model(dir: &Path, inputs: usize) -> PathBuf {
    older_copy(&tiny_steerable_model(dir), &dir.join("old"), inputs)
}

/// `old` fine-tuned on `corpus` for no steps into `dir`/tuned (grown, converted, validated):
/// its stem and description.
fn tuned_at_step_zero(
    old: &Path,
    corpus: &Path,
    dir: &Path,
) -> (PathBuf, checkpoint::CheckpointMeta) {
    let tuned = dir.join("tuned");
    let output = fine_tune(old.to_str().expect("utf-8"), corpus, &tuned, "0");
    assert!(output.status.success(), "{output:?}");
    let meta = checkpoint::load_meta(&tuned).expect("meta");
    (tuned, meta)
}

/// `cadenza generate` of 40 events in `style` on the CPU, seed 1, into `out`; asserts it worked.
fn generate_take(checkpoint: &str, style: &str, out: &Path) {
    let generated = cadenza(&[
        "generate",
        "--checkpoint",
        checkpoint,
        "--style",
        style,
        "--events",
        "40",
        "--seed",
        "1",
        "--device",
        "cpu",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(generated.status.success(), "{generated:?}");
}

#[test]
fn fine_tuning_keeps_the_shape_and_appends_new_composers_as_styles() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tiny = tiny_steerable_model(dir.path());
    let corpus = two_composer_corpus(dir.path());
    let before = checkpoint::load_meta(&tiny).expect("meta");
    let tiny_hash = checkpoint::sha256_file(&checkpoint::weights_path(&tiny)).expect("hash");

    // No step yet: the weights are the checkpoint's, plus a row for "Etudes" copied from "any".
    let out = dir.path().join("tuned");
    let tuned = fine_tune(tiny.to_str().expect("utf-8"), &corpus, &out, "0");
    assert!(tuned.status.success(), "{tuned:?}");
    let meta = checkpoint::load_meta(&out).expect("meta");
    assert_eq!(meta.model, before.model, "the shape is kept");
    let styles = &meta.controls.as_ref().expect("controls kept").styles;
    assert_eq!(styles, &["Patterns".to_string(), "Etudes".to_string()]);
    assert_eq!(meta.step, 0, "a fine-tune counts its own steps");
    assert_eq!(meta.train.lr, 1e-4, "fine-tuning's learning rate");
    let origin = meta.provenance.initialized_from.as_deref().unwrap_or("");
    assert!(origin.contains(&tiny_hash), "{origin}");
    assert_ne!(meta.corpus.fingerprint, before.corpus.fingerprint);
    let (old, new) = (weights(&tiny), weights(&out));
    assert_eq!(old.len(), new.len());
    for (name, tensor) in &old {
        let grown = &new[name];
        if name == "style.weight" {
            assert_eq!(grown.size(), [3, tensor.size()[1]], "any, Patterns, Etudes");
            assert!(grown.narrow(0, 0, 2).equal(tensor), "known rows kept");
            assert!(
                grown.get(2).equal(&tensor.get(0)),
                "the new row starts as 'any'"
            );
        } else {
            assert!(grown.equal(tensor), "{name} changed");
        }
    }
    assert_eq!(
        checkpoint::sha256_file(&checkpoint::weights_path(&tiny)).expect("hash"),
        tiny_hash,
        "the starting checkpoint is only read"
    );

    // A few steps train, and the tuned model steers by its new composer.
    let stepped = dir.path().join("stepped");
    let tuned = fine_tune(tiny.to_str().expect("utf-8"), &corpus, &stepped, "3");
    assert!(tuned.status.success(), "{tuned:?}");
    assert_eq!(checkpoint::load_meta(&stepped).expect("meta").step, 3);
    let take = dir.path().join("take.mid");
    generate_take(stepped.to_str().expect("utf-8"), "Etudes", &take);
}

#[test]
fn a_fine_tune_never_writes_over_where_it_starts_and_does_not_mix_with_resume() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tiny = tiny_steerable_model(dir.path());
    let corpus = dir.path().join("corpus");
    let tiny_arg = tiny.to_str().expect("utf-8");
    let into_itself = fine_tune(tiny_arg, &corpus, &tiny, "1");
    assert_clean_error(&into_itself, "is the checkpoint the run starts from");
    let both = cadenza(&[
        "train",
        "--init",
        tiny_arg,
        "--resume",
        tiny_arg,
        "--corpus",
        corpus.to_str().expect("utf-8"),
        "--out",
        dir.path().join("x").to_str().expect("utf-8"),
    ]);
    assert!(!both.status.success());
    assert!(
        String::from_utf8_lossy(&both.stderr).contains("cannot be used with"),
        "{both:?}"
    );
}

#[test]
fn a_damaged_starter_is_refused_by_name() {
    let Some(shipped) = starter::find() else {
        panic!("the starter model is part of the repository: assets/models/starter.*");
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join("starter");
    for path in [checkpoint::weights_path, checkpoint::meta_path] {
        std::fs::copy(path(&shipped), path(&copy)).expect("copied");
    }
    checkpoint::verify_shipped(&copy).expect("an intact copy is the shipped starter");
    let weights = checkpoint::weights_path(&copy);
    let mut bytes = std::fs::read(&weights).expect("read");
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    std::fs::write(&weights, bytes).expect("written");
    assert!(matches!(
        checkpoint::verify_shipped(&copy),
        Err(CheckpointError::NotShipped { .. })
    ));
    let loaded = checkpoint::load_model(&copy, tch::Device::Cpu);
    assert!(
        matches!(loaded, Err(CheckpointError::HashMismatch { .. })),
        "{loaded:?}"
    );
}

#[test]
fn the_shipped_starter_is_the_pinned_model_and_generates() {
    let shipped = starter::find().expect("assets/models/starter.* is part of the repository");
    assert!(starter::is_starter(&shipped));
    assert_eq!(
        checkpoint::sha256_file(&checkpoint::weights_path(&shipped)).expect("hash"),
        starter::SHIPPED_WEIGHTS_SHA256
    );
    let meta = checkpoint::load_meta(&shipped).expect("the starter's description loads");
    let styles = &meta
        .controls
        .as_ref()
        .expect("the starter is steerable")
        .styles;
    assert_eq!(
        styles.len(),
        26,
        "the 25 composers and the Christmas folder: {styles:?}"
    );
    assert!(styles.iter().any(|s| s == "Chopin"));
    assert!(meta.provenance.command.is_some());
    assert!(meta.provenance.training_seconds > 0.0);
    assert!(meta.valid_nll.is_some());
    let dir = tempfile::tempdir().expect("temp dir");
    let take = dir.path().join("take.mid");
    generate_take("starter", "Chopin", &take);
    assert!(
        !cadenza_core::midi::read_file(&take)
            .expect("the take reads")
            .notes
            .is_empty()
    );
}

#[test]
fn a_model_from_before_the_lookback_keeps_time_and_grows_the_lookback_at_zero_when_tuned() {
    use cadenza_core::controls::{CONTROL_INPUTS_WITH_LOOKBACK, CONTROL_INPUTS_WITH_METER};
    let dir = tempfile::tempdir().expect("temp dir");
    let old = older_tiny_model(dir.path(), CONTROL_INPUTS_WITH_METER);
    let take = dir.path().join("take.mid");
    let in_time = generate_into(&old, &take, &["--seconds", "2", "--tempo", "90"]);
    assert!(in_time.status.success(), "{in_time:?}");

    let corpus = dir.path().join("corpus");
    pattern_corpus(&corpus, 2, 20);
    let (tuned, meta) = tuned_at_step_zero(&old, &corpus, dir.path());
    assert_eq!(
        meta.controls.expect("controls kept").inputs,
        CONTROL_INPUTS_WITH_LOOKBACK
    );
    let (before, after) = (weights(&old), weights(&tuned));
    let first_layer = "lstm.weight_ih_l0";
    let columns = before[first_layer].size()[1];
    let added = (CONTROL_INPUTS_WITH_LOOKBACK - CONTROL_INPUTS_WITH_METER) as i64;
    let grown = &after[first_layer];
    assert_eq!(grown.size()[1], columns + added);
    let old_end = meta.model.embed + CONTROL_INPUTS_WITH_METER as i64;
    let kept = Tensor::cat(
        &[
            grown.narrow(1, 0, old_end),
            grown.narrow(1, old_end + added, columns - old_end),
        ],
        1,
    );
    assert!(kept.equal(&before[first_layer]), "the old columns are kept");
    let lookback = grown.narrow(1, old_end, added);
    assert_eq!(lookback.abs().sum(tch::Kind::Float).double_value(&[]), 0.0);
}

#[test]
fn a_model_from_before_the_structure_paths_scores_as_before_and_grows_them_at_zero_when_tuned() {
    use cadenza_core::controls::CONTROL_INPUTS_WITH_LOOKBACK;
    let dir = tempfile::tempdir().expect("temp dir");
    let old = older_tiny_model(dir.path(), CONTROL_INPUTS_WITH_LOOKBACK);
    let take = dir.path().join("take.mid");
    let in_time = generate_into(&old, &take, &["--bars", "2", "--tempo", "90"]);
    assert!(in_time.status.success(), "{in_time:?}");

    let corpus = dir.path().join("corpus");
    eighths_corpus(&corpus);
    let (tuned, meta) = tuned_at_step_zero(&old, &corpus, dir.path());
    assert!(meta.controls.expect("controls kept").structure_paths);
    let (before, after) = (weights(&old), weights(&tuned));
    assert_eq!(after.len(), before.len() + 2, "the gates' weight and bias");
    for (name, tensor) in &after {
        match before.get(name) {
            Some(old) => assert!(old.equal(tensor), "{name} changed"),
            None => {
                assert!(name.starts_with("paths."), "{name}");
                assert_eq!(tensor.abs().sum(tch::Kind::Float).double_value(&[]), 0.0);
            }
        }
    }
    // Closed gates: the grown model scores the corpus, grid and lookback read, exactly as before.
    assert_eq!(nll_on_grid(&old, &corpus), nll_on_grid(&tuned, &corpus));
}

/// `cadenza eval`'s NLL of the two-piece `corpus` with each piece's own grid and lookback.
fn nll_on_grid(stem: &Path, corpus: &Path) -> f64 {
    let output = cadenza(&[
        "eval",
        "--checkpoint",
        stem.to_str().expect("utf-8"),
        "--corpus",
        corpus.to_str().expect("utf-8"),
        "--json",
    ]);
    assert!(output.status.success(), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    assert_eq!(report["grid_pieces"], 2, "the paths have a grid to read");
    report["nll_with_meter"]
        .as_f64()
        .expect("scored on the grid")
}

#[test]
fn a_model_reading_the_grid_densely_converted_to_the_sparse_projection_at_its_rank_scores_as_before()
 {
    use cadenza_core::controls::CONTROL_INPUTS_WITH_LOOKBACK;
    let dir = tempfile::tempdir().expect("temp dir");
    let dense = older_copy(
        &tiny_steerable_model(dir.path()),
        &dir.path().join("dense"),
        CONTROL_INPUTS_WITH_LOOKBACK,
    );
    let corpus = dir.path().join("corpus");
    eighths_corpus(&corpus);
    let convert = |width: &str| {
        let out = dir.path().join(format!("sparse{width}"));
        let args = [
            "--structure-width",
            width,
            "--steps",
            "0",
            "--seq-len",
            "32",
            "--batch",
            "4",
        ];
        let output = cadenza(
            &[
                &["train", "--init", dense.to_str().expect("utf-8")][..],
                &["--corpus", corpus.to_str().expect("utf-8")],
                &["--out", out.to_str().expect("utf-8"), "--device", "cpu"],
                &args,
            ]
            .concat(),
        );
        assert!(output.status.success(), "{output:?}");
        let meta = checkpoint::load_meta(&out).expect("meta");
        let width: usize = width.parse().expect("a number");
        assert_eq!(meta.controls.expect("controls").structure_width, width);
        assert_eq!(weights(&out)["structure.weight"].size()[1], width as i64);
        out
    };
    // The tiny model's first layer has 4 × 32 gates, so its grid columns have rank at most 128.
    let before = nll_on_grid(&dense, &corpus);
    let exact = nll_on_grid(&convert("128"), &corpus);
    assert!((exact - before).abs() < 1e-4, "{before} → {exact}");
    let narrow = nll_on_grid(&convert("2"), &corpus);
    assert!(
        narrow.is_finite() && narrow != before,
        "{before} → {narrow}"
    );
}

#[test]
fn a_model_from_before_the_grid_grows_the_sparse_projection_silent_when_tuned() {
    use cadenza_core::controls::{CONTROL_INPUTS, STRUCTURE_WIDTH};
    let dir = tempfile::tempdir().expect("temp dir");
    let old = older_tiny_model(dir.path(), CONTROL_INPUTS);
    let corpus = dir.path().join("corpus");
    eighths_corpus(&corpus);
    let (tuned, meta) = tuned_at_step_zero(&old, &corpus, dir.path());
    assert_eq!(
        meta.controls.expect("controls").structure_width,
        STRUCTURE_WIDTH
    );
    let first_layer = &weights(&tuned)["lstm.weight_ih_l0"];
    let projection = first_layer.narrow(
        1,
        meta.model.embed + CONTROL_INPUTS as i64,
        STRUCTURE_WIDTH as i64,
    );
    assert_eq!(
        projection.abs().sum(tch::Kind::Float).double_value(&[]),
        0.0
    );
}
