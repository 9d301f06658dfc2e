//! Form: `generate --form`, a repeat following its model section, and refused forms.

use cadenza_core::midi;
use cadenza_core::music::form::shared_notes;
use cadenza_core::music::meter::Grid;

use crate::support::*;

/// (beats from the section's start, pitch) of the notes starting in bars `from..to` of `grid`.
fn section_notes(notes: &[midi::Note], grid: &Grid, from: u32, to: u32) -> Vec<(f64, u8)> {
    let (start_s, end_s) = (grid.bar_start_s(from), grid.bar_start_s(to));
    let start_beat = grid.beats_at(start_s);
    notes
        .iter()
        .filter(|n| n.start_s >= start_s - 0.005 && n.start_s < end_s - 0.005)
        .map(|n| (grid.beats_at(n.start_s) - start_beat, n.pitch))
        .collect()
}

fn generate_form(
    stem: &std::path::Path,
    out: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    let mut args = vec!["--tempo", "120", "--seed", "5"];
    args.extend_from_slice(extra);
    generate_into(stem, out, &args)
}

#[test]
fn a_repeat_without_variation_is_its_model_section_note_for_note() {
    let (_, stem) = steerable_tiny_model();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("form.mid");
    let generated = generate_form(stem, &out, &["--form", "A2 B1 A2", "--variation", "0"]);
    assert!(generated.status.success(), "{generated:?}");
    let piece = midi::read_file(&out).expect("reads back");
    let grid = piece.grid.as_ref().expect("a form is written in bars");
    let first = section_notes(&piece.notes, grid, 0, 2);
    let again = section_notes(&piece.notes, grid, 3, 5);
    assert!(!first.is_empty(), "the first A has notes");
    assert_eq!(shared_notes(&first, &again), 1.0);
    assert_eq!(shared_notes(&again, &first), 1.0);
    // Five bars of 4/4 at 120 bpm: the take ends by 10 s.
    let end_s = piece.notes.iter().map(|n| n.end_s).fold(0.0, f64::max);
    assert!(end_s <= 10.0 + 0.02, "{end_s}");
}

#[test]
fn a_varied_repeat_keeps_most_of_its_model_and_writes_the_rest_anew() {
    let (_, stem) = steerable_tiny_model();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("form.mid");
    let generated = generate_form(stem, &out, &["--form", "A4 B2 A4", "--variation", "0.25"]);
    assert!(generated.status.success(), "{generated:?}");
    let piece = midi::read_file(&out).expect("reads back");
    let grid = piece.grid.as_ref().expect("a form is written in bars");
    let first = section_notes(&piece.notes, grid, 0, 4);
    let again = section_notes(&piece.notes, grid, 6, 10);
    // One bar of four is redone: at least the other three bars' notes come back.
    let shared = shared_notes(&first, &again);
    assert!(shared >= 0.5, "{shared}");
}

#[test]
fn impossible_forms_are_refused_before_sampling() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stem = tiny_steerable_model(dir.path());
    let out = dir.path().join("form.mid");
    let refused = generate_form(&stem, &out, &["--form", "A4 B4 A2"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("a repeat is as long as the section it repeats"),
        "{stderr}"
    );
    assert!(!out.exists());
    let too_varied = generate_form(&stem, &out, &["--form", "A4", "--variation", "2"]);
    assert_clean_error(&too_varied, "variation: 2 is not between 0 and 1");
}

/// A take in the form A2 B1 A2 at 120 bpm in 4/4 (a bar is 2 s): a note on every beat, pitch
/// 60 + bar.
fn take_in_a_form() -> cadenza_core::generate::Take {
    let grid = Grid::steady(120.0, "4/4".parse().expect("meter"), 10.0);
    let notes = (0..20)
        .map(|beat| midi::Note {
            pitch: 60 + (beat / 4) as u8,
            start_s: f64::from(beat) * 0.5,
            end_s: f64::from(beat) * 0.5 + 0.4,
            velocity: 64,
        })
        .collect();
    let mut take = take(1);
    take.notes = notes;
    take.controls.form = Some("A2 B1 A2".parse().expect("form"));
    take.grid = Some(grid);
    take
}

#[test]
fn a_section_redone_alone_is_followed_by_its_repeats() {
    use cadenza_core::generate::SamplingSettings;
    use cadenza_core::regenerate::{Candidate, Passage};
    use cadenza_core::versions::{Alternatives, Origin};
    let take = take_in_a_form();
    let redo = |start_s, end_s| {
        let passage = Passage { start_s, end_s };
        Origin::new(
            &take,
            passage,
            SamplingSettings::default(),
            take.controls.clone(),
        )
    };
    assert!(redo(4.0, 6.0).follow.is_none(), "B comes back nowhere");
    assert!(redo(0.0, 3.0).follow.is_none(), "not a section");
    let origin = redo(0.0, 4.0);
    assert_eq!(
        origin
            .follow
            .as_ref()
            .expect("A comes back")
            .repeats()
            .len(),
        1
    );
    // The new A: a low G on every half bar.
    let new_a: Vec<midi::Note> = (0..4)
        .map(|i| midi::Note {
            pitch: 43,
            start_s: f64::from(i),
            end_s: f64::from(i) + 0.9,
            velocity: 80,
        })
        .collect();
    let alternatives = Alternatives {
        origin,
        ranked: vec![Candidate {
            notes: new_a,
            score: 0.0,
            scored_events: 0,
            seed: 9,
        }],
        auditioned: None,
    };
    let child = alternatives.child(&take, 0).expect("a version");
    let grid = take.grid.as_ref().expect("grid");
    let first = section_notes(&child.notes, grid, 0, 2);
    let b = section_notes(&child.notes, grid, 2, 3);
    let again = section_notes(&child.notes, grid, 3, 5);
    assert_eq!(first, again, "the repeat follows the new A");
    assert!(first.iter().all(|&(_, pitch)| pitch == 43));
    assert_eq!(b, section_notes(&take.notes, grid, 2, 3), "B is kept");
}
