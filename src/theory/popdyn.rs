//! Population dynamics for hypergraph bicoloring (PHYSICS.md section 13): the
//! cavity / tree-reconstruction recursion on the Galton-Watson tree of the
//! planted ensemble, along the diffusion path (Gaussian observation of `x*`
//! with signal-to-noise `gamma2 = t`) and the decimation path (a fraction
//! `theta` of the vertices revealed).
//!
//! Gauge: the planted color of every element is taken to be `+` (the model is
//! symmetric under a global flip), so an element is the pair
//! `(p^+, p^-) = ((1 + tanh g)/2, (1 - tanh g)/2)` of its gauged cavity field
//! `g = sigma h`, stored as two probabilities so that hard fields keep their
//! precision. One update draws `d ~ Poisson(k alpha)` child hyperedges; each
//! draws the other `k-1` relative colors uniformly among the `2^(k-1) - 1`
//! tuples that are not all `+` and one population element per member (flipped
//! where the relative color is `-`); the message weight of color `s` is
//! `w_s = 1 - Π_j p_j^s` (summed as positive terms), and
//! `g = B + (1/2) Σ_a ln(w_+ / w_-)` with `B = gamma2 + gamma z` (diffusion)
//! or `g = +∞` with probability `theta` (decimation). Full fields have the
//! same law as cavity fields (the excess degree of a Poisson graph is Poisson),
//! so the overlap is `E tanh g` and `q = E tanh^2 g`.
//!
//! Each iteration rebuilds the whole population from the previous one (a
//! Jacobi sweep), in fixed chunks with their own streams
//! `("popdyn", iteration << 32 | chunk)`: the result does not depend on the
//! thread count.

use rand::Rng as _;
use rand_distr::{Distribution, Poisson, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::rng::{self, Rng};

/// Elements per parallel work item.
const CHUNK: usize = 1024;
/// Message ratios `w_+ / w_-` are kept inside `[1/RATIO_MAX, RATIO_MAX]` (|u| <= 115).
const RATIO_MAX: f64 = 1e100;

/// Which path, and where on it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Observation {
    /// Gaussian observation `y = gamma2 x* + gamma z` (`gamma2 = t`).
    Diffusion { gamma2: f64 },
    /// Each vertex revealed with probability `theta`.
    Decimation { theta: f64 },
}

impl Observation {
    /// The path parameter (`gamma2` or `theta`).
    pub fn param(&self) -> f64 {
        match *self {
            Observation::Diffusion { gamma2 } => gamma2,
            Observation::Decimation { theta } => theta,
        }
    }
}

/// Ensemble and numerical parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PopSpec {
    pub k: usize,
    pub alpha: f64,
    pub population: usize,
    pub seed: u64,
}

/// A population of gauged cavity fields as `(p^+, p^-)` pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct Population {
    pub elements: Vec<[f64; 2]>,
}

/// Population averages at one iteration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    /// `E tanh g`: overlap with the planted coloring.
    pub overlap: f64,
    /// `E tanh^2 g`.
    pub q: f64,
    /// `E H_b(p^+)`, the mean binary entropy of the marginals (nats).
    pub entropy: f64,
}

/// `(p^+, p^-)` of the field `g` without cancellation.
#[inline]
pub fn probabilities(g: f64) -> [f64; 2] {
    let e = (-2.0 * g.abs()).exp();
    let (big, small) = (1.0 / (1.0 + e), e / (1.0 + e));
    if g >= 0.0 {
        [big, small]
    } else {
        [small, big]
    }
}

impl Population {
    /// All fields zero (the uninformed initialisation).
    pub fn uninformed(size: usize) -> Population {
        Population { elements: vec![[0.5, 0.5]; size] }
    }

    /// All fields `+∞` in the gauge: messages at the planted coloring (informed).
    pub fn informed(size: usize) -> Population {
        Population { elements: vec![[1.0, 0.0]; size] }
    }

    pub fn len(&self) -> usize {
        self.elements.len()
    }

    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// Overlap and `q` (fixed-chunk sums: independent of the thread count).
    pub fn moments(&self) -> Moments {
        let xlnx = |v: f64| if v > 0.0 { v * v.ln() } else { 0.0 };
        let partial: Vec<[f64; 3]> = self
            .elements
            .par_chunks(CHUNK)
            .map(|c| {
                c.iter()
                    .fold([0.0; 3], |[o, q, h], &[p, m]| [o + (p - m), q + (p - m) * (p - m), h - xlnx(p) - xlnx(m)])
            })
            .collect();
        let [o, q, h] = partial.iter().fold([0.0; 3], |[a, b, c], [o, q, h]| [a + o, b + q, c + h]);
        let n = self.len().max(1) as f64;
        Moments { overlap: o / n, q: q / n, entropy: h / n }
    }
}

/// The recursion of one ensemble (`k`, `alpha`) at one path point.
#[derive(Debug, Clone, Copy)]
pub struct Recursion {
    pub k: usize,
    pub alpha: f64,
    pub observation: Observation,
    poisson: Option<Poisson<f64>>,
}

