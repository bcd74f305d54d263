//! AMP at large N follows state evolution (PHYSICS.md sections 3, 4 and 7).

#[path = "amp_common/mod.rs"]
mod common;

use common::gaussian_expectation;
use quench::amp::{Amp, AmpParams, AmpState, Measure, Precision};
use quench::models::{Disorder, Prior};
use rand::Rng;
use rand_distr::StandardNormal;

fn undamped() -> AmpParams {
    AmpParams { damping: 0.0, tol: 0.0, max_iterations: 1 }
}

/// `x̂0 = tanh(lam0 x* + sqrt(lam0) z)`: a start independent of the noise, with
/// small overlap; `v0 = 1 - x̂0^2`.
fn weak_start(x_star: &[f64], lam0: f64, seed: u64) -> AmpState {
    let mut rng = quench::rng::stream(seed, "test-start", 0);
    let x_hat: Vec<f64> =
        x_star.iter().map(|&x| (lam0 * x + lam0.sqrt() * rng.sample::<f64, _>(StandardNormal)).tanh()).collect();
    let v = x_hat.iter().map(|m| 1.0 - m * m).collect();
    AmpState::from_estimate(x_hat, v)
}

/// Spiked matrix, Rademacher, Delta = 0.49 (planted SK at T = 0.7), N = 2000:
/// the overlap after each of 8 undamped iterations matches the SE iterate
/// `m' = E_z tanh(m/Delta + sqrt(q/Delta) z)`, `q' = E_z tanh^2(...)` started
/// from the empirical `(m0, q0)`, within 5% (averaged over 8 instances; the
/// finite-N spread of one instance is about 1/sqrt(N) = 0.022).
#[test]
fn spiked_matrix_amp_tracks_state_evolution() {
    const SEEDS: u64 = 8;
    let (n, delta, iterations) = (2000, 0.49, 8);
    let mut amp_mean = vec![0.0; iterations];
    let mut se_mean = vec![0.0; iterations];
    for seed in 0..SEEDS {
        let d = Disorder::spiked_matrix(n, Prior::Rademacher, delta, seed);
        let x_star = d.planted_f64().unwrap();
        let amp = Amp::new(&d, Precision::F32, undamped());
        let mut state = weak_start(&x_star, 0.1, seed);
        let (mut m, mut q) = (state.overlap(&x_star), state.m_hat_sq());
        for k in 0..iterations {
            amp.step(&mut state, &Measure::default());
            let field = |z: f64| m / delta + (q / delta).sqrt() * z;
            (m, q) = (gaussian_expectation(|z| field(z).tanh()), gaussian_expectation(|z| field(z).tanh().powi(2)));
            amp_mean[k] += state.overlap(&x_star) / SEEDS as f64;
            se_mean[k] += m / SEEDS as f64;
        }
    }
    println!("AMP {amp_mean:.4?}\nSE  {se_mean:.4?}");
    for k in 0..iterations {
        let rel = (amp_mean[k] - se_mean[k]).abs() / se_mean[k];
        assert!(rel < 0.05, "iteration {}: AMP {} vs SE {} ({rel:.3})", k + 1, amp_mean[k], se_mean[k]);
    }
    // The SE fixed point at Delta = 0.49 is m = 0.632 (PHYSICS.md section 10).
    assert!((se_mean[iterations - 1] - 0.632).abs() < 0.03, "SE after 8 iterations {}", se_mean[iterations - 1]);
}

