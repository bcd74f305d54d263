//! Exact Gibbs averages of small instances by enumeration of every
//! configuration: `mu(x) ∝ P0(x) exp(l(x))`, with `P0` contributing nothing for
//! ±1 spins and `log(1-rho)` or `log(rho/2)` per site for {0, ±1} spins.
//! Rademacher up to n = 20 (2^n states), sparse up to n = 12 (3^n states).
//! Gives the mean energy per spin, single-site marginals `E x_i` and the exact
//! law of the overlap `q = x.y/N` of two independent samples: by a Walsh-Hadamard
//! autocorrelation for ±1 spins, by the characteristic function of `x.y` (a
//! 3x3 kernel applied along every site) for {0, ±1} spins.
//! The log-weight is updated site by site from the packed couplings, independently
//! of the samplers' code.

use serde::{Deserialize, Serialize};

use crate::models::{packed, Disorder, Prior};

/// Largest n enumerated for ±1 spins.
pub const MAX_ISING: usize = 20;
/// Largest n enumerated for {0, ±1} spins.
pub const MAX_SPARSE: usize = 12;

/// Exact Gibbs averages of one instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExactGibbs {
    pub n: usize,
    /// `log sum_x P0(x) exp(l(x))`.
    pub log_partition: f64,
    /// `E[-T l(x) / N]`.
    pub mean_energy: f64,
    /// `E[x_i]`.
    pub marginals: Vec<f64>,
    /// `E[x_i^2]` (1 for ±1 spins).
    pub densities: Vec<f64>,
    pub overlap: OverlapLaw,
}

/// Exact distribution of `q = x.y / N` for `x`, `y` independent draws: `q = k/N`, `k = -N..=N`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverlapLaw {
    pub values: Vec<f64>,
    pub probabilities: Vec<f64>,
}

impl OverlapLaw {
    /// Probability of each bin `[edges[k], edges[k+1])` (the last bin closed).
    pub fn histogram(&self, edges: &[f64]) -> Vec<f64> {
        let mut probs = vec![0.0; edges.len() - 1];
        for (&q, &p) in self.values.iter().zip(&self.probabilities) {
            let counts = crate::eval::stats::histogram(&[q], edges);
            if let Some(k) = counts.iter().position(|&c| c == 1) {
                probs[k] += p;
            }
        }
        probs
    }

    /// `E |q|`.
    pub fn mean_abs(&self) -> f64 {
        self.values.iter().zip(&self.probabilities).map(|(q, p)| q.abs() * p).sum()
    }
}

/// Enumerates the Gibbs measure of `disorder` (p = 2 or 3, ±1 or {0, ±1} spins).
pub fn enumerate(disorder: &Disorder) -> Result<ExactGibbs, String> {
    let n = disorder.n;
    let values: &[i8] = match disorder.prior {
        Prior::Rademacher if n <= MAX_ISING => &[-1, 1],
        Prior::SparseRademacher { .. } if n <= MAX_SPARSE => &[-1, 0, 1],
        Prior::Spherical => return Err("exact enumeration needs discrete spins".into()),
        _ => return Err(format!("exact enumeration limited to n <= {MAX_ISING} (±1) or {MAX_SPARSE} (sparse)")),
    };
    if disorder.p != 2 && disorder.p != 3 {
        return Err(format!("exact enumeration of order p = {}", disorder.p));
    }
    let log_l = log_weights(disorder, values);
    let log_p0 = log_priors(disorder, values);
    let log_w: Vec<f64> = log_l.iter().zip(&log_p0).map(|(a, b)| a + b).collect();
    let top = log_w.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = log_w.iter().map(|v| (v - top).exp()).collect();
    let z: f64 = w.iter().sum();
    let mean_l = w.iter().zip(&log_l).map(|(a, b)| a * b).sum::<f64>() / z;
    let moment = |power: i32| -> Vec<f64> {
        (0..n)
            .map(|i| {
                let value = |idx: usize| (values[digit(idx, i, values.len())] as f64).powi(power);
                w.iter().enumerate().map(|(idx, wx)| wx * value(idx)).sum::<f64>() / z
            })
            .collect()
    };
    let counts = if values.len() == 2 { overlap_ising(&w, n) } else { overlap_ternary(&w, n) };
    let overlap = OverlapLaw {
        values: (0..=2 * n).map(|k| (k as f64 - n as f64) / n as f64).collect(),
        probabilities: counts.iter().map(|c| (c / (z * z)).max(0.0)).collect(),
    };
    Ok(ExactGibbs {
        n,
        log_partition: top + z.ln(),
        mean_energy: -disorder.temperature * mean_l / n as f64,
        marginals: moment(1),
        densities: moment(2),
        overlap,
    })
}

/// Digit `i` of `idx` in base `base` (site i's value index).
fn digit(idx: usize, i: usize, base: usize) -> usize {
    idx / base.pow(i as u32) % base
}

/// `l(x)` for every configuration, index = digits of the value indices (site 0 lowest).
fn log_weights(disorder: &Disorder, values: &[i8]) -> Vec<f64> {
    let (n, base) = (disorder.n, values.len());
    let mut digits = vec![0usize; n];
    let mut x: Vec<f64> = vec![values[0] as f64; n];
    let mut l = disorder.log_weight(&x);
    let total = base.pow(n as u32);
    let mut out = Vec::with_capacity(total);
    out.push(l);
    for _ in 1..total {
        // Odometer step: carry through sites at their last value, then bump one.
        let mut i = 0;
        while digits[i] == base - 1 {
            digits[i] = 0;
            l += change(disorder, &mut x, i, values[0] as f64);
            i += 1;
        }
        digits[i] += 1;
        l += change(disorder, &mut x, i, values[digits[i]] as f64);
        out.push(l);
    }
    out
}

