//! The app's one way to hold background work, on the core's [`Worker`]: a slot holds at most one
//! job of a kind, one the app starts (a file dialog, a corpus load, training-data preparation, a
//! SoundFont load, a WAV export) or one the core starts (training, generation, regenerating a
//! passage). Starting another supersedes it: the old one is cancelled and reaped when its thread
//! ends, so the UI never waits for it. A panel either reads every event (the jobs that stream:
//! notes, loss points) or only the latest progress and the outcome.

use cadenza_core::worker::{Context, Event, Repaint, Stop, Worker};

/// A slot for one kind of job that reports progress `P`, takes commands `C` and ends with a `T`.
pub struct Job<T, P = (), C = ()> {
    current: Option<Worker<C, P, T>>,
    /// The latest progress of the current job.
    progress: Option<P>,
    /// Superseded jobs whose threads have not ended yet; joined when they have (or on drop).
    retired: Vec<Worker<C, P, T>>,
}

impl<T, P, C> Default for Job<T, P, C> {
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
        self.hold(Worker::spawn(name, repaint.clone(), work));
    }

    /// Opens a file dialog off the UI thread (rfd's dialogs block until answered).
    pub fn dialog(&mut self, repaint: &Repaint, dialog: impl FnOnce() -> T + Send + 'static) {
        self.start("cadenza-dialog", repaint, move |_| Ok(dialog()));
    }
}

impl<T: Send + 'static, P: Send + 'static, C: Send + 'static> Job<T, P, C> {
    /// Holds a job already running (one the core started), superseding the one in this slot.
    pub fn hold(&mut self, worker: Worker<C, P, T>) {
        self.cancel();
        self.current = Some(worker);
    }

    /// Sends a command to the running job; nothing happens when none runs.
    pub fn send(&self, command: C) {
        if let Some(worker) = &self.current {
            worker.send(command);
        }
    }

    /// Asks the running job to stop; it stays in the slot, so its end (cancelled) is reported.
    pub fn ask_to_stop(&self) {
        if let Some(worker) = &self.current {
            worker.cancel();
        }
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

    /// The running job's latest progress (kept by [`Job::poll`]).
    pub fn progress(&self) -> Option<&P> {
        self.current.as_ref().and(self.progress.as_ref())
    }

    /// Every event of the running job since the last call, in order, its final event last; the
    /// slot is free once the final event is taken.
    pub fn events(&mut self) -> Vec<Event<P, T>> {
        self.retired.retain(|job| !job.is_finished());
        let Some(worker) = self.current.as_mut() else {
            return Vec::new();
        };
        let events = worker.drain();
        if worker.has_ended() {
            self.current = None;
            self.progress = None;
        }
        events
    }

    /// The job's outcome once it has ended: its result or its error (a panic included), keeping
    /// the latest progress meanwhile. A cancelled job reports nothing.
    pub fn poll(&mut self) -> Option<Result<T, String>> {
        let mut outcome = None;
        for event in self.events() {
            match event {
                Event::Update(progress) => self.progress = Some(progress),
                Event::Finished(result) => outcome = Some(Ok(result)),
                Event::Failed { message } => outcome = Some(Err(message)),
                Event::Cancelled => {}
            }
        }
        outcome
    }
}
