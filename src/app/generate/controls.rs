//! The Generate room's settings (primer, length, sampling, steering; remembered between runs)
//! and the grid that edits them.

use cadenza_core::controls::{ControlPlan, ControlsMeta};
use cadenza_core::encoding::VOCAB_SIZE;
use cadenza_core::generate::{self, AssistLevel, Length, SamplingSettings};
use cadenza_core::regenerate;

use super::steering_controls::SteerControls;
use crate::app::format::format_time;

/// What the model continues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum PrimerChoice {
    /// Start from silence.
    #[default]
    None,
    /// The opening seconds of the piece on screen (a corpus piece or an opened file).
    OpeningOfShown,
    /// All of the selected take: "continue this take".
    ContinueTake,
}

/// Generation controls, remembered between runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct GenerateControls {
    /// Seconds of new music, in free time.
    pub seconds: f64,
    /// Bars of new music, on a grid (a tempo or meter asked for).
    pub bars: u32,
    /// Sampling temperature.
    pub temperature: f64,
    /// Top-k (0 = off).
    pub top_k: usize,
    /// Top-p (1 = off).
    pub top_p: f64,
    /// Seed of the first variation.
    pub seed: u64,
    /// Keep the seed: Generate makes the same piece again (otherwise each press rolls a new one).
    pub lock_seed: bool,
    /// Pieces per generation.
    pub variations: usize,
    /// What to continue.
    pub primer: PrimerChoice,
    /// How much of the shown piece to use as primer.
    pub primer_seconds: f64,
    /// Key, density, loudness and style.
    pub steer: SteerControls,
    /// Candidates sampled when regenerating a passage.
    pub candidates: usize,
    /// How strongly the sampler's rules lean on the network's choices.
    pub assist: AssistLevel,
}

impl Default for GenerateControls {
    fn default() -> Self {
        Self {
            seconds: generate::DEFAULT_SECONDS,
            bars: generate::DEFAULT_BARS,
            temperature: 1.0,
            top_k: 0,
            top_p: 1.0,
            seed: 1,
            lock_seed: false,
            variations: 1,
            primer: PrimerChoice::None,
            primer_seconds: generate::DEFAULT_PRIMER_SECONDS,
            steer: SteerControls::default(),
            candidates: regenerate::DEFAULT_CANDIDATES,
            assist: AssistLevel::default(),
        }
    }
}

impl GenerateControls {
    /// Before a new take: a fresh seed unless the seed is locked, so pressing Generate again
    /// gives new music (the seed stays visible, so any take can be made again).
    pub fn roll_seed(&mut self) {
        if self.lock_seed {
            return;
        }
        let previous = self.seed;
        while self.seed == previous {
            self.seed = u64::from(rand::random::<u32>());
        }
    }

    /// A seed for candidates of a passage: a new one each time unless the seed is locked. The
    /// Seed field is the next take's and stays as it is.
    pub fn passage_seed(&self) -> u64 {
        if self.lock_seed {
            self.seed
        } else {
            u64::from(rand::random::<u32>())
        }
    }

    /// The sampling settings these controls ask for, for a model asked `plan`: a length in
    /// bars where the plan lays out bars, else in seconds.
    pub fn settings(&self, plan: &ControlPlan) -> SamplingSettings {
        SamplingSettings {
            length: if plan.asks_meter() {
                Length::Bars(self.bars)
            } else {
                Length::Seconds(self.seconds)
            },
            temperature: self.temperature,
            top_k: (self.top_k > 0).then_some(self.top_k),
            top_p: (self.top_p < 1.0).then_some(self.top_p),
            seed: self.seed,
            variations: self.variations,
            assist: self.assist.assist(),
        }
    }
}

