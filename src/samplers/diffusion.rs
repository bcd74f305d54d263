//! Diffusion as stochastic localisation (PHYSICS.md section 8): `y_0 = 0`,
//! `dy = x̂(y_t, t) dt + dW_t`, where `x̂` is the posterior mean of the tilted
//! measure `mu(x) exp(y.x - t|x|^2/2)` (AMP warm-started along the path, or any
//! other `PosteriorMean`). Euler-Maruyama, `y += x̂ dt + sqrt(dt) xi`, on the
//! time grid of a `Schedule`; at `t_max` each variable is drawn from its scalar
//! marginal `P0(s) exp(s (B + y) - s^2 (A + t)/2)` (sphere: `x̂` projected onto
//! `|x|^2 = N`). The steps are either the schedule's grid or adaptive, with a
//! local error control derived from the Girsanov bound (`next_step`), which
//! also sets how accurately the oracle must solve each step.

use rand::Rng as _;
use rand_distr::StandardNormal;

use super::path::{run_trajectories, start_batch, SamplerRun, Trajectory};
use crate::amp::oracle::PosteriorMean;
use crate::amp::{squared_distance, Measure, Solve};
use crate::observe::{Cancelled, Observer};
use crate::rng::Rng;

/// Time grid (`t_fine > 0`): uniform steps of about `dt_fine` on `[0, t_fine]`, then
/// `geometric_steps` steps with a constant ratio from `t_fine` to `t_max`.
/// PHYSICS.md recommends `dt_fine <= 0.002` up to where `m(t) >~ 0.95`
/// (`t ~ 3` for the p = 3 models), then about 40 geometric steps to 100-1000.
///
/// With `step_error = Some(eps)` the Euler steps are adaptive (see
/// `next_step`): the grid is then only where the path is recorded (its fine
/// part thinned to at most `RECORDED_FINE` intervals), every step lands on
/// those times, and `dt_fine` is the first step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    pub dt_fine: f64,
    pub t_fine: f64,
    pub t_max: f64,
    pub geometric_steps: usize,
    /// Adaptive steps with this local error per step (Kullback-Leibler per
    /// variable, see `next_step`); `None`: Euler steps on the grid itself.
    pub step_error: Option<f64>,
}

impl Default for Schedule {
    fn default() -> Schedule {
        Schedule { dt_fine: 0.002, t_fine: 3.0, t_max: 200.0, geometric_steps: 40, step_error: None }
    }
}

/// Recorded intervals on `[0, t_fine]` with adaptive steps.
pub const RECORDED_FINE: usize = 100;
/// Largest growth of the adaptive step from one step to the next.
const STEP_GROWTH: f64 = 2.0;
/// Smallest adaptive step, as a fraction of `dt_fine`.
const MIN_STEP_FRACTION: f64 = 0.01;
/// Share of a step's error budget left to the oracle's inexact solve.
const SOLVE_SHARE: f64 = 0.1;

impl Schedule {
    /// The grid `0 = t_0 < t_1 < ... < t_K = t_max` (strictly increasing): the
    /// Euler steps, or with adaptive steps the times where the path is recorded.
    pub fn times(&self) -> Vec<f64> {
        assert!(self.dt_fine > 0.0 && self.t_fine > 0.0 && self.t_max >= self.t_fine, "invalid schedule {self:?}");
        let mut fine = (self.t_fine / self.dt_fine).round().max(1.0) as usize;
        if self.step_error.is_some() {
            fine = fine.min(RECORDED_FINE);
        }
        let mut times: Vec<f64> = (0..=fine).map(|k| self.t_fine * k as f64 / fine as f64).collect();
        if self.t_max > self.t_fine && self.geometric_steps > 0 {
            let ratio = (self.t_max / self.t_fine).powf(1.0 / self.geometric_steps as f64);
            times.extend((1..=self.geometric_steps).map(|k| self.t_fine * ratio.powi(k as i32)));
            *times.last_mut().expect("non-empty grid") = self.t_max;
        }
        times
    }
}

