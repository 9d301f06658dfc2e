//! The Generate room's list of takes: versions indented under the take they came from, the one
//! the roll shows highlighted and scrolled into view, each with Delete (undone by Ctrl+Z). The
//! takes themselves, their versions and saving live in the core's [`Workbench`].

use std::path::PathBuf;

use cadenza_core::generate::Take;
use cadenza_core::workbench::{Workbench, WorkbenchRefusal};

use super::model_names::ModelNames;
use crate::app::format::sentence;
use crate::app::intent::{Intent, Intents, Showing};
use crate::app::piano_roll::RollContent;
use crate::app::shared::Shared;

/// The most height the takes list takes before it scrolls, in points.
const TAKES_LIST_HEIGHT: f32 = 320.0;
/// Indentation of a version under the take it came from, in points.
const INDENT_PER_VERSION: f32 = 16.0;
/// Versions deeper than this are indented no further, so a long chain stays readable.
const MAX_INDENT_DEPTH: usize = 8;

/// The takes and how the list shows them.
pub struct TakesList {
    /// The takes, the selected one, their versions and saving (the core's).
    workbench: Workbench,
    /// The take the list last scrolled to; a newly shown take is scrolled into view once.
    scrolled_to: Option<u64>,
    /// A take shown anew whose row the panel around the list still has to scroll to.
    revealing: Option<u64>,
}

/// What the composer clicked in a row.
enum RowClick {
    Show,
    Delete,
}

impl TakesList {
    /// The takes kept in `file` from earlier runs (none kept without a data folder); says what
    /// went wrong reading them.
    pub fn open(file: Option<PathBuf>, intents: &mut Intents) -> Self {
        let (workbench, problem) = Workbench::open(file);
        if let Some(problem) = problem {
            intents.tell(problem);
        }
        if !workbench.keeps_takes() {
            intents.tell("No data folder: the takes are kept until Cadenza closes");
        }
        Self {
            workbench,
            scrolled_to: None,
            revealing: None,
        }
    }

    /// The takes and their versions.
    pub fn workbench(&self) -> &Workbench {
        &self.workbench
    }

    /// The takes and their versions, to add or keep one.
    pub fn workbench_mut(&mut self) -> &mut Workbench {
        &mut self.workbench
    }

    /// The index of the take the roll shows, if it shows one.
    pub fn shown_index(&self, shared: &Shared) -> Option<usize> {
        self.index_of(shared.shown.take?)
    }

    /// The index of take number `number`.
    pub fn index_of(&self, number: u64) -> Option<usize> {
        self.workbench.takes().iter().position(|t| t.id == number)
    }

    /// Selects the take at `index` and shows it.
    pub fn show(&mut self, index: usize, intents: &mut Intents) {
        if let Some(take) = self.workbench.select(index) {
            let title = format!("Take {} (seed {})", take.id, take.seed);
            intents.push(Intent::Show(Box::new(showing(title, take, Some(take.id)))));
        }
    }

    /// Ctrl+Z: back to the version the selected take was made from (or a deleted take back).
    pub fn undo(&mut self, intents: &mut Intents) {
        let undone = self.workbench.undo();
        self.show_or_tell(undone, intents);
    }

    /// Ctrl+Shift+Z: forward to the version undone (or the newest made from this one).
    pub fn redo(&mut self, intents: &mut Intents) {
        let redone = self.workbench.redo();
        self.show_or_tell(redone, intents);
    }

    fn show_or_tell(&mut self, outcome: Result<usize, WorkbenchRefusal>, intents: &mut Intents) {
        match outcome {
            Ok(index) => self.show(index, intents),
            Err(WorkbenchRefusal::NothingSelected) => {}
            Err(refusal) => intents.tell(sentence(&refusal.to_string())),
        }
    }

    /// Says why the takes could not be saved, if they could not.
    pub fn poll(&mut self, intents: &mut Intents) {
        for problem in self.workbench.save_problems() {
            intents.tell(problem);
        }
    }

