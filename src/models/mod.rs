//! Disorder generation: the planted spiked matrix (p = 2, planted SK and its
//! sparse version), the planted spiked tensor (p = 3, Ising or spherical) and
//! the unplanted SK model (PHYSICS.md sections 1-2). A `Disorder` holds the
//! couplings in packed form, the planted signal where there is one, and the
//! conventions that turn them into the log-weight `l(x)` and the energy.

pub mod bicoloring;
pub(crate) mod f32_bytes;
pub mod packed;
pub mod prior;

use rand::Rng as _;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use prior::Prior;

use std::sync::atomic::{AtomicU64, Ordering};

use crate::observe::{Cancelled, Observer, Silent};
use crate::rng::{self, Rng};

/// Which generative model produced the couplings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Family {
    /// `Y = x* x*^T / sqrt(N) + sqrt(Delta) W` (planted SK when the prior is Rademacher).
    SpikedMatrix,
    /// `Y = sqrt((p-1)!)/N^((p-1)/2) x*^{(x)p} + sqrt(Delta) W`.
    SpikedTensor,
    /// Sherrington-Kirkpatrick couplings `J ~ N(0, 1/N)`, no planted signal.
    Sk,
}

impl Family {
    /// The name reported by `quench show`.
    pub fn name(&self) -> &'static str {
        match self {
            Family::SpikedMatrix => "spiked-matrix",
            Family::SpikedTensor => "spiked-tensor",
            Family::Sk => "sk",
        }
    }
}

/// One disorder instance.
///
/// The log-weight of a configuration is
/// `l(x) = coupling_scale * sum_S couplings_S x_S - quadratic(x)`, where `S` runs
/// over index sets `i<j` (p = 2) or `i<j<k` (p = 3) and the quadratic term
/// `(n^2 - sum x^4)/(4 Delta N)` with `n = x.x` is kept only for the sparse prior
/// (for the others it is a constant). The energy per spin is `e = -T l(x)/N`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disorder {
    pub family: Family,
    pub n: usize,
    pub p: usize,
    pub prior: Prior,
    /// Noise variance of the observation (for SK the formal `1/beta^2`).
    pub delta: f64,
    pub temperature: f64,
    /// Multiplies the stored couplings to give the coefficients of `l(x)`.
    pub coupling_scale: f64,
    /// The observation `Y` (planted models) or `J` (SK), packed (see `packed`).
    #[serde(with = "f32_bytes")]
    pub couplings: Vec<f32>,
    /// The planted signal `x*`, an exact equilibrium sample by the Nishimori property.
    pub planted: Option<Vec<f32>>,
}

/// Noise variance `Delta = 2 T^2 / p` matching temperature `T` (PHYSICS.md section 1).
pub fn delta_from_temperature(p: usize, temperature: f64) -> f64 {
    2.0 * temperature * temperature / p as f64
}

/// Temperature `T = sqrt(p Delta / 2)` matching noise variance `Delta`.
pub fn temperature_from_delta(p: usize, delta: f64) -> f64 {
    (p as f64 * delta / 2.0).sqrt()
}

/// `sqrt((p-1)!) / N^((p-1)/2)`: the spike's normalisation.
fn spike_scale(n: usize, p: usize) -> f64 {
    let factorial: f64 = (1..p).map(|k| k as f64).product();
    factorial.sqrt() / (n as f64).powf((p as f64 - 1.0) / 2.0)
}

impl Disorder {
    /// Planted spiked matrix (p = 2) with noise variance `delta`.
    pub fn spiked_matrix(n: usize, prior: Prior, delta: f64, seed: u64) -> Disorder {
        Disorder::generate(Family::SpikedMatrix, n, prior, delta, seed, &Silent).expect("never cancelled")
    }

    /// Planted spiked tensor of order 3 with noise variance `delta`.
    pub fn spiked_tensor(n: usize, prior: Prior, delta: f64, seed: u64) -> Disorder {
        Disorder::generate(Family::SpikedTensor, n, prior, delta, seed, &Silent).expect("never cancelled")
    }

    /// SK couplings `J ~ N(0, 1/N)` at inverse temperature `beta`.
    pub fn sk(n: usize, beta: f64, seed: u64) -> Disorder {
        Disorder::generate(Family::Sk, n, Prior::Rademacher, 1.0 / (beta * beta), seed, &Silent)
            .expect("never cancelled")
    }

    /// Draws an instance of `family`; for SK `delta` is `1/beta^2` and `prior`
    /// is ignored. Reports progress per slab and stops when cancelled.
    pub fn generate(
        family: Family,
        n: usize,
        prior: Prior,
        delta: f64,
        seed: u64,
        observer: &dyn Observer,
    ) -> Result<Disorder, Cancelled> {
        let p = if family == Family::SpikedTensor { 3 } else { 2 };
        if family == Family::Sk {
            let beta = 1.0 / delta.sqrt();
            let couplings = generate(n, p, seed, 1.0 / (n as f64).sqrt(), None, observer)?;
            return Ok(Disorder {
                family,
                n,
                p,
                prior: Prior::Rademacher,
                delta,
                temperature: 1.0 / beta,
                coupling_scale: beta,
                couplings,
                planted: None,
            });
        }
        let planted = prior.sample(n, &mut rng::stream(seed, "planted", 0));
        let couplings = generate(n, p, seed, delta.sqrt(), Some((&planted, spike_scale(n, p))), observer)?;
        let coupling_scale = if p == 2 { 1.0 / (delta * (n as f64).sqrt()) } else { spike_scale(n, p) / delta };
        Ok(Disorder {
            family,
            n,
            p,
            prior,
            delta,
            temperature: temperature_from_delta(p, delta),
            coupling_scale,
            couplings,
            planted: Some(planted.iter().map(|&v| v as f32).collect()),
        })
    }

