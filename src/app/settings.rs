//! What the app remembers between runs, as eframe stores it. Each room owns its part while the
//! app runs ([`super::cadenza_app::CadenzaApp::settings`] gathers them); this type is the file's
//! shape, kept flat so that settings written by earlier versions still load.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::generate::GenerateControls;
use super::live::LiveRoomSettings;
use super::train::TrainControls;

/// The eframe storage key of [`Settings`].
pub const SETTINGS_KEY: &str = "cadenza-settings";

/// What is remembered between runs (with eframe's window size and position).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The last corpus folder.
    pub corpus_dir: Option<PathBuf>,
    /// The last checkpoint trained or opened.
    pub checkpoint: Option<PathBuf>,
    /// A SoundFont chosen by the user.
    pub soundfont: Option<PathBuf>,
    /// Recently used checkpoints, newest first.
    pub recent_checkpoints: Vec<PathBuf>,
    /// The folder of the last export, where the next export's dialog opens.
    pub export_dir: Option<PathBuf>,
    /// How far a MIDI export moves notes toward the take's bar grid, 0–1 (0: as played).
    pub export_quantize: f64,
    /// Training controls.
    pub train: TrainControls,
    /// Generation controls.
    pub generate: GenerateControls,
    /// The style names given to flat corpus folders, by folder, applied when one is opened again.
    pub style_names: BTreeMap<PathBuf, String>,
    /// The Live room: the MIDI keyboard and output, the silence that ends a call.
    pub live: LiveRoomSettings,
}

#[cfg(test)]
mod tests {
    use super::Settings;
    use crate::app::train::StartChoice;

    #[test]
    fn settings_written_before_start_from_still_load() {
        // Before "Start from", the Train panel remembered `resume: bool`.
        let current = ron::to_string(&Settings::default()).expect("serialises");
        let old = current.replace("start:New", "resume:true");
        assert_ne!(
            old, current,
            "the field is where this test expects it: {current}"
        );
        let settings: Settings = ron::from_str(&old).expect("older settings load");
        assert_eq!(settings.train.start, StartChoice::New);
    }

    #[test]
    fn settings_written_before_the_bar_grid_form_and_assist_still_load() {
        let current = ron::to_string(&Settings::default()).expect("serialises");
        let mut old = current.clone();
        for field in [
            "export_quantize:0.0,",
            "tempo:Some(90.0),",
            "meter:Some(\"4/4\"),",
            "form:\"\",",
            ",variation:0.3",
            ",assist:strong",
        ] {
            assert!(old.contains(field), "{field} is in {current}");
            old = old.replace(field, "");
        }
        let settings: Settings = ron::from_str(&old).expect("older settings load");
        // Written before the grid, they take today's default: in bars.
        let defaults = crate::app::generate::GenerateControls::default().steer;
        assert_eq!(settings.generate.steer.tempo, defaults.tempo);
        assert_eq!(settings.generate.steer.meter, defaults.meter);
        assert_eq!(settings.generate.steer.variation, 0.3);
        // Written before the assist was a setting: the strong one, as takes were made then.
        assert_eq!(
            settings.generate.assist,
            cadenza_core::generate::AssistLevel::Strong
        );
    }

    #[test]
    fn settings_written_before_the_live_room_still_load_with_its_defaults() {
        let current = ron::to_string(&Settings::default()).expect("serialises");
        let at = current
            .find(",live:")
            .expect("the live room's settings are written");
        let old = format!("{})", &current[..at]);
        let settings: Settings = ron::from_str(&old).expect("older settings load");
        assert_eq!(settings.live, crate::app::live::LiveRoomSettings::default());
    }
}
