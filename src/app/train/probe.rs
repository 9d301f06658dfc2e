//! What the app's tests read of the Train room (compiled for tests only).

use super::TrainPanel;

impl TrainPanel {
    /// Points on the training-loss curve.
    pub fn plotted_steps(&self) -> usize {
        self.curves.train.len()
    }

    /// The controls, to make a test's model tiny.
    pub fn controls_mut(&mut self) -> &mut super::TrainControls {
        &mut self.controls
    }
}
