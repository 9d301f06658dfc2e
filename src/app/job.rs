//! The app's one kind of one-shot background job (a file dialog, a corpus load, training-data
//! preparation, a SoundFont load, a WAV export), on the core's [`Worker`]: at most one job of a
//! slot runs; starting another supersedes it (the old one is cancelled and reaped when its thread
//! ends, so the UI never waits for it); its result or its error comes back to the panel.

use cadenza_core::worker::{Context, Event, Repaint, Stop, Worker};

/// A slot for one kind of job that reports progress `P` and ends with a `T`.
pub struct Job<T, P = ()> {
    current: Option<Worker<(), P, T>>,
    /// The latest progress of the current job.
    progress: Option<P>,
    /// Superseded jobs whose threads have not ended yet; joined when they have (or on drop).
    retired: Vec<Worker<(), P, T>>,
}

impl<T, P> Default for Job<T, P> {
    fn default() -> Self {
        Self {
            current: None,
            progress: None,
            retired: Vec::new(),
        }
    }
}

impl<T: Send + 'static, P: Send + 'static> Job<T, P> {
    /// Runs `work` on a thread called `name`, superseding the job running in this slot.
    pub fn start(
        &mut self,
        name: &str,
        repaint: &Repaint,
        work: impl FnOnce(&Context<(), P>) -> Result<T, Stop> + Send + 'static,
    ) {
        self.cancel();
        self.current = Some(Worker::spawn(name, repaint.clone(), work));
    }

    /// Opens a file dialog off the UI thread (rfd's dialogs block until answered).
    pub fn dialog(&mut self, repaint: &Repaint, dialog: impl FnOnce() -> T + Send + 'static) {
        self.start("cadenza-dialog", repaint, move |_| Ok(dialog()));
    }

    /// Cancels the running job; its result will not be reported.
    pub fn cancel(&mut self) {
        if let Some(old) = self.current.take() {
            old.cancel();
            self.retired.push(old);
        }
        self.progress = None;
    }

    /// Whether a job is running in this slot.
    pub fn is_running(&self) -> bool {
        self.current.is_some()
    }

    /// The running job's latest progress.
    pub fn progress(&self) -> Option<&P> {
        self.current.as_ref().and(self.progress.as_ref())
    }

    /// The job's outcome once it has ended: its result or its error (a panic included). A
    /// cancelled job reports nothing.
    pub fn poll(&mut self) -> Option<Result<T, String>> {
        self.retired.retain(|job| !job.is_finished());
        let worker = self.current.as_mut()?;
        let mut outcome = None;
        for event in worker.drain() {
            match event {
                Event::Update(progress) => self.progress = Some(progress),
                Event::Finished(result) => outcome = Some(Some(Ok(result))),
                Event::Failed { message } => outcome = Some(Some(Err(message))),
                Event::Cancelled => outcome = Some(None),
            }
        }
        let outcome = outcome?;
        self.current = None;
        self.progress = None;
        outcome
    }
}
