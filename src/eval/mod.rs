//! Evaluation of samplers: exact Gibbs averages of small instances (`exact`),
//! Monte Carlo statistics with autocorrelation (`stats`) and overlaps between
//! configurations (`overlaps`); what samplers produce (`samples`), their
//! comparison on one instance against the equilibrium predictions (`compare`)
//! and its average over instances (`aggregate`); the planted-path hysteresis
//! test of a denoiser (`denoiser_path`), the SE model of an instance
//! (`se_model`) and exact posteriors of tiny instances (`exact_posterior`);
//! two-sample tests (`two_sample`) and the verdict against a reference with
//! the theory's prediction beside it (`verdict`).

pub mod aggregate;
pub mod bicoloring;
pub mod compare;
pub mod denoiser_path;
pub mod exact;
pub mod exact_posterior;
pub mod overlaps;
pub mod samples;
pub mod se_model;
pub mod stats;
pub mod two_sample;
pub mod verdict;