/// The adaptive step after a step of length `dt` that moved the estimate by
/// `moved_sq = |Δx̂|^2` (N variables), for a local error `eps` per step.
///
/// Why this rule. The Euler chain `y += x̂ dt + sqrt(dt) xi` freezes the drift
/// over a step; by Girsanov, the Kullback-Leibler divergence of the exact
/// process from the chain, per variable, is `(1/2N) E int_0^dt |x̂(t+s) -
/// x̂(t)|^2 ds`. The posterior mean is a martingale of stochastic
/// localisation, so `E|x̂(t+s) - x̂(t)|^2 / N = m(t+s) - m(t) ~ m'(t) s` and one
/// step costs `m'(t) dt^2 / 4`. Holding that at `eps` gives `dt = sqrt(4 eps /
/// m')`, which is also the grid minimising the total error for a given number
/// of steps (`dt ~ 1/sqrt(m')`); `m'` is measured on the trajectory itself as
/// `|Δx̂|^2 / (N dt)` of the step just taken (a step depends only on the past,
/// so the chain stays a valid Euler scheme). Steps grow at most `STEP_GROWTH`
/// per step and never fall below `MIN_STEP_FRACTION * dt_fine`. A uniform step
/// `dt_fine` costs `m' dt_fine^2 / 4`: `eps = dt_fine^2 / 4` matches it where
/// `m' = 1` and is far cheaper where the path is flat.
pub fn next_step(dt: f64, moved_sq: f64, n: usize, eps: f64, dt_fine: f64) -> f64 {
    let rate = moved_sq / (n.max(1) as f64 * dt);
    let ideal = if rate > 0.0 { (4.0 * eps / rate).sqrt() } else { f64::INFINITY };
    ideal.min(STEP_GROWTH * dt).max(MIN_STEP_FRACTION * dt_fine)
}

