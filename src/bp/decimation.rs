//! BP-guided decimation with local re-convergence: the autoregressive sampler
//! of the sparse model. Vertices are fixed `block` at a time in a (random)
//! order, each drawn from its BP marginal `P(x_i = +) = (1 + tanh H_i)/2`
//! under the current decimated measure (sampling, not maximising); then BP is
//! re-converged by residual updates spreading out from the hyperedges of the
//! newly fixed vertices: a hyperedge is recomputed when one of its members'
//! cavity fields has moved by more than `tol`, and a changed message queues the
//! other hyperedges of its vertex (not through fixed vertices, whose field is
//! pinned). Below the clustering threshold a perturbation decays within a
//! few hops, so a re-convergence costs O(degree) updates rather than a sweep of
//! all M hyperedges: `block = 1`, the exact chain rule with exact marginals
//! (BP on a tree), is affordable at N = 10^5. The queue is first-in first-out
//! on one thread per trajectory: the result does not depend on the thread
//! count. Marginals and the path record (`|x̂|^2/N`, overlap) are taken at
//! `records` evenly spaced points of theta, not after every block.

use std::collections::VecDeque;

use rand::seq::SliceRandom;
use rand::Rng as _;

use super::{update_edge_with, Bp, BpState, SharedFields, CLAMP, K_MAX};
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

/// The residual queue of one trajectory (allocated once).
struct Residuals {
    queue: VecDeque<u32>,
    queued: Vec<bool>,
}

impl Residuals {
    fn new(m: usize) -> Residuals {
        Residuals { queue: VecDeque::new(), queued: vec![false; m] }
    }

    fn push(&mut self, a: usize) {
        if !self.queued[a] {
            self.queued[a] = true;
            self.queue.push_back(a as u32);
        }
    }

    /// Queues every hyperedge of vertex `i` but `except`.
    fn push_vertex(&mut self, bp: &Bp, i: usize, except: usize) {
        for &s in bp.graph.vertex_slots(i) {
            let a = s as usize / bp.graph.k;
            if a != except {
                self.push(a);
            }
        }
    }

    fn clear(&mut self) {
        for a in self.queue.drain(..) {
            self.queued[a as usize] = false;
        }
    }
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
        let (n, m) = (bp.graph.n, bp.graph.m());
        let mut sites: Vec<usize> = (0..n).collect();
        if self.order == Order::Random {
            sites.shuffle(rng);
        }
        let mut state = bp.uninformed();
        let mut recorder = PathRecorder::default();
        let solve = bp.iterate(&mut state);
        recorder.record(0.0, &state.x_hat, &solve);
        let mut residuals = Residuals::new(m);
        let records = self.records.clamp(1, n.div_ceil(self.block));
        let (mut recorded, mut updates, mut converged) = (0, 0usize, true);
        let budget = bp.params.max_iterations.max(1).saturating_mul(m);
        for start in (0..n).step_by(self.block) {
            let end = (start + self.block).min(n);
            // Draws from the marginals before this block's re-convergence.
            for &i in &sites[start..end] {
                let x_hat = state.field[i].tanh();
                let value = if rng.random::<f64>() < 0.5 * (1.0 + x_hat) { 1.0 } else { -1.0 };
                state.field[i] += CLAMP * value - state.external[i];
                state.external[i] = CLAMP * value;
                residuals.push_vertex(bp, i, usize::MAX);
            }
            let (done, ok) = propagate(bp, &mut state, &mut residuals, budget);
            updates += done;
            converged &= ok;
            if end * records >= (recorded + 1) * n {
                observer.checkpoint()?;
                bp.refresh_fields(&mut state);
                bp.update_marginals(&mut state);
                recorder.record(end as f64 / n as f64, &state.x_hat, &bp.summary(&state, updates.div_ceil(m), converged));
                (recorded, updates, converged) = (recorded + 1, 0, true);
                observer.progress(recorded as u64, records as u64);
            }
        }
        let sample = state.external.iter().map(|&b| b.signum()).collect();
        Ok(recorder.finish(sample))
    }
}

/// Residual updates until no queued hyperedge is left or `budget` updates are
/// spent (then returns `false`: not converged); returns the updates made.
fn propagate(bp: &Bp, state: &mut BpState, residuals: &mut Residuals, budget: usize) -> (usize, bool) {
    let (k, tol, damping) = (bp.graph.k, bp.params.tol, bp.params.damping);
    let field = SharedFields(state.field.as_mut_ptr(), state.field.len());
    let mut delta = [0.0; K_MAX];
    let mut updates = 0;
    while let Some(a) = residuals.queue.pop_front() {
        let a = a as usize;
        residuals.queued[a] = false;
        if updates == budget {
            residuals.clear();
            return (updates, false);
        }
        updates += 1;
        let members = bp.graph.edge(a);
        let change = update_edge_with(&mut state.u[a * k..(a + 1) * k], members, &field, damping, &mut delta);
        for (j, &v) in members.iter().enumerate() {
            if delta[j].abs() > tol && state.external[v as usize].abs() < CLAMP {
                residuals.push_vertex(bp, v as usize, a);
            }
        }
        if damping > 0.0 && change > tol {
            residuals.push(a); // a damped message has not reached its target yet
        }
    }
    (updates, true)
}
