//! Evaluation of samplers: exact Gibbs averages of small instances (`exact`),
//! Monte Carlo statistics with autocorrelation (`stats`) and overlaps between
//! configurations (`overlaps`).

pub mod exact;
pub mod overlaps;
pub mod stats;
