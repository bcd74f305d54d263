//! The scalar channel of PHYSICS.md section 3: one variable with prior `P0`
//! seen through a field `B` and a precision `A`, i.e. the law
//! `P0(x) exp(B x - A x^2 / 2)`. Posterior mean `f`, variance `f_v`,
//! log-normaliser and exact draws, in overflow-free forms (section 11). The
//! sphere's vector denoiser is in `sphere`.

use rand::Rng as _;
use rand_distr::StandardNormal;

use crate::models::Prior;
use crate::rng::Rng;

/// The exponent `A/2 - |B|` of the sparse forms is clipped here (PHYSICS.md section 3).
const SPARSE_EXPONENT_CLIP: f64 = 700.0;

/// Mean, second moment and variance of one scalar channel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    /// `f(B, A) = <x>`.
    pub mean: f64,
    /// `<x^2>`.
    pub second: f64,
}

impl Moments {
    /// `f_v(B, A) = <x^2> - <x>^2`.
    pub fn variance(&self) -> f64 {
        (self.second - self.mean * self.mean).max(0.0)
    }
}

/// Posterior moments of `P0(x) exp(B x - A x^2/2)`. The spherical prior is
/// treated as its large-N single-coordinate limit, a standard Gaussian (the
/// vector denoiser is `amp::sphere`).
pub fn moments(prior: Prior, b: f64, a: f64) -> Moments {
    match prior {
        Prior::Rademacher => rademacher(b),
        Prior::SparseRademacher { rho } => sparse(b, a, rho),
        Prior::Spherical => gaussian(b, a),
    }
}

/// `f = tanh B`, `<x^2> = 1`.
pub fn rademacher(b: f64) -> Moments {
    Moments { mean: b.tanh(), second: 1.0 }
}

/// Sparse Rademacher prior with density `rho`, exp-normalised (`e = exp(-2|B|)`).
pub fn sparse(b: f64, a: f64, rho: f64) -> Moments {
    let (plus, minus, _) = sparse_probabilities(b, a, rho);
    Moments { mean: plus - minus, second: plus + minus }
}

/// `(P(x = +1), P(x = -1), P(x = 0))` of the sparse channel.
fn sparse_probabilities(b: f64, a: f64, rho: f64) -> (f64, f64, f64) {
    let abs_b = b.abs();
    let e = (-2.0 * abs_b).exp();
    let zero = 2.0 * (1.0 - rho) / rho * (0.5 * a - abs_b).min(SPARSE_EXPONENT_CLIP).exp();
    let den = 1.0 + e + zero;
    let (aligned, opposite) = (1.0 / den, e / den);
    if b >= 0.0 {
        (aligned, opposite, zero / den)
    } else {
        (opposite, aligned, zero / den)
    }
}

/// Standard Gaussian prior: `f = B/(1+A)`, `f_v = 1/(1+A)`.
pub fn gaussian(b: f64, a: f64) -> Moments {
    let mean = b / (1.0 + a);
    Moments { mean, second: mean * mean + 1.0 / (1.0 + a) }
}

/// `logZ(B, A) = log E_P0 exp(B x - A x^2 / 2)` (section 3).
pub fn log_partition(prior: Prior, b: f64, a: f64) -> f64 {
    match prior {
        Prior::Rademacher => log_cosh(b) - a / 2.0,
        Prior::SparseRademacher { rho } => {
            let abs_b = b.abs();
            let nonzero = (rho / 2.0).ln() + abs_b - a / 2.0 + (-2.0 * abs_b).exp().ln_1p();
            log_add_exp((1.0 - rho).ln(), nonzero)
        }
        Prior::Spherical => b * b / (2.0 * (1.0 + a)) - (1.0 + a).ln() / 2.0,
    }
}

/// `log cosh B = |B| + log1p(exp(-2|B|)) - log 2`.
pub fn log_cosh(b: f64) -> f64 {
    let abs_b = b.abs();
    abs_b + (-2.0 * abs_b).exp().ln_1p() - std::f64::consts::LN_2
}

