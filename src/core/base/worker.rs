//! The one way Cadenza runs long work: a [`Worker`] owns a named thread running a job; typed
//! commands go in, typed updates come out, and the last event says how the job ended. A panic in
//! the job becomes [`Event::Failed`], never a silent thread death; dropping the worker cancels the
//! job and joins its thread. Training, generation and the app's one-shot jobs all use it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender};

/// Called after each event a worker sends, so a GUI can wake up and redraw (the app passes
/// `ctx.request_repaint()`; the core never depends on the GUI).
pub type Repaint = Arc<dyn Fn() + Send + Sync>;

/// A repaint callback that does nothing (command line, tests).
pub fn no_repaint() -> Repaint {
    Arc::new(|| {})
}

/// What a worker sends: updates while the job runs, then exactly one of the other three.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<U, T> {
    /// Something the job reports while it runs.
    Update(U),
    /// The job ended with its result.
    Finished(T),
    /// The job stopped early because it was cancelled.
    Cancelled,
    /// The job failed, or panicked: the message says why.
    Failed {
        /// For people: the error, or the panic's message.
        message: String,
    },
}

impl<U, T> Event<U, T> {
    /// Whether this is the last event of a job.
    pub fn is_final(&self) -> bool {
        !matches!(self, Self::Update(_))
    }
}

/// Why a job did not produce its result. Any error converts into it, so jobs use `?`.
#[derive(Debug)]
pub enum Stop {
    /// The job noticed [`Worker::cancel`] and stopped.
    Cancelled,
    /// The job failed; the message is shown to the user.
    Failed(String),
}

impl<E: std::error::Error> From<E> for Stop {
    fn from(err: E) -> Self {
        Self::Failed(err.to_string())
    }
}

/// The job's side of a worker: commands to read, updates to send, whether it was cancelled.
pub struct Context<C, U> {
    commands: Receiver<C>,
    /// Sends an update into the worker's one event channel (whose type also names the result).
    send_update: Box<dyn Fn(U) + Send + Sync>,
    cancelled: Arc<AtomicBool>,
    repaint: Repaint,
}

impl<C, U> Context<C, U> {
    /// Sends an update and wakes the GUI.
    pub fn update(&self, update: U) {
        (self.send_update)(update);
        (self.repaint)();
    }

    /// The next command, if one is waiting.
    pub fn try_command(&self) -> Option<C> {
        self.commands.try_recv().ok()
    }

    /// Waits for the next command; `None` once the worker was cancelled or dropped.
    pub fn wait_command(&self, timeout: std::time::Duration) -> Option<C> {
        self.commands.recv_timeout(timeout).ok()
    }

    /// Whether [`Worker::cancel`] was called (or the worker dropped).
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// The flag [`Worker::cancel`] sets, for code that polls it between steps.
    pub fn cancel_flag(&self) -> &AtomicBool {
        &self.cancelled
    }

