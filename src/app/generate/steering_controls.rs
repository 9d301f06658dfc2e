//! What the Generate room asks the model for: key, density, loudness, style, tempo, meter, form.
//! The choices become a core [`ControlPlan`]; what the controls mean lives in the core. Density
//! and loudness curves are drawn in the [`super::curve_lane`].

use cadenza_core::controls::{
    ControlPlan, ControlsMeta, Curve, CurvePoint, Key, KeyChange, Loudness, MeterChange,
    loudness_bin,
};
use cadenza_core::music::form::Form;
use cadenza_core::music::plan::{
    DEFAULT_METER, DEFAULT_TEMPO_BPM, DEFAULT_VARIATION, REQUESTABLE_TEMPO_BPM,
};
use cadenza_core::music::time_signature::TimeSignature;

/// How a density or loudness control is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum LaneMode {
    /// Not asked for.
    #[default]
    Any,
    /// One value for the whole take.
    Constant,
    /// A curve drawn in the lane under the piano roll.
    Curve,
}

/// A density or loudness control: its mode, its constant value and its curve.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Lane {
    /// Which of the two is used.
    pub mode: LaneMode,
    /// The constant value.
    pub value: f64,
    /// The curve's points.
    pub curve: Curve,
}

impl Lane {
    fn new(value: f64, curve: &[(f64, f64)]) -> Self {
        Self {
            mode: LaneMode::Any,
            value,
            curve: Curve(
                curve
                    .iter()
                    .map(|&(at_s, value)| CurvePoint { at_s, value })
                    .collect(),
            ),
        }
    }

    fn to_curve(&self) -> Curve {
        match self.mode {
            LaneMode::Any => Curve::default(),
            LaneMode::Constant => Curve::constant(self.value),
            LaneMode::Curve => self.curve.clone(),
        }
    }
}

/// Which curve the lane edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum LaneKind {
    /// Notes per second.
    #[default]
    Density,
    /// Mean velocity.
    Loudness,
}

/// The steering choices, remembered between runs; everything "any" by default.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SteerControls {
    /// Key from the start.
    pub key: Option<Key>,
    /// A later key change: when (seconds), and to which key (`None`: any).
    pub key_change: Option<(f64, Option<Key>)>,
    /// Notes per second.
    pub density: Lane,
    /// Mean velocity.
    pub loudness: Lane,
    /// A composer the model knows.
    pub style: Option<String>,
    /// The curve the lane edits.
    pub editing: LaneKind,
    /// Beats per minute to keep (`None`: free time, unless a meter is chosen).
    pub tempo: Option<f64>,
    /// Time signature of the bars (`None`: no bars, unless a tempo is chosen).
    pub meter: Option<TimeSignature>,
    /// The form as typed ("A4 B4 A4"; empty: none).
    pub form: String,
    /// How much repeats change, 0–1.
    pub variation: f64,
}

/// Time signatures offered in the Generate panel.
const METERS: [(u32, u32); 7] = [(2, 4), (3, 4), (4, 4), (5, 4), (6, 8), (9, 8), (12, 8)];

impl Default for SteerControls {
    fn default() -> Self {
        Self {
            key: None,
            key_change: None,
            // Sparse → dense → sparse over a minute, as a starting shape to edit.
            density: Lane::new(4.0, &[(0.0, 2.0), (30.0, 8.0), (60.0, 2.0)]),
            loudness: Lane::new(
                Loudness::Medium.velocity(),
                &[
                    (0.0, Loudness::Soft.velocity()),
                    (30.0, Loudness::Loud.velocity()),
                ],
            ),
            style: None,
            editing: LaneKind::Density,
            // In bars from the start (the core's defaults, which `cadenza generate` shares), so
            // a take lines up in a DAW and each phrase can answer itself; free time is a click
            // away.
            tempo: Some(DEFAULT_TEMPO_BPM),
            meter: Some(DEFAULT_METER),
            form: String::new(),
            variation: DEFAULT_VARIATION,
        }
    }
}

impl SteerControls {
    /// What to ask the model for.
    pub fn plan(&self) -> ControlPlan {
        let mut key = Vec::new();
        if self.key.is_some() {
            key.push(KeyChange {
                at_s: 0.0,
                key: self.key,
            });
        }
        if let Some((at_s, later)) = self.key_change {
            key.push(KeyChange { at_s, key: later });
        }
        ControlPlan {
            key,
            density: self.density.to_curve(),
            loudness: self.loudness.to_curve(),
            style: self.style.clone(),
            tempo: self.tempo.map_or_else(Curve::default, Curve::constant),
            meter: self
                .meter
                .map(|signature| MeterChange {
                    at_s: 0.0,
                    signature,
                })
                .into_iter()
                .collect(),
            form: self.form.trim().parse().ok(),
            variation: Some(self.variation),
        }
    }

