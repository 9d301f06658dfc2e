//! `cadenza regenerate`: redo a passage of a MIDI file, keeping the music around it.

use std::path::PathBuf;

use anyhow::{Context, Result};
use cadenza_core::generate::Length;
use cadenza_core::midi::{self, Piece};
use cadenza_core::model::DeviceChoice;
use cadenza_core::regenerate::{
    self, Candidate, DEFAULT_CANDIDATES, Passage, RegenerateRequest, SCORED_SECONDS,
};
use cadenza_core::worker::no_repaint;
use cadenza_core::{checkpoint, files, starter};

use crate::cli::console;
use crate::cli::generate::SamplingFlags;

/// Arguments of `cadenza regenerate`.
#[derive(Debug, clap::Args)]
pub struct RegenerateArgs {
    /// The MIDI file whose passage is redone.
    file: PathBuf,
    /// Checkpoint to sample from (stem, .safetensors or .json), or "starter" for the model that ships with Cadenza.
    #[arg(long, value_parser = crate::cli::checkpoint_arg)]
    checkpoint: PathBuf,
    /// Where the passage starts, in seconds.
    #[arg(long)]
    start: f64,
    /// Where it ends, in seconds.
    #[arg(long)]
    end: f64,
    /// Candidates to sample and rank.
    #[arg(long, default_value_t = DEFAULT_CANDIDATES)]
    candidates: usize,
    #[command(flatten)]
    sampling: SamplingFlags,
    /// MIDI file to write: the file with the best candidate in the passage.
    #[arg(long)]
    out: PathBuf,
    /// auto (CUDA when available), cpu or cuda.
    #[arg(long, default_value = "auto")]
    device: DeviceChoice,
    /// Print one JSON object: every candidate's score and which was chosen.
    #[arg(long)]
    json: bool,
}

#[derive(serde::Serialize)]
struct CandidateReport {
    rank: usize,
    seed: u64,
    score: f64,
    scored_events: usize,
    notes: usize,
}

#[derive(serde::Serialize)]
struct Report {
    path: String,
    start_s: f64,
    end_s: f64,
    scored_seconds: f64,
    chosen: usize,
    candidates: Vec<CandidateReport>,
}

/// Runs `cadenza regenerate`.
pub fn run(args: &RegenerateArgs) -> Result<()> {
    let passage = Passage {
        start_s: args.start,
        end_s: args.end,
    };
    passage.validate()?;
    let piece = midi::read_file(&args.file).with_context(|| args.file.display().to_string())?;
    let notes = midi::apply_sustain(&piece);
    passage.validate_within(&notes)?;
    starter::output_guard()
        .reading([&args.file])
        .reading(checkpoint::files(&checkpoint::stem(&args.checkpoint)))
        .check(&args.out)
        .context("--out")?;
    files::check_writable(&args.out)?;
    let seed = args.sampling.seed_or_random();
    let request = RegenerateRequest {
        checkpoint: args.checkpoint.clone(),
        notes,
        passage,
        candidates: args.candidates,
        settings: args.sampling.settings(Length::Events(1), 1, seed),
        controls: args.sampling.controls()?,
        device: args.device,
        grid: piece.usable_grid().cloned(),
    };
    let parts = regenerate::split(&request.notes, passage);
    let ranked = run_with_progress(request, args.json)?;
    let best = ranked.first().context("no candidate was sampled")?;
    let description = serde_json::json!({
        "generator": format!("cadenza {}", env!("CARGO_PKG_VERSION")),
        "regenerated": {"start_s": args.start, "end_s": args.end, "seed": best.seed},
        "checkpoint": args.checkpoint.display().to_string(),
    })
    .to_string();
    let grid = piece.usable_grid().cloned();
    midi::write_file(
        &Piece {
            grid,
            ..Piece::from_notes(best.assemble(&parts))
        },
        &args.out,
        Some(&description),
    )
    .with_context(|| format!("writing {}", args.out.display()))?;
    report(args, &ranked)
}

fn run_with_progress(request: RegenerateRequest, quiet: bool) -> Result<Vec<Candidate>> {
    let handle = regenerate::spawn(request, no_repaint());
    console::follow(handle, quiet, "regeneration", |display, progress| {
        display.status(
            progress.fraction,
            format!(
                "sampling and scoring candidates | ETA {}",
                progress
                    .eta_s
                    .map_or("-".to_string(), |s| format!("{s:.0} s"))
            ),
        );
    })
}

fn report(args: &RegenerateArgs, ranked: &[Candidate]) -> Result<()> {
    let report = Report {
        path: args.out.display().to_string(),
        start_s: args.start,
        end_s: args.end,
        scored_seconds: SCORED_SECONDS,
        chosen: 0,
        candidates: ranked
            .iter()
            .enumerate()
            .map(|(rank, c)| CandidateReport {
                rank,
                seed: c.seed,
                score: c.score,
                scored_events: c.scored_events,
                notes: c.notes.len(),
            })
            .collect(),
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    println!(
        "wrote {}: {:.2}–{:.2} s redone with the best of {} candidates (seed {})",
        report.path,
        args.start,
        args.end,
        ranked.len(),
        ranked[0].seed
    );
    for c in &report.candidates {
        println!(
            "  #{} seed {}: {:.2} nats over the next {} events, {} notes",
            c.rank + 1,
            c.seed,
            c.score,
            c.scored_events,
            c.notes
        );
    }
    Ok(())
}
