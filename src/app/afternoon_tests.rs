//! A composer's afternoon in bars, clicked through headless: each test fails on what the app did
//! before its fix (issue: auditions that stop, takes that remember their model, lengths in bars,
//! exports a score reads). Takes are made in code where the model is beside the point.

use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

use cadenza_core::generate::Take;
use cadenza_core::midi::Note;
use cadenza_core::paths::DataDir;
use cadenza_core::regenerate::Passage;

use super::CadenzaApp;
use super::tests::{acting, click, step_until};

/// The app on a fresh data folder, at `size`, with the demo corpus loaded.
pub(super) fn app_at(size: [f32; 2]) -> (tempfile::TempDir, Harness<'static, CadenzaApp>) {
    let data_dir = tempfile::tempdir().expect("a temporary folder");
    let data = DataDir::new(data_dir.path());
    let mut harness = Harness::builder()
        .with_size(size)
        .build_eframe(|cc| CadenzaApp::from_creation_context(cc, Some(data)));
    step_until(
        &mut harness,
        "the demo corpus",
        Duration::from_secs(60),
        |app| app.corpus.data().is_some(),
    );
    (data_dir, harness)
}

/// A take of four bars of 4/4 at 90 bpm: a C on every beat.
fn take_in_bars(seed: u64) -> Take {
    let grid = cadenza_core::music::meter::Grid::steady(
        90.0,
        cadenza_core::music::time_signature::TimeSignature::FOUR_FOUR,
        12.0,
    );
    let beat_s = 60.0 / 90.0;
    let notes = (0..16)
        .map(|i| Note {
            pitch: 60,
            start_s: f64::from(i) * beat_s,
            end_s: (f64::from(i) + 0.5) * beat_s,
            velocity: 80,
        })
        .collect();
    Take {
        seed,
        notes,
        checkpoint: "gone-model".to_string(),
        grid: Some(grid),
        ..Take::default()
    }
}

/// Adds `count` takes and opens the Generate panel.
fn with_takes(harness: &mut Harness<'static, CadenzaApp>, count: u64) {
    let takes = (1..=count).map(take_in_bars).collect();
    let app = harness.state_mut();
    app.generate.add_takes(takes);
    click(harness, "Generate", 0);
}

fn numbers(app: &CadenzaApp) -> Vec<u64> {
    app.generate.takes().iter().map(|t| t.id).collect()
}

#[test]
fn a_deleted_take_comes_back_with_ctrl_z_and_the_others_keep_their_numbers() {
    let (_data, mut harness) = app_at([1280.0, 800.0]);
    with_takes(&mut harness, 3);
    click(&mut harness, "Delete", 1);
    assert_eq!(numbers(harness.state()), [1, 3]);
    assert_eq!(
        harness.state().shared.messages.last().map(String::as_str),
        Some("Deleted take 2: Ctrl+Z brings it back")
    );
    // The rows keep their numbers: take 3 is still "3.".
    assert!(harness.query_by_label_contains("3. gone-model").is_some());
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    harness.step();
    assert_eq!(numbers(harness.state()), [1, 2, 3]);
}

#[test]
fn ctrl_e_exports_the_take_the_roll_shows_and_nothing_else() {
    let (_data, mut harness) = app_at([1280.0, 800.0]);
    with_takes(&mut harness, 2);
    let app = harness.state_mut();
    acting(app, |generate, _, intents| generate.show_take(0, intents));
    harness.step();
    assert_eq!(harness.state().shared.shown.take, Some(1));
    // A corpus piece clicked since: the roll no longer shows a take.
    click(&mut harness, "Corpus", 0);
    click(&mut harness, "alberti-c-major", 0);
    assert_eq!(harness.state().shared.shown.take, None);
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::E);
    harness.step();
    let told = harness
        .state()
        .shared
        .messages
        .last()
        .cloned()
        .unwrap_or_default();
    assert!(told.contains("not a take"), "{told}");
    assert!(!harness.state().generate.is_asking_where_to_export());
}

#[test]
fn an_unreadable_form_refuses_to_generate_and_says_why() {
    let (_data, mut harness) = app_at([1280.0, 800.0]);
    click(&mut harness, "Generate", 0);
    harness.state_mut().generate.controls.steer.form = "hello".to_string();
    harness.step();
    harness.step();
    let button = harness
        .get_all_by_label("Generate")
        .nth(1)
        .expect("the button");
    assert!(button.accesskit_node().is_disabled(), "Generate is refused");
    harness.get_by_label_contains("The form does not read");
    // The length is still asked for: the form sets nothing while it does not read.
    let state = harness.state();
    assert!(state.generate.controls.steer.form_problem().is_some());
    assert!(!state.generate.is_generating());
}

