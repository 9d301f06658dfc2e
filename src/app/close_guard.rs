//! Closing the window while a model trains: ask first, and close once the model is saved.

/// What the composer chose in the dialog that closing while training opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseChoice {
    /// Stop training (which saves the model), then close.
    SaveAndClose,
    /// Drop the run unsaved and close now.
    CloseWithoutSaving,
    /// Stay open and train on.
    KeepTraining,
}

/// Holds a close asked for while training until the run has ended.
#[derive(Debug, Default)]
pub struct CloseGuard {
    /// A close was asked for and not taken back.
    requested: bool,
}

impl CloseGuard {
    /// Each frame: holds the window open while `training` after a close was asked for, asks what
    /// to do, and closes once training has ended. Returns the composer's choice, if made now.
    pub fn frame(&mut self, ctx: &egui::Context, training: bool) -> Option<CloseChoice> {
        if ctx.input(|i| i.viewport().close_requested()) && training {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.requested = true;
        }
        if !self.requested {
            return None;
        }
        if !training {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return None;
        }
        let mut choice = None;
        egui::Modal::new(egui::Id::unique("close-while-training")).show(ctx, |ui| {
            ui.label("Training is running. Save the model before closing?");
            ui.horizontal(|ui| {
                if ui.button("Save and close").clicked() {
                    choice = Some(CloseChoice::SaveAndClose);
                }
                if ui.button("Close without saving").clicked() {
                    choice = Some(CloseChoice::CloseWithoutSaving);
                }
                if ui.button("Keep training").clicked() {
                    choice = Some(CloseChoice::KeepTraining);
                }
            });
        });
        if choice == Some(CloseChoice::KeepTraining) {
            self.requested = false;
        }
        choice
    }
}
