//! Tiny instances, checked against exact enumeration: (1) AMP's tilted and
//! decimated posterior means are close to the exact ones at high temperature;
//! (2) the sampler machinery is exact when fed the exact denoiser: diffusion,
//! flow (ODE and SDE) and decimation reproduce the exact distribution over
//! configurations, the mean energy and P(q) within statistical error.
//!
//! Statistical tests, all at significance 1e-4 (Z = 3.719): Pearson
//! chi-square over configurations and over `x.x'` of independent pairs (bins
//! with expected count < 5 pooled), and a z-test of the mean energy per spin.

#[path = "amp_common/mod.rs"]
mod common;

use common::{chi_square, chi_square_critical, Z_1E4};
use quench::amp::{Amp, AmpParams, Measure, Precision};
use quench::eval::exact_posterior::ExactPosterior;
use quench::models::{delta_from_temperature, Disorder, Prior};
use quench::observe::Silent;
use quench::samplers::autoregressive::{Decimation, Order};
use quench::samplers::diffusion::{Schedule, StochasticLocalization};
use quench::samplers::flow::{FlowSchedule, StochasticInterpolant};
use quench::samplers::path::SamplerRun;
use rand::Rng;
use rand_distr::StandardNormal;

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(u, v)| (u - v).abs()).fold(0.0, f64::max)
}

/// AMP vs exact posterior means, n = 12 (sparse: n = 9), three instances each,
/// tilt `y = t x* + sqrt(t) z` at t = 0.5 and decimation with n/3 sites fixed
/// to `x*`. The check: AMP's max error is below `tol` and below `ratio` times
/// the error of ignoring the couplings (`f(y, t)` tilted; 0 on the free sites
/// decimated). AMP tolerance 1e-7 (the p = 3 field is computed in f32).
#[test]
fn amp_matches_exact_posterior_at_high_temperature() {
    let cases = [
        (2, Prior::Rademacher, delta_from_temperature(2, 2.0), 12, 0.1, 0.25),
        (3, Prior::Rademacher, delta_from_temperature(3, 1.5), 12, 0.2, 0.5),
        (2, Prior::SparseRademacher { rho: 0.3 }, 0.09 * 4.0, 9, 0.02, 0.25),
    ];
    for (p, prior, delta, n, tol, ratio) in cases {
        for seed in 0..3 {
            let d = if p == 2 {
                Disorder::spiked_matrix(n, prior, delta, seed)
            } else {
                Disorder::spiked_tensor(n, prior, delta, seed)
            };
            let exact = ExactPosterior::new(&d);
            let amp = Amp::new(&d, Precision::F64, AmpParams { damping: 0.3, tol: 1e-7, max_iterations: 2000 });
            let x_star = d.planted_f64().unwrap();
            let mut rng = quench::rng::stream(seed, "test-tilt", 0);
            let t = 0.5;
            let y: Vec<f64> = x_star.iter().map(|&v| t * v + t.sqrt() * rng.sample::<f64, _>(StandardNormal)).collect();
            let fixed: Vec<Option<f64>> = (0..n).map(|i| (i < n / 3).then_some(x_star[i])).collect();
            let uncoupled: Vec<f64> = y.iter().map(|&b| quench::amp::denoiser::moments(prior, b, t).mean).collect();
            let fixed_only: Vec<f64> = fixed.iter().map(|v| v.unwrap_or(0.0)).collect();
            for (measure, baseline) in [(Measure::tilted(&y, t), uncoupled), (Measure::decimated(&fixed), fixed_only)] {
                let truth = exact.moments(&measure).mean;
                let mut state = amp.start();
                assert!(amp.solve(&mut state, &measure).converged);
                let (err, err0) = (max_abs_diff(&state.x_hat, &truth), max_abs_diff(&baseline, &truth));
                println!("p={p} {prior:?} seed {seed}: AMP error {err:.4}, uncoupled {err0:.4}");
                assert!(err < tol && (err < ratio * err0 || err0 < tol), "AMP error {err} (uncoupled {err0})");
            }
        }
    }
}