    pub fn beta(&self) -> f64 {
        1.0 / self.temperature
    }

    /// The log-weight `l(x)` (see the type's documentation).
    pub fn log_weight(&self, x: &[f64]) -> f64 {
        let coupling_sum = match self.p {
            2 => packed::pair_polynomial(&self.couplings, x),
            _ => packed::triple_polynomial(&self.couplings, x),
        };
        self.coupling_scale * coupling_sum - self.quadratic_term(x)
    }

    /// `(n^2 - sum x^4)/(4 Delta N)` for the sparse prior, 0 otherwise.
    pub fn quadratic_term(&self, x: &[f64]) -> f64 {
        if self.prior.has_fixed_norm() {
            return 0.0;
        }
        let norm2: f64 = x.iter().map(|v| v * v).sum();
        let fourth: f64 = x.iter().map(|v| v.powi(4)).sum();
        (norm2 * norm2 - fourth) / (4.0 * self.delta * self.n as f64)
    }

    /// Energy per spin `e = -T l(x) / N`.
    pub fn energy_per_spin(&self, x: &[f64]) -> f64 {
        -self.temperature * self.log_weight(x) / self.n as f64
    }

    /// The planted signal as f64, if any.
    pub fn planted_f64(&self) -> Option<Vec<f64>> {
        self.planted.as_ref().map(|x| x.iter().map(|&v| v as f64).collect())
    }

    /// Expected equilibrium energy per spin where it is known exactly: the
    /// Nishimori value `E e(x*)` with its finite-N factor for planted models,
    /// the paramagnetic `-(beta/2)(1 - 1/N)` for SK above T = 1.
    pub fn equilibrium_energy_per_spin(&self) -> Option<f64> {
        let n = self.n as f64;
        match self.family {
            Family::Sk if self.temperature > 1.0 => Some(-self.beta() / 2.0 * (1.0 - 1.0 / n)),
            Family::Sk => None,
            _ => Some(-self.temperature * self.expected_planted_log_weight() / n),
        }
    }

    /// `E l(x*)` over the planted signal and the noise (the noise averages to 0).
    fn expected_planted_log_weight(&self) -> f64 {
        let n = self.n as f64;
        let rho = self.prior.rho();
        // E prod_{i in S} x*_i^2 over a set S of p distinct indices.
        let moment = match (self.prior, self.p) {
            (Prior::Spherical, 3) => n * n / ((n + 2.0) * (n + 4.0)),
            (Prior::Spherical, _) => n / (n + 2.0),
            _ => rho.powi(self.p as i32),
        };
        let sets = packed::len(self.n, self.p) as f64;
        let signal = self.coupling_scale * spike_scale(self.n, self.p) * sets * moment;
        let quadratic = if self.prior.has_fixed_norm() {
            0.0
        } else {
            // E (n^2 - sum x^4) = N(N-1) rho^2 for x in {0, +-1}.
            n * (n - 1.0) * rho * rho / (4.0 * self.delta * n)
        };
        signal - quadratic
    }
}

/// Packed couplings: `noise_std * W_S + spike * prod x*_S` for every index set S.
/// Each slab `i` (all sets starting with i) has its own stream, so generation is
/// parallel yet independent of the thread count.
fn generate(
    n: usize,
    p: usize,
    seed: u64,
    noise_std: f64,
    spike: Option<(&[f64], f64)>,
    observer: &dyn Observer,
) -> Result<Vec<f32>, Cancelled> {
    let done = AtomicU64::new(0);
    let mut values = vec![0f32; packed::len(n, p)];
    let mut slabs = Vec::with_capacity(n);
    let mut rest = values.as_mut_slice();
    for i in 0..n {
        let (slab, tail) = rest.split_at_mut(packed::len(n - i - 1, p - 1));
        slabs.push(slab);
        rest = tail;
    }
    slabs.into_par_iter().enumerate().try_for_each(|(i, slab)| {
        observer.checkpoint()?;
        let mut rng = rng::stream(seed, "noise", i as u64);
        let mut at = 0;
        for_each_tail(n, p, i, |j, k| {
            let w: f64 = rng.sample(StandardNormal);
            let signal = spike.map_or(0.0, |(x, s)| s * x[i] * x[j] * k.map_or(1.0, |k| x[k]));
            slab[at] = (noise_std * w + signal) as f32;
            at += 1;
        });
        observer.progress(done.fetch_add(1, Ordering::Relaxed) + 1, n as u64);
        Ok(())
    })?;
    Ok(values)
}

/// Calls `f(j, None)` for `i<j` (p = 2) or `f(j, Some(k))` for `i<j<k` (p = 3), in order.
fn for_each_tail(n: usize, p: usize, i: usize, mut f: impl FnMut(usize, Option<usize>)) {
    for j in i + 1..n {
        if p == 2 {
            f(j, None);
        } else {
            for k in j + 1..n {
                f(j, Some(k));
            }
        }
    }
}

/// Draws `n` standard normals (used by samplers that start from noise).
pub fn standard_normals(n: usize, rng: &mut Rng) -> Vec<f64> {
    (0..n).map(|_| rng.sample(StandardNormal)).collect()
}

#[cfg(test)]
mod tests;