/// Draws the settings grid; `learned` is what the model can be steered by.
pub fn controls_ui(
    ui: &mut egui::Ui,
    controls: &mut GenerateControls,
    learned: Option<&ControlsMeta>,
) {
    egui::Grid::new("generate-controls")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label("Primer");
            egui::ComboBox::from_id_salt("primer")
                .selected_text(match controls.primer {
                    PrimerChoice::None => "None",
                    PrimerChoice::OpeningOfShown => "Opening of the piece shown",
                    PrimerChoice::ContinueTake => "Continue the selected take",
                })
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut controls.primer, PrimerChoice::None, "None");
                    ui.selectable_value(
                        &mut controls.primer,
                        PrimerChoice::OpeningOfShown,
                        "Opening of the piece shown",
                    );
                    ui.selectable_value(
                        &mut controls.primer,
                        PrimerChoice::ContinueTake,
                        "Continue the selected take",
                    );
                });
            ui.end_row();
            if controls.primer == PrimerChoice::OpeningOfShown {
                ui.label("Primer seconds");
                ui.add(
                    egui::DragValue::new(&mut controls.primer_seconds)
                        .range(0.5..=60.0)
                        .speed(0.1),
                );
                ui.end_row();
            }
            length_ui(ui, controls, learned);
            ui.end_row();
            ui.label("Temperature");
            ui.add(egui::Slider::new(&mut controls.temperature, 0.1..=2.0))
                .on_hover_text("How adventurous the playing is: below 1 plays safe and repeats more, above 1 takes more risks (the sampling temperature)");
            ui.end_row();
            ui.label("Top-k");
            ui.add(egui::DragValue::new(&mut controls.top_k).range(0..=VOCAB_SIZE))
                .on_hover_text("Plays only what the model finds most likely next: the k likeliest notes, rests and dynamics to choose from, 0 for all (top-k sampling)");
            ui.end_row();
            ui.label("Top-p");
            ui.add(egui::Slider::new(&mut controls.top_p, 0.05..=1.0))
                .on_hover_text(
                    "Leaves out the unlikely: chooses among the likeliest next notes, rests and dynamics that together make up this share of the odds, 1 for all (nucleus or top-p sampling)",
                );
            ui.end_row();
            ui.label("Seed");
            ui.horizontal(|ui| {
                ui.add(egui::DragValue::new(&mut controls.seed));
                ui.checkbox(&mut controls.lock_seed, "Lock").on_hover_text(
                    "Keep this seed: the next take is the same piece again. Otherwise each \
                         new take gets a new seed",
                );
            });
            ui.end_row();
            ui.label("Assist");
            egui::ComboBox::from_id_salt("assist")
                .selected_text(controls.assist.to_string())
                .show_ui(ui, |ui| {
                    for level in AssistLevel::ALL {
                        ui.selectable_value(&mut controls.assist, level, level.to_string());
                    }
                })
                .response
                .on_hover_text("How strongly Cadenza's rules lean on the model's choices: keeping time, echoing each phrase's first half, the corpus's texture, letting go of held notes, the key the take settled in. None: the model alone. A model with structure paths (the starter since December 2026) learned to echo the bars before and land on the grid itself, on a bar grid; in free time there is no grid for them to follow");
            ui.end_row();
            ui.label("Variations");
            ui.add(
                egui::DragValue::new(&mut controls.variations).range(1..=generate::MAX_VARIATIONS),
            )
            .on_hover_text("Pieces sampled together, with seeds seed, seed+1, …");
            ui.end_row();
            controls.steer.ui(ui, learned);
        });
}

/// The Length row: bars on a grid (with the time they take beside), seconds in free time,
/// greyed when a form sets it.
fn length_ui(ui: &mut egui::Ui, controls: &mut GenerateControls, learned: Option<&ControlsMeta>) {
    let plan = match learned {
        Some(learned) => controls.steer.plan().within(learned),
        None => ControlPlan::default(),
    };
    let form_sets_length = plan.form.is_some();
    if plan.asks_meter() {
        ui.label("Length (bars)");
        ui.horizontal(|ui| {
            ui.add_enabled(
                !form_sets_length,
                egui::DragValue::new(&mut controls.bars).range(1..=generate::MAX_BARS),
            )
            .on_hover_text("Bars of new music; the take ends on a bar line")
            .on_disabled_hover_text("The form sets the length: its bars at the tempo asked");
            if !form_sets_length && let Some(grid) = plan.grid(0.0) {
                let end_s = grid.bar_start_s(controls.bars);
                ui.weak(format_time(end_s));
            }
        });
    } else {
        ui.label("Length (s)");
        ui.add_enabled(
            !form_sets_length,
            egui::DragValue::new(&mut controls.seconds)
                .range(1.0..=600.0)
                .speed(0.5),
        )
        .on_hover_text("Seconds of new music after the primer")
        .on_disabled_hover_text("The form sets the length: its bars at the tempo asked");
    }
}
