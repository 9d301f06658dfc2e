//! Untrusted SoundFonts: the structure check refuses what would crash fluidlite (C code), a
//! seeded fuzz run over a SoundFont built in code crashes nothing, and a broken SoundFont on the
//! search path is passed over.

use std::io::Cursor;
use std::path::Path;

use cadenza_core::audio::{self, PianoSynth, SoundFontError, soundfont_check};
use cadenza_core::midi::{Note, Piece};

use crate::support::soundfont::{SoundFontParts, tiny_soundfont};

/// Mutants the CI test tries (the bench tries 10 000).
const FUZZ_CASES: u64 = 400;
const FUZZ_SEED: u64 = 2026;
/// Tells the ignored worker test which cases to run, in a child process.
const FUZZ_VARIABLE: &str = "CADENZA_SOUNDFONT_FUZZ";

fn check(bytes: &[u8]) -> Result<audio::SoundFontSummary, SoundFontError> {
    soundfont_check::check(&mut Cursor::new(bytes))
}

/// Loads a SoundFont file that passed the check and plays a chord through it, as Cadenza would.
fn load_and_play(path: &Path) -> Result<f32, audio::AudioError> {
    let synth = PianoSynth::new(path, audio::DEFAULT_GAIN)?;
    let notes = [60, 64, 67, 108, 21].map(|pitch| Note {
        pitch,
        start_s: 0.0,
        end_s: 0.3,
        velocity: 100,
    });
    let samples = audio::render(&Piece::from_notes(notes.to_vec()), synth, 0.1, &|_| {});
    Ok(audio::peak(&samples))
}

