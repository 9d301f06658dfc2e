//! `cadenza render`: a MIDI file to a WAV file through the SoundFont piano.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use cadenza_core::audio::{self, DEFAULT_GAIN, DEFAULT_TAIL_S, PianoSynth, WavFormat};
use cadenza_core::{files, midi, starter};

use crate::cli::console::Display;

/// Arguments of `cadenza render`.
#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// The MIDI file to play.
    midi: PathBuf,
    /// The WAV file to write.
    #[arg(long)]
    out: PathBuf,
    /// SoundFont (.sf2/.sf3) to use instead of the first one found.
    #[arg(long)]
    soundfont: Option<PathBuf>,
    /// Synth gain; the default keeps dense piano writing below 0 dBFS.
    #[arg(long, default_value_t = DEFAULT_GAIN)]
    gain: f32,
    /// Sample format: s16 (16-bit) or f32 (32-bit float).
    #[arg(long, default_value = "s16")]
    format: WavFormat,
    /// Seconds of sound after the last release, so the last notes ring out.
    #[arg(long, default_value_t = DEFAULT_TAIL_S)]
    tail: f64,
}

/// Runs `cadenza render`.
pub fn run(args: &RenderArgs) -> Result<()> {
    audio::validate_render(args.gain, args.tail)?;
    if args
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("mid") || e.eq_ignore_ascii_case("midi"))
    {
        bail!(
            "--out {} would overwrite a MIDI file; name a .wav file",
            args.out.display()
        );
    }
    starter::output_guard()
        .reading([&args.midi])
        .reading(args.soundfont.iter())
        .check(&args.out)
        .context("--out")?;
    files::check_writable(&args.out)?;
    let piece = midi::read_file(&args.midi)
        .with_context(|| format!("cannot read {}", args.midi.display()))?;
    let soundfont = match &args.soundfont {
        Some(path) => path.clone(),
        None => audio::find_soundfont(None)?,
    };
    let synth = PianoSynth::new(&soundfont, args.gain)?;
    let started = Instant::now();
    let display = Display::new();
    display.line(format!(
        "rendering {} ({:.1} s) with {}",
        args.midi.display(),
        piece.duration_s(),
        soundfont.display()
    ));
    let display = std::cell::RefCell::new(display);
    let rendered = audio::render_wav(&piece, synth, args.tail, &args.out, args.format, &|done| {
        display
            .borrow_mut()
            .status(done, format!("{:.0}%", done * 100.0));
    });
    display.borrow().bar.finish_and_clear();
    let audio::Rendered { seconds, peak } = rendered?;
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "wrote {}: {seconds:.1} s, peak {:.1} dBFS, rendered at {:.0}x real time",
        args.out.display(),
        20.0 * peak.max(1e-9).log10(),
        seconds / elapsed.max(1e-9)
    );
    if peak > 1.0 {
        eprintln!("warning: the peak is above 0 dBFS: s16 output clips; lower --gain");
    }
    Ok(())
}
