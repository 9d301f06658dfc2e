//! `cadenza train`: trains on a corpus with a progress bar (or JSON lines), Ctrl-C stops and saves.

use std::path::PathBuf;
use std::sync::Arc;

use crate::cli::console::{Display, console_attached};
use anyhow::{Result, bail};
use cadenza_core::checkpoint::TrainSettings;
use cadenza_core::model::{DeviceChoice, ModelConfig};
use cadenza_core::paths::DataDir;
use cadenza_core::starter;
use cadenza_core::train::{
    self, Command, Finished, Limits, Preset, Progress, StartFrom, TrainData, TrainOptions,
    Validation,
};
use cadenza_core::worker::{Event, no_repaint};
use clap::Args;

/// Arguments of `cadenza train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Folder of MIDI files to train on.
    #[arg(long)]
    corpus: PathBuf,
    /// Checkpoint to write: a path stem P, giving P.safetensors and P.json.
    #[arg(long)]
    out: PathBuf,
    /// Starting point for every hyperparameter below: quick (2×256) or standard (3×512). The shape
    /// (layers, hidden, embed, dropout) of a run from --init or --resume is its checkpoint's.
    #[arg(long, default_value = "quick")]
    preset: Preset,
    /// LSTM layers.
    #[arg(long, conflicts_with_all = ["init", "resume"])]
    layers: Option<i64>,
    /// Hidden units per LSTM layer.
    #[arg(long, conflicts_with_all = ["init", "resume"])]
    hidden: Option<i64>,
    /// Event embedding size.
    #[arg(long, conflicts_with_all = ["init", "resume"])]
    embed: Option<i64>,
    /// Dropout between LSTM layers.
    #[arg(long, conflicts_with_all = ["init", "resume"])]
    dropout: Option<f64>,
    /// Events per training window.
    #[arg(long)]
    seq_len: Option<usize>,
    /// Windows per step.
    #[arg(long)]
    batch: Option<usize>,
    /// Adam learning rate.
    #[arg(long)]
    lr: Option<f64>,
    /// Gradient-norm clip.
    #[arg(long)]
    clip: Option<f64>,
    /// Learning-rate factor applied after each epoch.
    #[arg(long)]
    lr_decay: Option<f64>,
    /// Stop after this many steps (of this run).
    #[arg(long)]
    steps: Option<u64>,
    /// Stop after this many epochs (of this run); one epoch when no limit is given.
    #[arg(long)]
    epochs: Option<f64>,
    /// Stop after this many minutes of training.
    #[arg(long)]
    minutes: Option<f64>,
    /// Stop when this many epoch-end validations in a row do not improve.
    #[arg(long)]
    early_stop: Option<u32>,
    /// Continue this checkpoint's run (stem or either file): its shape, step count and history
    /// go on.
    #[arg(long, conflicts_with = "init")]
    resume: Option<PathBuf>,
    /// Start a new run (a fine-tune) from these weights: "starter" (the model that ships with
    /// Cadenza) or a checkpoint. Its shape and controls are kept, the corpus's new composers are
    /// added as styles, and the recipe defaults to fine-tuning's: learning rate 1e-4, 5 minutes,
    /// stopping early after 2 validations without improvement.
    #[arg(long, value_name = "starter|CKPT")]
    init: Option<String>,
    /// Where to train.
    #[arg(long, default_value = "auto")]
    device: DeviceChoice,
    /// CPU threads for libtorch.
    #[arg(long)]
    threads: Option<usize>,
    /// Seed for weights, window sampling and augmentation.
    #[arg(long)]
    seed: Option<u64>,
    /// Minutes between automatic saves.
    #[arg(long, default_value_t = TrainOptions::DEFAULT_AUTOSAVE_MINUTES)]
    autosave_minutes: f64,
    /// Steps between the quick validations on a fixed subset of pieces.
    #[arg(long, default_value_t = TrainOptions::DEFAULT_VALID_EVERY)]
    valid_every: u64,
    /// When resuming into the same checkpoint: replace it even if the validation loss ends
    /// worse (otherwise the new weights are saved beside it as P.resumed-worse).
    #[arg(long)]
    replace_worse: bool,
    /// Replace a checkpoint already at --out (and its best weights) with this new run or
    /// fine-tune; without it such a run is refused.
    #[arg(long)]
    replace: bool,
    /// Train without the controls (density, key, loudness, style): the model cannot be steered.
    #[arg(long)]
    no_controls: bool,
    /// What validation scores each piece with: absent (every control absent, so any two models
    /// compare) or own-grid (a model that reads the bar grid: each piece's own grid and
    /// lookback, the score its takes in bars are sampled under).
    #[arg(long, value_enum, default_value = "absent")]
    validate_on: ValidateOn,
    /// With --init, for a model whose first layer reads the bar grid's inputs densely: read them
    /// through a sparse projection of this width (the closest one, by truncated SVD), so it
    /// trains at about the cost of a model without them. New models always do, at 64.
    #[arg(long, requires = "init", value_parser = clap::value_parser!(u16).range(1..=512))]
    structure_width: Option<u16>,
    /// Print JSON lines (progress, valid, checkpoint, error, done) on stdout instead of a bar.
    #[arg(long)]
    json: bool,
}

