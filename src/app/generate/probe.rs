//! What the app's tests read and do in the Generate room without the mouse (compiled for tests
//! only, so production code cannot lean on it).

use std::path::PathBuf;

use cadenza_core::generate::Take;
use cadenza_core::model::DeviceChoice;

use super::passage_tool::PassageAsk;
use super::{ExportKind, GeneratePanel};
use crate::app::intent::Intents;
use crate::app::shared::Shared;

impl GeneratePanel {
    /// Whether a generation is running.
    pub fn is_generating(&self) -> bool {
        self.generator.is_running()
    }

    /// The takes, oldest first.
    pub fn takes(&self) -> &[Take] {
        self.takes.workbench().takes()
    }

    /// Adds takes as a generation would.
    pub fn add_takes(&mut self, takes: Vec<Take>) {
        self.takes.workbench_mut().add(takes);
    }

    /// Shows the take at `index`, as a click in the list does.
    pub fn show_take(&mut self, index: usize, intents: &mut Intents) {
        self.takes.show(index, intents);
    }

    /// The selected take.
    pub fn selected_take(&self) -> Option<&Take> {
        self.takes.workbench().selected()
    }

    /// Whether candidates for a passage wait to be auditioned or kept.
    pub fn has_alternatives(&self) -> bool {
        self.passage.on_trial().is_some()
    }

    /// Whether a passage is being regenerated.
    pub fn is_regenerating(&self) -> bool {
        self.passage.is_running()
    }

    /// Regenerate selection, on the CPU.
    pub fn regenerate_on_cpu(&mut self, shared: &Shared, intents: &mut Intents) {
        self.regenerate_selection(shared, DeviceChoice::Cpu, intents);
    }

    /// Keeps candidate `rank`.
    pub fn keep(&mut self, rank: usize, intents: &mut Intents) {
        self.passage
            .answer(PassageAsk::Keep(rank), &mut self.takes, intents);
    }

    /// Writes take `index` to `path`, as the save dialog's answer would.
    pub fn export_to(
        &mut self,
        kind: ExportKind,
        index: usize,
        path: PathBuf,
        shared: &Shared,
        intents: &mut Intents,
    ) {
        let take = &self.takes.workbench().takes()[index];
        self.exports.write(kind, take, path, shared, intents);
    }

    /// Whether a WAV export is rendering.
    pub fn is_exporting(&self) -> bool {
        self.exports.is_rendering()
    }

    /// Whether a save dialog is open.
    pub fn is_asking_where_to_export(&self) -> bool {
        self.exports.is_asking()
    }
}
