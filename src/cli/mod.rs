//! Command-line interface: parses arguments, then one module per command prints what the core
//! computed.

mod console;
mod demo_corpus;
mod eval;
mod generate;
mod inspect;
mod live;
mod regenerate;
mod render;
mod train;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Cadenza: train an LSTM on piano MIDI files and compose new pieces in their style.
#[derive(Debug, Parser)]
#[command(name = "cadenza", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Print what Cadenza does (timestamped records, as the app's log has them) on stderr.
    #[arg(long, short, global = true)]
    verbose: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show what a MIDI file or a folder of them (a corpus) contains.
    Inspect {
        /// A MIDI file, or a folder searched recursively for .mid/.midi files.
        path: PathBuf,
        /// Print one JSON object on stdout instead of text.
        #[arg(long)]
        json: bool,
        /// Print the raw notes of a single file as CSV (pitch,start_s,end_s,velocity).
        #[arg(long, conflicts_with = "json")]
        notes: bool,
        /// For a single file: compare its pitch classes and note density with this corpus folder.
        #[arg(long, value_name = "DIR")]
        compare_corpus: Option<PathBuf>,
    },
    /// Write the built-in demo corpus (scales, arpeggios, cadences, Alberti bass) into a folder.
    DemoCorpus {
        /// Folder to create (or add to).
        dir: PathBuf,
    },
    /// Train an LSTM on a corpus (or continue training a checkpoint).
    Train(Box<train::TrainArgs>),
    /// Measure how well a checkpoint predicts pieces (negative log-likelihood per event).
    Eval(eval::EvalArgs),
    /// Compose new pieces with a trained checkpoint and write them as MIDI files.
    Generate(Box<generate::GenerateArgs>),
    /// Redo a passage of a MIDI file: candidates ranked by how well the music after it follows.
    Regenerate(Box<regenerate::RegenerateArgs>),
    /// Play a MIDI file through the SoundFont piano into a WAV file.
    Render(render::RenderArgs),
    /// List the MIDI inputs and outputs (keyboards, synths, DAWs).
    Ports,
    /// Call and response: play a phrase on a MIDI keyboard; after a silence Cadenza answers it
    /// on a MIDI output. Ctrl+C ends.
    Duet(live::DuetArgs),
    /// Open the app on a corpus folder (Corpus panel) or a MIDI file (shown in the piano roll).
    Open {
        /// A folder of MIDI files, or one MIDI file (none: the app as it starts).
        path: Option<PathBuf>,
    },
}

/// Parses a `--checkpoint` argument: a stem or either file, or "starter" for the starter model.
fn checkpoint_arg(text: &str) -> Result<std::path::PathBuf, String> {
    Ok(cadenza_core::starter::resolve(std::path::Path::new(text)))
}

/// A command whose output is piped into a reader that stops early (`cadenza inspect … | head -1`)
/// ends as Unix tools do, by SIGPIPE, instead of panicking in `println!` (Rust ignores SIGPIPE).
/// Not for `train`, which must save however its output is read.
fn die_quietly_when_the_reader_goes() {
    // SAFETY: restoring a signal's default disposition before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Runs the command line and turns errors into a one-line message and a non-zero exit.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let app = matches!(cli.command, None | Some(Command::Open { .. }));
    if !app {
        // The app sets up its own records (its log file, plus stderr with --verbose).
        crate::log::init(crate::log::Destinations {
            file: None,
            stderr: cli.verbose,
        });
    }
    if !app && !matches!(cli.command, Some(Command::Train(_))) {
        die_quietly_when_the_reader_goes();
    }
    let result = match cli.command {
        Some(Command::Inspect {
            path,
            json,
            notes,
            compare_corpus,
        }) => inspect::run(&path, json, notes, compare_corpus.as_deref()),
        Some(Command::DemoCorpus { dir }) => demo_corpus::run(&dir),
        Some(Command::Train(args)) => train::run(&args),
        Some(Command::Eval(args)) => eval::run(&args),
        Some(Command::Generate(args)) => generate::run(&args),
        Some(Command::Regenerate(args)) => regenerate::run(&args),
        Some(Command::Render(args)) => render::run(&args),
        Some(Command::Ports) => live::ports(),
        Some(Command::Duet(args)) => live::duet(&args),
        Some(Command::Open { path }) => crate::app::run(path, cli.verbose),
        None => crate::app::run(None, cli.verbose),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
