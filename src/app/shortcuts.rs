//! The keyboard shortcuts (listed in Help ▸ Shortcuts), read once a frame as intents.

use egui::{Key, Modifiers};

use super::intent::{Intent, Intents};

/// Reads this frame's shortcuts. Keys that type (Space, Home, undo) are left to a text field
/// that has the keyboard.
pub fn read(ui: &mut egui::Ui, intents: &mut Intents) {
    let typing = ui.ctx().egui_wants_keyboard_input();
    ui.input_mut(|i| {
        // Shift first: consume_key(COMMAND) would also match Ctrl+Shift+Z.
        let bindings = [
            (
                !typing,
                Modifiers::COMMAND | Modifiers::SHIFT,
                Key::Z,
                Intent::Redo,
            ),
            (!typing, Modifiers::COMMAND, Key::Z, Intent::Undo),
            (!typing, Modifiers::NONE, Key::Space, Intent::TogglePlay),
            (!typing, Modifiers::NONE, Key::Home, Intent::Seek(0.0)),
            (true, Modifiers::COMMAND, Key::S, Intent::SaveCheckpoint),
            (true, Modifiers::COMMAND, Key::E, Intent::ExportShownTake),
        ];
        for (active, modifiers, key, intent) in bindings {
            if active && i.consume_key(modifiers, key) {
                intents.push(intent);
            }
        }
    });
}
