//! A regeneration running in the app: the worker and what it is for. The versions themselves
//! (candidates, the tree, undo / redo) live in the core ([`cadenza_core::versions`]).

use cadenza_core::regenerate::RegeneratorHandle;
use cadenza_core::versions::Origin;

/// Alternatives offered to audition and keep.
pub const OFFERED: usize = 3;

/// A regeneration running.
pub struct Regenerating {
    /// The worker.
    pub handle: RegeneratorHandle,
    /// What it works on.
    pub origin: Origin,
    /// Share done.
    pub fraction: f64,
}
