//! Render speed: Cadenza's offline render of a dense corpus piece (Chopin, op. 25 no. 12) beside
//! the `fluidsynth` command-line renderer (Debian's `fluidsynth`) with the same SoundFont, sample
//! rate, gain, polyphony, reverb and chorus, in the same run. Release build:
//!
//!   cargo bench --bench render
//!
//! Skips (saying why) without the shared corpus, the system SoundFont or `fluidsynth`.

#[path = "../tests/support/fixtures.rs"]
mod fixtures;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use cadenza_core::audio::{self, DEFAULT_GAIN, DEFAULT_TAIL_S, PianoSynth, SAMPLE_RATE};
use cadenza_core::midi;

const PIECE: &str = "midis/Chopin/chpn_op25_e12.mid";

fn main() {
    let Some(corpus) = fixtures::shared_corpus("render benchmark") else {
        return;
    };
    let soundfont = Path::new(audio::SYSTEM_SOUNDFONT);
    if !soundfont.is_file() {
        println!(
            "SKIP render benchmark: no SoundFont at {}",
            soundfont.display()
        );
        return;
    }
    let file = corpus.join(PIECE);
    let piece = midi::read_file(&file).expect("the piece reads");
    let audio_s = piece.duration_s() + DEFAULT_TAIL_S;
    let ours = best_of(3, || {
        let synth = PianoSynth::new(soundfont, DEFAULT_GAIN).expect("SoundFont loads");
        let started = Instant::now();
        let samples = audio::render(&piece, synth, DEFAULT_TAIL_S, &|_| {});
        std::hint::black_box(samples);
        started.elapsed().as_secs_f64()
    });
    println!("| renderer | {PIECE} ({audio_s:.0} s of audio) | × real time |");
    println!("|---|---|---|");
    println!(
        "| Cadenza (fluidlite, 1 thread) | {ours:.2} s | {:.0}× |",
        audio_s / ours
    );
    if Command::new("fluidsynth")
        .arg("--version")
        .output()
        .is_err()
    {
        println!(
            "SKIP the fluidsynth comparison: `fluidsynth` is not installed (apt-get install fluidsynth)"
        );
        return;
    }
    let scratch = tempfile::tempdir().expect("temp dir");
    let out = scratch.path().join("fluidsynth.wav");
    let theirs = best_of(3, || {
        let started = Instant::now();
        let status = Command::new("fluidsynth")
            .args([
                "-ni",
                "-q",
                "-r",
                &SAMPLE_RATE.to_string(),
                "-g",
                &DEFAULT_GAIN.to_string(),
            ])
            .args([
                "-o",
                "synth.polyphony=512",
                "-o",
                "synth.reverb.active=1",
                "-o",
                "synth.chorus.active=1",
            ])
            .arg("-F")
            .arg(&out)
            .arg(soundfont)
            .arg(&file)
            .status()
            .expect("fluidsynth runs");
        assert!(status.success(), "fluidsynth failed");
        started.elapsed().as_secs_f64()
    });
    println!(
        "| fluidsynth -F (CLI) | {theirs:.2} s | {:.0}× |",
        audio_s / theirs
    );
    println!("Cadenza / fluidsynth: {:.2}", theirs / ours);
}

fn best_of(runs: usize, mut run: impl FnMut() -> f64) -> f64 {
    (0..runs).map(|_| run()).fold(f64::INFINITY, f64::min)
}
