//! The base layer: writing files safely, the data folder's layout, the guard every output goes
//! through, and the worker that runs long jobs off the caller's thread. It uses nothing else of
//! Cadenza.

pub mod files;
pub mod output_guard;
pub mod paths;
pub mod worker;
