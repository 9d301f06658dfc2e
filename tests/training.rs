//! Training, checkpoints, resume and the trainer's command protocol, on tiny corpora made in code.

use std::path::Path;
use std::time::Duration;

use cadenza_core::checkpoint::{self, CheckpointError};
use cadenza_core::corpus;
use cadenza_core::encoding::{self, Encoding, VOCAB_SIZE};
use cadenza_core::eval::{self, EvalPiece};
use cadenza_core::model::{EventLstm, Inputs, ModelConfig};
use cadenza_core::train::{self, Command, Finished, Progress, StopReason};
use cadenza_core::worker::{Event, no_repaint};
use tch::{Device, Tensor, nn};

use crate::support::{
    TINY, TINY_SETTINGS, TrainEvent, eighths_corpus, options, overfitted_tiny_model, tiny_data,
    torch_lock, train_to_end,
};

fn done_reason(events: &[TrainEvent]) -> Option<StopReason> {
    events.iter().find_map(|e| match e {
        Event::Finished(Finished { reason, .. }) => Some(*reason),
        _ => None,
    })
}

#[test]
fn overfitting_a_tiny_corpus_drives_the_loss_down() {
    let _torch = torch_lock();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("model");
    let events = train_to_end(
        tiny_data(&dir.path().join("corpus")),
        options(&out, Some(300)),
    );
    assert_eq!(done_reason(&events), Some(StopReason::Steps), "{events:?}");
    let meta = checkpoint::load_meta(&out).expect("checkpoint written");
    let losses: Vec<f64> = meta.history.train.iter().map(|&(_, loss)| loss).collect();
    let first = losses[0];
    let last: f64 = losses[losses.len() - 20..].iter().sum::<f64>() / 20.0;
    println!(
        "training loss {first:.3} -> {last:.3} nats/event in {} steps",
        losses.len()
    );
    assert!(first > 4.0, "starts near ln(388) = 5.96: {first}");
    assert!(last < 0.3, "mean of the last 20 losses is {last}");
    let valid = meta.valid_nll.expect("full validation at stop");
    assert!(valid < 0.6, "validation loss {valid}");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Update(Progress::Valid { full: false, .. })))
    );
}

#[test]
fn same_seed_gives_the_same_loss_curve() {
    let _torch = torch_lock();
    let dir = tempfile::tempdir().expect("temp dir");
    let data = tiny_data(&dir.path().join("corpus"));
    let mut curves = Vec::new();
    for run in 0..2 {
        let out = dir.path().join(format!("run{run}"));
        let mut options = options(&out, Some(15));
        options.model.dropout = 0.2;
        options.model.layers = 2;
        train_to_end(data.clone(), options);
        curves.push(checkpoint::load_meta(&out).expect("saved").history.train);
    }
    assert_eq!(curves[0], curves[1]);
}

#[test]
fn resume_continues_step_count_and_history() {
    let _torch = torch_lock();
    let dir = tempfile::tempdir().expect("temp dir");
    let data = tiny_data(&dir.path().join("corpus"));
    let first = dir.path().join("first");
    train_to_end(data.clone(), options(&first, Some(20)));
    let before = checkpoint::load_meta(&first).expect("saved");
    assert_eq!(before.step, 20);

    let second = dir.path().join("second");
    let mut resumed = options(&second, Some(10));
    resumed.start = cadenza_core::train::StartFrom::Resume(checkpoint::weights_path(&first));
    let events = train_to_end(data, resumed);
    assert!(
        matches!(events[0], Event::Update(Progress::Started { step: 20, .. })),
        "{:?}",
        events[0]
    );
    let after = checkpoint::load_meta(&second).expect("saved");
    assert_eq!(after.step, 30);
    assert_eq!(after.history.train.len(), 30);
    assert_eq!(after.history.train[..20], before.history.train[..]);
    assert_eq!(after.history.train[20].0, 21);
}