/// `--validate-on`'s values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ValidateOn {
    /// Every control absent.
    Absent,
    /// Each piece's own bar grid and lookback.
    OwnGrid,
}

impl From<ValidateOn> for Validation {
    fn from(on: ValidateOn) -> Self {
        match on {
            ValidateOn::Absent => Self::Absent,
            ValidateOn::OwnGrid => Self::OwnGrid,
        }
    }
}

impl TrainArgs {
    fn model(&self) -> ModelConfig {
        let preset = self.preset.model();
        ModelConfig {
            embed: self.embed.unwrap_or(preset.embed),
            layers: self.layers.unwrap_or(preset.layers),
            hidden: self.hidden.unwrap_or(preset.hidden),
            dropout: self.dropout.unwrap_or(preset.dropout),
        }
    }

    fn settings(&self) -> TrainSettings {
        let preset = if self.init.is_some() {
            TrainSettings::FINE_TUNE
        } else {
            self.preset.settings()
        };
        TrainSettings {
            seq_len: self.seq_len.unwrap_or(preset.seq_len),
            batch: self.batch.unwrap_or(preset.batch),
            lr: self.lr.unwrap_or(preset.lr),
            clip: self.clip.unwrap_or(preset.clip),
            lr_decay: self.lr_decay.unwrap_or(preset.lr_decay),
            seed: self.seed.unwrap_or(preset.seed),
        }
    }

