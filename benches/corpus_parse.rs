//! Parse + encode time for the shared piano-midi.de corpus, beside pretty_midi reading the same
//! files in the same run. `cargo bench --bench corpus_parse` (release build).
//!
//! `cargo bench --bench corpus_parse -- large`: a corpus of 10 000 files (the shared corpus written
//! again transposed, made by the benchmark in a temporary folder): load time and peak memory.

#[path = "../tests/support/fixtures.rs"]
mod fixtures;

use std::path::Path;
use std::time::Instant;

use cadenza_core::{corpus, midi};

const RUNS: usize = 5;

/// Files in the large corpus.
const LARGE_FILES: usize = 10_000;

fn main() {
    let Some(dir) = fixtures::shared_corpus("corpus_parse") else {
        return;
    };
    if std::env::args().any(|a| a == "large") {
        return large_corpus(&dir);
    }
    let threads = rayon::current_num_threads();
    let mut times = Vec::new();
    let mut summary = None;
    for _ in 0..RUNS {
        let started = Instant::now();
        let corpus = corpus::load_dir(&dir, &|_| {}).expect("corpus loads");
        times.push(started.elapsed().as_secs_f64());
        summary = Some(corpus.summary());
    }
    let summary = summary.expect("ran at least once");
    times.sort_by(f64::total_cmp);
    println!(
        "cadenza    parse+encode {} files, {} notes, {} events: best {:.3} s, median {:.3} s ({threads} threads)",
        summary.parsed,
        summary.notes,
        summary.events,
        times[0],
        times[RUNS / 2]
    );
    match pretty_midi_seconds(&dir) {
        Ok(seconds) => println!(
            "pretty_midi parse {} files: {seconds:.2} s (1 process) -> cadenza is {:.0}x faster",
            summary.files,
            seconds / times[0]
        ),
        Err(why) => println!("pretty_midi not measured: {why}"),
    }
}

/// Writes 10 000 transposed copies of the shared corpus's pieces, then loads them as a corpus.
fn large_corpus(shared: &Path) {
    let pieces = corpus::load_dir(shared, &|_| {})
        .expect("corpus loads")
        .pieces;
    let folder = std::env::temp_dir().join(format!("cadenza-large-corpus-{}", std::process::id()));
    let shifts = (-15i16..=15).filter(|&s| s != 0);
    let mut written = 0;
    'write: for shift in shifts {
        let composer_folder = folder.join(format!("shift{shift:+}"));
        std::fs::create_dir_all(&composer_folder).expect("folder");
        for piece in &pieces {
            if written == LARGE_FILES {
                break 'write;
            }
            let notes = piece
                .piece
                .notes
                .iter()
                .filter_map(|n| {
                    let pitch = i16::from(n.pitch) + shift;
                    (21..=108).contains(&pitch).then_some(midi::Note {
                        pitch: pitch as u8,
                        ..*n
                    })
                })
                .collect();
            let copy = midi::Piece {
                pedal: piece.piece.pedal.clone(),
                ..midi::Piece::from_notes(notes)
            };
            let path = composer_folder.join(format!("{written:05}.mid"));
            std::fs::write(path, midi::write_bytes(&copy, None)).expect("written");
            written += 1;
        }
    }
    let started = Instant::now();
    let corpus = corpus::load_dir(&folder, &|_| {}).expect("large corpus loads");
    let seconds = started.elapsed().as_secs_f64();
    let summary = corpus.summary();
    println!(
        "large corpus: {} files, {} notes, {} events loaded in {seconds:.2} s; peak RSS {} MB",
        summary.parsed,
        summary.notes,
        summary.events,
        peak_rss_mb()
    );
    drop(corpus);
    let _ = std::fs::remove_dir_all(&folder);
}

/// The process's peak resident memory so far.
fn peak_rss_mb() -> i64 {
    // SAFETY: getrusage fills the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    usage.ru_maxrss / 1024
}

fn pretty_midi_seconds(dir: &Path) -> Result<f64, String> {
    let script = r#"
import sys, time, glob, warnings
warnings.simplefilter("ignore")
import pretty_midi
files = sorted(glob.glob(sys.argv[1] + "/**/*.mid", recursive=True))
t = time.perf_counter()
notes = sum(len(i.notes) for f in files for i in pretty_midi.PrettyMIDI(f).instruments)
print(time.perf_counter() - t, notes)
"#;
    let output = fixtures::python()
        .args(["-c", script])
        .arg(dir)
        .output()
        .map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace()
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("unexpected output {text:?}"))
}
