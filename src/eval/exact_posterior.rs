//! Exact posterior by enumeration for tiny instances (Ising: n <= 14; sparse:
//! 3^n configurations, n <= 12): probabilities, marginal moments and the
//! overlap distribution of the tilted measure `mu(x) exp(y.x - t|x|^2/2)` and
//! of the decimated measure, with `mu(x) ∝ P0(x) exp(l(x))` from
//! `Disorder::log_weight`. Implements `PosteriorMean`, so the samplers can be
//! run with the exact denoiser in tests.

use rand::Rng as _;

use crate::amp::oracle::PosteriorMean;
use crate::amp::{Measure, Solve};
use crate::models::{Disorder, Prior};
use crate::rng::Rng;

/// Largest number of enumerated configurations.
const MAX_CONFIGURATIONS: usize = 1 << 21;

/// All configurations of a tiny instance with their log-weights.
#[derive(Debug, Clone)]
pub struct ExactPosterior {
    n: usize,
    prior: Prior,
    /// Configuration `c` is `values[c*n..(c+1)*n]`.
    values: Vec<f64>,
    /// `log P0(x) + l(x)` per configuration.
    log_mu: Vec<f64>,
    /// Energy per spin `-T l(x)/N` per configuration.
    energies: Vec<f64>,
    /// `|x|^2` per configuration.
    norm2: Vec<f64>,
}

/// Marginal moments of the last solved measure.
#[derive(Debug, Clone, Default)]
pub struct ExactState {
    pub mean: Vec<f64>,
    pub second: Vec<f64>,
}

impl ExactPosterior {
    /// Enumerates `disorder` (Rademacher or sparse prior).
    pub fn new(disorder: &Disorder) -> ExactPosterior {
        let (n, prior) = (disorder.n, disorder.prior);
        let support: &[f64] = match prior {
            Prior::Rademacher => &[-1.0, 1.0],
            Prior::SparseRademacher { .. } => &[0.0, 1.0, -1.0],
            Prior::Spherical => panic!("the sphere cannot be enumerated"),
        };
        let count = support.len().pow(n as u32);
        assert!(count <= MAX_CONFIGURATIONS, "{count} configurations is too many to enumerate");
        let mut values = Vec::with_capacity(count * n);
        for c in 0..count {
            let mut rest = c;
            for _ in 0..n {
                values.push(support[rest % support.len()]);
                rest /= support.len();
            }
        }
        let configs: Vec<&[f64]> = values.chunks_exact(n).collect();
        let log_mu = configs.iter().map(|x| log_prior(prior, x) + disorder.log_weight(x)).collect();
        let energies = configs.iter().map(|x| disorder.energy_per_spin(x)).collect();
        let norm2 = configs.iter().map(|x| x.iter().map(|v| v * v).sum()).collect();
        ExactPosterior { n, prior, values, log_mu, energies, norm2 }
    }

    pub fn len(&self) -> usize {
        self.log_mu.len()
    }

    pub fn is_empty(&self) -> bool {
        self.log_mu.is_empty()
    }

    /// Configuration `c`.
    pub fn configuration(&self, c: usize) -> &[f64] {
        &self.values[c * self.n..(c + 1) * self.n]
    }

    /// Index of configuration `x` (inverse of `configuration`).
    pub fn index_of(&self, x: &[f64]) -> usize {
        let base = if self.prior == Prior::Rademacher { 2 } else { 3 };
        x.iter().rev().fold(0, |acc, &v| {
            let digit = match (base, v > 0.5, v < -0.5) {
                (2, true, _) => 1,
                (2, _, _) => 0,
                (_, true, _) => 1,
                (_, _, true) => 2,
                _ => 0,
            };
            acc * base + digit
        })
    }

    /// Energy per spin of configuration `c`.
    pub fn energy(&self, c: usize) -> f64 {
        self.energies[c]
    }

