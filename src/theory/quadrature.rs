//! Quadrature rules for Gaussian expectations `E_z g(z)`, `z ~ N(0,1)`: probabilists'
//! Gauss–Hermite (Sturm bisection on the Jacobi matrix + Newton polish on the
//! normalised recurrence, cached) and the step-adapted trapezoid rule used to build the
//! channel tables (it resolves the `1/sqrt(lam)` transition layer of the denoisers).

use super::TheoryError;
use std::sync::{Arc, Mutex, OnceLock};

/// Nodes and weights of a rule for `E_z g(z)`; the weights sum to 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub nodes: Vec<f64>,
    pub weights: Vec<f64>,
}

impl Rule {
    /// `E_z g(z)` under this rule.
    pub fn expect(&self, g: impl Fn(f64) -> f64) -> f64 {
        self.nodes.iter().zip(&self.weights).map(|(&z, &w)| w * g(z)).sum()
    }
}

/// Smallest accepted Gauss–Hermite order (PHYSICS.md section 3: n = 21 is visibly wrong).
pub const GH_MIN_NODES: usize = 81;
/// Largest accepted order (the weights of the outer nodes underflow beyond this).
pub const GH_MAX_NODES: usize = 1000;

/// Probabilists' Gauss–Hermite rule with `n` nodes (zeros of He_n), weights divided by
/// sqrt(2 pi) so they sum to 1. Cached per `n`.
pub fn gauss_hermite(n: usize) -> Result<Arc<Rule>, TheoryError> {
    if !(GH_MIN_NODES..=GH_MAX_NODES).contains(&n) {
        return Err(TheoryError::InvalidParameter(format!(
            "Gauss-Hermite order {n} outside [{GH_MIN_NODES}, {GH_MAX_NODES}]"
        )));
    }
    static CACHE: OnceLock<Mutex<Vec<Arc<Rule>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(Vec::new()));
    let mut guard = cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(rule) = guard.iter().find(|r| r.nodes.len() == n) {
        return Ok(Arc::clone(rule));
    }
    let rule = Arc::new(build_gauss_hermite(n));
    guard.push(Arc::clone(&rule));
    Ok(rule)
}

/// Number of eigenvalues of the He Jacobi matrix (zero diagonal, off-diagonal sqrt(k))
/// that are smaller than `x` (Sturm sequence count).
fn sturm_count(n: usize, x: f64) -> usize {
    let mut count = 0;
    let mut q = -x;
    for k in 0..n {
        if k > 0 {
            let denom = if q == 0.0 { f64::EPSILON } else { q };
            q = -x - (k as f64) / denom;
        }
        if q < 0.0 {
            count += 1;
        }
    }
    count
}

/// Orthonormal (w.r.t. N(0,1)) Hermite polynomials at `x`: returns `(p_n, p_{n-1}, log_scale)`
/// with the true values equal to the returned ones times `exp(log_scale)`.
fn orthonormal_pair(n: usize, x: f64) -> (f64, f64, f64) {
    let (mut prev, mut cur, mut log_scale) = (0.0_f64, 1.0_f64, 0.0_f64);
    for k in 0..n {
        let next = (x * cur - (k as f64).sqrt() * prev) / ((k + 1) as f64).sqrt();
        prev = cur;
        cur = next;
        if cur.abs() > 1e150 {
            cur *= 1e-150;
            prev *= 1e-150;
            log_scale += 150.0 * std::f64::consts::LN_10;
        }
    }
    (cur, prev, log_scale)
}

