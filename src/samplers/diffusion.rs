//! Diffusion as stochastic localisation (PHYSICS.md section 8): `y_0 = 0`,
//! `dy = x̂(y_t, t) dt + dW_t`, where `x̂` is the posterior mean of the tilted
//! measure `mu(x) exp(y.x - t|x|^2/2)` (AMP warm-started along the path, or any
//! other `PosteriorMean`). Euler-Maruyama, `y += x̂ dt + sqrt(dt) xi`, on the
//! time grid of a `Schedule`; at `t_max` each variable is drawn from its scalar
//! marginal `P0(s) exp(s (B + y) - s^2 (A + t)/2)` (sphere: `x̂` projected onto
//! `|x|^2 = N`).

use rand::Rng as _;
use rand_distr::StandardNormal;

use super::path::{run_trajectories, start_batch, SamplerRun, Trajectory};
use crate::amp::oracle::PosteriorMean;
use crate::amp::Measure;
use crate::observe::{Cancelled, Observer};
use crate::rng::Rng;

/// Time grid (`t_fine > 0`): uniform steps of about `dt_fine` on `[0, t_fine]`, then
/// `geometric_steps` steps with a constant ratio from `t_fine` to `t_max`.
/// PHYSICS.md recommends `dt_fine <= 0.002` up to where `m(t) >~ 0.95`
/// (`t ~ 3` for the p = 3 models), then about 40 geometric steps to 100-1000.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    pub dt_fine: f64,
    pub t_fine: f64,
    pub t_max: f64,
    pub geometric_steps: usize,
}

impl Default for Schedule {
    fn default() -> Schedule {
        Schedule { dt_fine: 0.002, t_fine: 3.0, t_max: 200.0, geometric_steps: 40 }
    }
}

impl Schedule {
    /// The grid `0 = t_0 < t_1 < ... < t_K = t_max` (strictly increasing).
    pub fn times(&self) -> Vec<f64> {
        assert!(self.dt_fine > 0.0 && self.t_fine > 0.0 && self.t_max >= self.t_fine, "invalid schedule {self:?}");
        let fine = (self.t_fine / self.dt_fine).round().max(1.0) as usize;
        let mut times: Vec<f64> = (0..=fine).map(|k| self.t_fine * k as f64 / fine as f64).collect();
        if self.t_max > self.t_fine && self.geometric_steps > 0 {
            let ratio = (self.t_max / self.t_fine).powf(1.0 / self.geometric_steps as f64);
            times.extend((1..=self.geometric_steps).map(|k| self.t_fine * ratio.powi(k as i32)));
            *times.last_mut().expect("non-empty grid") = self.t_max;
        }
        times
    }
}

/// Stochastic-localisation sampler: `trajectories` independent runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StochasticLocalization {
    pub schedule: Schedule,
    pub trajectories: usize,
    /// Trajectories advanced in lock step per oracle call (AMP on a dense
    /// matrix then reads it once for up to 8 of them); 1 = one at a time.
    pub batch: usize,
    pub seed: u64,
}

impl StochasticLocalization {
    /// Runs all trajectories in parallel (trajectory `s` on stream `("trajectory", s)`),
    /// then emits the mean path traces against `t`.
    pub fn run<D: PosteriorMean>(&self, oracle: &D, observer: &dyn Observer) -> Result<SamplerRun, Cancelled> {
        let times = self.schedule.times();
        run_trajectories(self.trajectories, self.batch, self.seed, observer, |rngs, steps| {
            trajectories(oracle, &times, rngs, steps)
        })
    }
}

/// SL trajectories in lock step on the grid `times` (from `y = 0` at
/// `times[0]`), one per generator in `rngs`; `progress(k, times.len())` after
/// each time step.
pub fn trajectories<D: PosteriorMean>(
    oracle: &D,
    times: &[f64],
    rngs: &mut [Rng],
    observer: &dyn Observer,
) -> Result<Vec<Trajectory>, Cancelled> {
    let mut ys = vec![vec![0.0; oracle.n()]; rngs.len()];
    let (mut states, mut recorders) = start_batch(oracle, rngs.len());
    for (k, &t) in times.iter().enumerate() {
        observer.checkpoint()?;
        let measures: Vec<Measure> = ys.iter().map(|y| Measure::tilted(y, t)).collect();
        let solves = oracle.solve_batch(&mut states, &measures);
        for (c, ((y, rng), solve)) in ys.iter_mut().zip(rngs.iter_mut()).zip(&solves).enumerate() {
            let x_hat = oracle.estimate(&states[c]);
            recorders[c].record(t, x_hat, solve);
            if let Some(&t_next) = times.get(k + 1) {
                euler_maruyama(y, x_hat, t_next - t, rng);
            }
        }
        observer.progress(k as u64 + 1, times.len() as u64);
    }
    let finish = states.iter().zip(recorders).zip(rngs.iter_mut());
    Ok(finish.map(|((state, recorder), rng)| recorder.finish(oracle.draw_all(state, rng))).collect())
}

/// `y += x̂ dt + sqrt(dt) xi`.
fn euler_maruyama(y: &mut [f64], x_hat: &[f64], dt: f64, rng: &mut Rng) {
    let noise = dt.sqrt();
    for (y_i, &x_i) in y.iter_mut().zip(x_hat) {
        *y_i += x_i * dt + noise * rng.sample::<f64, _>(StandardNormal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_is_fine_then_geometric() {
        let times = Schedule::default().times();
        assert_eq!(times.len(), 1501 + 40);
        assert!((times[1] - 0.002).abs() < 1e-15 && (times[1500] - 3.0).abs() < 1e-12);
        assert_eq!(*times.last().unwrap(), 200.0);
        assert!(times.windows(2).all(|w| w[1] > w[0]));
        let r1 = times[1502] / times[1501];
        let r2 = times[1540] / times[1539];
        assert!((r1 - r2).abs() < 1e-9);
    }
}