/// Chi-square over configurations, energy z-test and P(q) chi-square.
fn assert_exact(exact: &ExactPosterior, run: &SamplerRun, label: &str) {
    let samples = run.samples();
    let probs = exact.probabilities(&Measure::default());
    let mut counts = vec![0usize; exact.len()];
    samples.iter().for_each(|x| counts[exact.index_of(x)] += 1);
    let (stat, dof) = chi_square(&counts, &probs);
    let critical = chi_square_critical(dof, Z_1E4);
    println!("{label}: configurations chi2 {stat:.1} (dof {dof}, critical {critical:.1})");
    assert!(stat < critical, "{label}: configuration chi-square {stat} >= {critical} (dof {dof})");

    let energies: Vec<f64> = samples.iter().map(|x| exact.energy(exact.index_of(x))).collect();
    let mean_e = exact.mean_energy(&probs);
    let var_e: f64 = probs.iter().enumerate().map(|(c, p)| p * (exact.energy(c) - mean_e).powi(2)).sum();
    let sample_mean = energies.iter().sum::<f64>() / energies.len() as f64;
    let z = (sample_mean - mean_e) / (var_e / energies.len() as f64).sqrt();
    println!("{label}: energy {sample_mean:.4} vs exact {mean_e:.4} (z = {z:.2})");
    assert!(z.abs() < Z_1E4, "{label}: energy {sample_mean} vs exact {mean_e}, z = {z}");

    let n = exact.configuration(0).len() as i64;
    let mut q_counts = vec![0usize; 2 * n as usize + 1];
    for pair in samples.chunks_exact(2) {
        let dot: f64 = pair[0].iter().zip(pair[1]).map(|(a, b)| a * b).sum();
        q_counts[(dot.round() as i64 + n) as usize] += 1;
    }
    let (stat, dof) = chi_square(&q_counts, &exact.overlap_distribution(&probs));
    let critical = chi_square_critical(dof.max(1), Z_1E4);
    println!("{label}: P(q) chi2 {stat:.1} (dof {dof}, critical {critical:.1})");
    assert!(stat < critical, "{label}: P(q) chi-square {stat} >= {critical} (dof {dof})");
}

/// Ising 3-spin, n = 7, T = 0.67 (Delta = 0.3): strongly coupled at this size.
fn ising_instance() -> Disorder {
    Disorder::spiked_tensor(7, Prior::Rademacher, 0.3, 1)
}

/// Sparse spiked matrix, n = 5, rho = 0.3, Delta/rho^2 = 0.5.
fn sparse_instance() -> Disorder {
    Disorder::spiked_matrix(5, Prior::SparseRademacher { rho: 0.3 }, 0.5 * 0.09, 2)
}

#[test]
fn decimation_with_exact_marginals_is_exact() {
    for (d, label) in [(ising_instance(), "decimation ising3"), (sparse_instance(), "decimation sparse")] {
        let exact = ExactPosterior::new(&d);
        let sampler = Decimation { order: Order::Random, block: 1, trajectories: 4000, batch: 1, seed: 3 };
        assert_exact(&exact, &sampler.run(&exact, &Silent).unwrap(), label);
    }
}

/// Euler-Maruyama with dt = 0.005 to t = 3, then 40 geometric steps to 200.
#[test]
fn diffusion_with_exact_denoiser_is_exact() {
    let schedule = Schedule { dt_fine: 0.005, t_fine: 3.0, t_max: 200.0, geometric_steps: 40, step_error: None };
    for (d, label, count) in
        [(ising_instance(), "diffusion ising3", 3000), (sparse_instance(), "diffusion sparse", 3000)]
    {
        let exact = ExactPosterior::new(&d);
        let sampler = StochasticLocalization { schedule, trajectories: count, batch: 4, seed: 4 };
        assert_exact(&exact, &sampler.run(&exact, &Silent).unwrap(), label);
    }
}

/// Adaptive steps at the stage default (local error 1e-6 per step and variable,
/// recorded every 0.03 to t = 3, then 40 geometric points to 200) with the
/// exact denoiser reproduce the exact law, and take far fewer steps than the
/// fixed grid of the same local error at `m' = 1` (dt = 0.002: 1541 steps).
#[test]
fn adaptive_diffusion_with_exact_denoiser_is_exact() {
    let schedule = Schedule { step_error: Some(1e-6), ..Schedule::default() };
    for (d, label, count) in
        [(ising_instance(), "adaptive diffusion ising3", 6000), (sparse_instance(), "adaptive diffusion sparse", 3000)]
    {
        let exact = ExactPosterior::new(&d);
        let sampler = StochasticLocalization { schedule, trajectories: count, batch: 4, seed: 14 };
        let run = sampler.run(&exact, &Silent).unwrap();
        assert_exact(&exact, &run, label);
        assert_eq!(run.trajectories[0].path.len(), schedule.times().len());
        let steps: usize = run.trajectories.iter().flat_map(|t| t.path.iter().map(|p| p.steps)).sum();
        let per_trajectory = steps as f64 / count as f64;
        println!("{label}: {per_trajectory:.0} steps per trajectory");
        assert!(per_trajectory < 800.0, "{label}: {per_trajectory} steps per trajectory");
    }
}

/// Flow grid ds = 0.002 to s = 0.6, then 40 geometric steps to s = 0.995:
/// the probability-flow ODE and the SDE with noise 1.
#[test]
fn flow_with_exact_denoiser_is_exact() {
    let exact = ExactPosterior::new(&ising_instance());
    for (noise, label) in [(0.0, "flow ODE ising3"), (1.0, "flow SDE ising3")] {
        let schedule = FlowSchedule { ds_fine: 0.002, geometric_steps: 40, ..FlowSchedule::default() };
        let sampler = StochasticInterpolant { schedule, noise, trajectories: 3000, batch: 1, seed: 5 };
        assert_exact(&exact, &sampler.run(&exact, &Silent).unwrap(), label);
    }
}
