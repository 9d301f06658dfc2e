//! Loading a folder: composers and titles from paths, bad files skipped with reasons, a stable split.

use std::path::Path;

use cadenza_core::corpus::{self, CorpusError, Split};
use cadenza_core::midi::{self, Note, Piece};

use crate::support::{arpeggio, shared_corpus};

fn write_piece(path: &Path, pitch: u8) {
    std::fs::create_dir_all(path.parent().expect("has a folder")).expect("folder");
    let notes = (0..8)
        .map(|i| Note {
            pitch: pitch + i,
            start_s: f64::from(i) * 0.25,
            end_s: f64::from(i) * 0.25 + 0.2,
            velocity: 70,
        })
        .collect();
    midi::write_file(&Piece::from_notes(notes), path, None).expect("fixture written");
}

/// A corpus of 12 good files in two composer folders and one loose, plus a corrupt one and a stray
/// text file.
fn fixture_corpus(dir: &Path) {
    for i in 0..6 {
        write_piece(&dir.join(format!("Bach/prelude{i}.mid")), 48 + i);
        write_piece(&dir.join(format!("Chopin/nested/etude{i}.MIDI")), 60 + i);
    }
    write_piece(&dir.join("loose.mid"), 40);
    let truncated = arpeggio();
    std::fs::write(
        dir.join("Bach/broken.mid"),
        &truncated[..truncated.len() - 5],
    )
    .expect("write");
    std::fs::write(dir.join("Bach/notes.txt"), "not music").expect("write");
}

#[test]
fn folder_loads_with_composers_titles_and_skipped_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    fixture_corpus(dir.path());
    let corpus = corpus::load_dir(dir.path(), &|_| {}).expect("loads");
    assert_eq!(corpus.pieces.len(), 13);
    assert_eq!(corpus.skipped.len(), 1);
    assert!(corpus.skipped[0].path.ends_with("Bach/broken.mid"));
    assert!(
        corpus.skipped[0].reason.contains("truncated"),
        "{}",
        corpus.skipped[0].reason
    );

    let summary = corpus.summary();
    assert_eq!(summary.composers.get("Bach"), Some(&6));
    assert_eq!(summary.composers.get("nested"), Some(&6));
    let loose = corpus
        .pieces
        .iter()
        .find(|p| p.title == "loose")
        .expect("loose piece");
    assert_eq!(loose.composer, None);
    assert_eq!(summary.notes, 13 * 8);
    assert_eq!(summary.pitch_min, Some(40));
    assert!((summary.pitch_class_histogram.iter().sum::<f64>() - 1.0).abs() < 1e-9);
}

#[test]
fn split_is_by_piece_and_survives_moving_the_corpus() {
    let first = tempfile::tempdir().expect("temp dir");
    fixture_corpus(first.path());
    let second = tempfile::tempdir().expect("temp dir");
    fixture_corpus(&second.path().join("moved"));
    let splits = |dir: &Path| {
        let corpus = corpus::load_dir(dir, &|_| {}).expect("loads");
        corpus
            .pieces
            .iter()
            .map(|p| (p.relative_path.clone(), p.split))
            .collect::<Vec<_>>()
    };
    let a = splits(first.path());
    assert_eq!(a, splits(&second.path().join("moved")));
    assert!(
        a.iter().any(|(_, s)| *s == Split::Valid),
        "at least one validation piece"
    );
    assert!(a.iter().any(|(_, s)| *s == Split::Train));
}

#[test]
fn two_pieces_give_one_of_each_split() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_piece(&dir.path().join("a.mid"), 60);
    write_piece(&dir.path().join("b.mid"), 62);
    let corpus = corpus::load_dir(dir.path(), &|_| {}).expect("loads");
    assert_eq!(corpus.split(Split::Valid).count(), 1);
    assert_eq!(corpus.split(Split::Train).count(), 1);
}

#[test]
fn empty_or_missing_folders_are_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    assert!(matches!(
        corpus::load_dir(dir.path(), &|_| {}),
        Err(CorpusError::NoMidiFiles(_))
    ));
    let missing = dir.path().join("nope");
    assert!(matches!(
        corpus::load_dir(&missing, &|_| {}),
        Err(CorpusError::NotFound(_))
    ));
}

#[test]
fn progress_reaches_the_total() {
    let dir = tempfile::tempdir().expect("temp dir");
    fixture_corpus(dir.path());
    let last = std::sync::Mutex::new(0);
    corpus::load_dir(dir.path(), &|p| {
        assert_eq!(p.total, 14);
        let mut last = last.lock().expect("lock");
        *last = (*last).max(p.done);
    })
    .expect("loads");
    assert_eq!(*last.lock().expect("lock"), 14);
}

#[test]
fn shared_corpus_loads_completely() {
    let Some(dir) = shared_corpus("shared_corpus_loads_completely") else {
        return;
    };
    let corpus = corpus::load_dir(&dir, &|_| {}).expect("loads");
    let summary = corpus.summary();
    assert_eq!(
        (summary.files, summary.parsed),
        (337, 337),
        "skipped: {:?}",
        summary.skipped
    );
    // 25 composers plus a "Christmas" collection folder.
    assert_eq!(summary.composers.len(), 26);
    assert!(
        (780_000..810_000).contains(&summary.notes),
        "{} notes",
        summary.notes
    );
    let valid = corpus.split(Split::Valid).count();
    assert!((15..60).contains(&valid), "{valid} validation pieces");
}

#[test]
fn a_symlink_loop_is_walked_once_and_linked_copies_count_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    crate::support::pattern_corpus(dir.path(), 2, 2);
    let composer = dir.path().join("Patterns");
    // a/b -> .. (a loop), and a second link to the composer's folder.
    std::os::unix::fs::symlink("..", composer.join("loop")).expect("symlink");
    std::os::unix::fs::symlink(&composer, dir.path().join("Again")).expect("symlink");
    let files = corpus::find_midi_files(dir.path()).expect("walked");
    assert_eq!(files.len(), 2, "{files:?}");
    let loaded = corpus::load_dir(dir.path(), &|_| {}).expect("loads");
    assert_eq!(loaded.pieces.len(), 2);
}

#[test]
fn a_folder_without_subfolders_is_one_style_named_after_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bach = dir.path().join("bach");
    std::fs::create_dir(&bach).expect("mkdir");
    for name in ["chorale-1.mid", "chorale-2.mid", "chorale-3.mid"] {
        std::fs::write(bach.join(name), arpeggio()).expect("written");
    }
    let mut corpus = corpus::load_dir(&bach, &|_| {}).expect("loads");
    let summary = corpus.summary();
    assert_eq!(summary.composers.len(), 1, "{:?}", summary.composers);
    assert_eq!(summary.composers.get("bach"), Some(&3));
    // The panel offers to rename the one style.
    assert_eq!(corpus.one_style(), Some("bach"));
    corpus.rename_style("bach", " J. S. Bach ");
    assert_eq!(corpus.summary().composers.get("J. S. Bach"), Some(&3));
    corpus.rename_style("J. S. Bach", "  ");
    assert_eq!(
        corpus.one_style(),
        Some("J. S. Bach"),
        "an empty name changes nothing"
    );
}

#[test]
fn a_corpus_of_composer_folders_has_no_one_style() {
    let dir = tempfile::tempdir().expect("temp dir");
    fixture_corpus(dir.path());
    let corpus = corpus::load_dir(dir.path(), &|_| {}).expect("loads");
    assert_eq!(corpus.one_style(), None);
}