    /// Why the typed form cannot be used (it does not read), if so; an empty form is none.
    pub fn form_problem(&self) -> Option<String> {
        let typed = self.form.trim();
        if typed.is_empty() {
            return None;
        }
        typed
            .parse::<Form>()
            .err()
            .map(|err| format!("The form does not read ({err}): correct it or clear it"))
    }

    /// Whether a curve is being drawn (the lane under the roll is shown).
    pub fn has_curve(&self) -> bool {
        self.density.mode == LaneMode::Curve || self.loudness.mode == LaneMode::Curve
    }

    /// The grid rows of the Generate panel for the controls a model learned (`None`: a model
    /// without controls, shown greyed out with the reason).
    pub fn ui(&mut self, ui: &mut egui::Ui, model: Option<&ControlsMeta>) {
        let reason = "This model was trained without controls (a checkpoint from before steering, or trained with controls off): train a new model to steer it";
        let enabled = model.is_some();
        ui.label("Key");
        ui.add_enabled_ui(enabled, |ui| {
            ui.horizontal(|ui| {
                key_combo(ui, "key", &mut self.key);
                let mut change = self.key_change.is_some();
                if ui
                    .checkbox(&mut change, "then at")
                    .on_hover_text("Change key at a chosen time")
                    .changed()
                {
                    self.key_change = change.then_some((30.0, self.key.map(|k| k.transposed(7))));
                }
                if let Some((at_s, later)) = &mut self.key_change {
                    ui.add(egui::DragValue::new(at_s).range(0.0..=3600.0).suffix(" s"));
                    key_combo(ui, "key-change", later);
                }
            })
        })
        .response
        .on_disabled_hover_text(reason);
        ui.end_row();
        ui.label("Density");
        ui.add_enabled_ui(enabled, |ui| {
            lane_ui(ui, "density", &mut self.density, |ui, value| {
                ui.add(
                    egui::DragValue::new(value)
                        .range(0.5..=64.0)
                        .speed(0.1)
                        .suffix(" notes/s"),
                )
                .on_hover_text("Rounded to the nearest of 0.5, 1, 2, 4 … 64 notes per second");
            });
        })
        .response
        .on_disabled_hover_text(reason);
        ui.end_row();
        ui.label("Loudness");
        ui.add_enabled_ui(enabled, |ui| {
            lane_ui(ui, "loudness", &mut self.loudness, |ui, value| {
                let current = Loudness::ALL[usize::from(loudness_bin(*value))];
                for level in Loudness::ALL {
                    if ui.radio(current == level, level.name()).clicked() {
                        *value = level.velocity();
                    }
                }
            });
        })
        .response
        .on_disabled_hover_text(reason);
        ui.end_row();
        ui.label("Style");
        ui.add_enabled_ui(enabled, |ui| {
            let styles = model.map(|m| m.styles.as_slice()).unwrap_or_default();
            egui::ComboBox::from_id_salt("style")
                .selected_text(self.style.as_deref().unwrap_or("Any"))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.style, None, "Any");
                    for style in styles {
                        ui.selectable_value(&mut self.style, Some(style.clone()), style);
                    }
                });
        })
        .response
        .on_disabled_hover_text(reason);
        ui.end_row();
        self.meter_ui(ui, model.is_some_and(ControlsMeta::reads_meter));
    }

    /// The Tempo and Meter rows, greyed out with the reason for a model that cannot keep time.
    fn meter_ui(&mut self, ui: &mut egui::Ui, enabled: bool) {
        let reason = "This model was trained before Cadenza had a bar grid, so it cannot keep a tempo or meter: use the starter model, or fine-tune this one";
        ui.label("Tempo");
        ui.add_enabled_ui(enabled, |ui| {
            ui.horizontal(|ui| {
                let mut kept = self.tempo.is_some();
                if ui
                    .checkbox(&mut kept, "Steady")
                    .on_hover_text("Play in time at a steady tempo, with bars you can line up in a DAW or a score (unticked: free time)")
                    .changed()
                {
                    self.tempo = kept.then_some(DEFAULT_TEMPO_BPM);
                }
                if let Some(bpm) = &mut self.tempo {
                    let range = REQUESTABLE_TEMPO_BPM;
                    ui.add(egui::DragValue::new(bpm).range(range).speed(0.5).suffix(" bpm"))
                        .on_hover_text("Beats per minute (in 6/8 a beat is a dotted quarter)");
                }
            });
        })
        .response
        .on_disabled_hover_text(reason);
        ui.end_row();
        ui.label("Meter");
        ui.add_enabled_ui(enabled, |ui| {
            let text = self.meter.map_or("Free".to_string(), |m| m.to_string());
            egui::ComboBox::from_id_salt("meter")
                .selected_text(text)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.meter, None, "Free")
                        .on_hover_text("No bars (4/4 if a tempo is kept)");
                    for (top, bottom) in METERS {
                        if let Ok(signature) = TimeSignature::new(top, bottom) {
                            ui.selectable_value(
                                &mut self.meter,
                                Some(signature),
                                signature.to_string(),
                            );
                        }
                    }
                })
                .response
                .on_hover_text("Time signature: beats to the bar (the bars the roll and the exported file show)");
        })
        .response
        .on_disabled_hover_text(reason);
        ui.end_row();
        self.form_ui(ui, enabled, reason);
    }

    /// The Form and Variation rows: sections typed as letters and bars, checked as typed.
    fn form_ui(&mut self, ui: &mut egui::Ui, enabled: bool, reason: &str) {
        ui.label("Form");
        ui.add_enabled_ui(enabled, |ui| {
            ui.vertical(|ui| {
                ui.add(
                    egui::TextEdit::singleline(&mut self.form)
                        .hint_text("none, e.g. A4 B4 A4")
                        .desired_width(140.0),
                )
                .on_hover_text("Sections as letters and bars: a letter used again brings its section back (A4 B4 A4: a theme, four bars of something else, the theme again). Empty: no form");
                let typed = self.form.trim();
                if typed.is_empty() {
                    return;
                }
                match (typed.parse::<Form>(), self.plan().form_end_s(0.0)) {
                    (Err(err), _) => {
                        ui.colored_label(ui.visuals().warn_fg_color, err.to_string());
                    }
                    (Ok(form), Some(end_s)) => {
                        ui.label(format!(
                            "{} bars, {}: the form sets the length",
                            form.bars(),
                            crate::app::format::format_time(end_s)
                        ))
                        .on_hover_text(format!("Length is not used with a form: each section is as many bars as written, at the tempo asked ({DEFAULT_TEMPO_BPM} bpm if none)"));
                    }
                    (Ok(_), None) => {}
                }
            });
        })
        .response
        .on_disabled_hover_text(reason);
        ui.end_row();
        ui.label("Variation");
        ui.add_enabled(
            enabled && !self.form.trim().is_empty(),
            egui::Slider::new(&mut self.variation, 0.0..=1.0),
        )
        .on_hover_text("How much a section changes when it comes back: 0 the same notes, 1 every bar written anew (the share of its bars regenerated)");
        ui.end_row();
    }
}