#[test]
fn pause_resume_and_stop_work_from_another_thread() {
    let _torch = torch_lock();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("model");
    let mut trainer = train::spawn(
        tiny_data(&dir.path().join("corpus")),
        options(&out, None),
        no_repaint(),
    );
    let commands = trainer.command_sender();
    let mut wait_for = |wanted: &dyn Fn(&TrainEvent) -> bool| loop {
        let event = trainer.wait_event().expect("trainer reports");
        if wanted(&event) {
            return event;
        }
    };
    wait_for(&|e| matches!(e, Event::Update(Progress::Progress { .. })));
    commands.send(Command::Pause).expect("trainer listens");
    let Event::Update(Progress::Paused { step: paused_at }) =
        wait_for(&|e| matches!(e, Event::Update(Progress::Paused { .. })))
    else {
        unreachable!()
    };
    std::thread::sleep(Duration::from_millis(400));
    commands.send(Command::SaveNow).expect("trainer listens");
    // Nothing but the checkpoint between the pause and the save: no steps while paused.
    let saved = wait_for(&|_| true);
    assert!(
        matches!(saved, Event::Update(Progress::Checkpoint { .. })),
        "no steps while paused: {saved:?}"
    );
    assert_eq!(
        checkpoint::load_meta(&out)
            .expect("saved while paused")
            .step,
        paused_at
    );
    commands.send(Command::Resume).expect("trainer listens");
    wait_for(&|e| matches!(e, Event::Update(Progress::Resumed { .. })));
    wait_for(&|e| matches!(e, Event::Update(Progress::Progress { step, .. }) if *step > paused_at));
    commands.send(Command::Stop).expect("trainer listens");
    let done = wait_for(&|e| e.is_final());
    assert!(matches!(
        done,
        Event::Finished(Finished {
            reason: StopReason::Stopped,
            ..
        })
    ));
    assert!(checkpoint::load_meta(&out).expect("saved at stop").step > paused_at);
}

#[test]
fn divergence_stops_with_an_error_and_writes_no_checkpoint() {
    let _torch = torch_lock();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("model");
    let mut options = options(&out, Some(200));
    // Every update turns the weights into infinities and NaNs (the largest rate accepted).
    options.settings.lr = 1e30;
    let events = train_to_end(tiny_data(&dir.path().join("corpus")), options);
    let error = events.iter().find_map(|e| match e {
        Event::Failed { message } => Some(message.clone()),
        _ => None,
    });
    assert!(error.is_some_and(|m| m.contains("diverged")), "{events:?}");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Update(Progress::Warning { .. })))
    );
    assert!(!checkpoint::weights_path(&out).exists());
}

fn tiny_model() -> (nn::VarStore, EventLstm) {
    let vars = nn::VarStore::new(Device::Cpu);
    let model = EventLstm::new(&vars.root(), TINY, Inputs::new(Encoding::CURRENT, None));
    (vars, model)
}

fn logits(model: &EventLstm, events: &[i64]) -> Tensor {
    let input = Tensor::from_slice(events).view([1, events.len() as i64]);
    let _no_grad = tch::no_grad_guard();
    model
        .forward(&input, None, &model.zero_state(1, Device::Cpu), false)
        .0
}

fn saved_tiny_checkpoint(dir: &Path) -> (std::path::PathBuf, Tensor) {
    let (vars, model) = tiny_model();
    let stem = dir.join("ckpt");
    let mut meta = checkpoint::CheckpointMeta {
        format_version: 0,
        encoding: String::new(),
        model: TINY,
        train: TINY_SETTINGS,
        step: 3,
        epoch: 0.5,
        corpus: Default::default(),
        valid_nll: None,
        history: Default::default(),
        weights_sha256: String::new(),
        controls: None,
        provenance: Default::default(),
    };
    checkpoint::save(&stem, &vars, &mut meta).expect("saves");
    (stem, logits(&model, &[1, 300, 129, 5]))
}

#[test]
fn save_then_load_gives_the_same_logits() {
    let _torch = torch_lock();
    let dir = tempfile::tempdir().expect("temp dir");
    let (stem, expected) = saved_tiny_checkpoint(dir.path());
    for given in [
        stem.clone(),
        checkpoint::weights_path(&stem),
        checkpoint::meta_path(&stem),
    ] {
        let loaded = checkpoint::load_model(&given, Device::Cpu).expect("loads");
        let actual = logits(&loaded.model, &[1, 300, 129, 5]);
        assert_eq!(actual.size(), [1, 4, VOCAB_SIZE as i64]);
        assert!(actual.allclose(&expected, 0.0, 0.0, false));
        assert_eq!(loaded.meta.step, 3);
    }
}