fn build_gauss_hermite(n: usize) -> Rule {
    let bound = 2.0 * (n as f64).sqrt() + 2.0;
    let mut nodes = Vec::with_capacity(n);
    for k in 0..n {
        // The k-th eigenvalue x satisfies count(x) <= k < count(x + 0).
        let (mut lo, mut hi) = (-bound, bound);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if mid == lo || mid == hi {
                break;
            }
            if sturm_count(n, mid) > k {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        let mut x = 0.5 * (lo + hi);
        for _ in 0..3 {
            let (pn, pn1, _) = orthonormal_pair(n, x);
            if pn1 != 0.0 {
                x -= pn / ((n as f64).sqrt() * pn1);
            }
        }
        nodes.push(x);
    }
    for i in 0..n / 2 {
        let a = 0.5 * (nodes[n - 1 - i] - nodes[i]);
        nodes[i] = -a;
        nodes[n - 1 - i] = a;
    }
    if n % 2 == 1 {
        nodes[n / 2] = 0.0;
    }
    // Christoffel weights: w = 1 / sum_{k<n} p_k(x)^2 = 1 / (n p_{n-1}(x)^2) at a zero of p_n.
    let mut weights: Vec<f64> = nodes
        .iter()
        .map(|&x| {
            let (_, pn1, ls) = orthonormal_pair(n, x);
            (-2.0 * ls - (n as f64 * pn1 * pn1).ln()).exp()
        })
        .collect();
    let total: f64 = weights.iter().sum();
    weights.iter_mut().for_each(|w| *w /= total);
    Rule { nodes, weights }
}

/// Half-width of the z-domain of the trapezoid rule (`phi(10) ~ 8e-23`).
const TRAPEZOID_HALF_WIDTH: f64 = 10.0;

/// Trapezoid rule on `[-10, 10]` with step `h` (weights `h phi(z)`, renormalised).
/// For integrands analytic in a strip of half-width `d` the error is about
/// `exp(-2 pi d / h)`, so `h` must scale like the layer width `1/sqrt(lam)`.
pub fn trapezoid(h: f64) -> Result<Rule, TheoryError> {
    if !(h > 1e-4 && h <= 1.0) {
        return Err(TheoryError::InvalidParameter(format!("trapezoid step {h} outside (1e-4, 1]")));
    }
    let half = (TRAPEZOID_HALF_WIDTH / h).ceil() as i64;
    let inv_sqrt_2pi = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
    let nodes: Vec<f64> = (-half..=half).map(|k| k as f64 * h).collect();
    let mut weights: Vec<f64> = nodes.iter().map(|&z| h * inv_sqrt_2pi * (-0.5 * z * z).exp()).collect();
    let total: f64 = weights.iter().sum();
    weights.iter_mut().for_each(|w| *w /= total);
    Ok(Rule { nodes, weights })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn double_factorial_odd(k: u32) -> f64 {
        (1..=k).filter(|j| j % 2 == 1).map(f64::from).product()
    }

    #[test]
    fn gh_moments_exact_up_to_high_degree() {
        for n in [81, 120, 201, 400] {
            let rule = gauss_hermite(n).unwrap();
            assert_eq!(rule.nodes.len(), n);
            assert!((rule.weights.iter().sum::<f64>() - 1.0).abs() < 1e-14);
            for k in [2_u32, 4, 8, 16, 24] {
                let m = rule.expect(|z| z.powi(k as i32));
                let exact = double_factorial_odd(k - 1);
                assert!(((m - exact) / exact).abs() < 1e-11, "n={n} k={k}: {m} vs {exact}");
            }
            assert!(rule.expect(|z| z.powi(7)).abs() < 1e-9);
        }
    }

    #[test]
    fn gh_nodes_are_zeros_of_he_n_and_sorted() {
        let n = 101;
        let rule = gauss_hermite(n).unwrap();
        assert!(rule.nodes.windows(2).all(|w| w[0] < w[1]));
        for &x in &rule.nodes {
            let (pn, pn1, _) = orthonormal_pair(n, x);
            assert!(pn.abs() < 1e-9 * pn1.abs().max(1.0), "x={x}");
        }
        assert!(rule.weights.iter().all(|&w| w >= 0.0));
    }

    #[test]
    fn gh_rejects_small_orders_and_caches() {
        assert!(gauss_hermite(21).is_err());
        let a = gauss_hermite(99).unwrap();
        let b = gauss_hermite(99).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
    }

    #[test]
    fn trapezoid_integrates_smooth_functions() {
        let rule = trapezoid(0.5).unwrap();
        assert!((rule.expect(|z| z * z) - 1.0).abs() < 1e-14);
        // E cos(z) = exp(-1/2)
        assert!((rule.expect(f64::cos) - (-0.5f64).exp()).abs() < 1e-14);
        assert!(trapezoid(0.0).is_err());
    }
}
