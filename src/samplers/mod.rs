//! Samplers. Local ones of a `Disorder`'s Gibbs measure `mu(x) ∝ P0(x) exp(l(x))`
//! (PHYSICS.md section 8): single-site Metropolis / heat-bath for ±1 and
//! {0, ±1} spins (`metropolis`), replica exchange over a temperature ladder
//! (`tempering`) and overdamped Langevin on the sphere (`langevin`).
//!
//! Conventions shared by all of them: chain `c` draws every random number from
//! `rng::stream(seed, "chain", c)`; chains advance in parallel (rayon) in
//! lock-step blocks, so the output is identical for any thread count; a run is
//! `burn_in` sweeps (steps) then `sweeps` more, recording after every
//! `record_every`-th of the latter; energies are per spin, `e = -T l(x) / N`.

//!
//! Generative ones driven by a posterior-mean oracle (`amp::oracle::PosteriorMean`):
//! diffusion by stochastic localisation (`diffusion`), flows by stochastic
//! interpolants (`flow`) and autoregressive sampling by sequential decimation
//! (`autoregressive`), sharing `path`.

pub mod autoregressive;
pub mod bicoloring;
pub mod diffusion;
pub mod driver;
pub mod flow;
pub mod kernels;
pub mod langevin;
pub mod metropolis;
pub mod neural;
pub mod neural_denoiser;
pub mod path;
pub mod spins;
pub mod storage;
pub mod tempering;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::models::Disorder;
use crate::observe::Cancelled;

pub use spins::{Rule, SpinModel, SpinState};
pub use storage::{Coupling, Interactions, Precision};

/// Where each chain starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Init {
    /// An independent draw from the prior `P0`.
    #[default]
    Random,
    /// The planted signal `x*` (an exact equilibrium sample by Nishimori).
    Planted,
}

/// Why a sampler did not return samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SamplerError {
    /// The observer asked to stop.
    Cancelled,
    /// The model, prior or parameters are outside what the sampler handles.
    Unsupported(String),
}

impl From<Cancelled> for SamplerError {
    fn from(_: Cancelled) -> Self {
        SamplerError::Cancelled
    }
}

impl fmt::Display for SamplerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SamplerError::Cancelled => f.write_str("cancelled"),
            SamplerError::Unsupported(why) => write!(f, "unsupported: {why}"),
        }
    }
}

impl std::error::Error for SamplerError {}

/// What one chain of a discrete sampler produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpinChain {
    /// The recorded configurations, values in {-1, 0, 1}.
    pub samples: Vec<Vec<i8>>,
    /// Energy per spin at each record.
    pub energy: Vec<f64>,
    /// Fraction of single-site updates after burn-in that changed the site.
    pub acceptance: f64,
}

/// The output of a discrete sampler: one `SpinChain` per chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpinRun {
    pub n: usize,
    /// Sweep count (burn-in included) at each record, shared by all chains.
    pub record_sweeps: Vec<u64>,
    pub chains: Vec<SpinChain>,
}

/// Length of a run: `burn_in` unrecorded sweeps, then `sweeps` recorded every `record_every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    pub sweeps: u64,
    pub burn_in: u64,
    pub record_every: u64,
}

impl Schedule {
    pub fn total(&self) -> u64 {
        self.burn_in + self.sweeps
    }

    /// True if the state after sweep `t` (1-based) is recorded.
    pub fn records_at(&self, t: u64) -> bool {
        t > self.burn_in && (t - self.burn_in).is_multiple_of(self.record_every)
    }

    /// The sweeps after which a record is taken.
    pub fn record_times(&self) -> Vec<u64> {
        (1..=self.sweeps / self.record_every).map(|r| self.burn_in + r * self.record_every).collect()
    }

    fn check(&self) -> Result<(), SamplerError> {
        if self.record_every == 0 {
            return Err(SamplerError::Unsupported("record_every must be at least 1".into()));
        }
        Ok(())
    }
}

/// Checks that `disorder` is a ±1 or {0, ±1} model of order 2 or 3.
pub(crate) fn check_discrete(disorder: &Disorder, init: Init, chains: usize) -> Result<(), SamplerError> {
    if disorder.p != 2 && disorder.p != 3 {
        return Err(SamplerError::Unsupported(format!("order p = {}", disorder.p)));
    }
    if matches!(disorder.prior, crate::models::Prior::Spherical) {
        return Err(SamplerError::Unsupported("spherical spins (use langevin)".into()));
    }
    check_common(disorder, init, chains)
}

pub(crate) fn check_common(disorder: &Disorder, init: Init, chains: usize) -> Result<(), SamplerError> {
    if init == Init::Planted && disorder.planted.is_none() {
        return Err(SamplerError::Unsupported("planted init without a planted signal".into()));
    }
    if chains == 0 || disorder.n == 0 {
        return Err(SamplerError::Unsupported("need at least one chain and one variable".into()));
    }
    Ok(())
}

/// The starting configuration of a discrete chain.
pub(crate) fn initial_spins(disorder: &Disorder, init: Init, rng: &mut crate::rng::Rng) -> Vec<i8> {
    match (init, &disorder.planted) {
        (Init::Planted, Some(planted)) => planted.iter().map(|&v| v as i8).collect(),
        _ => disorder.prior.sample(disorder.n, rng).iter().map(|&v| v as i8).collect(),
    }
}

/// Energy per spin `-T l / N`.
pub(crate) fn energy_per_spin(disorder: &Disorder, log_weight: f64) -> f64 {
    -disorder.temperature * log_weight / disorder.n as f64
}

/// Chain-averaged "energy" and "overlap_planted" traces for the records in `new`.
pub(crate) fn trace_spin_records(
    observer: &dyn crate::observe::Observer,
    disorder: &Disorder,
    times: &[u64],
    chains: &[&SpinChain],
    new: std::ops::Range<usize>,
) {
    let count = chains.len();
    driver::trace_mean(observer, "energy", times, new.clone(), count, |c, r| chains[c].energy[r]);
    if let Some(planted) = &disorder.planted {
        let symmetric = disorder.p.is_multiple_of(2);
        driver::trace_mean(observer, "overlap_planted", times, new, count, |c, r| {
            crate::eval::overlaps::planted_overlap(&chains[c].samples[r], planted, disorder.prior, symmetric)
        });
    }
}
