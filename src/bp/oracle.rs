//! BP as the posterior-mean oracle of the generative samplers
//! (`amp::oracle::PosteriorMean`): diffusion and flows tilt the fields with `y`
//! (the precision `t` is a constant for ±1 spins), decimation clamps fixed
//! vertices. Draws come from the BP marginals `P(x_i = +) = (1 + tanh H_i)/2`.

use rand::Rng as _;

use super::{Bp, BpState, CLAMP};
use crate::amp::oracle::PosteriorMean;
use crate::amp::{Measure, Solve};
use crate::models::Prior;
use crate::rng::Rng;

impl PosteriorMean for Bp {
    type State = BpState;

    fn n(&self) -> usize {
        self.graph.n
    }

    fn prior(&self) -> Prior {
        Prior::Rademacher
    }

    fn start(&self) -> BpState {
        self.uninformed()
    }

    fn solve(&self, state: &mut BpState, measure: &Measure) -> Solve {
        Bp::solve(self, state, measure)
    }

    fn unconverged_move_is_noise(&self) -> bool {
        true
    }

    fn estimate<'s>(&self, state: &'s BpState) -> &'s [f64] {
        &state.x_hat
    }

    fn draw_site(&self, state: &BpState, i: usize, rng: &mut Rng) -> f64 {
        if state.external[i].abs() >= CLAMP {
            return state.external[i].signum();
        }
        if rng.random::<f64>() < 0.5 * (1.0 + state.x_hat[i]) {
            1.0
        } else {
            -1.0
        }
    }
}