#[test]
fn the_soundfont_built_in_code_passes_the_check_and_sounds() {
    let summary = check(&tiny_soundfont()).expect("valid");
    assert_eq!(
        (summary.presets, summary.instruments, summary.samples),
        (1, 1, 2)
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("sine.sf2");
    std::fs::write(&path, tiny_soundfont()).expect("written");
    let peak = load_and_play(&path).expect("loads");
    assert!(peak > 0.01, "a chord is heard: peak {peak}");
}

#[test]
fn the_general_midi_soundfonts_pass_the_check() {
    let Some(fluid) = crate::support::fixtures::system_soundfont("General MIDI SoundFonts") else {
        return;
    };
    let summary = soundfont_check::check_file(&fluid).expect("FluidR3 passes");
    println!("{}: {summary:?}", fluid.display());
    assert!(summary.presets > 100, "{summary:?}");
}

#[test]
fn crafted_soundfonts_are_refused_with_the_problem_named() {
    // The crash the issue reports: the first sample's start and end outside the sample data.
    let outside = SoundFontParts::default()
        .with_sample_points([5_000_000, 5_002_000, 5_000_100, 5_001_900])
        .build();
    let err = check(&outside).expect_err("refused");
    assert!(
        matches!(err, SoundFontError::Sample { sample: 0, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("outside the 2092 points"), "{err}");

    let bad_loop = SoundFontParts::default()
        .with_sample_points([0, 1000, 500, 1500])
        .build();
    assert!(
        check(&bad_loop)
            .expect_err("refused")
            .to_string()
            .contains("loop 500..1500")
    );

    let no_presets = SoundFontParts::default().without_presets().build();
    assert_eq!(check(&no_presets), Err(SoundFontError::Empty("presets")));

    // A preset bag index past the bag table.
    let mut parts = SoundFontParts::default();
    parts.phdr[1][24] = 9;
    let err = check(&parts.build()).expect_err("refused");
    assert!(err.to_string().contains("'phdr' points to pbag 9"), "{err}");

    let mut truncated = tiny_soundfont();
    truncated.truncate(truncated.len() - 100);
    assert!(matches!(
        check(&truncated),
        Err(SoundFontError::Truncated { .. })
    ));
    assert_eq!(check(b"MThd not a font"), Err(SoundFontError::NotSoundFont));

    // The synth refuses the file before fluidlite reads it, naming the file and the problem.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("crafted.sf2");
    std::fs::write(&path, &outside).expect("written");
    let err = PianoSynth::new(&path, 0.8).expect_err("refused");
    assert!(
        err.to_string()
            .contains("crafted.sf2: sample 0 (Sine low) has start"),
        "{err}"
    );
}

#[test]
fn a_broken_soundfont_on_the_search_path_is_passed_over_with_the_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = dir.path().join("soundfonts");
    std::fs::create_dir(&folder).expect("mkdir");
    let broken = SoundFontParts::default()
        .with_sample_points([5_000_000, 5_002_000, 0, 0])
        .build();
    std::fs::write(folder.join("a-broken.sf2"), broken).expect("written");
    std::fs::write(folder.join("b-good.sf2"), tiny_soundfont()).expect("written");
    let search = audio::search_soundfont(Some(&folder));
    assert_eq!(search.found.expect("found"), folder.join("b-good.sf2"));
    assert_eq!(search.refused.len(), 1);
    assert!(search.refused[0].to_string().contains("a-broken.sf2"));
}

/// Runs the fuzz cases in a child process, so a crash is reported with its case instead of
/// taking the test binary down: the child prints each case before trying it.
#[test]
fn no_mutated_soundfont_crashes_the_process() {
    let dir = tempfile::tempdir().expect("temp dir");
    let child = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--ignored",
            "--exact",
            "soundfont_safety::fuzz_worker",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(FUZZ_VARIABLE, format!("{FUZZ_SEED}:{FUZZ_CASES}"))
        .env("TMPDIR", dir.path())
        .output()
        .expect("child runs");
    let stdout = String::from_utf8_lossy(&child.stdout);
    let last_case = stdout.lines().rev().find(|l| l.starts_with("case "));
    assert!(
        child.status.success(),
        "the process died ({:?}) at {last_case:?} of seed {FUZZ_SEED}\n{}",
        child.status,
        String::from_utf8_lossy(&child.stderr)
    );
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("fuzz:"))
        .expect("summary printed");
    println!("{summary}");
    assert!(
        summary.contains(&format!("{FUZZ_CASES} mutants")),
        "{summary}"
    );
}

/// The child side of [`no_mutated_soundfont_crashes_the_process`] (ignored: it runs only when
/// that test starts it with the cases to try).
#[test]
#[ignore = "started by no_mutated_soundfont_crashes_the_process in a child process"]
fn fuzz_worker() {
    let spec = std::env::var(FUZZ_VARIABLE).expect("started by the fuzz test");
    let (seed, cases) = spec.split_once(':').expect("seed:cases");
    let (seed, cases): (u64, u64) = (seed.parse().expect("seed"), cases.parse().expect("cases"));
    let report = crate::support::soundfont::fuzz(seed, cases, &mut |case| {
        println!("case {case}");
    });
    println!("fuzz: {report}");
}

#[test]
fn soundfonts_loaded_on_several_threads_at_once_play_safely() {
    // fluidlite's loader keeps per-load state in C globals: loads at once used to read each
    // other's sample-data size and crash the process when a note was played.
    let dir = tempfile::tempdir().expect("temp dir");
    let tiny = dir.path().join("sine.sf2");
    std::fs::write(&tiny, tiny_soundfont()).expect("written");
    let general = crate::support::fixtures::system_soundfont("loads on several threads");
    let fonts: Vec<&Path> = std::iter::once(tiny.as_path())
        .chain(general.as_deref())
        .collect();
    std::thread::scope(|scope| {
        for thread in 0..4 {
            let fonts = &fonts;
            scope.spawn(move || {
                for round in 0..5 {
                    let font = fonts[(thread + round) % fonts.len()];
                    let peak = load_and_play(font).expect("loads");
                    assert!(peak.is_finite());
                }
            });
        }
    });
}