    /// Draws the list.
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        shared: &Shared,
        names: &mut ModelNames,
        intents: &mut Intents,
    ) {
        let order = self.workbench.tree_order();
        // Highlighted only while the roll shows it: a corpus piece clicked since is not a take.
        let highlighted = self.shown_index(shared);
        let row_height = ui.spacing().interact_size.y;
        // Only the rows in view are laid out: a list of thousands of versions stays quick.
        let mut list = egui::ScrollArea::vertical()
            .id_salt("takes")
            .max_height(TAKES_LIST_HEIGHT)
            .auto_shrink([false, true]);
        let shown = shared.shown.take;
        if shown.is_some() && shown != self.scrolled_to {
            // A take shown anew (generated, kept, undone to) is scrolled into view, once.
            self.scrolled_to = shown;
            self.revealing = shown;
            if let Some(row) = order.iter().position(|&(i, _)| Some(i) == highlighted) {
                let pitch = row_height + ui.spacing().item_spacing.y;
                list = list.vertical_scroll_offset((row as f32 - 1.0).max(0.0) * pitch);
            }
        }
        let mut click = None;
        let mut revealed = None;
        list.show_rows(ui, row_height, order.len(), |ui, rows| {
            for &(index, depth) in &order[rows] {
                let take = &self.workbench.takes()[index];
                let indent = INDENT_PER_VERSION * depth.min(MAX_INDENT_DEPTH) as f32;
                let model = names.name(&take.checkpoint);
                let is_shown = highlighted == Some(index);
                let (clicked, rect) = row_ui(ui, take, model, indent, is_shown);
                if let Some(clicked) = clicked {
                    click = Some((index, clicked));
                }
                if is_shown && self.revealing == Some(take.id) {
                    revealed = Some(rect);
                    self.revealing = None;
                }
            }
        });
        if let Some(rect) = revealed {
            // The side panel scrolls to it too (asked outside the list, whose own scrolling
            // would take the request), so a short window still shows the take; centred, so
            // rows that grow above it on the next frame do not push it out again.
            ui.scroll_to_rect(rect, Some(egui::Align::Center));
        }
        match click {
            Some((index, RowClick::Show)) => self.show(index, intents),
            Some((index, RowClick::Delete)) => {
                if let Some(number) = self.workbench.delete(index) {
                    intents.tell(format!("Deleted take {number}: Ctrl+Z brings it back"));
                }
            }
            None => {}
        }
    }
}

/// One row: the take's title (elided to the panel, the whole line and details on hover) and
/// Delete; returns what was clicked, and where the row is.
fn row_ui(
    ui: &mut egui::Ui,
    take: &Take,
    model: &str,
    indent: f32,
    highlighted: bool,
) -> (Option<RowClick>, egui::Rect) {
    let mut clicked = None;
    let row = ui.horizontal(|ui| {
        ui.add_space(indent);
        let label = take.title(take.id as usize, model);
        let row = egui::Button::selectable(highlighted, label.clone()).truncate();
        if ui
            .add(row)
            .on_hover_text(format!("{label}\n{}", take.details()))
            .clicked()
        {
            clicked = Some(RowClick::Show);
        }
        if ui
            .small_button("Delete")
            .on_hover_text("Delete this take (its versions stay; Ctrl+Z brings it back)")
            .clicked()
        {
            clicked = Some(RowClick::Delete);
        }
    });
    (clicked, row.response.rect)
}

/// A take as the roll shows it: on its own grid (its bars show, and selections snap to its
/// beats, however loosely the music keeps to them), with its form's sections.
pub fn showing(title: String, take: &Take, number: Option<u64>) -> Showing {
    let piece = take.piece();
    let mut content = RollContent::new(piece.notes.clone(), piece.pedal.clone(), take.primer_end_s)
        .with_grid(take.grid.clone());
    content.sections = take.sections();
    Showing {
        title,
        piece,
        content,
        take: number,
    }
}
