//! One configuration of discrete spins (±1 or {0, ±1}) with its local fields
//! `h_i = dl/dx_i`, its log-weight `l(x)` and the single-site updates
//! (Metropolis and heat-bath) at a tempering scale `s`: the target is
//! `P0(x) exp(s l(x))`. Fields are kept incrementally: an accepted change of
//! `x_i` by `d` costs one coupling row (p = 2) or one tensor slice (p = 3),
//! a rejected proposal costs O(1).

use rand::Rng as _;
use serde::{Deserialize, Serialize};

use super::kernels;
use super::storage::{Coupling, Interactions};
use crate::models::{Disorder, Prior};
use crate::rng::Rng;

/// Sites decided together before their coupling rows are added (p = 2, ±1).
const BATCH: usize = 32;

/// The single-site update rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Rule {
    /// Propose another value (the flip for ±1, one of the two others for {0, ±1}).
    #[default]
    Metropolis,
    /// Draw the site from its conditional distribution.
    HeatBath,
}

/// Prior and global quadratic term of the sparse prior (PHYSICS.md section 1):
/// `quadratic = kappa m (m - 1)` with `m` the number of non-zero spins.
#[derive(Debug, Clone, Copy)]
struct Sparse {
    log_zero: f64,
    log_one: f64,
    kappa: f64,
}

/// The couplings and the prior terms one chain needs.
#[derive(Debug, Clone)]
pub struct SpinModel<S> {
    pub interactions: Interactions<S>,
    sparse: Option<Sparse>,
}

impl<S: Coupling> SpinModel<S> {
    /// Sampler layout of a p = 2 or 3 disorder with Rademacher or sparse prior.
    ///
    /// # Panics
    /// If `disorder.p` is not 2 or 3 (the sampler entry points check this first).
    pub fn new(disorder: &Disorder) -> SpinModel<S> {
        let sparse = match disorder.prior {
            Prior::SparseRademacher { rho } => Some(Sparse {
                log_zero: (1.0 - rho).ln(),
                log_one: (rho / 2.0).ln(),
                kappa: 1.0 / (4.0 * disorder.delta * disorder.n as f64),
            }),
            _ => None,
        };
        SpinModel { interactions: Interactions::new(disorder), sparse }
    }

    pub fn n(&self) -> usize {
        self.interactions.n()
    }

    fn log_prior(&self, v: i8) -> f64 {
        match self.sparse {
            Some(s) if v == 0 => s.log_zero,
            Some(s) => s.log_one,
            None => 0.0,
        }
    }

    fn quadratic(&self, nonzero: usize) -> f64 {
        self.sparse.map_or(0.0, |s| s.kappa * (nonzero as f64) * (nonzero as f64 - 1.0))
    }
}

/// A spin configuration with its fields and log-weight (the fields are kept
/// incrementally, so a checkpoint saves them rather than recomputing them).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SpinState {
    x: Vec<i8>,
    xf: Vec<f64>,
    h: Vec<f64>,
    log_weight: f64,
    nonzero: usize,
}

impl SpinState {
    /// Computes fields and `l(x)` from scratch (O(N^2) for p = 2, O(N^3) for p = 3).
    pub fn new<S: Coupling>(model: &SpinModel<S>, x: Vec<i8>) -> SpinState {
        let n = model.n();
        assert_eq!(x.len(), n, "SpinState: configuration has the wrong length");
        let xf: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        let mut h = vec![0.0; n];
        let order = match &model.interactions {
            Interactions::Pairs { matrix, .. } => {
                for (hi, row) in h.iter_mut().zip(matrix.chunks_exact(n.max(1))) {
                    *hi = row.iter().zip(&xf).map(|(c, v)| c.to_f64() * v).sum();
                }
                2.0
            }
            Interactions::Triples { slices, .. } => {
                let width = slices.len() / n.max(1);
                let mut g = vec![0.0; n];
                for (i, hi) in h.iter_mut().enumerate() {
                    g.iter_mut().for_each(|v| *v = 0.0);
                    kernels::packed_symmetric_matvec_add(&slices[i * width..(i + 1) * width], &xf, 1.0, &mut g);
                    *hi = 0.5 * g.iter().zip(&xf).map(|(a, b)| a * b).sum::<f64>();
                }
                3.0
            }
        };
        let nonzero = x.iter().filter(|&&v| v != 0).count();
        let coupling: f64 = h.iter().zip(&xf).map(|(a, b)| a * b).sum::<f64>() / order;
        let log_weight = coupling - model.quadratic(nonzero);
        SpinState { x, xf, h, log_weight, nonzero }
    }

