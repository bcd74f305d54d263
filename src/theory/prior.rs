//! Priors `P0` and their scalar channel: posterior mean `f(B, A)`, variance `f_v(B, A)`
//! and log-normaliser `logZ(B, A)` of `P0(x) exp(B x - A x^2 / 2)`, in the overflow-free
//! forms of PHYSICS.md sections 3 and 11.

use super::TheoryError;
use serde::{Deserialize, Serialize};
use std::f64::consts::LN_2;

/// The i.i.d. prior of the hidden signal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Prior {
    /// `x = +-1` with probability 1/2 each (Ising).
    Rademacher,
    /// `x = 0` with probability `1 - rho`, else `+-1` (sparse spiked matrix).
    SparseRademacher { rho: f64 },
    /// `N(0, 1)`; stands in for the uniform measure on the sphere `|x|^2 = N` in SE.
    Gaussian,
}

/// One evaluation of the scalar channel at `(B, A)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Posterior {
    /// posterior mean `f`
    pub f: f64,
    /// posterior variance `f_v`
    pub f_v: f64,
    /// `logZ`
    pub log_z: f64,
}

/// Largest exponent fed to `exp` in the sparse denoiser (`exp(700)` is finite).
const EXP_CLIP: f64 = 700.0;

/// `log cosh b` without overflow: `|b| + log1p(exp(-2|b|)) - log 2`.
pub fn log_cosh(b: f64) -> f64 {
    let a = b.abs();
    a + (-2.0 * a).exp().ln_1p() - LN_2
}

impl Prior {
    /// Checks the parameters (`0 < rho <= 1`).
    pub fn validate(&self) -> Result<(), TheoryError> {
        match *self {
            Prior::SparseRademacher { rho } if !(rho > 0.0 && rho <= 1.0) => {
                Err(TheoryError::InvalidParameter(format!("sparse prior needs 0 < rho <= 1, got {rho}")))
            }
            _ => Ok(()),
        }
    }

    /// `E0 = E[x0^2]`.
    pub fn e0(&self) -> f64 {
        match *self {
            Prior::SparseRademacher { rho } => rho,
            Prior::Rademacher | Prior::Gaussian => 1.0,
        }
    }

    /// `c0 = E log P0(x0)` for the discrete priors (the constant of the decimation free
    /// entropy); 0 for the Gaussian, where any constant will do.
    pub fn c0(&self) -> f64 {
        match *self {
            Prior::Rademacher => -LN_2,
            Prior::SparseRademacher { rho } if rho < 1.0 => (1.0 - rho) * (1.0 - rho).ln() + rho * (0.5 * rho).ln(),
            Prior::SparseRademacher { .. } => -LN_2,
            Prior::Gaussian => 0.0,
        }
    }

    /// Posterior mean, variance and log-normaliser at field `b`, precision `a`.
    pub fn posterior(&self, b: f64, a: f64) -> Posterior {
        match *self {
            Prior::Rademacher => rademacher(b, a),
            Prior::SparseRademacher { rho } => sparse(rho, b, a),
            Prior::Gaussian => {
                Posterior { f: b / (1.0 + a), f_v: 1.0 / (1.0 + a), log_z: b * b / (2.0 * (1.0 + a)) - 0.5 * a.ln_1p() }
            }
        }
    }

    /// Posterior mean `f(B, A)`.
    pub fn f(&self, b: f64, a: f64) -> f64 {
        self.posterior(b, a).f
    }

    /// Posterior variance `f_v(B, A)`.
    pub fn f_v(&self, b: f64, a: f64) -> f64 {
        self.posterior(b, a).f_v
    }

    /// Log-normaliser `logZ(B, A)`.
    pub fn log_z(&self, b: f64, a: f64) -> f64 {
        self.posterior(b, a).log_z
    }
}

fn rademacher(b: f64, a: f64) -> Posterior {
    let e = (-2.0 * b.abs()).exp();
    let d = 1.0 + e;
    Posterior { f: b.tanh(), f_v: 4.0 * e / (d * d), log_z: log_cosh(b) - 0.5 * a }
}