    fn start(&self) -> Result<StartFrom> {
        Ok(match (&self.init, &self.resume) {
            (Some(init), _) if init == "starter" => match starter::find() {
                Some(stem) => StartFrom::Init(stem),
                None => bail!(
                    "the starter model is not installed (looked for {})",
                    starter::candidates()
                        .iter()
                        .map(|stem| stem.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
            (Some(init), _) => StartFrom::Init(PathBuf::from(init)),
            (None, Some(resume)) => StartFrom::Resume(resume.clone()),
            (None, None) => StartFrom::New,
        })
    }

    fn options(&self) -> Result<TrainOptions> {
        Ok(TrainOptions {
            model: self.model(),
            controls: !self.no_controls,
            settings: self.settings(),
            limits: self.limits(),
            device: self.device,
            threads: self.threads,
            out: cadenza_core::checkpoint::stem(&self.out),
            start: self.start()?,
            command: Some(command_line()),
            autosave_minutes: self.autosave_minutes,
            valid_every: self.valid_every,
            replace_worse: self.replace_worse,
            rescue_dir: DataDir::from_env().map(|d| d.rescued_checkpoints()),
            replace_existing: self.replace,
            validation: self.validate_on.into(),
            project_structure: self.structure_width.map(usize::from),
        })
    }

    fn limits(&self) -> Limits {
        let none_given = self.steps.is_none() && self.epochs.is_none() && self.minutes.is_none();
        if self.init.is_some() {
            let fine_tune = Limits::fine_tune(train::FINE_TUNE_MINUTES);
            return Limits {
                steps: self.steps,
                epochs: self.epochs,
                minutes: if none_given {
                    fine_tune.minutes
                } else {
                    self.minutes
                },
                early_stop_patience: self.early_stop.or(fine_tune.early_stop_patience),
            };
        }
        Limits {
            steps: self.steps,
            epochs: if none_given { Some(1.0) } else { self.epochs },
            minutes: self.minutes,
            early_stop_patience: self.early_stop,
        }
    }
}

/// This process's command line as a shell would take it, recorded in the checkpoint.
fn command_line() -> String {
    std::iter::once("cadenza".to_string())
        .chain(std::env::args().skip(1).map(|arg| {
            if arg.contains(|c: char| c.is_whitespace() || c == '\'' || c == '"') {
                format!("'{}'", arg.replace('\'', r"'\''"))
            } else {
                arg
            }
        }))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `cadenza train`.
pub fn run(args: &TrainArgs) -> Result<()> {
    let options = args.options()?;
    // The core's checks, worded with the flag's name.
    if let Err(invalid) = options.validate() {
        bail!("--{} {}", invalid.field.replace('_', "-"), invalid.reason);
    }
    let corpus = crate::cli::inspect::load_corpus_with_progress(
        &args.corpus,
        !args.json && console_attached(),
    )?;
    for skipped in &corpus.skipped {
        eprintln!("skipped {}: {}", skipped.path.display(), skipped.reason);
    }
    let data = Arc::new(TrainData::from_corpus(&corpus));
    let mut trainer = train::spawn(data, options, no_repaint());
    let stop = trainer.command_sender();
    // Ctrl-C and SIGTERM (the "termination" feature) both stop cleanly, which saves.
    let _ = ctrlc::set_handler(move || {
        if stop.send(Command::Stop).is_err() {
            std::process::exit(130);
        }
    });
    let mut last_step = 0;
    let mut display = (!args.json).then(Display::new);
    let mut valid = String::from("-");
    while let Some(event) = trainer.wait_event() {
        if let Event::Update(Progress::Progress { step, .. }) = &event {
            last_step = *step;
        }
        if args.json {
            print_json_line(&event, last_step)?;
        } else if let Some(display) = &mut display {
            show(display, &event, &mut valid);
        }
        match event {
            Event::Failed { message } => bail!(message),
            Event::Cancelled => bail!("training was cancelled"),
            _ => {}
        }
    }
    Ok(())
}

/// `--json`: one object per line; a failure is an `error` event followed by `done`. A reader that
/// goes away (`| head -1`) does not stop the run: it trains on and saves as usual.
fn print_json_line(event: &Event<Progress, Finished>, last_step: u64) -> Result<()> {
    let line = match event {
        Event::Update(progress) => serde_json::to_value(progress)?,
        Event::Finished(Finished { step, reason }) => {
            serde_json::json!({"event": "done", "step": step, "reason": reason})
        }
        Event::Failed { message } => {
            write_line(&serde_json::json!({"event": "error", "message": message}));
            serde_json::json!({"event": "done", "step": last_step, "reason": "error"})
        }
        Event::Cancelled => {
            serde_json::json!({"event": "done", "step": last_step, "reason": "cancelled"})
        }
    };
    write_line(&line);
    Ok(())
}

/// Writes a line on stdout, dropping it if the reader is gone.
fn write_line(line: &impl std::fmt::Display) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// A progress bar on a terminal, status lines in a log.
fn show(display: &mut Display, event: &Event<Progress, Finished>, valid: &mut String) {
    match event {
        Event::Update(Progress::Started {
            step,
            device_description,
            parameters,
            controls,
            ..
        }) => display.line(format!(
            "training {parameters} parameters on {device_description}, from step {step}; controls: {}",
            if controls.is_empty() { "none".to_string() } else { controls.join(", ") }
        )),
        Event::Update(Progress::Progress {
            step,
            epoch,
            train_loss_smoothed,
            tokens_per_s,
            eta_s,
            fraction,
            ..
        }) => display.status(
            *fraction,
            format!(
                "step {step} | epoch {epoch:.2} | loss {train_loss_smoothed:.3} | valid {valid} | {tokens_per_s:.0} tok/s | ETA {}",
                eta_s.map_or("-".to_string(), format_seconds)
            ),
        ),
        Event::Update(Progress::Valid {
            step,
            valid_loss,
            full,
            ..
        }) => {
            *valid = format!("{valid_loss:.3}");
            if *full {
                display.line(format!(
                    "step {step}: validation loss {valid_loss:.4} nats/event (all pieces)"
                ));
            }
        }
        Event::Update(Progress::Checkpoint { step, path }) => {
            display.line(format!("step {step}: saved {path}"))
        }
        Event::Update(Progress::Paused { .. } | Progress::Resumed { .. }) => {}
        Event::Update(Progress::Warning { message }) => {
            display.line(format!("warning: {message}"))
        }
        Event::Finished(Finished { step, reason }) => {
            display.bar.finish();
            display.line(format!("done at step {step}: {}", reason.describe()));
        }
        Event::Failed { .. } | Event::Cancelled => display.bar.abandon(),
    }
}

fn format_seconds(seconds: f64) -> String {
    let total = seconds.round() as u64;
    format!("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60)
}
