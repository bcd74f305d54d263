//! Neural-network training (PHYSICS.md section 14), on candle's CPU tensors
//! and autograd: the variational autoregressive network (a MADE trained without
//! data by minimising the variational free energy with REINFORCE) and the
//! learned denoiser (a network regressing `E[x | y_t]` on equilibrium samples).
//! Plain inputs, an RNG seed and an `Observer`; nothing here knows the engine.
//! Long runs save and resume their whole state through the observer.

pub mod adam;
pub mod denoiser;
pub mod made;
pub mod state;
pub mod van;

use crate::observe::Cancelled;

/// Why a training run stopped without a result.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("tensor computation failed: {0}")]
    Tensor(#[from] candle_core::Error),
    #[error("{0}")]
    Unsupported(String),
    #[error("training diverged at step {step}: the loss is {value} (last checkpoint kept)")]
    Diverged { step: usize, value: f64 },
    #[error("cancelled")]
    Cancelled(#[from] Cancelled),
}

/// Runs candle's element-wise kernels on the calling thread (`CANDLE_NUM_THREADS=1`
/// unless the user set it). Candle's own worker pool spin-waits for its workers;
/// on a small shared machine that costs a quarter of a training step (measured:
/// 27 -> 36 steps/s at n = 100), and quench already runs stages, samples and
/// matrix products in parallel. Call it first thing in `main`, before any thread exists.
pub fn pin_candle_threads() {
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
}

/// Largest memory (bytes) a network's parameters, optimizer moments,
/// gradients and batch activations may take.
pub const MEMORY_BUDGET: usize = 2 << 30;
