//! AMP on the converse regime's model (issue 13; PHYSICS.md sections 4, 6, 7):
//! the sparse Rademacher spiked matrix, rho = 0.08, Delta / rho^2 = 0.98.
//! Along the planted path `y = t x* + sqrt(t) z` (the law of the diffusion's
//! `y_t`, by Nishimori), AMP from the uninformed start follows the SE
//! iterates `m_{k+1} = ov(m_k / Delta + t)`, `m_0 = 0`, iteration by
//! iteration, so its slow convergence at small `t` is that of SE itself.

#[path = "amp_common/mod.rs"]
mod common;

use quench::amp::{Amp, AmpParams, AmpState, Measure, Precision};
use quench::models::{Disorder, Prior};
use quench::theory::channel::stats_accurate;
use quench::theory::Prior as SePrior;
use rand::Rng;
use rand_distr::StandardNormal;

const RHO: f64 = 0.08;
const RATIO: f64 = 0.98;

fn delta() -> f64 {
    RATIO * RHO * RHO
}

/// SE iterates `m_1..m_k` of undamped AMP from `x̂ = 0` at tilt `t`.
fn se_iterates(t: f64, iterations: usize) -> Vec<f64> {
    let prior = SePrior::SparseRademacher { rho: RHO };
    let mut m = 0.0;
    (0..iterations)
        .map(|_| {
            m = stats_accurate(&prior, m / delta() + t).unwrap().ov;
            m
        })
        .collect()
}

/// The SE fixed point reached from `m = 0` at tilt `t`, and the slope of the SE
/// map there (`1 / (1 - slope)` iterations per e-fold of the error).
fn se_fixed_point(t: f64) -> (f64, f64) {
    let prior = SePrior::SparseRademacher { rho: RHO };
    let mut m = 0.0;
    for _ in 0..200_000 {
        let next = stats_accurate(&prior, m / delta() + t).unwrap().ov;
        if (next - m).abs() < 1e-15 {
            break;
        }
        m = next;
    }
    let slope = stats_accurate(&prior, m / delta() + t).unwrap().dov / delta();
    (m, slope)
}

/// `y = t x* + sqrt(t) z`.
fn planted_tilt(x_star: &[f64], t: f64, seed: u64) -> Vec<f64> {
    let mut rng = quench::rng::stream(seed, "test-tilt", 0);
    x_star.iter().map(|&x| t * x + t.sqrt() * rng.sample::<f64, _>(StandardNormal)).collect()
}

/// `(m, q)` after each of `iterations` AMP iterations from `x̂ = 0`.
fn amp_iterates(amp: &Amp, x_star: &[f64], y: &[f64], t: f64, iterations: usize) -> Vec<(f64, f64)> {
    let mut state = AmpState::uninformed(x_star.len(), amp.prior);
    let measure = Measure::tilted(y, t);
    (0..iterations)
        .map(|_| {
            amp.step(&mut state, &measure);
            (state.overlap(x_star), state.m_hat_sq())
        })
        .collect()
}

