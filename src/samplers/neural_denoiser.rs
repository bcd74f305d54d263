//! A learned denoiser as the posterior-mean oracle of the diffusion and flow
//! samplers (the `PosteriorMean` interface AMP implements), and its held-out
//! mean squared error along the path `y_t = t x + sqrt(t) z` beside AMP's.
//! The network sees only `(y, t)`: it serves tilted measures, not decimated ones.

use rand::Rng as _;
use rayon::prelude::*;

use crate::amp::oracle::PosteriorMean;
use crate::amp::{Measure, Solve};
use crate::models::Prior;
use crate::rng::{self, Rng};
use crate::train::denoiser::{observe, DenoiserWeights};

/// A trained denoiser network answering posterior-mean queries.
#[derive(Debug, Clone)]
pub struct LearnedDenoiser {
    pub weights: DenoiserWeights,
}

/// The estimate of the last query.
#[derive(Debug, Clone, Default)]
pub struct LearnedState {
    pub x_hat: Vec<f64>,
}

impl PosteriorMean for LearnedDenoiser {
    type State = LearnedState;

    fn n(&self) -> usize {
        self.weights.n
    }

    fn prior(&self) -> Prior {
        Prior::Rademacher
    }

    fn start(&self) -> LearnedState {
        LearnedState { x_hat: vec![0.0; self.weights.n] }
    }

    /// One forward pass: `x̂ = f(y, t)`. Fixed variables (decimation) are kept as given.
    fn solve(&self, state: &mut LearnedState, measure: &Measure) -> Solve {
        let n = self.weights.n;
        let y: Vec<f64> = (0..n).map(|i| measure.y.get(i).copied().unwrap_or(0.0)).collect();
        state.x_hat = self.weights.apply(&y, measure.t);
        for (i, fixed) in measure.fixed.iter().enumerate() {
            if let Some(v) = fixed {
                state.x_hat[i] = *v;
            }
        }
        let m_hat_sq = state.x_hat.iter().map(|v| v * v).sum::<f64>() / n.max(1) as f64;
        Solve { iterations: 1, converged: true, m_hat_sq, overlap: None }
    }

    fn estimate<'s>(&self, state: &'s LearnedState) -> &'s [f64] {
        &state.x_hat
    }

    /// `x_i = ±1` with `P(+1) = (1 + x̂_i) / 2`.
    fn draw_site(&self, state: &LearnedState, i: usize, rng: &mut Rng) -> f64 {
        let p_up = (1.0 + state.x_hat[i].clamp(-1.0, 1.0)) / 2.0;
        if rng.random::<f64>() < p_up {
            1.0
        } else {
            -1.0
        }
    }
}

/// Mean squared error per variable at one `t`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MsePoint {
    pub t: f64,
    pub learned: f64,
    /// The same observations denoised by `reference` (AMP), when given.
    pub reference: Option<f64>,
}

/// MSE of `learned` (and of `reference`, from a fresh start) on `repeats`
/// noisy observations of each held-out sample at each `t`. Observation `r`
/// of sample `s` at grid point `k` uses the stream `("mse", (k, s, r))`.
pub fn mse_curve<R: PosteriorMean>(
    learned: &LearnedDenoiser,
    reference: Option<&R>,
    held_out: &[Vec<f64>],
    grid: &[f64],
    repeats: usize,
    seed: u64,
) -> Vec<MsePoint> {
    let n = learned.n().max(1) as f64;
    grid.iter()
        .enumerate()
        .map(|(k, &t)| {
            let jobs: Vec<(usize, usize)> =
                (0..held_out.len()).flat_map(|s| (0..repeats).map(move |r| (s, r))).collect();
            let errors: Vec<(f64, Option<f64>)> = jobs
                .par_iter()
                .map(|&(s, r)| {
                    let index = ((k * held_out.len() + s) * repeats + r) as u64;
                    let x = &held_out[s];
                    let y = observe(x, t, &mut rng::stream(seed, "mse", index));
                    let sq = |x_hat: &[f64]| x_hat.iter().zip(x).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / n;
                    let x_hat = learned.weights.apply(&y, t);
                    let reference = reference.map(|oracle| {
                        let mut state = oracle.start();
                        oracle.solve(&mut state, &Measure::tilted(&y, t));
                        sq(oracle.estimate(&state))
                    });
                    (sq(&x_hat), reference)
                })
                .collect();
            let count = errors.len().max(1) as f64;
            MsePoint {
                t,
                learned: errors.iter().map(|e| e.0).sum::<f64>() / count,
                reference: reference.map(|_| errors.iter().filter_map(|e| e.1).sum::<f64>() / count),
            }
        })
        .collect()
}
