//! The Train room's controls: where a run's weights begin, the preset and hyperparameters
//! (greyed where a run keeps a checkpoint's shape), minutes and device, and what fine-tuning does
//! with each style of the corpus.

use cadenza_core::checkpoint::{self, TrainSettings};
use cadenza_core::model::{DeviceChoice, ModelConfig};
use cadenza_core::train::Preset;

/// Training controls, remembered between runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct TrainControls {
    /// The preset the hyperparameters started from (names the checkpoint).
    pub preset: Preset,
    /// The network's shape: the preset's, or edited.
    pub model: ModelConfig,
    /// The training recipe: the preset's, or edited.
    pub recipe: TrainSettings,
    /// Minutes to train.
    pub minutes: f64,
    /// Where the weights begin.
    pub start: StartChoice,
    /// Where to train.
    pub device: DeviceChoice,
    /// Learn the steering controls (density, key, loudness, style).
    pub controls: bool,
}

impl Default for TrainControls {
    fn default() -> Self {
        Self {
            preset: Preset::Quick,
            model: Preset::Quick.model(),
            recipe: Preset::Quick.settings(),
            minutes: 5.0,
            start: StartChoice::New,
            device: DeviceChoice::Auto,
            controls: true,
        }
    }
}

/// Where a run's weights begin, as the panel offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum StartChoice {
    /// Fresh weights in the chosen shape.
    #[default]
    New,
    /// Fine-tune the starter model that ships with Cadenza.
    Starter,
    /// Go on training the current checkpoint (the starter is fine-tuned, never overwritten).
    Current,
}

/// The room's controls: where a run starts, the preset and hyperparameters, minutes, device.
pub fn controls_ui(
    ui: &mut egui::Ui,
    controls: &mut TrainControls,
    have_checkpoint: bool,
    have_starter: bool,
    kept_shape: Option<(ModelConfig, &'static str)>,
) {
    egui::Grid::new("train-controls").num_columns(2).show(ui, |ui| {
        ui.label("Model");
        // A model trained further keeps its shape; the preset names only a new one.
        ui.add_enabled_ui(controls.start == StartChoice::New, |ui| ui.horizontal(|ui| {
            preset_button(ui, controls, Preset::Quick, "Quick")
                .on_hover_text("2 layers × 256 units: learns usefully in minutes on a laptop CPU");
            preset_button(ui, controls, Preset::Standard, "Standard")
                .on_hover_text("3 layers × 512 units (Performance RNN's size): best with a GPU or hours of CPU");
        }));
        ui.end_row();
        ui.label("Minutes");
        ui.add(egui::DragValue::new(&mut controls.minutes).range(0.5..=1440.0).speed(0.5))
            .on_hover_text("Training stops (and saves) after this long; you can stop earlier");
        ui.end_row();
        ui.label("Device");
        egui::ComboBox::from_id_salt("device")
            .selected_text(format!("{:?}", controls.device))
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut controls.device, DeviceChoice::Auto, "Auto")
                    .on_hover_text("A CUDA GPU when there is one, else the CPU");
                ui.selectable_value(&mut controls.device, DeviceChoice::Cpu, "Cpu");
                ui.selectable_value(&mut controls.device, DeviceChoice::Cuda, "Cuda");
            });
        ui.end_row();
        ui.label("Start from");
        start_ui(ui, controls, have_checkpoint, have_starter);
        ui.end_row();
        ui.label("Controls");
        ui.add_enabled(controls.start == StartChoice::New, egui::Checkbox::new(&mut controls.controls, "learn them"))
            .on_hover_text("Key, density, loudness, style, tempo and meter: computed from the music itself, so no labelling is needed; the Generate panel can then steer the model by them.")
            .on_disabled_hover_text("A model trained further keeps the controls it learned (and learns the corpus's composers as new styles)");
        ui.end_row();
    });
    ui.collapsing("Hyperparameters", |ui| {
        hyperparameters_ui(ui, controls, kept_shape)
    });
}

/// "A new model / the starter model / the current checkpoint". Choosing the starter also sets
/// fine-tuning's recipe and length, as choosing a preset sets the preset's.
fn start_ui(
    ui: &mut egui::Ui,
    controls: &mut TrainControls,
    have_checkpoint: bool,
    have_starter: bool,
) {
    // One choice a line: three side by side do not fit a side panel in a 1024-point window.
    ui.vertical(|ui| {
        ui.radio_value(&mut controls.start, StartChoice::New, "a new model")
            .on_hover_text("Fresh weights in the shape chosen above");
        let starter = ui
            .add_enabled(
                have_starter,
                egui::RadioButton::new(controls.start == StartChoice::Starter, "the starter model"),
            )
            .on_hover_text("Fine-tune the model that ships with Cadenza (piano-midi.de: 25 composers and a Christmas collection) on this corpus: a lower learning rate, stopping early when validation stops improving; its composers become new styles")
            .on_disabled_hover_text("The starter model is not installed");
        if starter.clicked() {
            controls.start = StartChoice::Starter;
            controls.recipe = TrainSettings::FINE_TUNE;
            controls.minutes = cadenza_core::train::FINE_TUNE_MINUTES;
        }
        ui.add_enabled(
            have_checkpoint,
            egui::RadioButton::new(controls.start == StartChoice::Current, "the current checkpoint"),
        )
        .on_hover_text("Go on training the current model (its shape is kept); the starter model is fine-tuned into a new checkpoint instead")
        .on_disabled_hover_text("Train a model or open a checkpoint first")
        .clicked()
        .then(|| controls.start = StartChoice::Current);
    });
}

