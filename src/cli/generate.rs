//! `cadenza generate`: sample new pieces from a checkpoint into MIDI files.

use std::path::PathBuf;

use anyhow::{Context, Result};
use cadenza_core::controls::{ControlPlan, Curve, Key, KeyChange, Loudness, MeterChange};
use cadenza_core::generate::{
    self, AssistLevel, DEFAULT_BARS, DEFAULT_PRIMER_SECONDS, DEFAULT_SECONDS, GenerateEvent,
    GenerateRequest, Length, Primer, SamplingSettings, Take, Update,
};
use cadenza_core::model::DeviceChoice;
use cadenza_core::music::form::Form;
use cadenza_core::music::quantize::Quantize;
use cadenza_core::music::time_signature::TimeSignature;
use cadenza_core::worker::no_repaint;
use cadenza_core::{checkpoint, files, starter};

use crate::cli::console;

/// Arguments of `cadenza generate`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Checkpoint to sample from (stem, .safetensors or .json), or "starter" for the model that ships with Cadenza.
    #[arg(long, value_parser = crate::cli::checkpoint_arg)]
    checkpoint: PathBuf,
    /// MIDI file to write; with --variations N, FILE-1.mid … FILE-N.mid.
    #[arg(long)]
    out: PathBuf,
    /// Seconds of new music after the primer, instead of bars [default in free time: 30].
    #[arg(long, conflicts_with_all = ["events", "bars"])]
    seconds: Option<f64>,
    /// Number of new events after the primer, instead of bars.
    #[arg(long, conflicts_with = "bars")]
    events: Option<usize>,
    /// Bars of new music, ending on a bar line [default on a grid: 12].
    #[arg(long)]
    bars: Option<u32>,
    /// Free time: no bar grid (by default a model that reads one writes in bars at 90 bpm in
    /// 4/4, as the app does; a primer goes on in its own time).
    #[arg(long, conflicts_with_all = ["bars", "tempo", "meter", "form"])]
    free: bool,
    #[command(flatten)]
    sampling: SamplingFlags,
    /// A MIDI file whose opening the model continues.
    #[arg(long)]
    primer: Option<PathBuf>,
    /// How much of the primer file to use, in seconds.
    #[arg(long, default_value_t = DEFAULT_PRIMER_SECONDS)]
    primer_seconds: f64,
    /// Number of pieces to sample together.
    #[arg(long, default_value_t = 1)]
    variations: usize,
    /// auto (CUDA when available), cpu or cuda.
    #[arg(long, default_value = "auto")]
    device: DeviceChoice,
    /// Move each note this many percent of the way to the bar grid's nearest sixteenth or
    /// triplet in the file written (for notation); 0 keeps every expressive offset.
    #[arg(long, default_value_t = 0.0, value_parser = percent)]
    quantize: f64,
    /// Print one JSON summary per written file instead of text.
    #[arg(long)]
    json: bool,
}

/// A percentage from 0 to 100.
fn percent(text: &str) -> Result<f64, String> {
    match text.trim_end_matches('%').parse::<f64>() {
        Ok(value) if (0.0..=100.0).contains(&value) => Ok(value),
        _ => Err(format!("{text:?} is not a percentage from 0 to 100")),
    }
}

