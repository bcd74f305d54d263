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

/// Largest memory (bytes) a network's parameters, optimizer moments,
/// gradients and batch activations may take.
pub const MEMORY_BUDGET: usize = 2 << 30;
