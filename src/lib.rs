//! The `cadenza` executable's library: the command line ([`cli`], one module per command) and the
//! desktop app ([`app`]). All the work happens in [`cadenza_core`]; these modules parse, draw and
//! route.

pub mod app;
pub mod cli;
pub mod log;