/// One iteration from an estimate with overlap `m` and norm `q`:
/// returns (signal coefficient `x*.B/N`-style regression, noise variance).
fn first_iteration(d: &Disorder, x_hat: Vec<f64>) -> (f64, f64, f64, f64) {
    let x_star = d.planted_f64().unwrap();
    let n = d.n as f64;
    let amp = Amp::new(d, Precision::F32, undamped());
    let v = vec![0.0; d.n];
    let mut state = AmpState::from_estimate(x_hat, v);
    let (m, q) = (state.overlap(&x_star), state.m_hat_sq());
    amp.step(&mut state, &Measure::default());
    // B = field (no tilt, no Onsager: x̂o = 0 at the first iteration).
    let b = &state.field;
    let x2: f64 = x_star.iter().map(|x| x * x).sum();
    let signal = b.iter().zip(&x_star).map(|(b, x)| b * x).sum::<f64>() / x2;
    let noise = b.iter().zip(&x_star).map(|(b, x)| (b - signal * x).powi(2)).sum::<f64>() / n;
    (m, q, signal, noise)
}

/// p = 3 (Ising and spherical): from `x̂ = x*` and from a partially informed
/// `x̂`, the first AMP field is `B = (m^2/Delta) x* + sqrt(q^2/Delta) z` up to
/// the finite-N factor `(N-1)(N-2)/N^2` of the excluded coincident indices.
/// Tolerances: 4 standard errors of each estimator (signal: sqrt(q^2/(Delta N))
/// absolute; noise variance: 4 sqrt(2/N) relative).
#[test]
fn tensor_first_iteration_matches_state_evolution() {
    let (n, delta) = (300, 0.5);
    let finite_n = (n as f64 - 1.0) * (n as f64 - 2.0) / (n as f64 * n as f64);
    for prior in [Prior::Rademacher, Prior::Spherical] {
        let d = Disorder::spiked_tensor(n, prior, delta, 11);
        let x_star = d.planted_f64().unwrap();
        let mut rng = quench::rng::stream(5, "test-start", 0);
        let partial: Vec<f64> = x_star.iter().map(|&x| 0.6 * x + 0.5 * rng.sample::<f64, _>(StandardNormal)).collect();
        for x_hat in [x_star.clone(), partial] {
            let (m, q, signal, noise) = first_iteration(&d, x_hat);
            let (signal_se, noise_se) = (m * m / delta * finite_n, q * q / delta * finite_n);
            println!(
                "{prior:?} m={m:.3} q={q:.3}: signal {signal:.4} vs {signal_se:.4}, noise {noise:.4} vs {noise_se:.4}"
            );
            let tol_signal = 4.0 * (q * q / delta / n as f64).sqrt();
            assert!((signal - signal_se).abs() < tol_signal, "{prior:?} m={m:.3}: signal {signal} vs {signal_se}");
            let rel = (noise - noise_se).abs() / noise_se;
            assert!(rel < 4.0 * (2.0 / n as f64).sqrt(), "{prior:?} q={q:.3}: noise {noise} vs {noise_se}");
        }
    }
}

/// At Delta = 0.2 (T = 0.55, deep in the informed phase) AMP from a weak start
/// converges to the SE fixed point `m = ov(m^2/Delta)` of the Ising p = 3 model
/// within 0.03 at N = 200 (the numpy peer's sanity check, PHYSICS.md section 7).
#[test]
fn tensor_amp_converges_to_the_informed_fixed_point() {
    let (n, delta) = (200, 0.2);
    let d = Disorder::spiked_tensor(n, Prior::Rademacher, delta, 0);
    let x_star = d.planted_f64().unwrap();
    let amp = Amp::new(&d, Precision::F32, AmpParams::default()).with_reference(x_star.clone());
    let mut state = weak_start(&x_star, 1.0, 1);
    let solve = amp.solve(&mut state, &Measure::default());
    let mut m = 0.5;
    for _ in 0..200 {
        let lam = m * m / delta;
        m = gaussian_expectation(|z| (lam + lam.sqrt() * z).tanh());
    }
    println!("{solve:?} SE m = {m}");
    assert!(solve.converged, "{solve:?}");
    assert!((solve.overlap.unwrap() - m).abs() < 0.03, "AMP {:?} vs SE {m}", solve.overlap);
    assert!((solve.m_hat_sq - m).abs() < 0.03, "Nishimori q = m: {} vs {m}", solve.m_hat_sq);
}
