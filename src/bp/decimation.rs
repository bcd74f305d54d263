//! BP-guided decimation, the autoregressive sampler of the sparse model.
//! Vertices are fixed `block` at a time in a (random) order, each drawn from
//! its BP marginal `P(x_i = +) = (1 + tanh H_i)/2` under the current decimated
//! measure (sampling, not maximising); then BP re-converges from where it was.
//! The sweeps' residual scheduling (`Activity`) recomputes only hyperedges
//! whose members' fields moved, so a re-convergence after a small block costs
//! the perturbation's spread, not M updates per sweep. `block = 1` with exact
//! marginals (BP on a tree) is the exact chain rule. The path (`|x̂|^2/N`,
//! overlap, sweeps) is recorded at `records` evenly spaced points of theta,
//! not after every block (at N = 10^5 and block = 1 that would be N^2 numbers).

use rand::seq::SliceRandom;
use rand::Rng as _;

use super::Bp;
use crate::amp::Solve;
use crate::observe::{Cancelled, Observer};
use crate::rng::Rng;
use crate::samplers::autoregressive::Order;
use crate::samplers::path::{run_trajectories, PathRecorder, SamplerRun, Trajectory};

/// BP-guided decimation: `trajectories` independent runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BpDecimation {
    pub order: Order,
    /// Vertices fixed between re-convergences (1 = the exact chain rule).
    pub block: usize,
    pub trajectories: usize,
    /// Points of the recorded path (besides theta = 0).
    pub records: usize,
    pub seed: u64,
}

impl BpDecimation {
    /// Runs all trajectories in parallel (trajectory `s` on stream
    /// `("trajectory", s)`); the path traces are against `theta`.
    pub fn run(&self, bp: &Bp, observer: &dyn Observer) -> Result<SamplerRun, Cancelled> {
        assert!(self.block > 0, "block must be at least 1");
        run_trajectories(self.trajectories, 1, self.seed, observer, |rngs, steps| {
            rngs.iter_mut().map(|rng| self.trajectory(bp, rng, steps)).collect()
        })
    }

    fn trajectory(&self, bp: &Bp, rng: &mut Rng, observer: &dyn Observer) -> Result<Trajectory, Cancelled> {
        let n = bp.graph.n;
        let mut sites: Vec<usize> = (0..n).collect();
        if self.order == Order::Random {
            sites.shuffle(rng);
        }
        let mut state = bp.uninformed();
        let mut recorder = PathRecorder::default();
        let solve = bp.iterate(&mut state, 0.0);
        recorder.record(0.0, &state.x_hat, &solve);
        let records = self.records.clamp(1, n.div_ceil(self.block));
        let (mut recorded, mut sweeps, mut converged) = (0, 0, true);
        for start in (0..n).step_by(self.block) {
            let end = (start + self.block).min(n);
            // Draws from the marginals before this block's re-convergence.
            for &i in &sites[start..end] {
                let value = if rng.random::<f64>() < 0.5 * (1.0 + state.x_hat[i]) { 1.0 } else { -1.0 };
                bp.clamp(&mut state, i, value);
            }
            let solve = bp.iterate(&mut state, 0.0);
            sweeps += solve.iterations;
            converged &= solve.converged;
            if end * records >= (recorded + 1) * n {
                observer.checkpoint()?;
                recorder.record(end as f64 / n as f64, &state.x_hat, &Solve { iterations: sweeps, converged, ..solve });
                (recorded, sweeps, converged) = (recorded + 1, 0, true);
                observer.progress(recorded as u64, records as u64);
            }
        }
        let sample = state.external.iter().map(|&b| b.signum()).collect();
        Ok(recorder.finish(sample))
    }
}
