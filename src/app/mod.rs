//! The desktop app, in rooms a newcomer can find:
//! - [`cadenza_app`]: the app type and its frame; [`startup`]: the process and the window;
//!   [`settings`]: what is remembered; [`shared`]: what every room reads; [`intent`]: what the
//!   user asked for, applied after drawing;
//! - the rooms of the side bar, a folder each: [`corpus`], [`train`], [`generate`] (its takes
//!   list, passage tool, controls, steering and curve lane), [`live`] (the computer keyboard, a
//!   MIDI keyboard, recording, call and response);
//! - the frame around them: [`chrome`] (menu, transport, status bar, drops), [`shortcuts`],
//!   [`close_guard`], [`help`];
//! - widgets and helpers: [`piano_roll`], [`sound`], [`job`], [`format`].
//!
//! All work runs in the core on worker threads; rooms poll their jobs at the start of a frame.

mod cadenza_app;
mod chrome;
mod close_guard;
mod corpus;
mod format;
mod generate;
mod help;
mod intent;
mod job;
mod live;
mod models;
pub mod piano_roll;
mod settings;
mod shared;
mod shortcuts;
mod sound;
mod startup;
mod train;

#[cfg(test)]
mod afternoon_tests;
#[cfg(test)]
mod live_tests;
#[cfg(test)]
mod tests;

pub use cadenza_app::CadenzaApp;
pub use help::about_text;
pub use settings::Settings;
pub use shared::RepaintWithin;
pub use startup::run;