/// The root-mean-square error of `x̂` a step of length `dt` can afford:
/// an error `delta` in the drift costs `|delta|^2 dt / (2N)` (Girsanov, exact
/// for the Euler chain), held at `SOLVE_SHARE * eps`.
pub fn solve_accuracy(dt: f64, eps: f64) -> f64 {
    (2.0 * SOLVE_SHARE * eps / dt).sqrt()
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
        let schedule = self.schedule;
        run_trajectories(self.trajectories, self.batch, self.seed, observer, |rngs, steps| match schedule.step_error {
            None => trajectories(oracle, &times, rngs, steps),
            Some(eps) => adaptive_trajectories(oracle, &times, eps, schedule.dt_fine, rngs, steps),
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

/// One adaptive trajectory's position: its time, next step and field.
struct Walk {
    t: f64,
    dt: f64,
    y: Vec<f64>,
    /// The estimate at `t` (to measure the next step's move).
    x_hat: Vec<f64>,
}

/// SL trajectories with adaptive Euler steps (`next_step`, local error `eps`
/// per step, first step `dt_first`), recorded at every time of `times` (steps
/// are cut to land on them); a recorded point's AMP iterations are those of
/// all steps since the previous one. The trajectories of a batch step in lock step
/// rounds, each with its own step length; those that reached the next
/// recorded time wait for the others. `progress(k, times.len())` after each
/// recorded time.
pub fn adaptive_trajectories<D: PosteriorMean>(
    oracle: &D,
    times: &[f64],
    eps: f64,
    dt_first: f64,
    rngs: &mut [Rng],
    observer: &dyn Observer,
) -> Result<Vec<Trajectory>, Cancelled> {
    assert!(eps > 0.0 && dt_first > 0.0, "adaptive steps need eps > 0 and a first step > 0");
    let (n, width) = (oracle.n(), rngs.len());
    let (states, mut recorders) = start_batch(oracle, width);
    let mut states: Vec<Option<D::State>> = states.into_iter().map(Some).collect();
    let mut walks: Vec<Walk> =
        (0..width).map(|_| Walk { t: 0.0, dt: dt_first, y: vec![0.0; n], x_hat: vec![0.0; n] }).collect();
    let first = times.first().copied().unwrap_or(0.0);
    let all: Vec<usize> = (0..width).collect();
    let solves = solve_some(oracle, &mut states, &walks, &all, first, |_| 0.0);
    for (c, solve) in solves.into_iter().enumerate() {
        let x_hat = oracle.estimate(states[c].as_ref().expect("state"));
        walks[c].x_hat.copy_from_slice(x_hat);
        recorders[c].record(first, x_hat, &solve);
    }
    observer.progress(1, times.len() as u64);
    for (k, &target) in times.iter().enumerate().skip(1) {
        // The last solve before the recorded time, with the iterations and
        // convergence of every solve since the previous one.
        let mut last: Vec<Option<Solve>> = vec![None; width];
        let mut taken = vec![0; width];
        loop {
            observer.checkpoint()?;
            let active: Vec<usize> = (0..width).filter(|&c| walks[c].t < target).collect();
            if active.is_empty() {
                break;
            }
            let mut steps = vec![0.0; width];
            for &c in &active {
                let walk = &mut walks[c];
                let mut dt = walk.dt.min(target - walk.t);
                // No sliver of a step before the recorded time.
                if target - walk.t - dt < 0.25 * dt {
                    dt = target - walk.t;
                }
                euler_maruyama(&mut walk.y, &walk.x_hat, dt, &mut rngs[c]);
                walk.t = if dt == target - walk.t { target } else { walk.t + dt };
                steps[c] = dt;
            }
            let solves = solve_some(oracle, &mut states, &walks, &active, f64::NAN, |c| {
                solve_accuracy(STEP_GROWTH * walks[c].dt, eps)
            });
            for (&c, solve) in active.iter().zip(solves) {
                let x_hat = oracle.estimate(states[c].as_ref().expect("state"));
                let walk = &mut walks[c];
                let moved_sq = squared_distance(x_hat, &walk.x_hat);
                walk.x_hat.copy_from_slice(x_hat);
                // A step cut short by the recorded time says little about the
                // rate, nor does one whose solve gave up (where the oracle
                // says its move is the solver's error, not the path's): keep the step.
                let noise = !solve.converged && oracle.unconverged_move_is_noise();
                if steps[c] >= 0.5 * walk.dt && !noise {
                    walk.dt = next_step(steps[c], moved_sq, n, eps, dt_first);
                }
                taken[c] += 1;
                last[c] = Some(match last[c] {
                    None => solve,
                    Some(before) => Solve {
                        iterations: before.iterations + solve.iterations,
                        converged: before.converged && solve.converged,
                        ..solve
                    },
                });
            }
        }
        for (c, recorder) in recorders.iter_mut().enumerate() {
            let solve = last[c].expect("every trajectory steps to each recorded time");
            recorder.record_after(target, &walks[c].x_hat, &solve, taken[c]);
        }
        observer.progress(k as u64 + 1, times.len() as u64);
    }
    let finish = states.into_iter().zip(recorders).zip(rngs.iter_mut());
    Ok(finish.map(|((state, recorder), rng)| recorder.finish(oracle.draw_all(&state.expect("state"), rng))).collect())
}

/// Solves the tilted measures of trajectories `which` (at `t` when it is a
/// number, else at each walk's own time), to the accuracy `accuracy(c)`, in
/// one batched oracle call.
fn solve_some<D: PosteriorMean>(
    oracle: &D,
    states: &mut [Option<D::State>],
    walks: &[Walk],
    which: &[usize],
    t: f64,
    accuracy: impl Fn(usize) -> f64,
) -> Vec<Solve> {
    let mut taken: Vec<D::State> = which.iter().map(|&c| states[c].take().expect("state")).collect();
    let measures: Vec<Measure> = which
        .iter()
        .map(|&c| {
            let time = if t.is_nan() { walks[c].t } else { t };
            Measure::tilted(&walks[c].y, time).with_accuracy(accuracy(c))
        })
        .collect();
    let solves = oracle.solve_batch(&mut taken, &measures);
    for (&c, state) in which.iter().zip(taken) {
        states[c] = Some(state);
    }
    solves
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