/// Sets `x_i = new` and returns the change of `l(x)`.
fn change(disorder: &Disorder, x: &mut [f64], i: usize, new: f64) -> f64 {
    let d = new - x[i];
    let before = disorder.quadratic_term(x);
    x[i] = new;
    let quadratic = if disorder.prior.has_fixed_norm() { 0.0 } else { disorder.quadratic_term(x) - before };
    disorder.coupling_scale * d * field(disorder, x, i) - quadratic
}

/// `d/dx_i sum_S Y_S x_S` (does not involve `x_i`), from the packed couplings.
fn field(disorder: &Disorder, x: &[f64], i: usize) -> f64 {
    let (n, y) = (disorder.n, &disorder.couplings);
    let pair = |a: usize, b: usize| packed::pair_index(n, a.min(b), a.max(b));
    if disorder.p == 2 {
        return (0..n).filter(|&j| j != i).map(|j| y[pair(i, j)] as f64 * x[j]).sum();
    }
    let mut h = 0.0;
    for j in (0..n).filter(|&j| j != i) {
        for k in (j + 1..n).filter(|&k| k != i) {
            let mut s = [i, j, k];
            s.sort_unstable();
            h += y[packed::triple_index(n, s[0], s[1], s[2])] as f64 * x[j] * x[k];
        }
    }
    h
}

/// `log P0(x)` for every configuration (zero for ±1 spins).
fn log_priors(disorder: &Disorder, values: &[i8]) -> Vec<f64> {
    let (n, base) = (disorder.n, values.len());
    let total = base.pow(n as u32);
    let Prior::SparseRademacher { rho } = disorder.prior else {
        return vec![0.0; total];
    };
    let (zero, one) = ((1.0 - rho).ln(), (rho / 2.0).ln());
    (0..total).map(|idx| (0..n).map(|i| if values[digit(idx, i, base)] == 0 { zero } else { one }).sum()).collect()
}

/// `sum_{x,y} w(x) w(y) [x.y = k]` for k = -n..=n, ±1 spins: the XOR
/// autocorrelation of `w` by two Walsh-Hadamard transforms.
fn overlap_ising(w: &[f64], n: usize) -> Vec<f64> {
    let mut t = w.to_vec();
    walsh_hadamard(&mut t);
    t.iter_mut().for_each(|v| *v *= *v);
    walsh_hadamard(&mut t);
    let scale = 1.0 / w.len() as f64;
    let mut counts = vec![0.0; 2 * n + 1];
    for (tau, c) in t.iter().enumerate() {
        // y = x with the sites in tau flipped: x.y = n - 2 |tau|.
        let flipped = tau.count_ones() as usize;
        counts[2 * n - 2 * flipped] += c * scale;
    }
    counts
}

fn walsh_hadamard(a: &mut [f64]) {
    let mut h = 1;
    while h < a.len() {
        for block in a.chunks_exact_mut(2 * h) {
            let (lo, hi) = block.split_at_mut(h);
            for (u, v) in lo.iter_mut().zip(hi.iter_mut()) {
                (*u, *v) = (*u + *v, *u - *v);
            }
        }
        h *= 2;
    }
}

/// `sum_{x,y} w(x) w(y) [x.y = k]` for {0, ±1} spins, from the characteristic
/// function `S(theta) = sum w(x) w(y) exp(i theta x.y)` at the 2n+1 roots of unity.
fn overlap_ternary(w: &[f64], n: usize) -> Vec<f64> {
    let m = 2 * n + 1;
    let tau = 2.0 * std::f64::consts::PI / m as f64;
    // S(-theta) = conj S(theta): only theta_0..theta_n are computed.
    let s: Vec<(f64, f64)> = (0..=n).map(|f| characteristic(w, n, tau * f as f64)).collect();
    (0..m)
        .map(|j| {
            let k = j as f64 - n as f64;
            let mut total = s[0].0;
            for (f, &(re, im)) in s.iter().enumerate().skip(1) {
                let phase = tau * f as f64 * k;
                total += 2.0 * (re * phase.cos() + im * phase.sin());
            }
            total / m as f64
        })
        .collect()
}

/// `sum_{x,y} w(x) w(y) exp(i theta x.y)` by applying the kernel
/// `K(a,b) = exp(i theta a b)` along each site of a 3^n array.
fn characteristic(w: &[f64], n: usize, theta: f64) -> (f64, f64) {
    let (c, s) = (theta.cos(), theta.sin());
    let mut re = w.to_vec();
    let mut im = vec![0.0; w.len()];
    let mut stride = 1;
    for _ in 0..n {
        for start in (0..w.len()).filter(|idx| (idx / stride) % 3 == 0) {
            let (a, b, d) = (start, start + stride, start + 2 * stride);
            let (ar, ai, br, bi, dr, di) = (re[a], im[a], re[b], im[b], re[d], im[d]);
            // Row -1: e^{i th} u_{-1} + u_0 + e^{-i th} u_{+1}; row 0: the sum; row +1: mirrored.
            re[a] = c * ar - s * ai + br + c * dr + s * di;
            im[a] = s * ar + c * ai + bi - s * dr + c * di;
            re[b] = ar + br + dr;
            im[b] = ai + bi + di;
            re[d] = c * ar + s * ai + br + c * dr - s * di;
            im[d] = -s * ar + c * ai + bi + s * dr + c * di;
        }
        stride *= 3;
    }
    let dot = |v: &[f64]| w.iter().zip(v).map(|(a, b)| a * b).sum::<f64>();
    (dot(&re), dot(&im))
}

#[cfg(test)]
mod tests;
