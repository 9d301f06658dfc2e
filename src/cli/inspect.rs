//! `cadenza inspect`: what a MIDI file or a folder of them holds.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::{Result, bail};
use cadenza_core::corpus::{self, Corpus, LoadProgress, Summary};
use cadenza_core::midi;
use cadenza_core::stats::{
    CorpusComparison, CorpusProfile, MusicStats, PITCH_CLASS_NAMES, pitch_name,
};

/// Prints what `path` (a MIDI file or a folder) holds: text, JSON, or a file's notes as CSV.
pub fn run(path: &Path, json: bool, notes: bool, compare_corpus: Option<&Path>) -> Result<()> {
    let started = Instant::now();
    let corpus = if path.is_file() {
        inspect_file(path, notes)?
    } else if notes || compare_corpus.is_some() {
        bail!(
            "--notes and --compare-corpus need a single MIDI file, and {} is a folder",
            path.display()
        );
    } else {
        let show_progress = std::io::stderr().is_terminal();
        load_corpus_with_progress(path, show_progress)?
    };
    if notes {
        return Ok(());
    }
    let summary = corpus.summary();
    let music = match (path.is_file(), corpus.pieces.first()) {
        (true, Some(piece)) => Some(music_report(&piece.piece, compare_corpus)?),
        _ => None,
    };
    if json {
        let mut object = serde_json::to_value(&summary)?;
        if let (Some(fields), Some(music)) = (object.as_object_mut(), &music) {
            fields.extend(
                serde_json::to_value(&music.stats)?
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            );
            if let Some(comparison) = &music.comparison {
                fields.insert(
                    "compare_corpus".to_string(),
                    serde_json::to_value(comparison)?,
                );
            }
        }
        println!("{}", serde_json::to_string_pretty(&object)?);
    } else {
        print_summary(path, &summary, started.elapsed().as_secs_f64());
        if let Some(music) = &music {
            print_music(music);
        }
    }
    if summary.parsed == 0 {
        bail!("none of the {} MIDI files could be read", summary.files);
    }
    Ok(())
}

/// Loads a corpus folder, showing a progress line on a terminal.
pub fn load_corpus_with_progress(path: &Path, show_progress: bool) -> Result<Corpus> {
    let progress = |p: LoadProgress| {
        if show_progress && p.done.is_multiple_of(16) {
            eprint!("\rparsing {}/{}", p.done, p.total);
        }
    };
    let corpus = corpus::load_dir(path, &progress)?;
    if show_progress {
        eprint!("\r\x1b[K"); // clear the progress line
    }
    Ok(corpus)
}

/// A single file is inspected as a one-piece corpus; unlike in a folder, a bad file is an error.
fn inspect_file(path: &Path, print_notes: bool) -> Result<Corpus> {
    let root = path.parent().unwrap_or(Path::new(""));
    let mut corpus = corpus::load_files(root, &[path.to_path_buf()], &|_| {});
    if let Some(skipped) = corpus.skipped.first() {
        bail!("{}: {}", skipped.path.display(), skipped.reason);
    }
    for piece in &mut corpus.pieces {
        piece.composer = None;
        if print_notes {
            print_notes_csv(&piece.piece.notes)?;
        }
    }
    Ok(corpus)
}

fn print_notes_csv(notes: &[midi::Note]) -> Result<()> {
    let write = || -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        writeln!(out, "pitch,start_s,end_s,velocity")?;
        for n in notes {
            writeln!(
                out,
                "{},{:.6},{:.6},{}",
                n.pitch, n.start_s, n.end_s, n.velocity
            )?;
        }
        out.flush()
    };
    match write() {
        // The reader went away (`| head`): not an error for a command-line filter.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => Ok(result?),
    }
}

