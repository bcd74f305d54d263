//! Autoregressive sampling as sequential decimation (PHYSICS.md section 8):
//! pick an order, then repeatedly fix the next `block` variables, each drawn
//! from its scalar marginal `P0(s) exp(s B_i - s^2 A / 2)` under the current
//! decimated measure, and re-solve the oracle (AMP warm start). With exact
//! marginals and `block = 1` this is exact sampling by the chain rule; the
//! theory's path parameter is `theta`, the fraction of fixed variables. On the
//! sphere a coordinate is drawn from its exact marginal under the von
//! Mises-Fisher law of the free coordinates on the sphere of radius^2 `N -
//! |x_fixed|^2` (`amp::sphere`), so the configuration ends on `|x|^2 = N`
//! (the final projection only removes rounding).
//!
//! **How accurately each block's oracle solve must converge.** Only the
//! marginals of the sites drawn next are used. Drawing a ±1 site from a
//! marginal whose mean is off by `delta` costs a Kullback-Leibler divergence
//! `delta^2 / (2 (1 - m^2))`. `sample.autoregressive` stops AMP when its
//! root-mean-square change per iteration is below `DRAW_ACCURACY` (1e-4)
//! instead of at the solver's `tol` (max change 1e-5, some 30 times tighter
//! in rms at N = 400): `tests/ar_accuracy.rs` measures the error of such
//! solves against solves converged to max change 1e-7 along decimation paths
//! (n = 200, T = 0.80 and 0.69): the draws' divergence over the whole
//! trajectory is 1e-8 to 7e-8 per variable. At N = 400, T = 0.8, block 4 the
//! rule takes 1.7 times fewer AMP iterations than `tol`, and at N = 200 (32
//! trajectories, T = 0.8) every sample's energy is the same under both.

use rand::seq::SliceRandom;

use super::path::{run_trajectories, start_batch, SamplerRun, Trajectory};
use crate::amp::oracle::PosteriorMean;
use crate::amp::Measure;
use crate::models::prior::project_to_sphere;
use crate::models::Prior;
use crate::observe::{Cancelled, Observer};
use crate::rng::Rng;

/// Root-mean-square change per iteration at which `sample.autoregressive`'s
/// AMP solves stop (module doc); exact oracles ignore it.
pub const DRAW_ACCURACY: f64 = 1e-4;

/// Order in which variables are fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// `0, 1, ..., N-1`.
    Natural,
    /// A fresh uniform permutation per trajectory (from its own stream).
    Random,
}

/// Decimation sampler: `trajectories` independent runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decimation {
    pub order: Order,
    /// Variables fixed per oracle re-solve (1 matches the theory).
    pub block: usize,
    pub trajectories: usize,
    /// Trajectories advanced in lock step per oracle call (see `StochasticLocalization::batch`).
    pub batch: usize,
    pub seed: u64,
}

impl Decimation {
    /// Runs all trajectories in parallel, each solve to the oracle's own
    /// tolerance; the path traces are against `theta`.
    pub fn run<D: PosteriorMean>(&self, oracle: &D, observer: &dyn Observer) -> Result<SamplerRun, Cancelled> {
        self.run_to(oracle, 0.0, observer)
    }

    /// As `run`, with every solve stopping once its root-mean-square change
    /// per iteration is below `accuracy` (`DRAW_ACCURACY`: module doc).
    pub fn run_to<D: PosteriorMean>(
        &self,
        oracle: &D,
        accuracy: f64,
        observer: &dyn Observer,
    ) -> Result<SamplerRun, Cancelled> {
        run_trajectories(self.trajectories, self.batch, self.seed, observer, |rngs, steps| {
            trajectories(oracle, self.order, self.block, accuracy, rngs, steps)
        })
    }
}

/// Decimation trajectories in lock step, one per generator in `rngs` (each
/// first draws its order when `order` is random), solved to `accuracy` (0:
/// the oracle's tolerance); `progress(b, blocks)` after each block of sites
/// is fixed.
pub fn trajectories<D: PosteriorMean>(
    oracle: &D,
    order: Order,
    block: usize,
    accuracy: f64,
    rngs: &mut [Rng],
    observer: &dyn Observer,
) -> Result<Vec<Trajectory>, Cancelled> {
    assert!(block > 0, "block must be at least 1");
    let n = oracle.n();
    let orders: Vec<Vec<usize>> = rngs.iter_mut().map(|rng| site_order(n, order, rng)).collect();
    let mut fixed: Vec<Vec<Option<f64>>> = vec![vec![None; n]; rngs.len()];
    let (mut states, mut recorders) = start_batch(oracle, rngs.len());
    let mut solve_and_record = |states: &mut [D::State], fixed: &[Vec<Option<f64>>], theta: f64| {
        let measures: Vec<Measure> = fixed.iter().map(|f| Measure::decimated(f).with_accuracy(accuracy)).collect();
        let solves = oracle.solve_batch(states, &measures);
        for (c, solve) in solves.iter().enumerate() {
            recorders[c].record(theta, oracle.estimate(&states[c]), solve);
        }
    };
    solve_and_record(&mut states, &fixed, 0.0);
    let blocks = n.div_ceil(block) as u64;
    for (b, start) in (0..n).step_by(block).enumerate() {
        observer.checkpoint()?;
        let end = (start + block).min(n);
        for (c, rng) in rngs.iter_mut().enumerate() {
            let values: Vec<f64> =
                orders[c][start..end].iter().map(|&i| oracle.draw_site(&states[c], i, rng)).collect();
            for (&i, value) in orders[c][start..end].iter().zip(values) {
                fixed[c][i] = Some(value);
            }
        }
        solve_and_record(&mut states, &fixed, end as f64 / n as f64);
        observer.progress(b as u64 + 1, blocks);
    }
    Ok(recorders.into_iter().zip(&fixed).map(|(recorder, f)| recorder.finish(sample(oracle.prior(), f))).collect())
}

/// `0..n`, shuffled with `rng` for a random order.
fn site_order(n: usize, order: Order, rng: &mut Rng) -> Vec<usize> {
    let mut sites: Vec<usize> = (0..n).collect();
    if order == Order::Random {
        sites.shuffle(rng);
    }
    sites
}

/// The fixed configuration (projected onto the sphere for the spherical prior).
fn sample(prior: Prior, fixed: &[Option<f64>]) -> Vec<f64> {
    let mut x: Vec<f64> = fixed.iter().map(|v| v.expect("every variable fixed")).collect();
    if prior == Prior::Spherical {
        project_to_sphere(&mut x);
    }
    x
}
