//! What a live answer is sampled with, handed to the Live room each frame by the app (the room
//! does not read the Generate room).

use std::path::PathBuf;

use cadenza_core::controls::ControlPlan;
use cadenza_core::generate::SamplingSettings;
use cadenza_core::music::meter::Grid;

/// How the answers are sampled: the Generate room's settings and what it asks the model for.
pub struct AnswerSettings {
    /// The model answering.
    pub checkpoint: Option<PathBuf>,
    /// Sampling settings (the length is the call's).
    pub settings: SamplingSettings,
    /// What the model is asked for.
    pub controls: ControlPlan,
    /// The Generate room's tempo and meter as a steady grid, for the click (`None` in free time).
    pub click_grid: Option<Grid>,
}
