//! Statistics shared by the physics tests: Gaussian expectations on a fine
//! grid, chi-square tests and mean / standard error.

#![allow(dead_code)]

/// `E_z f(z)`, z ~ N(0,1), by the trapezoid rule on [-12, 12] with 6001 nodes
/// (exponentially accurate for smooth integrands; error < 1e-12 here).
pub fn gaussian_expectation(f: impl Fn(f64) -> f64) -> f64 {
    let (half_width, nodes) = (12.0, 6001);
    let h = 2.0 * half_width / (nodes - 1) as f64;
    let norm = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
    (0..nodes)
        .map(|k| {
            let z = -half_width + k as f64 * h;
            f(z) * (-z * z / 2.0).exp() * norm * h
        })
        .sum()
}

pub fn mean_and_stderr(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// Upper `1 - alpha` quantile of chi-square with `dof` degrees of freedom
/// (Wilson-Hilferty); `z` is the standard-normal quantile of `1 - alpha`.
pub fn chi_square_critical(dof: usize, z: f64) -> f64 {
    let k = dof as f64;
    k * (1.0 - 2.0 / (9.0 * k) + z * (2.0 / (9.0 * k)).sqrt()).powi(3)
}

/// Pearson chi-square of `observed` counts against probabilities `expected`;
/// bins with expected count < 5 are pooled into one. Returns (statistic, dof).
pub fn chi_square(observed: &[usize], expected: &[f64]) -> (f64, usize) {
    let total: usize = observed.iter().sum();
    let total = total as f64;
    let (mut stat, mut bins) = (0.0, 0usize);
    let (mut pooled_obs, mut pooled_exp) = (0.0, 0.0);
    for (&o, &p) in observed.iter().zip(expected) {
        let e = p * total;
        if e < 5.0 {
            pooled_obs += o as f64;
            pooled_exp += e;
        } else {
            stat += (o as f64 - e).powi(2) / e;
            bins += 1;
        }
    }
    if pooled_exp > 0.0 {
        stat += (pooled_obs - pooled_exp).powi(2) / pooled_exp.max(1e-300);
        bins += 1;
    }
    (stat, bins.saturating_sub(1))
}

/// Standard-normal quantile used for every chi-square test: alpha = 1e-4.
pub const Z_1E4: f64 = 3.719;