/// At tilt t = 0.5 (SE m/rho = 0.49 after 10 iterations), N = 6000, four
/// instances: undamped AMP's overlap with `x*` after each of 10 iterations
/// from `x̂ = 0` matches the SE iterate within 4 standard errors of the
/// instance mean plus 3% (the O(1/N) bias); `q = |x̂|^2/N` matches `m`
/// (Nishimori) to the same accuracy. This is the sparse-prior Onsager term
/// and matrix normalisation checked against SE.
#[test]
fn sparse_amp_tracks_state_evolution_on_the_planted_path() {
    const SEEDS: u64 = 4;
    let (n, t, iterations) = (6000, 0.5, 10);
    let se = se_iterates(t, iterations);
    let mut per_seed = vec![Vec::new(); iterations];
    let mut q_per_seed = vec![Vec::new(); iterations];
    for seed in 0..SEEDS {
        let d = Disorder::spiked_matrix(n, Prior::SparseRademacher { rho: RHO }, delta(), 100 + seed);
        let x_star = d.planted_f64().unwrap();
        let amp = Amp::new(&d, Precision::F32, AmpParams { damping: 0.0, tol: 0.0, max_iterations: 1 });
        let y = planted_tilt(&x_star, t, seed);
        for (k, (m, q)) in amp_iterates(&amp, &x_star, &y, t, iterations).into_iter().enumerate() {
            per_seed[k].push(m);
            q_per_seed[k].push(q);
        }
    }
    for k in 0..iterations {
        let (m, err) = common::mean_and_stderr(&per_seed[k]);
        let (q, q_err) = common::mean_and_stderr(&q_per_seed[k]);
        println!(
            "iteration {:2}: AMP m/rho {:.4} ± {:.4}, q/rho {:.4}; SE {:.4}",
            k + 1,
            m / RHO,
            err / RHO,
            q / RHO,
            se[k] / RHO
        );
        let allowed = 4.0 * err + 0.03 * se[k];
        assert!((m - se[k]).abs() < allowed, "iteration {}: AMP m {m} vs SE {} (allowed {allowed})", k + 1, se[k]);
        let allowed_q = 4.0 * q_err + 0.03 * se[k];
        assert!((q - se[k]).abs() < allowed_q, "iteration {}: AMP q {q} vs SE {} (allowed {allowed_q})", k + 1, se[k]);
    }
}

/// The matrix normalisation for the sparse prior: one iteration from `x̂ = x*`
/// (`v = 0`, no previous estimate, so no Onsager term) gives the field
/// `B = J x* = (m / Delta) x* + sqrt(q / Delta) z` with `m = q = |x*|^2 / N`
/// (about rho). N = 6000, four instances: the regression coefficient of B on
/// x* and the residual variance, relative to `q / Delta`, average to 1
/// within 3% (one instance scatters by about 2-3% at this N).
#[test]
fn sparse_first_iteration_has_the_state_evolution_field() {
    let n = 6000;
    let (mut signals, mut noises) = (Vec::new(), Vec::new());
    for seed in 0..4 {
        let d = Disorder::spiked_matrix(n, Prior::SparseRademacher { rho: RHO }, delta(), 200 + seed);
        let x_star = d.planted_f64().unwrap();
        let amp = Amp::new(&d, Precision::F32, AmpParams { damping: 0.0, tol: 0.0, max_iterations: 1 });
        let mut state = AmpState::from_estimate(x_star.clone(), vec![0.0; n]);
        let se = state.m_hat_sq() / delta();
        amp.step(&mut state, &Measure::default());
        let x2: f64 = x_star.iter().map(|x| x * x).sum();
        let signal = state.field.iter().zip(&x_star).map(|(b, x)| b * x).sum::<f64>() / x2;
        let noise = state.field.iter().zip(&x_star).map(|(b, x)| (b - signal * x).powi(2)).sum::<f64>() / n as f64;
        println!("seed {seed}: signal / SE {:.4}, noise variance / SE {:.4}", signal / se, noise / se);
        signals.push(signal / se);
        noises.push(noise / se);
    }
    let (signal, noise) = (common::mean_and_stderr(&signals).0, common::mean_and_stderr(&noises).0);
    assert!((signal - 1.0).abs() < 0.03, "signal coefficient / (q / Delta) = {signal}");
    assert!((noise - 1.0).abs() < 0.03, "noise variance / (q / Delta) = {noise}");
}