    /// `Err(Stop::Cancelled)` once cancelled, for `?` between units of work.
    pub fn check_cancelled(&self) -> Result<(), Stop> {
        if self.is_cancelled() {
            Err(Stop::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// A job running on its own thread. `C`: commands it takes, `U`: updates it sends, `T`: its result.
pub struct Worker<C, U, T> {
    commands: Sender<C>,
    events: Receiver<Event<U, T>>,
    cancelled: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    ended: bool,
}

impl<C, U, T> Worker<C, U, T>
where
    C: Send + 'static,
    U: Send + 'static,
    T: Send + 'static,
{
    /// Starts `job` on a thread called `name`; `repaint` is called after every event.
    pub fn spawn(
        name: &str,
        repaint: Repaint,
        job: impl FnOnce(&Context<C, U>) -> Result<T, Stop> + Send + 'static,
    ) -> Self {
        let (command_tx, command_rx) = crossbeam_channel::unbounded();
        let (event_tx, event_rx) = crossbeam_channel::unbounded();
        let cancelled = Arc::new(AtomicBool::new(false));
        let update_tx: Sender<Event<U, T>> = event_tx.clone();
        let context = Context {
            commands: command_rx,
            send_update: Box::new(move |update| {
                let _ = update_tx.send(Event::Update(update));
            }),
            cancelled: Arc::clone(&cancelled),
            repaint: repaint.clone(),
        };
        let failure = event_tx.clone();
        let job_name = name.to_string();
        let thread = std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                let event = match catch_unwind(AssertUnwindSafe(|| job(&context))) {
                    Ok(Ok(result)) => Event::Finished(result),
                    Ok(Err(Stop::Cancelled)) => Event::Cancelled,
                    Ok(Err(Stop::Failed(message))) => Event::Failed { message },
                    Err(panic) => Event::Failed {
                        message: format!("internal error: {}", panic_message(panic.as_ref())),
                    },
                };
                match &event {
                    Event::Failed { message } => {
                        tracing::error!(job = job_name, "failed: {message}")
                    }
                    Event::Cancelled => tracing::info!(job = job_name, "cancelled"),
                    _ => tracing::info!(job = job_name, "finished"),
                }
                // The context (and its sender) goes first, so the channel closes after this.
                drop(context);
                let _ = event_tx.send(event);
                repaint();
            });
        let thread = match thread {
            Ok(thread) => Some(thread),
            Err(err) => {
                let _ = failure.send(Event::Failed {
                    message: format!("could not start a thread: {err}"),
                });
                None
            }
        };
        Self {
            commands: command_tx,
            events: event_rx,
            cancelled,
            thread,
            ended: false,
        }
    }

    /// Sends a command; ignored once the job has ended.
    pub fn send(&self, command: C) {
        let _ = self.commands.send(command);
    }

    /// A sender for commands, e.g. for a signal handler.
    pub fn command_sender(&self) -> Sender<C> {
        self.commands.clone()
    }

    /// Asks the job to stop at its next check.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// The next event without waiting: updates in order, then the final event (once).
    pub fn try_event(&mut self) -> Option<Event<U, T>> {
        if self.ended {
            return None;
        }
        match self.events.try_recv() {
            Ok(event) => self.note(Some(event)),
            Err(crossbeam_channel::TryRecvError::Empty) => None,
            Err(crossbeam_channel::TryRecvError::Disconnected) => self.note(None),
        }
    }

    /// Every event waiting now, in order.
    pub fn drain(&mut self) -> Vec<Event<U, T>> {
        std::iter::from_fn(|| self.try_event()).collect()
    }

    /// Waits for the next event; `None` after the final one.
    pub fn wait_event(&mut self) -> Option<Event<U, T>> {
        if self.ended {
            return None;
        }
        let event = self.events.recv().ok();
        self.note(event)
    }

    /// Waits for the job to end, discarding updates, and returns its final event.
    pub fn wait(mut self) -> Event<U, T> {
        let mut last = None;
        while let Some(event) = self.wait_event() {
            last = Some(event);
        }
        last.unwrap_or(Event::Failed {
            message: "the job ended without a result".to_string(),
        })
    }

    /// Whether the final event has been taken.
    pub fn has_ended(&self) -> bool {
        self.ended
    }

    /// Whether the thread has ended (its final event may still be waiting).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    fn note(&mut self, event: Option<Event<U, T>>) -> Option<Event<U, T>> {
        self.ended |= event.as_ref().is_none_or(Event::is_final);
        event
    }
}

impl<C, U, T> Drop for Worker<C, U, T> {
    fn drop(&mut self) {
        self.cancelled.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The text of a panic payload (`panic!("...")` carries a `&str` or a `String`).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a worker thread panicked".to_string())
}

/// Progress of a job as a fraction done and an estimate of the time left, computed once here so
/// the CLI and the app show the same numbers.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Completion {
    /// 0…1.
    pub fraction: f64,
    /// Seconds left, once there is enough to estimate from.
    pub eta_s: Option<f64>,
}

impl Completion {
    /// The completion of a job that started at `started` and is `fraction` done.
    pub fn since(started: Instant, fraction: f64) -> Self {
        let fraction = fraction.clamp(0.0, 1.0);
        let elapsed = started.elapsed().as_secs_f64();
        let eta_s = (fraction > 0.01).then(|| elapsed * (1.0 - fraction) / fraction);
        Self { fraction, eta_s }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spawn<T: Send + 'static>(
        job: impl FnOnce(&Context<u32, u32>) -> Result<T, Stop> + Send + 'static,
    ) -> Worker<u32, u32, T> {
        Worker::spawn("test-worker", no_repaint(), job)
    }