    pub fn spins(&self) -> &[i8] {
        &self.x
    }

    /// `l(x)` (at scale 1), kept incrementally.
    pub fn log_weight(&self) -> f64 {
        self.log_weight
    }

    /// Local field `dl/dx_i` of site `i`.
    pub fn field(&self, i: usize) -> f64 {
        self.h[i]
    }

    /// One sequential sweep `i = 0..N-1`, one uniform per site; returns the
    /// number of sites whose value changed.
    pub fn sweep<S: Coupling>(&mut self, model: &SpinModel<S>, rule: Rule, scale: f64, rng: &mut Rng) -> u64 {
        match (&model.interactions, model.sparse.is_some()) {
            (Interactions::Pairs { matrix, n }, false) => self.sweep_ising_pairs(matrix, *n, rule, scale, rng),
            _ => self.sweep_general(model, rule, scale, rng),
        }
    }

    /// ±1 spins with p = 2, in batches of `BATCH` sites: each site's field is
    /// brought up to date from the flips earlier in its batch (by symmetry
    /// `c_jk = c_kj`, these couplings sit next to each other in row k), then
    /// the flipped rows are added to all fields, streamed together
    /// (`kernels::add_rows`). Every field receives the same additions in the
    /// same order as flip-by-flip updates, so the result is bit-identical.
    fn sweep_ising_pairs<S: Coupling>(&mut self, matrix: &[S], n: usize, rule: Rule, scale: f64, rng: &mut Rng) -> u64 {
        let mut flips: Vec<(usize, f64)> = Vec::with_capacity(BATCH);
        let mut rows: Vec<(f64, &[S])> = Vec::with_capacity(BATCH);
        let mut changed = 0;
        for start in (0..n).step_by(BATCH) {
            flips.clear();
            for k in start..(start + BATCH).min(n) {
                let row_k = &matrix[k * n..(k + 1) * n];
                let mut hk = self.h[k];
                for &(j, d) in &flips {
                    hk += d * row_k[j].to_f64();
                }
                let delta = -2.0 * self.xf[k] * hk;
                let u: f64 = rng.random();
                if ising_accepts(rule, self.x[k], delta, scale, hk, u) {
                    flips.push((k, -2.0 * self.xf[k]));
                    self.x[k] = -self.x[k];
                    self.xf[k] = -self.xf[k];
                    self.log_weight += delta;
                }
            }
            rows.clear();
            rows.extend(flips.iter().map(|&(j, d)| (d, &matrix[j * n..(j + 1) * n])));
            kernels::add_rows(&mut self.h, &rows);
            changed += flips.len() as u64;
        }
        changed
    }

    /// The same sweep site by site, for any prior and order: the reference
    /// implementation (`sweep` gives bit-identical results, faster for ±1, p = 2).
    pub fn sweep_general<S: Coupling>(&mut self, model: &SpinModel<S>, rule: Rule, scale: f64, rng: &mut Rng) -> u64 {
        let mut changed = 0;
        for i in 0..self.x.len() {
            let u: f64 = rng.random();
            let choice = match (model.sparse.is_some(), rule) {
                (true, Rule::Metropolis) => self.sparse_metropolis(model, i, scale, u),
                (true, Rule::HeatBath) => self.sparse_heat_bath(model, i, scale, u),
                (false, _) => {
                    let delta = -2.0 * self.xf[i] * self.h[i];
                    ising_accepts(rule, self.x[i], delta, scale, self.h[i], u).then_some(-self.x[i])
                }
            };
            if let Some(new) = choice {
                let delta = self.delta_log_weight(model, i, new);
                self.change(model, i, new, delta);
                changed += 1;
            }
        }
        changed
    }

