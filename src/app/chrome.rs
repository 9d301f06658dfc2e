//! The frame around the rooms: the menu, the transport with zoom and the message line, the
//! status bar, and the hint shown while files hover over the window. Each returns what the user
//! asked for as intents.

use std::path::PathBuf;

use super::format::format_time;
use super::help;
use super::intent::{Intent, Intents, Room};
use super::piano_roll::PianoRoll;
use super::shared::Shared;

/// File and Help.
pub fn menu(ui: &mut egui::Ui, intents: &mut Intents) {
    egui::Panel::top("menu").show(ui, |ui| {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open MIDI file…").clicked() {
                    intents.push(Intent::OpenFileDialog);
                }
                if ui.button("Open corpus folder…").clicked() {
                    intents.push(Intent::OpenFolderDialog);
                    intents.push(Intent::GoTo(Room::Corpus));
                }
                if ui.button("Choose SoundFont…").clicked() {
                    intents.push(Intent::ChooseSoundFont);
                }
            });
            ui.menu_button("Help", help::menu);
        });
    });
}

/// What the machine is doing: the rooms' jobs first (so a long device or SoundFont text never
/// pushes them off screen), then the device, the SoundFont and the audio output, details on hover.
pub fn status_bar(ui: &mut egui::Ui, jobs: &[String], device: &str, shared: &Shared) {
    egui::Panel::bottom("status").show(ui, |ui| {
        ui.horizontal(|ui| {
            ui.label(if jobs.is_empty() {
                "Idle".to_string()
            } else {
                jobs.join(" · ")
            });
            ui.separator();
            let short = device.split(" (").next().unwrap_or(device);
            ui.add(egui::Label::new(format!("Device: {short}")).truncate())
                .on_hover_text(device);
            ui.separator();
            let soundfont = shared.sound.soundfont_label();
            ui.add(egui::Label::new(soundfont.clone()).truncate())
                .on_hover_text(soundfont);
            ui.separator();
            let output = shared.sound.output_label();
            ui.add(egui::Label::new(output.clone()).truncate())
                .on_hover_text(output);
        });
    });
}

/// Play / Stop, the time, volume, the roll's view and zoom, the piece's title; under them the
/// newest message while it shows.
pub fn transport_bar(
    ui: &mut egui::Ui,
    shared: &Shared,
    roll: &mut PianoRoll,
    roll_width_px: f32,
    intents: &mut Intents,
) {
    egui::Panel::bottom("transport").show(ui, |ui| {
        ui.horizontal(|ui| {
            let sound = &shared.sound;
            let label = if sound.is_playing() { "Pause" } else { "Play" };
            if ui.button(label).on_hover_text("Space").clicked() {
                intents.push(Intent::TogglePlay);
            }
            if ui.button("Stop").clicked() {
                intents.push(Intent::Stop);
            }
            let end_s = shared.shown.content.end_s();
            ui.label(format!(
                "{} / {}",
                // Playback runs a moment past the last release (the tail); the position never
                // reads past the end.
                format_time(sound.position_s().min(end_s)),
                format_time(end_s)
            ));
            let mut volume = sound.volume();
            if ui
                .add(egui::Slider::new(&mut volume, 0.0..=1.0).text("Volume"))
                .changed()
            {
                intents.push(Intent::SetVolume(volume));
            }
            ui.checkbox(&mut roll.follow, "Follow playhead");
            ui.checkbox(&mut roll.full_keyboard, "All keys")
                .on_hover_text("Show the whole keyboard instead of the notes' range");
            ui.separator();
            zoom_ui(ui, roll, roll_width_px);
            ui.separator();
            ui.label(egui::RichText::new(&shared.shown.title).strong());
        });
        message_line(ui, shared, intents);
    });
}

/// Zoom out, in and "Fit take": the roll's zoom, also on Ctrl+wheel (said on hover).
fn zoom_ui(ui: &mut egui::Ui, roll: &mut PianoRoll, roll_width_px: f32) {
    let hint = "Ctrl+wheel over the roll zooms too; the wheel scrolls";
    if ui
        .small_button("-")
        .on_hover_text(format!("Zoom out ({hint})"))
        .clicked()
    {
        roll.zoom_by(0.8, roll_width_px);
    }
    if ui
        .small_button("+")
        .on_hover_text(format!("Zoom in ({hint})"))
        .clicked()
    {
        roll.zoom_by(1.25, roll_width_px);
    }
    if ui
        .small_button("Fit take")
        .on_hover_text("Show the whole piece")
        .clicked()
    {
        roll.fit();
    }
}

/// The newest message while it shows, with Dismiss; a frame is asked for when it should go.
fn message_line(ui: &mut egui::Ui, shared: &Shared, intents: &mut Intents) {
    let Some((message, age)) = shared.messages.showing() else {
        return;
    };
    if let Some(age) = age {
        ui.ctx()
            .request_repaint_after(super::shared::MESSAGE_SHOWN.saturating_sub(age));
    }
    ui.horizontal(|ui| {
        ui.label(message);
        if ui.small_button("Dismiss").clicked() {
            intents.push(Intent::DismissMessages);
        }
    });
}

/// Opens what was dropped on the window, whichever room shows: a folder as the corpus (the
/// Corpus room comes up), a MIDI file in the roll. While files hover, says what a drop does.
pub fn dropped_files(ui: &mut egui::Ui, intents: &mut Intents) {
    let (hovering, dropped) = ui.input(|i| {
        let dropped: Vec<PathBuf> = i
            .raw
            .dropped_files
            .iter()
            .map(|f| f.path().to_path_buf())
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        (!i.raw.hovered_files.is_empty(), dropped)
    });
    for path in dropped {
        if path.is_dir() {
            intents.push(Intent::GoTo(Room::Corpus));
        }
        intents.push(Intent::Open(path));
    }
    if hovering {
        let screen = ui.ctx().content_rect();
        let painter = ui.ctx().layer_painter(egui::LayerId::new(
            egui::Order::Foreground,
            egui::Id::unique("drop-hint"),
        ));
        painter.rect_filled(screen, 0.0, egui::Color32::from_black_alpha(160));
        painter.text(
            screen.center(),
            egui::Align2::CENTER_CENTER,
            "Drop a folder to open it as the corpus, or a MIDI file to view and play it",
            egui::FontId::proportional(20.0),
            egui::Color32::WHITE,
        );
    }
}
