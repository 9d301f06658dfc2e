//! `cadenza eval`: how well a checkpoint predicts a corpus split or given MIDI files.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use cadenza_core::checkpoint;
use cadenza_core::controls::ControlTrack;
use cadenza_core::corpus::{Skipped, Split};
use cadenza_core::encoding::{self, EventId};
use cadenza_core::eval::{self, EvalPiece};
use cadenza_core::learn::path_report::{self, PathPiece, PathReport};
use cadenza_core::midi;
use cadenza_core::model::structure_paths::StructurePath;
use cadenza_core::model::{self, DeviceChoice};
use cadenza_core::music::meter::Grid;
use clap::{Args, ValueEnum};

/// Which pieces of a corpus to score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SplitChoice {
    /// Every piece.
    All,
    /// The training pieces.
    Train,
    /// The validation pieces (reproduces the checkpoint's validation loss on its own corpus).
    Valid,
}

/// Arguments of `cadenza eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Checkpoint to score with (stem or either file), or "starter" for the model that ships with Cadenza.
    #[arg(long, value_parser = crate::cli::checkpoint_arg)]
    checkpoint: PathBuf,
    /// Score the pieces of this corpus folder.
    #[arg(long, conflicts_with = "files")]
    corpus: Option<PathBuf>,
    /// With --corpus: which split.
    #[arg(long, value_enum, default_value = "all", requires = "corpus")]
    split: SplitChoice,
    /// MIDI files to score.
    files: Vec<PathBuf>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// Also report each piece.
    #[arg(long)]
    per_piece: bool,
    /// Where to run the model.
    #[arg(long, default_value = "auto")]
    device: DeviceChoice,
    /// CPU threads for libtorch.
    #[arg(long)]
    threads: Option<usize>,
    /// Also report what a model's structure paths learned: each path's mean gate in the first
    /// and second half of four-bar phrases, and per composer.
    #[arg(long)]
    paths: bool,
}

#[derive(serde::Serialize)]
struct PieceReport {
    path: String,
    events: usize,
    nll_per_event: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nll_with_controls: Option<f64>,
}

/// One path's mean gates, in nats.
#[derive(serde::Serialize)]
struct PathRow {
    path: &'static str,
    first_half: Option<f64>,
    second_half: Option<f64>,
    by_composer: std::collections::BTreeMap<String, Option<f64>>,
}

#[derive(serde::Serialize)]
struct Report {
    /// With every control absent (the only score of a model without controls).
    nll_per_event: f64,
    perplexity: f64,
    /// A steerable model's score with each piece's own controls and composer (teacher-forced).
    #[serde(skip_serializing_if = "Option::is_none")]
    nll_with_controls: Option<f64>,
    /// A model that reads the bar grid: its score with each piece's own grid (and, for a model
    /// with lookback, what was played a bar and two back on it), other controls absent (pieces
    /// without a usable grid scored with none).
    #[serde(skip_serializing_if = "Option::is_none")]
    nll_with_meter: Option<f64>,
    /// A model with structure paths: the same score with every path closed (its gates zero).
    #[serde(skip_serializing_if = "Option::is_none")]
    nll_with_meter_paths_closed: Option<f64>,
    /// With --paths: each path's mean gate in nats where it links an event.
    #[serde(skip_serializing_if = "Option::is_none")]
    paths: Option<Vec<PathRow>>,
    /// Pieces whose onsets follow their own bar grid.
    grid_pieces: usize,
    events: usize,
    pieces: usize,
    skipped: Vec<Skipped>,
    #[serde(skip_serializing_if = "Option::is_none")]
    per_piece: Option<Vec<PieceReport>>,
}

