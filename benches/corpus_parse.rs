//! Parse + encode time for the shared piano-midi.de corpus, beside pretty_midi reading the same
//! files in the same run. `cargo bench --bench corpus_parse` (release build).

#[path = "../tests/support/fixtures.rs"]
mod fixtures;

use std::path::Path;
use std::time::Instant;

use cadenza_core::corpus;

const RUNS: usize = 5;

fn main() {
    let Some(dir) = fixtures::shared_corpus("corpus_parse") else {
        return;
    };
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