/// How to sample and what to ask for: the flags `generate` and `regenerate` share.
#[derive(Debug, clap::Args)]
pub struct SamplingFlags {
    /// Divides the logits: below 1 plays safe, above 1 takes risks.
    #[arg(long, default_value_t = 1.0)]
    temperature: f64,
    /// How strongly the sampler's rules (keep time, echo the phrase, texture, let go of held
    /// notes, the settled key) lean on the network's choices: none (the network alone), light or
    /// strong.
    #[arg(long, default_value_t = AssistLevel::default())]
    assist: AssistLevel,
    /// Sample only from the k most likely events.
    #[arg(long)]
    top_k: Option<usize>,
    /// Then only from the most likely events that together reach probability p (nucleus sampling).
    #[arg(long)]
    top_p: Option<f64>,
    /// Seed of the first variation or candidate (the others use seed+1, seed+2 …); random when
    /// left out.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Key to write in, e.g. "D minor" or "F# major" (a steerable model; default: any).
    #[arg(long)]
    key: Option<Key>,
    /// Notes per second to aim for (mapped to the nearest density bin: 0.5, 1, 2, 4 … 64).
    #[arg(long)]
    density: Option<f64>,
    /// soft, medium or loud.
    #[arg(long)]
    loudness: Option<Loudness>,
    /// A style the model knows: one of its corpus's composers (an unknown name is refused with
    /// the list of those it knows).
    #[arg(long)]
    style: Option<String>,
    /// Beats per minute to keep (20–300; a model with the bar grid) [default: 90].
    #[arg(long)]
    tempo: Option<f64>,
    /// Time signature of the bars, e.g. 3/4 or 6/8 (a model with the bar grid) [default: 4/4].
    #[arg(long)]
    meter: Option<TimeSignature>,
    /// Sections of bars from the start of the new music, a letter used again repeating its
    /// section, e.g. "A4 B4 A4" (a model with the bar grid; 90 bpm in 4/4 unless asked).
    #[arg(long)]
    form: Option<Form>,
    /// How much a repeated section changes, 0 (the same notes) to 1 (every bar anew) [default:
    /// 0.3].
    #[arg(long)]
    variation: Option<f64>,
    /// A JSON file of controls that change along the piece (format in the README); --key,
    /// --density, --loudness, --style, --tempo, --meter, --form and --variation override its
    /// parts.
    #[arg(long)]
    controls: Option<PathBuf>,
}

impl SamplingFlags {
    /// The seed given, or a random one short enough to type back in.
    pub fn seed_or_random(&self) -> u64 {
        self.seed
            .unwrap_or_else(|| u64::from(rand::random::<u32>()))
    }

    /// Settings for `length` and `variations`, with this temperature, top-k, top-p and `seed`.
    pub fn settings(&self, length: Length, variations: usize, seed: u64) -> SamplingSettings {
        SamplingSettings {
            length,
            temperature: self.temperature,
            top_k: self.top_k,
            top_p: self.top_p,
            seed,
            variations,
            assist: self.assist.assist(),
        }
    }

    /// The controls file, if any, with the flags laid over it.
    pub fn controls(&self) -> Result<ControlPlan> {
        let mut plan = match &self.controls {
            Some(path) => {
                let text = files::read_bounded(path, 16 << 20)
                    .with_context(|| format!("reading {}", path.display()))?;
                serde_json::from_slice(&text)
                    .with_context(|| format!("{}: not a controls file", path.display()))?
            }
            None => ControlPlan::default(),
        };
        if let Some(key) = self.key {
            plan.key = vec![KeyChange {
                at_s: 0.0,
                key: Some(key),
            }];
        }
        if let Some(density) = self.density {
            plan.density = Curve::constant(density);
        }
        if let Some(loudness) = self.loudness {
            plan.loudness = Curve::constant(loudness.velocity());
        }
        if let Some(style) = &self.style {
            plan.style = Some(style.clone());
        }
        if let Some(bpm) = self.tempo {
            plan.tempo = Curve::constant(bpm);
        }
        if let Some(form) = &self.form {
            plan.form = Some(form.clone());
        }
        if let Some(variation) = self.variation {
            plan.variation = Some(variation);
        }
        if let Some(signature) = self.meter {
            plan.meter = vec![MeterChange {
                at_s: 0.0,
                signature,
            }];
        }
        plan.validate().map_err(anyhow::Error::msg)?;
        Ok(plan)
    }
}

impl GenerateArgs {
    /// What to ask the model for: the flags and controls file, in bars at the default tempo and
    /// meter where they ask no time of their own and the model reads a grid (unless --free, or a
    /// primer, which goes on in its own time).
    fn plan(&self) -> Result<ControlPlan> {
        let plan = self.sampling.controls()?;
        // Only the description is read here; the weights load once, in the job.
        let reads_meter = checkpoint::load_meta(&self.checkpoint)
            .ok()
            .and_then(|meta| meta.controls)
            .is_some_and(|learned| learned.reads_meter());
        Ok(if reads_meter && !self.free && self.primer.is_none() {
            plan.in_default_bars()
        } else {
            plan
        })
    }

