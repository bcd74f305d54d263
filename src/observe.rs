//! What a long science computation reports while it runs, and how it learns it
//! should stop. The science modules call an `Observer`; the stage layer adapts it
//! to engine events. Nothing here knows about the engine or the TUI.

use std::fmt;

/// Receives progress, traces and histograms from a running computation.
pub trait Observer: Sync {
    /// `done` of `total` units of work are finished.
    fn progress(&self, done: u64, total: u64);
    /// One point `(x, y)` of the named series.
    fn trace(&self, series: &str, x: f64, y: f64);
    /// A histogram with `edges.len() == counts.len() + 1`.
    fn histogram(&self, name: &str, edges: &[f64], counts: &[u64]);
    /// A human-readable line.
    fn log(&self, message: &str);
    /// True once the computation should stop as soon as it can.
    fn cancelled(&self) -> bool;

    /// The state a previous, interrupted run of the same computation saved
    /// with `save_state`, if any: resume from it.
    fn resume_state(&self) -> Option<Vec<u8>> {
        None
    }

    /// True when a long computation should save its state now (the engine
    /// paces this by wall time; the default never asks).
    fn checkpoint_due(&self) -> bool {
        false
    }

    /// Keeps `state` so that a later run can resume from it. Resuming must
    /// give the same result, bit for bit, as an uninterrupted run.
    fn save_state(&self, _state: &[u8]) {}

    /// `Err(Cancelled)` once cancelled: use with `?` at safe points.
    fn checkpoint(&self) -> Result<(), Cancelled> {
        if self.cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }
}

/// A computation stopped because its observer asked it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled;

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cancelled")
    }
}

impl std::error::Error for Cancelled {}

/// An observer that ignores everything and never cancels (tests, benches).
pub struct Silent;

impl Observer for Silent {
    fn progress(&self, _: u64, _: u64) {}
    fn trace(&self, _: &str, _: f64, _: f64) {}
    fn histogram(&self, _: &str, _: &[f64], _: &[u64]) {}
    fn log(&self, _: &str) {}
    fn cancelled(&self) -> bool {
        false
    }
}
