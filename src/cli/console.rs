//! Progress on the terminal, shared by the long-running commands.

use anyhow::{Result, bail};
use cadenza_core::worker::{Event, Worker};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether stderr is a terminal a progress bar can be drawn on.
pub fn console_attached() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}

/// How often a status line is printed when there is no terminal to draw a bar on.
const LOG_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// A bar on a terminal; plain lines (a status line every few seconds) in a log.
pub struct Display {
    /// The bar (hidden when stderr is not a terminal).
    pub bar: ProgressBar,
    last_status: Option<std::time::Instant>,
}

impl Display {
    pub fn new() -> Self {
        let bar = ProgressBar::new(1000);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {percent:>3}% {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Self {
            bar,
            last_status: None,
        }
    }

    /// A line that stays: above the bar, or on its own in a log.
    pub fn line(&self, text: String) {
        if self.bar.is_hidden() {
            eprintln!("{text}");
        } else {
            self.bar.println(text);
        }
    }

    pub fn status(&mut self, fraction: f64, text: String) {
        self.bar.set_position((fraction * 1000.0) as u64);
        if self.bar.is_hidden() {
            if self
                .last_status
                .is_none_or(|at| at.elapsed() >= LOG_INTERVAL)
            {
                self.last_status = Some(std::time::Instant::now());
                eprintln!("{text}");
            }
        } else {
            self.bar.set_message(text);
        }
    }
}

/// Waits for a worker's result, drawing its updates with `show` (nothing when `quiet`); a cancel or
/// a failure becomes an error, `what` naming the job ("generation").
pub fn follow<C: Send + 'static, U: Send + 'static, T: Send + 'static>(
    mut handle: Worker<C, U, T>,
    quiet: bool,
    what: &str,
    mut show: impl FnMut(&mut Display, U),
) -> Result<T> {
    let mut display = Display::new();
    if quiet {
        display.bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    while let Some(event) = handle.wait_event() {
        match event {
            Event::Update(update) => {
                if !quiet {
                    show(&mut display, update);
                }
            }
            Event::Finished(result) => {
                display.bar.finish_and_clear();
                return Ok(result);
            }
            Event::Cancelled => bail!("{what} was cancelled"),
            Event::Failed { message } => {
                display.bar.abandon();
                bail!(message);
            }
        }
    }
    bail!("the {what} thread ended without a result")
}