#[test]
fn on_a_grid_the_length_is_asked_in_bars_with_the_time_beside() {
    let (_data, mut harness) = app_at([1280.0, 800.0]);
    click(&mut harness, "Generate", 0);
    harness.get_by_label("Length (bars)");
    // 12 bars of 4/4 at 90 bpm: 32 s.
    harness.get_by_label("0:32");
    harness.state_mut().generate.controls.steer.tempo = None;
    harness.state_mut().generate.controls.steer.meter = None;
    harness.step();
    harness.step();
    harness.get_by_label("Length (s)");
}

#[test]
fn fine_tuning_the_starter_shows_the_starters_shape_greyed() {
    let starter = cadenza_core::starter::find().expect("the starter model ships in assets/models");
    let shape = cadenza_core::checkpoint::load_meta(&starter)
        .expect("the starter reads")
        .model;
    let (_data, mut harness) = app_at([1280.0, 800.0]);
    click(&mut harness, "Train", 0);
    click(&mut harness, "the starter model", 0);
    click(&mut harness, "Hyperparameters", 0);
    let hidden = harness
        .get_all_by_role(egui::accesskit::Role::SpinButton)
        .find(|node| node.value().as_deref() == Some(&shape.hidden.to_string()))
        .expect("the starter's hidden units are shown");
    assert!(
        hidden.accesskit_node().is_disabled(),
        "and cannot be changed"
    );
    // The demo corpus's styles are new to the starter: it says so before training.
    harness.get_by_label("“Alberti”: added as a new style");
}

#[test]
fn the_model_picker_brings_back_the_starter_after_another_model() {
    let starter = cadenza_core::starter::find().expect("the starter model ships in assets/models");
    let (data, mut harness) = app_at([1280.0, 800.0]);
    let other = data.path().join("elsewhere");
    harness
        .state_mut()
        .shared
        .models
        .use_checkpoint(other.clone());
    click(&mut harness, "Generate", 0);
    assert_eq!(harness.state().shared.models.current, Some(other));
    harness
        .get_all_by_role(egui::accesskit::Role::ComboBox)
        .find(|node| node.value().as_deref() == Some("elsewhere"))
        .expect("the model picker shows the model")
        .click();
    harness.step();
    harness.step();
    click(&mut harness, "Starter", 0);
    assert_eq!(harness.state().shared.models.current, Some(starter));
}

#[test]
fn a_passage_is_redone_with_the_takes_model_and_the_seed_field_stays() {
    let starter = cadenza_core::starter::find().expect("the starter model ships in assets/models");
    let (data, mut harness) = app_at([1280.0, 800.0]);
    with_takes(&mut harness, 1);
    // The take's own model is the starter; another is selected in the panel.
    let app = harness.state_mut();
    let mut take = take_in_bars(7);
    take.checkpoint = starter.display().to_string();
    app.generate.add_takes(vec![take]);
    acting(app, |generate, _, intents| generate.show_take(1, intents));
    app.shared
        .models
        .use_checkpoint(data.path().join("elsewhere"));
    app.shared.selection = Some(Passage {
        start_s: 0.0,
        end_s: 60.0 / 90.0 * 4.0,
    });
    let seed = app.generate.controls.seed;
    acting(app, |generate, shared, intents| {
        generate.regenerate_on_cpu(shared, intents)
    });
    assert_eq!(harness.state().generate.controls.seed, seed);
    step_until(
        &mut harness,
        "alternatives",
        Duration::from_secs(300),
        |app| app.generate.has_alternatives() || !app.generate.is_regenerating(),
    );
    let app = harness.state_mut();
    assert!(app.generate.has_alternatives(), "{:?}", app.shared.messages);
    // The passage is named in bars.
    harness.get_by_label_contains("Alternatives for bar 1");
    let app = harness.state_mut();
    acting(app, |generate, _, intents| generate.keep(0, intents));
    let kept = app.generate.selected_take().expect("the version").clone();
    assert_eq!(kept.checkpoint, starter.display().to_string());
}

#[test]
fn the_selected_takes_actions_and_the_panels_fit_a_1024_by_700_window() {
    let (_data, mut harness) = app_at([1024.0, 700.0]);
    // In view: inside what the side panel shows (it ends where the roll begins, and above the
    // transport), scrolled as it is.
    let in_view = |harness: &Harness<'_, CadenzaApp>, label: &str| {
        let (side, roll) = (harness.state().side_rect, harness.state().roll_rect);
        assert!(
            side.right() <= roll.left(),
            "the side panel is beside the roll"
        );
        let panel = egui::Rect::from_x_y_ranges(0.0..=side.right(), side.top()..=side.bottom());
        let mut found = false;
        for node in harness.get_all_by_label(label) {
            let rect = node.rect();
            assert!(
                panel.contains_rect(rect),
                "{label} at {rect:?} is out of the side panel {panel:?}"
            );
            found = true;
        }
        assert!(found, "no {label}");
    };
    in_view(&harness, "Duration");
    in_view(&harness, "Notes");
    with_takes(&mut harness, 12);
    let app = harness.state_mut();
    acting(app, |generate, _, intents| generate.show_take(11, intents));
    harness.step();
    harness.step();
    in_view(&harness, "Export MIDI…");
    in_view(&harness, "Regenerate selection");
    in_view(&harness, "12. gone-model · 0:10");
    click(&mut harness, "Train", 0);
    in_view(&harness, "Start training");
    in_view(&harness, "the current checkpoint");
    in_view(&harness, "learn them");
}