/// A preset choice that also resets the hyperparameters to the preset's.
fn preset_button(
    ui: &mut egui::Ui,
    controls: &mut TrainControls,
    preset: Preset,
    label: &str,
) -> egui::Response {
    let response = ui.radio(controls.preset == preset, label);
    if response.clicked() {
        controls.preset = preset;
        controls.model = preset.model();
        controls.recipe = preset.settings();
    }
    response
}

/// The network's shape (greyed, showing the starting checkpoint's, when a run trains one
/// further: it keeps its shape) and the training recipe.
fn hyperparameters_ui(
    ui: &mut egui::Ui,
    controls: &mut TrainControls,
    kept_shape: Option<(ModelConfig, &'static str)>,
) {
    let mut shown_shape = kept_shape.map_or(controls.model, |(shape, _)| shape);
    let kept_why = kept_shape
        .map(|(_, whose)| format!("A model trained further keeps its shape: {whose}"))
        .unwrap_or_default();
    let model = if kept_shape.is_some() {
        &mut shown_shape
    } else {
        &mut controls.model
    };
    let recipe = &mut controls.recipe;
    egui::Grid::new("hyperparameters").num_columns(2).show(ui, |ui| {
        let shape_row = |ui: &mut egui::Ui, label: &str, widget: egui::DragValue, tip: &str| {
            ui.label(label);
            ui.add_enabled(kept_shape.is_none(), widget)
                .on_hover_text(tip)
                .on_disabled_hover_text(&kept_why);
            ui.end_row();
        };
        shape_row(ui, "Layers", egui::DragValue::new(&mut model.layers).range(1..=6),
            "Stacked LSTM layers: more model longer-range structure, and train slower");
        shape_row(ui, "Hidden units", egui::DragValue::new(&mut model.hidden).range(16..=2048).speed(8),
            "Units per LSTM layer: the model's memory and capacity");
        shape_row(ui, "Embedding", egui::DragValue::new(&mut model.embed).range(8..=1024).speed(8),
            "Size of the vector each event is turned into before the LSTM");
        shape_row(ui, "Dropout", egui::DragValue::new(&mut model.dropout).range(0.0..=0.8).speed(0.01),
            "Share of activations dropped between layers while training: fights overfitting on small corpora");
        let row = |ui: &mut egui::Ui, label: &str, widget: egui::DragValue, tip: &str| {
            ui.label(label);
            ui.add(widget).on_hover_text(tip);
            ui.end_row();
        };
        row(ui, "Window (events)", egui::DragValue::new(&mut recipe.seq_len).range(16..=2048).speed(4),
            "Events the model reads per training window; about 40 events make a second of music");
        row(ui, "Batch", egui::DragValue::new(&mut recipe.batch).range(1..=512),
            "Windows per optimizer step: larger is smoother and uses more memory");
        row(ui, "Learning rate", egui::DragValue::new(&mut recipe.lr).range(1e-5..=1e-1).speed(1e-4).max_decimals(5),
            "Adam's step size: too high and the loss jumps about, too low and it falls slowly");
        row(ui, "Seed", egui::DragValue::new(&mut recipe.seed),
            "Seeds the weights and the choice of windows: the same seed repeats a run");
    });
    if ui.button("Reset to the preset").clicked() {
        controls.model = controls.preset.model();
        controls.recipe = controls.preset.settings();
    }
}

/// What training `meta`'s model further does with each of the corpus's styles, in words:
/// "“bach”: continues the starter model's style “Bach”", or "“bach chorales”: added as a new
/// style".
pub fn style_fates(
    meta: &checkpoint::CheckpointMeta,
    whose: &str,
    styles: &[String],
) -> Vec<String> {
    meta.controls
        .as_ref()
        .map_or_else(Vec::new, |controls| fates_within(controls, whose, styles))
}

/// [`style_fates`] for a model steered by `controls`.
fn fates_within(
    controls: &cadenza_core::controls::ControlsMeta,
    whose: &str,
    styles: &[String],
) -> Vec<String> {
    let mut fates: Vec<String> = styles
        .iter()
        .map(|style| match controls.known_style(style) {
            Some(known) => format!("“{style}”: continues {whose} style “{known}”"),
            None => format!("“{style}”: added as a new style"),
        })
        .collect();
    if styles.iter().any(|s| controls.known_style(s).is_some()) {
        fates.push("To keep a style apart instead, give it another name (Corpus panel ▸ Rename style, for a folder without subfolders; else rename its subfolder)".to_string());
    }
    fates
}

#[cfg(test)]
mod tests {
    use cadenza_core::controls::{ControlsMeta, KeyProfiles};

    #[test]
    fn a_corpus_style_the_model_knows_is_said_to_continue_it_and_a_new_one_to_be_added() {
        let starter = ControlsMeta::new(vec!["Bach".into()], KeyProfiles::default());
        let fates = super::fates_within(
            &starter,
            "the starter model's",
            &["bach".to_string(), "bach chorales".to_string()],
        );
        assert_eq!(
            fates[0],
            "“bach”: continues the starter model's style “Bach”"
        );
        assert_eq!(fates[1], "“bach chorales”: added as a new style");
        assert!(
            fates[2].contains("another name"),
            "how to keep it apart: {fates:?}"
        );
    }
}
