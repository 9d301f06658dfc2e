//! Regenerating a passage: what is kept outside the range, note by note, and the ranking.

use std::sync::atomic::AtomicBool;

use cadenza_core::checkpoint;
use cadenza_core::controls::ControlPlan;
use cadenza_core::corpus;
use cadenza_core::generate::{SamplingSettings, Steering};
use cadenza_core::midi::{self, Note};
use cadenza_core::regenerate::{self, Passage};
use tch::Device;

use crate::support::{overfitted_tiny_model, torch_lock};

#[test]
fn everything_outside_the_range_is_kept_and_candidates_stay_inside_it() {
    let (corpus_dir, stem) = overfitted_tiny_model();
    let corpus = corpus::load_dir(corpus_dir, &|_| {}).expect("corpus loads");
    let mut notes = midi::apply_sustain(&corpus.pieces[0].piece);
    notes.retain(|n| n.start_s < 8.0);
    // A key held from before the range to past its end, one released inside it, one struck at
    // its very end.
    let held_across = Note {
        pitch: 40,
        start_s: 1.503,
        end_s: 3.707,
        velocity: 51,
    };
    let released_inside = Note {
        pitch: 41,
        start_s: 1.8,
        end_s: 2.456,
        velocity: 99,
    };
    let at_end = Note {
        pitch: 100,
        start_s: 3.0,
        end_s: 3.2,
        velocity: 70,
    };
    notes.extend([held_across, released_inside, at_end]);
    midi::sort_notes(&mut notes);
    let passage = Passage {
        start_s: 2.0,
        end_s: 3.0,
    };
    let parts = regenerate::split(&notes, passage);
    assert!(parts.before.contains(&held_across) && parts.before.contains(&released_inside));
    assert!(parts.after.contains(&at_end));
    assert!(!parts.inside.is_empty());

    let _torch = torch_lock();
    let loaded = checkpoint::load_model(stem, Device::Cpu).expect("loads");
    let steering = Steering::new(&loaded.meta, ControlPlan::default()).expect("plain");
    let settings = SamplingSettings {
        seed: 5,
        ..SamplingSettings::default()
    };
    let mut reports = 0;
    let candidates = regenerate::regenerate(
        &loaded.model,
        &steering,
        Device::Cpu,
        &notes,
        passage,
        6,
        &settings,
        &mut |_| reports += 1,
        &AtomicBool::new(false),
    )
    .expect("regenerates")
    .expect("not cancelled");
    assert_eq!(candidates.len(), 6);
    for pair in candidates.windows(2) {
        assert!(pair[0].score >= pair[1].score, "ranked best first");
    }
    for candidate in &candidates {
        assert!(candidate.scored_events > 0 && candidate.score < 0.0);
        for note in &candidate.notes {
            assert!(
                (2.0 - 1e-9..3.0).contains(&note.start_s) && note.end_s <= 3.0 + 1e-9,
                "{note:?} leaves the range"
            );
            for held in [held_across, released_inside] {
                let overlaps = note.start_s < held.end_s && held.start_s < note.end_s;
                assert!(
                    !(note.pitch == held.pitch && overlaps),
                    "{note:?} strikes a held key"
                );
            }
        }
        let assembled = candidate.assemble(&parts);
        for kept in parts.before.iter().chain(&parts.after) {
            assert!(assembled.contains(kept), "{kept:?} was not kept exactly");
        }
        assert_eq!(
            assembled.len(),
            parts.before.len() + candidate.notes.len() + parts.after.len()
        );
    }
    // A different seed gives different music; the same seed the same.
    let again = regenerate::regenerate(
        &loaded.model,
        &steering,
        Device::Cpu,
        &notes,
        passage,
        6,
        &settings,
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .expect("regenerates")
    .expect("not cancelled");
    assert_eq!(again, candidates);
    // A range of no length is refused.
    let empty = Passage {
        start_s: 2.0,
        end_s: 2.0,
    };
    let refused = regenerate::regenerate(
        &loaded.model,
        &steering,
        Device::Cpu,
        &notes,
        empty,
        2,
        &settings,
        &mut |_| {},
        &AtomicBool::new(false),
    );
    assert!(refused.is_err());
}