    /// `l(x with x_i = new) - l(x)`.
    fn delta_log_weight<S: Coupling>(&self, model: &SpinModel<S>, i: usize, new: i8) -> f64 {
        let old = self.x[i];
        let moved = (new as i64 * new as i64) - (old as i64 * old as i64);
        let nonzero = (self.nonzero as i64 + moved) as usize;
        (new - old) as f64 * self.h[i] - (model.quadratic(nonzero) - model.quadratic(self.nonzero))
    }

    /// Log of the target ratio for `x_i: old -> new` at scale `s` (prior not tempered).
    fn log_ratio<S: Coupling>(&self, model: &SpinModel<S>, i: usize, new: i8, scale: f64) -> f64 {
        scale * self.delta_log_weight(model, i, new) + model.log_prior(new) - model.log_prior(self.x[i])
    }

    /// Proposes one of the two other values with probability 1/2 each (the first
    /// half of `u` chooses, the rescaled remainder accepts).
    fn sparse_metropolis<S: Coupling>(&self, model: &SpinModel<S>, i: usize, scale: f64, u: f64) -> Option<i8> {
        let old = self.x[i];
        let others = [(old + 2) % 3 - 1, (old + 3) % 3 - 1];
        let (new, v) = if u < 0.5 { (others[0], 2.0 * u) } else { (others[1], 2.0 * u - 1.0) };
        let r = self.log_ratio(model, i, new, scale);
        (r >= 0.0 || v < r.exp()).then_some(new)
    }

    /// Draws `x_i` from `P0(s) exp(s (l(x_i = s) - l(x)))` over {-1, 0, 1}.
    fn sparse_heat_bath<S: Coupling>(&self, model: &SpinModel<S>, i: usize, scale: f64, u: f64) -> Option<i8> {
        let r = [-1i8, 0, 1].map(|v| self.log_ratio(model, i, v, scale));
        let top = r.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let w = r.map(|v| (v - top).exp());
        let target = u * (w[0] + w[1] + w[2]);
        let new = if target < w[0] {
            -1
        } else if target < w[0] + w[1] {
            0
        } else {
            1
        };
        (new != self.x[i]).then_some(new)
    }

    /// Sets `x_i = new` and updates fields, counts and `l` (`delta = l_new - l_old`).
    fn change<S: Coupling>(&mut self, model: &SpinModel<S>, i: usize, new: i8, delta: f64) {
        let d = (new - self.x[i]) as f64;
        self.nonzero = (self.nonzero as i64 + (new as i64).abs() - (self.x[i] as i64).abs()) as usize;
        match &model.interactions {
            Interactions::Pairs { n, matrix } => kernels::axpy(&mut self.h, d, &matrix[i * n..(i + 1) * n]),
            Interactions::Triples { slices, n } => {
                let width = slices.len() / n;
                let slice = &slices[i * width..(i + 1) * width];
                // Slice i is zero on row/column i, so x_i's own value does not enter.
                kernels::packed_symmetric_matvec_add(slice, &self.xf, d, &mut self.h);
            }
        }
        self.x[i] = new;
        self.xf[i] = new as f64;
        self.log_weight += delta;
    }
}

/// Whether ±1 site with value `x` and field `h` flips (`delta = -2 x h` is the
/// change of `l`): Metropolis `u < exp(s delta)`, heat-bath `x_new = +1` with
/// probability `1 / (1 + exp(-2 s h))`.
#[inline(always)]
fn ising_accepts(rule: Rule, x: i8, delta: f64, scale: f64, h: f64, u: f64) -> bool {
    match rule {
        Rule::Metropolis => delta >= 0.0 || u < (scale * delta).exp(),
        Rule::HeatBath => {
            let up = u * (1.0 + (-2.0 * scale * h).exp()) < 1.0;
            up != (x > 0)
        }
    }
}

#[cfg(test)]
mod tests;
