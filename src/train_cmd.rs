//! `cadenza train`: trains on a corpus with a progress bar (or JSON lines), Ctrl-C stops and saves.

use std::path::PathBuf;
use std::sync::Arc;

use crate::console::{Display, console_attached};
use anyhow::{Result, bail};
use cadenza::checkpoint::TrainSettings;
use cadenza::model::{DeviceChoice, ModelConfig};
use cadenza::train::{self, Command, Limits, Preset, Progress, TrainData, TrainOptions};
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
    /// Starting point for every hyperparameter below: quick (2×256) or standard (3×512).
    #[arg(long, default_value = "quick")]
    preset: Preset,
    /// LSTM layers.
    #[arg(long)]
    layers: Option<i64>,
    /// Hidden units per LSTM layer.
    #[arg(long)]
    hidden: Option<i64>,
    /// Event embedding size.
    #[arg(long)]
    embed: Option<i64>,
    /// Dropout between LSTM layers.
    #[arg(long)]
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
    /// Continue from this checkpoint (stem or either file); its network shape is kept.
    #[arg(long)]
    resume: Option<PathBuf>,
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
    #[arg(long, default_value_t = 5.0)]
    autosave_minutes: f64,
    /// Steps between the quick validations on a fixed subset of pieces.
    #[arg(long, default_value_t = 100)]
    valid_every: u64,
    /// Print JSON lines (progress, valid, checkpoint, error, done) on stdout instead of a bar.
    #[arg(long)]
    json: bool,
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
        let preset = self.preset.settings();
        TrainSettings {
            seq_len: self.seq_len.unwrap_or(preset.seq_len),
            batch: self.batch.unwrap_or(preset.batch),
            lr: self.lr.unwrap_or(preset.lr),
            clip: self.clip.unwrap_or(preset.clip),
            lr_decay: self.lr_decay.unwrap_or(preset.lr_decay),
            seed: self.seed.unwrap_or(preset.seed),
        }
    }

    fn limits(&self) -> Limits {
        let none_given = self.steps.is_none() && self.epochs.is_none() && self.minutes.is_none();
        Limits {
            steps: self.steps,
            epochs: if none_given { Some(1.0) } else { self.epochs },
            minutes: self.minutes,
            early_stop_patience: self.early_stop,
        }
    }

    fn validate(&self) -> Result<()> {
        let model = self.model();
        let settings = self.settings();
        if model.layers < 1 || model.hidden < 1 || model.embed < 1 {
            bail!("--layers, --hidden and --embed must be at least 1");
        }
        if !(0.0..1.0).contains(&model.dropout) {
            bail!("--dropout must be in [0, 1)");
        }
        if settings.seq_len < 2 || settings.batch < 1 {
            bail!("--seq-len must be at least 2 and --batch at least 1");
        }
        if !(settings.lr > 0.0 && settings.clip > 0.0 && settings.lr_decay > 0.0) {
            bail!("--lr, --clip and --lr-decay must be positive");
        }
        Ok(())
    }
}

/// Runs `cadenza train`.
pub fn run(args: &TrainArgs) -> Result<()> {
    args.validate()?;
    let corpus =
        crate::cli::load_corpus_with_progress(&args.corpus, !args.json && console_attached())?;
    for skipped in &corpus.skipped {
        eprintln!("skipped {}: {}", skipped.path.display(), skipped.reason);
    }
    let data = Arc::new(TrainData::from_corpus(&corpus));
    let options = TrainOptions {
        model: args.model(),
        settings: args.settings(),
        limits: args.limits(),
        device: args.device,
        threads: args.threads,
        out: cadenza::checkpoint::stem(&args.out),
        resume: args.resume.clone(),
        autosave_minutes: args.autosave_minutes,
        valid_every: args.valid_every,
    };
    let trainer = train::spawn(data, options, Arc::new(|| {}));
    let stop = trainer.command_sender();
    let _ = ctrlc::set_handler(move || {
        if stop.send(Command::Stop).is_err() {
            std::process::exit(130);
        }
    });
    let outcome = if args.json {
        print_json_lines(&trainer.progress)
    } else {
        show_progress_bar(&trainer.progress, &args.limits())
    };
    trainer.join();
    outcome
}

fn print_json_lines(progress: &crossbeam_channel::Receiver<Progress>) -> Result<()> {
    for event in progress {
        println!("{}", serde_json::to_string(&event)?);
        if let Progress::Error { message } = event {
            bail!(message);
        }
    }
    Ok(())
}

fn show_progress_bar(
    progress: &crossbeam_channel::Receiver<Progress>,
    limits: &Limits,
) -> Result<()> {
    let mut display = Display::new();
    let mut valid = String::from("-");
    let mut first = None;
    let started = std::time::Instant::now();
    for event in progress {
        match event {
            Progress::Started {
                step,
                device_description,
                parameters,
                ..
            } => {
                first = Some(step);
                display.line(format!(
                    "training {parameters} parameters on {device_description}, from step {step}"
                ));
            }
            Progress::Progress {
                step,
                epoch,
                train_loss_smoothed,
                tokens_per_s,
                eta_s,
                ..
            } => {
                let elapsed = started.elapsed().as_secs_f64();
                let done = fraction_done(limits, step - first.unwrap_or(0), elapsed, eta_s);
                display.status(
                    done,
                    format!(
                        "step {step} | epoch {epoch:.2} | loss {train_loss_smoothed:.3} | valid {valid} | {tokens_per_s:.0} tok/s | ETA {}",
                        eta_s.map_or("-".to_string(), format_seconds)
                    ),
                );
            }
            Progress::Valid {
                step,
                valid_loss,
                full,
                ..
            } => {
                valid = format!("{valid_loss:.3}");
                if full {
                    display.line(format!(
                        "step {step}: validation loss {valid_loss:.4} nats/event (all pieces)"
                    ));
                }
            }
            Progress::Checkpoint { step, path } => {
                display.line(format!("step {step}: saved {path}"))
            }
            Progress::Paused { .. } | Progress::Resumed { .. } => {}
            Progress::Warning { message } => display.line(format!("warning: {message}")),
            Progress::Error { message } => {
                display.bar.abandon();
                bail!(message);
            }
            Progress::Done { step, reason } => {
                display.bar.finish();
                display.line(format!("done at step {step} ({reason:?})"));
            }
        }
    }
    Ok(())
}

/// Share of the run done: by steps when that is the limit, else from the time spent and the ETA
/// (the trainer knows which limit is nearest).
fn fraction_done(limits: &Limits, steps_this_run: u64, elapsed_s: f64, eta_s: Option<f64>) -> f64 {
    match (limits.steps, eta_s) {
        (Some(steps), _) => steps_this_run as f64 / steps.max(1) as f64,
        (None, Some(eta)) => elapsed_s / (elapsed_s + eta).max(1e-9),
        (None, None) => 0.0,
    }
    .clamp(0.0, 1.0)
}

fn format_seconds(seconds: f64) -> String {
    let total = seconds.round() as u64;
    format!("{}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60)
}
