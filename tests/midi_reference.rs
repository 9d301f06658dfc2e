//! The reader against pretty_midi on every file of the shared corpus: same notes, pitches and
//! velocities, onsets and releases within 1 ms.

use std::path::{Path, PathBuf};

use cadenza_core::{corpus, midi};

use crate::support::{fixtures, shared_corpus};

#[derive(serde::Deserialize)]
pub struct Reference {
    path: String,
    #[serde(default)]
    notes: Vec<(u8, f64, f64, u8)>,
    error: Option<String>,
}

pub use crate::support::fixtures::pretty_midi_available;

/// Runs pretty_midi (installed by `bash .ci/setup`) over `files`.
pub fn pretty_midi_notes(files: &[PathBuf]) -> Vec<Reference> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/pretty_midi_notes.py");
    let output = fixtures::python()
        .arg(script)
        .args(files)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "pretty_midi reference failed (run `bash .ci/setup` to install it): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("reference line is JSON"))
        .collect()
}

/// Sort key with times rounded to microseconds, so float noise cannot reorder equal notes.
fn key(pitch: u8, start: f64, end: f64, velocity: u8) -> (u8, i64, i64, u8) {
    (
        pitch,
        (start * 1e6).round() as i64,
        (end * 1e6).round() as i64,
        velocity,
    )
}

pub fn compare(reference: &Reference) -> Result<usize, String> {
    let ours = midi::read_file(Path::new(&reference.path));
    let (ours, expected) = match (ours, &reference.error) {
        (Ok(piece), None) => (piece, &reference.notes),
        (Err(_), Some(_)) => return Ok(0), // both refuse it
        (Err(err), None) => return Err(format!("pretty_midi reads it but we refuse: {err}")),
        (Ok(_), Some(theirs)) => {
            return Err(format!("we read it but pretty_midi refuses: {theirs}"));
        }
    };
    if ours.notes.len() != expected.len() {
        return Err(format!(
            "{} notes, pretty_midi has {}",
            ours.notes.len(),
            expected.len()
        ));
    }
    let mut ours: Vec<_> = ours
        .notes
        .iter()
        .map(|n| (key(n.pitch, n.start_s, n.end_s, n.velocity), *n))
        .collect();
    let mut theirs: Vec<_> = expected
        .iter()
        .map(|&(p, s, e, v)| (key(p, s, e, v), (p, s, e, v)))
        .collect();
    ours.sort_by_key(|(k, _)| *k);
    theirs.sort_by_key(|(k, _)| *k);
    for ((_, a), (_, (pitch, start, end, velocity))) in ours.iter().zip(&theirs) {
        let same = a.pitch == *pitch
            && a.velocity == *velocity
            && (a.start_s - start).abs() < 1e-3
            && (a.end_s - end).abs() < 1e-3;
        if !same {
            return Err(format!(
                "note {a:?} vs pretty_midi ({pitch}, {start}, {end}, {velocity})"
            ));
        }
    }
    Ok(ours.len())
}

#[test]
fn raw_notes_match_pretty_midi_on_the_shared_corpus() {
    let Some(dir) = shared_corpus("raw_notes_match_pretty_midi_on_the_shared_corpus") else {
        return;
    };
    let files = corpus::find_midi_files(&dir).expect("corpus lists");
    let references = pretty_midi_notes(&files);
    assert_eq!(references.len(), files.len());
    let mut compared_notes = 0;
    let mut failures = Vec::new();
    for reference in &references {
        match compare(reference) {
            Ok(notes) => compared_notes += notes,
            Err(why) => failures.push(format!("{}: {why}", reference.path)),
        }
    }
    println!(
        "compared {compared_notes} notes in {} files with pretty_midi",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} files differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(compared_notes > 700_000);
}