/// Sparse prior with `c = (1-rho)/rho`, `e = exp(-2|B|)`:
/// `f = sign(B)(1-e)/den`, `den = 1 + e + 2c exp(A/2 - |B|)`, and
/// `f_v = (4e + 2c exp(A/2-|B|)(1+e))/den^2` (the cancellation-free `<x^2> - f^2`).
fn sparse(rho: f64, b: f64, a: f64) -> Posterior {
    let abs_b = b.abs();
    let e = (-2.0 * abs_b).exp();
    let c = (1.0 - rho) / rho;
    let ex = (0.5 * a - abs_b).min(EXP_CLIP).exp();
    let den = 1.0 + e + 2.0 * c * ex;
    let f = (1.0 - e) / den;
    let log_z = if rho < 1.0 {
        log_add_exp((1.0 - rho).ln(), (0.5 * rho).ln() + abs_b - 0.5 * a + e.ln_1p())
    } else {
        log_cosh(b) - 0.5 * a
    };
    Posterior { f: if b < 0.0 { -f } else { f }, f_v: (4.0 * e + 2.0 * c * ex * (1.0 + e)) / (den * den), log_z }
}

/// `log(exp(x) + exp(y))`.
pub fn log_add_exp(x: f64, y: f64) -> f64 {
    let (hi, lo) = if x > y { (x, y) } else { (y, x) };
    hi + (lo - hi).exp().ln_1p()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force over the support for the discrete priors.
    fn naive(prior: &Prior, b: f64, a: f64) -> (f64, f64, f64) {
        let support: Vec<(f64, f64)> = match *prior {
            Prior::Rademacher => vec![(-1.0, 0.5), (1.0, 0.5)],
            Prior::SparseRademacher { rho } => {
                vec![(-1.0, rho / 2.0), (0.0, 1.0 - rho), (1.0, rho / 2.0)]
            }
            Prior::Gaussian => unreachable!(),
        };
        let w: Vec<f64> = support.iter().map(|&(x, p)| p * (b * x - a * x * x / 2.0).exp()).collect();
        let z: f64 = w.iter().sum();
        let m: f64 = support.iter().zip(&w).map(|(s, w)| s.0 * w).sum::<f64>() / z;
        let x2: f64 = support.iter().zip(&w).map(|(s, w)| s.0 * s.0 * w).sum::<f64>() / z;
        (m, x2 - m * m, z.ln())
    }

    #[test]
    fn stable_forms_match_naive_sums() {
        for prior in [Prior::Rademacher, Prior::SparseRademacher { rho: 0.08 }] {
            for &(b, a) in &[(0.3, 0.2), (-2.0, 1.5), (5.0, 8.0), (-0.01, 0.0), (12.0, 3.0)] {
                let p = prior.posterior(b, a);
                let (m, v, lz) = naive(&prior, b, a);
                assert!((p.f - m).abs() < 1e-14, "{prior:?} f({b},{a})");
                assert!((p.f_v - v).abs() < 1e-13, "{prior:?} f_v({b},{a})");
                assert!((p.log_z - lz).abs() < 1e-13, "{prior:?} logZ({b},{a})");
            }
        }
    }

    #[test]
    fn no_overflow_at_extreme_fields() {
        for prior in [Prior::Rademacher, Prior::SparseRademacher { rho: 0.08 }, Prior::Gaussian] {
            for &(b, a) in &[(1e4, 1e4), (-1e4, 2e3), (0.0, 3e3), (800.0, 0.0)] {
                let p = prior.posterior(b, a);
                assert!(p.f.is_finite() && p.f_v.is_finite() && p.log_z.is_finite());
                assert!(p.f_v >= 0.0 && p.f.abs() <= 1.0 + 1e-12 || prior == Prior::Gaussian);
            }
        }
    }

    #[test]
    fn gaussian_closed_forms_and_constants() {
        let p = Prior::Gaussian.posterior(0.7, 1.3);
        assert!((p.f - 0.7 / 2.3).abs() < 1e-15);
        assert!((p.f_v - 1.0 / 2.3).abs() < 1e-15);
        assert_eq!(Prior::SparseRademacher { rho: 0.08 }.e0(), 0.08);
        assert!((Prior::Rademacher.c0() + LN_2).abs() < 1e-15);
        assert!(Prior::SparseRademacher { rho: 0.0 }.validate().is_err());
        assert!(Prior::SparseRademacher { rho: 0.5 }.validate().is_ok());
    }
}