fn key_combo(ui: &mut egui::Ui, id: &str, key: &mut Option<Key>) {
    egui::ComboBox::from_id_salt(id)
        .selected_text(key.map_or("Any".to_string(), |k| k.to_string()))
        .height(400.0)
        .show_ui(ui, |ui| {
            ui.selectable_value(key, None, "Any")
                .on_hover_text("The music chooses its key, then keeps to it");
            for choice in Key::all() {
                ui.selectable_value(key, Some(choice), choice.to_string());
            }
        });
}

fn lane_ui(
    ui: &mut egui::Ui,
    id: &str,
    lane: &mut Lane,
    constant: impl FnOnce(&mut egui::Ui, &mut f64),
) {
    ui.horizontal(|ui| {
        egui::ComboBox::from_id_salt(id)
            .selected_text(match lane.mode {
                LaneMode::Any => "Any",
                LaneMode::Constant => "Fixed",
                LaneMode::Curve => "Curve",
            })
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut lane.mode, LaneMode::Any, "Any");
                ui.selectable_value(&mut lane.mode, LaneMode::Constant, "Fixed");
                ui.selectable_value(&mut lane.mode, LaneMode::Curve, "Curve")
                    .on_hover_text("Draw it in the lane under the piano roll");
            });
        match lane.mode {
            LaneMode::Constant => constant(ui, &mut lane.value),
            LaneMode::Curve => {
                ui.label("drawn under the roll");
            }
            LaneMode::Any => {}
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use cadenza_core::controls::{CONTROL_INPUTS, KeyProfiles};
    use egui_kittest::Harness;
    use egui_kittest::kittest::{NodeT, Queryable};

    /// Whether the Tempo row's checkbox can be used for a model with `inputs` control inputs.
    fn tempo_enabled(inputs: usize) -> bool {
        let meta = ControlsMeta {
            inputs,
            ..ControlsMeta::new(vec!["Bach".into()], KeyProfiles::default())
        };
        let mut steer = SteerControls::default();
        // The rows' labels sit beside the combo boxes in the panel's grid, not on them.
        let harness = Harness::builder()
            .with_accessibility_check(false)
            .build_ui(|ui| {
                egui::Grid::new("steer").show(ui, |ui| steer.ui(ui, Some(&meta)));
            });
        !harness
            .get_by_label("Steady")
            .accesskit_node()
            .is_disabled()
    }

    #[test]
    fn tempo_and_meter_are_greyed_for_a_model_from_before_the_bar_grid() {
        assert!(!tempo_enabled(CONTROL_INPUTS));
        assert!(tempo_enabled(
            cadenza_core::controls::CONTROL_INPUTS_WITH_METER
        ));
    }
}
