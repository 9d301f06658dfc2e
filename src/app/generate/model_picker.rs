//! "Model: …" in the Generate room: the starter and the recent checkpoints in a menu, Open… for
//! another, and what the current one learned (read once per change of model).

use std::path::{Path, PathBuf};

use cadenza_core::checkpoint;
use cadenza_core::model::label::ModelCard;

use super::model_names::ModelNames;
use crate::app::intent::{Intent, Intents};
use crate::app::job::Job;
use crate::app::shared::Shared;

/// The model picker and the card of the current model.
#[derive(Default)]
pub struct ModelPicker {
    /// The current checkpoint, read when it changes.
    card: Option<ModelCard>,
    dialog: Job<Option<PathBuf>>,
}

impl ModelPicker {
    /// What the current model is and learned, if one is chosen.
    pub fn card(&self) -> Option<&ModelCard> {
        self.card.as_ref()
    }

    /// Reads the current model's card when the model changed (one stat a frame tells), not
    /// every frame.
    pub fn follow(&mut self, current: Option<&Path>) {
        let stale = match (&self.card, current) {
            (Some(card), Some(current)) => !card.is_current(current),
            (None, None) => false,
            _ => true,
        };
        if stale {
            self.card = current.map(ModelCard::read);
        }
    }

    /// Makes a checkpoint chosen in the open dialog current.
    pub fn poll(&mut self, intents: &mut Intents) {
        if let Some(Ok(Some(path))) = self.dialog.poll() {
            intents.push(Intent::UseCheckpoint(checkpoint::stem(&path)));
        }
    }

    /// Draws the picker.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared,
        names: &mut ModelNames,
        intents: &mut Intents,
    ) {
        let label = self
            .card
            .as_ref()
            .map_or("none".to_string(), |card| card.label.clone());
        ui.label("Model:");
        let current = shared.models.current.as_ref();
        egui::ComboBox::from_id_salt("model")
            .selected_text(label)
            .truncate()
            .show_ui(ui, |ui| {
                for path in shared.models.choices() {
                    let name = names.name(&path.display().to_string()).to_string();
                    if ui
                        .selectable_label(current == Some(&path), name)
                        .on_hover_text(path.display().to_string())
                        .clicked()
                    {
                        intents.push(Intent::UseCheckpoint(path));
                    }
                }
            })
            .response
            .on_hover_text(current.map_or(String::new(), |p| p.display().to_string()));
        if ui.button("Open…").clicked() {
            self.open_dialog(shared);
        }
    }

    /// Asks for a checkpoint, opening where checkpoints are: the current one's folder, else the
    /// data folder's.
    fn open_dialog(&mut self, shared: &Shared) {
        let folder = shared
            .models
            .current
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .or_else(|| shared.data.as_ref().map(|d| d.checkpoints()));
        self.dialog.dialog(&shared.repaint, move || {
            let mut dialog =
                rfd::FileDialog::new().add_filter("Cadenza checkpoint", &["json", "safetensors"]);
            if let Some(folder) = folder.filter(|f| f.is_dir()) {
                dialog = dialog.set_directory(folder);
            }
            dialog.pick_file()
        });
    }
}