#[test]
fn a_style_renamed_in_the_corpus_panel_is_kept_for_its_folder() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let flat = folder.path().join("bach");
    std::fs::create_dir(&flat).expect("made");
    // A flat folder: one style, named after it.
    let demo = tempfile::tempdir().expect("a temporary folder");
    cadenza_core::demo::write_demo_corpus(demo.path()).expect("demo corpus written");
    for file in cadenza_core::corpus::find_midi_files(demo.path())
        .expect("files")
        .iter()
        .take(6)
    {
        let name = file.file_name().expect("a name");
        std::fs::copy(file, flat.join(name)).expect("copied");
    }
    let (_data, mut harness) = app_at([1280.0, 800.0]);
    harness
        .state_mut()
        .corpus
        .name_style(flat.clone(), "bach chorales");
    harness.state_mut().open(flat.clone());
    step_until(&mut harness, "the folder", Duration::from_secs(60), |app| {
        app.corpus
            .data()
            .is_some_and(|d| std::path::Path::new(&d.corpus.path) == flat)
    });
    let styles = harness.state().corpus.data().expect("loaded").styles();
    assert_eq!(styles, ["bach chorales"]);
}

/// A file or folder dropped on the window, as the windowing layer hands it over.
#[derive(Debug)]
struct Dropped(std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|err| err.to_string())
    }
}

#[test]
fn a_folder_dropped_on_the_generate_tab_opens_as_the_corpus() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    cadenza_core::demo::write_demo_corpus(folder.path()).expect("demo corpus written");
    let (_data, mut harness) = app_at([1280.0, 800.0]);
    click(&mut harness, "Generate", 0);
    harness.event(egui::Event::WindowFocused(true));
    harness
        .input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(folder.path().to_path_buf())));
    harness.step();
    step_until(
        &mut harness,
        "the dropped folder",
        Duration::from_secs(60),
        |app| {
            app.corpus
                .data()
                .is_some_and(|d| std::path::Path::new(&d.corpus.path) == folder.path())
        },
    );
}

#[test]
fn a_message_clears_by_itself_after_a_while() {
    let (_data, mut harness) = app_at([1280.0, 800.0]);
    harness
        .state_mut()
        .shared
        .messages
        .tell("Exported somewhere".to_string());
    harness.step();
    harness.get_by_label("Exported somewhere");
    harness
        .state_mut()
        .shared
        .messages
        .backdate(super::shared::MESSAGE_SHOWN + Duration::from_secs(1));
    harness.step();
    assert!(harness.query_by_label("Exported somewhere").is_none());
}

#[test]
fn a_drag_on_the_ruler_selects_from_where_the_button_went_down() {
    let (_data, mut harness) = app_at([1280.0, 800.0]);
    with_takes(&mut harness, 1);
    let app = harness.state_mut();
    acting(app, |generate, _, intents| generate.show_take(0, intents));
    harness.step();
    harness.step();
    let roll = harness.state().roll.clone();
    let roll_rect = harness.state().roll_rect;
    let area_left = roll_rect.left() + super::piano_roll::KEYBOARD_WIDTH;
    let ruler_y = roll_rect.top() + 4.0;
    // Bar 2's downbeat (2.67 s at 90 bpm in 4/4).
    let bar_two_s = 4.0 * 60.0 / 90.0;
    let x_of = |t: f64| area_left + ((t - roll.start_s) as f32) * roll.pixels_per_s;
    let press = egui::pos2(x_of(bar_two_s), ruler_y);
    harness.event(egui::Event::PointerMoved(press));
    harness.event(egui::Event::PointerButton {
        pos: press,
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: egui::Modifiers::NONE,
    });
    harness.step();
    // A normal pace: a beat and a half by the time the drag is seen.
    for dx in [60.0, 120.0, 200.0] {
        harness.event(egui::Event::PointerMoved(press + egui::vec2(dx, 0.0)));
        harness.step();
    }
    harness.event(egui::Event::PointerButton {
        pos: press + egui::vec2(200.0, 0.0),
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    harness.step();
    let selection = harness.state().shared.selection.expect("a selection");
    assert!(
        (selection.start_s - bar_two_s).abs() < 1e-6,
        "starts on bar 2: {selection:?}"
    );
}
