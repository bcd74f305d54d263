use rand::Rng as _;
use rand_distr::{Distribution, Poisson, StandardNormal};

use super::*;

/// `σ h` at the root of one explicitly drawn depth-`depth` planted tree, in
/// actual colors (no gauge), leaves at `h = 0` (uninformed) or `σ ∞` (informed).
fn explicit_root(k: usize, alpha: f64, obs: Observation, depth: usize, informed: bool, rng: &mut Rng) -> f64 {
    fn cavity(
        sigma: f64,
        depth: usize,
        k: usize,
        deg: &Poisson<f64>,
        obs: Observation,
        informed: bool,
        rng: &mut Rng,
    ) -> f64 {
        if depth == 0 {
            return if informed { sigma * f64::INFINITY } else { 0.0 };
        }
        let b = match obs {
            Observation::Diffusion { gamma2 } => gamma2 * sigma + gamma2.sqrt() * rng.sample::<f64, _>(StandardNormal),
            Observation::Decimation { theta } => {
                if rng.random::<f64>() < theta {
                    return sigma * f64::INFINITY;
                }
                0.0
            }
        };
        let mut h = b;
        for _ in 0..deg.sample(rng) as usize {
            // Other colors uniform among the (k-1)-tuples not all equal to sigma.
            let colors: Vec<f64> = loop {
                let c: Vec<f64> = (0..k - 1).map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 }).collect();
                if c.iter().any(|&s| s != sigma) {
                    break c;
                }
            };
            let (mut all_plus, mut all_minus) = (1.0, 1.0);
            for &s in &colors {
                let m = cavity(s, depth - 1, k, deg, obs, informed, rng).tanh();
                all_plus *= (1.0 + m) / 2.0;
                all_minus *= (1.0 - m) / 2.0;
            }
            h += 0.5 * ((1.0 - all_plus) / (1.0 - all_minus)).ln();
        }
        h
    }
    let deg = Poisson::new(k as f64 * alpha).unwrap();
    let sigma = if rng.random::<bool>() { 1.0 } else { -1.0 };
    sigma * cavity(sigma, depth, k, &deg, obs, informed, rng)
}

/// Overlap `E tanh(σ h)` at the root of depth-`depth` trees: explicit trees vs the population.
fn compare_with_trees(k: usize, alpha: f64, obs: Observation, depth: usize, informed: bool, trees: usize) {
    let mut rng = rng::stream(11, "trees", depth as u64);
    let values: Vec<f64> = (0..trees).map(|_| explicit_root(k, alpha, obs, depth, informed, &mut rng).tanh()).collect();
    let exact = Estimate::of(&values);
    let rec = Recursion::new(k, alpha, obs);
    let size = 200_000;
    let mut pop = if informed { Population::informed(size) } else { Population::uninformed(size) };
    rec.run(&mut pop, 5, 0, depth);
    let ov = pop.moments().overlap;
    // The population mean has standard error about sqrt(var / size).
    let err = (exact.err * exact.err + exact.err * exact.err * trees as f64 / size as f64).sqrt();
    assert!(
        (ov - exact.mean).abs() < 4.0 * err + 1e-3,
        "k={k} alpha={alpha} {obs:?} depth {depth} informed {informed}: population {ov} vs trees {} ± {}",
        exact.mean,
        exact.err
    );
}

#[test]
fn population_matches_explicit_trees_on_both_paths() {
    compare_with_trees(3, 1.0, Observation::Decimation { theta: 0.3 }, 3, false, 20_000);
    compare_with_trees(3, 1.0, Observation::Diffusion { gamma2: 0.4 }, 3, true, 20_000);
    compare_with_trees(4, 0.8, Observation::Diffusion { gamma2: 0.2 }, 4, false, 10_000);
    compare_with_trees(4, 0.8, Observation::Decimation { theta: 0.1 }, 4, true, 10_000);
}

#[test]
fn paramagnetic_free_entropy_is_the_annealed_entropy() {
    for (k, alpha) in [(3, 1.5), (5, 9.0)] {
        let rec = Recursion::new(k, alpha, Observation::Diffusion { gamma2: 0.0 });
        let mut pop = Population::uninformed(10_000);
        rec.run(&mut pop, 1, 0, 5);
        assert!(pop.moments().q == 0.0, "the paramagnet is a fixed point");
        let phi = bethe(&rec, &pop, 200_000, 3);
        let annealed = std::f64::consts::LN_2 + alpha * (1.0 - 2f64.powi(1 - k as i32)).ln();
        assert!((phi.mean - annealed).abs() < 4.0 * phi.err + 1e-12, "k={k}: {phi:?} vs {annealed}");
    }
}

#[test]
fn nishimori_overlap_equals_q() {
    let rec = Recursion::new(5, 9.0, Observation::Diffusion { gamma2: 0.35 });
    let mut pop = Population::uninformed(50_000);
    rec.run(&mut pop, 2, 0, 60);
    let m = pop.moments();
    assert!(m.overlap > 0.2 && (m.overlap - m.q).abs() < 0.01, "{m:?}");
}

#[test]
fn informed_branch_at_t0_is_non_trivial_only_above_alpha_d() {
    // k = 5: alpha_d about 9.465 (reconstruction threshold).
    let run = |alpha: f64| {
        let rec = Recursion::new(5, alpha, Observation::Diffusion { gamma2: 0.0 });
        let mut pop = Population::informed(20_000);
        rec.run(&mut pop, 3, 0, 200);
        pop.moments().overlap
    };
    let below = run(9.1);
    let above = run(9.9);
    assert!(below < 0.05, "alpha = 9.1: informed overlap {below} should decay");
    assert!(above > 0.5, "alpha = 9.9: informed overlap {above} should stay");
}

#[test]
fn population_dynamics_is_deterministic_for_any_thread_count() {
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let rec = Recursion::new(5, 9.0, Observation::Decimation { theta: 0.2 });
            let mut pop = Population::uninformed(10_000);
            rec.run(&mut pop, 4, 0, 5);
            (pop.elements, bethe(&rec, &Population::uninformed(100), 5000, 1))
        })
    };
    assert_eq!(run(1), run(2));
}