/// Near `Delta = rho^2` the SE map has slope `rho^2 / Delta` at `m = 0`: at
/// Delta / rho^2 = 0.98 the uninformed start grows by about 2% per iteration,
/// and the fixed point's slope is close to 1 (slow convergence is SE's own).
/// The number of iterations SE needs from `m = 0` to come within 1% of its
/// fixed point grows as `t -> 0`.
#[test]
fn state_evolution_is_slow_at_small_tilt() {
    let prior = SePrior::SparseRademacher { rho: RHO };
    let small = stats_accurate(&prior, 1e-9).unwrap().dov / delta();
    assert!((small - 1.0 / RATIO).abs() < 1e-3, "SE slope at m = 0: {small}");
    let mut previous = 0;
    for &t in &[1.0, 0.1, 0.01] {
        let (m_star, slope) = se_fixed_point(t);
        let reached = se_iterates(t, 5000).iter().position(|&m| (m - m_star).abs() < 0.01 * m_star).unwrap() + 1;
        println!("t = {t}: SE fixed point m/rho = {:.4}, slope {slope:.4}, {reached} iterations to 1%", m_star / RHO);
        assert!(slope < 1.0 && reached > previous, "t = {t}: slope {slope}, {reached} iterations");
        previous = reached;
    }
}

/// Diagnostic (run with `--ignored --nocapture`; `CONVERSE_N`, default
/// 20000): AMP against SE per iteration at several tilts, undamped and with
/// the diffusion's damping 0.2 (f32 storage), and undamped in f64. The tilts
/// of one setting share each pass over the matrix (`solve_batch`).
#[test]
#[ignore]
fn converse_amp_against_state_evolution_diagnostic() {
    let n: usize = std::env::var("CONVERSE_N").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let iterations = 300;
    let tilts = [0.001, 0.01, 0.05, 0.2, 1.0];
    let d = Disorder::spiked_matrix(n, Prior::SparseRademacher { rho: RHO }, delta(), 17);
    let x_star = d.planted_f64().unwrap();
    let ys: Vec<Vec<f64>> = tilts.iter().map(|&t| planted_tilt(&x_star, t, 1)).collect();
    let measures: Vec<Measure> = ys.iter().zip(&tilts).map(|(y, &t)| Measure::tilted(y, t)).collect();
    let se: Vec<Vec<f64>> = tilts.iter().map(|&t| se_iterates(t, iterations)).collect();
    for &t in &tilts {
        let (m_star, slope) = se_fixed_point(t);
        println!("t {t}: SE fixed point m/rho {:.4}, slope of the SE map there {slope:.4}", m_star / RHO);
    }
    for (precision, damping) in [(Precision::F32, 0.0), (Precision::F32, 0.2), (Precision::F64, 0.0)] {
        let amp = Amp::new(&d, precision, AmpParams { damping, tol: 0.0, max_iterations: 1 });
        let mut states: Vec<AmpState> = tilts.iter().map(|_| AmpState::uninformed(n, amp.prior)).collect();
        let mut before: Vec<Vec<f64>> = states.iter().map(|s| s.x_hat.clone()).collect();
        // `k` is the iteration count printed and SE's iterate of every tilt at once.
        #[allow(clippy::needless_range_loop)]
        for k in 0..iterations {
            amp.solve_batch(&mut states, &measures);
            if [0, 4, 9, 19, 49, 99, 149, 199, 249, 299].contains(&k) {
                for (c, state) in states.iter().enumerate() {
                    let moved: Vec<f64> = state.x_hat.iter().zip(&before[c]).map(|(a, b)| (a - b).abs()).collect();
                    let rms = (moved.iter().map(|v| v * v).sum::<f64>() / n as f64).sqrt();
                    let max = moved.iter().copied().fold(0.0, f64::max);
                    println!(
                        "{precision:?} damping {damping} t {}: iteration {} m/rho {:.4} (SE {:.4}) q/rho {:.4} max|dx| {max:.1e} rms {rms:.1e}",
                        tilts[c],
                        k + 1,
                        state.overlap(&x_star) / RHO,
                        se[c][k] / RHO,
                        state.m_hat_sq() / RHO,
                    );
                }
            }
            before = states.iter().map(|s| s.x_hat.clone()).collect();
        }
    }
}
