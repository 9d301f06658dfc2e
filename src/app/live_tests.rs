//! The Live room as a composer uses it, headless: notes played on the computer keyboard are
//! recorded into a take that Generate continues; losing the window's focus releases the keys
//! held; typing in a text field plays nothing.

use std::time::Duration;

use cadenza_core::generate::Operation;
use egui::Key;
use egui_kittest::Harness;

use super::generate::PrimerChoice;
use super::intent::{Intent, Intents, Room};
use super::live::read_computer_keys;
use super::tests::{click, step_until};
use cadenza_core::live::ComputerPiano;

/// Holds `key` for about `held_ms`, stepping frames.
fn play(harness: &mut Harness<'_, super::CadenzaApp>, key: Key, held_ms: u64) {
    harness.key_down(key);
    harness.step();
    std::thread::sleep(Duration::from_millis(held_ms));
    harness.key_up(key);
    harness.step();
}

#[test]
fn notes_played_on_the_computer_keyboard_become_a_take_that_generate_continues() {
    let (_data, mut harness) = super::afternoon_tests::app_at([1280.0, 800.0]);
    click(&mut harness, "Live", 0);
    assert_eq!(harness.state().room, Room::Live);
    click(&mut harness, "Record", 0);
    for key in [Key::A, Key::D, Key::G] {
        play(&mut harness, key, 120);
    }
    click(&mut harness, "Stop recording", 0);
    let take = harness
        .state()
        .generate
        .selected_take()
        .cloned()
        .expect("the recording is kept as a take");
    assert_eq!(take.operation, Operation::Played);
    let pitches: Vec<u8> = take.notes.iter().map(|n| n.pitch).collect();
    assert_eq!(pitches, [60, 64, 67], "C E G from A D G");
    assert!(take.notes[0].duration_s() >= 0.1, "{:?}", take.notes[0]);

    // Generate continues the recording with the starter model.
    let app = harness.state_mut();
    app.generate.controls.primer = PrimerChoice::ContinueTake;
    app.generate.controls.seconds = 3.0;
    app.generate.controls.bars = 2;
    click(&mut harness, "Generate", 0);
    click(&mut harness, "Generate", 1);
    step_until(
        &mut harness,
        "the continuation",
        Duration::from_secs(120),
        |app| !app.generate.is_generating(),
    );
    let continued = harness
        .state()
        .generate
        .selected_take()
        .cloned()
        .expect("a take");
    assert_eq!(
        continued.parent,
        Some(take.id),
        "a version of the recording"
    );
    // The recording as the model reads it: on the encoding's 10-ms steps and velocity bins.
    for (continued, played) in continued.notes.iter().zip(&take.notes) {
        assert_eq!(continued.pitch, played.pitch);
        assert!(
            (continued.start_s - played.start_s).abs() <= 0.01,
            "{continued:?} {played:?}"
        );
    }
    assert!(continued.notes.len() > 3, "the model added music");
}

#[test]
fn losing_the_window_focus_releases_the_keys_held() {
    let (_data, mut harness) = super::afternoon_tests::app_at([1280.0, 800.0]);
    click(&mut harness, "Live", 0);
    harness.key_down(Key::A);
    harness.step();
    assert!(harness.state().live.piano.is_held());
    harness.event(egui::Event::WindowFocused(false));
    harness.step();
    assert!(
        !harness.state().live.piano.is_held(),
        "no key-up comes once focus is lost"
    );
    harness.event(egui::Event::WindowFocused(true));
    harness.step();
}

#[test]
fn typing_in_a_text_field_plays_nothing() {
    let mut piano = ComputerPiano::default();
    let mut touches = Vec::new();
    let mut text = String::new();
    let mut harness = Harness::new_ui(|ui| {
        let label = ui.label("Title");
        let field = ui.text_edit_singleline(&mut text).labelled_by(label.id);
        field.request_focus();
        let mut intents = Intents::default();
        read_computer_keys(ui, &mut piano, &mut intents);
        while let Some(intent) = intents.pop() {
            if let Intent::Touch(touch) = intent {
                touches.push(touch);
            }
        }
    });
    harness.step();
    harness.key_press(Key::A);
    harness.event(egui::Event::Text("a".to_string()));
    harness.step();
    harness.step();
    drop(harness);
    assert!(touches.is_empty(), "{touches:?}");
    assert_eq!(text, "a");
}
