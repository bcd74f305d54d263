//! AMP's adaptive damping (src/amp/mod.rs, "Damping that adapts to
//! oscillation") on the Ising 3-spin below T_d (n = 100, T = 0.66), on the
//! planted diffusion path `y = t x* + sqrt(t) z`, cold starts, t in [0.10, 0.40]:
//! - where plain damped AMP (damping 0.2) converges and the solve never left
//!   level 0, the result is bit-identical: nothing changes where AMP converges;
//! - plain AMP fails to converge at some t there (the regime is exercised),
//!   while the adaptive solve converges at all but a few;
//! - what the adaptive solve returns is a fixed point of the *undamped* AMP
//!   map (one iteration with damping 0 moves it by less than 1e-3 rms), so it
//!   is the posterior-mean estimate AMP defines, not an artefact of damping.

use quench::amp::{Amp, AmpParams, AmpState, Measure, Precision};
use quench::models::{delta_from_temperature, Disorder, Prior};
use rand::Rng as _;
use rand_distr::StandardNormal;

/// Plain damped AMP: iterate `step` until `Change::converged` or the cap.
fn plain(amp: &Amp, state: &mut AmpState, measure: &Measure) -> bool {
    (0..amp.params.max_iterations).any(|_| amp.step(state, measure).converged(&amp.params, measure))
}

fn rms(a: &[f64], b: &[f64]) -> f64 {
    (a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>() / a.len() as f64).sqrt()
}

#[test]
fn adaptive_damping_converges_to_amp_fixed_points_and_leaves_converging_solves_alone() {
    let (mut plain_failed, mut adaptive_failed, mut identical, mut total) = (0, 0, 0, 0);
    for seed in 1..=4 {
        let d = Disorder::spiked_tensor(100, Prior::Rademacher, delta_from_temperature(3, 0.66), seed);
        let amp = Amp::new(&d, Precision::F32, AmpParams::default());
        let x_star = d.planted_f64().expect("planted");
        let mut rng = quench::rng::stream(seed, "amp-damping-test", 0);
        let z: Vec<f64> = (0..100).map(|_| rng.sample(StandardNormal)).collect();
        for k in 0..=30 {
            let t = 0.10 + 0.01 * k as f64;
            let y: Vec<f64> = x_star.iter().zip(&z).map(|(x, z)| t * x + t.sqrt() * z).collect();
            let measure = Measure::tilted(&y, t);
            let mut reference = amp.start();
            let plain_converged = plain(&amp, &mut reference, &measure);
            let mut adaptive = amp.start();
            let solve = amp.solve(&mut adaptive, &measure);
            total += 1;
            plain_failed += usize::from(!plain_converged);
            adaptive_failed += usize::from(!solve.converged);
            if plain_converged && adaptive.damping_level() == 0 {
                assert_eq!(reference.x_hat, adaptive.x_hat, "seed {seed}, t = {t}: a converging solve changed");
                identical += 1;
            }
            if solve.converged {
                let undamped = Amp { params: AmpParams { damping: 0.0, ..amp.params }, ..amp.clone() };
                let mut probe = adaptive.clone();
                undamped.step(&mut probe, &measure);
                let moved = rms(&probe.x_hat, &adaptive.x_hat);
                assert!(
                    moved < 1e-3,
                    "seed {seed}, t = {t}: not a fixed point of AMP (undamped step moves {moved:.2e})"
                );
            }
        }
    }
    eprintln!(
        "{total} solves: plain AMP unconverged {plain_failed}, adaptive {adaptive_failed}, identical {identical}"
    );
    assert!(plain_failed > 0, "plain AMP converged everywhere: the test does not exercise the oscillation");
    assert!(adaptive_failed * 20 <= total, "adaptive damping left {adaptive_failed} of {total} solves unconverged");
    assert!(identical > 0);
}