/// Runs `cadenza eval`.
pub fn run(args: &EvalArgs) -> Result<()> {
    let (paths, pieces, skipped) = gather_pieces(args)?;
    if pieces.is_empty() {
        let why: Vec<String> = skipped.iter().map(|s| s.reason.clone()).collect();
        bail!("nothing to score: no readable piece ({})", why.join("; "));
    }
    if let Some(threads) = args.threads {
        model::set_threads(threads);
    }
    let device = model::resolve_device(args.device).map_err(anyhow::Error::msg)?;
    let loaded = checkpoint::load_model(&args.checkpoint, device.device)?;
    let sequences: Vec<(Vec<EventId>, ControlTrack)> = pieces
        .iter()
        .map(|p| {
            let events = eval::model_sequence(loaded.meta.encoding(), &p.events);
            let track = ControlTrack::of_events(&events, p.grid.as_ref());
            (events, track)
        })
        .collect();
    // Every control absent (None), each piece's own controls and composer (Some(false)), or
    // its bar grid alone (Some(true)).
    let score_with = |model: &model::EventLstm, meter_only: Option<bool>| {
        let eval_pieces: Vec<EvalPiece> = sequences
            .iter()
            .zip(&pieces)
            .map(
                |((events, track), piece)| match (&loaded.meta.controls, meter_only) {
                    (Some(meta), Some(meter_only)) => EvalPiece {
                        events,
                        controls: Some(track),
                        style: match meter_only {
                            true => 0,
                            false => piece
                                .composer
                                .as_deref()
                                .and_then(|c| meta.style_index(c))
                                .unwrap_or(0),
                        },
                        meter_only,
                    },
                    _ => EvalPiece::plain(events),
                },
            )
            .collect();
        eval::score_pieces(
            model,
            &eval_pieces,
            loaded.meta.train.seq_len,
            device.device,
        )
    };
    let score = score_with(&loaded.model, None);
    let controlled = loaded
        .meta
        .controls
        .is_some()
        .then(|| score_with(&loaded.model, Some(false)));
    let reads_meter = loaded
        .meta
        .controls
        .as_ref()
        .is_some_and(|c| c.reads_meter());
    let metered = reads_meter.then(|| score_with(&loaded.model, Some(true)));
    let closed = match loaded.model.path_gates() {
        Some(_) if reads_meter => {
            let closed = checkpoint::load_model(&args.checkpoint, device.device)?;
            closed.model.close_structure_paths();
            Some(score_with(&closed.model, Some(true)).nll_per_event())
        }
        _ => None,
    };
    let path_rows = if args.paths {
        let with_grid: Vec<PathPiece> = sequences
            .iter()
            .zip(&pieces)
            .filter_map(|((events, track), piece)| {
                Some(PathPiece {
                    events,
                    track,
                    grid: piece.grid.as_ref()?,
                    composer: piece.composer.as_deref(),
                })
            })
            .collect();
        let report = path_report::path_report(
            &loaded.model,
            &with_grid,
            loaded.meta.train.seq_len,
            device.device,
        )
        .context("--paths: this model has no structure paths")?;
        Some(path_rows_of(&report))
    } else {
        None
    };
    let report = Report {
        nll_per_event: score.nll_per_event(),
        perplexity: score.perplexity(),
        nll_with_controls: controlled.as_ref().map(eval::Score::nll_per_event),
        nll_with_meter: metered.as_ref().map(eval::Score::nll_per_event),
        nll_with_meter_paths_closed: closed,
        paths: path_rows,
        grid_pieces: pieces.iter().filter(|p| p.grid.is_some()).count(),
        events: score.events(),
        pieces: pieces.len(),
        skipped,
        per_piece: args.per_piece.then(|| {
            paths
                .iter()
                .zip(&score.pieces)
                .enumerate()
                .map(|(i, (path, piece))| PieceReport {
                    path: path.clone(),
                    events: piece.events,
                    nll_per_event: piece.nll_per_event(),
                    nll_with_controls: controlled.as_ref().map(|c| c.pieces[i].nll_per_event()),
                })
                .collect()
        }),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(())
}

/// The report's rows, one per path.
fn path_rows_of(report: &PathReport) -> Vec<PathRow> {
    StructurePath::ALL
        .iter()
        .map(|&path| PathRow {
            path: path.name(),
            first_half: report.first_half.mean(path),
            second_half: report.second_half.mean(path),
            by_composer: report
                .by_composer
                .iter()
                .map(|(composer, means)| (composer.clone(), means.mean(path)))
                .collect(),
        })
        .collect()
}

/// A piece to score: its events (without a start event) and its composer, if known.
struct ScoredPiece {
    events: Vec<EventId>,
    composer: Option<String>,
    /// Its bar grid, if its onsets follow it.
    grid: Option<Grid>,
}

type Gathered = (Vec<String>, Vec<ScoredPiece>, Vec<Skipped>);

/// The pieces to score, encoded as training encodes them (pedal applied, no augmentation).
fn gather_pieces(args: &EvalArgs) -> Result<Gathered> {
    if let Some(dir) = &args.corpus {
        let corpus = cadenza_core::corpus::load_dir(dir, &|_| {})?;
        let wanted = |split: Split| match args.split {
            SplitChoice::All => true,
            SplitChoice::Train => split == Split::Train,
            SplitChoice::Valid => split == Split::Valid,
        };
        let chosen: Vec<_> = corpus.pieces.iter().filter(|p| wanted(p.split)).collect();
        return Ok((
            chosen
                .iter()
                .map(|p| p.path.display().to_string())
                .collect(),
            chosen
                .iter()
                .map(|p| ScoredPiece {
                    events: p.events.clone(),
                    composer: p.composer.clone(),
                    grid: p.piece.usable_grid().cloned(),
                })
                .collect(),
            corpus.skipped,
        ));
    }
    if args.files.is_empty() {
        bail!("give --corpus DIR or one or more MIDI files");
    }
    let (mut paths, mut pieces, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    for path in &args.files {
        match midi::read_file(path).with_context(|| path.display().to_string()) {
            Ok(piece) => {
                paths.push(path.display().to_string());
                pieces.push(ScoredPiece {
                    events: encoding::encode_piece(&piece),
                    composer: None,
                    grid: piece.usable_grid().cloned(),
                });
            }
            Err(err) => skipped.push(Skipped {
                path: path.clone(),
                reason: format!("{err:#}"),
            }),
        }
    }
    Ok((paths, pieces, skipped))
}

fn print_report(report: &Report) {
    println!(
        "{:.4} nats/event (perplexity {:.2}) over {} events in {} pieces",
        report.nll_per_event, report.perplexity, report.events, report.pieces
    );
    if let Some(nll) = report.nll_with_controls {
        println!(
            "{nll:.4} nats/event with each piece's own controls (the line above: every control absent)"
        );
    }
    if let Some(nll) = report.nll_with_meter {
        println!(
            "{nll:.4} nats/event with each piece's own bar grid only (and its lookback; {} of {} pieces have one)",
            report.grid_pieces, report.pieces
        );
    }
    if let Some(nll) = report.nll_with_meter_paths_closed {
        println!("{nll:.4} nats/event the same with the structure paths closed");
    }
    if let Some(rows) = &report.paths {
        print_paths(rows);
    }
    for piece in report.per_piece.iter().flatten() {
        let controlled = piece
            .nll_with_controls
            .map_or(String::new(), |n| format!("  ({n:.4} with controls)"));
        println!(
            "  {:.4}{controlled}  {:>8} events  {}",
            piece.nll_per_event, piece.events, piece.path
        );
    }
    for skipped in &report.skipped {
        println!("  skipped {}: {}", skipped.path.display(), skipped.reason);
    }
}

/// Each path's mean gate by phrase half, then per composer.
fn print_paths(rows: &[PathRow]) {
    let nats = |gate: Option<f64>| gate.map_or("—".to_string(), |g| format!("{g:+.2}"));
    println!(
        "structure paths: mean gate in nats where the path links an event (bars 1–2 · 3–4 of {}-bar phrases)",
        path_report::PHRASE_BARS
    );
    for row in rows {
        println!(
            "  {:<14} {} · {}",
            row.path,
            nats(row.first_half),
            nats(row.second_half)
        );
    }
    let Some(first) = rows.first() else {
        return;
    };
    println!("per composer: {}", names(rows));
    for composer in first.by_composer.keys() {
        let gates: Vec<String> = rows
            .iter()
            .map(|row| nats(row.by_composer.get(composer).copied().flatten()))
            .collect();
        println!("  {composer:<14} {}", gates.join(" "));
    }
}

/// The paths' names, in column order.
fn names(rows: &[PathRow]) -> String {
    let names: Vec<&str> = rows.iter().map(|row| row.path).collect();
    names.join(" · ")
}