impl Recursion {
    pub fn new(k: usize, alpha: f64, observation: Observation) -> Recursion {
        assert!((2..=16).contains(&k), "k = {k} outside 2..=16");
        let mean = k as f64 * alpha;
        let poisson = (mean > 0.0).then(|| Poisson::new(mean).expect("positive finite mean"));
        Recursion { k, alpha, observation, poisson }
    }

    /// One Jacobi iteration: `next[i]` is a fresh draw of the recursion on `current`.
    pub fn iterate(&self, current: &Population, next: &mut Population, seed: u64, iteration: u64) {
        next.elements.resize(current.len(), [0.5, 0.5]);
        next.elements.par_chunks_mut(CHUNK).enumerate().for_each(|(c, chunk)| {
            let mut rng = rng::stream(seed, "popdyn", iteration << 32 | c as u64);
            for element in chunk {
                *element = self.draw(&current.elements, &mut rng);
            }
        });
    }

    /// Runs `iterations` iterations from `population` (in place).
    pub fn run(&self, population: &mut Population, seed: u64, first_iteration: u64, iterations: usize) {
        let mut scratch = Population { elements: Vec::with_capacity(population.len()) };
        for it in 0..iterations {
            self.iterate(population, &mut scratch, seed, first_iteration + it as u64);
            std::mem::swap(population, &mut scratch);
        }
    }

    /// Number of children hyperedges.
    #[inline]
    pub fn degree(&self, rng: &mut Rng) -> usize {
        self.poisson.map_or(0, |p| p.sample(rng) as usize)
    }

    /// One new element.
    #[inline]
    pub fn draw(&self, pop: &[[f64; 2]], rng: &mut Rng) -> [f64; 2] {
        let field = match self.observation {
            Observation::Decimation { theta } => {
                if theta > 0.0 && rng.random::<f64>() < theta {
                    // Still consume the children's randomness? No: a revealed vertex needs none.
                    return [1.0, 0.0];
                }
                0.0
            }
            Observation::Diffusion { gamma2 } => gamma2 + gamma2.sqrt() * rng.sample::<f64, _>(StandardNormal),
        };
        let d = self.degree(rng);
        let mut log_ratio = 0.0;
        let mut ratio = 1.0;
        for _ in 0..d {
            let [w_plus, w_minus] = self.child_weights(pop, rng);
            ratio *= (w_plus / w_minus).clamp(1.0 / RATIO_MAX, RATIO_MAX);
            if !(1.0 / RATIO_MAX..=RATIO_MAX).contains(&ratio) {
                log_ratio += ratio.ln();
                ratio = 1.0;
            }
        }
        probabilities(field + 0.5 * (log_ratio + ratio.ln()))
    }

    /// The weights `(w_+, w_-)` a child hyperedge sends to a vertex of planted color `+`.
    #[inline]
    pub fn child_weights(&self, pop: &[[f64; 2]], rng: &mut Rng) -> [f64; 2] {
        let others = self.k - 1;
        let all_plus = (1u32 << others) - 1;
        let pattern = rng.random_range(0..all_plus); // never all-plus
        let (mut w_plus, mut w_minus) = (0.0, 0.0);
        let (mut prod_plus, mut prod_minus) = (1.0, 1.0);
        for j in 0..others {
            let [mut p, mut m] = pop[rng.random_range(0..pop.len())];
            if pattern >> j & 1 == 0 {
                std::mem::swap(&mut p, &mut m);
            }
            // 1 - Π p_j as Σ_j (1 - p_j) Π_{l<j} p_l.
            w_plus += m * prod_plus;
            prod_plus *= p;
            w_minus += p * prod_minus;
            prod_minus *= m;
        }
        [w_plus, w_minus]
    }
}

/// The annealed entropy per vertex `ln 2 + alpha ln(1 - 2^(1-k))`: the
/// free entropy of the planted ensemble at `t = 0` below condensation.
pub fn annealed_entropy(k: usize, alpha: f64) -> f64 {
    std::f64::consts::LN_2 + alpha * (1.0 - 2f64.powi(1 - k as i32)).ln()
}

/// An estimate with its statistical error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub mean: f64,
    pub err: f64,
}

impl Estimate {
    /// Mean and standard error of the mean of `values`.
    pub fn of(values: &[f64]) -> Estimate {
        let n = values.len().max(1) as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0).max(1.0);
        Estimate { mean, err: (var / n).sqrt() }
    }
}

