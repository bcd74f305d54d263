//! Evaluation of samplers: exact Gibbs averages of small instances (`exact`),
//! Monte Carlo statistics with autocorrelation (`stats`) and overlaps between
//! configurations (`overlaps`); the planted-path hysteresis test of a denoiser
//! (`denoiser_path`) and exact posteriors of tiny instances (`exact_posterior`).

pub mod denoiser_path;
pub mod exact;
pub mod exact_posterior;
pub mod overlaps;
pub mod stats;
