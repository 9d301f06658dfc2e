//! The computer keyboard as a piano, read from egui's key events while the Live room shows: the
//! letters become touches, Enter hands a call over. Nothing plays while a text field has the
//! keyboard, and every held key is released when the window loses focus (no key-up comes then).

use cadenza_core::live::{ComputerPiano, PianoKeyEffect};
use egui::{Event, Key};

use crate::app::intent::{Intent, Intents};

/// The letter a key types on a US layout, for the piano's layout.
fn letter(key: Key) -> Option<char> {
    let name = key.symbol_or_name();
    let mut chars = name.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_alphabetic() || c == ';' => Some(c.to_ascii_lowercase()),
        _ => None,
    }
}

/// Reads this frame's keys into touches (intents), consuming the piano's keys so no shortcut
/// sees them.
pub fn read_computer_keys(ui: &mut egui::Ui, piano: &mut ComputerPiano, intents: &mut Intents) {
    if ui.ctx().egui_wants_keyboard_input() {
        return;
    }
    ui.input_mut(|input| {
        let focus_lost = !input.focused
            || input
                .events
                .iter()
                .any(|event| matches!(event, Event::WindowFocused(false)));
        if focus_lost && piano.is_held() {
            for touch in piano.release_all() {
                intents.push(Intent::Touch(touch));
            }
        }
        input.events.retain(|event| {
            let Event::Key {
                key,
                pressed,
                repeat,
                modifiers,
                ..
            } = event
            else {
                return true;
            };
            if modifiers.command || modifiers.alt || modifiers.ctrl {
                return true;
            }
            if *key == Key::Enter && *pressed {
                intents.push(Intent::HandOver);
                return false;
            }
            let Some(letter) = letter(*key) else {
                return true;
            };
            if *repeat {
                return false;
            }
            if *pressed {
                if let PianoKeyEffect::Touch(touch) = piano.press(letter) {
                    intents.push(Intent::Touch(touch));
                }
            } else if let Some(touch) = piano.release(letter) {
                intents.push(Intent::Touch(touch));
            }
            false
        });
    });
}
