//! Several independent AMP runs advanced in lock step, so that one pass over
//! a dense coupling matrix serves up to `COLUMNS` of them (the product is
//! memory-bound: the batch costs little more than one run), and one pass over
//! the packed 3-tensor serves all of them (`contract_many`: at N = 400 the
//! tensor, 42 MB, streams from memory; at N = 200 it sits in L3). Each run
//! keeps its own measure, iteration count and convergence test; converged
//! runs stop while the others go on.
//!
//! A dense run's result depends on the batch only through the rounding of the
//! contraction (different lane order); a tensor run's is bit-identical to its
//! single solve. Neither depends on the thread count.

use super::columns::{Columns, COLUMNS};
use super::dense::DenseMatrix;
use super::tensor::ManyWork;
use super::{Amp, AmpState, Couplings, Measure, Solve};

impl Amp {
    /// Solves `states[c]` for `measures[c]`: `COLUMNS` runs per dense matrix
    /// pass, all runs per tensor pass (`PackedTensor::contract_many`).
    pub fn solve_batch(&self, states: &mut [AmpState], measures: &[Measure]) -> Vec<Solve> {
        assert_eq!(states.len(), measures.len());
        if states.len() == 1 {
            return vec![self.solve(&mut states[0], &measures[0])];
        }
        if let Couplings::Tensor(tensor) = &self.couplings {
            let mut work = ManyWork::default();
            return self.solve_lockstep(states, measures, |_, live| {
                let (xs, mut outs): (Vec<&[f64]>, Vec<&mut [f64]>) =
                    live.iter_mut().map(|state| (&state.x_hat[..], &mut state.s[..])).unzip();
                tensor.contract_many(&xs, &mut outs, &mut work);
            });
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
        let mut x = vec![[T::default(); COLUMNS]; n];
        let mut out = vec![[0.0; COLUMNS]; n];
        self.solve_lockstep(states, measures, |columns, live| {
            x.iter_mut().for_each(|row| row.fill(T::default()));
            for (&c, state) in columns.iter().zip(live.iter()) {
                x.iter_mut().zip(&state.x_hat).for_each(|(xj, &v)| xj[c] = T::from_f64(v));
            }
            matrix.apply_columns(&x, &mut out);
            for (&c, state) in columns.iter().zip(live.iter_mut()) {
                state.s.iter_mut().zip(&out).for_each(|(s, o)| *s = o[c]);
            }
        })
    }

    /// Iterates every run that has neither converged nor hit the cap, one
    /// iteration each per round; `fields(indices, live)` writes `S(x̂)` into
    /// `state.s` of the live runs (`states[indices[k]]` is `live[k]`) in one
    /// pass over the couplings.
    fn solve_lockstep(
        &self,
        states: &mut [AmpState],
        measures: &[Measure],
        mut fields: impl FnMut(&[usize], &mut [&mut AmpState]),
    ) -> Vec<Solve> {
        states.iter_mut().for_each(AmpState::start_solve);
        let mut iterations = vec![0; states.len()];
        let mut converged = vec![false; states.len()];
        let active = |c: usize, iterations: &[usize], converged: &[bool]| {
            !converged[c] && iterations[c] < self.params.max_iterations
        };
        loop {
            let live_index: Vec<usize> = (0..states.len()).filter(|&c| active(c, &iterations, &converged)).collect();
            if live_index.is_empty() {
                break;
            }
            let mut live: Vec<&mut AmpState> =
                states.iter_mut().enumerate().filter(|(c, _)| live_index.contains(c)).map(|(_, s)| s).collect();
            fields(&live_index, &mut live);
            for (&c, state) in live_index.iter().zip(live) {
                let change = self.finish_step(state, &measures[c]);
                converged[c] = self.settled(state, change, &measures[c]);
                iterations[c] += 1;
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
