//! Several independent AMP runs advanced in lock step, so that one pass over
//! a dense coupling matrix serves up to `COLUMNS` of them (the product is
//! memory-bound: the batch costs little more than one run). Each run keeps its
//! own measure, iteration count and convergence test; converged runs stop
//! while the others go on. The packed tensor has no batched contraction (at
//! the sizes it is used, N ~ 200, it is compute-bound), so its runs are solved
//! one after the other.
//!
//! A run's result depends on the batch only through the rounding of the
//! contraction (different lane order), never on the thread count.

use super::columns::{Columns, COLUMNS};
use super::dense::DenseMatrix;
use super::{Amp, AmpState, Couplings, Measure, Solve};

impl Amp {
    /// Solves `states[c]` for `measures[c]`, `COLUMNS` runs per matrix pass.
    pub fn solve_batch(&self, states: &mut [AmpState], measures: &[Measure]) -> Vec<Solve> {
        assert_eq!(states.len(), measures.len());
        if states.len() == 1 || matches!(self.couplings, Couplings::Tensor(_)) {
            return states.iter_mut().zip(measures).map(|(s, m)| self.solve(s, m)).collect();
        }
        let mut solves = Vec::with_capacity(states.len());
        for (group, group_measures) in states.chunks_mut(COLUMNS).zip(measures.chunks(COLUMNS)) {
            solves.extend(match &self.couplings {
                Couplings::DenseF32(m) => self.solve_columns(m, group, group_measures),
                Couplings::DenseF64(m) => self.solve_columns(m, group, group_measures),
                Couplings::Tensor(_) => unreachable!("handled above"),
            });
        }
        solves
    }

    /// Lock-step iterations of up to `COLUMNS` runs with one batched product each.
    fn solve_columns<T: Columns>(
        &self,
        matrix: &DenseMatrix<T>,
        states: &mut [AmpState],
        measures: &[Measure],
    ) -> Vec<Solve> {
        let n = self.n();
        let mut iterations = vec![0; states.len()];
        let mut converged = vec![false; states.len()];
        let mut x = vec![[T::default(); COLUMNS]; n];
        let mut out = vec![[0.0; COLUMNS]; n];
        let active = |c: usize, iterations: &[usize], converged: &[bool]| {
            !converged[c] && iterations[c] < self.params.max_iterations
        };
        while (0..states.len()).any(|c| active(c, &iterations, &converged)) {
            for (c, state) in states.iter().enumerate() {
                let live = active(c, &iterations, &converged);
                x.iter_mut().zip(&state.x_hat).for_each(|(xj, &v)| xj[c] = T::from_f64(if live { v } else { 0.0 }));
            }
            matrix.apply_columns(&x, &mut out);
            for (c, (state, measure)) in states.iter_mut().zip(measures).enumerate() {
                if active(c, &iterations, &converged) {
                    state.s.iter_mut().zip(&out).for_each(|(s, o)| *s = o[c]);
                    converged[c] = self.finish_step(state, measure) < self.params.tol;
                    iterations[c] += 1;
                }
            }
        }
        states
            .iter()
            .enumerate()
            .map(|(c, state)| Solve {
                iterations: iterations[c],
                converged: converged[c],
                m_hat_sq: state.m_hat_sq(),
                overlap: self.reference.as_deref().map(|r| state.overlap(r)),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amp::{AmpParams, Precision};
    use crate::models::{Disorder, Prior};

    #[test]
    fn batched_solves_match_single_solves() {
        let d = Disorder::spiked_matrix(150, Prior::SparseRademacher { rho: 0.3 }, 0.05, 7);
        let amp = Amp::new(&d, Precision::F64, AmpParams { damping: 0.2, tol: 1e-9, max_iterations: 500 });
        let x_star = d.planted_f64().unwrap();
        let ys: Vec<Vec<f64>> = (0..11).map(|c| x_star.iter().map(|v| 0.1 * c as f64 * v).collect()).collect();
        let measures: Vec<Measure> = ys.iter().enumerate().map(|(c, y)| Measure::tilted(y, 0.1 * c as f64)).collect();
        let mut batch: Vec<AmpState> = (0..11).map(|_| amp.start()).collect();
        let solves = amp.solve_batch(&mut batch, &measures);
        for (c, measure) in measures.iter().enumerate() {
            let mut single = amp.start();
            let solve = amp.solve(&mut single, measure);
            assert!(solve.converged && solves[c].converged);
            let diff = single.x_hat.iter().zip(&batch[c].x_hat).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            assert!(diff < 1e-7, "column {c}: {diff}");
        }
    }
}
