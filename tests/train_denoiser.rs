//! The learned denoiser on a tiny planted instance, against the exact posterior
//! mean by enumeration: trained on exact equilibrium samples, its held-out MSE(t)
//! is never below the Bayes MSE (beyond noise) and comes close to it; plugged
//! into stochastic localisation as the posterior-mean oracle, it samples.

use quench::amp::oracle::PosteriorMean;
use quench::amp::Measure;
use quench::eval::exact_posterior::ExactPosterior;
use quench::models::{delta_from_temperature, Disorder, Prior};
use quench::observe::Silent;
use quench::rng;
use quench::samplers::diffusion::{Schedule, StochasticLocalization};
use quench::samplers::neural_denoiser::{mse_curve, LearnedDenoiser};
use quench::train::denoiser::{self, DenoiserConfig};
use rand::Rng as _;

/// `count` exact draws from the Gibbs measure (inverse CDF over all configurations).
fn exact_samples(exact: &ExactPosterior, count: usize, seed: u64) -> Vec<Vec<f64>> {
    let probs = exact.probabilities(&Measure::default());
    let mut cdf = Vec::with_capacity(probs.len());
    let mut acc = 0.0;
    for p in &probs {
        acc += p;
        cdf.push(acc);
    }
    let mut rng = rng::stream(seed, "exact-draw", 0);
    (0..count)
        .map(|_| {
            let u: f64 = rng.random::<f64>() * acc;
            let c = cdf.partition_point(|&v| v < u).min(probs.len() - 1);
            exact.configuration(c).to_vec()
        })
        .collect()
}

#[test]
fn learned_denoiser_approaches_the_bayes_mse_and_drives_diffusion() {
    let d = Disorder::spiked_tensor(10, Prior::Rademacher, delta_from_temperature(3, 0.7), 5);
    let exact = ExactPosterior::new(&d);
    let samples = exact_samples(&exact, 4000, 1);
    let config = DenoiserConfig { steps: 4000, batch: 128, lr: 3e-3, hidden: 40, t_max: 4.0, holdout: 0.25 };
    let trained = denoiser::train(&samples, d.n, &config, 3, &Silent).unwrap();
    let first = trained.curve.iter().take(50).map(|p| p.loss).sum::<f64>() / 50.0;
    let last = trained.curve.iter().rev().take(50).map(|p| p.loss).sum::<f64>() / 50.0;
    assert!(last < first, "the training loss did not decrease: {first} -> {last}");
    let held_out: Vec<Vec<f64>> = trained.held_out.iter().map(|&i| samples[i].clone()).collect();
    let learned = LearnedDenoiser { weights: trained.weights.clone() };
    let grid = [0.25, 0.5, 1.0, 2.0, 3.0];
    let curve = mse_curve(&learned, Some(&exact), &held_out, &grid, 8, 9);
    for point in &curve {
        let bayes = point.reference.unwrap();
        eprintln!("t = {}: learned {:.4}, exact posterior mean {:.4}", point.t, point.learned, bayes);
        // Same observations: the Bayes estimator cannot be beaten beyond noise.
        assert!(point.learned > bayes - 0.02, "t = {}: learned {} below Bayes {bayes}", point.t, point.learned);
        assert!(point.learned - bayes < 0.08, "t = {}: learned {} far above Bayes {bayes}", point.t, point.learned);
    }
    // As the oracle of stochastic localisation: ±1 samples with a sensible energy.
    let sampler = StochasticLocalization {
        schedule: Schedule { dt_fine: 0.01, t_fine: 3.0, t_max: 50.0, geometric_steps: 10, step_error: None },
        trajectories: 64,
        batch: 4,
        seed: 2,
    };
    let run = sampler.run(&learned, &Silent).unwrap();
    let energies: Vec<f64> = run.samples().iter().map(|x| d.energy_per_spin(x)).collect();
    assert!(run.samples().iter().all(|x| x.iter().all(|v| v.abs() == 1.0)));
    let mean = energies.iter().sum::<f64>() / energies.len() as f64;
    let exact_energy = exact.mean_energy(&exact.probabilities(&Measure::default()));
    eprintln!("diffusion with the learned denoiser: energy {mean:.4} vs exact {exact_energy:.4}");
    assert!((mean - exact_energy).abs() < 0.15, "energy {mean} vs exact {exact_energy}");
    assert_eq!(learned.n(), d.n);
}