    /// The sampling settings: the length asked, else bars on a grid and seconds in free time
    /// (the app's defaults).
    fn settings(&self, seed: u64, plan: &ControlPlan) -> SamplingSettings {
        let length = match (self.events, self.bars, self.seconds) {
            (Some(events), _, _) => Length::Events(events),
            (None, Some(bars), _) => Length::Bars(bars),
            (None, None, Some(seconds)) => Length::Seconds(seconds),
            (None, None, None) if plan.asks_meter() => Length::Bars(DEFAULT_BARS),
            (None, None, None) => Length::Seconds(DEFAULT_SECONDS),
        };
        self.sampling.settings(length, self.variations, seed)
    }

    fn primer(&self) -> Result<Primer> {
        match &self.primer {
            Some(path) => Ok(Primer::from_file(path, self.primer_seconds)?),
            None => Ok(Primer::none()),
        }
    }
}

/// What `--json` prints for each file written.
#[derive(Debug, serde::Serialize)]
struct Written {
    path: String,
    seed: u64,
    events: usize,
    notes: usize,
    duration_s: f64,
    events_per_s: f64,
    controls: String,
    assist: String,
}

/// Runs `cadenza generate`.
pub fn run(args: &GenerateArgs) -> Result<()> {
    let seed = args.sampling.seed_or_random();
    let controls = args.plan()?;
    let settings = args.settings(seed, &controls);
    settings.validate()?;
    let request = GenerateRequest {
        checkpoint: args.checkpoint.clone(),
        settings,
        primer: args.primer()?,
        controls,
        device: args.device,
        continues: None,
    };
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    // Every destination is proved writable, and no input is overwritten, before sampling.
    let paths = generate::output_paths(&args.out, settings.variations);
    let guard = starter::output_guard()
        .reading(checkpoint::files(&checkpoint::stem(&args.checkpoint)))
        .reading(args.primer.iter());
    for path in &paths {
        guard.check(path).context("--out")?;
        files::check_writable(path)?;
    }
    let takes = sample_with_progress(request, args.json)?;
    if args.sampling.seed.is_none() && !args.json {
        eprintln!("seed {seed} (pass --seed {seed} to sample the same pieces again)");
    }
    for (take, path) in takes.iter().zip(&paths) {
        take.write_midi(path, Quantize::new(args.quantize / 100.0))
            .with_context(|| format!("writing {}", path.display()))?;
        report_written(take, path, args.json)?;
    }
    Ok(())
}

fn sample_with_progress(request: GenerateRequest, quiet: bool) -> Result<Vec<Take>> {
    let handle = generate::spawn(request, no_repaint());
    console::follow(handle, quiet, "generation", |display, event| match event {
        GenerateEvent::Started { device, .. } => display.line(format!("sampling on {device}")),
        GenerateEvent::Update(Update::Progress {
            events,
            fraction,
            events_per_s,
            eta_s,
        }) => display.status(
            fraction,
            format!(
                "{events} events | {events_per_s:.0} events/s | ETA {}",
                eta_s.map_or("-".to_string(), |s| format!("{s:.0} s"))
            ),
        ),
        GenerateEvent::Update(Update::Notes { .. }) => {}
    })
}

fn report_written(take: &Take, path: &std::path::Path, json: bool) -> Result<()> {
    let written = Written {
        path: path.display().to_string(),
        seed: take.seed,
        events: take.events,
        notes: take.notes.len(),
        duration_s: take.duration_s(),
        events_per_s: take.events_per_s,
        controls: take.controls.summary(),
        assist: take.settings.assist.to_string(),
    };
    if json {
        println!("{}", serde_json::to_string(&written)?);
    } else {
        println!(
            "wrote {}: seed {}, {:.1} s, {} notes, {} events sampled at {:.0} events/s; controls: {}; assist: {}",
            written.path,
            written.seed,
            written.duration_s,
            written.notes,
            written.events,
            written.events_per_s,
            written.controls,
            written.assist
        );
    }
    Ok(())
}