#[test]
fn checkpoints_from_another_version_or_damaged_are_refused() {
    let _torch = torch_lock();
    let dir = tempfile::tempdir().expect("temp dir");
    let (stem, _) = saved_tiny_checkpoint(dir.path());
    let json_path = checkpoint::meta_path(&stem);
    let original = std::fs::read_to_string(&json_path).expect("json");

    let other_encoding = original.replace(encoding::ENCODING_ID, "performance-rnn-388/v0");
    std::fs::write(&json_path, other_encoding).expect("write");
    let err = checkpoint::load_model(&stem, Device::Cpu).expect_err("refused");
    assert!(matches!(err, CheckpointError::Encoding { .. }));
    assert!(err.to_string().contains("encoding"), "{err}");

    let written = format!("\"format_version\": {}", checkpoint::FORMAT_VERSION);
    let other_format = original.replace(&written, "\"format_version\": 99");
    std::fs::write(&json_path, other_format).expect("write");
    assert!(matches!(
        checkpoint::load_model(&stem, Device::Cpu),
        Err(CheckpointError::FormatVersion { found: 99, .. })
    ));

    std::fs::write(&json_path, &original).expect("write");
    let weights = checkpoint::weights_path(&stem);
    let bytes = std::fs::read(&weights).expect("weights");
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).expect("truncate");
    assert!(matches!(
        checkpoint::load_model(&stem, Device::Cpu),
        Err(CheckpointError::HashMismatch { .. })
    ));

    std::fs::remove_file(&weights).expect("remove");
    assert!(matches!(
        checkpoint::load_model(&stem, Device::Cpu),
        Err(CheckpointError::Io { .. })
    ));
}

#[test]
fn eval_of_the_learned_piece_is_far_lower_than_of_an_unrelated_one() {
    let (corpus_dir, out) = overfitted_tiny_model();
    let _torch = torch_lock();
    let loaded = checkpoint::load_model(out, Device::Cpu).expect("loads");
    let corpus = corpus::load_dir(corpus_dir, &|_| {}).expect("loads");
    let learned = corpus.pieces[0].events.clone();
    let demo = cadenza_core::demo::demo_pieces();
    let unrelated = encoding::encode_piece(&demo[20].piece);
    let (learned, unrelated) = (
        eval::model_sequence(loaded.meta.encoding(), &learned),
        eval::model_sequence(loaded.meta.encoding(), &unrelated),
    );
    let score = |events: &[u16]| {
        eval::score_pieces(&loaded.model, &[EvalPiece::plain(events)], 48, Device::Cpu)
            .nll_per_event()
    };
    let (fit, misfit) = (score(&learned), score(&unrelated));
    println!("eval: learned piece {fit:.3}, unrelated piece {misfit:.3} nats/event");
    assert!(
        fit < 0.5 && misfit > 3.0 * fit,
        "learned {fit}, unrelated {misfit}"
    );
    assert_eq!(score(&learned), fit, "identical on a second run");

    // Scoring several pieces at once (padded batch) gives each piece the score it gets alone.
    let both = eval::score_pieces(
        &loaded.model,
        &[EvalPiece::plain(&learned), EvalPiece::plain(&unrelated)],
        48,
        Device::Cpu,
    );
    assert!((both.pieces[0].nll_per_event() - fit).abs() < 1e-4);
    assert!((both.pieces[1].nll_per_event() - misfit).abs() < 1e-4);
    assert_eq!(both.events(), learned.len() + unrelated.len() - 2);
}

#[test]
fn a_checkpoint_written_before_provenance_still_loads_and_trains_on() {
    let (_, model) = overfitted_tiny_model();
    let _torch = torch_lock();
    let dir = tempfile::tempdir().expect("temp dir");
    let old = dir.path().join("old");
    std::fs::copy(
        checkpoint::weights_path(model),
        checkpoint::weights_path(&old),
    )
    .expect("copied");
    let mut description: serde_json::Value =
        serde_json::from_slice(&std::fs::read(checkpoint::meta_path(model)).expect("read"))
            .expect("JSON");
    description
        .as_object_mut()
        .expect("an object")
        .remove("provenance")
        .expect("written by this version");
    std::fs::write(checkpoint::meta_path(&old), description.to_string()).expect("written");

    let meta = checkpoint::load_meta(&old).expect("loads without provenance");
    assert_eq!(meta.provenance, checkpoint::Provenance::default());
    checkpoint::load_model(&old, Device::Cpu).expect("the model loads");
    let data = tiny_data(&dir.path().join("corpus"));
    let mut resumed = options(&dir.path().join("next"), Some(2));
    resumed.start = train::StartFrom::Resume(old);
    train_to_end(data, resumed);
    let next = checkpoint::load_meta(&dir.path().join("next")).expect("saved");
    assert!(next.provenance.training_seconds > 0.0);
}

#[test]
fn the_parameter_count_of_a_shape_matches_the_network_built() {
    use cadenza_core::controls::ControlsMeta;
    let steerable = ControlsMeta::new(vec!["Bach".into(), "Chopin".into()], Default::default());
    for (config, controls) in [
        (TINY, None),
        (
            ModelConfig {
                layers: 3,
                hidden: 40,
                embed: 12,
                dropout: 0.1,
            },
            Some(&steerable),
        ),
        (
            TINY,
            Some(&ControlsMeta {
                structure_width: 0,
                ..steerable.clone()
            }),
        ),
    ] {
        let inputs = Inputs::new(Encoding::CURRENT, controls);
        let vars = nn::VarStore::new(Device::Cpu);
        let _model = EventLstm::new(&vars.root(), config, inputs);
        let built: i64 = vars.variables().values().map(|v| v.numel() as i64).sum();
        assert_eq!(EventLstm::parameter_count(config, inputs) as i64, built);
    }
}

