//! SoundFont fuzzing: 10 000 mutants of a small SoundFont built in code go through Cadenza's path
//! (structure check, fluidlite load, a chord played), beside a reference run of mutants handed to
//! fluidlite without the check, each in a child process so its crashes can be counted:
//!
//!   cargo bench --bench soundfont_fuzz [-- CASES [REFERENCE_CASES]]
//!   cargo bench --bench soundfont_fuzz -- --write-case CASE FILE [SEED]   (to reproduce a crash)
//!
//! A crash on Cadenza's path ends this process with the case number last printed.

#[path = "../tests/support/soundfont.rs"]
mod soundfont;

use std::process::Command;
use std::time::Instant;

const SEED: u64 = 20_261_129;
const CASES: u64 = 10_000;
const REFERENCE_CASES: u64 = 300;
/// Asks this binary to load one mutant into fluidlite without the check (the reference run).
const UNCHECKED: &str = "--unchecked-case";
/// Writes one mutant to a file, to reproduce a crash: `-- --write-case CASE FILE [SEED]`.
const WRITE: &str = "--write-case";

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if let [flag, case] = args.as_slice()
        && flag == UNCHECKED
    {
        load_unchecked(case.parse().expect("case number"));
        return;
    }
    if let [flag, case, file, rest @ ..] = args.as_slice()
        && flag == WRITE
    {
        let case = case.parse().expect("case number");
        let seed = rest
            .first()
            .map_or(SEED, |seed| seed.parse().expect("seed"));
        std::fs::write(
            file,
            soundfont::mutant(&soundfont::tiny_soundfont(), seed, case),
        )
        .expect("written");
        return;
    }
    let number = |index: usize, default: u64| {
        args.get(index)
            .map_or(default, |text| text.parse().expect("a number of cases"))
    };
    let (cases, reference_cases) = (number(0, CASES), number(1, REFERENCE_CASES));

    let started = Instant::now();
    let mut last = 0;
    let report = soundfont::fuzz(SEED, cases, &mut |case| {
        eprint!("\rcase {case}");
        last = case;
    });
    eprintln!();
    println!(
        "checked:   {report} ({:.1} s; last case {last})",
        started.elapsed().as_secs_f64()
    );
    for (kind, count) in &report.reasons {
        println!("           refused by the check: {count} {kind}");
    }

    let started = Instant::now();
    let crashes = (0..reference_cases)
        .filter(|&case| !unchecked_survives(case))
        .count();
    println!(
        "unchecked: {reference_cases} mutants handed straight to fluidlite: {crashes} crashed the process ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
}

/// Runs one unchecked case in a child process: whether it exited normally.
fn unchecked_survives(case: u64) -> bool {
    let status = Command::new(std::env::current_exe().expect("this binary"))
        .args([UNCHECKED, &case.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("child runs");
    status.success()
}

/// Loads mutant `case` into fluidlite as Cadenza did before the check, and plays a chord.
fn load_unchecked(case: u64) {
    use fluidlite::IsSettings;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("mutant.sf2");
    std::fs::write(
        &path,
        soundfont::mutant(&soundfont::tiny_soundfont(), SEED, case),
    )
    .expect("written");
    let settings = fluidlite::Settings::new().expect("settings");
    if let Some(rate) = settings.num("synth.sample-rate") {
        rate.set(44_100.0);
    }
    let synth = fluidlite::Synth::new(settings).expect("synth");
    if synth.sfload(&path, true).is_err() || synth.program_change(0, 0).is_err() {
        return;
    }
    for pitch in [21, 60, 64, 67, 108] {
        let _ = synth.note_on(0, pitch, 100);
    }
    let mut frames = vec![0f32; 44_100];
    let _ = synth.write(frames.as_mut_slice());
}