fn print_summary(path: &Path, summary: &Summary, elapsed_s: f64) {
    println!("{}", path.display());
    println!(
        "  files      {} ({} parsed, {} skipped)",
        summary.files,
        summary.parsed,
        summary.skipped.len()
    );
    println!("  notes      {}", summary.notes);
    println!("  events     {}", summary.events);
    println!("  duration   {}", format_duration(summary.duration_s));
    if let (Some(low), Some(high)) = (summary.pitch_min, summary.pitch_max) {
        println!(
            "  range      {} ({low}) to {} ({high})",
            pitch_name(low),
            pitch_name(high)
        );
    }
    let classes: Vec<String> = PITCH_CLASS_NAMES
        .iter()
        .zip(summary.pitch_class_histogram)
        .map(|(name, share)| format!("{name} {:.1}%", share * 100.0))
        .collect();
    println!("  pitch classes  {}", classes.join("  "));
    println!(
        "  bar grid   {} of {} pieces follow their own tempo map and meter (median {:.0} % of onsets on it)",
        summary.grid_pieces,
        summary.parsed,
        summary.median_grid_fit * 100.0
    );
    if !summary.composers.is_empty() {
        let composers: Vec<String> = summary
            .composers
            .iter()
            .map(|(name, n)| format!("{name} ({n})"))
            .collect();
        println!(
            "  composers  {}: {}",
            summary.composers.len(),
            composers.join(", ")
        );
    }
    for skipped in &summary.skipped {
        println!(
            "  skipped    {}: {}",
            skipped.path.display(),
            skipped.reason
        );
    }
    println!("  read in    {elapsed_s:.2} s");
}

/// The musical statistics of one file, and how it compares with a corpus.
struct MusicReport {
    stats: MusicStats,
    comparison: Option<CorpusComparison>,
}

fn music_report(piece: &midi::Piece, compare_corpus: Option<&Path>) -> Result<MusicReport> {
    let stats = MusicStats::of_piece(piece);
    let comparison = match compare_corpus {
        Some(dir) => {
            let corpus = load_corpus_with_progress(dir, std::io::stderr().is_terminal())?;
            let profile = CorpusProfile::of_pieces(corpus.pieces.iter().map(|p| &p.piece));
            let Some(comparison) = profile.compare(&stats) else {
                bail!("no MIDI file in {} could be read", dir.display());
            };
            Some(comparison)
        }
        None => None,
    };
    Ok(MusicReport { stats, comparison })
}

fn print_music(music: &MusicReport) {
    let stats = &music.stats;
    println!("  density    {:.2} notes/s", stats.notes_per_s);
    println!(
        "  polyphony  {:.2} notes sounding on average",
        stats.mean_polyphony
    );
    println!(
        "  velocity   {:.1} mean, {:.1} standard deviation",
        stats.velocity_mean, stats.velocity_std
    );
    println!("  note length {:.3} s median", stats.median_note_s);
    if let Some(c) = &music.comparison {
        println!(
            "  vs corpus  pitch classes {:.3} bits apart (Jensen-Shannon; 0 = identical)",
            c.pitch_class_js_divergence
        );
        println!(
            "             density {:.2} notes/s: denser than {:.0}% of the corpus (min {:.2}, median {:.2}, max {:.2})",
            c.notes_per_s,
            c.notes_per_s_percentile * 100.0,
            c.corpus_notes_per_s_min,
            c.corpus_notes_per_s_median,
            c.corpus_notes_per_s_max
        );
        for (name, value, spread, unit) in [
            (
                "polyphony",
                stats.mean_polyphony,
                c.corpus_mean_polyphony,
                "",
            ),
            (
                "note length",
                stats.median_note_s,
                c.corpus_median_note_s,
                " s",
            ),
            (
                "velocity spread",
                stats.velocity_std,
                c.corpus_velocity_std,
                "",
            ),
        ] {
            println!(
                "             {name} {value:.2}{unit}: {} the corpus's range (min {:.2}, median {:.2}, max {:.2})",
                if spread.contains(value) {
                    "inside"
                } else {
                    "outside"
                },
                spread.min,
                spread.median,
                spread.max
            );
        }
    }
}

fn format_duration(seconds: f64) -> String {
    let total = seconds.round() as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h}h {m:02}m {s:02}s")
    } else {
        format!("{m}m {s:02}s")
    }
}
