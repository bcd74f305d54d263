//! Sampling a trained variational autoregressive network (PHYSICS.md section
//! 14): ancestral draws with their exact `log q`, the independence
//! Metropolis-Hastings chain that turns them into exact (asymptotically)
//! Boltzmann samples, and importance weights `w = exp(l(x)) / q(x)` with their
//! effective sample size and the `log Z` estimate.
//!
//! Ancestral sampling costs one forward pass per configuration, not `n`: a
//! unit of degree `d` (in any layer) only sees inputs `x_0..x_{d-1}`, so it is
//! final as soon as those are drawn and is computed exactly once, in degree
//! order, just before output `d` needs it. Every configuration has its own
//! random stream, so the draws do not depend on the thread count.

use rand::Rng as _;
use rayon::prelude::*;

use crate::models::Disorder;
use crate::observe::{Cancelled, Observer};
use crate::rng::{self, Rng};
use crate::train::made::MadeWeights;

/// A MADE network prepared for sampling: weights transposed to `(out, in)`
/// rows and hidden units grouped by degree.
#[derive(Debug, Clone)]
pub struct AncestralSampler {
    n: usize,
    /// Per layer: `(w^T` row-major `(out, in)`, bias).
    layers: Vec<(Vec<f64>, Vec<f64>)>,
    widths: Vec<usize>,
    /// Per hidden layer (index `l - 1`) and degree `d`, the units of degree `d`.
    by_degree: Vec<Vec<Vec<usize>>>,
}

/// One ancestral draw: the ±1 configuration and its `log q`.
#[derive(Debug, Clone, PartialEq)]
pub struct Draw {
    pub x: Vec<f64>,
    pub log_q: f64,
}

impl AncestralSampler {
    pub fn new(weights: &MadeWeights) -> AncestralSampler {
        let shape = weights.shape;
        let widths = shape.widths();
        let layers = weights
            .layers
            .iter()
            .enumerate()
            .map(|(l, (w, b))| {
                let (fan_in, fan_out) = (widths[l], widths[l + 1]);
                let mut wt = vec![0.0; fan_in * fan_out];
                for a in 0..fan_in {
                    for o in 0..fan_out {
                        wt[o * fan_in + a] = w[a * fan_out + o];
                    }
                }
                (wt, b.clone())
            })
            .collect();
        let by_degree = (1..=shape.depth)
            .map(|l| {
                let mut groups = vec![Vec::new(); shape.n + 1];
                for (u, &d) in shape.degrees(l).iter().enumerate() {
                    groups[d.min(shape.n)].push(u);
                }
                groups
            })
            .collect();
        AncestralSampler { n: shape.n, layers, widths, by_degree }
    }

    pub fn n(&self) -> usize {
        self.n
    }

    /// Walks the sites in order: draws `x_i` when `rng` is given, else keeps
    /// the given `x_i`; returns `log q(x)`.
    fn walk(&self, x: &mut [f64], mut rng: Option<&mut Rng>) -> f64 {
        let depth = self.widths.len() - 2;
        let mut acts: Vec<Vec<f64>> = (1..=depth).map(|l| vec![0.0; self.widths[l]]).collect();
        let mut log_q = 0.0;
        for i in 0..self.n {
            for l in 0..depth {
                let (wt, b) = &self.layers[l];
                let fan_in = self.widths[l];
                let (below, here) = acts.split_at_mut(l);
                let input: &[f64] = if l == 0 { x } else { &below[l - 1] };
                for &u in &self.by_degree[l][i] {
                    here[0][u] = (b[u] + dot(&wt[u * fan_in..(u + 1) * fan_in], input)).tanh();
                }
            }
            let (wt, b) = &self.layers[depth];
            let fan_in = self.widths[depth];
            let z = b[i] + dot(&wt[i * fan_in..(i + 1) * fan_in], &acts[depth - 1]);
            if let Some(rng) = rng.as_deref_mut() {
                let p_up = sigmoid(z);
                x[i] = if rng.random::<f64>() < p_up { 1.0 } else { -1.0 };
            }
            log_q += log_sigmoid(z * x[i]);
        }
        log_q
    }

    /// One configuration drawn from `q` with `rng`.
    pub fn draw(&self, rng: &mut Rng) -> Draw {
        let mut x = vec![0.0; self.n];
        let log_q = self.walk(&mut x, Some(rng));
        Draw { x, log_q }
    }

    /// `log q(x)` of a ±1 configuration.
    pub fn log_q(&self, x: &[f64]) -> f64 {
        let mut x = x.to_vec();
        self.walk(&mut x, None)
    }