#[test]
fn a_run_validated_on_the_grid_scores_each_piece_with_its_own_grid_and_records_it() {
    let _torch = torch_lock();
    let dir = tempfile::tempdir().expect("temp dir");
    let corpus_dir = dir.path().join("corpus");
    eighths_corpus(&corpus_dir);
    let corpus = corpus::load_dir(&corpus_dir, &|_| {}).expect("corpus loads");
    let data = std::sync::Arc::new(train::TrainData::from_corpus(&corpus));
    let stem = dir.path().join("grid");
    let mut on_grid = options(&stem, Some(2));
    on_grid.controls = true;
    on_grid.validation = train::Validation::OwnGrid;
    train_to_end(data.clone(), on_grid);
    let loaded = checkpoint::load_model(&stem, Device::Cpu).expect("saved");
    assert_eq!(
        loaded.meta.provenance.validation,
        train::Validation::OwnGrid
    );
    let pieces = data.valid_pieces_for(train::Validation::OwnGrid, loaded.meta.controls.as_ref());
    assert!(pieces.iter().all(|piece| piece.meter_only));
    let seq_len = TINY_SETTINGS.seq_len;
    let score = |pieces: &[EvalPiece]| {
        eval::score_pieces(&loaded.model, pieces, seq_len, Device::Cpu).nll_per_event()
    };
    let (on_grid, absent) = (score(&pieces), score(&data.valid_pieces(None)));
    let recorded = loaded.meta.valid_nll.expect("validated");
    assert!(
        (recorded - on_grid).abs() < 1e-6,
        "{recorded} against {on_grid}"
    );
    assert_ne!(on_grid, absent, "the pieces have a grid to read");
}

#[test]
fn a_stop_during_a_fine_tunes_first_validation_is_answered_at_once_and_saves() {
    let (_, tiny) = overfitted_tiny_model();
    let _torch = torch_lock();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("tuned");
    let mut tune = options(&out, Some(50));
    tune.start = train::StartFrom::Init(tiny.clone());
    let mut trainer = train::spawn(tiny_data(&dir.path().join("corpus")), tune, no_repaint());
    // Sent before the first validation of the starting weights has scored a window: it stops
    // there, without another validation, and saves.
    trainer.send(Command::Stop);
    let events: Vec<TrainEvent> = std::iter::from_fn(|| trainer.wait_event()).collect();
    assert_eq!(
        done_reason(&events),
        Some(StopReason::Stopped),
        "{events:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, Event::Update(Progress::Valid { .. }))),
        "no validation finished: {events:?}"
    );
    let meta = checkpoint::load_meta(&out).expect("saved");
    assert_eq!(meta.step, 0);
}

#[test]
fn a_step_that_fails_partway_ends_the_run_with_the_weights_trained_so_far_saved() {
    let _torch = torch_lock();
    let dir = tempfile::tempdir().expect("temp dir");
    crate::support::pattern_corpus(&dir.path().join("corpus"), 4, 40);
    let mut corpus = corpus::load_dir(&dir.path().join("corpus"), &|_| {}).expect("loads");
    // One event of one training piece becomes the start event, which the network reads but never
    // predicts: a step whose windows hold it fails inside libtorch's loss (a target out of range),
    // as a failing kernel or a GPU out of memory would, after some good steps.
    let damaged = corpus
        .pieces
        .iter_mut()
        .find(|p| p.split == corpus::Split::Train)
        .expect("a training piece");
    let middle = damaged.events.len() / 2;
    damaged.events[middle] = encoding::START;
    let out = dir.path().join("model");
    let events = train_to_end(
        std::sync::Arc::new(train::TrainData::from_corpus(&corpus)),
        options(&out, Some(2_000)),
    );
    let message = events
        .iter()
        .find_map(|e| match e {
            Event::Failed { message } => Some(message.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("the run failed: {events:?}"));
    println!("{message}");
    assert!(message.contains("training failed at step"), "{message}");
    assert!(
        message.contains("the last good weights were saved to"),
        "{message}"
    );
    let saved = checkpoint::load_model(&out, Device::Cpu).expect("the saved weights load");
    assert!(
        saved.meta.step >= 1,
        "steps before the failure are kept: {}",
        saved.meta.step
    );
}