/// The Bethe free entropy per vertex of the planted ensemble at a population,
/// `Φ = E ln Z_i + alpha E ln Z_a - k alpha E ln Z_ia`, each term averaged over
/// `samples` independent draws (streams `("bethe", chunk)`), with the error of
/// the three sample means combined. Revealed vertices keep only their color
/// (no field term). At the paramagnetic point (all fields 0, t = 0) this is
/// the annealed entropy `ln 2 + alpha ln(1 - 2^(1-k))`.
pub fn bethe(rec: &Recursion, pop: &Population, samples: usize, seed: u64) -> Estimate {
    let k = rec.k;
    let chunks = samples.div_ceil(CHUNK);
    let terms: Vec<[f64; 6]> = (0..chunks)
        .into_par_iter()
        .map(|c| {
            let mut rng = rng::stream(seed, "bethe", c as u64);
            let mut acc = [0.0; 6];
            for _ in c * CHUNK..((c + 1) * CHUNK).min(samples) {
                let terms = [
                    vertex_term(rec, &pop.elements, &mut rng),
                    edge_term(k, &pop.elements, &mut rng),
                    link_term(rec, &pop.elements, &mut rng),
                ];
                for (j, t) in terms.iter().enumerate() {
                    acc[2 * j] += t;
                    acc[2 * j + 1] += t * t;
                }
            }
            acc
        })
        .collect();
    let mut total = [0.0; 6];
    for t in &terms {
        for j in 0..6 {
            total[j] += t[j];
        }
    }
    let s = samples.max(1) as f64;
    let weights = [1.0, rec.alpha, -(k as f64) * rec.alpha];
    let (mut mean, mut var) = (0.0, 0.0);
    for j in 0..3 {
        let m = total[2 * j] / s;
        let v = (total[2 * j + 1] / s - m * m).max(0.0);
        mean += weights[j] * m;
        var += weights[j] * weights[j] * v / s;
    }
    Estimate { mean, err: var.sqrt() }
}

/// `ln(e^a + e^b)`.
fn log_add_exp(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    if hi == f64::NEG_INFINITY {
        return hi;
    }
    hi + (lo - hi).exp().ln_1p()
}

/// `ln Z_i = ln Σ_s e^{B s} Π_a w_s / (w_+ + w_-)` for a vertex of planted color `+`.
fn vertex_term(rec: &Recursion, pop: &[[f64; 2]], rng: &mut Rng) -> f64 {
    let (field, revealed) = match rec.observation {
        Observation::Decimation { theta } => (0.0, theta > 0.0 && rng.random::<f64>() < theta),
        Observation::Diffusion { gamma2 } => (gamma2 + gamma2.sqrt() * rng.sample::<f64, _>(StandardNormal), false),
    };
    let (mut plus, mut minus) = (field, -field);
    let d = rec.degree(rng);
    for _ in 0..d {
        let [wp, wm] = rec.child_weights(pop, rng);
        let norm = wp + wm;
        plus += (wp / norm).ln();
        minus += (wm / norm).ln();
    }
    // Control variate: each child contributes about -ln 2, and E d = k alpha;
    // adding (d - k alpha) ln 2 keeps the mean and removes most of the variance.
    let control = (d as f64 - rec.k as f64 * rec.alpha) * std::f64::consts::LN_2;
    control + if revealed { plus } else { log_add_exp(plus, minus) }
}

/// Draws the relative colors of a planted hyperedge (not monochromatic) and its
/// members' cavity probabilities in actual colors.
fn planted_edge(k: usize, pop: &[[f64; 2]], rng: &mut Rng) -> [[f64; 2]; 16] {
    let pattern = rng.random_range(1..(1u32 << k) - 1);
    let mut members = [[0.0; 2]; 16];
    for (j, member) in members.iter_mut().enumerate().take(k) {
        let [p, m] = pop[rng.random_range(0..pop.len())];
        *member = if pattern >> j & 1 == 1 { [p, m] } else { [m, p] };
    }
    members
}

/// `ln Z_a = ln(1 - Π p_j^+ - Π p_j^-)` over a planted hyperedge.
fn edge_term(k: usize, pop: &[[f64; 2]], rng: &mut Rng) -> f64 {
    let members = planted_edge(k, pop, rng);
    let (mut not_all_plus, mut prefix) = (0.0, 1.0);
    let mut all_minus = 1.0;
    for [p, m] in members.iter().take(k) {
        not_all_plus += m * prefix;
        prefix *= p;
        all_minus *= m;
    }
    (not_all_plus - all_minus).max(f64::MIN_POSITIVE).ln()
}

/// `ln Z_ia = ln Σ_s ν_{i->a}(s) ν̂_{a->i}(s)` on a planted hyperedge (i = member 0).
fn link_term(rec: &Recursion, pop: &[[f64; 2]], rng: &mut Rng) -> f64 {
    let k = rec.k;
    let members = planted_edge(k, pop, rng);
    let (mut w_plus, mut w_minus, mut prod_plus, mut prod_minus) = (0.0, 0.0, 1.0, 1.0);
    for [p, m] in members.iter().take(k).skip(1) {
        w_plus += m * prod_plus;
        prod_plus *= p;
        w_minus += p * prod_minus;
        prod_minus *= m;
    }
    let [p0, m0] = members[0];
    ((p0 * w_plus + m0 * w_minus) / (w_plus + w_minus)).max(f64::MIN_POSITIVE).ln()
}

#[cfg(test)]
#[path = "popdyn_tests.rs"]
mod tests;