    /// `count` draws, draw `s` from the stream `(label, first + s)` of `seed`.
    pub fn draw_many(&self, seed: u64, label: &str, first: u64, count: usize) -> Vec<Draw> {
        (0..count).into_par_iter().map(|s| self.draw(&mut rng::stream(seed, label, first + s as u64))).collect()
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// `log sigmoid(s)`, stable for large `|s|`.
pub fn log_sigmoid(s: f64) -> f64 {
    -((-s).max(0.0) + (-s.abs()).exp().ln_1p())
}

/// Importance-sampling summary of draws from `q` for the target `exp(l(x))`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Importance {
    /// `(sum w)^2 / sum w^2`.
    pub ess: f64,
    /// `log mean w` (biased low for a finite batch).
    pub log_z: f64,
    /// Delta-method standard error of `log_z`: `std(w) / (sqrt(S) mean(w))`.
    pub log_z_stderr: f64,
}

/// Importance weights `log w = l(x) - log q(x)`.
pub fn importance(log_weights: &[f64]) -> Importance {
    let count = log_weights.len().max(1) as f64;
    let top = log_weights.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = log_weights.iter().map(|lw| (lw - top).exp()).collect();
    let sum: f64 = w.iter().sum();
    let sum_sq: f64 = w.iter().map(|v| v * v).sum();
    let mean = sum / count;
    let var = (sum_sq / count - mean * mean).max(0.0);
    Importance { ess: sum * sum / sum_sq, log_z: top + mean.ln(), log_z_stderr: (var / count).sqrt() / mean }
}

/// One independence Metropolis-Hastings chain: its recorded configurations
/// (one per step, ±1 as f32), their log-weights `l(x)` and the acceptance rate.
#[derive(Debug, Clone, PartialEq)]
pub struct MhChain {
    pub configurations: Vec<f32>,
    pub log_weights: Vec<f64>,
    pub acceptance: f64,
}

/// Independence MH with proposal `q` on the target `exp(l(x))`: accept `x'`
/// with `min(1, exp(l(x') - l(x)) q(x) / q(x'))`. Chain `c` uses the stream
/// `("mh-chain", c)`; its first state is a draw from `q`; each of `steps`
/// proposals is followed by a record.
pub fn independence_mh(
    disorder: &Disorder,
    sampler: &AncestralSampler,
    chains: usize,
    steps: usize,
    seed: u64,
    observer: &dyn Observer,
) -> Result<Vec<MhChain>, Cancelled> {
    let done = std::sync::atomic::AtomicU64::new(0);
    (0..chains)
        .into_par_iter()
        .map(|c| {
            let mut rng = rng::stream(seed, "mh-chain", c as u64);
            let mut current = sampler.draw(&mut rng);
            let mut l = disorder.log_weight(&current.x);
            let mut chain = MhChain {
                configurations: Vec::with_capacity(steps * sampler.n),
                log_weights: Vec::with_capacity(steps),
                acceptance: 0.0,
            };
            let mut accepted = 0usize;
            for step in 0..steps {
                if step % 64 == 0 {
                    observer.checkpoint()?;
                }
                let proposal = sampler.draw(&mut rng);
                let l_new = disorder.log_weight(&proposal.x);
                let log_ratio = (l_new - l) + (current.log_q - proposal.log_q);
                if log_ratio >= 0.0 || rng.random::<f64>() < log_ratio.exp() {
                    current = proposal;
                    l = l_new;
                    accepted += 1;
                }
                chain.configurations.extend(current.x.iter().map(|&v| v as f32));
                chain.log_weights.push(l);
            }
            chain.acceptance = accepted as f64 / steps.max(1) as f64;
            let finished = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            observer.progress(finished, chains as u64);
            Ok(chain)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::made::MadeShape;

    fn random_weights(shape: MadeShape, seed: u64) -> MadeWeights {
        let widths = shape.widths();
        let mut rng = rng::stream(seed, "test", 0);
        let layers = (0..widths.len() - 1)
            .map(|l| {
                let mask = shape.mask(l);
                let w = mask.iter().map(|m| m * (rng.random::<f64>() * 2.0 - 1.0)).collect();
                let b = (0..widths[l + 1]).map(|_| rng.random::<f64>() - 0.5).collect();
                (w, b)
            })
            .collect();
        MadeWeights { shape, layers }
    }

    /// The degree-ordered walk equals a plain dense forward pass with the masked weights.
    #[test]
    fn walk_matches_dense_forward() {
        for depth in [1, 2] {
            let shape = MadeShape { n: 7, hidden: 9, depth };
            let weights = random_weights(shape, depth as u64);
            let sampler = AncestralSampler::new(&weights);
            let draw = sampler.draw(&mut rng::stream(3, "draw", 0));
            let widths = shape.widths();
            let mut h = draw.x.clone();
            for (l, (w, b)) in weights.layers.iter().enumerate() {
                let out: Vec<f64> = (0..widths[l + 1])
                    .map(|o| b[o] + (0..widths[l]).map(|a| h[a] * w[a * widths[l + 1] + o]).sum::<f64>())
                    .collect();
                h = if l + 1 < weights.layers.len() { out.iter().map(|v| v.tanh()).collect() } else { out };
            }
            let log_q: f64 = h.iter().zip(&draw.x).map(|(z, x)| log_sigmoid(z * x)).sum();
            assert!((log_q - draw.log_q).abs() < 1e-12, "depth {depth}: {log_q} vs {}", draw.log_q);
            assert!((sampler.log_q(&draw.x) - draw.log_q).abs() < 1e-12);
        }
    }

    #[test]
    fn importance_of_equal_weights() {
        let imp = importance(&[2.0; 10]);
        assert!((imp.ess - 10.0).abs() < 1e-12 && (imp.log_z - 2.0).abs() < 1e-12 && imp.log_z_stderr.abs() < 1e-12);
    }
}
