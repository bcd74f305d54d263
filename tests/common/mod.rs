//! Helpers shared by the physics tests: z-tests with autocorrelation-corrected
//! errors and a chi-square test of P(q) against exact enumeration.
#![allow(dead_code)]

use quench::eval::exact::ExactGibbs;
use quench::eval::overlaps::overlap;
use quench::eval::stats::{self, ChiSquare};
use quench::samplers::SpinRun;

/// `(mean - expected) / error_from_tau` of per-chain series.
pub fn z_score(series: &[Vec<f64>], expected: f64) -> (f64, stats::Stats) {
    let s = stats::statistics(series);
    let err = s.error_from_tau.max(1e-12);
    ((s.mean - expected) / err, s)
}

/// Per chain, the recorded values of site `i` (power 1 or 2).
pub fn site_series(run: &SpinRun, i: usize, power: i32) -> Vec<Vec<f64>> {
    run.chains.iter().map(|c| c.samples.iter().map(|x| (x[i] as f64).powi(power)).collect()).collect()
}

/// Per chain, the recorded energies.
pub fn energy_series(run: &SpinRun) -> Vec<Vec<f64>> {
    run.chains.iter().map(|c| c.energy.clone()).collect()
}

/// Overlap series of the disjoint chain pairs (0,1), (2,3), ...
pub fn pair_overlaps(run: &SpinRun) -> Vec<Vec<f64>> {
    run.chains
        .chunks_exact(2)
        .map(|p| p[0].samples.iter().zip(&p[1].samples).map(|(a, b)| overlap(a, b)).collect())
        .collect()
}

/// Chi-square of the sampled P(q) (disjoint pairs, thinned by 2 tau of q and |q|)
/// against the exact law, one bin per value of q.
pub fn overlap_chi_square(run: &SpinRun, exact: &ExactGibbs) -> (ChiSquare, usize) {
    let series = pair_overlaps(run);
    let tau = series
        .iter()
        .flat_map(|q| {
            let abs: Vec<f64> = q.iter().map(|v| v.abs()).collect();
            [stats::integrated_time(q, stats::SOKAL_C), stats::integrated_time(&abs, stats::SOKAL_C)]
        })
        .fold(1.0, f64::max);
    let stride = (2.0 * tau).ceil() as usize;
    let thinned: Vec<f64> = series.iter().flat_map(|q| q.iter().step_by(stride).copied()).collect();
    let n = exact.n as f64;
    let edges: Vec<f64> = (0..=2 * exact.n + 1).map(|k| (k as f64 - n - 0.5) / n).collect();
    let observed = stats::histogram(&thinned, &edges);
    let probs = exact.overlap.histogram(&edges);
    (stats::chi_square(&observed, &probs, 5.0), stride)
}

/// Asserts energy, marginals (and densities) and P(q) of `run` agree with `exact`.
pub fn assert_agrees(label: &str, run: &SpinRun, exact: &ExactGibbs, z_max: f64) {
    let (z, s) = z_score(&energy_series(run), exact.mean_energy);
    let worst = (0..exact.n).map(|i| z_score(&site_series(run, i, 1), exact.marginals[i]).0.abs()).fold(0.0, f64::max);
    eprintln!("{label}: energy z = {z:.2}, worst marginal |z| = {worst:.2}");
    assert!(
        z.abs() < z_max,
        "{label}: energy {} +- {} vs exact {} (z = {z:.2})",
        s.mean,
        s.error_from_tau,
        exact.mean_energy
    );
    for i in 0..exact.n {
        let (z, s) = z_score(&site_series(run, i, 1), exact.marginals[i]);
        assert!(
            z.abs() < z_max,
            "{label}: <x_{i}> {} +- {} vs {} (z = {z:.2})",
            s.mean,
            s.error_from_tau,
            exact.marginals[i]
        );
        if exact.densities[i] < 1.0 {
            let (z, s) = z_score(&site_series(run, i, 2), exact.densities[i]);
            assert!(
                z.abs() < z_max,
                "{label}: <x_{i}^2> {} +- {} vs {} (z = {z:.2})",
                s.mean,
                s.error_from_tau,
                exact.densities[i]
            );
        }
    }
    let (chi, stride) = overlap_chi_square(run, exact);
    eprintln!(
        "{label}: energy {:.5} +- {:.5} (tau {:.1}) vs exact {:.5}; P(q) chi2 {:.1}/{} dof, p = {:.3}, stride {stride}",
        s.mean, s.error_from_tau, s.tau_corr, exact.mean_energy, chi.statistic, chi.dof, chi.p_value
    );
    assert!(
        chi.p_value > 1e-3,
        "{label}: P(q) chi2 = {:.1} for {} dof (p = {:.2e}, stride {stride})",
        chi.statistic,
        chi.dof,
        chi.p_value
    );
}
