//! Flow sampling with the stochastic interpolant `x_s = alpha(s) x0 + beta(s) z`,
//! `alpha = s`, `beta = 1 - s` (PHYSICS.md section 8). From `x_0 = z ~ N(0, I)`
//! integrate `dx/ds = b(s, x)` with
//! `b = alpha' D + beta' (x - alpha D) / beta = (D - x) / (1 - s)`, where
//! `D = E[x0 | x_s = x]` is the tilted posterior mean at `y = alpha x / beta^2`,
//! `t = gamma2 = alpha^2 / beta^2`. Euler steps of the probability-flow ODE,
//! or of the SDE `dx = (b + eps score) ds + sqrt(2 eps) dW` with
//! `score = -(x - alpha D) / beta^2` and `eps(s) = noise * beta(s)^2` (the
//! `beta^2` keeps the score term bounded as `s -> 1`; every `eps(s) >= 0`
//! preserves the marginals). The velocity blows up at `s = 1`: the grid stops
//! at `s_max < 1`, where the sample is drawn from the scalar marginals of the
//! tilted measure (sphere: `D` projected onto the sphere).

use rand::Rng as _;
use rand_distr::StandardNormal;

use super::path::{run_trajectories, start_batch, SamplerRun, Trajectory};
use crate::amp::oracle::PosteriorMean;
use crate::amp::Measure;
use crate::models::standard_normals;
use crate::observe::{Cancelled, Observer};
use crate::rng::Rng;

/// Grid in `s`: uniform steps `ds_fine` on `[0, s_fine]`, then
/// `geometric_steps` steps shrinking `1 - s` by a constant ratio down to `1 - s_max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlowSchedule {
    pub ds_fine: f64,
    pub s_fine: f64,
    pub s_max: f64,
    pub geometric_steps: usize,
}

impl Default for FlowSchedule {
    /// `s_fine = 0.6` is `t = 2.25`; `s_max = 0.995` is `t ~ 4e4`.
    fn default() -> FlowSchedule {
        FlowSchedule { ds_fine: 0.001, s_fine: 0.6, s_max: 0.995, geometric_steps: 60 }
    }
}

impl FlowSchedule {
    /// The grid `0 = s_0 < ... < s_K = s_max < 1`.
    pub fn grid(&self) -> Vec<f64> {
        assert!(
            self.ds_fine > 0.0 && 0.0 < self.s_fine && self.s_fine <= self.s_max && self.s_max < 1.0,
            "invalid flow schedule {self:?}"
        );
        let fine = (self.s_fine / self.ds_fine).round().max(1.0) as usize;
        let mut grid: Vec<f64> = (0..=fine).map(|k| self.s_fine * k as f64 / fine as f64).collect();
        if self.s_max > self.s_fine && self.geometric_steps > 0 {
            let ratio = ((1.0 - self.s_max) / (1.0 - self.s_fine)).powf(1.0 / self.geometric_steps as f64);
            grid.extend((1..=self.geometric_steps).map(|k| 1.0 - (1.0 - self.s_fine) * ratio.powi(k as i32)));
            *grid.last_mut().expect("non-empty grid") = self.s_max;
        }
        grid
    }
}

/// `t = gamma2 = alpha^2 / beta^2` at interpolation time `s`.
pub fn gamma2(s: f64) -> f64 {
    (s / (1.0 - s)).powi(2)
}

/// Stochastic-interpolant sampler: `trajectories` independent runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StochasticInterpolant {
    pub schedule: FlowSchedule,
    /// SDE noise level (`eps = noise * beta^2`); 0 integrates the probability-flow ODE.
    pub noise: f64,
    pub trajectories: usize,
    /// Trajectories advanced in lock step per oracle call (see `StochasticLocalization::batch`).
    pub batch: usize,
    pub seed: u64,
}

impl StochasticInterpolant {
    /// Runs all trajectories in parallel; the path traces are against `t = gamma2(s)`.
    pub fn run<D: PosteriorMean>(&self, oracle: &D, observer: &dyn Observer) -> Result<SamplerRun, Cancelled> {
        let grid = self.schedule.grid();
        run_trajectories(self.trajectories, self.batch, self.seed, observer, |rngs, steps| {
            trajectories(oracle, &grid, self.noise, rngs, steps)
        })
    }
}

/// Flow trajectories in lock step on the grid `grid` of `s` values, each
/// from its own `x = z` (drawn first from its generator in `rngs`);
/// `progress(k, grid.len())` after each step.
pub fn trajectories<D: PosteriorMean>(
    oracle: &D,
    grid: &[f64],
    noise: f64,
    rngs: &mut [Rng],
    observer: &dyn Observer,
) -> Result<Vec<Trajectory>, Cancelled> {
    let n = oracle.n();
    let mut xs: Vec<Vec<f64>> = rngs.iter_mut().map(|rng| standard_normals(n, rng)).collect();
    let mut ys = vec![vec![0.0; n]; rngs.len()];
    let (mut states, mut recorders) = start_batch(oracle, rngs.len());
    for (k, &s) in grid.iter().enumerate() {
        observer.checkpoint()?;
        let (alpha, beta) = (s, 1.0 - s);
        for (y, x) in ys.iter_mut().zip(&xs) {
            y.iter_mut().zip(x).for_each(|(y_i, &x_i)| *y_i = alpha * x_i / (beta * beta));
        }
        let t = gamma2(s);
        let measures: Vec<Measure> = ys.iter().map(|y| Measure::tilted(y, t)).collect();
        let solves = oracle.solve_batch(&mut states, &measures);
        for (c, ((x, rng), solve)) in xs.iter_mut().zip(rngs.iter_mut()).zip(&solves).enumerate() {
            let d = oracle.estimate(&states[c]);
            recorders[c].record(t, d, solve);
            if let Some(&s_next) = grid.get(k + 1) {
                euler_step(x, d, s, s_next - s, noise, rng);
            }
        }
        observer.progress(k as u64 + 1, grid.len() as u64);
    }
    let finish = states.iter().zip(recorders).zip(rngs.iter_mut());
    Ok(finish.map(|((state, recorder), rng)| recorder.finish(oracle.draw_all(state, rng))).collect())
}

/// `x += (b + eps score) ds + sqrt(2 eps ds) xi` at interpolation time `s`
/// with denoiser output `d` (`eps = noise beta^2`; no noise drawn when 0).
fn euler_step(x: &mut [f64], d: &[f64], s: f64, ds: f64, noise: f64, rng: &mut Rng) {
    let (alpha, beta) = (s, 1.0 - s);
    let eps = noise * beta * beta;
    let kick = (2.0 * eps * ds).sqrt();
    for (x_i, &d_i) in x.iter_mut().zip(d) {
        let velocity = (d_i - *x_i) / beta;
        let score = -(*x_i - alpha * d_i) / (beta * beta);
        let xi: f64 = if eps > 0.0 { rng.sample(StandardNormal) } else { 0.0 };
        *x_i += (velocity + eps * score) * ds + kick * xi;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_stops_short_of_one() {
        let grid = FlowSchedule::default().grid();
        assert_eq!(grid.len(), 601 + 60);
        assert!(grid.windows(2).all(|w| w[1] > w[0]));
        assert_eq!(*grid.last().unwrap(), 0.995);
        assert!((gamma2(0.5) - 1.0).abs() < 1e-15);
    }
}