    /// Normalised probabilities of every configuration under `measure`.
    pub fn probabilities(&self, measure: &Measure) -> Vec<f64> {
        let mut logw: Vec<f64> = (0..self.len())
            .map(|c| {
                let x = self.configuration(c);
                if !self.compatible(x, measure.fixed) {
                    return f64::NEG_INFINITY;
                }
                let tilt: f64 = measure.y.iter().zip(x).map(|(y, v)| y * v).sum();
                self.log_mu[c] + tilt - measure.t * self.norm2[c] / 2.0
            })
            .collect();
        let top = logw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert!(top.is_finite(), "no configuration is compatible with the fixed values");
        logw.iter_mut().for_each(|w| *w = (*w - top).exp());
        let z: f64 = logw.iter().sum();
        logw.iter_mut().for_each(|w| *w /= z);
        logw
    }

    fn compatible(&self, x: &[f64], fixed: &[Option<f64>]) -> bool {
        fixed.iter().zip(x).all(|(f, &v)| f.is_none_or(|f| f == v))
    }

    /// Marginal means and second moments under `measure`.
    pub fn moments(&self, measure: &Measure) -> ExactState {
        let probs = self.probabilities(measure);
        let mut state = ExactState { mean: vec![0.0; self.n], second: vec![0.0; self.n] };
        for (c, &p) in probs.iter().enumerate() {
            for (i, &v) in self.configuration(c).iter().enumerate() {
                state.mean[i] += p * v;
                state.second[i] += p * v * v;
            }
        }
        state
    }

    /// Mean energy per spin under `probs`.
    pub fn mean_energy(&self, probs: &[f64]) -> f64 {
        probs.iter().zip(&self.energies).map(|(p, e)| p * e).sum()
    }

    /// `P(q)` of `q = x.x'/n` for independent `x, x'` drawn from `probs`:
    /// entry `k` is the probability of `x.x' = k - n`.
    pub fn overlap_distribution(&self, probs: &[f64]) -> Vec<f64> {
        let mut dist = vec![0.0; 2 * self.n + 1];
        for a in 0..self.len() {
            for b in 0..self.len() {
                let dot: f64 = self.configuration(a).iter().zip(self.configuration(b)).map(|(u, v)| u * v).sum();
                dist[(dot.round() as i64 + self.n as i64) as usize] += probs[a] * probs[b];
            }
        }
        dist
    }
}

fn log_prior(prior: Prior, x: &[f64]) -> f64 {
    match prior {
        Prior::SparseRademacher { rho } => {
            x.iter().map(|&v| if v == 0.0 { (1.0 - rho).ln() } else { (rho / 2.0).ln() }).sum()
        }
        _ => 0.0,
    }
}

impl PosteriorMean for ExactPosterior {
    type State = ExactState;

    fn n(&self) -> usize {
        self.n
    }

    fn prior(&self) -> Prior {
        self.prior
    }

    fn start(&self) -> ExactState {
        ExactState { mean: vec![0.0; self.n], second: vec![self.prior.rho(); self.n] }
    }

    fn solve(&self, state: &mut ExactState, measure: &Measure) -> Solve {
        *state = self.moments(measure);
        let m_hat_sq = state.mean.iter().map(|m| m * m).sum::<f64>() / self.n as f64;
        Solve { iterations: 0, converged: true, m_hat_sq, overlap: None }
    }

    fn estimate<'s>(&self, state: &'s ExactState) -> &'s [f64] {
        &state.mean
    }

    /// From the exact marginal: `P(+-1) = (<x^2> +- <x>)/2`, `P(0) = 1 - <x^2>`.
    fn draw_site(&self, state: &ExactState, i: usize, rng: &mut Rng) -> f64 {
        let (plus, minus) = ((state.second[i] + state.mean[i]) / 2.0, (state.second[i] - state.mean[i]) / 2.0);
        let u: f64 = rng.random();
        if u < plus {
            1.0
        } else if self.prior == Prior::Rademacher || u < plus + minus {
            -1.0
        } else {
            0.0
        }
    }
}