    #[test]
    fn updates_arrive_in_order_then_the_result() {
        let worker = spawn(|ctx| {
            for i in 0..100 {
                ctx.update(i);
            }
            Ok("done")
        });
        let mut worker = worker;
        let mut events = Vec::new();
        while let Some(event) = worker.wait_event() {
            events.push(event);
        }
        let updates: Vec<u32> = events
            .iter()
            .filter_map(|e| match e {
                Event::Update(u) => Some(*u),
                _ => None,
            })
            .collect();
        assert_eq!(updates, (0..100).collect::<Vec<_>>());
        assert_eq!(events.last(), Some(&Event::Finished("done")));
        assert!(worker.has_ended());
    }

    #[test]
    fn polling_before_the_job_ends_loses_nothing() {
        let (go, wait) = crossbeam_channel::bounded::<()>(0);
        let mut worker = spawn(move |ctx| {
            let _ = wait.recv();
            ctx.update(1);
            Ok(2)
        });
        assert_eq!(worker.try_event(), None);
        assert!(!worker.has_ended());
        go.send(()).unwrap();
        assert_eq!(worker.wait_event(), Some(Event::Update(1)));
        assert_eq!(worker.wait_event(), Some(Event::Finished(2)));
        assert_eq!(worker.try_event(), None);
        assert!(worker.has_ended());
    }

    #[test]
    fn a_panic_becomes_a_failed_event() {
        let worker = spawn::<()>(|_| panic!("index out of range"));
        match worker.wait() {
            Event::Failed { message } => {
                assert!(message.contains("index out of range"), "{message}")
            }
            other => panic!("expected Failed, got {other:?}"),
        }
    }

    #[test]
    fn an_error_becomes_a_failed_event_with_its_message() {
        let worker = spawn::<()>(|_| Err(std::io::Error::other("disk full").into()));
        assert_eq!(
            worker.wait(),
            Event::Failed {
                message: "disk full".to_string()
            }
        );
    }

    #[test]
    fn commands_reach_the_job_and_cancel_stops_it() {
        let worker = spawn(|ctx| {
            let mut sum = 0;
            loop {
                ctx.check_cancelled()?;
                if let Some(n) = ctx.wait_command(std::time::Duration::from_millis(5)) {
                    sum += n;
                    ctx.update(sum);
                }
            }
            #[allow(unreachable_code)]
            Ok(sum)
        });
        let mut worker = worker;
        worker.send(2);
        worker.send(3);
        assert_eq!(worker.wait_event(), Some(Event::Update(2)));
        assert_eq!(worker.wait_event(), Some(Event::Update(5)));
        worker.cancel();
        assert_eq!(worker.wait_event(), Some(Event::Cancelled));
        assert_eq!(worker.wait_event(), None);
    }

    #[test]
    fn dropping_a_worker_stops_and_joins_its_thread() {
        let running = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&running);
        let worker = spawn::<()>(move |ctx| {
            flag.store(true, Ordering::SeqCst);
            while !ctx.is_cancelled() {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            flag.store(false, Ordering::SeqCst);
            Err(Stop::Cancelled)
        });
        while !running.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
        drop(worker);
        assert!(
            !running.load(Ordering::SeqCst),
            "the job still runs after drop"
        );
    }

    #[test]
    fn completion_estimates_the_time_left() {
        let started = Instant::now() - std::time::Duration::from_secs(10);
        let half = Completion::since(started, 0.5);
        assert!((half.eta_s.unwrap() - 10.0).abs() < 0.5);
        assert_eq!(Completion::since(started, 0.0).eta_s, None);
        assert_eq!(Completion::since(started, 2.0).fraction, 1.0);
    }
}