fn log_add_exp(u: f64, w: f64) -> f64 {
    let hi = u.max(w);
    hi + (-(u - w).abs()).exp().ln_1p()
}

/// One exact draw from `P0(s) exp(s B - s^2 A / 2)` (Gaussian for the sphere).
pub fn draw(prior: Prior, b: f64, a: f64, rng: &mut Rng) -> f64 {
    match prior {
        Prior::Rademacher => {
            let p_plus = 0.5 * (1.0 + b.tanh());
            if rng.random::<f64>() < p_plus {
                1.0
            } else {
                -1.0
            }
        }
        Prior::SparseRademacher { rho } => {
            let (plus, minus, _) = sparse_probabilities(b, a, rho);
            let u: f64 = rng.random();
            if u < plus {
                1.0
            } else if u < plus + minus {
                -1.0
            } else {
                0.0
            }
        }
        Prior::Spherical => {
            let m = gaussian(b, a);
            m.mean + m.variance().sqrt() * rng.sample::<f64, _>(StandardNormal)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute-force moments over the support {-1, 0, 1} with weights P0.
    fn brute(b: f64, a: f64, rho: f64) -> Moments {
        let w = [(-1.0, rho / 2.0), (0.0, 1.0 - rho), (1.0, rho / 2.0)];
        let z: f64 = w.iter().map(|&(s, p)| p * (b * s - a * s * s / 2.0).exp()).sum();
        let m1: f64 = w.iter().map(|&(s, p)| s * p * (b * s - a * s * s / 2.0).exp()).sum::<f64>() / z;
        let m2: f64 = w.iter().map(|&(s, p)| s * s * p * (b * s - a * s * s / 2.0).exp()).sum::<f64>() / z;
        Moments { mean: m1, second: m2 }
    }

    #[test]
    fn sparse_forms_match_brute_force_and_do_not_overflow() {
        for &(b, a) in &[(0.3, 0.1), (-2.0, 1.5), (5.0, 8.0), (-0.01, 3.0)] {
            let (m, e) = (sparse(b, a, 0.2), brute(b, a, 0.2));
            assert!((m.mean - e.mean).abs() < 1e-12 && (m.second - e.second).abs() < 1e-12);
            let lz = (0.8f64 + 0.1 * ((b - a / 2.0).exp() + (-b - a / 2.0).exp())).ln();
            assert!((log_partition(Prior::SparseRademacher { rho: 0.2 }, b, a) - lz).abs() < 1e-12);
        }
        let m = sparse(-900.0, 2000.0, 0.08);
        assert!(m.mean.is_finite() && m.second.is_finite() && m.mean <= 0.0);
        assert!(log_partition(Prior::SparseRademacher { rho: 0.08 }, 800.0, 10.0).is_finite());
    }

    #[test]
    fn log_cosh_is_stable() {
        assert!((log_cosh(0.7) - 0.7f64.cosh().ln()).abs() < 1e-14);
        assert!((log_cosh(-1000.0) - (1000.0 - std::f64::consts::LN_2)).abs() < 1e-9);
    }

    #[test]
    fn draws_follow_the_channel() {
        let mut rng = crate::rng::stream(1, "test", 0);
        let (b, a, rho) = (0.4, 0.9, 0.3);
        let draws: Vec<f64> = (0..40_000).map(|_| draw(Prior::SparseRademacher { rho }, b, a, &mut rng)).collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        let second = draws.iter().map(|x| x * x).sum::<f64>() / draws.len() as f64;
        let m = sparse(b, a, rho);
        assert!((mean - m.mean).abs() < 4.0 * (m.variance() / 40_000.0).sqrt());
        assert!((second - m.second).abs() < 4.0 * (m.second * (1.0 - m.second) / 40_000.0).sqrt());
    }
}
