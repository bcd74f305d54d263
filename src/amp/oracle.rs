//! The interface the AMP-based samplers need: a posterior-mean oracle for the
//! tilted / decimated measure, with a warm-startable state and draws from the
//! scalar marginals. AMP implements it; so does exact enumeration
//! (`eval::exact_posterior`), which lets tests drive the same sampler code
//! with the exact denoiser.

use rand::Rng as _;
use rand_distr::StandardNormal;

use super::{denoiser, Amp, AmpState, Measure, Solve};
use crate::models::prior::project_to_sphere;
use crate::models::Prior;
use crate::rng::Rng;

/// Posterior means of `mu(x) exp(y.x - t|x|^2/2)` with some variables fixed.
pub trait PosteriorMean: Sync {
    /// Warm-start state carried along a sampler's path.
    type State: Send;

    fn n(&self) -> usize;
    fn prior(&self) -> Prior;
    /// The state before any solve (uninformed).
    fn start(&self) -> Self::State;
    /// Updates `state` to the posterior mean of `measure`.
    fn solve(&self, state: &mut Self::State, measure: &Measure) -> Solve;

    /// Solves several independent runs (`states[c]` for `measures[c]`); an
    /// oracle may share work between them (AMP: one pass over a dense matrix).
    fn solve_batch(&self, states: &mut [Self::State], measures: &[Measure]) -> Vec<Solve> {
        states.iter_mut().zip(measures).map(|(state, measure)| self.solve(state, measure)).collect()
    }
    /// Whether an unconverged solve's move is the solver's noise rather than
    /// the path's, so the diffusion's step control should not read a rate
    /// from it. BP (which gives up early, by design, on a solve that cannot
    /// reach its step's budget) says yes. AMP's unconverged solves are rare
    /// (under 0.3% of the steps on the dense paths, where adaptive damping ran
    /// out) and only ever shrink the next step, which is conservative; they
    /// keep setting it, so dense trajectories stay as cached before
    /// `sample.diffusion` version 3.
    fn unconverged_move_is_noise(&self) -> bool {
        false
    }

    /// The posterior mean of the last solve.
    fn estimate<'s>(&self, state: &'s Self::State) -> &'s [f64];
    /// Draws variable `i` from its scalar marginal under the last solved measure.
    fn draw_site(&self, state: &Self::State, i: usize, rng: &mut Rng) -> f64;

    /// A configuration from the product of the scalar marginals; on the sphere,
    /// the posterior mean projected onto `|x|^2 = N`.
    fn draw_all(&self, state: &Self::State, rng: &mut Rng) -> Vec<f64> {
        if self.prior() == Prior::Spherical {
            let mut x = self.estimate(state).to_vec();
            project_to_sphere(&mut x);
            return x;
        }
        (0..self.n()).map(|i| self.draw_site(state, i, rng)).collect()
    }
}

impl PosteriorMean for Amp {
    type State = AmpState;

    fn n(&self) -> usize {
        Amp::n(self)
    }

    fn prior(&self) -> Prior {
        self.prior
    }

    fn start(&self) -> AmpState {
        Amp::start(self)
    }

    fn solve(&self, state: &mut AmpState, measure: &Measure) -> Solve {
        Amp::solve(self, state, measure)
    }

    fn solve_batch(&self, states: &mut [AmpState], measures: &[Measure]) -> Vec<Solve> {
        Amp::solve_batch(self, states, measures)
    }

    fn estimate<'s>(&self, state: &'s AmpState) -> &'s [f64] {
        &state.x_hat
    }

    /// `P0(s) exp(s (B_i + y_i) - s^2 (A + t)/2)`; sphere: the exact marginal of
    /// coordinate `i` under the von Mises-Fisher law of the free coordinates
    /// (those with `v > 0`), so fixed coordinates keep `|x|^2 <= N`.
    fn draw_site(&self, state: &AmpState, i: usize, rng: &mut Rng) -> f64 {
        if self.prior == Prior::Spherical {
            return match state.sphere {
                Some(channel) => channel.draw_coordinate(&state.field, |j| state.v[j] > 0.0, i, rng),
                None => state.x_hat[i] + state.v[i].sqrt() * rng.sample::<f64, _>(StandardNormal),
            };
        }
        denoiser::draw(self.prior, state.field[i], state.precision, rng)
    }
}
